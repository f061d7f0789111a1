//! `StringLike` matching of a policy pattern against a request value with holes, in linear
//! space and bounded time.
//!
//! The question is reachability on the grid of (pattern position, subject position) pairs:
//! from `(i, j)` a `*` takes nothing (`(i+1, j)`) or one more subject element (`(i, j+1)`), a
//! pattern character or `?` matches a literal subject character (`(i+1, j+1)`), and (in
//! [`possible`] only) a hole may be empty (`(i, j+1)`) or take one more pattern character it
//! admits (`(i+1, j)`). Every move is monotone, so the grid is swept one pattern row at a
//! time with two rows of booleans: O(subject) space.
//!
//! Time: the deterministic ends (a pattern character facing a subject character has a single
//! move) are stripped first; a subject without holes is then matched greedily segment by
//! segment (`*`-free runs of the pattern, leftmost placement, KMP for runs without `?`), which
//! is linear for every pattern without `?`. What remains is bounded by [`MAX_STEPS`] grid cells
//! or search steps; above it the answer is [`None`] (the evaluator's `Unknown`), never a guess.

use crate::analysis::eval::Hole;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::model::glob::PEl;
use crate::model::glob::{ch_matches, greedy};

/// A subject element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SEl {
    Ch(char),
    Hole(Hole),
}

/// Work limit of one comparison, in grid cells or search steps (about 16.8 million: tens of
/// milliseconds, far above any real trust value: a 4,000-character pattern against a
/// 4,000-character subject still fits).
pub const MAX_STEPS: u64 = 1 << 24;

/// The largest `pattern length × subject length` of a comparison that hit [`MAX_STEPS`]
/// since the last [`take_over_limit`] (0: none), for the note the command line prints. The
/// engine takes it at the start and end of every check, so a long-running server reports each
/// check's own; checks running at the same time in one process (neither the command line nor
/// the server runs two) would share it.
static OVER_LIMIT: AtomicU64 = AtomicU64::new(0);

/// `Some((pattern × subject elements))` of the largest comparison left unknown because it hit
/// [`MAX_STEPS`] since the last call, if any did; resets the record.
pub fn take_over_limit() -> Option<u64> {
    match OVER_LIMIT.swap(0, Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

fn gave_up(p: &[PEl], s: &[SEl]) -> Option<bool> {
    let size = (p.len() as u64).saturating_mul(s.len() as u64).max(1);
    OVER_LIMIT.fetch_max(size, Ordering::Relaxed);
    None
}

/// Strip both ends where a pattern character (or `?`) faces a subject character: the only
/// move there is the diagonal one. `None`: a mismatch, no match at all.
fn trim<'p, 's>(mut p: &'p [PEl], mut s: &'s [SEl]) -> Option<(&'p [PEl], &'s [SEl])> {
    while let (Some(&pe), Some(&SEl::Ch(d))) = (p.first(), s.first()) {
        if pe == PEl::Star {
            break;
        }
        if !ch_matches(pe, d) {
            return None;
        }
        p = &p[1..];
        s = &s[1..];
    }
    while let (Some(&pe), Some(&SEl::Ch(d))) = (p.last(), s.last()) {
        if pe == PEl::Star {
            break;
        }
        if !ch_matches(pe, d) {
            return None;
        }
        p = &p[..p.len() - 1];
        s = &s[..s.len() - 1];
    }
    Some((p, s))
}

/// Is there a filling of `s`'s holes, and of `p`'s stars, that makes them equal? `None`: the
/// comparison is over [`MAX_STEPS`].
pub fn possible(p: &[PEl], s: &[SEl]) -> Option<bool> {
    search(p, s, true)
}

/// Does `p` match every filling of `s`'s holes? Sufficient test: each hole is swallowed whole
/// by one `*` (a hole may be empty or long, so nothing else can stand for it). `None`: over
/// [`MAX_STEPS`].
pub fn covers(p: &[PEl], s: &[SEl]) -> Option<bool> {
    search(p, s, false)
}

fn search(p: &[PEl], s: &[SEl], hole_moves: bool) -> Option<bool> {
    let Some((p, s)) = trim(p, s) else {
        return Some(false);
    };
    if s.iter().all(|e| matches!(e, SEl::Ch(_))) {
        let text: Vec<char> = s
            .iter()
            .map(|e| match e {
                SEl::Ch(c) => *c,
                SEl::Hole(_) => unreachable!(),
            })
            .collect();
        let mut budget = MAX_STEPS;
        return greedy(p, &text, &mut budget).or_else(|| gave_up(p, s));
    }
    let cells = (p.len() as u64 + 1).saturating_mul(s.len() as u64 + 1);
    if cells > MAX_STEPS {
        return gave_up(p, s);
    }
    Some(sweep(p, s, hole_moves))
}

/// The grid sweep, two rows at a time.
fn sweep(p: &[PEl], s: &[SEl], hole_moves: bool) -> bool {
    let (n, m) = (p.len(), s.len());
    let mut cur = vec![false; m + 1];
    let mut next = vec![false; m + 1];
    cur[0] = true;
    for i in 0..=n {
        let pe = p.get(i).copied();
        // moves within the row: a star takes one more element, a hole is empty
        let mut any = false;
        for j in 0..m {
            if cur[j] {
                any = true;
                if pe == Some(PEl::Star) || hole_moves && matches!(s[j], SEl::Hole(_)) {
                    cur[j + 1] = true;
                }
            }
        }
        any |= cur[m];
        if !any {
            return false;
        }
        let Some(pe) = pe else {
            return cur[m];
        };
        // moves to the next row: a star takes nothing, a hole takes the pattern character,
        // a pattern character matches a subject character
        next.fill(false);
        for j in 0..=m {
            if !cur[j] {
                continue;
            }
            if pe == PEl::Star {
                next[j] = true;
            }
            match s.get(j) {
                Some(&SEl::Hole(h)) if hole_moves => {
                    let admitted = match pe {
                        PEl::Ch(c) => h.admits(c),
                        // every hole class holds at least one character
                        PEl::One => true,
                        PEl::Star => false,
                    };
                    if admitted {
                        next[j] = true;
                    }
                }
                Some(&SEl::Ch(d)) if ch_matches(pe, d) => next[j + 1] = true,
                _ => {}
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    unreachable!("the last row returns")
}

/// The note the command line prints (on stderr) when some comparison of `size` pattern ×
/// subject elements was left unknown ([`take_over_limit`]).
pub fn over_limit_note(size: u64) -> String {
    format!(
        "note: a policy value compared with a request value ({size} pattern × subject elements) exceeded the matcher's work limit of {MAX_STEPS} steps; its result was taken as unknown, so findings that depend on it may be missing"
    )
}
