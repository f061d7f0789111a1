//! HCL front end: parse Terraform to blocks of spanned trees.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_lint::source::hcl;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = hcl::parse(text);
});
