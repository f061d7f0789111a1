//! Line and column lookup in O(log n) per query, whatever the text: line starts plus the
//! offsets of UTF-8 continuation bytes and of 4-byte sequences (`line_index` scans every
//! non-ASCII character of the line per query, which is quadratic on a one-line 5 MB file with
//! many findings).

pub struct Lines {
    /// Byte offset of the start of every line after the first (after `\n`, `\r\n` or `\r`).
    newlines: Vec<u32>,
    /// Offsets of UTF-8 continuation bytes (empty for ASCII text).
    cont: Vec<u32>,
    /// Offsets of the lead bytes of 4-byte sequences (two UTF-16 code units each).
    astral: Vec<u32>,
}

/// 0-based line, and columns in characters and in UTF-16 code units (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCols {
    pub line: u32,
    pub chars: u32,
    pub utf16: u32,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        // A line ends at `\n`, `\r\n` or a lone `\r` (classic Mac OS), as in YAML, JSON and
        // editors.
        let newlines = bytes
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' || b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
            .map(|(i, _)| i as u32 + 1)
            .collect();
        let (mut cont, mut astral) = (Vec::new(), Vec::new());
        if !text.is_ascii() {
            for (i, &b) in bytes.iter().enumerate() {
                if b & 0xC0 == 0x80 {
                    cont.push(i as u32);
                } else if b >= 0xF0 {
                    astral.push(i as u32);
                }
            }
        }
        Lines {
            newlines,
            cont,
            astral,
        }
    }

    /// Byte range of 0-based line `line` in a text of `len` bytes, terminator included;
    /// `None` past the last line.
    pub fn line(&self, line: u32, len: usize) -> Option<std::ops::Range<usize>> {
        let i = line as usize;
        if i > self.newlines.len() {
            return None;
        }
        let start = if i == 0 {
            0
        } else {
            self.newlines[i - 1] as usize
        };
        let end = self.newlines.get(i).map_or(len, |&e| e as usize);
        Some(start..end)
    }

    /// Position of byte `offset`, which must be a char boundary within the text.
    pub fn line_cols(&self, offset: u32) -> LineCols {
        let line = self.newlines.partition_point(|&s| s <= offset);
        let start = if line == 0 {
            0
        } else {
            self.newlines[line - 1]
        };
        let between = |v: &[u32]| {
            (v.partition_point(|&o| o < offset) - v.partition_point(|&o| o < start)) as u32
        };
        let chars = offset - start - between(&self.cont);
        LineCols {
            line: line as u32,
            chars,
            utf16: chars + between(&self.astral),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ranges() {
        let text = "ab\ncd\r\n\nlast";
        let l = Lines::new(text);
        assert_eq!(l.line(0, text.len()), Some(0..3));
        assert_eq!(l.line(1, text.len()), Some(3..7));
        assert_eq!(l.line(2, text.len()), Some(7..8));
        assert_eq!(l.line(3, text.len()), Some(8..12));
        assert_eq!(l.line(4, text.len()), None);
        let nl = "x\n";
        assert_eq!(Lines::new(nl).line(1, nl.len()), Some(2..2));
    }

    #[test]
    fn carriage_returns_end_lines() {
        let text = "a\rbc\r\nd\ne\r";
        let l = Lines::new(text);
        let at = |o: u32| {
            let p = l.line_cols(o);
            (p.line, p.chars)
        };
        assert_eq!(at(0), (0, 0));
        assert_eq!(at(2), (1, 0));
        assert_eq!(at(3), (1, 1));
        assert_eq!(at(6), (2, 0));
        assert_eq!(at(8), (3, 0));
        assert_eq!(at(10), (4, 0));
        assert_eq!(l.line(1, text.len()), Some(2..6));
        assert_eq!(l.line(4, text.len()), Some(10..10));
    }

    #[test]
    fn agrees_with_counting() {
        let text = "ab\ncafé 😀 x\r\n\nz€é\n";
        let l = Lines::new(text);
        for (off, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let before = &text[..off];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let seg = &text[line_start..off];
            let got = l.line_cols(off as u32);
            assert_eq!(got.line as usize, before.matches('\n').count(), "{off}");
            assert_eq!(got.chars as usize, seg.chars().count(), "{off}");
            assert_eq!(got.utf16 as usize, seg.encode_utf16().count(), "{off}");
        }
    }
}
