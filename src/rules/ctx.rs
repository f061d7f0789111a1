//! What rules see: the scan, plus the cross-file views several rules share, each computed at
//! most once per check (rules run in parallel; the first to ask computes, the others wait).
//!
//! `Ctx` dereferences to [`Scan`], so a rule reads the model exactly as before; the shared views
//! (`trusts`, `ci_trusts`, `ci_roles`, `roles`, `analysis`, `judged`, `callers`, `providers`) replace
//! per-rule recomputation, which made a scan of many repositories quadratic. [`crate::check`]
//! computes them all before any rule runs; a view whose computation uses rayon must never be
//! first asked for from inside a rule (a worker waiting in it may run another rule that asks
//! for the same view).

use crate::analysis::permissions::{CiRole, ci_roles};
use crate::analysis::subjects::{self, RoleAnalysis, RoleDef};
use crate::analysis::trust::{CiTrust, ci_trusts};
use crate::model::Scan;
use crate::model::{Job, PolicyDoc, Workflow};
use crate::source::FileId;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

pub struct Ctx<'a> {
    scan: &'a Scan,
    /// The files per-file rules ([`super::Rule::per_file`]) judge in this check: all when `None`.
    focus: Option<&'a HashSet<FileId>>,
    ci_trusts: OnceLock<Vec<CiTrust<'a>>>,
    trusts: OnceLock<Vec<CiTrust<'a>>>,
    ci_roles: OnceLock<Vec<CiRole<'a>>>,
    analysis: OnceLock<RoleAnalysis<'a>>,
    judged: OnceLock<Vec<Option<subjects::Judgement<'a>>>>,
    callers: OnceLock<subjects::Callers<'a>>,
    providers: OnceLock<subjects::Providers<'a>>,
    /// Trust policy (by address) → index into `analysis().roles` of the roles holding it.
    role_of_trust: OnceLock<HashMap<usize, Vec<usize>>>,
    gitlab: OnceLock<crate::analysis::gitlab::GitlabAnalysis>,
    gitlab_judged: OnceLock<Vec<Option<crate::analysis::gitlab::GitlabJudgement<'a>>>>,
    tfe_judged: OnceLock<Vec<crate::analysis::tfe::TfeJudgement<'a>>>,
    /// Google Cloud workload identity ([`Ctx::gcp`]).
    gcp: OnceLock<crate::analysis::gcp::GcpView<'a>>,
    /// A view a family of rules outside this module builds for itself ([`Ctx::extension`]).
    extension: OnceLock<Box<dyn std::any::Any + Send + Sync>>,
    /// An earlier check's verdicts for [`Ctx::judged`], which leaves its own here
    /// ([`Ctx::with_judge_memo`], [`Ctx::take_judge_memo`]).
    judge_memo: std::sync::Mutex<subjects::JudgeMemo>,
}

impl<'a> std::ops::Deref for Ctx<'a> {
    type Target = Scan;
    fn deref(&self) -> &Scan {
        self.scan
    }
}

impl<'a> Ctx<'a> {
    pub fn new(scan: &'a Scan) -> Self {
        Ctx::focused(scan, None)
    }
    /// A check in which per-file rules judge only the files in `focus` (the others keep their
    /// previous findings); `None`: every file.
    pub fn focused(scan: &'a Scan, focus: Option<&'a HashSet<FileId>>) -> Self {
        Ctx {
            scan,
            focus,
            ci_trusts: OnceLock::new(),
            trusts: OnceLock::new(),
            ci_roles: OnceLock::new(),
            analysis: OnceLock::new(),
            judged: OnceLock::new(),
            callers: OnceLock::new(),
            providers: OnceLock::new(),
            role_of_trust: OnceLock::new(),
            gitlab: OnceLock::new(),
            gitlab_judged: OnceLock::new(),
            tfe_judged: OnceLock::new(),
            gcp: OnceLock::new(),
            extension: OnceLock::new(),
            judge_memo: Default::default(),
        }
    }
    /// This check judges with the verdicts of an earlier one (see
    /// [`RoleAnalysis::judge_with`]): the caller vouches that no file holding a role or a
    /// policy changed since (the memo is dropped anyway when a role is in a file of the focus).
    pub fn with_judge_memo(self, memo: subjects::JudgeMemo) -> Self {
        *self.judge_memo.lock().unwrap_or_else(|e| e.into_inner()) = memo;
        self
    }
    /// The verdicts of this check's judgement, for the next (empty when [`Ctx::judged`] did
    /// not run: the memo given was not checked against this scan).
    pub fn take_judge_memo(&self) -> subjects::JudgeMemo {
        if self.judged.get().is_none() {
            return Default::default();
        }
        std::mem::take(&mut *self.judge_memo.lock().unwrap_or_else(|e| e.into_inner()))
    }
    /// Whether per-file rules judge `file` in this check.
    pub fn in_focus(&self, file: FileId) -> bool {
        self.focus.is_none_or(|f| f.contains(&file))
    }
    /// The check's one extension view (custom rules' document view), built by the first rule
    /// that asks, like the views above. A check has one such slot, so only one type may use it.
    pub fn extension<T: std::any::Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> &T {
        self.extension
            .get_or_init(|| Box::new(init()))
            .downcast_ref::<T>()
            .expect("a check's extension view has one type")
    }
    /// Every allow statement trusting a CI issuer's OIDC tokens ([`ci_trusts`]).
    pub fn ci_trusts(&self) -> &[CiTrust<'a>] {
        self.ci_trusts.get_or_init(|| ci_trusts(self.scan))
    }
    /// Google Cloud workload identity providers and pool members, parsed.
    pub fn gcp(&self) -> &crate::analysis::gcp::GcpView<'a> {
        self.gcp
            .get_or_init(|| crate::analysis::gcp::GcpView::new(self.scan))
    }
    /// Every allow statement trusting GitHub's OIDC issuer (the GitHub-only rules' view of
    /// [`Ctx::ci_trusts`]).
    pub fn trusts(&self) -> &[CiTrust<'a>] {
        self.trusts.get_or_init(|| {
            self.ci_trusts()
                .iter()
                .filter(|t| t.ci.is_github())
                .cloned()
                .collect()
        })
    }
    /// Every role a CI issuer can assume, with its permission policies ([`ci_roles`]).
    pub fn ci_roles(&self) -> &[CiRole<'a>] {
        self.ci_roles
            .get_or_init(|| ci_roles(self.scan, self.ci_trusts()))
    }
    /// The cross-file analysis: roles, and the roles each job assumes with its subjects.
    pub fn analysis(&self) -> &RoleAnalysis<'a> {
        self.analysis
            .get_or_init(|| subjects::analyze_with(self.scan, self.callers()))
    }
    /// [`RoleAnalysis::judge`]: each assumption against its role's trust policy.
    pub fn judged(&self) -> &[Option<subjects::Judgement<'a>>] {
        self.judged.get_or_init(|| {
            let an = self.analysis();
            let mut memo = self.judge_memo.lock().unwrap_or_else(|e| e.into_inner());
            // A role or trust policy in a changed file: its verdicts are judged again.
            if let Some(focus) = self.focus
                && an.roles.iter().any(|r| {
                    focus.contains(&r.file) || r.trust.is_some_and(|t| focus.contains(&t.file))
                })
            {
                *memo = Default::default();
            }
            an.judge_with(self.scan, &mut memo)
        })
    }
    /// GitLab pipelines, their jobs and the AWS roles they assume.
    pub fn gitlab(&self) -> &crate::analysis::gitlab::GitlabAnalysis {
        self.gitlab.get_or_init(|| {
            crate::analysis::gitlab::analyze(self.scan, &self.scan.settings.role_mappings)
        })
    }
    /// Each GitLab assumption against its role's trust policy (indexed like
    /// `gitlab().assumptions`).
    pub fn gitlab_judged(&self) -> &[Option<crate::analysis::gitlab::GitlabJudgement<'a>>] {
        self.gitlab_judged
            .get_or_init(|| self.gitlab().judge(&self.analysis().roles))
    }
    /// HCP Terraform workspaces' runs against their roles' trust policies.
    pub fn tfe_judged(&self) -> &[crate::analysis::tfe::TfeJudgement<'a>] {
        self.tfe_judged
            .get_or_init(|| crate::analysis::tfe::judge(self.scan, &self.analysis().roles))
    }
    /// Every role the scan defines.
    pub fn roles(&self) -> &[RoleDef<'a>] {
        &self.analysis().roles
    }
    /// Every OIDC provider the scan defines.
    pub fn providers(&self) -> &subjects::Providers<'a> {
        self.providers
            .get_or_init(|| subjects::Providers::new(self.scan))
    }
    /// The jobs calling each reusable workflow of the scan (`uses: ./.github/workflows/…`).
    pub fn callers(&self) -> &subjects::Callers<'a> {
        self.callers
            .get_or_init(|| subjects::Callers::index(self.scan))
    }
    /// Jobs elsewhere in the scan that call the reusable workflow in `file`.
    pub fn callers_of(&self, file: FileId) -> &[(&'a Workflow, &'a Job)] {
        self.callers().of(file)
    }
    /// The roles (from [`Ctx::roles`]) whose trust policy is `policy`.
    pub fn roles_trusting(&self, policy: &PolicyDoc) -> impl Iterator<Item = &RoleDef<'a>> {
        let map = self.role_of_trust.get_or_init(|| {
            let mut m: HashMap<usize, Vec<usize>> = HashMap::new();
            for (i, r) in self.roles().iter().enumerate() {
                if let Some(t) = r.trust {
                    m.entry(t as *const PolicyDoc as usize).or_default().push(i);
                }
            }
            m
        });
        let roles = self.roles();
        map.get(&(policy as *const PolicyDoc as usize))
            .into_iter()
            .flatten()
            .map(move |&i| &roles[i])
    }
    /// Whether the role holding `policy` as its trust policy is known to have only read
    /// access (the cross-file role analysis: IaC roles, and IAM JSON trust files with their
    /// permission files beside them). `false` whenever it is not known.
    pub fn role_read_only(&self, policy: &PolicyDoc) -> bool {
        self.roles_trusting(policy)
            .any(|r| matches!(r.write, Some(None)))
            || crate::analysis::trust::model_role_read_only(self.scan, policy)
    }
}
