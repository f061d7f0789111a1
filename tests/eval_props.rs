//! Property tests: the condition evaluator (`oidc_lint::analysis::eval`) against a straightforward
//! reference model of AWS condition semantics, on thousands of generated conditions, policies
//! and subjects. Fully known requests must agree exactly; requests with holes or unknown
//! presence must be sound (a `True`/`False` answer holds for every filling).

use oidc_lint::analysis::eval::{Hole, Presence, Request, Tri, VPart, Val, eval_policy, eval_raw};
use oidc_lint::frontend::iam_json::{Family, policy_from_tree};
use oidc_lint::source::tree::Template;
use proptest::prelude::*;

const ISS: &str = "token.actions.githubusercontent.com";
const CLAIMS: [&str; 3] = ["sub", "environment", "ref"];

// ------------------------------------------------------------------------------------------
// The reference model: direct transcriptions of the IAM documentation, on concrete strings.

/// StringLike: `*` any run, `?` one character; naive backtracking.
fn ref_glob(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') => (0..=s.len()).any(|k| ref_glob(&p[1..], &s[k..])),
        Some('?') => !s.is_empty() && ref_glob(&p[1..], &s[1..]),
        Some(c) => s.first() == Some(c) && ref_glob(&p[1..], &s[1..]),
    }
}

fn ref_value_matches(base: &str, policy: &str, value: &str) -> bool {
    match base {
        "StringEquals" | "StringNotEquals" => policy == value,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
            policy.to_lowercase() == value.to_lowercase()
        }
        "StringLike" | "StringNotLike" => {
            let p: Vec<char> = policy.chars().collect();
            let s: Vec<char> = value.chars().collect();
            ref_glob(&p, &s)
        }
        _ => unreachable!(),
    }
}

fn ref_condition(op: &str, values: &[String], request: Option<&str>) -> bool {
    let (qual, rest) = match op.split_once(':') {
        Some((q, r)) => (q, r),
        None => ("", op),
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    if base == "Null" {
        return values.iter().any(|v| match v.as_str() {
            "true" => request.is_none(),
            "false" => request.is_some(),
            _ => unreachable!(),
        });
    }
    let negated = base.contains("Not");
    let Some(x) = request else {
        return match qual {
            "ForAllValues" => true,
            _ if if_exists => true,
            "ForAnyValue" => false,
            _ => negated,
        };
    };
    let request_set = [x];
    let matches = |y: &str| values.iter().any(|v| ref_value_matches(base, v, y));
    match (qual, negated) {
        ("ForAnyValue", false) => request_set.iter().any(|y| matches(y)),
        ("ForAnyValue", true) => request_set.iter().any(|y| !matches(y)),
        ("ForAllValues", false) => request_set.iter().all(|y| matches(y)),
        ("ForAllValues", true) => request_set.iter().all(|y| !matches(y)),
        (_, false) => matches(x),
        (_, true) => !matches(x),
    }
}

#[derive(Clone, Debug)]
struct Cond {
    op: String,
    claim: &'static str,
    values: Vec<String>,
}

#[derive(Clone, Debug)]
struct Stmt {
    allow: bool,
    conds: Vec<Cond>,
}

/// Concrete request: claim → value (None: absent).
type Concrete = Vec<(&'static str, Option<String>)>;

fn ref_policy(stmts: &[Stmt], req: &Concrete) -> bool {
    let get = |c: &str| {
        req.iter()
            .find(|(k, _)| *k == c)
            .and_then(|(_, v)| v.clone())
    };
    let applies = |s: &Stmt| {
        s.conds
            .iter()
            .all(|c| ref_condition(&c.op, &c.values, get(c.claim).as_deref()))
    };
    let allowed = stmts.iter().any(|s| s.allow && applies(s));
    let denied = stmts.iter().any(|s| !s.allow && applies(s));
    allowed && !denied
}

// ------------------------------------------------------------------------------------------
// Generators

fn op_strategy() -> impl Strategy<Value = String> {
    let bases = prop::sample::select(vec![
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "Null",
    ]);
    let quals = prop::sample::select(vec!["", "ForAnyValue:", "ForAllValues:"]);
    (bases, quals, any::<bool>()).prop_map(|(b, q, ie)| {
        if b == "Null" {
            "Null".to_string()
        } else {
            format!("{q}{b}{}", if ie { "IfExists" } else { "" })
        }
    })
}

fn pattern_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!['a', 'A', 'b', ':', '/', '*', '?']),
        0..6,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn value_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!['a', 'A', 'b', ':', '/']), 0..6)
        .prop_map(|v| v.into_iter().collect())
}

fn cond_strategy() -> impl Strategy<Value = Cond> {
    (
        op_strategy(),
        prop::sample::select(CLAIMS.to_vec()),
        prop::collection::vec(pattern_strategy(), 1..4),
        prop::collection::vec(any::<bool>(), 1..3),
    )
        .prop_map(|(op, claim, values, bools)| {
            let values = if op == "Null" {
                bools.iter().map(|b| b.to_string()).collect()
            } else {
                values
            };
            Cond { op, claim, values }
        })
}

fn stmts_strategy() -> impl Strategy<Value = Vec<Stmt>> {
    prop::collection::vec(
        (
            prop::bool::weighted(0.75),
            prop::collection::vec(cond_strategy(), 0..4),
        )
            .prop_map(|(allow, conds)| {
                // one (operator, key) pair per statement: JSON keeps the last duplicate
                let mut seen = Vec::new();
                let conds = conds
                    .into_iter()
                    .filter(|c| {
                        let k = (c.op.clone(), c.claim);
                        let dup = seen.contains(&k);
                        seen.push(k);
                        !dup
                    })
                    .collect();
                Stmt { allow, conds }
            }),
        1..4,
    )
}

fn concrete_strategy() -> impl Strategy<Value = Concrete> {
    prop::collection::vec(prop::option::weighted(0.8, value_strategy()), 3).prop_map(|vals| {
        CLAIMS
            .iter()
            .copied()
            .zip(vals)
            .collect::<Vec<(&'static str, Option<String>)>>()
    })
}

/// A request value with holes: literal runs and up to two holes.
fn holed_strategy() -> impl Strategy<Value = Val> {
    prop::collection::vec(
        prop_oneof![
            3 => value_strategy().prop_map(VPart::Lit),
            1 => prop::sample::select(vec![Hole::Any, Hole::NoColon, Hole::Digits, Hole::Segment]).prop_map(VPart::Hole),
        ],
        0..4,
    )
    .prop_filter("at most two holes", |parts| {
        parts.iter().filter(|p| matches!(p, VPart::Hole(_))).count() <= 2
    })
    .prop_map(|parts| {
        let mut v = Val::default();
        for p in parts {
            match p {
                VPart::Lit(s) => v.push_lit(&s),
                VPart::Hole(h) => v.push_hole(h),
            }
        }
        v
    })
}

/// Every filling of a value's holes with strings of length ≤ 2 from the hole's class.
fn fillings(v: &Val) -> Vec<String> {
    let mut out = vec![String::new()];
    for p in &v.parts {
        match p {
            VPart::Lit(s) => out.iter_mut().for_each(|o| o.push_str(s)),
            VPart::Hole(h) => {
                let alphabet: &[char] = match h {
                    Hole::Any => &['a', 'A', ':', '/'],
                    Hole::NoColon => &['a', 'b', '/'],
                    Hole::Digits => &['1', '2'],
                    Hole::Segment => &['a', 'b', '@'],
                };
                let mut fills = vec![String::new()];
                for &a in alphabet {
                    fills.push(a.to_string());
                    for &b in alphabet {
                        fills.push(format!("{a}{b}"));
                    }
                }
                out = out
                    .iter()
                    .flat_map(|o| fills.iter().map(move |f| format!("{o}{f}")))
                    .collect();
            }
        }
    }
    out
}

fn request_of(c: &Concrete) -> Request {
    let mut r = Request::new(ISS);
    for (k, v) in c {
        r.set(
            k,
            match v {
                Some(s) => Presence::Present(Val::lit(s.clone())),
                None => Presence::Absent,
            },
        );
    }
    r
}

fn policy_json(stmts: &[Stmt]) -> String {
    let statements: Vec<serde_json::Value> = stmts
        .iter()
        .map(|s| {
            let mut cond = serde_json::Map::new();
            for c in &s.conds {
                let op = cond
                    .entry(c.op.clone())
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
                op.as_object_mut().unwrap().insert(
                    format!("{ISS}:{}", c.claim),
                    serde_json::Value::from(c.values.clone()),
                );
            }
            let mut st = serde_json::json!({
                "Effect": if s.allow { "Allow" } else { "Deny" },
                "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{ISS}")},
                "Action": "sts:AssumeRoleWithWebIdentity",
            });
            if !cond.is_empty() {
                st["Condition"] = serde_json::Value::Object(cond);
            }
            st
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn eval_json(stmts: &[Stmt], req: &Request) -> Tri {
    let text = policy_json(stmts);
    let node = oidc_lint::source::json::parse(&text).unwrap_or_else(|e| panic!("{}", e.message));
    let doc = policy_from_tree(0, &node, "p".into(), None, Family::Json);
    eval_policy(&doc, req)
}

fn templates(values: &[String]) -> Vec<Template> {
    values.iter().map(|v| Template::lit(v.clone())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// Known request values: the evaluator equals the reference on every condition.
    #[test]
    fn conditions_exact(c in cond_strategy(), req in concrete_strategy()) {
        let r = request_of(&req);
        let got = eval_raw(&c.op, &format!("{ISS}:{}", c.claim), &templates(&c.values), &r);
        let value = req.iter().find(|(k, _)| *k == c.claim).unwrap().1.clone();
        let want = ref_condition(&c.op, &c.values, value.as_deref());
        prop_assert_eq!(got, Tri::from_bool(want), "{:?} on {:?}", c, value);
    }

    /// Holed request values and unknown presence: every definite answer holds for every filling.
    #[test]
    fn conditions_sound(c in cond_strategy(), v in holed_strategy(), unknown_presence in prop::bool::weighted(0.2)) {
        let mut r = Request::new(ISS);
        let key = format!("{ISS}:{}", c.claim);
        r.set(c.claim, if unknown_presence { Presence::Unknown } else { Presence::Present(v.clone()) });
        let got = eval_raw(&c.op, &key, &templates(&c.values), &r);
        let mut cases: Vec<Option<String>> = if unknown_presence {
            let mut all: Vec<Option<String>> = fillings(&Val::hole(Hole::Any)).into_iter().map(Some).collect();
            all.push(None);
            all
        } else {
            fillings(&v).into_iter().map(Some).collect()
        };
        cases.dedup();
        if v.known().is_some() && !unknown_presence {
            prop_assert_ne!(got, Tri::Unknown, "known value must give a definite answer");
        }
        for f in cases {
            let want = ref_condition(&c.op, &c.values, f.as_deref());
            match got {
                Tri::True => prop_assert!(want, "{:?}: True but {:?} fails", c, f),
                Tri::False => prop_assert!(!want, "{:?}: False but {:?} matches", c, f),
                Tri::Unknown => {}
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Whole policies (statements OR-ed, conditions AND-ed, Deny wins), parsed from JSON.
    #[test]
    fn policies_exact(stmts in stmts_strategy(), req in concrete_strategy()) {
        let got = eval_json(&stmts, &request_of(&req));
        prop_assert_eq!(got, Tri::from_bool(ref_policy(&stmts, &req)), "{:?} / {:?}", stmts, req);
    }

    /// Whole policies with a holed `sub`: definite answers hold for every filling.
    #[test]
    fn policies_sound(stmts in stmts_strategy(), req in concrete_strategy(), sub in holed_strategy()) {
        let mut r = request_of(&req);
        r.set("sub", Presence::Present(sub.clone()));
        let got = eval_json(&stmts, &r);
        for f in fillings(&sub) {
            let mut c = req.clone();
            c[0].1 = Some(f.clone());
            let want = ref_policy(&stmts, &c);
            match got {
                Tri::True => prop_assert!(want, "True but sub {:?} is rejected", f),
                Tri::False => prop_assert!(!want, "False but sub {:?} is admitted", f),
                Tri::Unknown => {}
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// The linear-space matcher (`oidc_lint::wildcard`) against the straightforward search it
// replaced: depth-first reachability on the full (pattern × subject) grid.

use oidc_lint::analysis::wildcard::{self, PEl, SEl};

fn ref_reaches(n: usize, m: usize, moves: impl Fn(usize, usize, &mut Vec<(usize, usize)>)) -> bool {
    let mut seen = vec![false; (n + 1) * (m + 1)];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if std::mem::replace(&mut seen[i * (m + 1) + j], true) {
            continue;
        }
        if (i, j) == (n, m) {
            return true;
        }
        moves(i, j, &mut stack);
    }
    false
}

fn ref_search(p: &[PEl], s: &[SEl], hole_moves: bool) -> bool {
    ref_reaches(p.len(), s.len(), |i, j, next| {
        let (pi, sj) = (p.get(i).copied(), s.get(j).copied());
        if pi == Some(PEl::Star) {
            next.push((i + 1, j));
            if sj.is_some() {
                next.push((i, j + 1));
            }
        }
        match (pi, sj) {
            (Some(PEl::Ch(c)), Some(SEl::Ch(d))) if c == d => next.push((i + 1, j + 1)),
            (Some(PEl::One), Some(SEl::Ch(_))) => next.push((i + 1, j + 1)),
            _ => {}
        }
        if let (true, Some(SEl::Hole(h))) = (hole_moves, sj) {
            next.push((i, j + 1));
            match pi {
                Some(PEl::Ch(c)) if h.admits(c) => next.push((i + 1, j)),
                Some(PEl::One) => next.push((i + 1, j)),
                _ => {}
            }
        }
    })
}

fn pel_strategy() -> impl Strategy<Value = Vec<PEl>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec!['a', 'b', ':', '1']).prop_map(PEl::Ch),
            1 => Just(PEl::One),
            2 => Just(PEl::Star),
        ],
        0..10,
    )
}

fn sel_strategy() -> impl Strategy<Value = Vec<SEl>> {
    prop::collection::vec(
        prop_oneof![
            5 => prop::sample::select(vec!['a', 'b', ':', '1']).prop_map(SEl::Ch),
            1 => prop::sample::select(vec![Hole::Any, Hole::NoColon, Hole::Digits, Hole::Segment]).prop_map(SEl::Hole),
        ],
        0..10,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20000, ..ProptestConfig::default() })]

    /// Same answers as the full-grid search, with and without holes, on small inputs (which
    /// never reach the work limit).
    #[test]
    fn matcher_equals_grid_search(p in pel_strategy(), s in sel_strategy()) {
        prop_assert_eq!(wildcard::possible(&p, &s), Some(ref_search(&p, &s, true)), "possible {:?} {:?}", p, s);
        prop_assert_eq!(wildcard::covers(&p, &s), Some(ref_search(&p, &s, false)), "covers {:?} {:?}", p, s);
    }

    /// Hole-free subjects of runs of one letter (where greedy placement and `?` interact).
    #[test]
    fn matcher_equals_grid_search_repetitive(
        p in prop::collection::vec(prop_oneof![Just(PEl::Ch('a')), Just(PEl::Ch('b')), Just(PEl::One), Just(PEl::Star)], 0..14),
        s in prop::collection::vec(prop_oneof![4 => Just(SEl::Ch('a')), 1 => Just(SEl::Ch('b'))], 0..14),
    ) {
        prop_assert_eq!(wildcard::possible(&p, &s), Some(ref_search(&p, &s, true)), "{:?} {:?}", p, s);
    }
}

/// Large inputs stay within the limit when they can be decided linearly, and are `None`
/// (unknown), not a huge allocation, when they cannot.
#[test]
fn matcher_large_inputs() {
    let n = 3_000_000;
    let mut p: Vec<PEl> = (0..n / 2).flat_map(|_| [PEl::Star, PEl::Ch('a')]).collect();
    p.push(PEl::Ch('b'));
    let s: Vec<SEl> = std::iter::repeat_n(SEl::Ch('a'), n).collect();
    assert_eq!(wildcard::possible(&p, &s), Some(false));
    p.pop();
    assert_eq!(wildcard::possible(&p, &s), Some(true));
    let mut holed = vec![SEl::Hole(Hole::Any)];
    holed.extend(&s);
    assert_eq!(wildcard::possible(&p, &holed), None);
    assert!(wildcard::take_over_limit().is_some());
}
