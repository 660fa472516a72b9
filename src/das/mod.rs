//! The DAS record formats: the outer envelope, the resource id, the gzip
//! layer, the record read event by event, and the events as borrowed JSON. All pure.

pub mod activity;
pub mod envelope;
pub(crate) mod event;
pub mod inflate;
pub(crate) mod json;
pub mod resource;
pub(crate) mod scan;
pub mod time;

pub use envelope::Envelope;
pub use event::RawEvent;
pub use resource::ResourceId;
