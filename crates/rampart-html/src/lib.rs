//! The self-contained interactive HTML report of a rampart run (`<out>/index.html`).
//!
//! [`render`] turns a [`TestRunReport`] into one HTML page with its CSS, JavaScript and data
//! inlined: it opens from `file://` or a CI artifact viewer and makes no network request of
//! any kind. [`HtmlSink`] writes it as a [`ReportSink`]:
//!
//! ```no_run
//! use rampart_html::{HtmlOptions, HtmlSink};
//! use rampart_report::ReportSink;
//! # fn demo(report: &rampart_report::TestRunReport) -> Result<(), rampart_report::SinkError> {
//! HtmlSink::new("target/rampart/report").with_options(HtmlOptions::default()).emit(report)?;
//! # Ok(()) }
//! ```
//!
//! # Security
//!
//! Agent output is hostile (a model emitting XSS is itself a harm category). The page
//! therefore:
//!
//! - embeds its data as JSON in `<script type="application/json">` elements, with `<`, `>`,
//!   `&`, U+2028 and U+2029 escaped as `\u003c`..., so no recorded string can close the
//!   element or be parsed as markup (split mode, below, puts the same escaped JSON in
//!   single-quoted JS string literals);
//! - renders every recorded string as text (the script uses `textContent` and
//!   `createTextNode` only, never `innerHTML` or `eval`; a test greps for them) and builds no
//!   link from data;
//! - carries a Content-Security-Policy with `default-src 'none'` that allows exactly the
//!   inline script and style of this page by their SHA-256 hashes, so an injected element
//!   could neither run script nor load anything. (In split mode, below, `'self'` is added to
//!   `script-src` for the data file: Chromium does not apply Subresource Integrity to
//!   `file://`, so a hash cannot allow an external script there.)
//!
//! # Data layout and size budget
//!
//! The page does not embed `report.json` (which stays as it is): it embeds its own
//! projection of it, in two parts (the `page` module):
//!
//! - a small **core**, read when the page opens: the run's verdict and its sentence
//!   (`rampart_report::verdict_line`), the incomplete-run reasons in words, totals and
//!   per-category stats, the trial groups (without their trials' conversations) with why each
//!   failing one failed (`rampart_report::group_reason`), the page's grouping of trials and
//!   results already joined, why each trial or test that is not SAFE is not (its killed words
//!   and evidence line), and per result only its status, harm category, trial, attempt,
//!   summary, strategy and (when not SAFE) evidence line, as columnar arrays over a table of
//!   interned strings (about 90 bytes a result);
//! - **detail chunks** of about 1 MiB: each result's conversation (turns, tool calls, side
//!   effects, evaluator outcome and evidence), recorded time and sidecar location, and each
//!   attempt's captured output. The page parses a chunk only when the user opens a result
//!   or an output in it, or searches (a search reads every chunk, in slices).
//!
//! Within [`HtmlOptions::data_budget_bytes`] of JSON, everything is in `index.html`: the
//! core in `#rampart-data` before the page's script, the chunks in `#rampart-detail-<n>`
//! after it, so the browser shows the overview before it has read the details. Above the
//! budget, the core goes to 4 MiB files `report-data-000.js`, ... loaded by `<script src>`,
//! and the chunks to `report-detail-000.js`, ... loaded by a script element when a result
//! is opened; the page says so. A giant single file makes browsers and artifact viewers
//! struggle, while a directory of files still opens from `file://`.
//!
//! # Stable `data-*` attributes
//!
//! For users who script against the page: the root `#rampart-report` carries
//! `data-schema-version` and `data-verdict`; `<html>` carries `data-ready="1"` once the
//! overview is interactive. Trial-group rows (`li.rr-group`) carry `data-test`
//! (`<binary id>$<name>`), `data-verdict` (`passed`/`failed`/`none`) and
//! `data-harm-category`; trials `data-trial-class` and `data-test`; results (`li.rr-result`)
//! `data-status` (`safe`/`unsafe`/`undetermined`/`error`), `data-harm-category`,
//! `data-test` (the attempt's test, `<binary id>$<test name>[@stress-<i>]`) and
//! `data-result-index`. The count line `#rr-count` carries `data-shown-groups`,
//! `data-total-groups`, `data-shown-results` and `data-searching` (`true` while a search
//! is still reading conversations). A result detail or captured output still loading
//! carries `data-loading`; one whose chunk could not be read shows `[data-detail-error]`. Lists rendered in pages carry
//! `data-virtualised`, `data-virtualised-shown` and `data-virtualised-total`. An evaluator's
//! outcome badge (`.rr-eval-badge`) carries `data-eval-outcome` and `data-eval-effect`
//! (`bad`: it pushed the result toward UNSAFE, `good`, `undetermined`, or `unknown` when the
//! result does not tell its evaluators' polarity).
//!
//! The URL hash holds the view: `status=unsafe,error`, `harm=<category>`,
//! `verdict=failed|passed`, `q=<search>`, `test=<group data-test>` (the expanded group: the
//! page scrolls it into view below the sticky filter bar and highlights it, then sets
//! `data-target-shown` on `<html>` to its `data-test`).
#![warn(missing_docs)]

use base64::Engine as _;
use camino::Utf8PathBuf;
use rampart_report::{ReportDir, ReportSink, SinkError, TestRunReport};
use sha2::{Digest as _, Sha256};

mod page;

/// File name of the page.
pub const INDEX_FILE: &str = "index.html";
/// Prefix of the data files written beside the page when the data is over budget
/// (`report-data-000.js`, `report-data-001.js`, ...).
pub const DATA_FILE_PREFIX: &str = "report-data-";
/// Largest data file, in bytes of JSON.
pub const DATA_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Prefix of the detail files written beside the page when the data is over budget
/// (`report-detail-000.js`, ...): each result's conversation and each attempt's captured
/// output, loaded by the page only when the user opens them.
pub const DETAIL_FILE_PREFIX: &str = "report-detail-";
/// `id` prefix of the inline detail chunks of a single-file page (`rampart-detail-0`, ...).
pub const DETAIL_ELEMENT_PREFIX: &str = "rampart-detail-";

/// The name of the `index`th data file.
pub fn data_file_name(index: usize) -> String {
    format!("{DATA_FILE_PREFIX}{index:03}.js")
}

/// The name of the `index`th detail file.
pub fn detail_file_name(index: usize) -> String {
    format!("{DETAIL_FILE_PREFIX}{index:03}.js")
}

/// One data file of a split report.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataFile {
    /// File name, relative to the page.
    pub file_name: String,
    /// Contents.
    pub contents: String,
}
/// Default [`HtmlOptions::data_budget_bytes`]: 16 MiB of JSON.
pub const DEFAULT_DATA_BUDGET_BYTES: usize = 16 * 1024 * 1024;

const TEMPLATE: &str = include_str!("../assets/report.html");
const CSS: &str = include_str!("../assets/report.css");
const JS: &str = include_str!("../assets/report.js");

/// Options of [`render`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HtmlOptions {
    /// Above this many bytes of (escaped) page JSON (core and detail chunks), the data goes
    /// to data files beside the page instead of inside it.
    pub data_budget_bytes: usize,
    /// The page title; `rampart safety report` when not set.
    pub title: Option<String>,
}

impl Default for HtmlOptions {
    fn default() -> HtmlOptions {
        HtmlOptions { data_budget_bytes: DEFAULT_DATA_BUDGET_BYTES, title: None }
    }
}

impl HtmlOptions {
    /// The defaults: a 16 MiB budget and the default title.
    pub fn new() -> HtmlOptions {
        HtmlOptions::default()
    }

    /// Sets the data budget in bytes.
    pub fn with_data_budget_bytes(mut self, bytes: usize) -> HtmlOptions {
        self.data_budget_bytes = bytes;
        self
    }

    /// Sets the page title.
    pub fn with_title(mut self, title: impl Into<String>) -> HtmlOptions {
        self.title = Some(title.into());
        self
    }
}

/// What [`render`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HtmlOutput {
    /// The page, to be written as [`INDEX_FILE`].
    pub index_html: String,
    /// The data files to write beside the page, in order, when the data was over budget;
    /// empty otherwise.
    pub data_files: Vec<DataFile>,
}

/// Renders the report as a page (and data files when over budget). Pure: reads no file,
/// clock or environment.
pub fn render(report: &TestRunReport, options: &HtmlOptions) -> HtmlOutput {
    let page::Projection { core, chunks } = page::project(report);
    let core = escape_json_for_html(&core);
    // Each chunk is dropped once escaped (and below, once quoted): one copy of the detail data
    // is alive at a time, not three.
    let chunks: Vec<String> = {
        use rayon::prelude::*;
        chunks.into_par_iter().map(|c| escape_json_for_html(&c)).collect()
    };
    let n_chunks = chunks.len();
    let title = options.title.as_deref().unwrap_or("rampart safety report");

    let mut script_sources = vec![format!("'{}'", csp_hash(JS))];
    let total_json = core.len() + chunks.iter().map(String::len).sum::<usize>();
    let (data_html, details_html, data_notice, data_files) = if total_json <= options.data_budget_bytes {
        // The core before the page's script; the detail chunks after it, so the browser
        // runs the script (and shows the overview) before it has even read them.
        let details: String = chunks
            .iter()
            .enumerate()
            .map(|(n, c)| {
                format!("<script type=\"application/json\" id=\"{DETAIL_ELEMENT_PREFIX}{n}\">{c}</script>\n")
            })
            .collect();
        (
            format!("<script type=\"application/json\" id=\"rampart-data\">{core}</script>\n"),
            details,
            String::new(),
            Vec::new(),
        )
    } else {
        // The core in chunks of at most DATA_CHUNK_BYTES, each a JS file pushing a
        // single-quoted string literal: V8 compiles one huge external script very slowly,
        // and JSON.parse of the joined string is fast. Single quotes need far fewer escapes
        // than double quotes (no `\"` around every key). The detail chunks go to their own
        // files, which the page loads (with a `<script>` element) only on drill-down.
        let mut files = Vec::new();
        let mut rest = core.as_str();
        while !rest.is_empty() {
            let mut end = rest.len().min(DATA_CHUNK_BYTES);
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            let (chunk, tail) = rest.split_at(end);
            rest = tail;
            files.push(DataFile {
                file_name: data_file_name(files.len()),
                contents: format!(
                    "(window.RAMPART_DATA_PARTS = window.RAMPART_DATA_PARTS || []).push({});\n",
                    js_single_quoted(chunk)
                ),
            });
        }
        let n_core = files.len();
        {
            use rayon::prelude::*;
            let details: Vec<DataFile> = chunks
                .into_par_iter()
                .enumerate()
                .map(|(n, chunk)| DataFile {
                    file_name: detail_file_name(n),
                    contents: format!(
                        "(window.RAMPART_DETAIL = window.RAMPART_DETAIL || {{}})[{n}] = {};\n",
                        js_single_quoted(&chunk)
                    ),
                })
                .collect();
            files.extend(details);
        }
        let total: usize = files.iter().map(|f| f.contents.len()).sum();
        // Chromium refuses Subresource Integrity on file:// responses, so a hash source
        // (which needs `integrity` on external scripts) cannot allow the data files there;
        // `'self'` can, in Chromium for file:// and on any web server. It is added only in
        // this split mode, and the data files are the only external scripts the page names.
        script_sources.push("'self'".to_owned());
        let tags: String =
            files[..n_core].iter().map(|f| format!("<script src=\"{}\"></script>\n", f.file_name)).collect();
        let notice = format!(
            "<p class=\"rr-notice\" id=\"rr-data-notice\" data-split-data=\"{n_core}\" data-detail-files=\"{n_detail}\">The data of this report \
             ({}) is over the single-file budget of {}, so it is in files beside this page: {n_core} \
             <code>{DATA_FILE_PREFIX}*.js</code> (read when the page opens) and {n_detail} <code>{DETAIL_FILE_PREFIX}*.js</code> \
             (read when you open a result): keep them together.</p>\n",
            human_bytes(total),
            human_bytes(options.data_budget_bytes),
            n_detail = n_chunks,
        );
        (tags, String::new(), notice, files)
    };
    let csp = format!(
        "default-src 'none'; script-src {}; style-src '{}'; img-src data:; base-uri 'none'; form-action 'none'",
        script_sources.join(" "),
        csp_hash(CSS),
    );
    // The header shows the brand once: `rampart` then the title without a leading `rampart`.
    let header_title = html_escape(header_title(title));
    let title = html_escape(title);
    let version = env!("CARGO_PKG_VERSION");
    let index_html = fill(
        TEMPLATE,
        &[
            ("CSP", &csp),
            // A live report (the run is still going) reloads itself: a meta refresh, which needs
            // no script and no network and which the policy above does not govern.
            (
                "REFRESH",
                if report.run_status == rampart_report::RunStatus::InProgress {
                    "\n<meta http-equiv=\"refresh\" content=\"5\">"
                } else {
                    ""
                },
            ),
            ("VERSION", version),
            ("TITLE", &title),
            ("HEADER_TITLE", &header_title),
            ("CSS", CSS),
            ("DATA_NOTICE", &data_notice),
            ("DATA", &data_html),
            ("JS", JS),
            ("DETAILS", &details_html),
        ],
    );
    HtmlOutput { index_html, data_files }
}

/// The title beside the `rampart` brand in the page's header: the page title without a
/// leading `rampart` (so the default title reads `rampart safety report`, not the name twice).
fn header_title(title: &str) -> &str {
    if title.eq_ignore_ascii_case("rampart") {
        return "";
    }
    match title.get(..8) {
        Some(head) if head.eq_ignore_ascii_case("rampart ") => title[8..].trim_start(),
        _ => title,
    }
}

/// Escapes JSON so it can sit inside a `<script>` element and be read back with
/// `JSON.parse(element.textContent)`: `<`, `>`, `&`, U+2028 and U+2029 become `\u` escapes.
/// They can only occur inside JSON strings, where the escapes mean the same characters.
pub fn escape_json_for_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    // Runs of plain ASCII (nearly all of a report) are copied whole; only `<`, `>`, `&` and
    // what is not ASCII are looked at one by one.
    let mut rest = json;
    while let Some(i) = rest.bytes().position(|b| matches!(b, b'<' | b'>' | b'&') || b >= 0x7f) {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().expect("a char starts at a byte position() found");
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            // DEL, C1 controls and bidirectional controls: inert in the file too (JSON strings
            // only, which is where recorded text is).
            c if matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}') =>
            {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// A single-quoted JS string literal of `text`.
fn js_single_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16 + 2);
    out.push('\'');
    // Runs without a quote, backslash, line break or U+2028/U+2029 (lead byte 0xE2) are copied
    // whole.
    let mut rest = text;
    while let Some(i) = rest.bytes().position(|b| matches!(b, b'\\' | b'\'' | b'\n' | b'\r' | 0xE2)) {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().expect("a char starts at a byte position() found");
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
    out.push('\'');
    out
}

/// `sha256-<base64>` of the text, as a CSP hash source.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest))
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn human_bytes(n: usize) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if n as f64 >= MIB {
        format!("{:.1} MiB", n as f64 / MIB)
    } else {
        format!("{:.0} KiB", n as f64 / 1024.0)
    }
}

/// Replaces each `{{NAME}}` of the template once, in one pass: substituted values are never
/// scanned again, so data can never be taken for a placeholder.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let extra: usize = values.iter().map(|(_, v)| v.len()).sum();
    let mut out = String::with_capacity(template.len() + extra);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => out.push_str(value),
            None => panic!("template placeholder {{{{{name}}}}} has no value"),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Writes `<out>/index.html` (and `<out>/report-data-NNN.js` and `<out>/report-detail-NNN.js`
/// when the data is over budget), each
/// through a temp file renamed into place. A stale data file is removed when the new report
/// fits in the page.
#[derive(Clone, Debug)]
pub struct HtmlSink {
    out: ReportDir,
    options: HtmlOptions,
}

/// The files an [`HtmlSink`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HtmlWritten {
    /// `<out>/index.html`.
    pub index: Utf8PathBuf,
    /// `<out>/report-data-NNN.js` then `<out>/report-detail-NNN.js`, when the data was over
    /// budget.
    pub data_files: Vec<Utf8PathBuf>,
}

impl HtmlSink {
    /// A sink writing under `out_dir` with the default options.
    pub fn new(out_dir: impl Into<Utf8PathBuf>) -> HtmlSink {
        HtmlSink { out: ReportDir::new(out_dir), options: HtmlOptions::default() }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: HtmlOptions) -> HtmlSink {
        self.options = options;
        self
    }

    /// Renders and writes the files, and says where.
    pub fn write(&self, report: &TestRunReport) -> Result<HtmlWritten, SinkError> {
        let output = render(report, &self.options);
        // The data files first, so the page never points at a missing or older data file;
        // then stale data files of an earlier, bigger report go.
        let mut data_files = Vec::new();
        for file in &output.data_files {
            data_files.push(self.out.write(&file.file_name, file.contents.as_bytes())?);
        }
        let names: Vec<String> = output.data_files.iter().map(|f| f.file_name.clone()).collect();
        self.out.remove_stale(&[DATA_FILE_PREFIX, DETAIL_FILE_PREFIX], &names)?;
        let index = self.out.write(INDEX_FILE, output.index_html.as_bytes())?;
        Ok(HtmlWritten { index, data_files })
    }
}

impl ReportSink for HtmlSink {
    fn emit(&self, report: &TestRunReport) -> Result<(), SinkError> {
        self.write(report).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_equal_a_character_by_character_reference() {
        fn reference_html(json: &str) -> String {
            json.chars()
                .map(|c| match c {
                    '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => format!("\\u{:04x}", u32::from(c)),
                    c if matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}') => {
                        format!("\\u{:04x}", u32::from(c))
                    }
                    c => c.to_string(),
                })
                .collect()
        }
        fn reference_js(text: &str) -> String {
            let body: String = text
                .chars()
                .map(|c| match c {
                    '\\' => "\\\\".to_owned(),
                    '\'' => "\\'".to_owned(),
                    '\n' => "\\n".to_owned(),
                    '\r' => "\\r".to_owned(),
                    '\u{2028}' => "\\u2028".to_owned(),
                    '\u{2029}' => "\\u2029".to_owned(),
                    c => c.to_string(),
                })
                .collect();
            format!("'{body}'")
        }
        let tricky = "a<b>&c \u{7f}\u{9b}\u{202e}\u{2066}\u{200e}\u{061c} \u{2014}\u{2028}\u{2029}\u{2030} \\'\n\r é😀";
        assert_eq!(escape_json_for_html(tricky), reference_html(tricky));
        assert_eq!(js_single_quoted(tricky), reference_js(tricky));
        proptest::proptest!(|(text in "(\\PC|[<>&'\\\\\n\r\u{7f}-\u{9f}\u{2000}-\u{206f}])*")| {
            proptest::prop_assert_eq!(escape_json_for_html(&text), reference_html(&text));
            proptest::prop_assert_eq!(js_single_quoted(&text), reference_js(&text));
        });
    }

    #[test]
    fn json_escape_keeps_meaning() {
        let text = "</script><!-- & \u{2028}\u{2029} -->";
        let json = serde_json::to_string(text).unwrap();
        let escaped = escape_json_for_html(&json);
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!escaped.contains(bad), "{bad:?} left in {escaped}");
        }
        let back: String = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn header_shows_the_brand_once() {
        assert_eq!(header_title("rampart safety report"), "safety report");
        assert_eq!(header_title("Rampart nightly"), "nightly");
        assert_eq!(header_title("rampart"), "");
        assert_eq!(header_title("Acme red team"), "Acme red team");
    }

    #[test]
    fn fill_substitutes_once() {
        let out = fill("a{{X}}b{{Y}}c", &[("X", "{{Y}}"), ("Y", "y")]);
        assert_eq!(out, "a{{Y}}byc");
    }
}
