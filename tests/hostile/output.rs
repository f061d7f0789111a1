//! Hostile inputs: output.

#[allow(unused_imports)]
use super::common::*;
