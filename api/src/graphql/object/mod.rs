//! Output objects: thin wrappers over domain types.

pub mod confidence;
pub mod connection;
pub mod csi;
pub mod csi_drivers;
pub mod customer;
pub mod export;
pub mod invitation;
pub mod link;
pub mod loyalty;
pub mod metrics;
pub mod node;
pub mod segment;
pub mod survey;
pub mod user;
pub mod webhook;
