//! Hostile inputs: encoding.

#[allow(unused_imports)]
use super::common::*;
