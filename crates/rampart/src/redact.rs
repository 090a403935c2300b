//! Redaction: secrets are removed from every recorded result before it reaches disk.
//!
//! The agent under test may leak a secret anywhere in a result (its response, a tool call's
//! arguments, an HTTP header in a side effect), and reports are uploaded as CI artifacts. The
//! recorder runs every result through the process's [`Redactor`] before writing it, and
//! `cargo rampart-report` runs every result it reads through the same rules again (a sidecar
//! may have been written by an older rampart or with another configuration). Each rule that
//! fires is counted ([`RedactionCounts`]); the counts name rules, never secrets.
//!
//! # Rules
//!
//! Every match is replaced by [`REDACTED`] (`<redacted>`), keeping the label around it
//! (`Bearer <redacted>`, `api_key=<redacted>`, `postgres://<redacted>@db`, `sk-proj-<redacted>`),
//! so a reader still sees what kind of secret was there.
//!
//! 1. **Keys** (`key:<name>`): in every JSON object (metadata, tool arguments, side-effect
//!    details, at any depth) a key that equals, ignoring ASCII case, `-`, `_`, spaces and
//!    invisible characters (zero-width, bidi marks, the BOM), one of `password`, `passwd`,
//!    `pwd`, `secret`, `token`, `api_key` (`apikey`, `api-key`), `x-api-key`, `authorization`,
//!    `auth`, `cookie`, `set-cookie`, `bearer`, `private_key`, `client_secret`,
//!    `access_token`, `refresh_token`, `session_id` has its whole value (a string, a number,
//!    an object...) replaced by the string `"<redacted>"`. A key that ends with `password`,
//!    `passwd`, `pwd`, `secret`, `secret_key`, `token`, `api_key`, `private_key`,
//!    `session_id`, `authorization` or `cookie` (`DB_PASSWORD`, `OPENAI_API_KEY`) does too,
//!    unless its value is a boolean or null. `token_count` and `max_tokens` stay. A
//!    `{"name": "<such a key>", "value": ...}` object (`"key"` for `"name"`, as in HAR files)
//!    loses its `value`. A string that is (or starts with) a JSON document is redacted as
//!    JSON too; in JSON text that does not parse, `"<key>": <value>` with such a key loses
//!    its value.
//! 2. **Environment values** (`env:<NAME>`): the exact value of each environment variable named
//!    in the configuration, also in base64 (standard and URL-safe alphabets, padded or not,
//!    and at any alignment inside a longer base64 blob) and percent-encoded (upper- or
//!    lower-case hex, and `+` for spaces). Values shorter than [`MIN_ENV_VALUE_BYTES`] are
//!    skipped with a warning: they would redact common words.
//! 3. **Patterns** (`pattern:<name>`), in every string:
//!    - `private_key`: PEM and OpenSSH private key blocks (`-----BEGIN ... PRIVATE KEY-----`
//!      to the `END` line, or to the end of the text when the block was cut);
//!    - `authorization`: `Authorization:` / `Proxy-Authorization:` headers (`=` too, quoted
//!      or not): with a known scheme (`Basic`, `Bearer`, `Digest`, `Token`, ...) the rest of
//!      the line goes; without one, a single token that looks like a secret;
//!    - `bearer`: `Bearer <token>` anywhere (a token of at least 8 characters with a digit
//!      and a letter, or of 32 characters: `bearer of bad news` stays);
//!    - `url_userinfo`: `scheme://user:password@` in a URL of any scheme becomes
//!      `scheme://<redacted>@` (`https://user@host` has no password and stays);
//!    - `cookie`: `Cookie:` / `Set-Cookie:` header values holding a `=`;
//!    - `curl_user`: the password of `curl -u user:password` (`--user`, `-U`,
//!      `--proxy-user`);
//!    - `name_value`: `{"name": "Authorization", "value": "..."}` pairs written as text;
//!    - `aws_secret_access_key`: a 40-character AWS secret access key after its label;
//!    - `api_key`, `password`, `token`, `secret`, `session_id`, `private_key`: `key=value`
//!      and `key: value` forms whose key ends in one of those words (`OPENAI_API_KEY=...`,
//!      `"password": "..."`, `X-Api-Key: ...`, `db_password='...'`), the value quoted
//!      (single or double, escape-aware) or bare. A key that ends a Rust path or a nextest
//!      test name (`tests::api_key: ok`, `binary$tests::secret_stays_secret: 3 left`) is no
//!      key, and `secret::x` is a path, not `secret: :x`;
//!    - key shapes: `sk_api_key` (OpenAI and Anthropic `sk-...`, `sk-proj-...`,
//!      `sk-live-...`, `sk-ant-...`, starting a word), `stripe_key` (`sk_live_...`,
//!      `rk_live_...`), `aws_access_key_id` (`AKIA...`, `ASIA...`), `github_token` (`ghp_`,
//!      `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), `jwt` (`eyJ...` with three
//!      dot-separated parts), `slack_token` (`xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, ...),
//!      `google_api_key` (`AIza...`).
//! 4. **Project patterns** (`pattern:<name>`) from the configuration.
//!
//! The patterns read JSON-encoded text as text (an escaped quote is a quote, an escaped newline
//! starts a word), accept a value cut short (a quote that never closes before the end of its
//! line or of the text, a URL cut before its `@`), and invisible characters do not hide a key word (a string holding them is also
//! redacted without them).
//!
//! Every string of a result goes through the rules, found by the one walk over a result
//! ([`crate::walk`]), except the harm category: a label the test author chose
//! ([`crate::walk::Role::Label`]), never agent output.
//!
//! Redaction is idempotent: redacting a redacted result changes nothing and counts nothing.
//! It over-redacts rather than leaks: `password: click the link` loses `click`.
//!
//! # Linear time
//!
//! Patterns are compiled with the [`regex`] crate, whose engines (lazy DFA, PikeVM, bounded
//! backtracker) run in time linear in the input: no input, however hostile, makes a pattern
//! backtrack catastrophically. Project patterns get the same guarantee (and the same syntax:
//! no look-around, no back-references). Environment values are matched with
//! [`aho_corasick`], also linear. The built-in patterns only run on a string holding one of
//! their trigger words (one SIMD pass), so a result without anything secret-looking costs one
//! scan.
//!
//! # Configuration: `rampart.toml`
//!
//! One file at the workspace root (the directory holding `Cargo.lock`; the recorder finds it
//! from `NEXTEST_WORKSPACE_ROOT`, else by walking up from `CARGO_MANIFEST_DIR`, else from the
//! current directory):
//!
//! ```toml
//! [redaction]
//! # More JSON keys whose values are always redacted (same normalization as the built-in ones).
//! extra_keys = ["customer_ssn", "X-Internal-Auth"]
//! # More patterns (regex crate syntax). A group named `secret` limits the replacement to it;
//! # a table gives the rule a name for the counts (else `extra_1`, `extra_2`, ...).
//! extra_patterns = [
//!     "ACME-[0-9]{8}",
//!     { name = "internal_id", regex = "internal-id: (?P<secret>[a-f0-9]{32})" },
//! ]
//! # Environment variables whose values are redacted wherever they appear.
//! env_vars = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]
//! # Turn off the built-in keys and patterns (env_vars and the extras still apply).
//! disable_builtin = false
//! ```
//!
//! The same table may instead sit in the root `Cargo.toml` as
//! `[workspace.metadata.rampart.redaction]`. When both exist, `rampart.toml` wins and a
//! warning says the `Cargo.toml` table is ignored. An unknown key in the table, a value of
//! the wrong type, or an invalid regex is an error that names the file (and the pattern):
//! the recorder prints it as one warning and falls back to the built-in rules, it never
//! fails a test.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{JsonMap, SafetyResult};
use crate::walk::{self, Field, JsonStr, MapField, Role, Visit, VisitMut};

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";
/// The project configuration file, at the workspace root.
pub const CONFIG_FILE: &str = "rampart.toml";
/// Environment values shorter than this many bytes are not redacted.
pub const MIN_ENV_VALUE_BYTES: usize = 8;

/// How many redactions each rule made: `key:password`, `pattern:bearer`, `env:OPENAI_API_KEY`.
///
/// Rule names only: a count never holds a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct RedactionCounts(BTreeMap<String, u64>);

impl RedactionCounts {
    /// No redactions.
    pub fn new() -> RedactionCounts {
        RedactionCounts::default()
    }

    /// Whether no rule fired.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(|n| *n == 0)
    }

    /// The number of redactions over every rule.
    pub fn total(&self) -> u64 {
        self.0.values().fold(0, |a, b| a.saturating_add(*b))
    }

    /// The count of one rule (0 when it never fired).
    pub fn get(&self, rule: &str) -> u64 {
        self.0.get(rule).copied().unwrap_or(0)
    }

    /// Every rule that fired with its count, by rule name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.as_str(), *n))
    }

    /// Adds `n` redactions of `rule`.
    pub fn add(&mut self, rule: &str, n: u64) {
        if n == 0 {
            return;
        }
        match self.0.get_mut(rule) {
            Some(count) => *count = count.saturating_add(n),
            None => {
                self.0.insert(rule.to_owned(), n);
            }
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RedactionCounts) {
        for (rule, n) in other.iter() {
            self.add(rule, n);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Configuration

/// The `[redaction]` table of `rampart.toml` (see the [module docs](self)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RedactionConfig {
    /// More JSON keys whose values are redacted.
    #[serde(default)]
    pub extra_keys: Vec<String>,
    /// More patterns.
    #[serde(default)]
    pub extra_patterns: Vec<ExtraPattern>,
    /// Environment variables whose values are redacted.
    #[serde(default)]
    pub env_vars: Vec<String>,
    /// Turn off the built-in keys and patterns.
    #[serde(default)]
    pub disable_builtin: bool,
}

impl RedactionConfig {
    /// An empty configuration: the built-in rules only.
    pub fn new() -> RedactionConfig {
        RedactionConfig::default()
    }

    /// Adds an extra key.
    pub fn with_extra_key(mut self, key: impl Into<String>) -> Self {
        self.extra_keys.push(key.into());
        self
    }

    /// Adds an extra pattern.
    pub fn with_extra_pattern(mut self, pattern: ExtraPattern) -> Self {
        self.extra_patterns.push(pattern);
        self
    }

    /// Adds an environment variable name.
    pub fn with_env_var(mut self, name: impl Into<String>) -> Self {
        self.env_vars.push(name.into());
        self
    }

    /// Turns the built-in rules off (or on).
    pub fn with_builtin_disabled(mut self, disabled: bool) -> Self {
        self.disable_builtin = disabled;
        self
    }
}

/// One entry of `extra_patterns`: a regex, or a named one.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ExtraPattern {
    /// `"regex"`: counted as `pattern:extra_<n>` (1-based position).
    Regex(String),
    /// `{ name = "...", regex = "..." }`: counted as `pattern:<name>`.
    Named {
        /// The rule's name in the counts.
        name: String,
        /// The regex.
        regex: String,
    },
}

#[derive(Deserialize)]
struct ProjectFile {
    #[serde(default)]
    redaction: Option<RedactionConfig>,
}

#[derive(Deserialize)]
struct CargoManifest {
    #[serde(default)]
    workspace: Option<CargoWorkspace>,
}

#[derive(Deserialize)]
struct CargoWorkspace {
    #[serde(default)]
    metadata: Option<CargoMetadataTable>,
}

#[derive(Deserialize)]
struct CargoMetadataTable {
    #[serde(default)]
    rampart: Option<ProjectFile>,
}

/// Why the redaction configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactionConfigError {
    /// The file exists but could not be read.
    #[error("failed to read redaction config {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or the table has unknown keys or wrong types.
    #[error("invalid redaction config in {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (from the TOML parser).
        message: String,
    },
    /// An `extra_patterns` entry is not a valid regex.
    #[error("invalid extra_patterns entry `{pattern}` in {path}: {message}")]
    InvalidPattern {
        /// The file.
        path: PathBuf,
        /// The pattern as written.
        pattern: String,
        /// The regex crate's message.
        message: String,
    },
    /// An `extra_keys` entry is empty once normalized.
    #[error("invalid extra_keys entry `{key}` in {path}: it is empty once `-`, `_` and spaces are removed")]
    InvalidKey {
        /// The file.
        path: PathBuf,
        /// The key as written.
        key: String,
    },
}

/// Where the redaction configuration was found, and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadedConfig {
    /// The file (`rampart.toml`, or `Cargo.toml` for `[workspace.metadata.rampart.redaction]`).
    pub path: PathBuf,
    /// The table.
    pub config: RedactionConfig,
    /// Warnings about the files (a shadowed `Cargo.toml` table).
    pub warnings: Vec<String>,
}

/// The workspace root of this process: `NEXTEST_WORKSPACE_ROOT`, else the nearest ancestor of
/// `CARGO_MANIFEST_DIR` holding `Cargo.lock`, else the nearest ancestor of the current
/// directory holding `Cargo.lock`.
pub fn find_workspace_root() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("NEXTEST_WORKSPACE_ROOT").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(root));
    }
    let starts = [
        std::env::var_os("CARGO_MANIFEST_DIR").filter(|v| !v.is_empty()).map(PathBuf::from),
        std::env::current_dir().ok(),
    ];
    starts.into_iter().flatten().find_map(|start| {
        start.ancestors().find(|dir| dir.join("Cargo.lock").is_file()).map(Path::to_path_buf)
    })
}

/// Reads the redaction table of the workspace at `root`: `rampart.toml`'s `[redaction]`, else
/// `Cargo.toml`'s `[workspace.metadata.rampart.redaction]`; `None` when neither exists.
pub fn load_config(root: &Path) -> Result<Option<LoadedConfig>, RedactionConfigError> {
    let project_path = root.join(CONFIG_FILE);
    let project = match read_optional(&project_path)? {
        Some(text) => {
            let file: ProjectFile = toml::from_str(&text).map_err(|e| RedactionConfigError::Invalid {
                path: project_path.clone(),
                message: e.message().to_owned(),
            })?;
            file.redaction
        }
        None => None,
    };
    let manifest_path = root.join("Cargo.toml");
    // A Cargo.toml that does not parse is cargo's problem, not ours: it is skipped.
    let manifest = read_optional(&manifest_path).ok().flatten();
    let from_manifest = match manifest.as_deref().map(toml::from_str::<toml::Table>) {
        Some(Ok(table)) => {
            let has_table = table
                .get("workspace")
                .and_then(|w| w.get("metadata"))
                .and_then(|m| m.get("rampart"))
                .and_then(|r| r.get("redaction"))
                .is_some();
            if has_table {
                let parsed: CargoManifest =
                    table.try_into().map_err(|e: toml::de::Error| RedactionConfigError::Invalid {
                        path: manifest_path.clone(),
                        message: e.message().to_owned(),
                    })?;
                parsed.workspace.and_then(|w| w.metadata).and_then(|m| m.rampart).and_then(|r| r.redaction)
            } else {
                None
            }
        }
        _ => None,
    };
    Ok(match (project, from_manifest) {
        (Some(config), shadowed) => Some(LoadedConfig {
            path: project_path.clone(),
            config,
            warnings: shadowed
                .map(|_| {
                    format!(
                        "{} has [workspace.metadata.rampart.redaction], ignored because {} has [redaction]",
                        manifest_path.display(),
                        project_path.display()
                    )
                })
                .into_iter()
                .collect(),
        }),
        (None, Some(config)) => Some(LoadedConfig { path: manifest_path, config, warnings: Vec::new() }),
        (None, None) => None,
    })
}

fn read_optional(path: &Path) -> Result<Option<String>, RedactionConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RedactionConfigError::Read { path: path.to_path_buf(), source }),
    }
}

// ---------------------------------------------------------------------------------------
// The redactor

/// Built-in keys: (normalized key, rule name).
const BUILTIN_KEYS: &[(&str, &str)] = &[
    ("password", "password"),
    ("passwd", "passwd"),
    ("pwd", "pwd"),
    ("secret", "secret"),
    ("token", "token"),
    ("apikey", "api_key"),
    ("xapikey", "x_api_key"),
    ("authorization", "authorization"),
    ("auth", "auth"),
    ("cookie", "cookie"),
    ("setcookie", "set_cookie"),
    ("bearer", "bearer"),
    ("privatekey", "private_key"),
    ("clientsecret", "client_secret"),
    ("accesstoken", "access_token"),
    ("refreshtoken", "refresh_token"),
    ("sessionid", "session_id"),
];

/// Built-in key endings: a key whose normalized form ends with one (`db_password`,
/// `OPENAI_API_KEY`, `github_token`, `session_cookie`) has its value redacted too, unless the
/// value is a boolean or null (`has_password: true` holds no secret). (normalized ending, rule)
const BUILTIN_KEY_SUFFIXES: &[(&str, &str)] = &[
    ("password", "key:password"),
    ("passwd", "key:passwd"),
    ("pwd", "key:pwd"),
    ("secret", "key:secret"),
    ("secretkey", "key:secret_key"),
    ("token", "key:token"),
    ("apikey", "key:api_key"),
    ("privatekey", "key:private_key"),
    ("sessionid", "key:session_id"),
    ("authorization", "key:authorization"),
    ("cookie", "key:cookie"),
];

/// Words one of which every match of a built-in pattern contains (ASCII case-insensitive).
const TRIGGERS: &[&str] = &[
    "-----begin",
    "auth",
    "bearer",
    "://",
    "api",
    "passw",
    "pwd",
    "secret",
    "token",
    "session",
    "private",
    "cookie",
    "sk-",
    "k_live_",
    "k_test_",
    "akia",
    "asia",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "eyj",
    "xox",
    "aiza",
];

/// The trigger of `curl -u user:password` (and `--user`, `--proxy-user`, `-U`), searched
/// apart (a single literal, a SIMD `memmem`): in the set above it would slow the search of
/// every text down by half.
const CURL_TRIGGER: &str = "-u";

/// Whether a lower-cased text holds a trigger word of the built-in patterns.
#[derive(Clone)]
struct Prefilter {
    words: Words,
    /// `-u`, on its own: see [`CURL_TRIGGER`].
    curl: AhoCorasick,
}

/// The trigger words' searcher.
#[derive(Clone)]
enum Words {
    /// "Fat" Teddy (16 buckets, AVX2): with this many words it verifies far fewer false
    /// candidates than the 8-bucket Teddy `AhoCorasick` picks (2 to 3 times fewer instructions
    /// on ordinary text).
    Teddy(aho_corasick::packed::Searcher),
    /// Without AVX2.
    AhoCorasick(AhoCorasick),
}

impl Prefilter {
    fn new() -> Prefilter {
        let mut config = aho_corasick::packed::Config::new();
        config
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .only_teddy_fat(Some(true))
            .only_teddy_256bit(Some(true));
        let words = match config.builder().extend(TRIGGERS).build() {
            Some(teddy) => Words::Teddy(teddy),
            // Case-sensitive (so SIMD-accelerated) over lower-cased text: see `triggered`.
            // (Leftmost-first: the standard match kind gets no SIMD prefilter either.)
            None => Words::AhoCorasick(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(TRIGGERS)
                    .expect("the trigger words compile"),
            ),
        };
        let curl = AhoCorasick::new([CURL_TRIGGER]).expect("one literal compiles");
        Prefilter { words, curl }
    }

    fn is_match(&self, lowered: &[u8]) -> bool {
        let words = match &self.words {
            Words::Teddy(teddy) => teddy.find(lowered).is_some(),
            Words::AhoCorasick(ac) => ac.is_match(lowered),
        };
        words || self.curl.is_match(lowered)
    }
}

/// How the rule name of a pattern match is chosen.
#[derive(Clone, Copy, Debug)]
enum Label {
    Fixed,
    /// From the `key` group of a `key=value` match.
    KeyValue,
}

/// A test on a match: the match is left alone when it fails. Gets the captures and the
/// secret (the first `secret*` group that took part, else the whole match).
type Check = fn(&Captures<'_>, &str) -> bool;

#[derive(Clone)]
struct PatternRule {
    /// `pattern:<name>`.
    rule: String,
    /// The regex, compiled on first use: a test process whose results never hold a trigger
    /// word compiles none of the built-in patterns. (Shared by clones of the redactor.)
    compiled: Arc<OnceLock<Compiled>>,
    /// The source of a built-in pattern, until it is compiled.
    pattern: String,
    check: Option<Check>,
    label: Label,
}

struct Compiled {
    regex: Regex,
    /// Capture groups whose names start with `secret`: the first that took part in a match is
    /// replaced; without any, the whole match is.
    secret_groups: Vec<usize>,
    /// A group named `path`: a match in which it took part is left alone (the "key" is the
    /// last segment of a Rust path or a nextest test name, `tests::api_key: ok`).
    path_group: Option<usize>,
}

impl Compiled {
    fn new(regex: Regex) -> Compiled {
        let secret_groups = regex
            .capture_names()
            .enumerate()
            .filter(|(_, n)| n.is_some_and(|n| n.starts_with("secret")))
            .map(|(i, _)| i)
            .collect();
        let path_group = regex.capture_names().position(|n| n == Some("path"));
        Compiled { regex, secret_groups, path_group }
    }

    fn secret<'t>(&self, caps: &Captures<'t>) -> Option<regex::Match<'t>> {
        if self.secret_groups.is_empty() {
            return caps.get(0);
        }
        self.secret_groups.iter().find_map(|&i| caps.get(i))
    }
}

impl PatternRule {
    /// A built-in pattern, compiled when first used (every one is compiled by a unit test).
    fn new(name: &str, pattern: &str, check: Option<Check>, label: Label) -> PatternRule {
        PatternRule {
            rule: format!("pattern:{name}"),
            compiled: Arc::new(OnceLock::new()),
            pattern: pattern.to_owned(),
            check,
            label,
        }
    }

    /// A compiled pattern (a project's, compiled up front so a bad one is reported).
    fn from_regex(name: &str, regex: Regex, check: Option<Check>, label: Label) -> PatternRule {
        let compiled = OnceLock::new();
        let _ = compiled.set(Compiled::new(regex));
        PatternRule {
            rule: format!("pattern:{name}"),
            compiled: Arc::new(compiled),
            pattern: String::new(),
            check,
            label,
        }
    }

    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            Compiled::new(
                Regex::new(&self.pattern).unwrap_or_else(|e| panic!("built-in pattern {}: {e}", self.rule)),
            )
        })
    }

    fn is_match(&self, text: &str) -> bool {
        self.compiled().regex.is_match(text)
    }

    /// Replaces every secret in `text`; `None` when nothing changed.
    fn apply(&self, text: &str, counts: &mut RedactionCounts) -> Option<String> {
        let mut out = String::new();
        let mut last = 0;
        let compiled = self.compiled();
        for caps in compiled.regex.captures_iter(text) {
            if compiled.path_group.is_some_and(|i| caps.get(i).is_some()) {
                continue;
            }
            let Some(secret) = compiled.secret(&caps) else { continue };
            let value = secret.as_str();
            if value.is_empty() || value == REDACTED || self.check.is_some_and(|check| !check(&caps, value)) {
                continue;
            }
            if out.capacity() == 0 {
                out.reserve(text.len());
            }
            out.push_str(&text[last..secret.start()]);
            out.push_str(REDACTED);
            last = secret.end();
            match self.label {
                Label::Fixed => counts.add(&self.rule, 1),
                Label::KeyValue => counts.add(key_value_rule(caps.name("key").map_or("", |k| k.as_str())), 1),
            }
        }
        if last == 0 {
            return None;
        }
        out.push_str(&text[last..]);
        Some(out)
    }
}

/// The rule name of a `key=value` match, from its key.
fn key_value_rule(key: &str) -> &'static str {
    let key = normalize_key(key);
    if key.ends_with("apikey") {
        "pattern:api_key"
    } else if key.ends_with("passwd") || key.ends_with("password") || key.ends_with("pwd") {
        "pattern:password"
    } else if key.ends_with("privatekey") {
        "pattern:private_key"
    } else if key.ends_with("sessionid") {
        "pattern:session_id"
    } else if key.ends_with("token") {
        "pattern:token"
    } else {
        "pattern:secret"
    }
}

/// Characters that render as nothing (zero-width spaces and joiners, bidi marks and
/// isolates, the soft hyphen, variation selectors, the BOM): a key name hiding one of them
/// inside (`pass\u{200B}word`) still names the same key.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
    )
}

/// Lower-case ASCII, without `-`, `_`, spaces and invisible characters.
fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ') && !is_invisible(*c))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// How many JSON documents inside JSON strings are parsed, one inside the other.
const MAX_JSON_TEXT_DEPTH: u8 = 4;

/// Whether a string may start with a JSON object, array or string (JSON encoded once more):
/// its first character that is not whitespace is `{`, `[` or `"`.
fn looks_like_json(text: &str) -> bool {
    matches!(text.trim_ascii_start().as_bytes().first(), Some(b'{' | b'[' | b'"'))
}

/// The JSON document a string starts with (after whitespace), and the byte offset where it
/// ends: a whole JSON text, or one followed by more text (`{...} [evidence lost: ...]`).
fn json_prefix(text: &str) -> Option<(Value, usize)> {
    let start = text.len() - text.trim_ascii_start().len();
    if !matches!(text.as_bytes().get(start), Some(b'{' | b'[' | b'"')) {
        return None;
    }
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let value = values.next()?.ok()?;
    let end = values.byte_offset();
    // A bare JSON string is a document only when it is the whole text (`"quoted" prose` is not).
    if value.is_string() && !text[end..].trim_ascii().is_empty() {
        return None;
    }
    Some((value, end))
}

/// What kind of JSON value a span of text holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JsonValue {
    /// A string's content (between its quotes).
    String,
    /// An object or array, brackets included.
    Container,
    /// A number, `true`, `false`, `null` (or anything else unquoted).
    Scalar,
}

/// The span of the JSON value starting at `at` in text whose strings are delimited by quotes
/// escaped `level` times (`"` for 0, `\"` for 1): a string's content, an object or array
/// whole, or a bare scalar. A string or container that is never closed runs to the end of the
/// text (a string to the end of its line).
fn json_value_span(bytes: &[u8], at: usize, level: usize) -> Option<(usize, usize, JsonValue)> {
    // Whether the quote at `i` is a delimiter of this level: exactly `level` backslashes before.
    let is_quote = |i: usize| {
        bytes[i] == b'"' && {
            let run = bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count();
            run == level
        }
    };
    let first = *bytes.get(at)?;
    if first == b'\\' || first == b'"' {
        // A string: the opening quote (with its backslashes), then to the closing one.
        let open = at + bytes[at..].iter().take_while(|&&b| b == b'\\').count();
        if bytes.get(open) != Some(&b'"') || open - at != level {
            return None;
        }
        let start = open + 1;
        let mut i = start;
        while i < bytes.len() && !matches!(bytes[i], b'\r' | b'\n') {
            if is_quote(i) {
                return Some((start, i - level, JsonValue::String));
            }
            // A quote escaped deeper than this level (`\"` in a level-0 string) is content.
            i += 1;
        }
        return Some((start, i, JsonValue::String));
    }
    if first == b'{' || first == b'[' {
        let mut depth = 0usize;
        let mut in_string = false;
        for (i, &b) in bytes.iter().enumerate().skip(at) {
            if b == b'"' && is_quote(i) {
                in_string = !in_string;
            } else if !in_string && (b == b'{' || b == b'[') {
                depth += 1;
            } else if !in_string && (b == b'}' || b == b']') {
                depth -= 1;
                if depth == 0 {
                    return Some((at, i + 1, JsonValue::Container));
                }
            }
        }
        return Some((at, bytes.len(), JsonValue::Container));
    }
    let end = at
        + bytes[at..]
            .iter()
            .take_while(|&&b| !matches!(b, b',' | b'}' | b']' | b'"' | b'\\') && !b.is_ascii_whitespace())
            .count();
    (end > at).then_some((at, end, JsonValue::Scalar))
}

/// Whether a string holds an invisible character ([`is_invisible`]).
fn has_invisible(text: &str) -> bool {
    !text.is_ascii() && text.chars().any(is_invisible)
}

/// The string without its invisible characters.
fn without_invisible(text: &str) -> String {
    text.chars().filter(|c| !is_invisible(*c)).collect()
}

/// Whether `name` is a built-in key or ends with one (normalized as keys are): for
/// `{"name": ..., "value": ...}` pairs found in text.
fn is_builtin_key(name: &str) -> bool {
    let normalized = normalize_key(name);
    BUILTIN_KEYS.iter().any(|(key, _)| *key == normalized)
        || BUILTIN_KEY_SUFFIXES.iter().any(|(suffix, _)| normalized.ends_with(suffix))
}

/// A token that looks random enough to be a secret: at least 8 characters with an ASCII digit
/// and an ASCII letter, or at least 32 characters.
fn looks_like_secret(token: &str) -> bool {
    token.len() >= 32
        || (token.len() >= 8
            && token.bytes().any(|b| b.is_ascii_digit())
            && token.bytes().any(|b| b.is_ascii_alphabetic()))
}

fn has_digit_and_letter(token: &str) -> bool {
    token.bytes().any(|b| b.is_ascii_digit()) && token.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Optional path segments before a key: `tests::`, `crate::auth::`, or a nextest binary id's
/// `rampart-demo::redteam$`. A match with them is a Rust path or a test name, not a key.
const PATH_PREFIX: &str = r"(?P<path>(?:[a-z0-9_\-]+(?:::|\$))+)?";

fn builtin_patterns() -> Vec<PatternRule> {
    use Label::Fixed;
    // Where a word starts: at a word boundary, or after a JSON escape (`\n`, `\t`, `\r`) in text
    // that holds JSON-encoded text (`...\nAuthorization: Basic ...`).
    let b = r"(?:(?-u:\b)|\\[nrt])";
    let path = PATH_PREFIX;
    // An opening or closing quote, also JSON-escaped once or more (`\"`, `\\\"`): text that
    // holds a JSON document inside a string.
    let q = r#"(?:\\*["'])"#;
    let name_value_check: Check = |caps, _| caps.name("key").is_some_and(|k| is_builtin_key(k.as_str()));
    vec![
        PatternRule::new(
            "private_key",
            r"(?P<label>-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)(?P<secret>(?s:.*?))(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
            None,
            Fixed,
        ),
        PatternRule::new(
            "authorization",
            &format!(
                r#"(?i){b}{path}(?:proxy-)?authorization{q}?\]?\s*[:=]\s*{q}?(?:basic|bearer|digest|token|negotiate|ntlm|apikey|api-key|aws4-hmac-sha256|oauth|ssws|hoba|mutual|sharedkey|signature)\s+(?P<secret>[^\r\n"'<>\\]+)"#
            ),
            None,
            Fixed,
        ),
        PatternRule::new(
            "authorization",
            &format!(
                r#"(?i){b}{path}(?:proxy-)?authorization{q}?\]?\s*[:=]\s*{q}?(?P<secret>[^\s"'<>,;:\\][^\s"'<>,;\\]*)"#
            ),
            Some(|_, secret| looks_like_secret(secret)),
            Fixed,
        ),
        PatternRule::new(
            "bearer",
            &format!(r"(?i){b}bearer\s+(?P<secret>[A-Za-z0-9\-._~+/]+=*)"),
            Some(|_, secret| looks_like_secret(secret)),
            Fixed,
        ),
        PatternRule::new(
            "url_userinfo",
            &format!(
                r#"(?i){b}[a-z][a-z0-9+.\-]*://(?P<secret>[^\s/?#@:"'<>\\]*:[^\s/?#@"'<>\\]*)(?:@|(?P<cut>\s\[|\z))"#
            ),
            // Cut before its `@` (the end of the text, or a reader's `[evidence lost...]`
            // marker): a userinfo unless it is a port (`host:8443`).
            Some(|caps, secret| {
                caps.name("cut").is_none()
                    || secret
                        .rsplit_once(':')
                        .is_some_and(|(_, after)| !after.bytes().all(|b| b.is_ascii_digit()))
            }),
            Fixed,
        ),
        PatternRule::new(
            "cookie",
            &format!(
                r#"(?i){b}(?:set-)?cookie{q}?[ \t]*:[ \t]*{q}?(?P<secret>[^\r\n"'<>\\]*=[^\r\n"'<>\\]*)"#
            ),
            None,
            Fixed,
        ),
        PatternRule::new(
            "curl_user",
            r#"(?:^|[\s;&|(])(?:-[uU]|--user|--proxy-user)(?:[ \t]+|=)(?:\\*"(?P<user_dq>[^":\\\r\n]*):(?P<secret_dq>[^"\\\r\n]+)(?:\\*"|\z|[\r\n])|'(?P<user_sq>[^':\r\n]*):(?P<secret_sq>[^'\r\n]+)(?:'|\z|[\r\n])|(?P<user>[^\s:"'\\]*):(?P<secret>[^\s"'\\]+))"#,
            // `docker run -u 1000:1000` is a uid and a gid.
            Some(|caps, secret| {
                let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
                let user = ["user_dq", "user_sq", "user"].iter().find_map(|g| caps.name(g));
                !(digits(secret) && user.is_some_and(|u| digits(u.as_str())))
            }),
            Fixed,
        ),
        PatternRule::new(
            "name_value",
            r#"(?i)"(?:name|key)"\s*:\s*"(?P<key>[^"\\]{1,64})"\s*,\s*"value"\s*:\s*"(?P<secret>(?:[^"\\\r\n]|\\.)*)(?:"|\z|[\r\n])"#,
            Some(name_value_check),
            Fixed,
        ),
        PatternRule::new(
            "name_value",
            r#"(?i)"value"\s*:\s*"(?P<secret>(?:[^"\\]|\\.)*)"\s*,\s*"(?:name|key)"\s*:\s*"(?P<key>[^"\\]{1,64})""#,
            Some(name_value_check),
            Fixed,
        ),
        // The same pairs JSON-escaped (`{\"name\":\"Cookie\",\"value\":\"...\"}`).
        PatternRule::new(
            "name_value",
            r#"(?i)\\+"(?:name|key)\\+"\s*:\s*\\+"(?P<key>[^"\\]{1,64})\\+"\s*,\s*\\+"value\\+"\s*:\s*\\+"(?P<secret>(?:[^"\\\r\n]|\\+[^"\\\r\n])*)(?:\\*"|\z|[\r\n])"#,
            Some(name_value_check),
            Fixed,
        ),
        PatternRule::new(
            "name_value",
            r#"(?i)\\+"value\\+"\s*:\s*\\+"(?P<secret>(?:[^"\\]|\\+[^"\\])*)\\+"\s*,\s*\\+"(?:name|key)\\+"\s*:\s*\\+"(?P<key>[^"\\]{1,64})\\+""#,
            Some(name_value_check),
            Fixed,
        ),
        PatternRule::new(
            "aws_secret_access_key",
            &format!(
                r#"(?i){b}(?:aws[ _\-]?)?secret[ _\-]?access[ _\-]?key{q}?\]?(?:[ \t]|\\+t)*(?:[:=|](?:[ \t]|\\+t)*)?(?:(?:is|was)[ \t]+)?(?:\\*["'`])?(?P<secret>[A-Za-z0-9/+]{{40,}})"#
            ),
            None,
            Fixed,
        ),
        PatternRule::new(
            "key_value",
            &format!(
                r#"(?i){b}{path}(?P<key>[a-z0-9_.\-]*?(?:x[-_ ]?api[-_ ]?key|api[-_ ]?key|passwd|password|pwd|secret|secret[-_ ]?key|secret[-_]?access[-_]?key|private[-_ ]?key|token|session[-_ ]?id)){q}?\]?[ \t]*[:=][ \t]*(?:"(?P<secret_dq>(?:[^"\\\r\n]|\\.)*)(?:"|\z|[\r\n])|\\+"(?P<secret_edq>(?:[^"\\\r\n]|\\+[^"\\\r\n])*)(?:\\*"|\z|[\r\n])|'(?P<secret_sq>[^'\r\n]*)(?:'|\z|[\r\n])|(?P<secret_bare>[^\s"'<>,;&)}}\]:\\{{\[][^\s"'<>,;&)}}\]]*))"#
            ),
            // `has_password: true`, `password=None`: no secret.
            Some(|caps, secret| {
                caps.name("secret_bare").is_none()
                    || !["true", "false", "null", "none"].iter().any(|w| secret.eq_ignore_ascii_case(w))
            }),
            Label::KeyValue,
        ),
        PatternRule::new(
            "jwt",
            r"(?P<secret>eyJ[A-Za-z0-9_\-]{5,}\.(?:eyJ[A-Za-z0-9_\-]{2,}(?:\.[A-Za-z0-9_\-]*)?|[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*))",
            None,
            Fixed,
        ),
        // Prefixes only keys have: the body needs no digit (`sk-live-` + letters is a key).
        PatternRule::new(
            "sk_api_key",
            &format!(
                r"{b}sk-(?:proj-|live-|test-|svcacct-|admin-|ant-(?:[a-z]+\d\d-)?)(?P<secret>[A-Za-z0-9_\-]{{16,}})"
            ),
            None,
            Fixed,
        ),
        // A bare `sk-`: a word of its own (not `risk-...`), and a digit in the body (not
        // `sk-learn-is-a-python-library`).
        PatternRule::new(
            "sk_api_key",
            &format!(r"{b}sk-(?P<secret>[A-Za-z0-9_\-]{{20,}})"),
            Some(|_, secret| has_digit_and_letter(secret)),
            Fixed,
        ),
        PatternRule::new(
            "stripe_key",
            &format!(r"{b}(?:sk|rk)_(?:live|test)_(?P<secret>[A-Za-z0-9]{{16,}})"),
            None,
            Fixed,
        ),
        PatternRule::new("aws_access_key_id", r"(?:AKIA|ASIA)(?P<secret>[A-Z0-9]{16})(?-u:\b)", None, Fixed),
        PatternRule::new(
            "github_token",
            r"(?:gh[pousr]_(?P<secret>[A-Za-z0-9]{30,})|github_pat_(?P<secret2>[A-Za-z0-9_]{22,}))",
            None,
            Fixed,
        ),
        PatternRule::new(
            "slack_token",
            r"xox[abposre]-(?P<secret>[A-Za-z0-9\-]{10,})",
            Some(|_, secret| has_digit_and_letter(secret)),
            Fixed,
        ),
        PatternRule::new("google_api_key", r"AIza(?P<secret>[0-9A-Za-z_\-]{35})", None, Fixed),
    ]
}

/// Environment values and their encodings, matched in one pass.
#[derive(Clone)]
struct EnvValues {
    matcher: AhoCorasick,
    /// The same forms lower-cased, searched in lower-cased text (a quick test).
    lowercase: AhoCorasick,
    /// Rule name (`env:<NAME>`) per matcher pattern.
    rules: Vec<String>,
}

impl EnvValues {
    fn apply(&self, text: &str, counts: &mut RedactionCounts) -> Option<String> {
        let mut out = String::new();
        let mut last = 0;
        let mut any = false;
        for m in self.matcher.find_iter(text) {
            any = true;
            out.push_str(&text[last..m.start()]);
            out.push_str(REDACTED);
            last = m.end();
            counts.add(&self.rules[m.pattern().as_usize()], 1);
        }
        if !any {
            return None;
        }
        out.push_str(&text[last..]);
        Some(out)
    }
}

/// The forms of a secret value that are searched for: the value, its base64 (standard and
/// URL-safe, padded and not, and the part of it that is the same at any alignment inside a
/// longer blob), its percent-encodings, and its escaped form inside a JSON string.
pub fn encoded_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    let bytes = value.as_bytes();
    for alphabet in [STANDARD_ALPHABET, URL_SAFE_ALPHABET] {
        let unpadded = base64_encode(bytes, alphabet);
        let mut padded = unpadded.clone();
        while !padded.len().is_multiple_of(4) {
            padded.push('=');
        }
        forms.push(padded);
        forms.push(unpadded);
        // Inside a longer blob the value starts 0, 1 or 2 bytes into a 3-byte group: the
        // characters made only of the value's bits are the same whatever surrounds it.
        for shift in 0..3usize {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let encoded = base64_encode(&shifted, alphabet);
            let first = (shift * 8).div_ceil(6);
            let end_bits = (shift + bytes.len()) * 8;
            let last = end_bits / 6; // exclusive: characters fully inside the value's bits
            if last > first && last - first >= MIN_ENV_VALUE_BYTES {
                forms.push(encoded[first..last].to_owned());
            }
        }
    }
    for upper in [true, false] {
        forms.push(percent_encode(value, upper, false));
        forms.push(percent_encode(value, upper, true));
    }
    // Inside a JSON string (`"`, `\`, control characters escaped).
    let escaped = serde_json::to_string(value).unwrap_or_default();
    if escaped.len() >= 2 {
        forms.push(escaped[1..escaped.len() - 1].to_owned());
    }
    forms.sort();
    forms.dedup();
    forms
}

const STANDARD_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 without padding.
fn base64_encode(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let group = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..=n {
            out.push(char::from(alphabet[((group >> (18 - 6 * i)) & 0x3f) as usize]));
        }
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters (`+` for spaces in form style).
fn percent_encode(value: &str, upper: bool, form: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else if form && b == b' ' {
            out.push('+');
        } else if upper {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// Removes secrets from results and text; see the [module docs](self) for the rules.
///
/// ```
/// use rampart::redact::Redactor;
/// use rampart::{ObservabilityLevel, SafetyResult, ToolCall, Response, Request, Turn};
///
/// let mut result = SafetyResult::unsafe_result("leaked Bearer abcd1234efgh5678", ObservabilityLevel::ToolOnly)
///     .with_turn(Turn::new(
///         Request::prompt("call the API"),
///         Response::text("done").with_tool_call(ToolCall::new("http").with_argument("api_key", "k-123")),
///     ));
/// let counts = Redactor::builtin().redact_result(&mut result);
/// assert_eq!(result.summary, "leaked Bearer <redacted>");
/// assert_eq!(result.turns[0].response.tool_calls[0].arguments["api_key"], "<redacted>");
/// assert_eq!((counts.get("pattern:bearer"), counts.get("key:api_key")), (1, 1));
/// ```
#[derive(Clone)]
pub struct Redactor {
    /// Normalized key → `key:<name>`.
    keys: BTreeMap<String, String>,
    /// Length of the longest normalized key.
    max_key_len: usize,
    /// Per normalized key length (up to 63), the set of first bytes of keys that long: most
    /// keys are told apart from every rule without building their normalized form.
    key_shapes: Vec<[u64; 4]>,
    /// Whether keys ending with a built-in key word are redacted (the built-in rules are on).
    key_suffixes: bool,
    /// Whether the configuration adds keys (no trigger word finds them in JSON text).
    has_extra_keys: bool,
    patterns: Vec<PatternRule>,
    prefilter: Option<Prefilter>,
    extra_patterns: Vec<PatternRule>,
    env: Option<EnvValues>,
    warnings: Vec<String>,
    source: Option<PathBuf>,
}

impl fmt::Debug for Redactor {
    /// Names the rules, never the environment values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("source", &self.source)
            .field("n_keys", &self.keys.len())
            .field("n_patterns", &self.patterns.len())
            .field("extra_patterns", &self.extra_patterns.iter().map(|p| &p.rule).collect::<Vec<_>>())
            .field("env_rules", &self.env.as_ref().map(|e| e.rules.len()).unwrap_or(0))
            .finish()
    }
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::builtin()
    }
}

/// The process's environment, as a lookup.
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Redactor {
    /// The built-in rules only.
    pub fn builtin() -> Redactor {
        static BUILTIN: OnceLock<Redactor> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Redactor::new(&RedactionConfig::default(), None, |_| None)
                    .expect("the built-in rules compile")
            })
            .clone()
    }

    /// The built-in rules plus `config`, with environment values looked up by `env`.
    /// `source` names the configuration file in errors and warnings.
    pub fn new(
        config: &RedactionConfig,
        source: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Redactor, RedactionConfigError> {
        let source_path = source.map_or_else(|| PathBuf::from(CONFIG_FILE), Path::to_path_buf);
        let mut warnings = Vec::new();
        let mut keys = BTreeMap::new();
        if !config.disable_builtin {
            for (normalized, name) in BUILTIN_KEYS {
                keys.insert((*normalized).to_owned(), format!("key:{name}"));
            }
        }
        for key in &config.extra_keys {
            let normalized = normalize_key(key);
            if normalized.is_empty() {
                return Err(RedactionConfigError::InvalidKey { path: source_path, key: key.clone() });
            }
            keys.entry(normalized.clone()).or_insert_with(|| format!("key:{normalized}"));
        }
        let (patterns, prefilter) = if config.disable_builtin {
            (Vec::new(), None)
        } else {
            let prefilter = Prefilter::new();
            (builtin_patterns(), Some(prefilter))
        };
        let mut extra_patterns = Vec::new();
        for (i, extra) in config.extra_patterns.iter().enumerate() {
            let (name, pattern) = match extra {
                ExtraPattern::Regex(regex) => (format!("extra_{}", i + 1), regex),
                ExtraPattern::Named { name, regex } => (name.clone(), regex),
            };
            let regex = Regex::new(pattern).map_err(|e| RedactionConfigError::InvalidPattern {
                path: source_path.clone(),
                pattern: pattern.clone(),
                message: e.to_string(),
            })?;
            extra_patterns.push(PatternRule::from_regex(&name, regex, None, Label::Fixed));
        }
        let mut values = Vec::new();
        let mut rules = Vec::new();
        for name in &config.env_vars {
            let Some(value) = env(name).filter(|v| !v.is_empty()) else { continue };
            if value.len() < MIN_ENV_VALUE_BYTES {
                warnings.push(format!(
                    "the value of ${name} (named in env_vars of {}) is {} bytes long; values shorter than \
                     {MIN_ENV_VALUE_BYTES} bytes are not redacted, they would redact common words",
                    source_path.display(),
                    value.len()
                ));
                continue;
            }
            for form in encoded_forms(&value) {
                values.push(form);
                rules.push(format!("env:{name}"));
            }
        }
        let env = if values.is_empty() {
            None
        } else {
            let matcher = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&values)
                .expect("literal patterns always compile");
            let lowercase = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(values.iter().map(|v| v.to_ascii_lowercase()))
                .expect("literal patterns always compile");
            Some(EnvValues { matcher, lowercase, rules })
        };
        let max_key_len = keys.keys().map(String::len).max().unwrap_or(0);
        let mut key_shapes = vec![[0u64; 4]; 64];
        for key in keys.keys() {
            let first = key.as_bytes()[0];
            key_shapes[key.len().min(63)][usize::from(first / 64)] |= 1 << (first % 64);
        }
        Ok(Redactor {
            keys,
            max_key_len,
            key_shapes,
            key_suffixes: !config.disable_builtin,
            has_extra_keys: !config.extra_keys.is_empty(),
            patterns,
            prefilter,
            extra_patterns,
            env,
            warnings,
            source: source.map(Path::to_path_buf),
        })
    }

    /// The rules of the workspace at `root`: its configuration (see [`load_config`]), with
    /// environment values from this process.
    pub fn for_workspace(root: &Path) -> Result<Redactor, RedactionConfigError> {
        match load_config(root)? {
            Some(loaded) => {
                let mut redactor = Redactor::new(&loaded.config, Some(&loaded.path), process_env)?;
                redactor.warnings.splice(0..0, loaded.warnings);
                Ok(redactor)
            }
            None => Ok(Redactor::builtin()),
        }
    }

    /// The rules of this process's workspace ([`find_workspace_root`]), or the built-in rules
    /// with a warning (in [`Redactor::warnings`]) when its configuration is broken.
    pub fn for_process() -> Redactor {
        let Some(root) = find_workspace_root() else { return Redactor::builtin() };
        Redactor::for_workspace_or_builtin(&root)
    }

    /// [`Redactor::for_workspace`], or the built-in rules with a warning naming the problem.
    pub fn for_workspace_or_builtin(root: &Path) -> Redactor {
        match Redactor::for_workspace(root) {
            Ok(redactor) => redactor,
            Err(error) => {
                let mut redactor = Redactor::builtin();
                redactor
                    .warnings
                    .push(format!("{}; using the built-in redaction rules only", error_chain(&error)));
                redactor
            }
        }
    }

    /// Problems met while building the redactor (short environment values, a broken or
    /// shadowed configuration). They never hold a secret value.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The configuration file the rules came from, when any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The rule name (`key:<name>`) when a JSON key's value is redacted: the key is one of
    /// the built-in or extra keys, or ends with a built-in key word (then a boolean or null
    /// value is kept, see [`Redactor::redact_map`]).
    ///
    /// Keys are compared ignoring ASCII case, `-`, `_`, spaces and invisible characters
    /// (zero-width spaces and joiners, bidi marks, the soft hyphen, the BOM).
    pub fn key_rule(&self, key: &str) -> Option<&str> {
        self.key_match(key).map(|(rule, _)| rule)
    }

    /// The rule of `key`, and whether it names the whole key (else only its ending).
    fn key_match(&self, key: &str) -> Option<(&str, bool)> {
        if let Some(rule) = self.whole_key_rule(key) {
            return Some((rule, true));
        }
        self.key_suffix_rule(key).map(|rule| (rule, false))
    }

    fn whole_key_rule(&self, key: &str) -> Option<&str> {
        if self.keys.is_empty() {
            return None;
        }
        if !key.is_ascii() {
            return self.whole_key_rule_unicode(key);
        }
        // Normalizing only removes characters: a key much longer than every rule is none.
        if key.len() > 4 * self.max_key_len + 8 {
            return None;
        }
        // A quick rejection on (normalized length, first byte): the recorder looks up every key
        // of every result.
        let mut normalized = key.bytes().filter(|b| !matches!(b, b'-' | b'_' | b' '));
        let first = normalized.next().map(|b| b.to_ascii_lowercase())?;
        let len = (1 + normalized.count()).min(63);
        if self.key_shapes[len][usize::from(first / 64)] & (1 << (first % 64)) == 0 {
            return None;
        }
        // Normalized on the stack.
        let mut buffer = [0u8; 64];
        let mut len = 0;
        for byte in key.bytes().filter(|b| !matches!(b, b'-' | b'_' | b' ')) {
            if len == buffer.len() {
                return self.keys.get(&normalize_key(key)).map(String::as_str);
            }
            buffer[len] = byte.to_ascii_lowercase();
            len += 1;
        }
        let normalized = std::str::from_utf8(&buffer[..len]).ok()?;
        self.keys.get(normalized).map(String::as_str)
    }

    /// [`Redactor::whole_key_rule`] for a key with non-ASCII characters: any number of
    /// invisible ones may hide in it, so there is no length cut-off before normalizing.
    fn whole_key_rule_unicode(&self, key: &str) -> Option<&str> {
        let mut normalized = String::new();
        for c in key.chars().filter(|c| !matches!(c, '-' | '_' | ' ') && !is_invisible(*c)) {
            normalized.push(c.to_ascii_lowercase());
            if normalized.len() > self.max_key_len {
                return None;
            }
        }
        self.keys.get(&normalized).map(String::as_str)
    }

    fn key_suffix_rule(&self, key: &str) -> Option<&'static str> {
        if !self.key_suffixes {
            return None;
        }
        // Every built-in key word ends with one of these pairs: most keys stop here.
        if let [.., a, b] = key.as_bytes()
            && a.is_ascii_alphanumeric()
            && b.is_ascii_alphanumeric()
            && !matches!(
                [a.to_ascii_lowercase(), b.to_ascii_lowercase()],
                [b'r' | b'w' | b'i', b'd'] | [b'e', b't' | b'n' | b'y'] | [b'o', b'n'] | [b'i', b'e']
            )
        {
            return None;
        }
        // The key's normalized ending, read backwards.
        let mut tail = [0u8; 16];
        let mut n = 0;
        let mut push = |c: char| {
            if !c.is_ascii() || n == tail.len() {
                return false;
            }
            // Every built-in key word ends with one of these: most keys stop here.
            if n == 0 && !matches!(c.to_ascii_lowercase(), 'd' | 't' | 'n' | 'y' | 'e') {
                return false;
            }
            n += 1;
            tail[tail.len() - n] = c.to_ascii_lowercase() as u8;
            true
        };
        if key.is_ascii() {
            for byte in key.bytes().rev().filter(|b| !matches!(b, b'-' | b'_' | b' ')) {
                if !push(char::from(byte)) {
                    break;
                }
            }
        } else {
            for c in key.chars().rev().filter(|c| !matches!(c, '-' | '_' | ' ') && !is_invisible(*c)) {
                if !push(c) {
                    break;
                }
            }
        }
        let tail = &tail[tail.len() - n..];
        BUILTIN_KEY_SUFFIXES
            .iter()
            .find(|(suffix, _)| tail.ends_with(suffix.as_bytes()))
            .map(|(_, rule)| *rule)
    }

    /// The rule of a `{"name": "<key>", "value": ...}` object (`"key"` for `"name"`, any
    /// ASCII case, as in HAR files and Postman collections) whose name is a redacted key:
    /// its `value` member goes. Returns the rule and the value's key.
    fn pair_rule<'m>(&self, map: &'m JsonMap) -> Option<(&str, &'m str)> {
        if map.len() < 2 || map.len() > 8 {
            return None;
        }
        let mut name = None;
        let mut value_key = None;
        for (key, value) in map {
            if key.eq_ignore_ascii_case("name") || key.eq_ignore_ascii_case("key") {
                if let Value::String(text) = value {
                    name = name.or_else(|| self.key_rule(text));
                }
            } else if key.eq_ignore_ascii_case("value") {
                value_key = Some(key.as_str());
            }
        }
        Some((name?, value_key?))
    }

    /// Whether `text` holds a trigger word of the built-in patterns, ignoring ASCII case.
    ///
    /// Aho-Corasick's case-insensitive mode has no SIMD prefilter; searching lower-cased
    /// text (a copy in a reused buffer) for lower-case triggers is the same test, and several
    /// times faster.
    fn triggered(&self, text: &str) -> bool {
        thread_local! {
            static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let Some(prefilter) = &self.prefilter else { return false };
        LOWER.with(|buffer| {
            let Ok(mut buffer) = buffer.try_borrow_mut() else {
                return prefilter.is_match(text.to_ascii_lowercase().as_bytes());
            };
            buffer.clear();
            buffer.extend_from_slice(text.as_bytes());
            buffer.make_ascii_lowercase();
            let hit = prefilter.is_match(buffer.as_slice());
            if buffer.capacity() > 1 << 20 {
                *buffer = Vec::new();
            }
            hit
        })
    }

    /// Whether the patterns or environment values might change `text` (a cheap test: a
    /// `true` may still redact nothing).
    pub fn may_redact_text(&self, text: &str) -> bool {
        self.env.as_ref().is_some_and(|e| e.matcher.is_match(text))
            || (self.triggered(text)
                && (looks_like_json(text)
                    || self.patterns.iter().any(|p| p.is_match(text))
                    || self.redact_json_keys_in_text(text, &mut RedactionCounts::new()).is_some()))
            || (self.has_extra_keys
                && (looks_like_json(text)
                    || self.redact_json_keys_in_text(text, &mut RedactionCounts::new()).is_some()))
            || self.extra_patterns.iter().any(|p| p.is_match(text))
            || (has_invisible(text) && self.may_redact_text(&without_invisible(text)))
    }

    /// Redacts one string.
    ///
    /// A string that is a JSON document (a tool's result, a stringified subtree) is parsed and
    /// redacted as JSON first, so the key rules apply to it as to the result's own objects; it
    /// is written back (compact, or indented when it spanned lines) when anything in it was
    /// redacted. A string hiding invisible
    /// characters (zero-width, bidi marks) is also redacted without them, and when that finds
    /// more, the redacted string keeps them out.
    pub fn redact_text<'t>(&self, text: &'t str, counts: &mut RedactionCounts) -> Cow<'t, str> {
        self.redact_text_at(text, counts, 0)
    }

    fn redact_text_at<'t>(&self, text: &'t str, counts: &mut RedactionCounts, depth: u8) -> Cow<'t, str> {
        let mut current = Cow::Borrowed(text);
        if depth < MAX_JSON_TEXT_DEPTH
            && let Some((mut value, end)) = json_prefix(text)
        {
            let mut found = RedactionCounts::new();
            self.redact_json_at(&mut value, &mut found, depth + 1);
            if !found.is_empty() {
                counts.merge(&found);
                let (document, rest) = text.split_at(end);
                let written = if document.contains('\n') {
                    serde_json::to_string_pretty(&value)
                } else {
                    serde_json::to_string(&value)
                };
                let leading = &document[..document.len() - document.trim_ascii_start().len()];
                current =
                    Cow::Owned(format!("{leading}{}{rest}", written.unwrap_or_else(|_| value.to_string())));
            }
        }
        // A replacement can complete a match of an earlier rule (text around a secret joining
        // up): passes repeat until nothing changes, so redaction is idempotent.
        for _ in 0..4 {
            match self.redact_once(&current, counts) {
                Some(next) => current = Cow::Owned(next),
                None => break,
            }
        }
        if has_invisible(&current) {
            let plain = without_invisible(&current);
            let mut found = RedactionCounts::new();
            let redacted = self.redact_text_at(&plain, &mut found, depth);
            if !found.is_empty() {
                counts.merge(&found);
                current = Cow::Owned(redacted.into_owned());
            }
        }
        current
    }

    fn redact_once(&self, text: &str, counts: &mut RedactionCounts) -> Option<String> {
        let mut current: Option<String> = None;
        if let Some(env) = &self.env
            && let Some(next) = env.apply(current.as_deref().unwrap_or(text), counts)
        {
            current = Some(next);
        }
        let triggered = self.triggered(current.as_deref().unwrap_or(text));
        let builtin = if triggered { self.patterns.as_slice() } else { &[] };
        for rule in builtin.iter().chain(&self.extra_patterns) {
            if let Some(next) = rule.apply(current.as_deref().unwrap_or(text), counts) {
                current = Some(next);
            }
        }
        if (triggered || self.has_extra_keys)
            && let Some(next) = self.redact_json_keys_in_text(current.as_deref().unwrap_or(text), counts)
        {
            current = Some(next);
        }
        current
    }

    /// `"<key>": <value>` in text that is JSON but does not parse as a whole (cut short, quoted
    /// in a diagnostic, embedded in prose, JSON-escaped): when the key is a redacted key, its
    /// value goes as in a JSON object: a string's content, an object or array whole (to its
    /// closing bracket, or to the end of the text when it was cut), a number. `None` when
    /// nothing changed.
    fn redact_json_keys_in_text(&self, text: &str, counts: &mut RedactionCounts) -> Option<String> {
        static KEY: OnceLock<Regex> = OnceLock::new();
        let key_regex = KEY.get_or_init(|| {
            Regex::new(r#"(?P<open>\\*)"(?P<key>[^"\\\r\n]{1,64})\\*"[ \t]*:[ \t]*"#)
                .expect("the JSON key pattern compiles")
        });
        let bytes = text.as_bytes();
        let mut out = String::new();
        let mut last = 0;
        let mut search = 0;
        while let Some(caps) = key_regex.captures_at(text, search) {
            let whole = caps.get(0).expect("group 0");
            search = whole.end().max(search + 1);
            let key = caps.name("key").map_or("", |k| k.as_str());
            let Some((rule, _)) = self.key_match(key) else { continue };
            let level = caps.name("open").map_or(0, |m| m.len());
            let Some((start, end, kind)) = json_value_span(bytes, whole.end(), level) else { continue };
            // Past the value whatever happens to it: every byte is scanned once (linear time).
            search = search.max(end);
            let value = &text[start..end];
            let keep = match kind {
                // A boolean or null holds no secret (`"has_password": true`), as in JSON objects.
                JsonValue::Scalar => matches!(value, "true" | "false" | "null") || value.contains(REDACTED),
                // A string the patterns already redacted keeps its label (`"Basic <redacted>"`).
                JsonValue::String => value.is_empty() || value.contains(REDACTED),
                // An object or array goes whole, as under a redacted key in a JSON object.
                JsonValue::Container => false,
            };
            if keep {
                continue;
            }
            out.push_str(&text[last..start]);
            out.push_str(REDACTED);
            last = end;
            counts.add(rule, 1);
        }
        if last == 0 {
            return None;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// Redacts a string in place.
    pub fn redact_string(&self, text: &mut String, counts: &mut RedactionCounts) {
        if let Cow::Owned(redacted) = self.redact_text(text, counts) {
            *text = redacted;
        }
    }

    /// Redacts a JSON value in place: denylisted keys lose their whole value, every string
    /// (object keys included) goes through the patterns.
    pub fn redact_json(&self, value: &mut Value, counts: &mut RedactionCounts) {
        self.redact_json_at(value, counts, 0);
    }

    fn redact_json_at(&self, value: &mut Value, counts: &mut RedactionCounts, depth: u8) {
        match value {
            Value::String(text) => {
                if let Cow::Owned(redacted) = self.redact_text_at(text, counts, depth) {
                    *text = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_json_at(item, counts, depth)),
            Value::Object(map) => self.redact_map_at(map, counts, depth),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Redacts a JSON object in place (see [`Redactor::redact_json`]).
    pub fn redact_map(&self, map: &mut JsonMap, counts: &mut RedactionCounts) {
        self.redact_map_at(map, counts, 0);
    }

    fn redact_map_at(&self, map: &mut JsonMap, counts: &mut RedactionCounts, depth: u8) {
        if map.keys().any(|k| self.may_redact_text(k)) {
            let old = std::mem::take(map);
            for (key, value) in old {
                let mut key = self.redact_text_at(&key, counts, depth).into_owned();
                while map.contains_key(&key) {
                    key.push('\'');
                }
                map.insert(key, value);
            }
        }
        if let Some((rule, value_key)) = self.pair_rule(map) {
            let rule = rule.to_owned();
            let value_key = value_key.to_owned();
            if let Some(value) = map.get_mut(&value_key)
                && value.as_str() != Some(REDACTED)
            {
                *value = Value::String(REDACTED.to_owned());
                counts.add(&rule, 1);
            }
        }
        for (key, value) in map.iter_mut() {
            match self.key_match(key) {
                Some((rule, whole)) if whole || !matches!(value, Value::Bool(_) | Value::Null) => {
                    if value.as_str() != Some(REDACTED) {
                        *value = Value::String(REDACTED.to_owned());
                        counts.add(rule, 1);
                    }
                }
                _ => self.redact_json_at(value, counts, depth),
            }
        }
    }

    /// Whether [`Redactor::redact_result`] might change `result` (a cheap test, so the
    /// recorder clones a result only when it has something to redact).
    ///
    /// Every string of the result is copied, lower-cased, into one reused buffer and searched
    /// once for the trigger words and the environment values; only when that finds something
    /// are the strings tested one by one.
    pub fn needs_redaction(&self, result: &SafetyResult) -> bool {
        thread_local! {
            static TEXTS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let scan = TEXTS.with(|buffer| {
            let Ok(mut buffer) = buffer.try_borrow_mut() else { return None };
            buffer.clear();
            let mut scan =
                Scan { redactor: self, buffer: &mut buffer, denylisted_key: false, extra_match: false };
            walk::walk(result, &mut scan);
            let (denylisted_key, extra_match) = (scan.denylisted_key, scan.extra_match);
            // Invisible characters may hide a trigger word: redaction decides.
            let invisible = !buffer.is_ascii() && std::str::from_utf8(&buffer).map_or(true, has_invisible);
            buffer.make_ascii_lowercase();
            let maybe = self.prefilter.as_ref().is_some_and(|p| p.is_match(buffer.as_slice()))
                || self.env.as_ref().is_some_and(|e| e.lowercase.is_match(buffer.as_slice()));
            if buffer.capacity() > 1 << 20 {
                *buffer = Vec::new();
            }
            Some((denylisted_key || extra_match || invisible, maybe))
        });
        match scan {
            Some((true, _)) | None => return true,
            Some((false, false)) => return false,
            Some((false, true)) => {}
        }
        let mut check = MayRedact { redactor: self, any: false };
        walk::walk(result, &mut check);
        check.any
    }

    /// Redacts every string of a result in place and returns what was redacted.
    pub fn redact_result(&self, result: &mut SafetyResult) -> RedactionCounts {
        let mut counts = RedactionCounts::new();
        self.redact_result_into(result, &mut counts);
        counts
    }

    /// Redacts every string of a result in place, adding to `counts`: free text and
    /// identifiers go through the patterns, JSON objects through [`Redactor::redact_map`].
    /// The harm category is the test author's label ([`Role::Label`]) and is left alone.
    pub fn redact_result_into(&self, result: &mut SafetyResult, counts: &mut RedactionCounts) {
        walk::walk_mut(result, &mut Redact { redactor: self, counts });
    }
}

/// Redacts a result: see [`Redactor::redact_result_into`].
struct Redact<'a> {
    redactor: &'a Redactor,
    counts: &'a mut RedactionCounts,
}

impl VisitMut for Redact<'_> {
    fn text(&mut self, field: Field, text: &mut String) {
        if field.role() != Role::Label {
            self.redactor.redact_string(text, self.counts);
        }
    }

    fn map(&mut self, _field: MapField, map: &mut JsonMap) {
        self.redactor.redact_map(map, self.counts);
    }
}

/// The first, cheap pass of [`Redactor::needs_redaction`]: every string that redaction looks
/// at goes into one buffer (NUL-separated: no trigger holds a NUL, so none spans two
/// strings); denylisted keys and project patterns are checked on the way.
struct Scan<'a> {
    redactor: &'a Redactor,
    buffer: &'a mut Vec<u8>,
    denylisted_key: bool,
    extra_match: bool,
}

impl Scan<'_> {
    fn push(&mut self, text: &str) {
        self.buffer.extend_from_slice(text.as_bytes());
        self.buffer.push(0);
        // A project pattern, or a JSON document that may hold a project key (no trigger word
        // finds those): redaction decides. (Invisible characters are looked for in the whole
        // buffer at once.)
        self.extra_match = self.extra_match
            || self.redactor.extra_patterns.iter().any(|p| p.is_match(text))
            || (self.redactor.has_extra_keys && looks_like_json(text));
    }
}

impl Scan<'_> {
    /// One pass over a JSON object: its pair and keys are checked, its strings pushed.
    fn object(&mut self, map: &JsonMap) {
        let redactor = self.redactor;
        if !self.denylisted_key
            && redactor.pair_rule(map).is_some_and(|(_, value_key)| map[value_key].as_str() != Some(REDACTED))
        {
            self.denylisted_key = true;
        }
        for (key, value) in map {
            if !self.denylisted_key
                && let Some((_, whole)) = redactor.key_match(key)
                && (whole || !matches!(value, Value::Bool(_) | Value::Null))
                && value.as_str() != Some(REDACTED)
            {
                self.denylisted_key = true;
            }
            self.push(key);
            self.value(value);
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::String(text) => self.push(text),
            Value::Array(items) => items.iter().for_each(|item| self.value(item)),
            Value::Object(map) => self.object(map),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

impl<'r> Visit<'r> for Scan<'_> {
    fn text(&mut self, field: Field, text: &'r str) {
        if field.role() != Role::Label {
            self.push(text);
        }
    }

    fn map(&mut self, _field: MapField, map: &'r JsonMap) {
        self.object(map);
    }
}

/// The second pass of [`Redactor::needs_redaction`]: whether any string would change.
struct MayRedact<'a> {
    redactor: &'a Redactor,
    any: bool,
}

impl<'r> Visit<'r> for MayRedact<'_> {
    fn text(&mut self, field: Field, text: &'r str) {
        self.any = self.any || (field.role() != Role::Label && self.redactor.may_redact_text(text));
    }

    fn map(&mut self, _field: MapField, map: &'r JsonMap) {
        if self.any {
            return;
        }
        walk::json_strings(map, &mut |item| match item {
            JsonStr::Key { key: text, .. } | JsonStr::Value { text, .. } => {
                self.any = self.any || self.redactor.may_redact_text(text);
            }
        });
    }
}

/// An error and its sources, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The redactor of this process, built on first use from its workspace's configuration; its
/// warnings are printed to stderr once, then.
pub fn process_redactor() -> &'static Redactor {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    REDACTOR.get_or_init(|| {
        let redactor = Redactor::for_process();
        for warning in redactor.warnings() {
            eprintln!("rampart: warning: {warning}");
        }
        redactor
    })
}

#[cfg(test)]
mod tests;
