//! A call recommendation's deadline as a column of its own, so that the daily reminder scan
//! reads the recommendations whose deadline is near (an index range) instead of decoding every
//! active one. Rows written before this migration get theirs from the stored JSON.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Recommendations {
    Table,
    TargetKind,
    Active,
    Deadline,
}

const INDEX: &str = "idx_recommendations_deadline";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Recommendations::Table)
                .add_column(ColumnDef::new(Recommendations::Deadline).string_len(10).null())
                .to_owned(),
        )
        .await?;
        // ISO dates (`YYYY-MM-DD`) order as strings, on both backends.
        let backfill = match m.get_database_backend() {
            DbBackend::Postgres => {
                "UPDATE recommendations SET deadline = (data::json)->>'deadline' WHERE target_kind = 'call'"
            }
            _ => "UPDATE recommendations SET deadline = json_extract(data, '$.deadline') WHERE target_kind = 'call'",
        };
        m.get_connection().execute_unprepared(backfill).await?;
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(Recommendations::Table)
                .col(Recommendations::TargetKind)
                .col(Recommendations::Active)
                .col(Recommendations::Deadline)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table(Recommendations::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Recommendations::Table).drop_column(Recommendations::Deadline).to_owned())
            .await
    }
}
