//! The fields the OCSF mapping reads, each with a slot so an event finds them once.

use super::Field;

/// The fields the mapping reads, found once when the event is parsed.
pub(super) const KNOWN: [&str; 24] = [
    "class",
    "clientApplication",
    "command",
    "commandText",
    "databaseName",
    "dbUserName",
    "endTime",
    "errorMessage",
    "exitCode",
    "logTime",
    "objectName",
    "objectType",
    "paramList",
    "remoteHost",
    "remotePort",
    "serverHost",
    "serverType",
    "serverVersion",
    "serviceName",
    "sessionId",
    "startTime",
    "statementId",
    "substatementId",
    "type",
];

/// The slot of a known field name (a literal argument folds to a constant).
#[inline(always)]
pub(super) fn slot(name: &str) -> Option<usize> {
    KNOWN.iter().position(|k| *k == name)
}

/// The first 8 bytes of a name, big-endian (zero-padded): orders as the names do, up to ties.
pub(super) const fn prefix_of(name: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let mut i = 0;
    while i < 8 && i < name.len() {
        head[i] = name[i];
        i += 1;
    }
    u64::from_be_bytes(head)
}

/// The known names' prefixes (they are all different).
const KNOWN_PREFIXES: [u64; KNOWN.len()] = {
    let mut out = [0u64; KNOWN.len()];
    let mut i = 0;
    while i < KNOWN.len() {
        out[i] = prefix_of(KNOWN[i].as_bytes());
        i += 1;
    }
    out
};

/// The slot of a parsed field: its prefix finds the one candidate, the name confirms it.
pub(super) fn slot_of(f: &Field<'_>) -> Option<usize> {
    let prefix = prefix_of(f.name.as_bytes());
    let k = KNOWN_PREFIXES.iter().position(|&p| p == prefix)?;
    (KNOWN[k] == f.name).then_some(k)
}

pub(super) const NONE: u16 = u16::MAX;
