//! Hostile inputs: walk.

#[allow(unused_imports)]
use super::common::*;
