//! YAML front end: parse to the spanned tree, then build the workflow and action models.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_lint::source::yaml;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(docs) = yaml::parse(text) {
        for d in &docs {
            d.walk(&mut |n| {
                assert!(n.span.start <= n.span.end && n.span.end as usize <= text.len())
            });
            if d.is_map() {
                let _ = oidc_lint::frontend::github_actions::workflow_from_tree(0, d);
                let _ = oidc_lint::frontend::github_actions::action_from_tree(0, d);
            }
        }
    }
});
