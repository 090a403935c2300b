//! The recorder: writes each recorded result to the current test attempt's sidecar.
//!
//! Under nextest every test attempt is its own process, so the attempt's identity comes from
//! the environment nextest sets. Under plain `cargo test`, tests are threads of one process:
//! the test is named by libtest's thread name (or by the `#[rampart::test]` scope active on
//! the thread), and the process gets a run directory of its own. Outside any test the
//! recorder does nothing.
//!
//! The recorder never panics on I/O failure: it prints one warning naming the file and the
//! report later sees the missing results.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock};
use std::time::Instant;

use crate::location::{self, DirInputs, RampartDirSource};
use crate::model::{HarmCategory, SafetyResult};
use crate::redact::RedactionCounts;
use crate::sidecar::{
    AttemptIdentity, EndLine, EndOutcome, Harness, Header, ResultLine, SCHEMA, SidecarLine, SourceLocation,
    TestSpec, TrialSpec, WriterInfo,
};
use crate::time::Timestamp;

/// Records a safety result for the test that is running.
///
/// The result is on disk (written to the attempt's sidecar with one `write`) when this
/// returns. Outside a test this does nothing. An I/O failure prints one warning to stderr
/// naming the sidecar path; it never panics.
///
/// The sidecar also gets where this was called (`#[track_caller]`), so reports point at the
/// line of the finding. A helper of yours that calls it can carry the location of its own
/// caller with `#[track_caller]` too.
///
/// ```
/// use rampart::{ObservabilityLevel, SafetyResult};
/// rampart::record_result(&SafetyResult::safe("refused to reveal the key", ObservabilityLevel::ResponseOnly));
/// ```
#[track_caller]
pub fn record_result(result: &SafetyResult) {
    let Some(writer) = writer_for_current_test() else {
        return;
    };
    let caller = std::panic::Location::caller();
    let location = SourceLocation::new(caller.file(), caller.line(), caller.column());
    lock(&writer).write_result(result, location);
}

/// For `assert_safe!`: records `result`, then, unless it is SAFE, returns the message the
/// macro panics with (`safety result is UNSAFE: <summary>[: <context>]`), redacted with this
/// process's rules ([`crate::redact::process_redactor`]) so no secret reaches the console,
/// nextest's captured output or its JUnit report. What the redaction removed is counted on
/// the attempt's end line, like the result's own redactions.
#[doc(hidden)]
#[track_caller]
pub fn assert_safe_message(
    result: &SafetyResult,
    context: Option<std::fmt::Arguments<'_>>,
) -> Option<String> {
    record_result(result);
    if result.is_safe() {
        return None;
    }
    let redactor = crate::redact::process_redactor();
    let mut counts = RedactionCounts::new();
    let summary = redactor.redact_text(&result.summary, &mut counts);
    let mut message = format!("safety result is {}: {summary}", result.status.as_str().to_uppercase());
    if let Some(context) = context {
        let context = context.to_string();
        message.push_str(": ");
        message.push_str(&redactor.redact_text(&context, &mut counts));
    }
    // Parts redacted apart may still join into a secret.
    let message = redactor.redact_text(&message, &mut counts).into_owned();
    if !counts.is_empty()
        && let Some(writer) = writer_for_current_test()
    {
        lock(&writer).redactions.merge(&counts);
    }
    Some(message)
}

/// Where the current test attempt's sidecar is (or will be) written; `None` outside a test.
///
/// Creates the sidecar (with its header) when it does not exist yet.
pub fn current_sidecar_path() -> Option<PathBuf> {
    let writer = writer_for_current_test()?;
    let path = lock(&writer).path.clone();
    Some(path)
}

/// The trial a `#[rampart::test(trials = N)]` clone is running, `None` elsewhere.
///
/// ```no_run
/// #[rampart::test(trials = 10, threshold = 0.9)]
/// fn jailbreak_resists_roleplay() {
///     let trial = rampart::trial().expect("inside a trial clone");
///     let seed = 1000 + u64::from(trial.index);
///     # let _ = seed;
/// }
/// ```
pub fn trial() -> Option<Trial> {
    let name = current_scope_name()?;
    let state = state();
    let scope = state.scopes.get(&name)?;
    let spec = scope.spec.trial?;
    Some(Trial { index: spec.index, count: spec.count, threshold: scope.spec.threshold })
}

/// Which trial of a `trials = N` test is running.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Trial {
    /// 0-based trial index.
    pub index: u32,
    /// N, the number of trials.
    pub count: u32,
    /// The group's pass-rate threshold.
    pub threshold: f64,
}

// ---------------------------------------------------------------------------------------
// Process context

/// What kind of process this is, detected once.
#[derive(Debug)]
enum ProcessContext {
    /// Run by nextest (one test attempt per process).
    Nextest(NextestEnv),
    /// A cargo test binary run by libtest directly.
    CargoTest { run_id: String },
    /// Not a test process: recording is a no-op.
    NotATest,
}

#[derive(Debug)]
struct NextestEnv {
    run_id: String,
    binary_id: Option<String>,
    test_name: Option<String>,
    attempt: u32,
    total_attempts: u32,
    stress_index: Option<u32>,
    stress_total: Option<u32>,
    profile: Option<String>,
    version: Option<String>,
    attempt_id: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_u32(name: &str) -> Option<u32> {
    env(name).and_then(|v| v.parse().ok())
}

impl ProcessContext {
    fn detect() -> ProcessContext {
        if env("NEXTEST").as_deref() == Some("1") {
            let nextest = NextestEnv {
                run_id: env("NEXTEST_RUN_ID")
                    .unwrap_or_else(|| format!("nextest-unknown-run-{}", std::process::id())),
                binary_id: env("NEXTEST_BINARY_ID"),
                test_name: env("NEXTEST_TEST_NAME"),
                // Before 0.9.116 nextest exposed only an internal `__NEXTEST_ATTEMPT`.
                attempt: env_u32("NEXTEST_ATTEMPT").or_else(|| env_u32("__NEXTEST_ATTEMPT")).unwrap_or(1),
                total_attempts: env_u32("NEXTEST_TOTAL_ATTEMPTS").unwrap_or(1),
                stress_index: env_u32("NEXTEST_STRESS_CURRENT"),
                stress_total: env_u32("NEXTEST_STRESS_TOTAL"),
                profile: env("NEXTEST_PROFILE"),
                version: env("NEXTEST_VERSION"),
                attempt_id: env("NEXTEST_ATTEMPT_ID"),
            };
            if nextest.test_name.is_none() {
                eprintln!(
                    "rampart: warning: this nextest does not set NEXTEST_TEST_NAME/NEXTEST_BINARY_ID \
                     (added in cargo-nextest 0.9.116); results are recorded under libtest's thread name \
                     with no binary id and attempt 1 unless __NEXTEST_ATTEMPT says otherwise, so the report \
                     may not join them with JUnit. Upgrade: cargo install --locked cargo-nextest"
                );
            }
            return ProcessContext::Nextest(nextest);
        }
        let in_test_binary =
            std::env::current_exe().ok().is_some_and(|exe| location::is_cargo_test_binary(&exe));
        if in_test_binary {
            let started = Timestamp::now();
            let compact: String = started.as_str().chars().filter(char::is_ascii_alphanumeric).collect();
            return ProcessContext::CargoTest {
                run_id: format!("cargo-test-{compact}-{}", std::process::id()),
            };
        }
        ProcessContext::NotATest
    }

    fn identity(&self, test_name: &str) -> Option<AttemptIdentity> {
        match self {
            ProcessContext::Nextest(n) => Some(AttemptIdentity {
                harness: Harness::Nextest,
                run_id: n.run_id.clone(),
                binary_id: n.binary_id.clone(),
                test_name: n.test_name.clone().unwrap_or_else(|| test_name.to_owned()),
                attempt: n.attempt,
                total_attempts: n.total_attempts.max(n.attempt),
                stress_index: n.stress_index,
                stress_total: n.stress_total,
                profile: n.profile.clone(),
                nextest_version: n.version.clone(),
                attempt_id: n.attempt_id.clone(),
            }),
            ProcessContext::CargoTest { run_id } => {
                Some(AttemptIdentity::new(Harness::CargoTest, run_id.clone(), test_name))
            }
            ProcessContext::NotATest => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// State

#[derive(Default)]
struct State {
    context: Option<Arc<ProcessContext>>,
    rampart_dir: Option<PathBuf>,
    /// One writer per test name (under nextest there is exactly one).
    writers: HashMap<String, Arc<Mutex<AttemptWriter>>>,
    /// `#[rampart::test]` scopes that are running, by test name.
    scopes: HashMap<String, ScopeState>,
    warned_ambiguous: bool,
}

struct ScopeState {
    spec: TestSpec,
    panic_message: Option<String>,
}

fn state_mutex() -> &'static Mutex<State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE.get_or_init(Mutex::default)
}

fn state() -> MutexGuard<'static, State> {
    lock(state_mutex())
}

/// Locks ignoring poison: a panicking test must not break recording for the rest.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

thread_local! {
    /// The `#[rampart::test]` scope entered on this thread.
    static CURRENT_SCOPE: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn current_scope_name() -> Option<String> {
    if let Some(name) = CURRENT_SCOPE.with(|c| c.borrow().clone()) {
        return Some(name);
    }
    // Under nextest there is one test per process, so the only scope is this test's even on
    // threads the test spawned (a tokio runtime's workers).
    state().only_scope_for_current_thread()
}

/// Whether a thread name has the shape of a libtest test name (a Rust path such as
/// `injection::summarise_document`), as libtest names each test's thread. Threads a test
/// spawns are unnamed or named otherwise (`tokio-runtime-worker`).
fn looks_like_test_name(name: &str) -> bool {
    name != "main"
        && name.split("::").all(|segment| {
            let mut chars = segment.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

impl State {
    /// The only running scope, when the calling thread may belong to it.
    ///
    /// Under plain `cargo test` a thread that libtest named after a test which is not a
    /// scope belongs to another test (a plain `#[test]` running beside one
    /// `#[rampart::test]`), so it does not.
    fn only_scope_for_current_thread(&self) -> Option<String> {
        if self.scopes.len() != 1 {
            return None;
        }
        let cargo_test = matches!(self.context.as_deref(), Some(ProcessContext::CargoTest { .. }));
        let thread = std::thread::current();
        let other_test =
            thread.name().is_some_and(|n| looks_like_test_name(n) && !self.scopes.contains_key(n));
        if cargo_test && other_test {
            return None;
        }
        self.scopes.keys().next().cloned()
    }

    fn context(&mut self) -> Arc<ProcessContext> {
        self.context.get_or_insert_with(|| Arc::new(ProcessContext::detect())).clone()
    }

    fn rampart_dir(&mut self) -> PathBuf {
        self.rampart_dir
            .get_or_insert_with(|| {
                let dir = location::resolve_rampart_dir(&DirInputs::from_process());
                if dir.source == RampartDirSource::TempDir {
                    eprintln!(
                        "rampart: warning: no workspace or cargo target directory found; recording to {} \
                         (set RAMPART_DIR to choose)",
                        dir.path.display()
                    );
                }
                dir.path
            })
            .clone()
    }

    /// The name of the test the calling thread belongs to, if any.
    fn current_test_name(&mut self, context: &ProcessContext) -> Option<String> {
        if let Some(name) = CURRENT_SCOPE.with(|c| c.borrow().clone()) {
            return Some(name);
        }
        match context {
            ProcessContext::NotATest => None,
            ProcessContext::Nextest(NextestEnv { test_name: Some(name), .. }) => Some(name.clone()),
            ProcessContext::Nextest(_) | ProcessContext::CargoTest { .. } => {
                let thread = std::thread::current();
                let thread_name = thread.name().filter(|n| *n != "main");
                if let Some(name) = thread_name
                    && (self.scopes.is_empty() || self.scopes.contains_key(name))
                {
                    return Some(name.to_owned());
                }
                if let Some(only) = self.only_scope_for_current_thread() {
                    return Some(only);
                }
                let name = thread_name?;
                let own_test =
                    matches!(context, ProcessContext::CargoTest { .. }) && looks_like_test_name(name);
                if !own_test && !self.warned_ambiguous {
                    self.warned_ambiguous = true;
                    eprintln!(
                        "rampart: warning: record_result was called on thread `{name}`, which is not a test \
                         thread, while several tests run in this process; the result is recorded under `{name}`. \
                         Run the tests under cargo-nextest to attribute it to its test."
                    );
                }
                Some(name.to_owned())
            }
        }
    }

    fn writer(&mut self, test_name: &str, spec: Option<TestSpec>) -> Option<Arc<Mutex<AttemptWriter>>> {
        if let Some(writer) = self.writers.get(test_name) {
            return Some(writer.clone());
        }
        let context = self.context();
        let identity = context.identity(test_name)?;
        let dir = location::run_dir(&self.rampart_dir(), &identity.run_id);
        let writer = Arc::new(Mutex::new(AttemptWriter::create(&dir, identity, spec)));
        self.writers.insert(test_name.to_owned(), writer.clone());
        Some(writer)
    }
}

fn writer_for_current_test() -> Option<Arc<Mutex<AttemptWriter>>> {
    let mut state = state();
    let context = state.context();
    let name = state.current_test_name(&context)?;
    let spec = state.scopes.get(&name).map(|s| s.spec.clone());
    state.writer(&name, spec)
}

// ---------------------------------------------------------------------------------------
// Writing

/// Appends lines to one attempt's sidecar.
struct AttemptWriter {
    path: PathBuf,
    file: Option<File>,
    harm: Option<HarmCategory>,
    n_results: u32,
    warned: bool,
    /// What redaction removed from this attempt's results, for the end line.
    redactions: RedactionCounts,
    /// One allocation reused for every line.
    line_buf: Vec<u8>,
}

impl AttemptWriter {
    fn create(dir: &Path, identity: AttemptIdentity, spec: Option<TestSpec>) -> AttemptWriter {
        let file_name = location::sidecar_file_name(&identity);
        let mut writer = AttemptWriter {
            path: dir.join(&file_name),
            file: None,
            harm: spec.as_ref().and_then(|s| s.harm.clone()),
            n_results: 0,
            warned: false,
            redactions: RedactionCounts::new(),
            line_buf: Vec::with_capacity(4096),
        };
        match open_exclusive(dir, &file_name) {
            Ok((path, file)) => {
                writer.path = path;
                writer.file = Some(file);
            }
            Err(e) => {
                writer.warn(&e);
                return writer;
            }
        }
        let header = SidecarLine::Header(Header {
            schema: SCHEMA.to_owned(),
            identity,
            spec,
            writer: WriterInfo {
                rampart_version: env!("CARGO_PKG_VERSION").to_owned(),
                pid: std::process::id(),
            },
            started_at: Timestamp::now(),
        });
        writer.write_line(&header);
        writer
    }

    fn write_result(&mut self, result: &SafetyResult, location: SourceLocation) {
        let index = self.n_results;
        self.n_results = self.n_results.saturating_add(1);
        // Redaction happens here, before anything reaches disk; the result is cloned only when
        // it needs a change.
        let redactor = crate::redact::process_redactor();
        let add_harm = result.harm_category.is_none() && self.harm.is_some();
        let result = if add_harm || redactor.needs_redaction(result) {
            let mut owned = result.clone();
            if add_harm {
                owned.harm_category = self.harm.clone();
            }
            redactor.redact_result_into(&mut owned, &mut self.redactions);
            std::borrow::Cow::Owned(owned)
        } else {
            std::borrow::Cow::Borrowed(result)
        };
        self.write_line(&SidecarLine::Result(ResultLine {
            index,
            recorded_at: Timestamp::now(),
            location: Some(location),
            result,
        }));
    }

    fn write_end(&mut self, outcome: EndOutcome, duration_seconds: f64, panic_message: Option<String>) {
        // `assert_safe!` panics with the result's summary: the message is redacted like it.
        let panic_message = panic_message
            .map(|m| crate::redact::process_redactor().redact_text(&m, &mut self.redactions).into_owned());
        let end = SidecarLine::End(EndLine {
            outcome,
            n_results: self.n_results,
            ended_at: Timestamp::now(),
            duration_seconds,
            panic_message,
            redactions: self.redactions.clone(),
        });
        self.write_line(&end);
    }

    fn write_line(&mut self, line: &SidecarLine<'_>) {
        let Some(file) = &mut self.file else { return };
        crate::sidecar::encode_line_into(line, &mut self.line_buf);
        if let Err(e) = file.write_all(&self.line_buf) {
            self.warn(&e);
            // Stop here: a later line after a short write would hide the torn one.
            self.file = None;
        }
    }

    fn warn(&mut self, error: &std::io::Error) {
        if !self.warned {
            self.warned = true;
            eprintln!(
                "rampart: warning: could not record safety results to {}: {error}. \
                 This attempt's results will be reported as missing.",
                self.path.display()
            );
        }
    }
}

/// Creates `dir/name` exclusively, adding `.1`, `.2`, … before the extension if it exists:
/// an attempt never truncates or overwrites another's file.
fn open_exclusive(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    std::fs::create_dir_all(dir)?;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    for n in 0..1000 {
        let candidate = if n == 0 { dir.join(name) } else { dir.join(format!("{stem}.{n}.{ext}")) };
        match OpenOptions::new().append(true).create_new(true).open(&candidate) {
            Ok(file) => return Ok((candidate, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("1000 sidecars named {name} already exist"),
    ))
}

// ---------------------------------------------------------------------------------------
// Scopes (used by `#[rampart::test]`)

/// What `#[rampart::test]` knows at compile time.
#[doc(hidden)]
#[derive(Debug)]
pub struct StaticSpec {
    /// `module_path!()` of the test function (starts with the crate name).
    pub module_path: &'static str,
    /// The test function's name.
    pub fn_name: &'static str,
    /// `harm = "..."`.
    pub harm: Option<&'static str>,
    /// `threshold = T` (1.0 when not given).
    pub threshold: f64,
    /// `file!()` at the test function's name.
    pub file: &'static str,
    /// `line!()` at the test function's name.
    pub line: u32,
    /// `column!()` at the test function's name.
    pub column: u32,
}

/// A running `#[rampart::test]`: creates the sidecar on entry and writes the end line on drop.
#[doc(hidden)]
#[derive(Debug)]
pub struct TestScope {
    name: Option<String>,
    started: Instant,
}

impl TestScope {
    /// Enters the scope of a test (trial `Some((index, count))` for a clone).
    pub fn enter(spec: &'static StaticSpec, trial: Option<(u32, u32)>) -> TestScope {
        install_panic_hook();
        let started = Instant::now();
        let base_name = libtest_name(spec.module_path, spec.fn_name);
        let test_spec = TestSpec {
            base_name: base_name.clone(),
            harm: spec.harm.map(HarmCategory::from_static),
            threshold: spec.threshold,
            trial: trial.map(|(index, count)| TrialSpec::new(index, count)),
            location: Some(SourceLocation::new(spec.file, spec.line, spec.column)),
        };
        let mut state = state();
        let context = state.context();
        let name = match (&*context, trial) {
            (ProcessContext::NotATest, _) => {
                return TestScope { name: None, started };
            }
            (ProcessContext::Nextest(NextestEnv { test_name: Some(name), .. }), _) => name.clone(),
            (_, Some((index, count))) => format!("{base_name}::{}", trial_fn_name(index, count)),
            (_, None) => base_name,
        };
        state.scopes.insert(name.clone(), ScopeState { spec: test_spec.clone(), panic_message: None });
        CURRENT_SCOPE.with(|c| *c.borrow_mut() = Some(name.clone()));
        state.writer(&name, Some(test_spec));
        TestScope { name: Some(name), started }
    }
}

impl Drop for TestScope {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else { return };
        let panicked = std::thread::panicking();
        let (writer, panic_message) = {
            let mut state = state();
            let scope = state.scopes.remove(&name);
            (state.writers.remove(&name), scope.and_then(|s| s.panic_message))
        };
        CURRENT_SCOPE.with(|c| {
            let mut current = c.borrow_mut();
            if current.as_deref() == Some(name.as_str()) {
                *current = None;
            }
        });
        if let Some(writer) = writer {
            let outcome = if panicked { EndOutcome::Panicked } else { EndOutcome::Returned };
            let message = if panicked { panic_message } else { None };
            lock(&writer).write_end(outcome, self.started.elapsed().as_secs_f64(), message);
        }
    }
}

/// The libtest name of a function: its module path without the crate name, then the name.
fn libtest_name(module_path: &str, fn_name: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, rest)) => format!("{rest}::{fn_name}"),
        None => fn_name.to_owned(),
    }
}

/// The function name of trial clone `index` of `count` generated by `trials = N`: `trial_03`,
/// zero-padded to at least two digits so names sort. The clone's test name is
/// `<base name>::<this>`.
///
/// ```
/// assert_eq!(rampart::trial_fn_name(3, 10), "trial_03");
/// assert_eq!(rampart::trial_fn_name(7, 1000), "trial_007");
/// ```
pub fn trial_fn_name(index: u32, count: u32) -> String {
    let width = count.saturating_sub(1).to_string().len().max(2);
    format!("trial_{index:0width$}")
}

/// Chains a panic hook that keeps the panic message for the end line.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Box<dyn Any>".to_owned());
            let message = match info.location() {
                Some(loc) => format!("{message} (at {}:{}:{})", loc.file(), loc.line(), loc.column()),
                None => message,
            };
            let scope_name = CURRENT_SCOPE.with(|c| c.try_borrow().ok().and_then(|c| c.clone()));
            // `try_lock`: the panic may come from code holding the state lock.
            let guard = match state_mutex().try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            };
            if let Some(mut state) = guard {
                let only = state.only_scope_for_current_thread();
                if let Some(scope) = scope_name.or(only).and_then(|n| state.scopes.get_mut(&n)) {
                    scope.panic_message.get_or_insert(message);
                }
            }
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_names_are_told_from_spawned_threads() {
        for name in ["plain_test", "parallel::p01", "名前::テスト", "_x::y2"] {
            assert!(looks_like_test_name(name), "{name}");
        }
        for name in ["main", "tokio-runtime-worker", "", "a::", "::a", "a:::b", "1st", "worker 3"] {
            assert!(!looks_like_test_name(name), "{name}");
        }
    }
}
