//! `brygga import-topics`: publishes Funding & Tenders topic exports as call events, with a
//! progress bar and a summary. Invalid lines are reported (file, line, reason) and skipped.

use crate::ft_topics;
use anyhow::Context;
use brygga_bus::Bus;
use brygga_events::{subject, types, CloudEvent};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Topic files (JSON lines, as exported from the Funding & Tenders Portal).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Version given to every imported call (must grow between imports; default: now, in seconds).
    #[arg(long)]
    pub version: Option<u64>,
    /// Check the files without publishing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
    pub published: usize,
    pub duplicates: usize,
    pub invalid: Vec<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} calls published, {} already known (duplicates), {} invalid lines",
            self.published,
            self.duplicates,
            self.invalid.len()
        )?;
        for i in self.invalid.iter().take(10) {
            write!(f, "\n  - {i}")?;
        }
        if self.invalid.len() > 10 {
            write!(f, "\n  … and {} more", self.invalid.len() - 10)?;
        }
        Ok(())
    }
}

/// Reads and validates every line of the files: calls ready to publish, and the invalid ones.
pub fn read(files: &[PathBuf], version: u64) -> anyhow::Result<(Vec<brygga_events::CallV1>, Vec<String>)> {
    let (mut calls, mut invalid) = (Vec::new(), Vec::new());
    for file in files {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let at = |m: String| format!("{}:{}: {m}", file.display(), n + 1);
            let parsed = serde_json::from_str::<serde_json::Value>(line).map_err(|e| at(format!("not JSON: {e}")));
            let call = parsed.and_then(|v| ft_topics::to_call(&v, version).map_err(at));
            match call.and_then(|c| {
                c.clone().into_domain().map(|_| c).map_err(|e| format!("{}:{}: {e}", file.display(), n + 1))
            }) {
                Ok(c) => calls.push(c),
                Err(e) => invalid.push(e),
            }
        }
    }
    Ok((calls, invalid))
}

/// Publishes the calls of `files` as `call.published` events.
pub async fn import(bus: &Bus, files: &[PathBuf], version: u64, show_progress: bool) -> anyhow::Result<Summary> {
    let (calls, invalid) = read(files, version)?;
    let mut summary = Summary { invalid, ..Summary::default() };
    let bar = if show_progress { ProgressBar::new(calls.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} calls {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let to = subject::inbound_call(bus.prefix(), "published");
    for c in calls {
        let id = format!("ft-{}-v{}", c.id, c.version);
        let ev = CloudEvent::new(
            id,
            "urn:brygga:import:ft-topics",
            types::CALL_PUBLISHED,
            Some(c.id.clone()),
            chrono::Utc::now(),
            &c,
        );
        let ack = bus.publish_event(&to, &ev).await?;
        if ack.duplicate {
            summary.duplicates += 1;
        } else {
            summary.published += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(summary)
}

pub fn default_version() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(1)
}
