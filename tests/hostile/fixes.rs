//! Hostile inputs: fixes.

#[allow(unused_imports)]
use super::common::*;
