//! The page's own projection of a [`TestRunReport`]: a small *core* that the overview,
//! filters, group table and test list need, loaded up front, and *detail chunks* (each
//! result's conversation, evaluator evidence, sidecar location; each attempt's captured
//! output) that the page parses only when the user drills down (or searches).
//!
//! The report JSON itself (`report.json`) is unchanged; this layout is private to the page
//! and versioned by `v`. Strings that repeat (run ids, binary ids, statuses, summaries,
//! sidecar directories, trial-name suffixes, ...) are interned in the core's `S` table and
//! referenced by index (`-1` for none); per-result and per-trial data are columnar arrays.
//!
//! The grouping (which page group and trial each result belongs to) is computed here, the
//! way the page used to compute it from the full report: trial groups first, then
//! standalone rampart tests, then groups for results whose test the report does not list.
//!
//! The words the page shows come from `rampart_report`'s view layer, so the page says what
//! the terminal says: the run's verdict line ([`verdict_line`]), why each failing group
//! failed ([`group_reason`]), and for each trial or test that is not SAFE and each result
//! that is not SAFE, its evidence line ([`evidence_text`], [`killed_words`]). The rest of
//! this module's text is display formatting only: paths made relative, incomplete-run
//! reasons in words (see [`rampart_report::IncompleteKind::words`]).

use std::collections::HashMap;

use rampart_report::{
    AttemptOutcome, ExecutionKey, GroupVerdict, HTML_MAX_TEXT_BYTES, IncompleteReason, ReportView,
    ReportedResult, TestRunReport, TrialClass, bound_text, clean_line, evidence_text, evidence_words,
    group_reason, label_words, location_words, scope_evidence_words, verdict_line, why_words,
};
use serde_json::{Map, Value, json};

/// Version of the layout below (`v` in the core).
pub(crate) const LAYOUT_VERSION: u32 = 2;

/// Longest "why" or evidence line in the core, in bytes: it is one line in a row, and the
/// full text is in the conversation.
const WHY_MAX_BYTES: usize = 600;

/// The page data: the core JSON and the detail chunk JSONs, not yet escaped.
pub(crate) struct Projection {
    pub core: String,
    pub chunks: Vec<String>,
}

#[derive(Default)]
struct Strings {
    list: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn id(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as i64;
        self.list.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }

    fn opt(&mut self, s: Option<&str>) -> i64 {
        s.map_or(-1, |s| self.id(s))
    }
}

struct Group<'a> {
    kind: &'static str,
    raw: Option<Value>,
    binary: Option<&'a str>,
    name: &'a str,
    /// Why it failed or is not SAFE, in one line (see the module docs).
    why: Option<String>,
    /// Where its test function is defined, `path:line`.
    location: Option<String>,
    /// Trials by execution (the group's binary id is part of every key).
    trial_by_key: HashMap<ExecutionKey<'a>, usize>,
}

struct Trial<'a> {
    group: usize,
    run_id: Option<&'a str>,
    test_name: &'a str,
    trial_index: Option<u32>,
    stress_index: Option<u32>,
    attempts: Vec<u32>,
    class: String,
    retried: Vec<u32>,
    /// The counted attempt.
    counted: Option<u32>,
    /// nextest's outcome when the counted attempt was killed.
    killed: Option<&'static str>,
    /// Why it is not SAFE, in one line.
    why: Why<'a>,
    exec: i64,
}

/// Why a trial is not SAFE (see [`why_line`]).
enum Why<'a> {
    None,
    /// How its counted attempt was killed, and its evidence.
    Text(String),
    /// The evidence line of this result: stored as a reference to the result, whose evidence
    /// line the core has anyway.
    Result(&'a ReportedResult),
}

#[derive(Default)]
struct Grouping<'a> {
    groups: Vec<Group<'a>>,
    /// Groups by (binary id, name).
    group_by_key: HashMap<(Option<&'a str>, &'a str), usize>,
    trials: Vec<Trial<'a>>,
    exec_by_key: HashMap<ExecutionKey<'a>, usize>,
}

impl<'a> Grouping<'a> {
    fn new_group(
        &mut self,
        kind: &'static str,
        raw: Option<Value>,
        binary: Option<&'a str>,
        name: &'a str,
    ) -> usize {
        let idx = self.groups.len();
        self.groups.push(Group {
            kind,
            raw,
            binary,
            name,
            why: None,
            location: None,
            trial_by_key: HashMap::new(),
        });
        self.group_by_key.insert((binary, name), idx);
        idx
    }

    fn add_trial(&mut self, mut trial: Trial<'a>) -> usize {
        let group = &mut self.groups[trial.group];
        let key = ExecutionKey::new(trial.run_id, group.binary, trial.test_name, trial.stress_index);
        trial.exec = self.exec_by_key.get(&key).map_or(-1, |&i| i as i64);
        let idx = self.trials.len();
        group.trial_by_key.insert(key, idx);
        self.trials.push(trial);
        idx
    }
}

/// Largest detail chunk, in bytes of JSON (a chunk holds at least one item).
pub(crate) const DETAIL_CHUNK_BYTES: usize = 1024 * 1024;

/// Collects items into chunks of about [`DETAIL_CHUNK_BYTES`].
#[derive(Default)]
struct Chunker {
    chunks: Vec<String>,
    results: Vec<String>,
    outputs: Vec<String>,
    size: usize,
    /// First result index of each chunk.
    result_starts: Vec<usize>,
    n_results: usize,
}

impl Chunker {
    fn flush(&mut self) {
        if self.results.is_empty() && self.outputs.is_empty() {
            return;
        }
        let chunk = format!("{{\"r\":[{}],\"o\":[{}]}}", self.results.join(","), self.outputs.join(","));
        self.chunks.push(chunk);
        self.results.clear();
        self.outputs.clear();
        self.size = 0;
    }

    /// Starts a new chunk when `len` more bytes would overflow the current one; returns
    /// the chunk index the next item goes to.
    fn make_room(&mut self, len: usize) -> usize {
        if self.size > 0 && self.size + len > DETAIL_CHUNK_BYTES {
            self.flush();
        }
        if self.results.is_empty() && self.outputs.is_empty() {
            self.result_starts.push(self.n_results);
        }
        self.size += len + 1;
        self.chunks.len()
    }

    fn push_result(&mut self, item: String) {
        self.make_room(item.len());
        self.results.push(item);
        self.n_results += 1;
    }

    fn push_output(&mut self, item: String) -> usize {
        let chunk = self.make_room(item.len());
        self.outputs.push(item);
        chunk
    }
}

/// Builds the core and the detail chunks.
pub(crate) fn project(report: &TestRunReport) -> Projection {
    let view = ReportView::new(report);
    let mut s = Strings::default();
    let mut grouping = Grouping::default();
    for (i, t) in report.tests.iter().enumerate() {
        grouping.exec_by_key.insert(ExecutionKey::of_test(t), i);
    }

    // Trial groups, then standalone rampart tests, then results' own groups and trials.
    for raw in &report.trial_groups {
        let mut value = serde_json::to_value(raw).expect("a TrialGroup serializes");
        if let Value::Object(map) = &mut value {
            // What the page does not read: the trials come separately, and the evidence label,
            // trials needed and detail come in the words every output uses.
            for unused in ["trials", "evidence", "trials_needed", "detail", "attack_success_rate", "location"]
            {
                map.remove(unused);
            }
            map.insert("evidence_words".into(), Value::String(evidence_words(raw)));
        }
        let g = grouping.new_group("group", Some(value), raw.binary_id.as_deref(), &raw.name);
        grouping.groups[g].location = raw.location.as_ref().map(|l| bounded_line(location_words(l)));
        if raw.verdict == GroupVerdict::Failed {
            grouping.groups[g].why = Some(bounded_line(group_reason(&view, raw)));
        }
        for t in &raw.trials {
            let why = if t.class == TrialClass::Safe {
                Why::None
            } else {
                let counted: Vec<&ReportedResult> =
                    view.results_of_trial(raw, t).iter().copied().filter(|r| !r.superseded).collect();
                why_line(t.killed, &counted, view.trial_evidence(raw, t))
            };
            grouping.add_trial(Trial {
                group: g,
                run_id: t.run_id.as_deref(),
                test_name: &t.test_name,
                trial_index: t.trial_index,
                stress_index: t.stress_index,
                attempts: t.attempts.clone(),
                class: t.class.as_str().to_owned(),
                retried: t.unsafe_retried_attempts.clone(),
                counted: t.counted_attempt,
                killed: t.killed.map(|k| k.as_str()),
                why,
                exec: -1,
            });
        }
    }
    for t in &report.tests {
        let Some(safety) = &t.safety else { continue };
        if safety.trial_group.is_some() {
            continue;
        }
        let g = match grouping.group_by_key.get(&(t.binary_id.as_deref(), t.test_name.as_str())) {
            Some(&g) => g,
            None => grouping.new_group("standalone", None, t.binary_id.as_deref(), &t.test_name),
        };
        if grouping.groups[g].kind != "standalone" {
            continue;
        }
        if grouping.groups[g].location.is_none() {
            grouping.groups[g].location = t.location.as_ref().map(|l| bounded_line(location_words(l)));
        }
        // A standalone test's own "why" is its trial's: the page takes it from there.
        let why = if safety.class == TrialClass::Safe {
            Why::None
        } else {
            let counted: Vec<&ReportedResult> = view.counted_results_of_test(t).collect();
            why_line(safety.killed, &counted, view.test_evidence(t))
        };
        grouping.add_trial(Trial {
            group: g,
            run_id: t.run_id.as_deref(),
            test_name: &t.test_name,
            trial_index: None,
            stress_index: t.stress_index,
            attempts: t.attempts.iter().map(|a| a.attempt).collect(),
            class: safety.class.as_str().to_owned(),
            retried: safety.unsafe_retried_attempts.clone(),
            counted: safety.counted_attempt,
            killed: safety.killed.map(|k| k.as_str()),
            why,
            exec: -1,
        });
    }
    let n = report.results.len();
    let mut r_trial = Vec::with_capacity(n);
    for r in &report.results {
        let id = &r.identity;
        let binary = id.binary_id.as_deref();
        let gname = r.base_name.as_deref().unwrap_or(&id.test_name);
        let g = match grouping
            .group_by_key
            .get(&(binary, gname))
            .or_else(|| grouping.group_by_key.get(&(binary, id.test_name.as_str())))
        {
            Some(&g) => g,
            None => grouping.new_group("orphan", None, binary, gname),
        };
        let tk =
            ExecutionKey::new(Some(&id.run_id), grouping.groups[g].binary, &id.test_name, id.stress_index);
        let t = match grouping.groups[g].trial_by_key.get(&tk) {
            Some(&t) => t,
            None => grouping.add_trial(Trial {
                group: g,
                run_id: Some(&id.run_id),
                test_name: &id.test_name,
                trial_index: r.trial_index,
                stress_index: id.stress_index,
                attempts: Vec::new(),
                class: r.status.as_str().to_owned(),
                retried: Vec::new(),
                counted: None,
                killed: None,
                why: Why::None,
                exec: -1,
            }),
        };
        r_trial.push(t);
    }

    // Detail chunks: results in order, then captured outputs.
    let mut chunker = Chunker::default();
    for r in &report.results {
        let mut result = serde_json::to_value(bounded(&r.result)).expect("a SafetyResult serializes");
        if let Value::Object(map) = &mut result {
            // In the core already.
            for key in ["status", "summary", "harm_category", "strategy"] {
                map.remove(key);
            }
        }
        let (dir, file) = match r.sidecar.rfind('/') {
            Some(i) => (Some(&r.sidecar[..i + 1]), &r.sidecar[i + 1..]),
            None => (None, r.sidecar.as_str()),
        };
        let source = r.location.as_ref().map(|l| bounded_line(location_words(l)));
        let item = json!([r.recorded_at, s.opt(dir), file, r.line, result, source]);
        chunker.push_result(item.to_string());
    }

    let mut tests_oc = Vec::with_capacity(report.tests.len());
    let mut tests_fl = Vec::with_capacity(report.tests.len());
    let mut tests_a = Vec::with_capacity(report.tests.len() + 1);
    let (mut a_n, mut a_o, mut a_ft, mut a_m, mut a_d, mut a_be, mut a_nr, mut a_ol, mut a_oc) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for (e, t) in report.tests.iter().enumerate() {
        tests_oc.push(s.id(t.outcome.as_str()));
        tests_fl.push(u8::from(t.flaky));
        tests_a.push(a_n.len());
        for a in &t.attempts {
            a_n.push(a.attempt);
            a_o.push(s.id(a.outcome.as_str()));
            a_ft.push(s.opt(a.failure_type.as_deref()));
            a_m.push(s.opt(a.message.as_deref().map(|m| bound_text(m, HTML_MAX_TEXT_BYTES)).as_deref()));
            a_d.push(a.duration_seconds.map_or(Value::Null, |d| json!(d)));
            a_be.push(s.opt(a.body_end.as_deref()));
            a_nr.push(a.n_results);
            match &a.output {
                Some(output) => {
                    a_ol.push(output.encode_utf16().count());
                    let item = json!([e, a.attempt, output]).to_string();
                    a_oc.push(chunker.push_output(item) as i64);
                }
                None => {
                    a_ol.push(0);
                    a_oc.push(-1);
                }
            }
        }
    }
    tests_a.push(a_n.len());
    chunker.flush();

    let n_trials = grouping.trials.len();
    let mut t_ca = Vec::with_capacity(n_trials);
    let mut t_k = Vec::with_capacity(n_trials);
    let mut t_why = Vec::new();
    let result_index: HashMap<*const ReportedResult, usize> =
        report.results.iter().enumerate().map(|(i, r)| (std::ptr::from_ref(r), i)).collect();
    let (mut t_g, mut t_run, mut t_tn, mut t_ti, mut t_si, mut t_cls, mut t_att, mut t_ur, mut t_ex) = (
        Vec::with_capacity(n_trials),
        Vec::with_capacity(n_trials),
        Vec::with_capacity(n_trials),
        Vec::with_capacity(n_trials),
        Vec::with_capacity(n_trials),
        Vec::with_capacity(n_trials),
        Vec::with_capacity(n_trials),
        Vec::with_capacity(n_trials),
        Vec::with_capacity(n_trials),
    );
    for t in &grouping.trials {
        let group_name = grouping.groups[t.group].name;
        t_g.push(t.group);
        t_run.push(s.opt(t.run_id));
        // A trial's name is mostly its group's name plus a suffix (`::trial_07`): intern
        // the suffix (`>= 0`), else the whole name (`-1 - index`).
        t_tn.push(match t.test_name.strip_prefix(group_name) {
            Some(suffix) => s.id(suffix),
            None => -1 - s.id(t.test_name),
        });
        t_ti.push(t.trial_index.map_or(-1, i64::from));
        t_si.push(t.stress_index.map_or(-1, i64::from));
        t_cls.push(s.id(&t.class));
        t_att.push(json!(t.attempts));
        t_ur.push(json!(t.retried));
        // Sparse: most trials have one attempt and were not killed.
        let i = t_g.len() - 1;
        if let Some(counted) = t.counted.filter(|_| t.attempts.len() > 1) {
            t_ca.push([i as i64, i64::from(counted)]);
        }
        if let Some(killed) = t.killed {
            t_k.push([i as i64, s.id(killed)]);
        }
        // `>= 0`: a string; `-1 - r`: the evidence line of result `r`.
        match &t.why {
            Why::None => {}
            Why::Text(text) => t_why.push([i as i64, s.id(text)]),
            Why::Result(r) => {
                if let Some(&ri) = result_index.get(&std::ptr::from_ref(*r)) {
                    t_why.push([i as i64, -1 - ri as i64]);
                }
            }
        }
        t_ex.push(t.exec);
    }

    let (mut r_st, mut r_h, mut r_at, mut r_ix, mut r_su, mut r_sg, mut r_sp, mut r_ev) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for r in &report.results {
        // The evidence line of a result that is not SAFE (sparse: most results are SAFE):
        // what it adds to the summary (` — evidence: ...`), when it adds anything.
        if r.status != rampart::SafetyStatus::Safe {
            let line = evidence_text(&r.result);
            let summary = clean_line(&r.result.summary);
            if let Some(rest) = line.strip_prefix(summary.as_str()).filter(|rest| !rest.is_empty()) {
                r_ev.push(json!([r_st.len(), s.id(&bounded_line(rest.to_owned()))]));
            }
        }
        r_st.push(s.id(r.status.as_str()));
        r_h.push(s.opt(r.harm_category.as_deref()));
        r_at.push(r.identity.attempt);
        r_ix.push(r.result_index);
        r_su.push(s.id(&bound_text(&r.result.summary, HTML_MAX_TEXT_BYTES)));
        r_sg.push(s.opt(r.result.strategy.as_deref()));
        if r.superseded {
            r_sp.push(r_st.len() - 1);
        }
    }

    // Each group's trend over the history: its pass rates run by run, and whether it is unstable.
    let trend_of: HashMap<(Option<&str>, &str), &rampart_report::trends::GroupTrend> = report
        .trends
        .iter()
        .flat_map(|t| &t.groups)
        .map(|g| ((g.binary_id.as_deref(), g.name.as_str()), g))
        .collect();
    let groups: Vec<Value> = grouping
        .groups
        .iter()
        .map(|g| {
            let mut o = Map::new();
            if let Some(t) = trend_of.get(&(g.binary, g.name)) {
                let rates: Vec<Value> = t
                    .pass_rates
                    .iter()
                    .map(|r| r.map_or(Value::Null, |r| json!((r * 1000.0).round() / 1000.0)))
                    .collect();
                o.insert("tr".into(), json!([rates, t.unstable, t.flips]));
            }
            o.insert("k".into(), json!(g.kind));
            o.insert("b".into(), json!(g.binary));
            o.insert("n".into(), json!(g.name));
            if let Some(raw) = &g.raw {
                o.insert("raw".into(), raw.clone());
            }
            if let Some(why) = &g.why {
                o.insert("why".into(), json!(why));
            }
            if let Some(location) = &g.location {
                o.insert("loc".into(), json!(location));
            }
            Value::Object(o)
        })
        .collect();

    // The report's own fields the page shows, without its three big arrays.
    let mut gate_list: Vec<&rampart_report::GateResult> = report.gates.iter().collect();
    gate_list.sort_by_key(|g| g.passed);
    let gates: Vec<Value> = gate_list
        .iter()
        .map(|g| {
            let filter = if g.passed { Value::Null } else { gate_filter(report, g) };
            json!([g.passed, bounded_line(g.scope.clone()), g.gate, bounded_line(g.reason.clone()), filter])
        })
        .collect();
    let head = json!({
        "schema_version": report.schema_version,
        "verdict": report.verdict,
        "run_status": report.run_status,
        "incomplete": report.incomplete,
        "incomplete_reasons": report.incomplete_reasons,
        "total_runs": report.total_runs,
        "passed": report.passed,
        "failed": report.failed,
        "undetermined": report.undetermined,
        "errors": report.errors,
        "duration_seconds": report.duration_seconds,
        "population_summary": report.population_summary,
        "by_harm_category": report.by_harm_category,
        // What each category's trials show at 95% confidence, in words.
        "category_evidence": report
            .by_harm_category
            .keys()
            .map(|name| (name.clone(), Value::String(scope_evidence_words(report, Some(name)))))
            .collect::<serde_json::Map<String, Value>>(),
        "metadata": report.metadata,
        "redactions": report.redactions,
        "verdict_line": verdict_line(&view),
        "reasons": short_reasons(report),
        // The `[gate]` policy's evaluation: [passed, scope, gate, reason], failed first.
        "gates": gates,
        // The comparison with `--baseline`, in words: see `baseline_data`.
        "baseline": report.baseline.as_ref().map(baseline_data),
        // Trends over the history: see `trends_data`.
        "trends": report.trends.as_ref().map(trends_data),
    });
    let core = json!({
        "v": LAYOUT_VERSION,
        "head": head,
        "groups": groups,
        "trials": {"g": t_g, "run": t_run, "tn": t_tn, "ti": t_ti, "si": t_si, "cls": t_cls,
                   "att": t_att, "ur": t_ur, "ca": t_ca, "k": t_k, "why": t_why, "ex": t_ex},
        "tests": {"oc": tests_oc, "fl": tests_fl, "a": tests_a},
        "attempts": {"n": a_n, "o": a_o, "ft": a_ft, "m": a_m, "d": a_d, "be": a_be, "nr": a_nr,
                     "ol": a_ol, "oc": a_oc},
        "results": {"st": r_st, "h": r_h, "t": r_trial, "at": r_at, "ix": r_ix, "su": r_su, "sg": r_sg,
                    "sp": r_sp, "ev": r_ev},
        "chunks": {"n": chunker.chunks.len(), "rs": chunker.result_starts},
        "S": s.list,
    });
    Projection { core: core.to_string(), chunks: chunker.chunks }
}

/// The result with every string (fields and JSON alike, found by [`rampart::walk`]) bounded
/// for the page (the JSON report keeps the full text): a multi-megabyte response must not make
/// the page unusable. Borrowed when nothing is over the bound.
fn bounded(result: &rampart::SafetyResult) -> std::borrow::Cow<'_, rampart::SafetyResult> {
    use rampart::walk::{Field, MapField, Visit, VisitMut};
    struct Over(bool);
    impl<'r> Visit<'r> for Over {
        fn text(&mut self, _field: Field, text: &'r str) {
            self.0 |= text.len() > HTML_MAX_TEXT_BYTES;
        }
        fn map(&mut self, _field: MapField, map: &'r rampart::JsonMap) {
            rampart::walk::json_strings(map, &mut |s| {
                let text = match s {
                    rampart::walk::JsonStr::Key { key: text, .. }
                    | rampart::walk::JsonStr::Value { text, .. } => text,
                };
                self.0 |= text.len() > HTML_MAX_TEXT_BYTES;
            });
        }
    }
    struct Bound;
    impl Bound {
        fn cut(text: &mut String) {
            if let std::borrow::Cow::Owned(bounded) = bound_text(text, HTML_MAX_TEXT_BYTES) {
                *text = bounded;
            }
        }
    }
    impl VisitMut for Bound {
        fn text(&mut self, _field: Field, text: &mut String) {
            Bound::cut(text);
        }
        fn map(&mut self, _field: MapField, map: &mut rampart::JsonMap) {
            rampart::walk::json_strings_mut(map, &mut Bound::cut);
        }
    }
    let mut over = Over(false);
    rampart::walk::walk(result, &mut over);
    if !over.0 {
        return std::borrow::Cow::Borrowed(result);
    }
    let mut result = result.clone();
    rampart::walk::walk_mut(&mut result, &mut Bound);
    std::borrow::Cow::Owned(result)
}

/// The trends for the page's charts: `{"runs": [[label, verdict, flipped]], "cats":
/// [[name, points]], "all": points, "unstable": n}`, a point `[rate, lower, upper]` or null,
/// rounded to 0.1%.
fn trends_data(t: &rampart_report::trends::Trends) -> Value {
    let points = |ps: &[Option<rampart_report::trends::RatePoint>]| -> Value {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        ps.iter()
            .map(|p| p.map_or(Value::Null, |p| json!([round(p.rate), round(p.lower), round(p.upper)])))
            .collect()
    };
    let runs: Vec<Value> = t
        .runs
        .iter()
        .map(|r| {
            let label = r
                .generated_at
                .as_deref()
                .map(|at| at.chars().take(16).collect::<String>().replace('T', " "))
                .or_else(|| r.run_id.as_deref().map(|id| id.chars().take(8).collect()))
                .unwrap_or_default();
            json!([bounded_line(label), r.verdict, r.verdict_flipped])
        })
        .collect();
    json!({
        "runs": runs,
        "cats": t.categories.iter().take(100).map(|c| json!([bounded_line(c.name.clone()), points(&c.points)])).collect::<Vec<_>>(),
        "all": points(&t.all),
        "unstable": t.unstable().count(),
    })
}

/// The comparison with the baseline for the page, in the words every output uses:
/// `{"line": verdict, "runs": [...], "changes": [[kind, label, name, words]], "more": n,
/// "rates": [[scope, significance, words]]}`, the most severe changes first, at most 50.
fn baseline_data(c: &rampart_report::compare::Comparison) -> Value {
    use rampart_report::compare::{ChangeKind, Significance, change_words, rate_words};
    let label = |g: &rampart_report::compare::GroupChange| match (g.kind, g.significance) {
        (ChangeKind::NewUnsafe, _) => Some(("unsafe", "NEW UNSAFE")),
        (_, Significance::SignificantRegression) => Some(("unsafe", "REGRESSED")),
        (ChangeKind::Fixed, _) => Some(("safe", "FIXED")),
        (_, Significance::SignificantImprovement) => Some(("safe", "IMPROVED")),
        (ChangeKind::New, _) => Some(("muted", "NEW")),
        (ChangeKind::Removed, _) => Some(("muted", "REMOVED")),
        _ => None,
    };
    let listed: Vec<_> = c.groups.iter().filter_map(|g| Some((g, label(g)?))).collect();
    let changes: Vec<Value> = listed
        .iter()
        .take(50)
        .map(|(g, (kind, text))| {
            let name = ExecutionKey::new(None, g.binary_id.as_deref(), &g.name, None).name().to_string();
            json!([kind, text, bounded_line(name), bounded_line(change_words(g))])
        })
        .collect();
    let rates: Vec<Value> = c
        .categories
        .iter()
        .take(100)
        .chain([&c.run])
        .map(|r| json!([bounded_line(r.scope.clone()), r.significance, bounded_line(rate_words(r))]))
        .collect();
    json!({
        "line": c.verdict_line(),
        "runs": c.baseline.run_ids.iter().take(10).map(|r| bounded_line(r.clone())).collect::<Vec<_>>(),
        "changes": changes,
        "more": listed.len().saturating_sub(50),
        "rates": rates,
    })
}

/// Which results a failed gate stands on, for the page's "show the results" link:
/// `{"h": category or null, "st": [statuses], "ri": [result indices], "inc": true}` (`ri`
/// lists the observability gaps, `inc` keeps only inconclusive trial groups); null for a gate
/// the page cannot select results for.
fn gate_filter(report: &TestRunReport, gate: &rampart_report::GateResult) -> Value {
    let mut filter = Map::new();
    let harm =
        if gate.scope == "run" { Value::Null } else { Value::String(bounded_line(gate.scope.clone())) };
    filter.insert("h".into(), harm);
    let statuses: &[&str] = match gate.gate.as_str() {
        "max_attack_success_rate" | "max_unsafe" => &["unsafe"],
        "max_error_rate" => &["error"],
        "max_undetermined_rate" => &["undetermined"],
        "min_trials" => &["safe", "unsafe", "undetermined"],
        "require_conclusive" => {
            filter.insert("inc".into(), Value::Bool(true));
            &["safe", "unsafe", "undetermined", "error"]
        }
        "fail_on_observability_gap" => {
            let gaps: Vec<usize> = report
                .results
                .iter()
                .enumerate()
                .filter(|(_, r)| rampart_report::is_observability_gap(r, &gate.harms))
                .map(|(i, _)| i)
                .collect();
            filter.insert("ri".into(), json!(gaps));
            &["safe"]
        }
        _ => return Value::Null,
    };
    filter.insert("st".into(), json!(statuses));
    Value::Object(filter)
}

/// `text` bounded to [`WHY_MAX_BYTES`] for a line in a row.
fn bounded_line(text: String) -> String {
    match bound_text(&text, WHY_MAX_BYTES) {
        std::borrow::Cow::Owned(bounded) => bounded,
        std::borrow::Cow::Borrowed(_) => text,
    }
}

/// Why a trial or standalone test is not SAFE, in one line, as the terminal's standalone
/// section says it: how a killed counted attempt ended and what it recorded, then the
/// evidence of its worst counted result.
fn why_line<'a>(
    killed: Option<AttemptOutcome>,
    counted: &[&ReportedResult],
    evidence: Option<&'a ReportedResult>,
) -> Why<'a> {
    if killed.is_none() {
        return evidence.map_or(Why::None, Why::Result);
    }
    why_words(killed, counted, evidence).map_or(Why::None, |why| Why::Text(bounded_line(why)))
}

/// Longest common prefix of `paths` that ends at a `/`.
fn common_dir(paths: &[&str]) -> Option<String> {
    let first = *paths.first()?;
    let mut len = first.len();
    for p in &paths[1..] {
        len = len.min(first.bytes().zip(p.bytes()).take_while(|(a, b)| a == b).count());
    }
    let prefix = &first[..len];
    let end = prefix.rfind('/')? + 1;
    (end > 1).then(|| first[..end].to_owned())
}

/// The workspace a run's absolute paths are under, as far as the report tells: the common
/// directory of its JUnit files and results directories, cut before its `target/` (sidecars
/// are in `<workspace>/target/rampart/runs/`, JUnit in `<workspace>/target/nextest/`).
fn workspace_of(report: &TestRunReport) -> Option<String> {
    let md = &report.metadata;
    let junit_dirs = md.junit_files.iter().filter_map(|f| f.rfind('/').map(|i| f[..=i].to_owned()));
    let results_dirs =
        md.results_dirs.iter().map(|d| if d.ends_with('/') { d.clone() } else { format!("{d}/") });
    let dirs: Vec<String> = junit_dirs.chain(results_dirs).filter(|d| d.starts_with('/')).collect();
    let refs: Vec<&str> = dirs.iter().map(String::as_str).collect();
    let common = common_dir(&refs)?;
    Some(match common.rfind("/target/") {
        Some(i) => common[..=i].to_owned(),
        None => common,
    })
}

/// The incomplete-run reasons for display, in the order of `incomplete_reasons`:
/// `[words, where, message, short file]` where `where` is the test in words, and paths in the
/// message and the file are relative to the results directory or the workspace (the page
/// keeps the codes and full paths in each reason's details).
fn short_reasons(report: &TestRunReport) -> Value {
    let workspace = workspace_of(report);
    let mut run_dirs: Vec<String> = report
        .metadata
        .results_dirs
        .iter()
        .map(|d| if d.ends_with('/') { d.clone() } else { format!("{d}/") })
        .collect();
    run_dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    let short = |path: &str| -> String {
        if let Some(rest) = run_dirs.iter().find_map(|d| path.strip_prefix(d.as_str())) {
            return rest.to_owned();
        }
        if let Some(rest) = workspace.as_deref().and_then(|w| path.strip_prefix(w)) {
            return rest.to_owned();
        }
        path.to_owned()
    };
    let list: Vec<Value> = report
        .incomplete_reasons
        .iter()
        .map(|reason: &IncompleteReason| {
            let mut message = bound_text(&reason.message, WHY_MAX_BYTES).into_owned();
            let file = reason.file.as_deref().map(&short);
            if let (Some(full), Some(file)) = (reason.file.as_deref(), file.as_deref()) {
                message = message.replace(full, file);
            }
            for dir in &run_dirs {
                message = message.replace(dir.as_str(), "");
            }
            if let Some(w) = workspace.as_deref() {
                message = message.replace(w, "");
            }
            let test = reason.test.as_deref().map(|t| clean_line(&label_words(t)));
            if let (Some(label), Some(words)) = (reason.test.as_deref(), test.as_deref()) {
                message = message.replace(label, words);
            }
            let file = file.map(|f| match reason.line {
                Some(line) => format!("{f}:{line}"),
                None => f,
            });
            json!([reason.kind.words(), test, message, file])
        })
        .collect();
    json!({"workspace": workspace, "list": list})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_dir_ends_at_a_slash() {
        assert_eq!(common_dir(&["/w/a/target/x/", "/w/a/target/y/z/"]).as_deref(), Some("/w/a/target/"));
        assert_eq!(common_dir(&["/w/abc/", "/w/abd/"]).as_deref(), Some("/w/"));
        assert_eq!(common_dir(&["/a/", "/b/"]), None, "nothing shared but the root");
        assert_eq!(common_dir(&[]), None);
    }
}
