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
//!    details, at any depth) a key that equals, ignoring ASCII case, `-`, `_` and spaces, one
//!    of `password`, `passwd`, `pwd`, `secret`, `token`, `api_key` (`apikey`, `api-key`),
//!    `x-api-key`, `authorization`, `auth`, `cookie`, `set-cookie`, `bearer`, `private_key`,
//!    `client_secret`, `access_token`, `refresh_token`, `session_id` has its whole value (a
//!    string, a number, an object...) replaced by the string `"<redacted>"`. Whole keys only:
//!    `token_count` and `max_tokens` stay.
//! 2. **Environment values** (`env:<NAME>`): the exact value of each environment variable named
//!    in the configuration, also in base64 (standard and URL-safe alphabets, padded or not,
//!    and at any alignment inside a longer base64 blob) and percent-encoded (upper- or
//!    lower-case hex, and `+` for spaces). Values shorter than [`MIN_ENV_VALUE_BYTES`] are
//!    skipped with a warning: they would redact common words.
//! 3. **Patterns** (`pattern:<name>`), in every string:
//!    - `private_key`: PEM private key blocks (`-----BEGIN ... PRIVATE KEY-----` to the
//!      `END` line, or to the end of the text when the block was cut);
//!    - `authorization`: `Authorization:` / `Proxy-Authorization:` headers (`=` too, quoted
//!      or not): with a known scheme (`Basic`, `Bearer`, `Digest`, `Token`, ...) the rest of
//!      the line goes; without one, a single token that looks like a secret;
//!    - `bearer`: `Bearer <token>` anywhere (a token of at least 8 characters with a digit
//!      and a letter, or of 32 characters: `bearer of bad news` stays);
//!    - `url_userinfo`: `scheme://user:password@` in a URL of any scheme becomes
//!      `scheme://<redacted>@` (`https://user@host` has no password and stays);
//!    - `api_key`, `password`, `token`, `secret`, `session_id`, `private_key`: `key=value`
//!      and `key: value` forms whose key ends in one of those words (`OPENAI_API_KEY=...`,
//!      `"password": "..."`, `X-Api-Key: ...`, `db_password='...'`), the value quoted
//!      (single or double, escape-aware) or bare;
//!    - key shapes: `sk_api_key` (OpenAI and Anthropic `sk-...`, `sk-proj-...`,
//!      `sk-ant-...`), `aws_access_key_id` (`AKIA...`, `ASIA...`), `github_token` (`ghp_`,
//!      `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), `jwt` (`eyJ...` with three
//!      dot-separated parts), `slack_token` (`xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, ...),
//!      `google_api_key` (`AIza...`).
//! 4. **Project patterns** (`pattern:<name>`) from the configuration.
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
//! their trigger words (one Aho-Corasick pass), so a result without anything secret-looking
//! costs one scan per string.
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
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{HarmCategory, JsonMap, SafetyResult};

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
    "sk-",
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

/// How the rule name of a pattern match is chosen.
#[derive(Clone, Copy, Debug)]
enum Label {
    Fixed,
    /// From the `key` group of a `key=value` match.
    KeyValue,
}

#[derive(Clone)]
struct PatternRule {
    /// `pattern:<name>`.
    rule: String,
    regex: Regex,
    /// Capture groups whose names start with `secret`: the first that took part in a match is
    /// replaced; without any, the whole match is.
    secret_groups: Vec<usize>,
    /// A match whose secret fails this check is left alone.
    check: Option<fn(&str) -> bool>,
    label: Label,
}

impl PatternRule {
    fn new(name: &str, pattern: &str, check: Option<fn(&str) -> bool>, label: Label) -> PatternRule {
        let regex = Regex::new(pattern).unwrap_or_else(|e| panic!("built-in pattern {name}: {e}"));
        PatternRule::from_regex(name, regex, check, label)
    }

    fn from_regex(name: &str, regex: Regex, check: Option<fn(&str) -> bool>, label: Label) -> PatternRule {
        let secret_groups = regex
            .capture_names()
            .enumerate()
            .filter(|(_, n)| n.is_some_and(|n| n.starts_with("secret")))
            .map(|(i, _)| i)
            .collect();
        PatternRule { rule: format!("pattern:{name}"), regex, secret_groups, check, label }
    }

    fn secret<'t>(&self, caps: &Captures<'t>) -> Option<regex::Match<'t>> {
        if self.secret_groups.is_empty() {
            return caps.get(0);
        }
        self.secret_groups.iter().find_map(|&i| caps.get(i))
    }

    /// Replaces every secret in `text`; `None` when nothing changed.
    fn apply(&self, text: &str, counts: &mut RedactionCounts) -> Option<String> {
        let mut out = String::new();
        let mut last = 0;
        for caps in self.regex.captures_iter(text) {
            let Some(secret) = self.secret(&caps) else { continue };
            let value = secret.as_str();
            if value.is_empty() || value == REDACTED || self.check.is_some_and(|check| !check(value)) {
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

/// Lower-case ASCII, without `-`, `_` and spaces.
fn normalize_key(key: &str) -> String {
    key.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).map(|c| c.to_ascii_lowercase()).collect()
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

fn builtin_patterns() -> Vec<PatternRule> {
    use Label::Fixed;
    let b = r"(?-u:\b)";
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
                r#"(?i){b}(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:basic|bearer|digest|token|negotiate|ntlm|apikey|api-key|aws4-hmac-sha256|oauth|ssws|hoba|mutual|sharedkey|signature)\s+(?P<secret>[^\r\n"'<>]+)"#
            ),
            None,
            Fixed,
        ),
        PatternRule::new(
            "authorization",
            &format!(r#"(?i){b}(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?P<secret>[^\s"'<>,;]+)"#),
            Some(looks_like_secret),
            Fixed,
        ),
        PatternRule::new(
            "bearer",
            &format!(r"(?i){b}bearer\s+(?P<secret>[A-Za-z0-9\-._~+/]+=*)"),
            Some(looks_like_secret),
            Fixed,
        ),
        PatternRule::new(
            "url_userinfo",
            &format!(r#"(?i){b}[a-z][a-z0-9+.\-]*://(?P<secret>[^\s/?#@:"'<>]*:[^\s/?#@"'<>]*)@"#),
            None,
            Fixed,
        ),
        PatternRule::new(
            "key_value",
            &format!(
                r#"(?i){b}(?P<key>[a-z0-9_.\-]*?(?:x[-_]?api[-_]?key|api[-_]?key|passwd|password|pwd|secret|secret[-_]?access[-_]?key|private[-_]?key|token|session[-_]?id))["']?[ \t]*[:=][ \t]*(?:"(?P<secret_dq>(?:[^"\\\r\n]|\\.)*)"|'(?P<secret_sq>[^'\r\n]*)'|(?P<secret_bare>[^\s"'<>,;&)}}\]]+))"#
            ),
            None,
            Label::KeyValue,
        ),
        PatternRule::new(
            "jwt",
            r"(?P<secret>eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*)",
            None,
            Fixed,
        ),
        PatternRule::new(
            "sk_api_key",
            r"sk-(?:proj-|ant-(?:api\d\d-|admin\d\d-)?|svcacct-|admin-)?(?P<secret>[A-Za-z0-9_\-]{20,})",
            Some(has_digit_and_letter),
            Fixed,
        ),
        PatternRule::new(
            "aws_access_key_id",
            &format!(r"(?:AKIA|ASIA)(?P<secret>[A-Z0-9]{{16}}){b}"),
            None,
            Fixed,
        ),
        PatternRule::new(
            "github_token",
            r"(?:gh[pousr]_(?P<secret>[A-Za-z0-9]{30,})|github_pat_(?P<secret2>[A-Za-z0-9_]{22,}))",
            None,
            Fixed,
        ),
        PatternRule::new(
            "slack_token",
            r"xox[abposre]-(?P<secret>[A-Za-z0-9\-]{10,})",
            Some(has_digit_and_letter),
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
/// longer blob), and its percent-encodings.
pub fn encoded_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    let bytes = value.as_bytes();
    for alphabet in [STANDARD_ALPHABET, URL_SAFE_ALPHABET] {
        let unpadded = base64_encode(bytes, alphabet);
        let mut padded = unpadded.clone();
        while padded.len() % 4 != 0 {
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
    patterns: Vec<PatternRule>,
    prefilter: Option<AhoCorasick>,
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
            // Case-sensitive (so SIMD-accelerated) over lower-cased text: see `triggered`.
            // (Leftmost-first: the standard match kind gets no SIMD prefilter either.)
            let prefilter = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(TRIGGERS)
                .expect("the trigger words compile");
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

    /// The rule name (`key:<name>`) when a JSON key's value is always redacted.
    pub fn key_rule(&self, key: &str) -> Option<&str> {
        // Normalizing only removes characters: a key much longer than every rule is none.
        if self.keys.is_empty() || key.len() > 4 * self.max_key_len + 8 {
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
            || (self.triggered(text) && self.patterns.iter().any(|p| p.regex.is_match(text)))
            || self.extra_patterns.iter().any(|p| p.regex.is_match(text))
    }

    /// Redacts one string.
    pub fn redact_text<'t>(&self, text: &'t str, counts: &mut RedactionCounts) -> Cow<'t, str> {
        let mut current = Cow::Borrowed(text);
        // A replacement can complete a match of an earlier rule (text around a secret joining
        // up): passes repeat until nothing changes, so redaction is idempotent.
        for _ in 0..4 {
            match self.redact_once(&current, counts) {
                Some(next) => current = Cow::Owned(next),
                None => break,
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
        current
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
        match value {
            Value::String(text) => self.redact_string(text, counts),
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_json(item, counts)),
            Value::Object(map) => self.redact_map(map, counts),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Redacts a JSON object in place (see [`Redactor::redact_json`]).
    pub fn redact_map(&self, map: &mut JsonMap, counts: &mut RedactionCounts) {
        if map.keys().any(|k| self.may_redact_text(k)) {
            let old = std::mem::take(map);
            for (key, value) in old {
                let mut key = self.redact_text(&key, counts).into_owned();
                while map.contains_key(&key) {
                    key.push('\'');
                }
                map.insert(key, value);
            }
        }
        for (key, value) in map.iter_mut() {
            match self.key_rule(key) {
                Some(rule) => {
                    if value.as_str() != Some(REDACTED) {
                        *value = Value::String(REDACTED.to_owned());
                        counts.add(rule, 1);
                    }
                }
                None => self.redact_json(value, counts),
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
        let mut denylisted_key = false;
        let mut extra_match = false;
        let maybe = TEXTS.with(|buffer| {
            let Ok(mut buffer) = buffer.try_borrow_mut() else { return true };
            buffer.clear();
            visit_result(result, &mut |item| {
                let text = match item {
                    Item::Text(text) => text,
                    Item::Key(key, value) => {
                        denylisted_key |= self.key_rule(key).is_some() && value.as_str() != Some(REDACTED);
                        key
                    }
                };
                buffer.extend_from_slice(text.as_bytes());
                // Triggers hold no NUL: none spans two strings.
                buffer.push(0);
                extra_match = extra_match || self.extra_patterns.iter().any(|p| p.regex.is_match(text));
            });
            buffer.make_ascii_lowercase();
            let maybe = self.prefilter.as_ref().is_some_and(|p| p.is_match(buffer.as_slice()))
                || self.env.as_ref().is_some_and(|e| e.lowercase.is_match(buffer.as_slice()));
            if buffer.capacity() > 1 << 20 {
                *buffer = Vec::new();
            }
            maybe
        });
        if denylisted_key || extra_match {
            return true;
        }
        if !maybe {
            return false;
        }
        let mut any = false;
        visit_result(result, &mut |item| {
            let text = match item {
                Item::Text(text) | Item::Key(text, _) => text,
            };
            any = any || self.may_redact_text(text);
        });
        any
    }

    /// Redacts every string of a result in place and returns what was redacted.
    pub fn redact_result(&self, result: &mut SafetyResult) -> RedactionCounts {
        let mut counts = RedactionCounts::new();
        self.redact_result_into(result, &mut counts);
        counts
    }

    /// Redacts every string of a result in place, adding to `counts`.
    pub fn redact_result_into(&self, result: &mut SafetyResult, counts: &mut RedactionCounts) {
        let opt = |s: &mut Option<String>, counts: &mut RedactionCounts| {
            if let Some(s) = s {
                self.redact_string(s, counts);
            }
        };
        self.redact_string(&mut result.summary, counts);
        if let Some(harm) = &result.harm_category
            && let Cow::Owned(redacted) = self.redact_text(harm.as_str(), counts)
        {
            result.harm_category = Some(HarmCategory::new(redacted));
        }
        opt(&mut result.strategy, counts);
        for injection in &mut result.injections {
            opt(&mut injection.payload_id, counts);
            self.redact_string(&mut injection.surface_name, counts);
        }
        self.redact_map(&mut result.metadata, counts);
        for turn in &mut result.turns {
            let request = &mut turn.request;
            opt(&mut request.prompt, counts);
            for attachment in &mut request.attachments {
                self.redact_string(&mut attachment.id, counts);
                self.redact_string(&mut attachment.content, counts);
                self.redact_string(&mut attachment.format, counts);
                self.redact_map(&mut attachment.metadata, counts);
            }
            let response = &mut turn.response;
            self.redact_string(&mut response.text, counts);
            for call in &mut response.tool_calls {
                self.redact_string(&mut call.name, counts);
                self.redact_map(&mut call.arguments, counts);
                opt(&mut call.result, counts);
            }
            for effect in &mut response.side_effects {
                self.redact_string(&mut effect.kind, counts);
                self.redact_map(&mut effect.details, counts);
            }
            self.redact_map(&mut response.metadata, counts);
            if let Some(eval) = &mut turn.eval_result {
                for evidence in &mut eval.evidence {
                    self.redact_string(evidence, counts);
                }
                self.redact_string(&mut eval.rationale, counts);
                opt(&mut eval.evaluator, counts);
                for operand in &mut eval.undetermined_operands {
                    self.redact_string(operand, counts);
                }
            }
            opt(&mut turn.driver_reasoning, counts);
        }
    }
}

/// A string of a result, for [`visit_result`].
enum Item<'a> {
    /// A string (a field, or a string in a JSON value).
    Text(&'a str),
    /// A key of a JSON object, with its value (visited next).
    Key(&'a str, &'a Value),
}

/// Calls `f` on every string of `result`, JSON keys included, in a fixed order.
fn visit_result<'a>(result: &'a SafetyResult, f: &mut impl FnMut(Item<'a>)) {
    fn json<'a>(value: &'a Value, f: &mut impl FnMut(Item<'a>)) {
        match value {
            Value::String(text) => f(Item::Text(text)),
            Value::Array(items) => items.iter().for_each(|item| json(item, f)),
            Value::Object(map) => object(map, f),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    fn object<'a>(map: &'a JsonMap, f: &mut impl FnMut(Item<'a>)) {
        for (key, value) in map {
            f(Item::Key(key, value));
            json(value, f);
        }
    }
    fn opt<'a>(text: &'a Option<String>, f: &mut impl FnMut(Item<'a>)) {
        if let Some(text) = text {
            f(Item::Text(text));
        }
    }
    f(Item::Text(&result.summary));
    if let Some(harm) = &result.harm_category {
        f(Item::Text(harm.as_str()));
    }
    opt(&result.strategy, f);
    for injection in &result.injections {
        opt(&injection.payload_id, f);
        f(Item::Text(&injection.surface_name));
    }
    object(&result.metadata, f);
    for turn in &result.turns {
        opt(&turn.request.prompt, f);
        for attachment in &turn.request.attachments {
            f(Item::Text(&attachment.id));
            f(Item::Text(&attachment.content));
            f(Item::Text(&attachment.format));
            object(&attachment.metadata, f);
        }
        let response = &turn.response;
        f(Item::Text(&response.text));
        for call in &response.tool_calls {
            f(Item::Text(&call.name));
            object(&call.arguments, f);
            opt(&call.result, f);
        }
        for effect in &response.side_effects {
            f(Item::Text(&effect.kind));
            object(&effect.details, f);
        }
        object(&response.metadata, f);
        if let Some(eval) = &turn.eval_result {
            eval.evidence.iter().for_each(|text| f(Item::Text(text)));
            f(Item::Text(&eval.rationale));
            opt(&eval.evaluator, f);
            eval.undetermined_operands.iter().for_each(|text| f(Item::Text(text)));
        }
        opt(&turn.driver_reasoning, f);
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
