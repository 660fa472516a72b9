//! The decode threads and the ordered, bounded hand-off from them to the delivery.
//!
//! Records are taken in order, one at a time per thread (`DECODE_THREADS`), and their outputs
//! are given back in record order. Memory is bounded: a record done ahead of the one being
//! delivered waits while the outputs held exceed the budget (the record being waited for never
//! waits, so this cannot deadlock), and a record that streams its pieces does so only once
//! every earlier record is taken, at most two pieces ahead.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use super::decode::{decode, Decoded, Job, Limits, Lines, Output};
use crate::error::Failure;
use crate::ocsf::Filters;

/// What the delivery receives for a record.
#[derive(Debug)]
pub enum Outcome {
    /// The whole record in one piece, or why it failed for good.
    Done(Result<(Decoded, Lines), Failure>),
    /// One piece of a large record; the last carries `end`.
    Piece { lines: Lines, first_event: usize, end: Option<Decoded> },
}

impl Outcome {
    fn bytes(&self) -> usize {
        match self {
            Outcome::Done(Ok((_, lines))) | Outcome::Piece { lines, .. } => lines.buf.capacity(),
            Outcome::Done(Err(_)) => 0,
        }
    }

    /// True when nothing more of its record follows.
    fn ends_record(&self) -> bool {
        !matches!(self, Outcome::Piece { end: None, .. })
    }
}

struct State {
    /// The record the delivery waits for.
    head: usize,
    /// Records past the last one decoded.
    end: usize,
    ready: BTreeMap<usize, VecDeque<Outcome>>,
    /// Bytes of the outcomes in `ready`.
    held: usize,
    /// Bytes pushed since the delivery was last woken.
    unseen: usize,
    /// Decode threads waiting on `workers`.
    waiting: usize,
    closed: bool,
}

/// The hand-off between the decode threads and the delivery.
pub struct Handoff {
    state: Mutex<State>,
    /// Decode threads wait here (budget, their turn to stream, room for a piece).
    workers: Condvar,
    /// The delivery waits here.
    delivery: tokio::sync::Notify,
    budget: usize,
    /// The delivery is woken once this many bytes are ready, not for every record (a wake is a
    /// futex call and often a switch of CPU); a decode thread wakes it before it waits or ends.
    nudge: usize,
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A decode thread that panicked cannot leave the state half-written: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, mut s: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        // What is ready must reach the delivery before this thread waits on it.
        Self::wake_delivery(&self.delivery, &mut s);
        s.waiting += 1;
        let mut s = self.workers.wait(s).unwrap_or_else(|p| p.into_inner());
        s.waiting -= 1;
        s
    }

    fn wake_delivery(delivery: &tokio::sync::Notify, s: &mut State) {
        if s.unseen > 0 {
            s.unseen = 0;
            delivery.notify_one();
        }
    }

    /// Wakes the delivery for what is ready and not yet announced (before a decode thread waits
    /// for a record or ends).
    fn announce(&self) {
        Self::wake_delivery(&self.delivery, &mut self.lock());
    }

    fn push(&self, mut s: MutexGuard<'_, State>, index: usize, outcome: Outcome) {
        // A failure or a piece is announced at once; whole records once `nudge` bytes gathered.
        let now = !matches!(outcome, Outcome::Done(Ok(_)));
        let bytes = outcome.bytes();
        s.held += bytes;
        s.unseen += bytes.max(1);
        s.ready.entry(index).or_default().push_back(outcome);
        if now || s.unseen >= self.nudge {
            Self::wake_delivery(&self.delivery, &mut s);
        }
    }

    /// The next outcome of the record being waited for, in record order; `None` once every
    /// record is given.
    pub async fn next(&self) -> Option<(usize, Outcome)> {
        loop {
            let notified = self.delivery.notified();
            {
                let mut s = self.lock();
                let head = s.head;
                if head >= s.end || s.closed {
                    return None;
                }
                if let Some(outcome) = s.ready.get_mut(&head).and_then(VecDeque::pop_front) {
                    s.held -= outcome.bytes();
                    if outcome.ends_record() {
                        s.ready.remove(&head);
                        s.head += 1;
                    }
                    let waiting = s.waiting > 0;
                    drop(s);
                    if waiting {
                        self.workers.notify_all();
                    }
                    return Some((head, outcome));
                }
            }
            notified.await;
        }
    }

    /// The record the delivery waits for: every record before it was given.
    pub fn head(&self) -> usize {
        self.lock().head
    }

    /// Stops the decode threads: what they hold is dropped.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        s.ready.clear();
        s.held = 0;
        drop(s);
        self.workers.notify_all();
    }
}

impl Output for Handoff {
    fn done(&self, index: usize, result: Result<(Decoded, Lines), Failure>) {
        let outcome = Outcome::Done(result);
        let mut s = self.lock();
        while !s.closed && index != s.head && s.held > 0 && s.held + outcome.bytes() > self.budget {
            s = self.wait(s);
        }
        if !s.closed {
            self.push(s, index, outcome);
        }
    }

    fn stream(&self, index: usize) -> bool {
        let mut s = self.lock();
        while !s.closed && index != s.head {
            s = self.wait(s);
        }
        !s.closed
    }

    fn piece(&self, index: usize, lines: Lines, first_event: usize, end: Option<Decoded>) -> bool {
        let mut s = self.lock();
        while !s.closed && s.ready.get(&index).is_some_and(|q| q.len() >= 2) {
            s = self.wait(s);
        }
        if s.closed {
            return false;
        }
        self.push(s, index, Outcome::Piece { lines, first_event, end });
        true
    }

    fn stopped(&self) -> bool {
        self.lock().closed
    }
}

/// The records given to the decode threads and not yet taken, in order.
#[derive(Default)]
struct Feed {
    jobs: VecDeque<Result<Job, (usize, Failure)>>,
    /// No more will come.
    done: bool,
}

/// What the decode threads share with the pipeline for one batch.
pub struct Workers {
    pub handoff: Arc<Handoff>,
    feed: Arc<(Mutex<Feed>, Condvar)>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts up to `threads` decode threads (no more than `records`, the most that can come)
    /// on the records given to them from `first` on, in order: each is decoded as soon as it
    /// is given, while the rest are still being looked up.
    pub fn start(
        first: usize,
        records: usize,
        threads: usize,
        limits: Limits,
        filters: Arc<Filters>,
        piece_bytes: usize,
        budget: usize,
    ) -> Workers {
        // `end` is known once every record is given (`given_all`).
        let state = State {
            head: first,
            end: usize::MAX,
            ready: BTreeMap::new(),
            held: 0,
            unseen: 0,
            waiting: 0,
            closed: false,
        };
        let handoff = Arc::new(Handoff {
            state: Mutex::new(state),
            workers: Condvar::new(),
            delivery: tokio::sync::Notify::new(),
            budget,
            nudge: (piece_bytes / 4).max(1),
        });
        let feed = Arc::new((Mutex::new(Feed::default()), Condvar::new()));
        let threads = (0..threads.clamp(1, records.max(1)))
            .map(|n| {
                let (handoff, feed, filters) = (handoff.clone(), feed.clone(), filters.clone());
                std::thread::Builder::new()
                    .name(format!("das-decode-{n}"))
                    .spawn(move || {
                        while let Some(job) = take(&feed, &handoff) {
                            match job {
                                Ok(job) => decode(job, limits, &filters, piece_bytes, handoff.as_ref()),
                                Err((index, failure)) => handoff.done(index, Err(failure)),
                            }
                        }
                        handoff.announce();
                    })
                    // Spawning fails only when the system is out of threads; the batch is then
                    // decoded by the threads that did start (or, with none, reported).
                    .ok()
            })
            .collect::<Vec<_>>();
        let threads: Vec<JoinHandle<()>> = threads.into_iter().flatten().collect();
        if threads.is_empty() {
            handoff.close();
        }
        Workers { handoff, feed, threads }
    }

    /// Gives the next record to the threads.
    pub fn give(&self, job: Result<Job, (usize, Failure)>) {
        let (feed, more) = &*self.feed;
        feed.lock().unwrap_or_else(|p| p.into_inner()).jobs.push_back(job);
        more.notify_one();
    }

    /// No record follows: the batch's records to decode end at `end`.
    pub fn given_all(&self, end: usize) {
        self.handoff.lock().end = end;
        self.end_feed();
    }

    fn end_feed(&self) {
        let (feed, more) = &*self.feed;
        feed.lock().unwrap_or_else(|p| p.into_inner()).done = true;
        more.notify_all();
    }

    /// Stops the threads and waits for them.
    pub fn stop(mut self) {
        let threads = std::mem::take(&mut self.threads);
        // Dropping closes the hand-off and ends the feed.
        drop(self);
        crate::parallel::blocking(|| {
            for t in threads {
                let _ = t.join();
            }
        });
    }
}

impl Drop for Workers {
    /// Closes the hand-off and ends the feed, so the threads end instead of waiting for records
    /// (through `stop`, or when the batch unwinds without it).
    fn drop(&mut self) {
        self.handoff.close();
        self.end_feed();
    }
}

/// The next record for a decode thread; `None` once every record is taken or the batch stopped.
fn take(feed: &(Mutex<Feed>, Condvar), handoff: &Handoff) -> Option<Result<Job, (usize, Failure)>> {
    let (feed, more) = feed;
    let mut f = feed.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if handoff.stopped() {
            return None;
        }
        if let Some(job) = f.jobs.pop_front() {
            return Some(job);
        }
        if f.done {
            return None;
        }
        handoff.announce();
        f = more.wait(f).unwrap_or_else(|p| p.into_inner());
    }
}
