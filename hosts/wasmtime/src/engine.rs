//! The wasmtime engine and the on-disk cache of compiled components.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::state::MAX_INSTANCE_MEMORY;

/// Concurrent instances the pooling allocator keeps slots for; requests beyond this
/// wait for a slot rather than allocate.
pub const POOL_INSTANCES: u32 = 1000;

/// An engine configured for serving: pooling allocator, async host calls.
pub fn serving_engine() -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(POOL_INSTANCES)
        .total_core_instances(POOL_INSTANCES * 4)
        .total_memories(POOL_INSTANCES * 2)
        .total_tables(POOL_INSTANCES * 4)
        .total_stacks(POOL_INSTANCES)
        .max_memory_size(MAX_INSTANCE_MEMORY);
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).context("creating the wasmtime engine")
}

/// Where the compiled form of `wasm` for `engine` lives under `cache_dir`: keyed by the
/// component's bytes and the engine's compatibility hash, so a different wasmtime
/// build or configuration never loads an incompatible artifact.
fn cache_path(engine: &Engine, wasm: &[u8], cache_dir: &Path) -> PathBuf {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let mut digest = Sha256::new();
    digest.update(wasm);
    digest.update(engine_hash.finish().to_le_bytes());
    let name = learner_core::hex(&digest.finalize()[..16]);
    cache_dir.join(format!("{name}.cwasm"))
}

/// Loads a component, compiling it only if no cached compilation exists.
#[allow(unsafe_code)] // Deserializing a compiled component; see the SAFETY note.
pub fn load_component(
    engine: &Engine,
    wasm_path: &Path,
    cache_dir: &Path,
) -> wasmtime::Result<Component> {
    let wasm = std::fs::read(wasm_path)
        .with_context(|| format!("reading component {}", wasm_path.display()))?;
    let cached = cache_path(engine, &wasm, cache_dir);
    if cached.exists() {
        // SAFETY: the file was written below by `Component::serialize` for an engine
        // with the same compatibility hash (it is part of the file name), in a
        // directory only this harness writes to.
        match unsafe { Component::deserialize_file(engine, &cached) } {
            Ok(component) => {
                tracing::info!(path = %cached.display(), "loaded compiled component from cache");
                return Ok(component);
            }
            Err(error) => tracing::warn!(%error, "cached component unusable; recompiling"),
        }
    }
    let started = std::time::Instant::now();
    let component = Component::new(engine, &wasm)
        .with_context(|| format!("compiling component {}", wasm_path.display()))?;
    tracing::info!(
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "compiled component"
    );
    std::fs::create_dir_all(cache_dir)?;
    // Write to a temporary name and rename, so a concurrent reader never sees a
    // partial file.
    let temporary = cached.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, component.serialize()?)?;
    std::fs::rename(&temporary, &cached)?;
    Ok(component)
}
