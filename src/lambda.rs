//! The function in the Lambda runtime: one forwarder for the life of the execution
//! environment, one handler call per invocation, the EMF document on stdout.

use std::sync::Arc;

use anyhow::Context;
use lambda_runtime::{service_fn, LambdaEvent};

use crate::config::Config;
use crate::kinesis::Batch;
use crate::setup;

/// Serves invocations until the runtime stops.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let forwarder = Arc::new(setup::forwarder(config).await?);
    let handler = service_fn(move |event: LambdaEvent<Batch>| {
        let forwarder = forwarder.clone();
        async move {
            let (response, summary) = forwarder.handle_invocation(&event.payload.0, event.context.deadline()).await;
            // The EMF document is its own stdout line: CloudWatch Logs extracts the metrics from it.
            if let Some(line) = forwarder.metrics_line(&summary) {
                println!("{line}");
            }
            Ok::<_, lambda_runtime::Error>(response)
        }
    });
    lambda_runtime::run(handler).await.map_err(|e| anyhow::anyhow!(e)).context("the Lambda runtime")
}
