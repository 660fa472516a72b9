//! The database behind a stream: the Aurora cluster (by `DbClusterResourceId`) or the RDS
//! instance (by `DbiResourceId`) has its activity stream started, and under which KMS key.

use aws_sdk_rds::types::{ActivityStreamMode, ActivityStreamStatus, Filter};

use super::{described, timed, Report};
use crate::das::resource::ResourceId;

/// What RDS says of a database's activity stream.
struct Stream {
    database: String,
    status: Option<ActivityStreamStatus>,
    kms_key: Option<String>,
    mode: Option<ActivityStreamMode>,
}

/// Checks the activity stream of `resource` (the stream `target` belongs to).
pub async fn check(rds: &aws_sdk_rds::Client, resource: &ResourceId, target: &str, report: &mut Report) {
    let id = resource.as_str();
    let cluster = id.starts_with("cluster-");
    let found = if cluster {
        let filter = Filter::builder().name("db-cluster-resource-id").values(id).build();
        timed(rds.describe_db_clusters().filters(filter).send()).await.map_err(described).map(|out| {
            out.db_clusters().first().map(|c| Stream {
                database: c.db_cluster_identifier().unwrap_or(id).to_owned(),
                status: c.activity_stream_status().cloned(),
                kms_key: c.activity_stream_kms_key_id().map(str::to_owned),
                mode: c.activity_stream_mode().cloned(),
            })
        })
    } else {
        let filter = Filter::builder().name("dbi-resource-id").values(id).build();
        timed(rds.describe_db_instances().filters(filter).send()).await.map_err(described).map(|out| {
            out.db_instances().first().map(|i| Stream {
                database: i.db_instance_identifier().unwrap_or(id).to_owned(),
                status: i.activity_stream_status().cloned(),
                kms_key: i.activity_stream_kms_key_id().map(str::to_owned),
                mode: i.activity_stream_mode().cloned(),
            })
        })
    };
    let (kind, call) =
        if cluster { ("cluster", "rds:DescribeDBClusters") } else { ("instance", "rds:DescribeDBInstances") };
    let stream = match found {
        Ok(Some(s)) => s,
        Ok(None) => {
            let fix = format!(
                "no {kind} with resource id {id} in this account and region: the stream outlived its database, or the \
                 checks run in another region"
            );
            return report.fail(target, "database.exists", format!("no {kind} {id}"), fix);
        }
        // The function itself needs no RDS permission: under its role (--role-arn) this is no fault.
        Err((Some(code), detail)) if code.starts_with("AccessDenied") => {
            let fix = format!("run the check as a principal allowed {call} to see the activity stream's state");
            return report.warn(target, "database.exists", detail, fix);
        }
        Err((_, detail)) => return report.fail(target, "database.exists", detail, "see the error"),
    };
    let key = stream.kms_key.as_deref().unwrap_or("no key");
    let mode = stream.mode.as_ref().map_or("", ActivityStreamMode::as_str);
    match &stream.status {
        Some(ActivityStreamStatus::Started) => report.ok(
            target,
            "database.activity_stream",
            format!("{kind} {} streams activity ({mode}) under KMS key {key}", stream.database),
        ),
        Some(status @ (ActivityStreamStatus::Starting | ActivityStreamStatus::Stopping)) => report.warn(
            target,
            "database.activity_stream",
            format!("{kind} {}: activity stream {}", stream.database, status.as_str()),
            "wait until it is started; records flow once it is",
        ),
        other => report.fail(
            target,
            "database.activity_stream",
            format!(
                "{kind} {}: activity stream {}",
                stream.database,
                other.as_ref().map_or("not started", ActivityStreamStatus::as_str)
            ),
            format!(
                "start it: aws rds start-activity-stream --resource-arn <the {kind}'s ARN> --mode async --kms-key-id \
                 <key> --apply-immediately (the function's role must be allowed kms:Decrypt on that key)"
            ),
        ),
    }
}
