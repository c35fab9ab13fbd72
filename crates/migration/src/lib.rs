//! Database migrations for Brygga (PostgreSQL and SQLite), runnable on their own as the
//! `brygga-migrate` binary (a Kubernetes Job) or by `brygga migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261130_000001_init;
mod m20261201_000002_target_index;
mod m20261202_000003_notify;
mod m20261202_000004_feedback;
mod m20261207_000005_rec_deadline;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261130_000001_init::Migration),
            Box::new(m20261201_000002_target_index::Migration),
            Box::new(m20261202_000003_notify::Migration),
            Box::new(m20261202_000004_feedback::Migration),
            Box::new(m20261207_000005_rec_deadline::Migration),
        ]
    }
}
