//! A JetStream cluster whose nodes live in network namespaces of their own, joined by veth
//! pairs to a bridge in the test's namespace, so a test can cut one node off from the others
//! (a partition) while clients still reach every node, and heal it again. Needs root and
//! iproute2 (`ip netns`); [`NetnsCluster::start`] says why when it cannot.
//!
//! Addresses: the bridge is `10.77.<k>.1/24` (the test's side), node `i` is `10.77.<k>.(10+i)`
//! with its client port 4222 and its route port 6222. A partition is made with blackhole
//! routes inside the namespaces (the node drops what it sends to its peers, and they drop what
//! they send to it), which iproute2 alone can do; the client's side stays connected.

use brygga_runtime::nats_server::find_binary;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// One node of a [`NetnsCluster`].
#[derive(Debug)]
pub struct NetnsNode {
    pub ns: String,
    pub ip: String,
    child: Child,
}

/// The cluster; namespaces, links and servers are removed when dropped.
#[derive(Debug)]
pub struct NetnsCluster {
    tag: String,
    pub nodes: Vec<NetnsNode>,
    _dir: TempDir,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out =
        std::process::Command::new("ip").args(args).output().map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl NetnsCluster {
    /// Starts `n` routed nats-servers (JetStream, `server_name` n0…), one per namespace.
    pub async fn start(n: usize) -> Result<Self, String> {
        let bin = find_binary().ok_or("no nats-server 2.10+ (scripts/ensure-nats-server.sh installs one)")?;
        // Short, and unique per process and cluster: interface names have at most 15
        // characters, and the subnet's third byte is k.
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nth = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let k = (std::process::id() + nth * 37) % 200 + 20;
        let tag = format!("bg{k}");
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut cluster = Self { tag: tag.clone(), nodes: Vec::new(), _dir: dir };
        let bridge = format!("{tag}br");
        // Left over by a run of the same process id that did not clean up.
        let _ = ip(&["link", "del", &bridge]);
        for i in 0..n {
            let _ = ip(&["link", "del", &format!("{tag}v{i}")]);
            let _ = ip(&["netns", "del", &format!("{tag}n{i}")]);
        }
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&["addr", "add", &format!("10.77.{k}.1/24"), "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        let ips: Vec<String> = (0..n).map(|i| format!("10.77.{k}.{}", 10 + i)).collect();
        for (i, addr) in ips.iter().enumerate() {
            let ns = format!("{tag}n{i}");
            let (outer, inner) = (format!("{tag}v{i}"), format!("{tag}p{i}"));
            ip(&["netns", "add", &ns])?;
            ip(&["link", "add", &outer, "type", "veth", "peer", "name", &inner])?;
            ip(&["link", "set", &inner, "netns", &ns])?;
            ip(&["link", "set", &outer, "master", &bridge])?;
            ip(&["link", "set", &outer, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{addr}/24"), "dev", &inner])?;
            ip(&["-n", &ns, "link", "set", &inner, "up"])?;
            let routes: Vec<String> =
                ips.iter().filter(|o| *o != addr).map(|o| format!("nats-route://{o}:6222")).collect();
            let store = cluster._dir.path().join(format!("n{i}"));
            let config = format!(
                "server_name: n{i}\nlisten: {addr}:4222\njetstream {{ store_dir: \"{}\" }}\n\
                 cluster {{\n  name: brygga\n  listen: {addr}:6222\n  routes: [{}]\n}}\n",
                store.display(),
                routes.join(", ")
            );
            let child = spawn(&bin, &ns, &store, &config)?;
            cluster.nodes.push(NetnsNode { ns, ip: addr.clone(), child });
        }
        for node in &cluster.nodes {
            node.ready().await?;
        }
        Ok(cluster)
    }

    /// The comma-separated client URL of every node.
    pub fn url(&self) -> String {
        self.nodes.iter().map(|n| format!("nats://{}:4222", n.ip)).collect::<Vec<_>>().join(",")
    }

    /// Cuts node `i` off from the other nodes (both ways); clients still reach all of them.
    pub fn partition(&self, i: usize) -> Result<(), String> {
        self.routes(i, "add")
    }

    /// Undoes [`partition`](Self::partition).
    pub fn heal(&self, i: usize) -> Result<(), String> {
        self.routes(i, "del")
    }

    /// Whether node `from` can open a TCP connection to node `to`'s route port now (bash's
    /// `/dev/tcp`, inside `from`'s namespace, 2 s at most).
    pub fn reaches(&self, from: usize, to: usize) -> bool {
        let probe = format!("exec 3<>/dev/tcp/{}/6222", self.nodes[to].ip);
        std::process::Command::new("ip")
            .args(["netns", "exec", &self.nodes[from].ns, "timeout", "2", "bash", "-c", &probe])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn routes(&self, i: usize, verb: &str) -> Result<(), String> {
        let cut = &self.nodes[i];
        for other in self.nodes.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| o) {
            ip(&["-n", &cut.ns, "route", verb, "blackhole", &format!("{}/32", other.ip)])?;
            ip(&["-n", &other.ns, "route", verb, "blackhole", &format!("{}/32", cut.ip)])?;
        }
        Ok(())
    }
}

impl NetnsNode {
    async fn ready(&self) -> Result<(), String> {
        for _ in 0..200 {
            if tokio::net::TcpStream::connect((self.ip.as_str(), 4222)).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("nats-server in {} did not listen on {}:4222", self.ns, self.ip))
    }
}

fn spawn(bin: &Path, ns: &str, store: &Path, config: &str) -> Result<Child, String> {
    std::fs::create_dir_all(store).map_err(|e| e.to_string())?;
    let file = store.join("nats-server.conf");
    std::fs::write(&file, config).map_err(|e| e.to_string())?;
    // `ip netns exec` enters the namespace and then execs the server, so killing the child
    // kills the server.
    Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(bin)
        .arg("-c")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting nats-server in {ns}: {e}"))
}

impl Drop for NetnsCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.child.start_kill();
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let _ = ip(&["link", "del", &format!("{}v{i}", self.tag)]);
            let _ = ip(&["netns", "del", &node.ns]);
        }
        let _ = ip(&["link", "del", &format!("{}br", self.tag)]);
    }
}
