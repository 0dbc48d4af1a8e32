//! The real binary as a child process on a free port with its own SQLite file, for the tests
//! that need a process of their own (its metrics recorder, its caps, its login gate, its
//! environment). Killed on drop.

use std::process::{Child, Command, Stdio};

use super::RemoteApp;

/// The server process with shop 1 and the merchant `admin` (password `admin-pass-123`).
pub struct Server {
    child: Child,
    pub app: RemoteApp,
    /// Its database, for a test that reads or seeds it directly.
    pub database_url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the binary with these extra settings and waits for `/healthz`.
    pub async fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = super::free_port();
        let database_url = format!("sqlite://{}/server.db", dir.path().display());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sky-takeout"));
        cmd.env("SKY_LISTEN", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &database_url)
            .env("SKY_ADMIN_PASSWORD", "admin-pass-123")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let app = super::remote(port);
        super::wait_for(&app, "/healthz").await;
        Server {
            child,
            app,
            database_url,
            _dir: dir,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
