//! `GET /graphql/ws`: subscriptions over the graphql-ws protocol. The client
//! authenticates in `connection_init` with `{"authorization": "Bearer …"}`.

use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::Data;
use async_graphql_actix_web::GraphQLSubscription;

use crate::auth;
use crate::graphql::context::ClientAddr;
use crate::graphql::schema::AppSchema;
use crate::state::Services;

/// Upgrades to a WebSocket and serves subscriptions.
///
/// # Errors
/// When the upgrade handshake is invalid.
pub async fn subscriptions(
    schema: web::Data<AppSchema>,
    services: web::Data<Services>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let services = services.get_ref().clone();
    let client = ClientAddr(crate::http::client_addr::client_addr(&req));
    GraphQLSubscription::new(AppSchema::clone(&schema))
        .on_connection_init(move |value| async move {
            let header = ["authorization", "Authorization"]
                .iter()
                .find_map(|k| value.get(*k).and_then(|v| v.as_str()).map(str::to_owned));
            let actor = auth::authenticate(header.as_deref(), &services.jwt, &services.users)
                .await
                .ok()
                .flatten()
                .ok_or_else(|| async_graphql::Error::new("UNAUTHENTICATED"))?;
            let mut data = Data::default();
            data.insert(actor);
            data.insert(client);
            Ok(data)
        })
        .start(&req, payload)
}
