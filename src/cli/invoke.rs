//! `das-forwarder invoke --event FILE`: runs the exact Lambda handler on a
//! Kinesis event file and prints the handler's JSON response.

use std::path::Path;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;

use crate::handler::{Forwarder, Summary};

/// Reads and parses a Kinesis event file (errors name the file).
pub fn read_event(path: &Path) -> Result<KinesisEvent, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a Kinesis event: {e}", path.display()))
}

pub async fn invoke(forwarder: &Forwarder, path: &Path) -> Result<(KinesisEventResponse, Summary), String> {
    let event = read_event(path)?;
    Ok(forwarder.handle(&event).await)
}
