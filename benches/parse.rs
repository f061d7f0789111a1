//! Parse-to-model hot paths: YAML and JSON front ends, then the model builders.
//! Run with `cargo bench --bench parse` (never part of `cargo test` or CI).

mod inputs;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oidc_lint::frontend::iam_json::Family;
use oidc_lint::source::{json, yaml};
use std::hint::black_box;

fn bench_yaml(c: &mut Criterion) {
    let text: String = (0..20).map(inputs::workflow_yaml).collect::<Vec<_>>()[7].clone();
    let mut g = c.benchmark_group("yaml");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| yaml::parse(black_box(&text)).unwrap())
    });
    let docs = yaml::parse(&text).unwrap();
    g.bench_function("workflow_model", |b| {
        b.iter(|| oidc_lint::frontend::github_actions::workflow_from_tree(0, black_box(&docs[0])))
    });
    g.bench_function("parse_to_model", |b| {
        b.iter(|| {
            let docs = yaml::parse(black_box(&text)).unwrap();
            oidc_lint::frontend::github_actions::workflow_from_tree(0, &docs[0])
        })
    });
    g.finish();
}

fn bench_json(c: &mut Criterion) {
    let text = inputs::trust_json(2);
    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| json::parse(black_box(&text)).unwrap())
    });
    g.bench_function("parse_to_model", |b| {
        b.iter(|| {
            let root = json::parse(black_box(&text)).unwrap();
            oidc_lint::frontend::iam_json::policy_from_tree(
                0,
                &root,
                "trust.json".into(),
                None,
                Family::Json,
            )
        })
    });
    g.finish();

    // One large document (a plan-sized file): throughput must not fall with size.
    let big = format!(
        "{{\"Statement\": [{}]}}",
        (0..2000)
            .map(|i| {
                let t = inputs::trust_json(i);
                let s = t.find('[').unwrap();
                let e = t.rfind(']').unwrap();
                t[s + 1..e].to_string()
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut g = c.benchmark_group("json_large");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("parse_to_model", |b| {
        b.iter(|| {
            let root = json::parse(black_box(&big)).unwrap();
            oidc_lint::frontend::iam_json::policy_from_tree(
                0,
                &root,
                "big.json".into(),
                None,
                Family::Json,
            )
        })
    });
    g.finish();
}

/// The AWS-managed policy snapshot: indexing its lines (what the first lookup pays), parsing
/// every policy (the most a scan can pay), and a lookup with judging once parsed.
fn bench_managed_policies(c: &mut Criterion) {
    let mut g = c.benchmark_group("managed_policies");
    g.sample_size(20);
    g.bench_function("index_snapshot", |b| {
        b.iter(|| oidc_lint::analysis::managed_policies::parse_snapshot(false))
    });
    g.bench_function("parse_every_policy", |b| {
        b.iter(|| oidc_lint::analysis::managed_policies::parse_snapshot(true))
    });
    g.bench_function("lookup_and_judge", |b| {
        b.iter(|| {
            let p = oidc_lint::analysis::managed_policies::lookup(black_box(
                "arn:aws:iam::aws:policy/PowerUserAccess",
            ))
            .unwrap();
            (
                p.admin_equivalent(),
                p.escalation(),
                p.read_only_by_design(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_yaml, bench_json, bench_managed_policies);
criterion_main!(benches);
