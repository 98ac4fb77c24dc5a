//! Factor ratings: storage against a published factor-set version, and the
//! index of one response.
//!
//! The surveys area calls [`record`] inside its submission transaction; tests
//! and imports may call it with no response. Each rating row keeps the version
//! id it was given under, so a later revision never changes its weight.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::csi::compute::{self, CsiValue};
use crate::csi::factor_sets::load_optional;
use crate::csi::types::{FactorSet, FactorSetStatus};
use crate::error::{DomainError, DomainResult};
use entity::csi_ratings;

/// Checks `ratings` (`(factor key, rating)` pairs) against `set` and returns
/// each rated factor's id with its rating, in input order.
///
/// # Errors
/// `BAD_USER_INPUT` on `ratings.<i>.factorKey` for an unknown or repeated key,
/// on `ratings.<i>.rating` for a rating outside the set's scale.
fn resolve<K: AsRef<str>>(set: &FactorSet, ratings: &[(K, i32)]) -> DomainResult<Vec<(i64, i32)>> {
    let mut out: Vec<(i64, i32)> = Vec::with_capacity(ratings.len());
    for (i, (key, rating)) in ratings.iter().enumerate() {
        let key = key.as_ref();
        let factor = set.factor(key).ok_or_else(|| {
            DomainError::validation(
                format!("ratings.{i}.factorKey"),
                format!("{key:?} is not a factor of this CSI factor set"),
            )
        })?;
        if out.iter().any(|(id, _)| *id == factor.id) {
            return Err(DomainError::validation(
                format!("ratings.{i}.factorKey"),
                format!("{key:?} is rated twice"),
            ));
        }
        if !(set.scale.min..=set.scale.max).contains(rating) {
            return Err(DomainError::validation(
                format!("ratings.{i}.rating"),
                format!("must be between {} and {}", set.scale.min, set.scale.max),
            ));
        }
        out.push((factor.id, *rating));
    }
    Ok(out)
}

/// The CSI of one response (SPEC §5): `100 · Σ wᵢ·(xᵢ − min)/(max − min) / Σ wᵢ`
/// over the factors answered, so weights are renormalised over them, and the
/// weighted mean on the original scale. No ratings gives `None`.
///
/// # Errors
/// `BAD_USER_INPUT` as [`record`].
pub fn response_index<K: AsRef<str>>(
    set: &FactorSet,
    ratings: &[(K, i32)],
) -> DomainResult<Option<CsiValue>> {
    let resolved = resolve(set, ratings)?;
    Ok(index_of(set, &resolved))
}

fn index_of(set: &FactorSet, resolved: &[(i64, i32)]) -> Option<CsiValue> {
    let pairs: Vec<(Decimal, Option<Decimal>)> = set
        .factors
        .iter()
        .map(|f| {
            let rating = resolved
                .iter()
                .find(|(id, _)| *id == f.id)
                .map(|(_, r)| Decimal::from(*r));
            (f.weight, rating)
        })
        .collect();
    compute::index(set.scale, &pairs)
}

/// Stores one response's factor ratings against the `PUBLISHED` (or
/// `SUPERSEDED`) version
/// `factor_set_id`, all at `rated_at`, and returns the response's CSI
/// (`None` when `ratings` is empty; nothing is stored then).
///
/// Runs on the caller's connection or transaction, in one multi-row insert.
///
/// # Errors
/// `NOT_FOUND` for an unknown set; `CONFLICT` unless it is `PUBLISHED`;
/// `BAD_USER_INPUT` on `ratings.<i>.factorKey` (unknown or repeated key) or
/// `ratings.<i>.rating` (outside the scale). Nothing is written on error.
#[tracing::instrument(skip(db, ratings), fields(count = ratings.len()))]
pub async fn record<K: AsRef<str>>(
    db: &impl ConnectionTrait,
    factor_set_id: i64,
    response_id: Option<i64>,
    customer_id: Option<i64>,
    rated_at: DateTime<Utc>,
    ratings: &[(K, i32)],
) -> DomainResult<Option<CsiValue>> {
    let set = load_optional(db, factor_set_id)
        .await?
        .ok_or(DomainError::NotFound("CSI factor set"))?;
    // A superseded version still takes ratings: surveys bound to it before
    // the revision was published keep working until they close.
    if !matches!(
        set.status,
        FactorSetStatus::Published | FactorSetStatus::Superseded
    ) {
        return Err(DomainError::conflict(format!(
            "CSI factor set {} version {} is {}; ratings need a PUBLISHED (or SUPERSEDED) version",
            set.id, set.version, set.status
        )));
    }
    let resolved = resolve(&set, ratings)?;
    if resolved.is_empty() {
        return Ok(None);
    }
    let rows = resolved
        .iter()
        .map(|(factor_id, rating)| csi_ratings::ActiveModel {
            factor_set_id: Set(factor_set_id),
            factor_id: Set(*factor_id),
            response_id: Set(response_id),
            customer_id: Set(customer_id),
            rating: Set(*rating),
            rated_at: Set(rated_at),
            ..Default::default()
        });
    csi_ratings::Entity::insert_many(rows).exec(db).await?;
    Ok(index_of(&set, &resolved))
}
