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
