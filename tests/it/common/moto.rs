//! A local moto server (AWS API emulator) on a free loopback port, started
//! from the project's venv and stopped by its PID when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::repo_dir;

/// The venv `make venv` creates (override with DAS_TEST_VENV).
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("DAS_TEST_VENV").map(PathBuf::from).unwrap_or_else(|| repo_dir().join(".venv"));
    assert!(
        dir.join("bin/moto_server").is_file(),
        "{} has no moto_server: run `make venv` first (or set DAS_TEST_VENV)",
        dir.display()
    );
    dir
}

/// A free loopback port, never the same twice in one test process (tests run
/// in parallel threads, and two servers racing for one port would cross-talk).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut given = GIVEN.lock().unwrap();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Starts a server; ready once it accepts connections and is still our process.
    pub fn start() -> Moto {
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(venv().join("bin/moto_server"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let mut moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if moto.child.try_wait().unwrap().is_some() {
                    break; // it exited (port taken by someone else): try another port
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    std::thread::sleep(Duration::from_millis(150));
                    if moto.child.try_wait().unwrap().is_none() {
                        return moto;
                    }
                    break;
                }
                assert!(Instant::now() < deadline, "moto_server did not start on port {port}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("moto_server could not start on a free port");
    }

    /// An SDK configuration for this server (explicit region and test credentials,
    /// so tests running in parallel threads never touch the process environment).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await
    }

    /// Environment for an AWS SDK client pointed at this server.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Only the process this test started, by its PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// `n` wrapping keys from KMS `GenerateDataKey` under the RDS encryption context of
    /// `resource` (as RDS makes them): (plaintext key, base64 ciphertext blob).
    pub async fn rds_data_keys(&self, resource: &str, n: usize) -> Vec<([u8; 32], String)> {
        use base64::Engine;
        let kms = aws_sdk_kms::Client::new(&self.sdk_config().await);
        let key_id = kms.create_key().send().await.unwrap().key_metadata().unwrap().key_id().to_owned();
        let context_key = if resource.starts_with("cluster-") { "aws:rds:dbc-id" } else { "aws:rds:db-id" };
        let mut keys = Vec::new();
        for _ in 0..n {
            let out = kms
                .generate_data_key()
                .key_id(&key_id)
                .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
                .encryption_context(context_key, resource)
                .send()
                .await
                .unwrap();
            let plain: [u8; 32] = out.plaintext().unwrap().as_ref().try_into().unwrap();
            keys.push((
                plain,
                base64::engine::general_purpose::STANDARD.encode(out.ciphertext_blob().unwrap().as_ref()),
            ));
        }
        keys
    }
}
