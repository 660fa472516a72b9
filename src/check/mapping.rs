//! The checks of a function's Kinesis event source mappings against the template's choices:
//! enabled, `ReportBatchItemFailures` (without it the records the function reports count as
//! done: they are lost), bisect on error, an on-failure destination, and the batch settings.

use aws_sdk_lambda::types::{EventSourceMappingConfiguration, FunctionResponseType};

use super::{described, timed, Report};

/// The template's defaults, each a warning when a mapping departs from it.
const BATCH_SIZE: i32 = 100;
const BATCHING_WINDOW_SECS: i32 = 1;
const MAX_RETRY_ATTEMPTS: i32 = 100;
const MAX_RECORD_AGE_SECS: i32 = 86_400;

/// The Kinesis mappings of `function`, checked one by one; their streams, for the stream checks.
pub async fn check(lambda: &aws_sdk_lambda::Client, function: &str, report: &mut Report) -> Vec<String> {
    let target = format!("function {function}");
    let mut mappings = Vec::new();
    let mut marker = None;
    loop {
        let request = lambda.list_event_source_mappings().function_name(function).set_marker(marker.take()).send();
        match timed(request).await {
            Ok(page) => {
                mappings.extend(page.event_source_mappings().iter().cloned());
                match page.next_marker() {
                    Some(m) => marker = Some(m.to_owned()),
                    None => break,
                }
            }
            Err(e) => {
                let (code, detail) = described(e);
                match code.as_deref() {
                    // The function's own role (--role-arn) may not list mappings, and needs not.
                    Some("AccessDeniedException") => {
                        let fix = "run the check as a principal allowed lambda:ListEventSourceMappings";
                        report.warn(&target, "mapping.list", detail, fix)
                    }
                    Some("ResourceNotFoundException") => {
                        let fix = format!("no function {function} in this account and region");
                        report.fail(&target, "mapping.list", detail, fix)
                    }
                    _ => report.fail(&target, "mapping.list", detail, "see the error"),
                }
                return Vec::new();
            }
        }
    }
    let kinesis: Vec<&EventSourceMappingConfiguration> =
        mappings.iter().filter(|m| m.event_source_arn().is_some_and(|a| a.contains(":kinesis:"))).collect();
    if kinesis.is_empty() {
        let fix = "add a Kinesis event source mapping from the activity stream (the template's DasStream event)";
        report.fail(&target, "mapping.exists", "no Kinesis event source mapping", fix);
    }
    kinesis.into_iter().map(|m| one(m, &target, report)).collect()
}

/// One mapping's checks; its stream's ARN.
fn one(m: &EventSourceMappingConfiguration, function: &str, report: &mut Report) -> String {
    let stream = m.event_source_arn().unwrap_or_default().to_owned();
    let name = stream.rsplit('/').next().unwrap_or(&stream);
    let target = format!("{function} <- {name}");
    let uuid = m.uuid().unwrap_or("<uuid>");
    match m.state() {
        Some("Enabled") | Some("Enabling") | Some("Updating") | Some("Creating") => {
            report.ok(&target, "mapping.enabled", m.state().unwrap_or_default())
        }
        other => report.fail(
            &target,
            "mapping.enabled",
            format!("state {}", other.unwrap_or("unknown")),
            format!("enable it: aws lambda update-event-source-mapping --uuid {uuid} --enabled"),
        ),
    }
    if m.function_response_types().contains(&FunctionResponseType::ReportBatchItemFailures) {
        report.ok(&target, "mapping.report_batch_item_failures", "on");
    } else {
        report.fail(
            &target,
            "mapping.report_batch_item_failures",
            "off: the records the function reports for a retry count as done, and are lost",
            format!(
                "aws lambda update-event-source-mapping --uuid {uuid} --function-response-types ReportBatchItemFailures"
            ),
        );
    }
    if m.bisect_batch_on_function_error() == Some(true) {
        report.ok(&target, "mapping.bisect", "on");
    } else {
        report.warn(
            &target,
            "mapping.bisect",
            "off: a batch that fails whole is retried whole",
            format!("aws lambda update-event-source-mapping --uuid {uuid} --bisect-batch-on-function-error"),
        );
    }
    match m.destination_config().and_then(|d| d.on_failure()).and_then(|f| f.destination()) {
        Some(d) => report.ok(&target, "mapping.on_failure", format!("to {d}")),
        None => report.warn(
            &target,
            "mapping.on_failure",
            "none: a batch given up on (retries or record age exhausted) leaves no trace",
            "add an SQS on-failure destination (the template's OnFailureQueue); replay reads it",
        ),
    }
    let settings = [
        ("BatchSize", m.batch_size(), BATCH_SIZE),
        ("MaximumBatchingWindowInSeconds", m.maximum_batching_window_in_seconds(), BATCHING_WINDOW_SECS),
        ("MaximumRetryAttempts", m.maximum_retry_attempts(), MAX_RETRY_ATTEMPTS),
        ("MaximumRecordAgeInSeconds", m.maximum_record_age_in_seconds(), MAX_RECORD_AGE_SECS),
    ];
    let departures: Vec<String> = settings
        .iter()
        .filter_map(|(name, got, want)| got.filter(|g| g != want).map(|g| format!("{name} {g} (template: {want})")))
        .collect();
    if departures.is_empty() {
        report.ok(&target, "mapping.batching", "the template's batch size, window, retries and record age");
    } else {
        report.warn(
            &target,
            "mapping.batching",
            departures.join(", "),
            "fine when chosen; the template's values keep a batch within BATCH_MEMORY_MB and retry for a day",
        );
    }
    stream
}
