//! End-to-end tests: the real server on a random port, spoken to over HTTP.
//! Every test runs on SQLite and, with `TEST_DATABASE_URL`, on PostgreSQL.

#[macro_use]
pub mod helpers;
pub mod fixtures;

mod auth;
mod authz;
mod cards;
mod cluster;
mod conditions;
mod cors;
mod csi;
mod csi_confidence;
mod csi_drivers;
mod csi_preview;
mod csi_scale;
mod csi_versions;
mod customers;
mod docs;
mod email;
mod erasure;
mod exports;
mod faults;
mod form_page;
mod graphiql;
mod hardening;
mod http;
mod invitations;
mod limits;
mod links;
mod lists;
mod loyalty;
mod metrics;
mod metrics_endpoint;
mod mutations;
mod node;
mod outbox;
mod persisted;
mod process;
mod proxies;
mod question_types;
mod scalars;
mod schema;
mod segments;
mod sessions;
mod storage_faults;
mod surveys;
mod translations;
mod webhooks;
