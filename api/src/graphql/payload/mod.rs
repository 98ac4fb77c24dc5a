//! Mutation payloads: each mutation `doThing(input: DoThingInput!)` answers a
//! `DoThingPayload` that echoes `clientMutationId` and holds what changed.
pub mod csi;
pub mod customers;
pub mod loyalty;
pub mod surveys;
pub mod users;
pub mod webhook;
