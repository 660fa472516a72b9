//! das-forwarder: decrypts Amazon Aurora/RDS Database Activity Streams and
//! forwards the activity events.

pub mod das;
pub mod esdk;
pub mod keys;
