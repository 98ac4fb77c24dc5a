//! Records by id, behind the fields that follow a link from one record to
//! another (`SurveyResponse.survey`, `FollowUp.response`, `Survey.loyaltyProgram`,
//! `LedgerEntry.actor`, …). Each is glue over a domain batch function, so a
//! page of 50 rows costs the statements of a page of 5. The resolvers check
//! the reader's capability through the domain's `authorize_*` rule of the
//! linked type before they ask.

use std::collections::HashMap;
use std::sync::Arc;

use domain::csi::FactorSet;
use domain::customers::Purchase;
use domain::feedback::{Survey, SurveyResponse};
use domain::loyalty::Program;
use domain::users::{User, UserService};
use domain::DomainError;
use sea_orm::DatabaseConnection;

use super::BatchLoad;

/// Surveys with their questions, over `domain::feedback::surveys_by_ids`.
pub struct SurveyLoader(pub DatabaseConnection);

impl BatchLoad for SurveyLoader {
    type Key = i64;
    type Value = Survey;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Survey>, Arc<DomainError>> {
        domain::feedback::surveys_by_ids(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Survey responses with their answers, over `domain::feedback::responses_by_ids`.
pub struct ResponseLoader(pub DatabaseConnection);

impl BatchLoad for ResponseLoader {
    type Key = i64;
    type Value = SurveyResponse;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, SurveyResponse>, Arc<DomainError>> {
        domain::feedback::responses_by_ids(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Loyalty programmes with their tiers, over `domain::loyalty::programs_by_ids`.
pub struct ProgramLoader(pub DatabaseConnection);

impl BatchLoad for ProgramLoader {
    type Key = i64;
    type Value = Program;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Program>, Arc<DomainError>> {
        domain::loyalty::programs_by_ids(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// CSI factor-set versions with their factors, over
/// `domain::csi::factor_sets::factor_sets_by_ids`.
pub struct FactorSetLoader(pub DatabaseConnection);

impl BatchLoad for FactorSetLoader {
    type Key = i64;
    type Value = FactorSet;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, FactorSet>, Arc<DomainError>> {
        domain::csi::factor_sets::factor_sets_by_ids(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Purchases, over `domain::customers::purchases_by_ids`.
pub struct PurchaseLoader(pub DatabaseConnection);

impl BatchLoad for PurchaseLoader {
    type Key = i64;
    type Value = Purchase;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Purchase>, Arc<DomainError>> {
        domain::customers::purchases_by_ids(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Staff users, over `UserService::users_by_ids`.
pub struct UserLoader(pub UserService);

impl BatchLoad for UserLoader {
    type Key = i64;
    type Value = User;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, User>, Arc<DomainError>> {
        self.0.users_by_ids(keys).await.map_err(Arc::new)
    }
}
