//! Who holds a target: the matcher asks it for every changed call or partner and for the
//! sweep's expired calls; without an index each question scanned every recommendation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Recommendations {
    Table,
    TargetKind,
    TargetId,
    Active,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_recommendations_target_active")
                .table(Recommendations::Table)
                .col(Recommendations::TargetKind)
                .col(Recommendations::TargetId)
                .col(Recommendations::Active)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("idx_recommendations_target_active").table(Recommendations::Table).to_owned())
            .await
    }
}
