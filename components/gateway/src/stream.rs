//! Pulling a streamed body's chunks. (Requests' futures are driven by
//! `learner_core::executor::block_on`: every port call is a synchronous WIT import.)

use std::task::{Context, Poll, Waker};

/// The next chunk of a streamed body. A stream only pends for a moment, to let what it
/// queued be sent (its own waits block inside port calls), so a few polls in a row
/// that yield nothing mean it has stalled: `None` ends the body.
pub fn next_chunk(body: &mut dyn learner_core::BodyStream) -> Option<Vec<u8>> {
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..STALL_POLLS {
        if let Poll::Ready(chunk) = body.poll_chunk(&mut context) {
            return chunk;
        }
    }
    None
}

/// Polls without progress after which a stream counts as stalled.
const STALL_POLLS: usize = 16;
