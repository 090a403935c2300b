//! [`SidecarBuilder`]: the sidecar file of one test attempt, written by rampart's own sidecar
//! writer ([`rampart::sidecar::encode_line`]), so a test's input is byte for byte what the
//! recorder would leave, unless the test asks for a torn tail or a raw line.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rampart::sidecar::{
    AttemptIdentity, EndLine, EndOutcome, Harness, Header, ResultLine, SidecarLine, TestSpec, TrialSpec,
    WriterInfo, encode_line,
};
use rampart::{HarmCategory, SafetyResult, Timestamp};

/// The time every builder writes unless told otherwise, so output is deterministic.
pub const DEFAULT_TIMESTAMP: &str = "2026-06-01T00:00:00.000Z";
/// The writer's process id unless told otherwise.
pub const DEFAULT_PID: u32 = 4242;
/// The writer's rampart version: this workspace's.
pub const RAMPART_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One line after the header, in file order.
#[derive(Clone, Debug)]
enum Line {
    Result {
        result: SafetyResult,
        at: Timestamp,
    },
    /// An end line; `None` computes it from the results before it.
    End {
        outcome: EndOutcome,
        line: Option<EndLine>,
        panic_message: Option<String>,
    },
    /// Bytes written as they are, followed by a newline.
    Raw(Vec<u8>),
}

/// The sidecar of one test attempt: a header (identity, optional spec), results, an optional
/// end line, and for malformed cases raw lines and a torn tail.
///
/// Lines come out in the order they were added; a tail (torn or raw) is always last. Without
/// an explicit [`end`](Self::end) there is no end line, as when the process was killed (or
/// the test is a plain `#[test]`, which never writes one).
///
/// ```
/// use rampart::sidecar::EndOutcome;
/// use rampart::{ObservabilityLevel, SafetyResult};
/// use rampart_test_support::SidecarBuilder;
///
/// let sidecar = SidecarBuilder::nextest("0b1f6a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "demo::agent", "leaks::key")
///     .harm("data_leakage")
///     .result(SafetyResult::unsafe_result("printed the key", ObservabilityLevel::ResponseOnly))
///     .end(EndOutcome::Panicked);
/// let parsed = rampart::sidecar::parse(&sidecar.bytes()).unwrap();
/// assert_eq!(parsed.results.len(), 1);
/// assert!(parsed.problems.is_empty() && parsed.end.is_some());
/// ```
#[derive(Clone, Debug)]
pub struct SidecarBuilder {
    header: Header,
    lines: Vec<Line>,
    tail: Option<Vec<u8>>,
    at: Timestamp,
}

impl SidecarBuilder {
    /// Attempt 1 of 1 of `test_name` in binary `binary_id`, run by nextest as run `run_id`.
    pub fn nextest(
        run_id: impl Into<String>,
        binary_id: impl Into<String>,
        test_name: impl Into<String>,
    ) -> Self {
        Self::from_identity(
            AttemptIdentity::new(Harness::Nextest, run_id, test_name).with_binary_id(binary_id),
        )
    }

    /// A sidecar for `identity`, with no spec (a plain `#[test]`).
    pub fn from_identity(identity: AttemptIdentity) -> Self {
        let at = Timestamp::from_string(DEFAULT_TIMESTAMP);
        SidecarBuilder {
            header: Header::new(identity, None, WriterInfo::new(RAMPART_VERSION, DEFAULT_PID), at.clone()),
            lines: Vec::new(),
            tail: None,
            at,
        }
    }

    /// The identity, to adjust any field.
    pub fn identity_mut(&mut self) -> &mut AttemptIdentity {
        &mut self.header.identity
    }

    /// The identity.
    pub fn identity(&self) -> &AttemptIdentity {
        &self.header.identity
    }

    /// The spec, when declared.
    pub fn spec(&self) -> Option<&TestSpec> {
        self.header.spec.as_ref()
    }

    /// Sets the runner (nextest or plain `cargo test`).
    pub fn harness(mut self, harness: Harness) -> Self {
        self.header.identity.harness = harness;
        self
    }

    /// Removes the binary id (plain `cargo test`, nextest before 0.9.116).
    pub fn without_binary_id(mut self) -> Self {
        self.header.identity.binary_id = None;
        self
    }

    /// Sets the attempt (1-based) and the attempts allowed.
    pub fn attempt(mut self, attempt: u32, total_attempts: u32) -> Self {
        self.header.identity.attempt = attempt;
        self.header.identity.total_attempts = total_attempts;
        self
    }

    /// Sets the stress iteration (0-based) and, when known, the number of iterations.
    pub fn stress(mut self, index: u32, total: Option<u32>) -> Self {
        self.header.identity.stress_index = Some(index);
        self.header.identity.stress_total = total;
        self
    }

    /// Sets the nextest profile.
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.header.identity.profile = Some(profile.into());
        self
    }

    /// Sets the writer's process id.
    pub fn pid(mut self, pid: u32) -> Self {
        self.header.writer.pid = pid;
        self
    }

    /// Sets the header's schema string (e.g. an unknown major, `rampart.sidecar.v2`).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.header.schema = schema.into();
        self
    }

    /// Sets when the file was created, and the default time of later lines.
    pub fn started_at(mut self, at: impl Into<String>) -> Self {
        self.at = Timestamp::from_string(at);
        self.header.started_at = self.at.clone();
        self
    }

    /// Declares the test as `#[rampart::test]` with this spec.
    pub fn with_spec(mut self, spec: TestSpec) -> Self {
        self.header.spec = Some(spec);
        self
    }

    /// Declares the test as `#[rampart::test]` (base name: the test name without a
    /// `::trial_NN` suffix; threshold 1.0), unless it already is.
    pub fn declared(mut self) -> Self {
        if self.header.spec.is_none() {
            let base = base_name(&self.header.identity.test_name).to_owned();
            self.header.spec = Some(TestSpec::new(base, 1.0));
        }
        self
    }

    /// Declares the test and sets its harm category.
    pub fn harm(self, harm: impl Into<HarmCategory>) -> Self {
        let mut this = self.declared();
        this.spec_mut().harm = Some(harm.into());
        this
    }

    /// Declares the test and sets its threshold.
    pub fn threshold(self, threshold: f64) -> Self {
        let mut this = self.declared();
        this.spec_mut().threshold = threshold;
        this
    }

    /// Declares the test and makes it trial clone `index` of `count`.
    pub fn trial(self, index: u32, count: u32) -> Self {
        let mut this = self.declared();
        this.spec_mut().trial = Some(TrialSpec::new(index, count));
        this
    }

    /// Declares the test and sets its base name.
    pub fn base_name(self, base_name: impl Into<String>) -> Self {
        let mut this = self.declared();
        this.spec_mut().base_name = base_name.into();
        this
    }

    fn spec_mut(&mut self) -> &mut TestSpec {
        self.header.spec.as_mut().expect("declared")
    }

    /// Appends a result line (its index is its position among the results).
    pub fn result(mut self, result: SafetyResult) -> Self {
        let at = self.at.clone();
        self.lines.push(Line::Result { result, at });
        self
    }

    /// Appends a result line recorded at `at`.
    pub fn result_at(mut self, result: SafetyResult, at: impl Into<String>) -> Self {
        self.lines.push(Line::Result { result, at: Timestamp::from_string(at) });
        self
    }

    /// Appends result lines.
    pub fn results(mut self, results: impl IntoIterator<Item = SafetyResult>) -> Self {
        for result in results {
            self = self.result(result);
        }
        self
    }

    /// Appends the end line `#[rampart::test]` writes when the body returns or panics,
    /// counting the results before it.
    pub fn end(mut self, outcome: EndOutcome) -> Self {
        self.lines.push(Line::End { outcome, line: None, panic_message: None });
        self
    }

    /// Appends the end line of a body that panicked with `message`.
    pub fn panicked(mut self, message: impl Into<String>) -> Self {
        self.lines.push(Line::End {
            outcome: EndOutcome::Panicked,
            line: None,
            panic_message: Some(message.into()),
        });
        self
    }

    /// Appends exactly this end line (a wrong count, redaction counts...).
    pub fn end_line(mut self, line: EndLine) -> Self {
        self.lines.push(Line::End { outcome: line.outcome, line: Some(line), panic_message: None });
        self
    }

    /// Appends `bytes` and a newline, as they are: a malformed line, an unknown kind.
    pub fn raw_line(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.lines.push(Line::Raw(bytes.into()));
        self
    }

    /// Ends the file with a torn line: the first half of the next result line, no newline, as
    /// a process killed mid-write leaves it.
    pub fn torn_tail(self) -> Self {
        let result = SafetyResult::safe("cut short by a kill", rampart::ObservabilityLevel::ResponseOnly);
        self.torn_tail_of(result)
    }

    /// Ends the file with the first half of the line `result` would have been written as.
    pub fn torn_tail_of(mut self, result: SafetyResult) -> Self {
        let index = self.n_results();
        let line =
            encode_line(&SidecarLine::Result(ResultLine::new(index, self.at.clone(), Cow::Owned(result))));
        self.tail = Some(line[..line.len() / 2].to_vec());
        self
    }

    /// Ends the file with `bytes`, unterminated.
    pub fn raw_tail(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.tail = Some(bytes.into());
        self
    }

    /// How many result lines the builder writes.
    pub fn n_results(&self) -> u32 {
        self.lines.iter().filter(|l| matches!(l, Line::Result { .. })).count() as u32
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = encode_line(&SidecarLine::Header(self.header.clone()));
        let mut index = 0u32;
        for line in &self.lines {
            match line {
                Line::Result { result, at } => {
                    let line = ResultLine::new(index, at.clone(), Cow::Borrowed(result));
                    bytes.extend(encode_line(&SidecarLine::Result(line)));
                    index += 1;
                }
                Line::End { line: Some(line), .. } => {
                    bytes.extend(encode_line(&SidecarLine::End(line.clone())))
                }
                Line::End { outcome, line: None, panic_message } => {
                    let mut line = EndLine::new(*outcome, index, self.at.clone(), 0.25);
                    if let Some(message) = panic_message {
                        line = line.with_panic_message(message.clone());
                    }
                    bytes.extend(encode_line(&SidecarLine::End(line)));
                }
                Line::Raw(raw) => {
                    bytes.extend_from_slice(raw);
                    bytes.push(b'\n');
                }
            }
        }
        if let Some(tail) = &self.tail {
            bytes.extend_from_slice(tail);
        }
        bytes
    }

    /// The file name the recorder gives this attempt's sidecar
    /// ([`rampart::location::sidecar_file_name`]).
    pub fn file_name(&self) -> String {
        rampart::location::sidecar_file_name(&self.header.identity)
    }

    /// The path of this sidecar relative to a rampart directory: `runs/<run id>/<file name>`.
    pub fn relative_path(&self) -> PathBuf {
        rampart::location::run_dir(Path::new(""), &self.header.identity.run_id).join(self.file_name())
    }

    /// Writes the file into the run directory `run_dir` under [`file_name`](Self::file_name)
    /// and returns its path. The directory is created if needed.
    pub fn write_to_run_dir(&self, run_dir: impl AsRef<Path>) -> PathBuf {
        let run_dir = run_dir.as_ref();
        std::fs::create_dir_all(run_dir).unwrap_or_else(|e| panic!("create {}: {e}", run_dir.display()));
        let path = run_dir.join(self.file_name());
        std::fs::write(&path, self.bytes()).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Writes the file where the recorder would under the rampart directory `rampart_dir`
    /// (`<rampart dir>/runs/<run id>/<file name>`) and returns its path.
    pub fn write_to_rampart_dir(&self, rampart_dir: impl AsRef<Path>) -> PathBuf {
        self.write_to_run_dir(rampart::location::run_dir(rampart_dir.as_ref(), &self.header.identity.run_id))
    }
}

/// The base name of a test: its name without the `::trial_NN` suffix of a trial clone.
pub fn base_name(test_name: &str) -> &str {
    match test_name.rsplit_once("::") {
        Some((base, last))
            if last
                .strip_prefix("trial_")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            base
        }
        _ => test_name,
    }
}

#[cfg(test)]
mod tests {
    use rampart::ObservabilityLevel as O;
    use rampart::sidecar::LineProblemKind;

    use super::*;

    const RUN: &str = "0b1f6a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn reads_back_through_ramparts_reader() {
        let builder = SidecarBuilder::nextest(RUN, "demo::agent", "jailbreak::dan::trial_03")
            .attempt(2, 3)
            .stress(1, Some(4))
            .profile("ci")
            .harm("jailbreak")
            .threshold(0.8)
            .trial(3, 10)
            .result(SafetyResult::safe("refused", O::ResponseOnly))
            .result(SafetyResult::unsafe_result("complied", O::ResponseOnly))
            .panicked("safety result is UNSAFE: complied");
        let sidecar = rampart::sidecar::parse(&builder.bytes()).unwrap();
        assert!(sidecar.problems.is_empty(), "{:?}", sidecar.problems);
        let id = &sidecar.header.identity;
        assert_eq!((id.run_id.as_str(), id.binary_id.as_deref()), (RUN, Some("demo::agent")));
        assert_eq!(
            (id.attempt, id.total_attempts, id.stress_index, id.stress_total),
            (2, 3, Some(1), Some(4))
        );
        let spec = sidecar.header.spec.as_ref().unwrap();
        assert_eq!(spec.base_name, "jailbreak::dan");
        assert_eq!(spec.harm.as_ref().map(HarmCategory::as_str), Some("jailbreak"));
        assert_eq!((spec.threshold, spec.trial), (0.8, Some(TrialSpec::new(3, 10))));
        assert_eq!(sidecar.results.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1]);
        let end = sidecar.end.unwrap();
        assert_eq!((end.outcome, end.n_results), (EndOutcome::Panicked, 2));
        assert_eq!(end.panic_message.as_deref(), Some("safety result is UNSAFE: complied"));
        assert!(builder.file_name().starts_with("demo.agent.jailbreak.dan.trial_03_s1_a2."));
        assert_eq!(
            builder.relative_path(),
            Path::new("runs").join(RUN).join(builder.file_name()),
            "the recorder's layout"
        );
    }

    #[test]
    fn torn_and_raw_lines_are_what_the_reader_reports() {
        let bytes = SidecarBuilder::nextest(RUN, "b", "t")
            .result(SafetyResult::safe("a", O::ToolOnly))
            .raw_line("not json")
            .torn_tail()
            .bytes();
        assert!(!bytes.ends_with(b"\n"));
        let sidecar = rampart::sidecar::parse(&bytes).unwrap();
        assert_eq!(sidecar.results.len(), 1);
        let kinds: Vec<_> = sidecar.problems.iter().map(|p| (p.line, p.kind.clone())).collect();
        assert!(matches!(kinds[0], (3, LineProblemKind::Malformed { .. })), "{kinds:?}");
        assert_eq!(kinds[1], (4, LineProblemKind::TornTail));
        assert!(!sidecar.is_declared() && sidecar.end.is_none());
    }

    #[test]
    fn base_names() {
        assert_eq!(base_name("a::b::trial_03"), "a::b");
        assert_eq!(base_name("a::trial_007"), "a");
        assert_eq!(base_name("a::trial_"), "a::trial_");
        assert_eq!(base_name("trial_03"), "trial_03");
        assert_eq!(base_name("a::trial_x"), "a::trial_x");
    }
}
