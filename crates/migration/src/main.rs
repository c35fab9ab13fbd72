//! `brygga-migrate`: applies pending migrations to `DATABASE_URL` and exits (a Kubernetes Job).

use anyhow::Context;
use brygga_migration::{Migrator, MigratorTrait};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set (postgres://… or sqlite://…?mode=rwc)")?;
    let db = sea_orm_migration::sea_orm::Database::connect(&url).await.context("connecting to the database")?;
    Migrator::up(&db, None).await.context("applying migrations")?;
    println!("migrations applied");
    Ok(())
}
