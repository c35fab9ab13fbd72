//! `brygga eval`: match quality on a benchmark set, Brygga beside the BM25 baseline.

use anyhow::Context;
use brygga_eval::{evaluate, EvalSet, Options, Scores, Task};
use brygga_runtime::Config;
use chrono::NaiveDate;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A benchmark set directory (calls.jsonl, orgs.jsonl, missions.jsonl, gold*.jsonl).
    pub set_dir: PathBuf,
    /// Write Brygga's rankings (top 100 per query, no floor) as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub run: Option<PathBuf>,
    /// Skip the BM25 baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Apply deadlines as of this date (by default the set defines the candidates).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// Also cross-validate the ranking weights over K folds of the queries and report the folds.
    #[arg(long, value_name = "K")]
    pub cv: Option<usize>,
}

pub fn run(cfg: &Config, args: EvalArgs) -> anyhow::Result<()> {
    let set = EvalSet::load(&args.set_dir)?;
    let (catalogue, _) = brygga_domain::Catalogue::shipped();
    let opts = Options { as_of: args.as_of, ranker: cfg.ranker.clone(), catalogue, baseline: !args.no_baseline };
    let outcome = evaluate(&set, &opts)?;
    if let Some(path) = &args.run {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        for r in &outcome.runs {
            let n = r.ranking.len().min(brygga_eval::RUN_DEPTH);
            let line = serde_json::json!({"task": r.task, "query_id": r.query_id, "ranking": &r.ranking[..n], "scores": &r.scores[..n]});
            writeln!(f, "{line}")?;
        }
        f.flush()?;
        println!("run file: {} ({} rankings)", path.display(), outcome.runs.len());
    }
    println!(
        "set {}: {} organisations, {} calls, {} missions",
        set.name,
        set.orgs.len(),
        set.calls.len(),
        set.missions.as_ref().map_or(0, Vec::len)
    );
    if let Some(n) = outcome.org_call_empty_under_floor {
        println!(
            "org → call: {n} of {} organisations would get no call above the relevance floor ({})",
            set.orgs.len(),
            outcome.floor
        );
    }
    if outcome.scores.is_empty() {
        println!("no gold file: rankings only");
    } else {
        print_table(&outcome.scores);
    }
    let cv = args.cv.map(|k| brygga_eval::cross_validate(&set, &Options { baseline: false, ..opts.clone() }, k));
    for report in cv.iter().flatten() {
        println!("cross-validation, {}: {} folds, weights chosen on the other folds", report.task, report.folds.len());
        for f in &report.folds {
            println!(
                "  fold {} ({} queries): chose {}; train nDCG@10 {:.3}, held-out nDCG@10 {:.3}",
                f.fold, f.test_queries, f.chosen, f.train_ndcg_at_10, f.test_ndcg_at_10
            );
        }
        println!("  cross-validated nDCG@10 = {:.3}", report.cv_ndcg_at_10);
    }
    let mut line = summary(&outcome);
    if let Some(cv) = cv {
        line["cross_validation"] = serde_json::to_value(cv)?;
    }
    println!("{}", serde_json::to_string(&line)?);
    Ok(())
}

fn print_table(scores: &[Scores]) {
    println!(
        "{:<13} {:<7} {:>7} {:>9} {:>7} {:>8} {:>7} {:>7} {:>9}",
        "task", "system", "queries", "Recall@10", "MRR", "nDCG@10", "MAP", "top-1", "ms/query"
    );
    for task in [Task::OrgCall, Task::OrgMission, Task::CallMission] {
        let rows: Vec<&Scores> = scores.iter().filter(|s| s.task == task).collect();
        for s in &rows {
            let opt = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.3}"));
            println!(
                "{:<13} {:<7} {:>7} {:>9.3} {:>7.3} {:>8.3} {:>7} {:>7} {:>9.3}",
                task.as_str(),
                s.system,
                s.queries,
                s.recall_at_10,
                s.mrr,
                s.ndcg_at_10,
                opt(s.map),
                opt(s.top1_accuracy),
                s.ms_per_query
            );
        }
        if let (Some(b), Some(l)) =
            (rows.iter().find(|s| s.system == "brygga"), rows.iter().find(|s| s.system == "bm25"))
        {
            if l.ndcg_at_10 > 0.0 {
                println!(
                    "{:<13} {:<7} nDCG@10 ratio brygga / bm25 = {:.2}",
                    task.as_str(),
                    "ratio",
                    b.ndcg_at_10 / l.ndcg_at_10
                );
            }
        }
        for s in rows.iter().filter(|s| !s.per_mission_ndcg_at_10.is_empty()) {
            let per: Vec<String> = s.per_mission_ndcg_at_10.iter().map(|(m, v)| format!("{m} {v:.3}")).collect();
            println!("{:<13} {:<7} per mission nDCG@10: {}", task.as_str(), s.system, per.join(", "));
        }
    }
}

fn summary(o: &brygga_eval::Outcome) -> serde_json::Value {
    let mut tasks = serde_json::Map::new();
    for s in &o.scores {
        let entry = tasks.entry(s.task.as_str()).or_insert_with(|| serde_json::json!({}));
        entry[s.system.as_str()] = serde_json::to_value(s).unwrap_or_default();
    }
    serde_json::json!({"set": o.set, "floor": o.floor, "org_call_empty_under_floor": o.org_call_empty_under_floor, "tasks": tasks})
}
