//! The output sanitiser on arbitrary text: whatever a scanned repository holds, what we print has
//! no raw control, escape or format character, and no line that a CI log would read as a command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_lint::report::sanitize;

/// `block`: text keeps its newlines, tabs and the CR of a CRLF; nothing else unsafe is raw.
fn assert_safe(out: &str, block: bool) {
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        let kept = block && (c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n')));
        if !kept {
            assert!(!sanitize::is_unsafe(c), "raw {c:?} in {out:?}");
        }
    }
    for line in out.split('\n') {
        assert!(!line.trim_start().starts_with("::"), "command line {line:?}");
        assert!(!line.contains("##["), "log group marker in {line:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let inline = sanitize::inline(s);
    assert!(!inline.contains('\n'));
    assert_safe(&inline, false);
    assert_safe(&sanitize::block(s), true);
    let (mapped, map) = sanitize::block_mapped(s);
    assert_safe(&mapped, true);
    for (i, _) in s.char_indices() {
        assert!(map.map(i) <= mapped.len());
    }
    assert_safe(&sanitize::guard_lines(&sanitize::block(s)), true);
});
