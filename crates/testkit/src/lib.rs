//! Test harness on real infrastructure: a private current `nats-server -js` per test (free
//! port, temporary store), a fresh PostgreSQL database or SQLite file per test, and a unique
//! subject prefix per test. Dev-dependency only.

pub mod auth;
pub mod fixtures;
pub mod netns;

use brygga_runtime::NatsServer;
use sea_orm::{ConnectionTrait, Database};
use std::path::PathBuf;
use tempfile::TempDir;

/// A NATS server owned by one test; stopped when dropped.
#[derive(Debug)]
pub struct TestNats {
    pub server: NatsServer,
    _dir: TempDir,
}

impl TestNats {
    pub fn url(&self) -> String {
        self.server.url()
    }
}

/// Starts a private nats-server (2.10+) with JetStream. Panics with the installer hint if none.
pub async fn nats() -> TestNats {
    nats_with_config(None).await
}

/// As [`nats`], with a server configuration file's text (authorisation, TLS, operator mode).
pub async fn nats_with_config(config: Option<&str>) -> TestNats {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = NatsServer::start_with_config(&dir.path().join("js"), config).await.unwrap_or_else(|e| panic!("{e}"));
    TestNats { server, _dir: dir }
}

/// A JetStream cluster of `n` private nats-servers on loopback (routes between them, servers
/// `n0`…), each with its own store; the client URL of all of them is [`cluster_url`].
pub async fn nats_cluster(n: usize) -> Vec<TestNats> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let servers = NatsServer::start_cluster(dir.path(), n, "").await.unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let mut dir = Some(dir);
    for server in servers {
        // The first keeps the directory all of them store under.
        let d = dir.take().unwrap_or_else(|| tempfile::tempdir().expect("temporary directory"));
        out.push(TestNats { server, _dir: d });
    }
    out
}

/// The comma-separated client URL of every server of a cluster.
pub fn cluster_url(servers: &[TestNats]) -> String {
    servers.iter().map(TestNats::url).collect::<Vec<_>>().join(",")
}

/// A unique subject prefix, so tests never see each other's events.
pub fn prefix() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database: dropped (PostgreSQL) or deleted (SQLite) afterwards.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pg: Option<(String, String)>,
    _dir: Option<TempDir>,
}

/// Base URL of the PostgreSQL server for tests: `BRYGGA_TEST_POSTGRES_URL`, else this
/// machine's `postgres://postgres@127.0.0.1:5432/test` (trust auth).
pub fn postgres_admin_url() -> String {
    std::env::var("BRYGGA_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path: PathBuf = dir.path().join("brygga.sqlite");
                Self { url: format!("sqlite://{}?mode=rwc", path.display()), backend, pg: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("brygga_test_{}", uuid::Uuid::new_v4().simple());
                let db = Database::connect(&admin).await.unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e}"));
                db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                db.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                Self { url: format!("{base}/{name}"), backend, pg: Some((admin, name)), _dir: None }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else { return };
        // Best effort, on a thread of its own: Drop may run inside or outside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let db = Database::connect(&admin).await.ok()?;
                db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()
            })
        })
        .join();
    }
}

/// A PostgreSQL cluster the test owns and may stop (`initdb` + `pg_ctl`, never the machine's
/// shared server), on a free port, run as the `postgres` user when the test runs as root.
/// `None` (with the reason) where PostgreSQL's binaries are absent.
#[derive(Debug)]
pub struct OwnedPostgres {
    bin: PathBuf,
    dir: TempDir,
    pub port: u16,
}

impl OwnedPostgres {
    pub fn start() -> Result<Self, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("no /usr/lib/postgresql: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|b| b.join("initdb").is_file())
            .ok_or("no initdb under /usr/lib/postgresql")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let pg = Self { bin, dir, port };
        std::process::Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(pg.dir.path())
            .status()
            .map_err(|e| e.to_string())?;
        pg.run("initdb", &["-D", &pg.data(), "-A", "trust", "-U", "postgres", "--no-sync"])?;
        pg.start_again()?;
        Ok(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(tool);
        let root = std::env::var("USER").map(|u| u == "root").unwrap_or(true);
        let mut cmd = if root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        let out = cmd.args(args).output().map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{tool} failed: {}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    pub fn start_again(&self) -> Result<(), String> {
        let opts =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.path().display());
        let log = self.dir.path().join("log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-o", &opts, "-w", "start"])
    }

    /// Stops the server at once (`immediate`: as a crash would).
    pub fn stop(&self) -> Result<(), String> {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"])
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnedPostgres {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
