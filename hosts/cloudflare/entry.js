// The worker's entry module: worker-build's output (index.js, copied beside this file
// by build.sh), with its Durable Object classes declared as workerd wants them for RPC.
//
// The key-value, SQL and audit ports call their objects by RPC (a method call, not an
// HTTP exchange; see src/ports/). workerd takes RPC calls only for a class that
// `extends DurableObject`; the classes wasm-bindgen generates extend nothing. Each
// class here extends it and hands every call to the Rust object of the same state.
import { DurableObject } from "cloudflare:workers";
import worker, * as rust from "./index.js";

/**
 * The Rust object behind a class of the same name, made with the same state: `call`
 * (a request in JSON, its answer in JSON) and, for the key-value objects' `wait`,
 * `fetch`.
 */
class Delegating extends DurableObject {
  constructor(Rust, ctx, env) {
    super(ctx, env);
    this.rust = new Rust(ctx, env);
  }

  fetch(request) {
    return this.rust.fetch(request);
  }

  call(json) {
    return this.rust.call(json);
  }
}

/** The hash-sharded key-value objects: one op per call (`wait` by fetch). */
export class KvObject extends Delegating {
  constructor(ctx, env) {
    super(rust.KvObject, ctx, env);
  }
}

/** One object per MCP session's key partition: the same calls as KvObject. */
export class McpSession extends Delegating {
  constructor(ctx, env) {
    super(rust.McpSession, ctx, env);
  }
}

/**
 * The learner database: a statement or a batch per call, all or nothing — the Rust
 * object throws a failed call's answer, which rolls the transaction back, and the
 * answer is returned as any other.
 */
export class LearnerStore extends Delegating {
  constructor(ctx, env) {
    super(rust.LearnerStore, ctx, env);
  }

  call(json) {
    try {
      return this.ctx.storage.transactionSync(() => this.rust.call(json));
    } catch (failed) {
      if (typeof failed === "string") return failed;
      throw failed;
    }
  }
}

/** The audit trail: an append or a read per call. */
export class AuditLog extends Delegating {
  constructor(ctx, env) {
    super(rust.AuditLog, ctx, env);
  }
}

export default worker;
