//! `brygga bench-durability`: what JetStream's durability settings cost, measured with the raw
//! round trip (`raw.rs`: consume a 1 KiB message, publish a derived one and await its PubAck,
//! ack the input; 256 in flight) on servers this command starts itself, each setting in turn:
//! one server with file storage as shipped (the server fsyncs every 2 min; a PubAck means the
//! message is in the OS page cache), one that fsyncs every write (`sync_interval: always`), a
//! 3-node cluster on loopback with R3 streams (a PubAck means a quorum of two holds it), and that
//! cluster fsyncing every write. Ratios are against the first, measured in the same run.

use super::raw;
use brygga_bus::Bus;
use brygga_runtime::NatsServer;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct DurabilityArgs {
    /// Round trips per setting.
    #[arg(long, default_value_t = 20_000)]
    pub messages: usize,
    /// Where the servers keep their stores (by default a directory under the system's temporary
    /// one, removed afterwards).
    #[arg(long)]
    pub data_dir: Option<std::path::PathBuf>,
}

pub async fn run(args: DurabilityArgs) -> anyhow::Result<()> {
    let fresh = std::env::temp_dir().join(format!("brygga-durability-{}", std::process::id()));
    let dir = args.data_dir.clone().unwrap_or_else(|| fresh.clone());
    println!("brygga bench-durability: {} raw round trips (1 KiB, 256 in flight) per setting", args.messages);
    let settings: [(&str, usize, &str); 4] = [
        ("R1, file, fsync every 2 min (the server's default)", 1, ""),
        ("R1, file, fsync every write (sync_interval: always)", 1, "jetstream { sync_interval: always }"),
        ("R3 on a 3-node cluster, file, default fsync", 3, ""),
        ("R3 on a 3-node cluster, file, fsync every write", 3, "jetstream { sync_interval: always }"),
    ];
    let mut rows = Vec::new();
    for (i, (name, replicas, extra)) in settings.iter().enumerate() {
        let here = dir.join(format!("s{i}"));
        let servers = if *replicas == 1 {
            vec![NatsServer::start_with_config(&here, Some(extra)).await?]
        } else {
            NatsServer::start_cluster(&here, 3, extra).await?
        };
        let url = servers.iter().map(NatsServer::url).collect::<Vec<_>>().join(",");
        let bus = Bus::connect(&url, &Default::default(), "durability", Default::default(), Default::default()).await?;
        // A cluster elects its JetStream leader after start: wait for it.
        let rate = {
            let mut tries = 0;
            loop {
                match raw::roundtrip_on(&bus, args.messages, true, *replicas).await {
                    Ok(r) => break r,
                    Err(e) if tries < 40 => {
                        tries += 1;
                        tracing::debug!(error = %e, "JetStream not ready yet");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        println!("  {name}: {rate:.0} msgs/s");
        rows.push((*name, rate));
        bus.client().flush().await.ok();
        for s in servers {
            s.stop().await;
        }
    }
    let base = rows.first().map_or(1.0, |r| r.1);
    println!("\n| setting | raw round trip | ratio to the default |\n|---|---|---|");
    for (name, rate) in &rows {
        println!("| {name} | {rate:.0} msgs/s | {:.2} |", rate / base);
    }
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|(n, r)| serde_json::json!({"setting": n, "msgs_per_s": r.round(), "ratio": r / base}))
        .collect();
    println!("{}", serde_json::to_string(&json)?);
    if args.data_dir.is_none() {
        let _ = std::fs::remove_dir_all(&fresh);
    }
    Ok(())
}
