//! The uids of a record's lines, hashed two events at a time (`ocsf::sha256x2`): a line is
//! written with `Uid::PENDING` in place of its uid and waits for the next one; the pair's
//! messages are hashed side by side and both lines patched. A lone line is settled (hashed on
//! its own) before the lines leave the encoder. Events too large to copy are hashed at once.

use crate::das::RawEvent;
use crate::ocsf::model::Uid;
use crate::ocsf::sha256x2;
use crate::ocsf::{long_event_uid, uid_message, RecordContext, UidSpots};

/// Buffers kept past this are given back (an event of many medium values made them large).
const KEEP: usize = 256 << 10;

#[derive(Default)]
pub(super) struct Uids {
    messages: [Vec<u8>; 2],
    /// The line waiting for a partner: its message and where its uid goes.
    waiting: Option<(usize, UidSpots)>,
}

/// What `Uids::prepare` decided for an event.
pub(super) enum Prepared {
    /// Write this uid.
    Now(Uid),
    /// Write `Uid::PENDING`, then give the line's spots to `Uids::wait` with this slot.
    Later(usize),
}

impl Prepared {
    /// What the line holds in the uid's place until it is patched.
    pub(super) fn uid(&self) -> Uid {
        match self {
            Prepared::Now(uid) => *uid,
            Prepared::Later(_) => Uid::PENDING,
        }
    }
}

impl Uids {
    /// The uid of `event`, or the slot its message waits in.
    pub(super) fn prepare(&mut self, ctx: &RecordContext, event: &RawEvent<'_>) -> Prepared {
        let slot = match self.waiting {
            Some((taken, _)) => 1 - taken,
            None => 0,
        };
        if uid_message(ctx, event, &mut self.messages[slot]) {
            return Prepared::Later(slot);
        }
        if self.messages[slot].capacity() > KEEP {
            self.messages[slot] = Vec::new();
        }
        Prepared::Now(long_event_uid(ctx, event))
    }

    /// The line of the event prepared in `slot` is written in `buf` at `spots`: with the one
    /// waiting, both are hashed and patched; else it waits.
    pub(super) fn wait(&mut self, slot: usize, spots: UidSpots, buf: &mut [u8]) {
        match self.waiting.take() {
            None => self.waiting = Some((slot, spots)),
            Some((other, other_spots)) => {
                let [x, y] = &mut self.messages;
                let (a, b) = if other == 0 { sha256x2::digest_pair(x, y) } else { sha256x2::digest_pair(y, x) };
                other_spots.patch(buf, &Uid::of_digest(&a));
                spots.patch(buf, &Uid::of_digest(&b));
                self.trim();
            }
        }
    }

    /// Patches the line still waiting, hashed alone.
    pub(super) fn settle(&mut self, buf: &mut [u8]) {
        if let Some((slot, spots)) = self.waiting.take() {
            spots.patch(buf, &Uid::of_digest(&sha256x2::digest(&mut self.messages[slot])));
            self.trim();
        }
    }

    /// The lines were dropped: nothing waits any more.
    pub(super) fn forget(&mut self) {
        self.waiting = None;
    }

    fn trim(&mut self) {
        for m in &mut self.messages {
            if m.capacity() > KEEP {
                *m = Vec::new();
            }
        }
    }
}
