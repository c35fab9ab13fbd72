//! Feedback on recommendations: one row per recommendation (versioned), with what it excludes
//! (the matcher loads the dismissals at start) and the reason in the organisation's words
//! (erased with the organisation).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Feedback {
    Table,
    RecommendationId,
    OrgId,
    TargetKind,
    TargetId,
    Version,
    Kind,
    Reason,
    Fingerprint,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Feedback::Table)
                .if_not_exists()
                .col(ColumnDef::new(Feedback::RecommendationId).string().not_null().primary_key())
                .col(ColumnDef::new(Feedback::OrgId).string().not_null())
                .col(ColumnDef::new(Feedback::TargetKind).string().not_null())
                .col(ColumnDef::new(Feedback::TargetId).string().not_null())
                .col(ColumnDef::new(Feedback::Version).big_integer().not_null())
                .col(ColumnDef::new(Feedback::Kind).string().not_null())
                .col(ColumnDef::new(Feedback::Reason).text().null())
                .col(ColumnDef::new(Feedback::Fingerprint).string().null())
                .col(ColumnDef::new(Feedback::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_feedback_org")
                .table(Feedback::Table)
                .col(Feedback::OrgId)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Feedback::Table).to_owned()).await
    }
}
