//! Starts a private `nats-server -js` child process: the embedded default when no
//! `NATS_URL` is given, and the per-test server of the test suite.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The oldest server Brygga runs against (2.9 ignores multi-subject filters with async-nats 0.51).
pub const MIN_SERVER: (u64, u64) = (2, 10);

#[derive(Debug, thiserror::Error)]
pub enum NatsServerError {
    #[error("no nats-server >= 2.10 found (set BRYGGA_NATS_SERVER, or run scripts/ensure-nats-server.sh to install the pinned one)")]
    NotFound,
    #[error("starting {path}: {source}")]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("nats-server did not accept connections on port {0} within 10 s")]
    NotReady(u16),
    #[error("preparing the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
}

/// A running server; killed when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    port: u16,
    store: PathBuf,
}

impl NatsServer {
    /// Starts a server with JetStream storing in `store_dir`, on a free loopback port.
    pub async fn start(store_dir: &Path) -> Result<Self, NatsServerError> {
        Self::start_with_config(store_dir, None).await
    }

    /// As [`start`](Self::start), with a server configuration file's text (authorisation,
    /// TLS, accounts; tests use it). Port, address and store are still set here.
    pub async fn start_with_config(store_dir: &Path, config: Option<&str>) -> Result<Self, NatsServerError> {
        let bin = find_binary().ok_or(NatsServerError::NotFound)?;
        let dir_err = |source| NatsServerError::DataDir { path: store_dir.to_owned(), source };
        std::fs::create_dir_all(store_dir).map_err(dir_err)?;
        let file = store_dir.join("nats-server.conf");
        match config {
            Some(text) => std::fs::write(&file, text).map_err(dir_err)?,
            None => match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(dir_err(e)),
                _ => {}
            },
        }
        let port = free_port().map_err(|source| NatsServerError::Spawn { path: bin.clone(), source })?;
        let child = spawn(&bin, store_dir, port)?;
        let server = Self { child, port, store: store_dir.to_owned() };
        server.ready().await?;
        Ok(server)
    }

    /// A JetStream cluster of `n` servers on loopback, routed to each other (`server_name`
    /// `n0`…), each storing under `dir/n<i>`, each with `extra` configuration too. Ports are
    /// picked free but not held, so one may be taken meanwhile: the whole cluster is then tried
    /// again on fresh ports (three times at most).
    pub async fn start_cluster(dir: &Path, n: usize, extra: &str) -> Result<Vec<Self>, NatsServerError> {
        let mut last = None;
        for attempt in 0..3 {
            let routes: Vec<u16> = (0..n)
                .map(|_| free_port())
                .collect::<Result<_, _>>()
                .map_err(|source| NatsServerError::DataDir { path: dir.to_owned(), source })?;
            let mut servers = Vec::new();
            for (i, port) in routes.iter().enumerate() {
                let others: Vec<String> =
                    routes.iter().filter(|p| *p != port).map(|p| format!("nats-route://127.0.0.1:{p}")).collect();
                let config = format!(
                    "server_name: n{i}\ncluster {{\n  name: brygga\n  listen: 127.0.0.1:{port}\n  routes: [{}]\n}}\n{extra}\n",
                    others.join(", ")
                );
                match Self::start_with_config(&dir.join(format!("a{attempt}-n{i}")), Some(&config)).await {
                    Ok(s) => servers.push(s),
                    Err(e) => {
                        last = Some(e);
                        break;
                    }
                }
            }
            if servers.len() == n {
                return Ok(servers);
            }
            for s in servers {
                s.stop().await;
            }
        }
        Err(last.unwrap_or(NatsServerError::NotReady(0)))
    }

    async fn ready(&self) -> Result<(), NatsServerError> {
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(NatsServerError::NotReady(self.port))
    }

    /// Kills the server at once (SIGKILL, as a crash would) and waits for it to exit; the
    /// store stays, and [`start_again`](Self::start_again) brings it back on the same port.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Starts the server again on the same port, store and configuration.
    pub async fn start_again(&mut self) -> Result<(), NatsServerError> {
        let bin = find_binary().ok_or(NatsServerError::NotFound)?;
        self.child = spawn(&bin, &self.store, self.port)?;
        self.ready().await
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
    pub fn store_dir(&self) -> &Path {
        &self.store
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `nats-server -js` on `port`, storing in `store_dir`, with the configuration file there if any.
fn spawn(bin: &Path, store_dir: &Path, port: u16) -> Result<Child, NatsServerError> {
    let mut cmd = Command::new(bin);
    let file = store_dir.join("nats-server.conf");
    if file.is_file() {
        cmd.arg("-c").arg(file);
    }
    cmd.args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| NatsServerError::Spawn { path: bin.to_owned(), source })
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// `$BRYGGA_NATS_SERVER`, the pinned install under `.tools/` (searched upwards from the
/// current directory and from this crate's workspace), or `nats-server` on PATH, if ≥ 2.10.
pub fn find_binary() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("BRYGGA_NATS_SERVER").map(PathBuf::from).into_iter().collect();
    let roots = std::env::current_dir().ok().into_iter().chain([PathBuf::from(env!("CARGO_MANIFEST_DIR"))]);
    for root in roots {
        candidates.extend(root.ancestors().map(|d| d.join(".tools/venv/bin/nats-server")));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("nats-server")));
    }
    candidates.into_iter().find(|c| c.is_file() && version_of(c).is_some_and(|v| v >= MIN_SERVER))
}

fn version_of(bin: &Path) -> Option<(u64, u64)> {
    let out = std::process::Command::new(bin).arg("--version").output().ok()?;
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

/// Parses `nats-server: v2.12.8` or `2.12.8` into (major, minor).
pub fn parse_version(s: &str) -> Option<(u64, u64)> {
    let v = s.trim().rsplit(' ').next()?.trim_start_matches('v');
    let mut it = v.split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_versions() {
        assert_eq!(super::parse_version("nats-server: v2.12.8\n"), Some((2, 12)));
        assert_eq!(super::parse_version("2.9.10"), Some((2, 9)));
        assert_eq!(super::parse_version("garbage"), None);
    }
}
