//! JSON front end: strict parse, embedded JSON-in-a-string, and the IAM policy model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_lint::frontend::iam_json::Family;
use oidc_lint::source::embedded::Embedded;
use oidc_lint::source::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(root) = json::parse(text) {
        root.walk(&mut |n| {
            assert!(n.span.start <= n.span.end && n.span.end as usize <= text.len());
            if let Some((a, b)) = json::string_body(text, n) {
                if let Some(emb) = Embedded::from_json_string(&text[a..b], a) {
                    let _ = json::parse_embedded(&emb);
                }
            }
        });
        let _ = oidc_lint::frontend::iam_json::policy_from_tree(
            0,
            &root,
            "fuzz.json".into(),
            None,
            Family::Json,
        );
    }
});
