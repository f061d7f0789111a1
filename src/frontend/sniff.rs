//! Would a file over `--max-file-size` have been analysed? Its content decides, as for any
//! file recognised by content; only it is not loaded whole.
//!
//! The first [`PREFIX`] bytes get the scan's own recognition (lenient decoding, UTF-16
//! included). Padding cannot push the tell-tale keys past that window unseen: the rest of the
//! file is then searched as a stream (bounded memory, one pass, Aho-Corasick) for every key the
//! recognition looks for, in UTF-8 and UTF-16, and the keys found are handed to the same
//! recognition. A file larger than [`STREAM_CAP`] that passes the cheap first-bytes test is
//! assumed to be an input: it cannot be told apart in bounded time, and a gate must not guess
//! "no".

use aho_corasick::AhoCorasick;
use std::io::{Read, Seek, SeekFrom};

/// Bytes read for the first look.
pub const PREFIX: usize = 64 << 10;
/// Largest file searched to the end.
pub const STREAM_CAP: u64 = 1 << 30;

/// What the recognition looks for in JSON files (`frontend::json_format` and the `Statement`
/// test of the scan); every key it checks must be here.
pub const JSON_KEYS: &[&str] = &[
    "\"Statement\"",
    "\"format_version\"",
    "\"planned_values\"",
    "\"root_module\"",
    "\"AWSTemplateFormatVersion\"",
    "\"Resources\"",
    "\"AWS::",
    "\"RoleDetailList\"",
    "\"AssumeRolePolicyDocument\"",
    "\"ClientIDList\"",
];

/// What `frontend::maybe_cloudformation` looks for.
pub const CFN_KEYS: &[&str] = &["AWSTemplateFormatVersion", "Resources", "AWS::"];

/// The verdict on an oversized file.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not an input: skipped like any other file that is not.
    NotInput,
    /// Its content shows it would have been analysed.
    Input,
    /// Too large to tell (over [`STREAM_CAP`]); treated as an input.
    TooLargeToTell,
}

/// Decide for `file` (any position; it is rewound). `first_bytes_ok` is the scan's cheap
/// rejection by the first bytes, `recognise` its recognition on (lossily decoded) text, `keys`
/// every substring `recognise` looks for.
pub fn oversized(
    file: &mut std::fs::File,
    first_bytes_ok: &dyn Fn(&[u8]) -> bool,
    recognise: &dyn Fn(&str) -> bool,
    keys: &[&str],
) -> std::io::Result<Verdict> {
    file.seek(SeekFrom::Start(0))?;
    let mut prefix = Vec::with_capacity(PREFIX);
    file.by_ref().take(PREFIX as u64).read_to_end(&mut prefix)?;
    if !first_bytes_ok(&prefix) {
        return Ok(Verdict::NotInput);
    }
    if recognise(&crate::source::read::lossy_text(&prefix)) {
        return Ok(Verdict::Input);
    }
    let len = file.metadata()?.len();
    if len > STREAM_CAP {
        return Ok(Verdict::TooLargeToTell);
    }
    // The whole file from the start (keys may straddle the prefix's end), as a stream.
    file.seek(SeekFrom::Start(0))?;
    let found = stream_keys(std::io::BufReader::new(file.take(STREAM_CAP)), keys)?;
    if found.is_empty() {
        return Ok(Verdict::NotInput);
    }
    let text: Vec<&str> = found.iter().map(|&i| keys[i]).collect();
    Ok(if recognise(&text.join("\n")) {
        Verdict::Input
    } else {
        Verdict::NotInput
    })
}

/// Indices (into `keys`) of the keys that occur in `r`, as UTF-8 or as UTF-16 (either order).
fn stream_keys(r: impl Read, keys: &[&str]) -> std::io::Result<Vec<usize>> {
    let mut pats: Vec<Vec<u8>> = Vec::with_capacity(keys.len() * 3);
    for k in keys {
        pats.push(k.as_bytes().to_vec());
    }
    for k in keys {
        pats.push(k.encode_utf16().flat_map(|u| u.to_le_bytes()).collect());
    }
    for k in keys {
        pats.push(k.encode_utf16().flat_map(|u| u.to_be_bytes()).collect());
    }
    let ac = AhoCorasick::new(&pats).map_err(std::io::Error::other)?;
    let mut seen = vec![false; keys.len()];
    for m in ac.stream_find_iter(r) {
        seen[m?.pattern().as_usize() % keys.len()] = true;
        if seen.iter().all(|&s| s) {
            break;
        }
    }
    Ok((0..keys.len()).filter(|&i| seen[i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_found_anywhere_in_utf8_and_utf16() {
        let text = format!("{{{}\"Statement\": []}}", " ".repeat(200_000));
        assert_eq!(stream_keys(text.as_bytes(), JSON_KEYS).unwrap(), vec![0]);
        let utf16: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(stream_keys(&utf16[..], JSON_KEYS).unwrap(), vec![0]);
        assert!(
            stream_keys(&b"{\"name\": 1}"[..], JSON_KEYS)
                .unwrap()
                .is_empty()
        );
    }

    /// The keys found stand for the text: the recognition gives the same answer on them as
    /// on the whole text, for each kind of input and for a file that is none.
    #[test]
    fn keys_stand_for_the_text() {
        let samples = [
            r#"{"format_version": "1.2", "planned_values": {}}"#,
            r#"{"format_version": "1.2", "configuration": {"root_module": {}}}"#,
            r#"{"AWSTemplateFormatVersion": "2010-09-09"}"#,
            r#"{"Resources": {"R": {"Type": "AWS::IAM::Role"}}}"#,
            r#"{"RoleDetailList": []}"#,
            r#"{"Version": "2012-10-17", "Statement": []}"#,
            r#"{"name": "pkg", "Resources": "none", "format_version": 1}"#,
        ];
        for text in samples {
            let reduced: Vec<&str> = stream_keys(text.as_bytes(), JSON_KEYS)
                .unwrap()
                .into_iter()
                .map(|i| JSON_KEYS[i])
                .collect();
            let reduced = reduced.join("\n");
            assert_eq!(
                crate::frontend::json_format(text),
                crate::frontend::json_format(&reduced),
                "{text}"
            );
        }
        let cfn = "AWSTemplateFormatVersion: x\nResources:\n  R:\n    Type: AWS::IAM::Role\n";
        let reduced: Vec<&str> = stream_keys(cfn.as_bytes(), CFN_KEYS)
            .unwrap()
            .into_iter()
            .map(|i| CFN_KEYS[i])
            .collect();
        assert!(crate::frontend::maybe_cloudformation(&reduced.join("\n")));
    }
}
