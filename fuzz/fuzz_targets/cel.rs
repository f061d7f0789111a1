//! CEL for Google Cloud workload identity: parse any text as an `attribute_condition` and
//! evaluate it with every claim unknown and with every claim a fixed string. Neither may panic,
//! hang or overflow the stack, and a verdict with known claims must be one the unknown run allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_lint::analysis::eval::Val;
use oidc_lint::analysis::gcp_cel::{self, Claim, Env, Ns};

struct All(Claim);
impl Env for All {
    fn assertion(&self, _: &str) -> Claim {
        self.0.clone()
    }
    fn mapped(&self, _: Ns, _: &str) -> Claim {
        self.0.clone()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = gcp_cel::parse(text) else {
        return;
    };
    let unknown = gcp_cel::eval_bool(&e, &All(Claim::Unknown));
    let known = gcp_cel::eval_bool(&e, &All(Claim::Str(Val::lit("acme/app"))));
    assert!(!known.t || unknown.t);
    assert!(!known.f || unknown.f);
});
