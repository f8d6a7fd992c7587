//! The Spin adapter: a component that exports the application's ports
//! (`wit/ports.wit`, world `ports`) implemented over what Spin 3 provides:
//!
//! | port      | Spin capability                                                  |
//! |-----------|------------------------------------------------------------------|
//! | key-value | Spin SQLite (`default`): transactions make CAS and take atomic    |
//! | sql       | Spin SQLite (`default`)                                          |
//! | audit     | Spin SQLite (`default`), table `audit_log`                       |
//! | config    | Spin variables `config_<name>`; secrets are `secret_<name>`       |
//! | fetch     | `wasi:http/outgoing-handler` (Spin's `allowed_outbound_hosts`)    |
//!
//! `wac plug` composes it with the gateway component at build time; the result imports
//! only Spin's interfaces. Every call runs synchronously: a Spin instance serves one
//! request.

mod database;
mod fetch;
mod ports;

/// The bindings wit-bindgen generates for the `ports` world: canonical ABI glue, the
/// only unsafe and undocumented code here.
#[allow(unsafe_code, missing_docs, clippy::pedantic)]
mod bindings {
    spin_sdk::wit_bindgen::generate!({
        world: "ports",
        path: "../../wit",
        runtime_path: "spin_sdk::wit_bindgen::rt",
        generate_all,
    });
}

struct Adapter;

/// The component's exports: the ABI entry points the bindings generate for [`Adapter`].
#[allow(unsafe_code)]
mod exports {
    use super::Adapter;
    crate::bindings::export!(Adapter with_types_in crate::bindings);
}
