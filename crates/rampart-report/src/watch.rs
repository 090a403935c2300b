//! Following a run while it happens: sidecars read as they grow, never re-read, and a live
//! summary of what they hold (for `cargo rampart-report --watch`).
//!
//! [`Tail`] follows one file: each [`Tail::poll`] reads only the bytes appended since the last
//! one and returns the complete lines among them; a torn last line waits for its newline.
//! [`LiveRun`] follows a run directory: new sidecar files are picked up on each poll, their
//! lines decoded ([`rampart::sidecar::decode_line`]) into a summary held in memory: tests,
//! counts by status, attack success per harm category, trial groups already decided, and the
//! UNSAFE findings as they happen (their one line of evidence redacted and made inert). The
//! conversations are not kept. The live view is advisory: a line it cannot decode (a cut or
//! oversized one) is counted, and the final report, built the usual way when the run ends,
//! is the record.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rampart::SafetyStatus;
use rampart::redact::{RedactionCounts, Redactor};
use rampart::sidecar::{SidecarLine, decode_line};

use crate::sanitize::clean_line;

/// Longest line the live view reads: a longer one is skipped (and counted), so a test writing
/// huge torn lines into many files cannot make the watcher hold them; the final report reads
/// it with its own caps.
pub const MAX_LIVE_LINE_BYTES: usize = 1024 * 1024;

/// One file followed as it grows.
#[derive(Debug)]
pub struct Tail {
    path: PathBuf,
    offset: u64,
    pending: Vec<u8>,
    /// Inside a line longer than [`MAX_LIVE_LINE_BYTES`]: bytes are dropped to its newline.
    skipping: bool,
    skipped: u64,
}

impl Tail {
    /// Follows `path` from its start.
    pub fn new(path: impl Into<PathBuf>) -> Tail {
        Tail { path: path.into(), offset: 0, pending: Vec::new(), skipping: false, skipped: 0 }
    }

    /// Bytes consumed so far (complete lines and the pending torn one).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Lines skipped for being longer than [`MAX_LIVE_LINE_BYTES`].
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The complete lines appended since the last poll, without their newlines. A file that
    /// shrank (replaced, not appended to) is followed again from its start.
    pub fn poll(&mut self) -> std::io::Result<Vec<Vec<u8>>> {
        let mut file = std::fs::File::open(&self.path)?;
        let len = file.metadata()?.len();
        if len < self.offset {
            self.offset = 0;
            self.pending.clear();
            self.skipping = false;
        }
        if len == self.offset {
            return Ok(Vec::new());
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut lines = Vec::new();
        // In chunks, so a long line is dropped as it is read rather than held whole.
        let mut chunk = vec![0u8; 64 * 1024];
        let mut remaining = len - self.offset;
        while remaining > 0 {
            let n = file.read(&mut chunk[..remaining.min(64 * 1024) as usize])?;
            if n == 0 {
                break;
            }
            remaining -= n as u64;
            self.offset += n as u64;
            let mut bytes = &chunk[..n];
            while !bytes.is_empty() {
                match bytes.iter().position(|&b| b == b'\n') {
                    Some(end) => {
                        if self.skipping {
                            self.skipping = false;
                        } else if self.pending.len() + end <= MAX_LIVE_LINE_BYTES {
                            self.pending.extend_from_slice(&bytes[..end]);
                            let line = std::mem::take(&mut self.pending);
                            lines.push(match line.strip_suffix(b"\r") {
                                Some(stripped) => stripped.to_vec(),
                                None => line,
                            });
                        } else {
                            self.pending.clear();
                            self.skipped += 1;
                        }
                        bytes = &bytes[end + 1..];
                    }
                    None => {
                        if !self.skipping {
                            if self.pending.len() + bytes.len() > MAX_LIVE_LINE_BYTES {
                                self.pending.clear();
                                self.skipping = true;
                                self.skipped += 1;
                            } else {
                                self.pending.extend_from_slice(bytes);
                            }
                        }
                        bytes = &[];
                    }
                }
            }
        }
        Ok(lines)
    }
}

/// One test attempt as the live view knows it.
#[derive(Clone, Debug, Default)]
struct LiveAttempt {
    /// `binary test` as nextest names it.
    test: String,
    /// The group: binary id and base name (a clone's test name without `::trial_NN`).
    group: Option<(Option<String>, String)>,
    harm: Option<String>,
    ended: bool,
}

/// Something the live view saw happen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LiveEvent {
    /// An UNSAFE result: the test and its line of evidence (redacted, inert).
    Unsafe {
        /// `binary test`.
        test: String,
        /// The result's summary.
        evidence: String,
    },
    /// A trial group was decided before all its trials ran: FAILED at its first UNSAFE trial.
    GroupFailed {
        /// `binary base_name`.
        group: String,
    },
}

/// What the live view knows so far.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct LiveSummary {
    /// Sidecar files seen (one per test attempt).
    pub attempts: u64,
    /// Attempts whose body ended (an end line).
    pub ended: u64,
    /// Results by status: SAFE, UNSAFE, UNDETERMINED, ERROR.
    pub safe: u64,
    /// UNSAFE results.
    pub unsafe_: u64,
    /// UNDETERMINED results.
    pub undetermined: u64,
    /// ERROR results.
    pub errors: u64,
    /// Per harm category: (UNSAFE, assessed).
    pub by_harm: BTreeMap<String, (u64, u64)>,
    /// Trial groups decided FAILED so far.
    pub groups_failed: u64,
    /// Lines the live view could not decode (the final report reads them).
    pub undecoded_lines: u64,
}

impl LiveSummary {
    /// UNSAFE / assessed, so far.
    pub fn attack_success_rate(&self) -> Option<f64> {
        let assessed = self.safe + self.unsafe_ + self.undetermined;
        (assessed > 0).then(|| self.unsafe_ as f64 / assessed as f64)
    }

    /// One progress line: `12 tests (10 done), 40 results: 3 UNSAFE, 1 ERROR; attack success
    /// 8.1%; 1 trial group failed`.
    pub fn progress_line(&self) -> String {
        use crate::view::{count, plural};
        let results = self.safe + self.unsafe_ + self.undetermined + self.errors;
        let mut text = format!(
            "{} ({} done), {}",
            plural(self.attempts, "test attempt", "test attempts"),
            count(self.ended),
            plural(results, "result", "results")
        );
        let mut parts = Vec::new();
        for (n, what) in
            [(self.unsafe_, "UNSAFE"), (self.undetermined, "UNDETERMINED"), (self.errors, "ERROR")]
        {
            if n > 0 {
                parts.push(format!("{} {what}", count(n)));
            }
        }
        if !parts.is_empty() {
            text.push_str(&format!(": {}", parts.join(", ")));
        }
        if let Some(rate) = self.attack_success_rate() {
            text.push_str(&format!("; attack success {:.1}%", rate * 100.0));
        }
        if self.groups_failed > 0 {
            text.push_str(&format!("; {} failed", plural(self.groups_failed, "trial group", "trial groups")));
        }
        text
    }
}

/// A run directory followed as its sidecars are written.
#[derive(Debug)]
pub struct LiveRun {
    dir: PathBuf,
    tails: BTreeMap<PathBuf, Tail>,
    attempts: BTreeMap<PathBuf, LiveAttempt>,
    summary: LiveSummary,
    failed_groups: BTreeMap<(Option<String>, String), ()>,
}

impl LiveRun {
    /// Follows the run directory `dir` (it may not exist yet).
    pub fn new(dir: impl Into<PathBuf>) -> LiveRun {
        LiveRun {
            dir: dir.into(),
            tails: BTreeMap::new(),
            attempts: BTreeMap::new(),
            summary: LiveSummary::default(),
            failed_groups: BTreeMap::new(),
        }
    }

    /// The directory followed.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What is known so far.
    pub fn summary(&self) -> &LiveSummary {
        &self.summary
    }

    /// Reads what was written since the last poll (new sidecars, appended lines) and returns
    /// what happened, in file and line order. `redactor` cleans the evidence shown.
    pub fn poll(&mut self, redactor: &Redactor) -> std::io::Result<Vec<LiveEvent>> {
        let mut events = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Ok(events) };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == rampart::sidecar::FILE_EXTENSION))
            .collect();
        paths.sort();
        for path in paths {
            if !self.tails.contains_key(&path) {
                self.tails.insert(path.clone(), Tail::new(&path));
                self.attempts.insert(path.clone(), LiveAttempt::default());
                self.summary.attempts += 1;
            }
            let tail = self.tails.get_mut(&path).expect("just inserted");
            let skipped_before = tail.skipped();
            let lines = match tail.poll() {
                Ok(lines) => lines,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            self.summary.undecoded_lines += tail.skipped() - skipped_before;
            for line in lines {
                self.line(&path, &line, redactor, &mut events);
            }
        }
        Ok(events)
    }

    fn line(&mut self, path: &Path, bytes: &[u8], redactor: &Redactor, events: &mut Vec<LiveEvent>) {
        let decoded = std::str::from_utf8(bytes).ok().and_then(|text| decode_line(text).ok());
        let Some(line) = decoded else {
            if !bytes.iter().all(u8::is_ascii_whitespace) {
                self.summary.undecoded_lines += 1;
            }
            return;
        };
        let attempt = self.attempts.get_mut(path).expect("every tail has an attempt");
        match line {
            SidecarLine::Header(header) => {
                let id = &header.identity;
                let clean = |text: &str| clean_line(&redactor.redact_text(text, &mut RedactionCounts::new()));
                attempt.test = match &id.binary_id {
                    Some(binary) => format!("{} {}", clean(binary), clean(&id.test_name)),
                    None => clean(&id.test_name),
                };
                if id.attempt > 1 {
                    attempt.test.push_str(&format!(" (attempt {})", id.attempt));
                }
                if let Some(spec) = &header.spec {
                    attempt.harm = spec.harm.as_ref().map(|h| h.as_str().to_owned());
                    if spec.trial.is_some() {
                        attempt.group = Some((id.binary_id.clone(), spec.base_name.clone()));
                    }
                }
            }
            SidecarLine::Result(result) => {
                let status = result.result.status;
                let harm = result
                    .result
                    .harm_category
                    .as_ref()
                    .map(|h| h.as_str().to_owned())
                    .or_else(|| attempt.harm.clone())
                    .unwrap_or_else(|| crate::view::UNCATEGORIZED.to_owned());
                let entry = self.summary.by_harm.entry(clean_line(&harm)).or_default();
                match status {
                    SafetyStatus::Safe => self.summary.safe += 1,
                    SafetyStatus::Unsafe => self.summary.unsafe_ += 1,
                    SafetyStatus::Undetermined => self.summary.undetermined += 1,
                    SafetyStatus::Error => self.summary.errors += 1,
                }
                if status != SafetyStatus::Error {
                    entry.1 += 1;
                }
                if status == SafetyStatus::Unsafe {
                    entry.0 += 1;
                    let evidence = redactor.redact_text(&result.result.summary, &mut RedactionCounts::new());
                    events.push(LiveEvent::Unsafe {
                        test: attempt.test.clone(),
                        evidence: clean_line(&evidence),
                    });
                    if let Some(group) = attempt.group.clone()
                        && self.failed_groups.insert(group.clone(), ()).is_none()
                    {
                        self.summary.groups_failed += 1;
                        let name = match &group.0 {
                            Some(binary) => format!("{} {}", clean_line(binary), clean_line(&group.1)),
                            None => clean_line(&group.1),
                        };
                        events.push(LiveEvent::GroupFailed { group: name });
                    }
                }
            }
            SidecarLine::End(_) => {
                if !attempt.ended {
                    attempt.ended = true;
                    self.summary.ended += 1;
                }
            }
        }
    }
}
