use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    Version,
    Removed,
    Data,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Calls {
    Table,
    Id,
    Version,
    Closed,
    Data,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Recommendations {
    Table,
    Id,
    OrgId,
    TargetKind,
    TargetId,
    Revision,
    Active,
    Score,
    Data,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Seq,
    EventId,
    Subject,
    EventType,
    Payload,
    CreatedAt,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organisations::Table)
                .if_not_exists()
                .col(ColumnDef::new(Organisations::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Organisations::Version).big_integer().not_null())
                .col(ColumnDef::new(Organisations::Removed).boolean().not_null())
                .col(ColumnDef::new(Organisations::Data).text().null())
                .col(ColumnDef::new(Organisations::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Calls::Table)
                .if_not_exists()
                .col(ColumnDef::new(Calls::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Calls::Version).big_integer().not_null())
                .col(ColumnDef::new(Calls::Closed).boolean().not_null())
                .col(ColumnDef::new(Calls::Data).text().null())
                .col(ColumnDef::new(Calls::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Recommendations::Table)
                .if_not_exists()
                .col(ColumnDef::new(Recommendations::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Recommendations::OrgId).string().not_null())
                .col(ColumnDef::new(Recommendations::TargetKind).string().not_null())
                .col(ColumnDef::new(Recommendations::TargetId).string().not_null())
                .col(ColumnDef::new(Recommendations::Revision).integer().not_null())
                .col(ColumnDef::new(Recommendations::Active).boolean().not_null())
                .col(ColumnDef::new(Recommendations::Score).integer().not_null())
                .col(ColumnDef::new(Recommendations::Data).text().not_null())
                .col(ColumnDef::new(Recommendations::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recommendations_org_active")
                .table(Recommendations::Table)
                .col(Recommendations::OrgId)
                .col(Recommendations::Active)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .if_not_exists()
                .col(ColumnDef::new(Outbox::Seq).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(Outbox::EventId).string().not_null().unique_key())
                .col(ColumnDef::new(Outbox::Subject).string().not_null())
                .col(ColumnDef::new(Outbox::EventType).string().not_null())
                .col(ColumnDef::new(Outbox::Payload).text().not_null())
                .col(ColumnDef::new(Outbox::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Outbox::PublishedAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_outbox_unpublished")
                .table(Outbox::Table)
                .col(Outbox::PublishedAt)
                .col(Outbox::Seq)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Outbox::Table.into_iden(),
            Recommendations::Table.into_iden(),
            Calls::Table.into_iden(),
            Organisations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
