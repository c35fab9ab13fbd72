//! The notification service's state: each organisation's preferences (versioned like the
//! registry; the address is contact data, erased with the organisation) and every message
//! planned, with its delivery state (the key of "at most once per organisation,
//! recommendation and kind").

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Preferences {
    Table,
    OrgId,
    Version,
    Data,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    OrgId,
    RecommendationId,
    Kind,
    Status,
    Reason,
    DueAt,
    Attempts,
    NextAttemptAt,
    SentAt,
    MessageId,
    Data,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Preferences::Table)
                .if_not_exists()
                .col(ColumnDef::new(Preferences::OrgId).string().not_null().primary_key())
                .col(ColumnDef::new(Preferences::Version).big_integer().not_null())
                .col(ColumnDef::new(Preferences::Data).text().null())
                .col(ColumnDef::new(Preferences::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .if_not_exists()
                .col(ColumnDef::new(Notifications::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Notifications::OrgId).string().not_null())
                .col(ColumnDef::new(Notifications::RecommendationId).string().not_null())
                .col(ColumnDef::new(Notifications::Kind).string().not_null())
                .col(ColumnDef::new(Notifications::Status).string().not_null())
                .col(ColumnDef::new(Notifications::Reason).string().null())
                .col(ColumnDef::new(Notifications::DueAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Notifications::Attempts).integer().not_null())
                .col(ColumnDef::new(Notifications::NextAttemptAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Notifications::SentAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Notifications::MessageId).string().null())
                .col(ColumnDef::new(Notifications::Data).text().not_null())
                .col(ColumnDef::new(Notifications::CreatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notifications_status_next")
                .table(Notifications::Table)
                .col(Notifications::Status)
                .col(Notifications::NextAttemptAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notifications_recommendation")
                .table(Notifications::Table)
                .col(Notifications::RecommendationId)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Notifications::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Preferences::Table).to_owned()).await
    }
}
