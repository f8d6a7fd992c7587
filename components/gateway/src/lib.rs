//! The core as a WASI 0.2 component.
//!
//! This crate only translates: `wasi:http/incoming-handler` requests into
//! [`learner_core::Request`]s and back, and the core's port traits into calls on the
//! imported WIT interfaces (see `ports`). The imports are synchronous, so every port
//! future is ready on its first poll and `learner_core::executor::block_on` suffices.

mod http_binding;
mod ports;
mod stream;

/// The bindings wit-bindgen generates for the `gateway` world: canonical ABI glue, the
/// only unsafe and undocumented code here.
#[allow(unsafe_code, missing_docs, clippy::pedantic)]
mod bindings {
    wit_bindgen::generate!({
        world: "gateway",
        path: "../../wit",
        generate_all,
    });
}

struct Component;

/// The component's exports: the ABI entry points the bindings generate for [`Component`].
#[allow(unsafe_code)]
mod exports {
    use super::Component;
    crate::bindings::export!(Component with_types_in crate::bindings);
}
