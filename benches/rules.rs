//! Rule evaluation over a scanned repository (the model is built once, outside the timing),
//! and the whole scan for comparison. Run with `cargo bench --bench rules`.

mod inputs;

use criterion::{Criterion, criterion_group, criterion_main};
use oidc_lint::scan::{ScanOptions, scan};
use oidc_lint::{Selection, check};
use std::hint::black_box;

fn bench_rules(c: &mut Criterion) {
    let repo = inputs::repo(200);
    let opts = ScanOptions {
        root: repo.path().to_path_buf(),
        paths: vec![repo.path().to_path_buf()],
        max_file_size: 10 << 20,
        settings: Default::default(),
    };
    let s = scan(&opts);
    assert_eq!(s.files_scanned(), 400);
    let sel = Selection::default();
    let mut g = c.benchmark_group("repo_200_workflows_200_policies");
    g.sample_size(30);
    g.bench_function("rules", |b| b.iter(|| check(black_box(&s), &sel)));
    g.bench_function("scan", |b| b.iter(|| scan(black_box(&opts))));
    g.finish();
}

criterion_group!(benches, bench_rules);
criterion_main!(benches);
