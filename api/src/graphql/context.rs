//! Per-request data and the helpers resolvers use to reach it.

use async_graphql::{Context, Request};
use domain::auth::Actor;

use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::loader::{self, Rounds};
use crate::state::Services;

/// The request id, echoed on internal errors so reports can be matched to logs.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The client address (see `crate::http::client`), for throttles and logs.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

/// The caller's languages from `Accept-Language`, best first (see
/// `crate::http::language`); used to pick a survey's locale for respondents.
#[derive(Clone, Debug, Default)]
pub struct AcceptLanguage(pub Vec<String>);

/// The caller's languages, best first (empty when unknown).
pub fn preferred_languages(ctx: &Context<'_>) -> Vec<String> {
    ctx.data_opt::<AcceptLanguage>()
        .map(|a| a.0.clone())
        .unwrap_or_default()
}

/// The data every operation carries, whether it came over HTTP or a
/// WebSocket: its id, the client address, the actor (re-read from the
/// database for this operation) and a fresh set of batch loaders scheduled
/// by `rounds`, so nothing is cached from one operation to the next.
pub fn operation_data(
    request: Request,
    request_id: RequestId,
    client: ClientAddr,
    actor: Option<Actor>,
    services: &Services,
    rounds: &Rounds,
) -> Request {
    let mut request = request.data(request_id).data(client);
    if let Some(actor) = actor {
        request = request.data(actor);
    }
    loader::attach(request, services, rounds)
}

/// Access to the actor and services from a resolver context.
pub trait ContextExt {
    /// The authenticated staff user, or `UNAUTHENTICATED`. Resolvers pass it
    /// to the domain, which checks capabilities (SPEC §2) in one place.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` on anonymous requests.
    fn actor(&self) -> ApiResult<&Actor>;

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

    fn services(&self) -> ApiResult<&Services> {
        Ok(self.data::<Services>()?)
    }
}
