//! Ready-made factor lists to start a set from (`csiPresets`).
//!
//! The ACSI preset follows the drivers of the American Customer Satisfaction
//! Index model (Fornell et al., 1996): customer expectations, perceived
//! quality and perceived value drive satisfaction; complaints and loyalty are
//! its outcomes; price tolerance measures loyalty's depth. The default
//! weights are a neutral starting point (quality and value first), meant to be
//! tuned by the admin before publishing.

use rust_decimal::Decimal;

use crate::csi::compute::Scale;

/// One factor of a preset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresetFactor {
    pub key: &'static str,
    pub label: &'static str,
    pub weight: Decimal,
    /// What a respondent is asked to rate.
    pub description: &'static str,
}

/// A named list of factors with a suggested scale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preset {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub scale: Scale,
    pub factors: Vec<PresetFactor>,
}

fn factor(
    key: &'static str,
    label: &'static str,
    hundredths: i64,
    description: &'static str,
) -> PresetFactor {
    PresetFactor {
        key,
        label,
        weight: Decimal::new(hundredths, 2),
        description,
    }
}

/// The ACSI-style drivers.
pub fn acsi() -> Preset {
    Preset {
        key: "acsi",
        name: "ACSI drivers",
        description: "The six drivers of the American Customer Satisfaction Index model.",
        scale: Scale::default(),
        factors: vec![
            factor(
                "expectations",
                "Customer expectations",
                15,
                "How well the offer met what the customer expected before buying.",
            ),
            factor(
                "perceived_quality",
                "Perceived quality",
                25,
                "Overall quality, reliability and fit to the customer's needs.",
            ),
            factor(
                "perceived_value",
                "Perceived value",
                20,
                "Quality relative to the price paid.",
            ),
            factor(
                "complaints",
                "Complaint handling",
                10,
                "How well complaints were avoided or handled (5 = no reason to complain or fully resolved).",
            ),
            factor(
                "loyalty",
                "Loyalty",
                20,
                "Likelihood to buy again and to recommend.",
            ),
            factor(
                "price_tolerance",
                "Price tolerance",
                10,
                "Willingness to stay after a price increase.",
            ),
        ],
    }
}

/// Every preset, ACSI first.
pub fn all() -> Vec<Preset> {
    vec![acsi()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csi::types::{parse_factors, FactorInput};

    #[test]
    fn acsi_has_the_six_drivers_and_weights_summing_to_one() {
        let preset = acsi();
        let keys: Vec<_> = preset.factors.iter().map(|f| f.key).collect();
        assert_eq!(
            keys,
            [
                "expectations",
                "perceived_quality",
                "perceived_value",
                "complaints",
                "loyalty",
                "price_tolerance"
            ]
        );
        let total: Decimal = preset.factors.iter().map(|f| f.weight).sum();
        assert_eq!(total, Decimal::ONE);
    }

    #[test]
    fn presets_pass_validation() {
        for preset in all() {
            let inputs: Vec<_> = preset
                .factors
                .iter()
                .map(|f| FactorInput {
                    key: f.key.into(),
                    label: f.label.into(),
                    weight: f.weight,
                })
                .collect();
            assert!(parse_factors(&inputs).is_ok(), "{}", preset.key);
        }
    }
}
