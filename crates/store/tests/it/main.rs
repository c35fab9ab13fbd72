//! Store tests: the same cases on SQLite (the embedded default) and PostgreSQL.

use brygga_domain::{
    reconcile, Call, CallId, CallStatus, ChangeKind, Consent, Language, OrgId, OrgKind, Organisation, Programme,
};
use brygga_store::outbox::OutboxEvent;
use brygga_store::registry::{self, Applied};
use brygga_store::{outbox, recommendations, Store, TransactionTrait};
use brygga_testkit::{Backend, TestDb};
use std::collections::HashMap;

fn org(id: &str, version: u64) -> Organisation {
    Organisation {
        id: OrgId::parse(id).expect("id"),
        version,
        name: format!("Org {id} v{version}"),
        org_number: None,
        kind: OrgKind::Sme,
        size: Default::default(),
        country: None,
        nuts: None,
        municipality: None,
        nace: vec![],
        description: "marine sensors".into(),
        description_language: Language::En,
        keywords: vec![],
        interest_missions: vec![],
        interest_themes: vec![],
        participations: vec![],
        preferred_language: Language::En,
        consent: Consent { contact: true, partner_suggestions: true },
    }
}

fn call(id: &str, version: u64) -> Call {
    Call {
        id: CallId::parse(id).expect("id"),
        version,
        programme: Programme::HorizonEurope,
        title: format!("Call {id}"),
        description: String::new(),
        keywords: vec![],
        action_type: None,
        opening: None,
        deadlines: vec![],
        budget: Default::default(),
        eligible_kinds: None,
        eligible_countries: None,
        min_consortium: None,
        missions: vec![],
        trl: None,
        url: None,
        status: CallStatus::Open,
    }
}

async fn store(backend: Backend) -> (TestDb, Store) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrations are idempotent");
    (db, store)
}

/// Two migrators at once (the Job and a pod, or two Jobs) on a fresh PostgreSQL database: both
/// succeed and the schema is current (an advisory lock serialises them; without it one fails on
/// tables the other is creating).
#[tokio::test]
async fn two_migrators_at_once_are_safe_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let (a, b) = (Store::connect(&db.url).await.expect("a"), Store::connect(&db.url).await.expect("b"));
    let before = a.pending_migrations().await.unwrap_or_default();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.expect("first migrator");
    rb.expect("second migrator");
    assert!(a.pending_migrations().await.expect("pending").is_empty(), "schema current (was {before:?})");
    a.wait_for_schema(std::time::Duration::from_secs(1)).await.expect("a current schema needs no wait");
}

/// A service told not to migrate waits for the schema and reports what is pending if it never comes.
#[tokio::test]
async fn a_service_waits_for_the_schema_and_says_what_is_pending() {
    let db = TestDb::new(Backend::Postgres).await;
    let store = Store::connect(&db.url).await.expect("connect");
    let err = store.wait_for_schema(std::time::Duration::from_secs(1)).await.expect_err("nothing migrated");
    assert!(err.to_string().contains("not current after 1 s"), "{err}");
    let waiting = {
        let store = store.clone();
        tokio::spawn(async move { store.wait_for_schema(std::time::Duration::from_secs(30)).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    Store::connect(&db.url).await.expect("migrator").migrate().await.expect("migrate");
    waiting.await.expect("task").expect("the wait ends once migrated");
}

async fn version_rule_is_deterministic(backend: Backend) {
    let (_db, s) = store(backend).await;
    let db = s.db();
    // An update that arrives before its registration wins; the late registration is stale.
    assert_eq!(registry::put_organisation(db, &org("a", 2)).await.expect("put"), Applied::Applied);
    assert_eq!(registry::put_organisation(db, &org("a", 1)).await.expect("put"), Applied::Stale);
    assert_eq!(registry::put_organisation(db, &org("a", 2)).await.expect("put"), Applied::Stale, "a repeat is stale");
    assert_eq!(registry::put_organisation(db, &org("a", 3)).await.expect("put"), Applied::Applied);
    let orgs = registry::organisations(db).await.expect("load");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].name, "Org a v3");
    // A removal keeps a tombstone; an older registration cannot bring the organisation back.
    let id = OrgId::parse("a").expect("id");
    assert_eq!(registry::remove_organisation(db, &id, 4).await.expect("remove"), Applied::Applied);
    assert_eq!(registry::put_organisation(db, &org("a", 3)).await.expect("put"), Applied::Stale);
    assert!(registry::organisations(db).await.expect("load").is_empty());
    assert_eq!(registry::organisation_version(db, &id).await.expect("version"), Some(4));
    assert_eq!(registry::put_organisation(db, &org("a", 5)).await.expect("put"), Applied::Applied, "a newer one may");

    assert_eq!(registry::put_call(db, &call("C-1", 1)).await.expect("put"), Applied::Applied);
    assert_eq!(registry::close_call(db, &CallId::parse("C-1").expect("id"), 2).await.expect("close"), Applied::Applied);
    assert_eq!(registry::put_call(db, &call("C-1", 1)).await.expect("put"), Applied::Stale);
    assert!(registry::calls(db).await.expect("load").is_empty());
}

use brygga_testkit::fixtures::call_recommendation as rec;

async fn recommendations_and_outbox_commit_together(backend: Backend) {
    let (_db, s) = store(backend).await;
    let o = OrgId::parse("o").expect("id");
    let changes = reconcile(vec![rec("o", "A", 60), rec("o", "B", 50)], vec![], &HashMap::new(), 5, |_| String::new());
    let events: Vec<OutboxEvent> = changes
        .iter()
        .map(|c| OutboxEvent {
            event_id: format!("{}-{}", c.rec.id, c.revision),
            subject: "s".into(),
            event_type: "t".into(),
            payload: "{}".into(),
        })
        .collect();
    let txn = s.db().begin().await.expect("begin");
    recommendations::apply(&txn, &changes).await.expect("apply");
    outbox::enqueue(&txn, &events).await.expect("enqueue");
    outbox::enqueue(&txn, &events).await.expect("enqueue twice is a no-op");
    txn.commit().await.expect("commit");

    let active = recommendations::active_for(s.db(), &o).await.expect("active");
    assert_eq!(active.len(), 2);
    assert_eq!(
        active.iter().find(|p| p.rec.target.id() == "A").map(|p| p.rec.explanation.matched_terms.clone()),
        Some(vec!["hav".into()])
    );
    let pending = outbox::pending(s.db(), "", 10).await.expect("pending");
    assert_eq!(pending.len(), 2, "duplicates were ignored");
    assert!(pending[0].seq < pending[1].seq);

    // Withdraw B: the row turns inactive at revision 2.
    let changes = reconcile(vec![rec("o", "A", 61)], active, &HashMap::new(), 5, |_| "gone".into());
    assert_eq!(changes.iter().map(|c| (c.kind, c.revision)).collect::<Vec<_>>(), vec![(ChangeKind::Withdrawn, 2)]);
    recommendations::apply(s.db(), &changes).await.expect("apply");
    assert_eq!(recommendations::active_for(s.db(), &o).await.expect("active").len(), 1);

    // B wanted again continues at revision 3 (issue 7, bug 2: it restarted at 1).
    let b = rec("o", "B", 50);
    let withdrawn = recommendations::withdrawn_revisions(s.db(), &[b.id]).await.expect("withdrawn");
    assert_eq!(withdrawn.get(&b.id), Some(&2));
    let active = recommendations::active_for(s.db(), &o).await.expect("active");
    let changes = reconcile(vec![rec("o", "A", 61), b], active, &withdrawn, 5, |_| String::new());
    assert_eq!(changes.iter().map(|c| (c.kind, c.revision)).collect::<Vec<_>>(), vec![(ChangeKind::Created, 3)]);

    outbox::mark_published(s.db(), &[pending[0].seq]).await.expect("mark");
    assert_eq!(outbox::backlog(s.db()).await.expect("backlog"), 1);
    assert_eq!(outbox::pending(s.db(), "", 10).await.expect("pending")[0].seq, pending[1].seq);
}

/// The reminder scan reads the active call recommendations whose deadline is in its window,
/// from the deadline column: rows written before the column existed get it from their JSON.
async fn reminders_read_only_the_deadlines_in_their_window(backend: Backend) {
    use brygga_migration::{Migrator, MigratorTrait};
    use chrono::NaiveDate;
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let (_db, s) = store(backend).await;
    let due = |id: &str, deadline: Option<&str>| {
        let mut r = rec("o", id, 60);
        r.deadline = deadline.map(date);
        r
    };
    let recs = vec![
        due("BEFORE", Some("2026-12-07")),
        due("FIRST", Some("2026-12-08")),
        due("LAST", Some("2026-12-21")),
        due("AFTER", Some("2026-12-22")),
        due("NONE", None),
    ];
    let changes = reconcile(recs, vec![], &HashMap::new(), 10, |_| String::new());
    recommendations::apply(s.db(), &changes).await.expect("apply");
    let ids = |v: Vec<brygga_domain::Published>| -> Vec<String> {
        let mut v: Vec<String> = v.into_iter().map(|p| p.rec.target.id().to_owned()).collect();
        v.sort();
        v
    };
    let window = (date("2026-12-08"), date("2026-12-21"));
    let got = recommendations::active_calls_due(s.db(), window.0, window.1).await.expect("due");
    assert_eq!(ids(got), ["FIRST", "LAST"]);
    // Withdrawn ones are not reminded of.
    let active = recommendations::active_for(s.db(), &OrgId::parse("o").expect("id")).await.expect("active");
    let keep: Vec<_> = active.iter().filter(|p| p.rec.target.id() != "FIRST").map(|p| p.rec.clone()).collect();
    let changes = reconcile(keep, active, &HashMap::new(), 10, |_| "gone".into());
    recommendations::apply(s.db(), &changes).await.expect("withdraw");
    let got = recommendations::active_calls_due(s.db(), window.0, window.1).await.expect("due");
    assert_eq!(ids(got), ["LAST"]);
    // Back to the schema before the column and forward again: the backfill reads the JSON.
    Migrator::down(s.db(), Some(1)).await.expect("down");
    Migrator::up(s.db(), None).await.expect("up");
    let got = recommendations::active_calls_due(s.db(), window.0, window.1).await.expect("due");
    assert_eq!(ids(got), ["LAST"], "the backfilled column");
    let got = recommendations::active_calls_due(s.db(), date("2026-12-01"), date("2027-01-01")).await.expect("due");
    assert_eq!(ids(got), ["AFTER", "BEFORE", "LAST"]);
}

macro_rules! on_both {
    ($($name:ident),*) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(brygga_testkit::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name(brygga_testkit::Backend::Postgres).await } )* }
    };
}

on_both!(
    version_rule_is_deterministic,
    recommendations_and_outbox_commit_together,
    reminders_read_only_the_deadlines_in_their_window
);

/// SQLite's WAL is checkpointed by the store's own task, not in the writers' commits: rows
/// committed reach the database file within a few seconds although no commit took the WAL
/// past the connections' own bound (`checkpoint.rs`; with the task gone the file stays as it
/// was until the WAL holds 16,384 pages).
#[tokio::test]
async fn sqlite_checkpoints_the_wal_off_the_writers_path() {
    let (db, store) = store(Backend::Sqlite).await;
    let path = db.url.trim_start_matches("sqlite://").split('?').next().expect("path").to_owned();
    let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await; // the migrations checkpointed
    let before = size(&path);
    let txn = store.db().begin().await.expect("begin");
    for i in 0..300 {
        let mut o = org(&format!("o{i}"), 1);
        o.description = "havsbaserad sensorteknik ".repeat(160); // some 4 KB: a page a row
        registry::put_organisation(&txn, &o).await.expect("put");
    }
    txn.commit().await.expect("commit");
    let grown = 1_000_000;
    assert!(size(&format!("{path}-wal")) > grown, "the commit went to the WAL");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size(&path) < before + grown {
        assert!(
            std::time::Instant::now() < deadline,
            "the WAL was not checkpointed: {} → {} bytes",
            before,
            size(&path)
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// SQLite only. A statement that makes SQLite roll the whole transaction back by itself (as a
/// COMMIT on a full disk does; here a trigger's `RAISE(ROLLBACK)`) leaves the driver's
/// transaction depth one too high on that connection; its next transaction would be a mere
/// savepoint whose rollback keeps the real transaction, and the write lock, open. The pool
/// replaces such a connection, so another writer is never locked out.
#[tokio::test]
async fn a_connection_left_in_a_transaction_is_replaced() {
    use brygga_store::ConnectionTrait;
    let db = TestDb::new(Backend::Sqlite).await;
    let store = Store::connect(&db.url).await.expect("connect");
    let conn = store.db();
    conn.execute_unprepared(
        "CREATE TABLE t (x INTEGER); CREATE TABLE u (x INTEGER);
         CREATE TRIGGER refuse BEFORE INSERT ON t WHEN NEW.x = 0 BEGIN SELECT RAISE(ROLLBACK, 'refused'); END;",
    )
    .await
    .expect("schema");
    let tx = conn.begin().await.expect("begin");
    let refused = tx.execute_unprepared("INSERT INTO t VALUES (0)").await;
    assert!(refused.is_err(), "the trigger refuses and SQLite rolls the transaction back");
    drop(tx);
    // Let the connection go back to the pool, then give a transaction (rolled back) to each
    // connection the pool may hold: the pool hands its idle connections out in turn.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for _ in 0..4 {
        let tx = conn.begin().await.expect("begin again");
        tx.execute_unprepared("INSERT INTO t VALUES (1)").await.expect("insert");
        tx.rollback().await.expect("rollback");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Another writer, on a pool of its own, is not locked out.
    let other = Store::connect(&db.url).await.expect("connect");
    let t = std::time::Instant::now();
    other.db().execute_unprepared("INSERT INTO u VALUES (1)").await.expect("another writer is not locked out");
    assert!(t.elapsed() < std::time::Duration::from_secs(2), "the other writer waited {:?}", t.elapsed());
}
