//! Matcher replicas as an operator runs them: `brygga serve --role matcher` processes sharing
//! four partitions over a real nats-server and PostgreSQL (issue 10). One run has one matcher;
//! the other has two, one of them killed with SIGKILL in the middle of the burst. Both must end
//! as a clean index of the same registry would have them, none published twice, the consumers'
//! view equal to the store, and with the same recommendations as each other.

use crate::cluster::{assert_like_a_clean_run, clean_run, expected_registry, workload, Cluster};
use brygga_testkit::{Backend, TestDb};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const PARTITIONS: u16 = 4;
const ORGS: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_matcher_replicas_end_as_one_and_a_killed_one_is_taken_over() {
    let nats = brygga_testkit::nats().await;

    let db = TestDb::new(Backend::Postgres).await;
    let mut one = Cluster::new(&nats.url(), &db.url, PARTITIONS).await;
    one.start("ingest", "ingest");
    one.start("solo", "matcher");
    one.wait_for_owners(&BTreeSet::from(["solo"])).await;
    let (first, rest) = workload(&one.prefix, ORGS);
    one.publish(&first).await;
    one.publish(&rest).await;
    one.settle().await;
    let expected = expected_registry(&[first, rest].concat());
    let reference = one.active().await;
    assert_like_a_clean_run(&reference, &clean_run(expected));
    one.stop();

    let db = TestDb::new(Backend::Postgres).await;
    let mut two = Cluster::new(&nats.url(), &db.url, PARTITIONS).await;
    two.start("ingest", "ingest");
    two.start("a", "matcher");
    two.start("b", "matcher");
    two.wait_for_owners(&BTreeSet::from(["a", "b"])).await;
    let (first, rest) = workload(&two.prefix, ORGS);
    two.publish(&first).await;
    // Mid-burst: once recommendations flow, and while work is still pending.
    let deadline = Instant::now() + Duration::from_secs(30);
    while two.recommendations_published().await == 0 {
        assert!(Instant::now() < deadline, "no recommendation within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    two.kill("a");
    two.publish(&rest).await;
    two.wait_for_owners(&BTreeSet::from(["b"])).await;
    two.settle().await;
    let survived = two.active().await;
    assert_like_a_clean_run(&survived, &clean_run(expected_registry(&[first, rest].concat())));
    two.stop();
    assert_eq!(
        survived.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>(),
        "two replicas, one killed, end with one replica's recommendations"
    );
}
