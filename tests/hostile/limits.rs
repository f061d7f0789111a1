//! Hostile inputs: limits.

#[allow(unused_imports)]
use super::common::*;
