//! A local moto server (AWS API emulator) on a free loopback port, started
//! from the project's venv and stopped by its PID when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let child = Command::new(venv().join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
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
