//! The one sender of the HTTP sinks (HEC, the webhook): attempts bounded by the deadline,
//! backoff with jitter between them, and the request counters. What an answer means is each
//! sink's `RetryLogic`: done, retry (after `Retry-After`), give up, or refuse one item for good
//! and send the ones after it (HEC's `invalid-event-number`, an event too large).

use std::future::Future;
use std::time::{Duration, Instant};

use tracing::{error, warn};

use super::retry::{Action, Backoff};
use super::SinkCounters;

/// One request, as a sink sends it and reads its answer.
pub trait RetryLogic: Sync {
    type Response: Send;
    /// Sends the request's items from `from` on within `timeout`: the answer, and the body's length.
    fn attempt(&self, from: usize, timeout: Duration) -> impl Future<Output = (Self::Response, usize)> + Send;
    /// What the answer to an attempt of `items` items means.
    fn action(&self, answer: &Self::Response, items: usize) -> Action;
    /// The answer in a few words, for logs and failures: status and the receiver's code, never a secret.
    fn describe(&self, answer: &Self::Response) -> String;
}

/// An item a receiver refused for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Its index in the request.
    pub item: usize,
    pub reason: &'static str,
    pub detail: String,
}

/// The request was not taken from item `from` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub from: usize,
    pub detail: String,
}

/// What sending one request came to.
#[derive(Debug)]
pub struct Sent<R> {
    /// The items refused for good, whatever happened to the others.
    pub refused: Vec<Refusal>,
    /// The answer that took the last items, with the index of the first of them (None when
    /// every item was refused), or the failure.
    pub result: Result<Option<(usize, R)>, Failed>,
}

/// Sends the requests of one sink.
#[derive(Debug)]
pub struct HttpSender {
    sink: &'static str,
    /// What the logs call the receiver ("HEC", "webhook").
    receiver: &'static str,
    /// The most one attempt may take (`HEC_TIMEOUT_SECS`, `WEBHOOK_TIMEOUT_SECS`).
    timeout: Duration,
    backoff: Backoff,
    counters: SinkCounters,
}

impl HttpSender {
    pub fn new(sink: &'static str, receiver: &'static str, timeout: Duration) -> HttpSender {
        HttpSender { sink, receiver, timeout, backoff: Backoff::default(), counters: SinkCounters::default() }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> HttpSender {
        self.backoff = backoff;
        self
    }

    pub fn counters(&self) -> &SinkCounters {
        &self.counters
    }

    /// Sends `request`'s `items` items by `deadline`: retries what may succeed later, sets aside
    /// what the receiver refuses for good, and stops at the first item it could not deliver.
    pub async fn send<L: RetryLogic>(&self, request: &L, items: usize, deadline: Instant) -> Sent<L::Response> {
        let (sink, receiver) = (self.sink, self.receiver);
        let mut refused = Vec::new();
        let mut from = 0;
        let mut attempt = 0u32;
        let mut last = None;
        while from < items {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Sent { refused, result: Err(Failed { from, detail: "deadline reached".into() }) };
            }
            let (answer, bytes) = request.attempt(from, self.timeout.min(left)).await;
            self.counters.request(bytes);
            match request.action(&answer, items - from) {
                Action::Done => {
                    last = Some((from, answer));
                    from = items;
                }
                Action::Refuse { item, reason } => {
                    let item = from + item.min(items - from - 1);
                    warn!(sink, item, reason, "{receiver} refused one item; setting it aside and sending the rest");
                    refused.push(Refusal { item, reason, detail: request.describe(&answer) });
                    from = item + 1;
                    attempt = 0;
                }
                Action::Retry(after) => {
                    let Some(delay) = self.backoff.next(attempt, after, deadline) else {
                        let detail = format!("retries exhausted before the deadline: {}", request.describe(&answer));
                        return Sent { refused, result: Err(Failed { from, detail }) };
                    };
                    let delay_ms = delay.as_millis() as u64;
                    let answer = request.describe(&answer);
                    warn!(sink, answer = %answer, attempt, delay_ms, "{receiver} request failed; retrying");
                    self.counters.retry();
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Action::GiveUp => {
                    let answer = request.describe(&answer);
                    error!(sink, answer = %answer, "{receiver} refused the request (configuration error?)");
                    return Sent { refused, result: Err(Failed { from, detail: format!("refused: {answer}") }) };
                }
            }
        }
        Sent { refused, result: Ok(last) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A receiver that answers from a script: each answer is (status, items refused at).
    struct Script {
        answers: Mutex<Vec<Action>>,
        froms: Mutex<Vec<usize>>,
    }

    impl RetryLogic for Script {
        type Response = Action;
        async fn attempt(&self, from: usize, _timeout: Duration) -> (Action, usize) {
            self.froms.lock().unwrap().push(from);
            let mut answers = self.answers.lock().unwrap();
            (if answers.is_empty() { Action::Done } else { answers.remove(0) }, 10)
        }
        fn action(&self, answer: &Action, _items: usize) -> Action {
            *answer
        }
        fn describe(&self, answer: &Action) -> String {
            format!("{answer:?}")
        }
    }

    fn script(answers: Vec<Action>) -> Script {
        Script { answers: Mutex::new(answers), froms: Mutex::new(Vec::new()) }
    }

    fn fast() -> HttpSender {
        let backoff = Backoff { base: Duration::from_millis(1), cap: Duration::from_millis(2) };
        HttpSender::new("test", "test", Duration::from_secs(1)).with_backoff(backoff)
    }

    #[tokio::test]
    async fn refusals_resend_the_rest_and_retries_are_counted() {
        let sender = fast();
        let refuse = |item| Action::Refuse { item, reason: "r" };
        let s = script(vec![refuse(1), Action::Retry(None), refuse(0), Action::Done]);
        let sent = sender.send(&s, 5, Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(sent.refused.iter().map(|r| r.item).collect::<Vec<_>>(), [1, 2]);
        assert!(matches!(sent.result, Ok(Some((3, Action::Done)))));
        assert_eq!(*s.froms.lock().unwrap(), [0, 2, 2, 3]);
        assert_eq!(sender.counters().snapshot(), (4, 1, 40));
    }

    #[tokio::test]
    async fn failures_name_the_first_item_not_taken() {
        let sender = fast();
        let s = script(vec![Action::Refuse { item: 0, reason: "r" }, Action::GiveUp]);
        let sent = sender.send(&s, 3, Instant::now() + Duration::from_secs(5)).await;
        let failed = sent.result.unwrap_err();
        assert_eq!((failed.from, failed.detail.as_str()), (1, "refused: GiveUp"));
        assert_eq!(sent.refused.len(), 1);

        let s = script(vec![Action::Retry(Some(Duration::from_secs(60)))]);
        let failed = sender.send(&s, 3, Instant::now() + Duration::from_secs(1)).await.result.unwrap_err();
        assert_eq!(failed.from, 0);
        assert!(failed.detail.starts_with("retries exhausted"), "{}", failed.detail);

        let s = script(vec![]);
        let failed = sender.send(&s, 3, Instant::now()).await.result.unwrap_err();
        assert_eq!((failed.from, failed.detail.as_str()), (0, "deadline reached"));
        // A refusal past the request's end is taken as its last item.
        let s = script(vec![Action::Refuse { item: 9, reason: "r" }]);
        let sent = sender.send(&s, 2, Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(sent.refused[0].item, 1);
        assert!(matches!(sent.result, Ok(None)));
    }
}
