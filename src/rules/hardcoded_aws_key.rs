use super::{Ctx, Rule, RuleMeta};
use crate::diag::Finding;
use crate::source::Span;

pub struct HardcodedAwsKey;
pub static RULE: HardcodedAwsKey = HardcodedAwsKey;
static META: RuleMeta = crate::rule_meta!(
    "hardcoded-aws-key",
    Error,
    "A literal AWS access key id (`AKIA…`/`ASIA…`) is written in a scanned file",
    [
        "workflow",
        "action",
        "iam-json",
        "terraform",
        "terraform-plan",
        "cloudformation",
        "aws-export"
    ],
    false
);

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Byte offsets of every access key id in `text`: `AKIA` or `ASIA`, then 16 upper-case
/// letters or digits, word-bounded on both sides. One linear pass, no regex.
pub fn key_ids(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 20 <= b.len() {
        if b[i] == b'A'
            && (&b[i..i + 4] == b"AKIA" || &b[i..i + 4] == b"ASIA")
            && (i == 0 || !word(b[i - 1]))
            && b[i + 4..i + 20]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && b.get(i + 20).is_none_or(|c| !word(*c))
        {
            out.push(i);
            i += 20;
            continue;
        }
        i += 1;
    }
    out
}

/// Ids that are no credential: AWS's documentation examples (`AKIAIOSFODNN7EXAMPLE`, ending in
/// `EXAMPLE`) and placeholders made of one repeated character (`AKIAXXXXXXXXXXXXXXXX`).
pub fn is_placeholder(id: &str) -> bool {
    let tail = &id.as_bytes()[4..];
    id.ends_with("EXAMPLE") || tail.iter().all(|c| *c == tail[0])
}

/// `AKIA…WXYZ`: enough to find the key in IAM, not the key itself.
pub fn redact(id: &str) -> String {
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

impl Rule for HardcodedAwsKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, scan: &Ctx<'_>, out: &mut Vec<Finding>) {
        for (fid, src) in scan.files() {
            for at in key_ids(&src.text) {
                let id = &src.text[at..at + 20];
                if is_placeholder(id) {
                    continue;
                }
                let temporary = id.starts_with("ASIA");
                let kind = if temporary {
                    "temporary (STS) access key id"
                } else {
                    "long-lived access key id"
                };
                out.push(
                    Finding::new(META.id, META.severity, fid, Span::new(at, at + 20))
                        .redacted()
                        .message(format!(
                            "a literal AWS {kind} (`{}`) is written in this file",
                            redact(id)
                        ))
                        .label("AWS access key id")
                        .help(if temporary {
                            "remove it from the file; temporary credentials expire, but whoever can read this file could use them until then (and the secret key and session token are likely nearby); get credentials at run time instead (OIDC: `id-token: write` + aws-actions/configure-aws-credentials with `role-to-assume`)"
                        } else {
                            "treat the key as leaked: deactivate and delete it in IAM (it stays in the repository history), then use OIDC instead of keys (`id-token: write` + aws-actions/configure-aws-credentials with `role-to-assume`) or pass credentials at run time; never commit keys or their secrets"
                        }),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_word_bounded_ids() {
        let t = "a = \"AKIA2345ABCD6789WXYZ\" b=ASIAABCDEFGHIJKLMNOP xAKIA2345ABCD6789WXYZ AKIA2345ABCD6789WXYZ9 AKIA2345abcd6789WXYZ";
        let found: Vec<&str> = key_ids(t).into_iter().map(|i| &t[i..i + 20]).collect();
        assert_eq!(found, ["AKIA2345ABCD6789WXYZ", "ASIAABCDEFGHIJKLMNOP"]);
        assert!(key_ids("AKIA2345ABCD6789WXY").is_empty());
        assert_eq!(key_ids("AKIA2345ABCD6789WXYZ"), [0]);
        assert!(is_placeholder("AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder("AKIAXXXXXXXXXXXXXXXX"));
        assert!(!is_placeholder("AKIA2345ABCD6789WXYZ"));
        assert_eq!(redact("AKIA2345ABCD6789WXYZ"), "AKIA…WXYZ");
    }
}
