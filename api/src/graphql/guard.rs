//! Field guards over the capability matrix in `domain::auth`.

use async_graphql::{Context, Guard};
use domain::auth::Capability;

use crate::graphql::context::ContextExt;

/// Admits the field only for actors whose role holds the capability.
pub struct CapabilityGuard(pub Capability);

impl Guard for CapabilityGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        ctx.actor_with(self.0).map(|_| ()).map_err(Into::into)
    }
}
