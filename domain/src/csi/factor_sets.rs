//! Factor-set versions and their lifecycle, behind [`super::CsiService`].
//!
//! A *family* is every version of one set; its id is the first version's id.
//! Only a `DRAFT` changes. `publish` freezes it (the database refuses changes
//! to a non-draft version's factors and scale as well, see migration
//! `m20261123_000006_create_guards`) and makes it the family's *current*
//! version, the previous one becoming `SUPERSEDED`; `revise` starts the next
//! `DRAFT` version from the published one; `archive` retires the whole family. Ratings point to
//! the version they were given under, so a past index never changes.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::csi::types::{
    parse_factors, parse_scale, Factor, FactorSet, FactorSetInput, FactorSetStatus,
    FactorSetUpdate, Label, NewFactor, ValidatedFactorSet,
};
use crate::db::begin_write;
use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::pagination::{key_keyset_page, IdOrder, KeyCursor, Page, PageRequest};
use entity::{csi_factor_sets, csi_factors, surveys};

const NOT_FOUND: &str = "CSI factor set";

fn only_drafts_change(set: &csi_factor_sets::Model) -> DomainError {
    DomainError::conflict(format!(
        "CSI factor set {} version {} is {}; only a DRAFT can change (revise it to make a new draft)",
        set.id, set.version, set.status
    ))
}

/// Creates version 1 of a new set, as a `DRAFT`.
pub(crate) async fn create(
    db: &DatabaseConnection,
    input: FactorSetInput,
) -> DomainResult<FactorSet> {
    let valid = ValidatedFactorSet::try_from(input)?;
    let txn = begin_write(db).await?;
    let now = Utc::now();
    let set = csi_factor_sets::ActiveModel {
        family_id: Set(None),
        name: Set(valid.name.as_ref().to_owned()),
        version: Set(1),
        status: Set(FactorSetStatus::Draft.as_str().to_owned()),
        scale_min: Set(valid.scale.min),
        scale_max: Set(valid.scale.max),
        lock_version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    csi_factor_sets::Entity::update_many()
        .col_expr(csi_factor_sets::Column::FamilyId, Expr::value(set.id))
        .filter(csi_factor_sets::Column::Id.eq(set.id))
        .exec(&txn)
        .await?;
    insert_factors(&txn, set.id, &valid.factors).await?;
    let created = load(&txn, set.id).await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a `DRAFT`: name, scale, and (when given) the whole factor list.
pub(crate) async fn update(
    db: &DatabaseConnection,
    id: i64,
    update: FactorSetUpdate,
) -> DomainResult<FactorSet> {
    let name = update
        .name
        .as_deref()
        .map(|n| Label::parse("name", n))
        .transpose()?;
    let factors = update.factors.as_deref().map(parse_factors).transpose()?;
    let txn = begin_write(db).await?;
    let current = csi_factor_sets::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound(NOT_FOUND))?;
    if current.status != FactorSetStatus::Draft.as_str() {
        return Err(only_drafts_change(&current));
    }
    if current.lock_version != update.lock_version {
        return Err(stale(&current));
    }
    let scale = parse_scale(
        update.scale_min.unwrap_or(current.scale_min),
        update.scale_max.unwrap_or(current.scale_max),
    )?;
    // Compare-and-set on the lock version: of two admins saving the same
    // draft, the second finds no row to update.
    let updated = csi_factor_sets::Entity::update_many()
        .col_expr(
            csi_factor_sets::Column::Name,
            Expr::value(name.map_or(current.name.clone(), |n| n.as_ref().to_owned())),
        )
        .col_expr(csi_factor_sets::Column::ScaleMin, Expr::value(scale.min))
        .col_expr(csi_factor_sets::Column::ScaleMax, Expr::value(scale.max))
        .col_expr(csi_factor_sets::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            csi_factor_sets::Column::LockVersion,
            Expr::col(csi_factor_sets::Column::LockVersion).add(1),
        )
        .filter(csi_factor_sets::Column::Id.eq(id))
        .filter(csi_factor_sets::Column::LockVersion.eq(update.lock_version))
        .filter(csi_factor_sets::Column::Status.eq(FactorSetStatus::Draft.as_str()))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale(&current));
    }
    if let Some(factors) = factors {
        csi_factors::Entity::delete_many()
            .filter(csi_factors::Column::FactorSetId.eq(id))
            .exec(&txn)
            .await?;
        insert_factors(&txn, id, &factors).await?;
    }
    let saved = load(&txn, id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Publishes a `DRAFT`: from now on it is frozen, ratings may point to it,
/// and it is its family's current version; the previous current version
/// becomes `SUPERSEDED`.
pub(crate) async fn publish(db: &DatabaseConnection, id: i64) -> DomainResult<FactorSet> {
    let txn = begin_write(db).await?;
    let current = csi_factor_sets::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound(NOT_FOUND))?;
    if current.status != FactorSetStatus::Draft.as_str() {
        return Err(DomainError::conflict(format!(
            "CSI factor set {} version {} is already {}",
            current.id, current.version, current.status
        )));
    }
    let now = Utc::now();
    // The family's published version, if any, is replaced by this one: it
    // becomes SUPERSEDED first, so the family never has two (the partial
    // unique index `uq_csi_factor_sets_one_published` holds the rule).
    csi_factor_sets::Entity::update_many()
        .col_expr(
            csi_factor_sets::Column::Status,
            Expr::value(FactorSetStatus::Superseded.as_str()),
        )
        .col_expr(csi_factor_sets::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            csi_factor_sets::Column::LockVersion,
            Expr::col(csi_factor_sets::Column::LockVersion).add(1),
        )
        .filter(csi_factor_sets::Column::FamilyId.eq(current.family_id.unwrap_or(current.id)))
        .filter(csi_factor_sets::Column::Status.eq(FactorSetStatus::Published.as_str()))
        .exec(&txn)
        .await?;
    let updated = csi_factor_sets::Entity::update_many()
        .col_expr(
            csi_factor_sets::Column::Status,
            Expr::value(FactorSetStatus::Published.as_str()),
        )
        .col_expr(csi_factor_sets::Column::PublishedAt, Expr::value(now))
        .col_expr(csi_factor_sets::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            csi_factor_sets::Column::LockVersion,
            Expr::col(csi_factor_sets::Column::LockVersion).add(1),
        )
        .filter(csi_factor_sets::Column::Id.eq(id))
        .filter(csi_factor_sets::Column::Status.eq(FactorSetStatus::Draft.as_str()))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(DomainError::conflict(
            "the CSI factor set changed meanwhile; reload it",
        ));
    }
    let published = load(&txn, id).await?;
    txn.commit().await?;
    Ok(published)
}

/// Starts the next `DRAFT` version of a published set, copying its name,
/// scale and factors.
pub(crate) async fn revise(db: &DatabaseConnection, id: i64) -> DomainResult<FactorSet> {
    let txn = begin_write(db).await?;
    let source = load_optional(&txn, id)
        .await?
        .ok_or(DomainError::NotFound(NOT_FOUND))?;
    if source.status != FactorSetStatus::Published {
        return Err(DomainError::conflict(format!(
            "CSI factor set {} version {} is {}; only a PUBLISHED version can be revised",
            source.id, source.version, source.status
        )));
    }
    let family = csi_factor_sets::Entity::find()
        .filter(csi_factor_sets::Column::FamilyId.eq(source.family_id))
        .all(&txn)
        .await?;
    if let Some(draft) = family
        .iter()
        .find(|s| s.status == FactorSetStatus::Draft.as_str())
    {
        return Err(DomainError::conflict(format!(
            "version {} (id {}) of this CSI factor set is already a draft; edit it instead",
            draft.version, draft.id
        )));
    }
    let next_version = family.iter().map(|s| s.version).max().unwrap_or(0) + 1;
    let now = Utc::now();
    let draft = csi_factor_sets::ActiveModel {
        family_id: Set(Some(source.family_id)),
        name: Set(source.name.clone()),
        version: Set(next_version),
        status: Set(FactorSetStatus::Draft.as_str().to_owned()),
        scale_min: Set(source.scale.min),
        scale_max: Set(source.scale.max),
        lock_version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .on_unique("this CSI factor set already has a draft; edit it instead")?;
    let rows = source.factors.iter().map(|f| csi_factors::ActiveModel {
        factor_set_id: Set(draft.id),
        key: Set(f.key.clone()),
        label: Set(f.label.clone()),
        weight: Set(f.weight.to_string()),
        position: Set(f.position),
        ..Default::default()
    });
    csi_factors::Entity::insert_many(rows).exec(&txn).await?;
    let revised = load(&txn, draft.id).await?;
    txn.commit().await?;
    Ok(revised)
}

/// Archives every version of the set's family (drafts included).
pub(crate) async fn archive(db: &DatabaseConnection, id: i64) -> DomainResult<FactorSet> {
    let txn = begin_write(db).await?;
    let set = csi_factor_sets::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound(NOT_FOUND))?;
    let family_id = set.family_id.unwrap_or(set.id);
    let versions: Vec<i64> = csi_factor_sets::Entity::find()
        .select_only()
        .column(csi_factor_sets::Column::Id)
        .filter(csi_factor_sets::Column::FamilyId.eq(family_id))
        .into_tuple()
        .all(&txn)
        .await?;
    let active = surveys::Entity::find()
        .filter(surveys::Column::FactorSetId.is_in(versions))
        .filter(surveys::Column::Status.eq("ACTIVE"))
        .count(&txn)
        .await?;
    if active > 0 {
        return Err(DomainError::conflict(format!(
            "{active} active survey(s) use this CSI factor set; close them before archiving it"
        )));
    }
    let now = Utc::now();
    csi_factor_sets::Entity::update_many()
        .col_expr(
            csi_factor_sets::Column::Status,
            Expr::value(FactorSetStatus::Archived.as_str()),
        )
        .col_expr(csi_factor_sets::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            csi_factor_sets::Column::LockVersion,
            Expr::col(csi_factor_sets::Column::LockVersion).add(1),
        )
        .filter(csi_factor_sets::Column::FamilyId.eq(family_id))
        .filter(csi_factor_sets::Column::Status.ne(FactorSetStatus::Archived.as_str()))
        .exec(&txn)
        .await?;
    let archived = load(&txn, id).await?;
    txn.commit().await?;
    Ok(archived)
}

fn listed(status: Option<FactorSetStatus>) -> sea_orm::Select<csi_factor_sets::Entity> {
    let query = csi_factor_sets::Entity::find();
    match status {
        Some(status) => query.filter(csi_factor_sets::Column::Status.eq(status.as_str())),
        None => query,
    }
}

/// A page of versions, optionally of one status, by family then version (a
/// later version of a family always has a larger id).
pub(crate) async fn page(
    db: &DatabaseConnection,
    status: Option<FactorSetStatus>,
    request: &PageRequest<KeyCursor<i64>>,
) -> DomainResult<Page<FactorSet>> {
    key_keyset_page(
        db,
        listed(status),
        csi_factor_sets::Column::FamilyId,
        csi_factor_sets::Column::Id,
        IdOrder::Ascending,
        request,
        |sets| with_factors(db, sets),
        |s: &FactorSet| KeyCursor {
            k: s.family_id,
            id: s.id,
        },
    )
    .await
}

/// How many versions there are, optionally of one status.
pub(crate) async fn count(
    db: &DatabaseConnection,
    status: Option<FactorSetStatus>,
) -> DomainResult<i64> {
    let n = listed(status).count(db).await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Versions by id with their factors (two statements): the batch function
/// behind links to a version. Missing ids are absent from the map.
///
/// # Errors
/// Database failures.
pub async fn factor_sets_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, FactorSet>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sets = csi_factor_sets::Entity::find()
        .filter(csi_factor_sets::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(with_factors(db, sets)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

fn stale(current: &csi_factor_sets::Model) -> DomainError {
    DomainError::conflict(format!(
        "CSI factor set {} was changed by someone else (lockVersion is now {}); reload it and retry",
        current.id, current.lock_version
    ))
}

async fn insert_factors(
    db: &impl ConnectionTrait,
    set_id: i64,
    factors: &[NewFactor],
) -> DomainResult<()> {
    let rows = factors
        .iter()
        .zip(0..)
        .map(|(f, position)| csi_factors::ActiveModel {
            factor_set_id: Set(set_id),
            key: Set(f.key.as_ref().to_owned()),
            label: Set(f.label.as_ref().to_owned()),
            weight: Set(f.weight.value().to_string()),
            position: Set(position),
            ..Default::default()
        });
    csi_factors::Entity::insert_many(rows)
        .exec(db)
        .await
        .on_unique("factor keys must be unique")?;
    Ok(())
}

/// Loads one version with its factors, if it exists.
///
/// # Errors
/// Database failures.
pub async fn load_optional(db: &impl ConnectionTrait, id: i64) -> DomainResult<Option<FactorSet>> {
    let Some(set) = csi_factor_sets::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let factors = csi_factors::Entity::find()
        .filter(csi_factors::Column::FactorSetId.eq(id))
        .all(db)
        .await?;
    FactorSet::from_rows(set, factors).map(Some)
}

/// One factor, with the weight normalised over its version; or `None`.
///
/// # Errors
/// Database failures.
pub async fn factor(db: &impl ConnectionTrait, id: i64) -> DomainResult<Option<Factor>> {
    let Some(row) = csi_factors::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let set = load_optional(db, row.factor_set_id).await?;
    Ok(set.and_then(|s| s.factors.into_iter().find(|f| f.id == id)))
}

/// Loads one version with its factors.
///
/// # Errors
/// `NOT_FOUND`; database failures.
pub async fn load(db: &impl ConnectionTrait, id: i64) -> DomainResult<FactorSet> {
    load_optional(db, id)
        .await?
        .ok_or(DomainError::NotFound(NOT_FOUND))
}

/// Attaches factors to set rows with one query.
async fn with_factors(
    db: &impl ConnectionTrait,
    sets: Vec<csi_factor_sets::Model>,
) -> DomainResult<Vec<FactorSet>> {
    if sets.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = sets.iter().map(|s| s.id).collect();
    let mut by_set: HashMap<i64, Vec<csi_factors::Model>> = HashMap::new();
    for factor in csi_factors::Entity::find()
        .filter(csi_factors::Column::FactorSetId.is_in(ids))
        .all(db)
        .await?
    {
        by_set.entry(factor.factor_set_id).or_default().push(factor);
    }
    sets.into_iter()
        .map(|s| {
            let factors = by_set.remove(&s.id).unwrap_or_default();
            FactorSet::from_rows(s, factors)
        })
        .collect()
}

/// The current version among a family's versions: the `PUBLISHED` one
/// (there is at most one), which new surveys bind to.
pub fn current(versions: &[FactorSet]) -> Option<&FactorSet> {
    versions
        .iter()
        .filter(|v| v.status == FactorSetStatus::Published)
        .max_by_key(|v| v.version)
}

/// Every version of each family, by version, in two queries: the batch
/// function behind the `versions` field.
///
/// # Errors
/// Database failures.
pub async fn versions_of_families(
    db: &impl ConnectionTrait,
    family_ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<FactorSet>>> {
    let mut out: HashMap<i64, Vec<FactorSet>> = HashMap::new();
    if family_ids.is_empty() {
        return Ok(out);
    }
    let sets = csi_factor_sets::Entity::find()
        .filter(csi_factor_sets::Column::FamilyId.is_in(family_ids.iter().copied()))
        .order_by_asc(csi_factor_sets::Column::Version)
        .all(db)
        .await?;
    for set in with_factors(db, sets).await? {
        out.entry(set.family_id).or_default().push(set);
    }
    Ok(out)
}
