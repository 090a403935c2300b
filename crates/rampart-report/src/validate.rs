//! Validation at the report boundary: sidecars are untrusted input (the agent under test may
//! be compromised and its output is attacker-controlled), so the report bounds what it reads.
//!
//! - **Size caps** ([`Limits`]): a result line over [`Limits::max_result_bytes`] is never
//!   deserialized; a marker result keeps its status (UNSAFE stays UNSAFE) without its evidence
//!   (see [`rampart::sidecar::parse_with`]). A
//!   sidecar file over [`Limits::max_sidecar_bytes`] is read up to the cap (whole lines only).
//!   Both mark the run incomplete; every other result keeps flowing.
//! - **Nesting**: metadata, tool arguments, side-effect details and attachment metadata nested
//!   deeper than [`MAX_NESTING_DEPTH`] levels are replaced by the compact JSON text of the
//!   subtree, cut at [`MAX_STRINGIFIED_BYTES`] ([`sanitize_result`]).
//! - **Numbers**: JSON has no NaN or infinity; a literal too large for an `f64` (`1e999`) is
//!   read as `null` by the sidecar reader and counted. Non-finite `f64` fields (a NaN
//!   confidence) serialize as `null`.
//! - **Free text** shown to people is cleaned of escape sequences ([`crate::sanitize`]) and,
//!   in the HTML projection, bounded with [`bound_text`] at [`HTML_MAX_TEXT_BYTES`].

use std::borrow::Cow;

use rampart::SafetyResult;
use rampart::walk::{Field, MapField, VisitMut, walk_mut};
use serde_json::Value;

/// Default cap on one serialized result line: 16 MiB, as RAMPART's per-result cap.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 16 << 20;
/// Default cap on one sidecar file: 1 GiB.
pub const DEFAULT_MAX_SIDECAR_BYTES: u64 = 1 << 30;
/// JSON objects and arrays nested deeper than this are stringified.
pub const MAX_NESTING_DEPTH: usize = 6;
/// A stringified subtree is cut to this many bytes.
pub const MAX_STRINGIFIED_BYTES: usize = 4096;
/// Longest free-text field (summary, response, rationale, tool result...) the HTML report shows
/// in full: 64 KiB. The JSON report keeps the whole text.
pub const HTML_MAX_TEXT_BYTES: usize = 64 << 10;

/// Size caps applied while reading sidecars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest result line read, in bytes.
    pub max_result_bytes: usize,
    /// Largest sidecar file read, in bytes.
    pub max_sidecar_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_result_bytes: DEFAULT_MAX_RESULT_BYTES, max_sidecar_bytes: DEFAULT_MAX_SIDECAR_BYTES }
    }
}

impl Limits {
    /// The defaults.
    pub fn new() -> Limits {
        Limits::default()
    }

    /// Sets the per-result cap.
    pub fn with_max_result_bytes(mut self, max_result_bytes: usize) -> Self {
        self.max_result_bytes = max_result_bytes;
        self
    }

    /// Sets the per-sidecar cap.
    pub fn with_max_sidecar_bytes(mut self, max_sidecar_bytes: u64) -> Self {
        self.max_sidecar_bytes = max_sidecar_bytes;
        self
    }
}

/// Stringifies every subtree nested deeper than [`MAX_NESTING_DEPTH`] in the free-form JSON of
/// `result` (every JSON object [`rampart::walk`] visits: metadata, tool arguments, side-effect
/// details, response and attachment metadata); returns how many subtrees were stringified.
pub fn sanitize_result(result: &mut SafetyResult) -> usize {
    struct Flatten(usize);
    impl VisitMut for Flatten {
        fn text(&mut self, _field: Field, _text: &mut String) {}
        fn map(&mut self, _field: MapField, map: &mut serde_json::Map<String, Value>) {
            // The map's values are at depth 1.
            self.0 += map.values_mut().map(|value| flatten(value, 1)).sum::<usize>();
        }
    }
    let mut visitor = Flatten(0);
    walk_mut(result, &mut visitor);
    visitor.0
}

fn flatten(value: &mut Value, depth: usize) -> usize {
    let children: Box<dyn Iterator<Item = &mut Value>> = match value {
        Value::Object(map) if !map.is_empty() => Box::new(map.values_mut()),
        Value::Array(items) if !items.is_empty() => Box::new(items.iter_mut()),
        _ => return 0,
    };
    if depth > MAX_NESTING_DEPTH {
        drop(children);
        let text = serde_json::to_string(value).unwrap_or_default();
        *value = Value::String(bound_text(&text, MAX_STRINGIFIED_BYTES).into_owned());
        return 1;
    }
    children.map(|child| flatten(child, depth + 1)).sum()
}

/// `text` cut to at most `max_bytes` bytes (on a char boundary), followed by
/// ` … [N more bytes]` when something was cut; borrowed when it fits.
///
/// The HTML report calls it on every free-text field it shows, with [`HTML_MAX_TEXT_BYTES`]:
/// `bound_text(&result.summary, HTML_MAX_TEXT_BYTES)`.
pub fn bound_text(text: &str, max_bytes: usize) -> Cow<'_, str> {
    if text.len() <= max_bytes {
        return Cow::Borrowed(text);
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{} … [{} more bytes]", &text[..end], text.len() - end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart::{ObservabilityLevel, Response, SideEffect, ToolCall, Turn};
    use serde_json::json;

    fn nested(depth: usize) -> Value {
        (0..depth).fold(json!("leaf"), |inner, _| json!({ "k": inner }))
    }

    #[test]
    fn deep_nesting_is_stringified_at_depth_six_everywhere() {
        let response = Response::text("r")
            .with_metadata("m", nested(8))
            .with_tool_call(ToolCall::new("t").with_argument("a", nested(8)))
            .with_side_effect(SideEffect::new("s").with_detail("d", nested(8)));
        let mut result = SafetyResult::safe("s", ObservabilityLevel::ToolAndSideEffects)
            .with_metadata("shallow", nested(6))
            .with_metadata("deep", nested(7))
            .with_metadata("list", json!([[[[[[[1]]]]]]]))
            .with_turn(Turn::new(rampart::Request::prompt("p"), response));
        assert_eq!(sanitize_result(&mut result), 5);
        // Six levels of objects are kept as they are.
        assert_eq!(result.metadata["shallow"], nested(6));
        // The seventh level becomes the compact JSON of its subtree.
        let mut at_six = &result.metadata["deep"];
        for _ in 0..6 {
            at_six = &at_six["k"];
        }
        assert_eq!(at_six, &json!(r#"{"k":"leaf"}"#));
        assert_eq!(result.metadata["list"][0][0][0][0][0][0], json!("[1]"));
        let turn = &result.turns[0];
        assert!(turn.response.tool_calls[0].arguments["a"]["k"]["k"]["k"]["k"]["k"]["k"].is_string());
        assert!(turn.response.side_effects[0].details["d"]["k"]["k"]["k"]["k"]["k"]["k"].is_string());
        assert!(turn.response.metadata["m"]["k"]["k"]["k"]["k"]["k"]["k"].is_string());
    }

    #[test]
    fn stringified_subtrees_are_bounded() {
        let mut result = SafetyResult::safe("s", ObservabilityLevel::ToolOnly)
            .with_metadata("deep", nested_with_payload(7, &"x".repeat(100_000)));
        assert_eq!(sanitize_result(&mut result), 1);
        let mut v = &result.metadata["deep"];
        for _ in 0..6 {
            v = &v["k"];
        }
        let text = v.as_str().unwrap();
        assert!(text.len() < MAX_STRINGIFIED_BYTES + 40, "{}", text.len());
        assert!(text.ends_with("more bytes]"));
    }

    fn nested_with_payload(depth: usize, payload: &str) -> Value {
        (0..depth).fold(json!({ "p": payload }), |inner, _| json!({ "k": inner }))
    }

    #[test]
    fn bound_text_cuts_on_char_boundaries() {
        assert!(matches!(bound_text("short", 10), Cow::Borrowed("short")));
        assert_eq!(bound_text("0123456789", 4), "0123 … [6 more bytes]");
        assert_eq!(bound_text("ééé", 3), "é … [4 more bytes]");
    }

    const HEADER: &str = r#"{"kind":"header","schema":"rampart.sidecar.v1","identity":{"harness":"nextest","run_id":"r","test_name":"t","attempt":1,"total_attempts":1},"writer":{"rampart_version":"0.1.0","pid":1},"started_at":"2026-01-01T00:00:00.000Z"}"#;

    fn result_line(index: u32, summary: &str) -> String {
        format!(
            r#"{{"kind":"result","index":{index},"recorded_at":"2026-01-01T00:00:01.000Z","result":{{"status":"safe","summary":"{summary}","observability_level":"tool_only","harm_category":"jailbreak"}}}}"#
        ) + "\n"
    }

    fn utf8(dir: &tempfile::TempDir) -> camino::Utf8PathBuf {
        camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap()
    }

    fn kinds(problems: &[crate::InputProblem]) -> Vec<Option<crate::report::IncompleteKind>> {
        problems.iter().map(|p| p.incomplete_reason().map(|r| r.kind)).collect()
    }

    #[test]
    fn oversized_result_is_a_marker_and_marks_the_run_incomplete() {
        use crate::report::IncompleteKind;
        let text = format!(
            "{HEADER}\n{}{}{}",
            result_line(0, "a"),
            result_line(1, &"b".repeat(5000)),
            result_line(2, "c")
        );
        let limits = Limits::new().with_max_result_bytes(1024);
        let (sidecar, problems) = crate::sidecars::parse_sidecar_with("s.jsonl", text.as_bytes(), &limits);
        let sidecar = sidecar.unwrap().sidecar;
        let summaries: Vec<&str> = sidecar.results.iter().map(|r| r.result.summary.as_str()).collect();
        assert_eq!(summaries[0], "a");
        assert!(
            summaries[1].ends_with("… [evidence lost: result of 5.0 KiB exceeded the 1 KiB cap]"),
            "{summaries:?}"
        );
        assert_eq!(summaries[2], "c");
        // Its status is kept; only its evidence is lost.
        assert_eq!(sidecar.results[1].result.status, rampart::SafetyStatus::Safe);
        assert_eq!(sidecar.results[1].result.harm_category.as_ref().unwrap().as_str(), "jailbreak");
        assert_eq!(kinds(&problems), [Some(IncompleteKind::ResultOversized)]);
        assert!(problems[0].to_string().contains("s.jsonl line 3"), "{}", problems[0]);
    }

    #[test]
    fn oversized_sidecar_is_read_up_to_the_cap() {
        use crate::report::IncompleteKind;
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{HEADER}\n{}{}{}", result_line(0, "a"), result_line(1, "b"), result_line(2, "c"));
        let path = utf8(&dir).join("s.jsonl");
        fs_err::write(&path, &text).unwrap();
        // The cap falls inside the third line: two whole lines are read, the third is cut.
        let cap = (HEADER.len() + 1 + result_line(0, "a").len() + 10) as u64;
        let (sidecar, problems) =
            crate::sidecars::load_sidecar_with(&path, &Limits::new().with_max_sidecar_bytes(cap));
        let sidecar = sidecar.unwrap().sidecar;
        assert_eq!(sidecar.results.len(), 1);
        // The line the cap cuts is reported as cut short (and probed: it was SAFE, so no marker).
        assert_eq!(
            kinds(&problems),
            [Some(IncompleteKind::SidecarOversized), Some(IncompleteKind::SidecarLineUnreadable)]
        );
        assert!(problems[0].to_string().contains("over the"), "{}", problems[0]);
    }

    #[test]
    fn out_of_range_numbers_are_a_counted_warning() {
        let line = result_line(0, "a").replace(r#""status""#, r#""duration_seconds":1e999,"status""#);
        let text = format!("{HEADER}\n{line}");
        let (sidecar, problems) = crate::sidecars::parse_sidecar("s.jsonl", text.as_bytes());
        assert_eq!(sidecar.unwrap().sidecar.results.len(), 1);
        assert_eq!(kinds(&problems), [None]);
        assert!(problems[0].to_string().contains("1 number too large"), "{}", problems[0]);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_counted() {
        use crate::report::IncompleteKind;
        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend_from_slice(result_line(0, "caf\u{1}").replace('\u{1}', "\u{ff}").as_bytes());
        let at = bytes.iter().rposition(|&b| b == 0xc3).unwrap();
        bytes[at] = 0xff; // a lone invalid byte
        let (sidecar, problems) = crate::sidecars::parse_sidecar("s.jsonl", &bytes);
        let sidecar = sidecar.unwrap().sidecar;
        assert!(sidecar.results[0].result.summary.contains('\u{FFFD}'));
        assert_eq!(kinds(&problems), [Some(IncompleteKind::SidecarNotUtf8)]);
    }

    /// The report redacts the whole structure, then stringifies what is nested too deep: a
    /// secret key below the cut is redacted, and the cut never leaves part of a secret.
    #[test]
    fn deep_nesting_in_a_sidecar_is_redacted_then_stringified() {
        let secret = "hunter2-correct-horse-battery";
        let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
        let mut deep =
            json!({"password": secret, "note": format!("{}{key}", "x".repeat(MAX_STRINGIFIED_BYTES - 20))});
        for _ in 0..9 {
            deep = json!({ "k": deep });
        }
        let line =
            result_line(0, "a").replace(r#""status""#, &format!(r#""metadata":{{"m":{deep}}},"status""#));
        let (sidecar, problems) =
            crate::sidecars::parse_sidecar("s.jsonl", format!("{HEADER}\n{line}").as_bytes());
        assert!(problems.is_empty());
        let inputs = crate::ReportInputs { sidecars: vec![sidecar.unwrap()], ..Default::default() };
        let report = crate::assemble(inputs, &crate::ReportContext::default()).report;
        let result = &report.results[0].result;
        let cut = &result.metadata["m"]["k"]["k"]["k"]["k"]["k"]["k"];
        assert!(cut.is_string(), "{cut}");
        let text = serde_json::to_string(&report).unwrap();
        assert!(!text.contains(secret) && !text.contains("hunter2"), "the deep password survived");
        assert!(!text.contains("abcdefghij"), "part of the key survived the cut");
    }

    #[test]
    fn newer_major_sidecar_is_refused_naming_file_schema_and_remedy() {
        use crate::report::IncompleteKind;
        let text = format!(
            "{}\n{}",
            HEADER.replace("rampart.sidecar.v1", "rampart.sidecar.v2"),
            result_line(0, "a")
        );
        let (sidecar, problems) = crate::sidecars::parse_sidecar("runs/x/future.jsonl", text.as_bytes());
        assert!(sidecar.is_none());
        assert_eq!(kinds(&problems), [Some(IncompleteKind::SidecarUnknownSchema)]);
        let message = problems[0].to_string();
        assert!(
            message.contains("runs/x/future.jsonl") && message.contains("rampart.sidecar.v2"),
            "{message}"
        );
        let help = miette::Diagnostic::help(&problems[0]).unwrap().to_string();
        assert!(help.contains("upgrade cargo-rampart-report"), "{help}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_results_dir_are_skipped_with_a_warning() {
        use crate::report::IncompleteKind;
        let outside = tempfile::tempdir().unwrap();
        let secret = utf8(&outside).join("secret.jsonl");
        fs_err::write(&secret, format!("{HEADER}\n{}", result_line(0, "outside"))).unwrap();
        let results = tempfile::tempdir().unwrap();
        let run = utf8(&results).join("run");
        fs_err::create_dir(&run).unwrap();
        fs_err::write(run.join("inside.jsonl"), format!("{HEADER}\n{}", result_line(0, "inside"))).unwrap();
        std::os::unix::fs::symlink(&secret, run.join("link.jsonl")).unwrap();
        std::os::unix::fs::symlink(outside.path(), utf8(&results).join("linked-run")).unwrap();
        std::os::unix::fs::symlink(run.join("inside.jsonl"), utf8(&results).join("alias.jsonl")).unwrap();

        let (loaded, problems) = crate::sidecars::load_results_dir(&utf8(&results));
        let summaries: Vec<&str> =
            loaded.iter().flat_map(|s| s.sidecar.results.iter().map(|r| r.result.summary.as_str())).collect();
        // No symlink is followed: the file inside is read once, through its own name; the two
        // links pointing out are reported.
        assert_eq!(summaries, ["inside"]);
        assert_eq!(kinds(&problems), [Some(IncompleteKind::SymlinkOutsideResults); 2], "{problems:?}");
        assert!(problems.iter().all(|p| p.to_string().contains("not followed")));
    }

    /// A file swapped for a symlink between the walk and the read is not followed: the check is
    /// on the opened descriptor, not on the path.
    #[cfg(unix)]
    #[test]
    fn a_sidecar_swapped_for_a_symlink_after_the_walk_is_not_read() {
        use crate::report::IncompleteKind;
        let outside = tempfile::tempdir().unwrap();
        let secret = utf8(&outside).join("secret.jsonl");
        fs_err::write(&secret, format!("{HEADER}\n{}", result_line(0, "outside"))).unwrap();
        let results = tempfile::tempdir().unwrap();
        let run = utf8(&results).join("run");
        fs_err::create_dir(&run).unwrap();
        let victim = run.join("z.jsonl");
        fs_err::write(&victim, format!("{HEADER}\n{}", result_line(0, "inside"))).unwrap();
        let (files, problems) = crate::sidecars::find_sidecar_files_checked(&utf8(&results));
        assert!(problems.is_empty());
        assert_eq!(files.len(), 1);
        // The race: after the walk, before the open.
        fs_err::remove_file(&victim).unwrap();
        std::os::unix::fs::symlink(&secret, &victim).unwrap();
        let (loaded, problems) = crate::sidecars::load_sidecar_file(&files[0], &Limits::new());
        assert!(loaded.is_none());
        assert_eq!(kinds(&problems), [Some(IncompleteKind::SidecarUnreadable)]);
        assert!(!format!("{problems:?}").contains("outside"), "{problems:?}");
        // The same with the run directory swapped for a symlink to another directory.
        fs_err::remove_file(&victim).unwrap();
        fs_err::write(&victim, format!("{HEADER}\n{}", result_line(0, "inside"))).unwrap();
        let (files, _) = crate::sidecars::find_sidecar_files_checked(&utf8(&results));
        let moved = utf8(&results).join("moved");
        fs_err::rename(&run, &moved).unwrap();
        std::os::unix::fs::symlink(outside.path(), &run).unwrap();
        fs_err::write(utf8(&outside).join("z.jsonl"), format!("{HEADER}\n{}", result_line(0, "outside")))
            .unwrap();
        let (loaded, _) = crate::sidecars::load_sidecar_file(&files[0], &Limits::new());
        // Read through the directory the walk opened (now `moved`), never through the link.
        let summaries: Vec<String> =
            loaded.iter().flat_map(|s| s.sidecar.results.iter().map(|r| r.result.summary.clone())).collect();
        assert_eq!(summaries, ["inside"]);
    }
}
