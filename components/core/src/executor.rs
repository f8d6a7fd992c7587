//! Driving futures that never wait.
//!
//! Inside a component every port call is a synchronous import, and the hosts' native
//! stores answer at once, so the core's futures complete on their first poll. Should
//! one ever return `Pending` there is nothing that could wake it: [`block_on`] reports
//! that instead of spinning forever.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls `future` once: its output, or `None` if it did not complete.
pub fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
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
