//! Report sinks: where a finished [`TestRunReport`] goes.

use camino::Utf8PathBuf;

use crate::report::TestRunReport;
use crate::write::ReportDir;

/// Something that receives the finished report: the JSON files, or a custom sink in a user's
/// xtask (Slack, a dashboard, SARIF...).
pub trait ReportSink {
    /// Emits the report.
    fn emit(&self, report: &TestRunReport) -> Result<(), SinkError>;
}

/// Why a sink failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// An I/O error on a file.
    #[error("failed to write {path}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The report could not be serialized.
    #[error("failed to serialize the report")]
    Serialize(#[from] serde_json::Error),
    /// A custom sink's error.
    #[error("sink failed: {0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// Writes `<out>/report.json` (replaced atomically) and
/// `<out>/runs/run_report_<UTC timestamp with ms>.json` (created exclusively, never
/// overwritten: a suffix is added on collision), through [`ReportDir`].
#[derive(Clone, Debug)]
pub struct JsonFileSink {
    out: ReportDir,
}

/// The files a [`JsonFileSink`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JsonWritten {
    /// `<out>/report.json`.
    pub latest: Utf8PathBuf,
    /// `<out>/runs/run_report_<timestamp>.json`.
    pub archived: Utf8PathBuf,
}

/// File name of the latest report.
pub const LATEST_FILE: &str = "report.json";

impl JsonFileSink {
    /// A sink writing under `out_dir`.
    pub fn new(out_dir: impl Into<Utf8PathBuf>) -> JsonFileSink {
        JsonFileSink { out: ReportDir::new(out_dir) }
    }

    /// Writes both files and says where. `report.json` is streamed to disk (never built in
    /// memory) in the [outline](write_inert_json_outline) layout; the archive under `runs/` is
    /// a hard link to the same bytes (a copy where the file system has no hard links), so a
    /// report is written once.
    pub fn write(&self, report: &TestRunReport) -> Result<JsonWritten, SinkError> {
        let latest = self.write_latest(report)?;
        let stamp = report
            .metadata
            .generated_at
            .clone()
            .unwrap_or_else(|| rampart::Timestamp::now().to_string())
            .replace([':', '.'], "-");
        for n in 0u32..10_000 {
            let name = if n == 0 {
                format!("runs/run_report_{stamp}.json")
            } else {
                format!("runs/run_report_{stamp}_{n}.json")
            };
            if let Some(archived) = self.out.link_new(&latest, &name)? {
                return Ok(JsonWritten { latest, archived });
            }
        }
        Err(SinkError::Io {
            path: self.out.path().join("runs").to_string(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free archive name"),
        })
    }

    /// Writes `report.json` only, without the archive copy (a live report, rewritten while
    /// the run goes on).
    pub fn write_latest(&self, report: &TestRunReport) -> Result<Utf8PathBuf, SinkError> {
        let mut serialize_error = None;
        let latest = self.out.write_with(LATEST_FILE, |w| {
            write_inert_json_outline(&mut *w, report).map_err(|e| {
                let io = std::io::Error::other(e.to_string());
                serialize_error = Some(e);
                io
            })?;
            w.write_all(b"\n")
        });
        match (latest, serialize_error) {
            (_, Some(e)) if !e.is_io() => Err(SinkError::Serialize(e)),
            (result, _) => result,
        }
    }
}

impl ReportSink for JsonFileSink {
    fn emit(&self, report: &TestRunReport) -> Result<(), SinkError> {
        self.write(report).map(|_| ())
    }
}

/// `value` as pretty JSON in which no string holds a raw character a terminal or viewer could
/// act on: besides what JSON escapes anyway (C0 controls), DEL, the C1 controls (U+0080 to
/// U+009F, `CSI` among them), bidirectional overrides and isolates, and U+2028/U+2029 are
/// written as `\uXXXX` escapes. The value is the same to any JSON reader.
pub fn to_inert_json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut out,
        InertFormatter(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut serializer)?;
    Ok(out)
}

/// Writes `value` as inert JSON (see [`to_inert_json_pretty`]) in an outline layout: the top
/// object and the containers directly in it are pretty-printed, and every value nested deeper
/// is written on one line (`{"status": "safe", "line": 3}`). Each of `report.json`'s results,
/// tests and trial groups is one line: the file stays readable and diffable, is about the size
/// of its input rather than twice it, and a line-oriented tool can take it apart.
pub fn write_inert_json_outline<W: std::io::Write, T: serde::Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> Result<(), serde_json::Error> {
    let mut serializer = serde_json::Serializer::with_formatter(
        writer,
        InertFormatter(OutlineFormatter { pretty: serde_json::ser::PrettyFormatter::new(), depth: 0 }),
    );
    value.serialize(&mut serializer)
}

/// Containers nested this deep or less are pretty-printed by [`OutlineFormatter`].
const OUTLINE_PRETTY_LEVELS: usize = 2;

/// Pretty for the outer [`OUTLINE_PRETTY_LEVELS`] levels of containers, one line (with a space
/// after `:` and `,`) inside them.
struct OutlineFormatter {
    pretty: serde_json::ser::PrettyFormatter<'static>,
    /// Containers open.
    depth: usize,
}

impl OutlineFormatter {
    /// Whether the container at nesting `level` (1: the top value) is pretty-printed.
    fn pretty_at(level: usize) -> bool {
        level <= OUTLINE_PRETTY_LEVELS
    }
}

impl serde_json::ser::Formatter for OutlineFormatter {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        if Self::pretty_at(self.depth) { self.pretty.begin_array(w) } else { w.write_all(b"[") }
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let pretty = Self::pretty_at(self.depth);
        self.depth -= 1;
        if pretty { self.pretty.end_array(w) } else { w.write_all(b"]") }
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if Self::pretty_at(self.depth) {
            self.pretty.begin_array_value(w, first)
        } else if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        if Self::pretty_at(self.depth) { self.pretty.end_array_value(w) } else { Ok(()) }
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        if Self::pretty_at(self.depth) { self.pretty.begin_object(w) } else { w.write_all(b"{") }
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let pretty = Self::pretty_at(self.depth);
        self.depth -= 1;
        if pretty { self.pretty.end_object(w) } else { w.write_all(b"}") }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if Self::pretty_at(self.depth) {
            self.pretty.begin_object_key(w, first)
        } else if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        if Self::pretty_at(self.depth) { self.pretty.begin_object_value(w) } else { w.write_all(b": ") }
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        if Self::pretty_at(self.depth) { self.pretty.end_object_value(w) } else { Ok(()) }
    }
}

/// Whether `c` is written escaped by [`to_inert_json_pretty`].
pub(crate) fn needs_json_escape(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// A formatter that escapes what [`needs_json_escape`] says, and otherwise is `F`.
struct InertFormatter<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for InertFormatter<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // Every character escaped here is DEL or beyond ASCII: an ASCII fragment (most of them)
        // is written as it is.
        let Some(start) = fragment.bytes().position(|b| b >= 0x7f) else {
            return writer.write_all(fragment.as_bytes());
        };
        let mut last = 0;
        for (i, c) in fragment[start..].char_indices().map(|(i, c)| (start + i, c)) {
            if needs_json_escape(c) {
                writer.write_all(&fragment.as_bytes()[last..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                last = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[last..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::{ReportContext, ReportInputs, assemble};

    #[test]
    fn json_sink_replaces_latest_and_never_overwrites_archives() {
        let dir = tempfile::tempdir().unwrap();
        let out = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let context = ReportContext::new(Some("2026-11-22T03:12:19.229Z".to_owned()), Default::default());
        let report = assemble(ReportInputs::default(), &context).report;
        let sink = JsonFileSink::new(out.clone());
        let first = sink.write(&report).unwrap();
        assert_eq!(
            to_inert_json_pretty(&serde_json::json!({"s": "a\u{9b}31m\u{7f}\u{202e}b"})).unwrap(),
            b"{\n  \"s\": \"a\\u009b31m\\u007f\\u202eb\"\n}",
            "controls a terminal acts on are escaped; the value is the same"
        );
        let mut outline = Vec::new();
        write_inert_json_outline(
            &mut outline,
            &serde_json::json!({"n": 1, "results": [{"a": [1, {"b": "\u{9b}"}], "c": {}}, []], "m": {"k": {"x": null}}}),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(outline).unwrap(),
            "{\n  \"m\": {\n    \"k\": {\"x\": null}\n  },\n  \"n\": 1,\n  \"results\": [\n    {\"a\": [1, {\"b\": \"\\u009b\"}], \"c\": {}},\n    []\n  ]\n}",
            "pretty outside, one line per nested value, still inert"
        );
        let second = sink.write(&report).unwrap();
        assert_eq!(first.latest, out.join("report.json"));
        assert_eq!(first.archived.file_name(), Some("run_report_2026-11-22T03-12-19-229Z.json"));
        assert_eq!(second.archived.file_name(), Some("run_report_2026-11-22T03-12-19-229Z_1.json"));
        let back: TestRunReport =
            serde_json::from_str(&fs_err::read_to_string(&first.latest).unwrap()).unwrap();
        assert_eq!(back, report);
        let n_files = fs_err::read_dir(out.join("runs")).unwrap().count();
        assert_eq!(n_files, 2);
        let latest_bytes = fs_err::read(&first.latest).unwrap();
        assert_eq!(
            fs_err::read(&second.archived).unwrap(),
            latest_bytes,
            "the archive holds the same report"
        );
        // No temp file is left behind.
        assert_eq!(fs_err::read_dir(&out).unwrap().count(), 2, "report.json and runs/");
    }
}
