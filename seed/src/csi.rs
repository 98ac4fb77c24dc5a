//! Demo data for the csi area: the ACSI-style set in two versions (version
//! 2, current, weighs quality more and complaints less; publishing it made
//! version 1 SUPERSEDED), and SPEC §5's airline example. The feedback area's demo seeds ratings through survey responses.

use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;

use domain::auth::{Actor, Role};
use domain::csi::{presets, CsiService, FactorInput, FactorSetInput, FactorSetUpdate};
use domain::error::DomainResult;

/// Name of the demo's ACSI-style set (both versions).
pub const ACSI_SET_NAME: &str = "Customer experience (ACSI drivers)";
/// Name of the demo's airline set.
pub const AIRLINE_SET_NAME: &str = "Airline trip";

fn factor(key: &str, label: &str, hundredths: i64) -> FactorInput {
    FactorInput {
        key: key.into(),
        label: label.into(),
        weight: Decimal::new(hundredths, 2),
    }
}

/// Seeds the csi demo data.
///
/// # Errors
/// Database failures.
pub async fn seed(db: &DatabaseConnection) -> DomainResult<()> {
    let service = CsiService::new(db.clone());
    // The seed runs as the system, with an administrator's rights.
    let admin = Actor {
        user_id: 0,
        role: Role::Admin,
    };

    let acsi = presets::acsi();
    let v1 = service
        .create(
            &admin,
            FactorSetInput {
                name: ACSI_SET_NAME.into(),
                scale_min: Some(acsi.scale.min),
                scale_max: Some(acsi.scale.max),
                factors: acsi
                    .factors
                    .iter()
                    .map(|f| FactorInput {
                        key: f.key.into(),
                        label: f.label.into(),
                        weight: f.weight,
                    })
                    .collect(),
            },
        )
        .await?;
    let v1 = service.publish(&admin, v1.id).await?;

    let draft = service.revise(&admin, v1.id).await?;
    let factors = draft
        .factors
        .iter()
        .map(|f| {
            let weight = match f.key.as_str() {
                "perceived_quality" => Decimal::new(30, 2),
                "complaints" => Decimal::new(5, 2),
                _ => f.weight,
            };
            FactorInput {
                key: f.key.clone(),
                label: f.label.clone(),
                weight,
            }
        })
        .collect();
    let draft = service
        .update(
            &admin,
            draft.id,
            FactorSetUpdate {
                lock_version: draft.lock_version,
                name: None,
                scale_min: None,
                scale_max: None,
                factors: Some(factors),
            },
        )
        .await?;
    service.publish(&admin, draft.id).await?;

    let airline = service
        .create(
            &admin,
            FactorSetInput {
                name: AIRLINE_SET_NAME.into(),
                scale_min: None,
                scale_max: None,
                factors: vec![
                    factor("on_time_departure", "On-time departure", 35),
                    factor("fast_customs", "Fast customs", 20),
                    factor("safety", "Safety", 35),
                    factor("snacks", "Snacks", 10),
                ],
            },
        )
        .await?;
    service.publish(&admin, airline.id).await?;
    Ok(())
}
