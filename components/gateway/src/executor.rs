//! A minimal executor for futures that never wait.
//!
//! Inside the component every port call is a synchronous WIT import, so the core's
//! futures complete on their first poll. Should one ever return `Pending` (a bug: there
//! is nothing here that could wake it), we report it instead of spinning forever.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Drives `future` to completion; `None` if it stalls.
pub fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_future_completes() {
        assert_eq!(block_on(async { 7 }), Some(7));
    }

    #[test]
    fn pending_future_is_reported_not_spun() {
        assert_eq!(block_on(std::future::pending::<()>()), None);
    }
}
