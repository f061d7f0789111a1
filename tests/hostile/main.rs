//! The hostile-input suite: the scanned repository is an adversary. Each module is one class of
//! attack, each test drives the real binary. A scan must never be switched off, fooled, crashed or
//! hung by what the repository contains, nor print raw control sequences or workflow commands, nor
//! write outside the tree.

#[path = "../common/mod.rs"]
mod common;

mod encoding;
mod fixes;
mod limits;
mod output;
mod walk;
