//! A loopback stub of the RDS Query API, for what moto does not implement: the activity stream
//! of a database (`ActivityStreamStatus`, `ActivityStreamKmsKeyId`, …) and the filters by
//! resource id. It answers `DescribeDBClusters` and `DescribeDBInstances` from a table of
//! resource id -> activity stream status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Router;

#[derive(Clone)]
pub struct RdsStub {
    statuses: Arc<Mutex<HashMap<String, &'static str>>>,
    pub url: String,
}

fn form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| {
                let s = s.replace('+', " ");
                let bytes = s.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' && i + 2 < bytes.len() {
                        out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                        i += 3;
                    } else {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
                String::from_utf8_lossy(&out).into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

async fn answer(State(stub): State<RdsStub>, body: Bytes) -> Response {
    let params = form(&body);
    let action = params.get("Action").cloned().unwrap_or_default();
    let id = params.get("Filters.Filter.1.Values.Value.1").cloned().unwrap_or_default();
    let status = stub.statuses.lock().unwrap().get(&id).copied();
    let (result, list, item, name_tag, id_tag) = match action.as_str() {
        "DescribeDBClusters" => {
            ("DescribeDBClustersResult", "DBClusters", "DBCluster", "DBClusterIdentifier", "DbClusterResourceId")
        }
        _ => ("DescribeDBInstancesResult", "DBInstances", "DBInstance", "DBInstanceIdentifier", "DbiResourceId"),
    };
    let items = match status {
        Some(status) => format!(
            "<{item}><{name_tag}>db-under-check</{name_tag}><{id_tag}>{id}</{id_tag}>\
             <ActivityStreamStatus>{status}</ActivityStreamStatus><ActivityStreamMode>async</ActivityStreamMode>\
             <ActivityStreamKmsKeyId>arn:aws:kms:us-east-1:123456789012:key/stub</ActivityStreamKmsKeyId>\
             <ActivityStreamKinesisStreamName>aws-rds-das-{id}</ActivityStreamKinesisStreamName></{item}>"
        ),
        None => String::new(),
    };
    let xml = format!(
        "<{action}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><{result}><{list}>{items}</{list}>\
         </{result}><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></{action}Response>"
    );
    ([("content-type", "text/xml")], xml).into_response()
}

impl RdsStub {
    pub async fn start() -> RdsStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stub = RdsStub { statuses: Arc::default(), url: format!("http://{}", listener.local_addr().unwrap()) };
        let app = Router::new().route("/", axum::routing::post(answer)).with_state(stub.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        stub
    }

    /// The activity stream of `resource_id` is `status` (`started`, `stopped`, …).
    pub fn set(&self, resource_id: &str, status: &'static str) {
        self.statuses.lock().unwrap().insert(resource_id.to_owned(), status);
    }
}
