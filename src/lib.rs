//! oidc-lint: static analysis of GitHub Actions → AWS OIDC setups.
//!
//! Pipeline: `source` (discovery, spanned parsing) → `model` (normalized documents) →
//! `rules` (see only the model) → `report` (see only findings).

pub mod analysis;
pub mod audit;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod custom;
pub mod diag;
pub mod engine;
pub mod fix;
#[doc(hidden)]
pub mod floor;
pub mod frontend;
pub mod model;
pub mod report;
pub mod rules;
pub mod scan;
pub mod server;
pub mod source;
pub mod suppress;
pub mod write;

pub use engine::{Selection, check};
