//! OCSF 1.3.0 Datastore Activity (class 6005): typed events, the pure
//! mapping from DAS events, and the optional event filters.

pub mod activity;
pub(crate) mod filter;
pub(crate) mod map;
pub(crate) mod model;
pub(crate) mod sha256x2;
pub mod status;
pub(crate) mod write;

pub use filter::{Dropped, Filters};
pub(crate) use map::{long_event_uid, map_with_uid, uid_message};
pub use map::{map, RecordContext};
pub use write::{write_event, UidSpots};
