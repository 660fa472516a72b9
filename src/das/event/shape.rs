//! The order of an event's names: sorted once per shape of event, remembered per thread.

use std::borrow::Cow;

use super::known::{prefix_of, KNOWN};
use crate::das::scan::Scanned;

/// The names of the last event parsed on this thread, and their order: DAS writes the events of
/// a record with the same fields in the same order, so the sort is done once per shape.
#[derive(Default)]
pub(super) struct Shape {
    /// The names back to back, and where each ends.
    pub(super) names: Vec<u8>,
    pub(super) ends: Vec<u32>,
    /// The positions of the fields kept (the last of a duplicated name), in name order.
    pub(super) order: Vec<u32>,
    pub(super) known: [u16; KNOWN.len()],
}

/// Largest shape remembered: names are input, and the cache must not grow with them.
const SHAPE_MAX_NAMES: usize = 256;
const SHAPE_MAX_BYTES: usize = 8 << 10;

impl Shape {
    /// The scanned names are those remembered, in the same order.
    pub(super) fn matches(&self, text: &[u8], scanned: &[Scanned]) -> bool {
        if scanned.len() != self.ends.len() || self.ends.is_empty() {
            return false;
        }
        let mut start = 0;
        scanned.iter().zip(&self.ends).all(|(s, &end)| {
            let name = &self.names[start..end as usize];
            start = end as usize;
            !s.name_escapes && &text[s.name.0..s.name.1] == name
        })
    }

    pub(super) fn remember(&mut self, text: &[u8], scanned: &[Scanned], order: &[u32], known: &[u16; KNOWN.len()]) {
        self.names.clear();
        self.ends.clear();
        self.order.clear();
        let bytes: usize = scanned.iter().map(|s| s.name.1 - s.name.0).sum();
        if scanned.len() > SHAPE_MAX_NAMES || bytes > SHAPE_MAX_BYTES || scanned.iter().any(|s| s.name_escapes) {
            return;
        }
        for s in scanned {
            self.names.extend_from_slice(&text[s.name.0..s.name.1]);
            self.ends.push(self.names.len() as u32);
        }
        self.order.extend_from_slice(order);
        self.known = *known;
    }
}

thread_local! {
    pub(super) static SCANNED: std::cell::RefCell<(Vec<Scanned>, Shape)> = std::cell::RefCell::new(Default::default());
}

/// The positions of `names` in name order, the last of a duplicated name kept (as a map insert
/// would): (prefix, position) pairs are sorted, the whole name breaking a tie of prefixes.
pub(super) fn name_order(names: &[Cow<'_, str>]) -> Vec<u32> {
    let mut order: Vec<(u64, u32)> =
        names.iter().enumerate().map(|(i, n)| (prefix_of(n.as_bytes()), i as u32)).collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| names[a.1 as usize].cmp(&names[b.1 as usize])).then(a.1.cmp(&b.1))
    });
    // Of each run of one name (positions ascending), the last.
    let mut kept: Vec<u32> = Vec::with_capacity(order.len());
    for (k, &(_, i)) in order.iter().enumerate() {
        let next_same = order.get(k + 1).is_some_and(|&(_, j)| names[j as usize] == names[i as usize]);
        if !next_same {
            kept.push(i);
        }
    }
    kept
}
