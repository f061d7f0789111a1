//! Glob matching (`*` any run, empty included; `?` one character), the IAM `StringLike`
//! semantics, in linear time: the pattern is split at its stars, the first piece is anchored at
//! the start, the last at the end, and each piece between takes its leftmost place after the
//! one before (pieces have a fixed length, so the leftmost place leaves the most room). A piece
//! without `?` is found with KMP (linear); one with `?` with a bit-parallel shift-and (one
//! machine word per 64 characters of the piece for each text character). No backtracking.
//!
//! The analysis layer's matcher ([`crate::analysis::wildcard`]) uses the same pieces for
//! subjects without holes, under its work limit.

/// A pattern element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PEl {
    Ch(char),
    /// `?`: one character.
    One,
    /// `*`: any run, empty included.
    Star,
}

/// A pattern's elements: `*` and `?` are always wildcards.
pub fn elements(pattern: &str) -> Vec<PEl> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => PEl::Star,
            '?' => PEl::One,
            c => PEl::Ch(c),
        })
        .collect()
}

pub fn ch_matches(p: PEl, d: char) -> bool {
    match p {
        PEl::Ch(c) => c == d,
        PEl::One => true,
        PEl::Star => false,
    }
}

/// IAM `StringLike` matching: `*` any run (including empty, across `/` and `:`), `?` one
/// character. A `*` in the pattern is always a wildcard, even facing a literal `*` in the text.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let mut unlimited = u64::MAX;
    greedy(&elements(pattern), &t, &mut unlimited).expect("an unlimited budget never runs out")
}

/// A subject without holes: split the pattern at its stars; the first run is anchored at the
/// start, the last at the end, and each run between takes its leftmost place after the one
/// before (runs have a fixed length, so the leftmost place leaves the most room). `None`: the
/// work charged to `budget` (only by runs holding `?`) ran out.
pub fn greedy(p: &[PEl], t: &[char], budget: &mut u64) -> Option<bool> {
    let runs: Vec<&[PEl]> = p.split(|e| *e == PEl::Star).collect();
    let fits = |run: &[PEl], at: &[char]| run.iter().zip(at).all(|(&r, &c)| ch_matches(r, c));
    if runs.len() == 1 {
        return Some(p.len() == t.len() && fits(p, t));
    }
    let (first, last) = (runs[0], runs[runs.len() - 1]);
    if first.len() + last.len() > t.len()
        || !fits(first, t)
        || !fits(last, &t[t.len() - last.len()..])
    {
        return Some(false);
    }
    let end = t.len() - last.len();
    let mut pos = first.len();
    for run in &runs[1..runs.len() - 1] {
        if run.is_empty() {
            continue;
        }
        match find(run, &t[pos..end], budget)? {
            Some(at) => pos += at + run.len(),
            None => return Some(false),
        }
    }
    Some(true)
}

/// Leftmost place of a star-free run in `t`: KMP when the run has no `?` (linear), else
/// [`shift_and`]. `None`: the budget ran out.
fn find(run: &[PEl], t: &[char], budget: &mut u64) -> Option<Option<usize>> {
    if run.len() > t.len() {
        return Some(None);
    }
    if run.contains(&PEl::One) {
        return shift_and(run, t, budget);
    }
    let w: Vec<char> = run
        .iter()
        .map(|e| match e {
            PEl::Ch(c) => *c,
            _ => unreachable!(),
        })
        .collect();
    // KMP failure function
    let mut fail = vec![0usize; w.len()];
    let mut k = 0;
    for i in 1..w.len() {
        while k > 0 && w[i] != w[k] {
            k = fail[k - 1];
        }
        if w[i] == w[k] {
            k += 1;
        }
        fail[i] = k;
    }
    let mut k = 0;
    for (i, &c) in t.iter().enumerate() {
        while k > 0 && c != w[k] {
            k = fail[k - 1];
        }
        if c == w[k] {
            k += 1;
        }
        if k == w.len() {
            return Some(Some(i + 1 - w.len()));
        }
    }
    Some(None)
}

/// Leftmost place of a star-free run holding `?` in `t`, by shift-and: bit `k` of the state is
/// set when the run's first `k + 1` elements match the text ending here; `?` matches every
/// character. Each text character costs one word per 64 run elements, charged to `budget`.
/// `None`: the budget ran out.
fn shift_and(run: &[PEl], t: &[char], budget: &mut u64) -> Option<Option<usize>> {
    let words = run.len().div_ceil(64);
    // the mask of `?` positions, and one per distinct character of the run
    let mut any = vec![0u64; words];
    let mut masks: std::collections::HashMap<char, Vec<u64>> = std::collections::HashMap::new();
    for (k, e) in run.iter().enumerate() {
        match e {
            PEl::One => any[k / 64] |= 1 << (k % 64),
            PEl::Ch(c) => {
                masks.entry(*c).or_insert_with(|| vec![0; words])[k / 64] |= 1 << (k % 64)
            }
            PEl::Star => unreachable!("runs are star-free"),
        }
    }
    let last = (run.len() - 1) / 64;
    let top = 1u64 << ((run.len() - 1) % 64);
    let mut state = vec![0u64; words];
    for (i, c) in t.iter().enumerate() {
        *budget = budget.checked_sub(words as u64)?;
        let mask = masks.get(c);
        let mut carry = 1u64;
        for w in 0..words {
            let next_carry = state[w] >> 63;
            let m = any[w] | mask.map_or(0, |m| m[w]);
            state[w] = ((state[w] << 1) | carry) & m;
            carry = next_carry;
        }
        if state[last] & top != 0 {
            return Some(Some(i + 1 - run.len()));
        }
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, by dynamic programming over (pattern, text) prefixes.
    fn reference(p: &[PEl], t: &[char]) -> bool {
        let mut row = vec![false; t.len() + 1];
        row[0] = true;
        for &pe in p {
            let mut next = vec![false; t.len() + 1];
            for j in 0..=t.len() {
                if pe == PEl::Star {
                    next[j] = row[j] || (j > 0 && next[j - 1]);
                } else if j > 0 {
                    next[j] = row[j - 1] && ch_matches(pe, t[j - 1]);
                }
            }
            row = next;
        }
        row[t.len()]
    }

    #[test]
    fn long_runs_with_question_marks() {
        // runs longer than a word, found after near misses
        let run = format!("{}?{}", "a".repeat(70), "b".repeat(70));
        let text = format!("{}x{}c{}", "a".repeat(200), "a".repeat(70), "b".repeat(70));
        assert!(glob_match(&format!("*{run}*"), &format!("{text}z")));
        assert!(!glob_match(&format!("*{run}*"), &text.replace('c', "")));
        assert!(glob_match("a*?b?*c", "aXbYc"));
        assert!(!glob_match("a*?b?*c", "abYc"));
    }

    proptest! {
        #[test]
        fn agrees_with_the_definition(p in "[ab?*]{0,12}", t in "[ab*?]{0,16}") {
            let t: Vec<char> = t.chars().collect();
            let p = elements(&p);
            let mut unlimited = u64::MAX;
            prop_assert_eq!(greedy(&p, &t, &mut unlimited), Some(reference(&p, &t)));
        }

        #[test]
        fn long_pieces_agree(p in "(a{0,70}|b|[?]{1,3}|[*])*", t in "[ab]{0,300}") {
            let t: Vec<char> = t.chars().collect();
            let p = elements(&p);
            let mut unlimited = u64::MAX;
            prop_assert_eq!(greedy(&p, &t, &mut unlimited), Some(reference(&p, &t)));
        }
    }
}
