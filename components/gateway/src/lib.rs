//! The core as a WASI 0.2 component.
//!
//! This crate only translates: `wasi:http/incoming-handler` requests into
//! [`learner_core::Request`]s and back, and the core's port traits into calls on the
//! imported WIT interfaces (see `ports`). The imports are synchronous, so every port
//! future is ready on its first poll and `learner_core::executor::block_on` suffices.

mod http_binding;
mod ports;
mod stream;

wit_bindgen::generate!({
    world: "gateway",
    path: "../../wit",
    generate_all,
});

struct Component;

export!(Component);
