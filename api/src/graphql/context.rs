//! Per-request data and the helpers resolvers use to reach it.

use async_graphql::Context;
use domain::auth::{Actor, Capability};

use crate::graphql::error::{ApiError, ApiResult};
use crate::state::Services;

/// The request id, echoed on internal errors so reports can be matched to logs.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The client address, for throttling public operations.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

/// Access to the actor and services from a resolver context.
pub trait ContextExt {
    /// The authenticated staff user, or `UNAUTHENTICATED`.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` on anonymous requests.
    fn actor(&self) -> ApiResult<&Actor>;

    /// The actor, after checking it holds `capability`.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` or `FORBIDDEN`.
    fn actor_with(&self, capability: Capability) -> ApiResult<&Actor>;

    /// The services of this server.
    ///
    /// # Errors
    /// `INTERNAL` if the schema was built without them.
    fn services(&self) -> ApiResult<&Services>;
}

impl ContextExt for Context<'_> {
    fn actor(&self) -> ApiResult<&Actor> {
        self.data_opt::<Actor>()
            .ok_or_else(ApiError::unauthenticated)
    }

    fn actor_with(&self, capability: Capability) -> ApiResult<&Actor> {
        let actor = self.actor()?;
        actor.require(capability)?;
        Ok(actor)
    }

    fn services(&self) -> ApiResult<&Services> {
        Ok(self.data::<Services>()?)
    }
}
