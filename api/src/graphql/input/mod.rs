//! Input objects; each converts into its validated domain type beside its definition.
pub mod loyalty;

pub mod customer;

pub mod csi;

pub mod export;

pub mod invitation;
pub mod survey;

pub mod metrics;

pub mod user;
pub mod webhook;
