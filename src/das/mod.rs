//! The DAS record formats: the outer envelope, the resource id, the gzip
//! layer and the activity events. All pure.

pub mod activity;
pub mod envelope;
pub mod inflate;
pub mod resource;
pub mod time;

pub use activity::{ActivityEvent, ActivityRecord};
pub use envelope::Envelope;
pub use resource::ResourceId;
