//! Headless Chromium for the HTML report's browser checks: Debian's `chromium` and
//! `chromium-driver` packages (`/usr/bin/chromium`, `/usr/bin/chromedriver`), driven through
//! chromedriver's WebDriver API. The one place that knows the browser's flags.
//!
//! Policy when the browser is missing: outside CI the test prints a loud skip message and
//! returns; with `CI` set it fails, so CI can never silently skip the browser checks
//! ([`find`]).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How to install what is missing.
pub const INSTALL_HINT: &str = "apt-get update && apt-get install -y chromium chromium-driver";

/// Overrides the Chromium binary.
pub const CHROMIUM_ENV: &str = "RAMPART_CHROMIUM";
/// Overrides the chromedriver binary.
pub const CHROMEDRIVER_ENV: &str = "RAMPART_CHROMEDRIVER";

/// The flags every session starts Chromium with (plus a fresh `--user-data-dir`): headless,
/// no sandbox (containers run as root), nothing that reaches the network on its own, a fixed
/// window size so screenshots compare.
pub const HEADLESS_FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
];

/// Where Chromium and chromedriver are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installation {
    /// The browser.
    pub chromium: PathBuf,
    /// The WebDriver server.
    pub chromedriver: PathBuf,
}

fn find_binary(env_var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// Chromium and chromedriver ([`CHROMIUM_ENV`] and [`CHROMEDRIVER_ENV`] override the paths),
/// or `None` after a loud skip message naming `test` when one is missing. With `CI` set, a
/// missing browser panics instead: CI must run the browser checks.
pub fn find(test: &str) -> Option<Installation> {
    let chromium = find_binary(
        CHROMIUM_ENV,
        &["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"],
    );
    let chromedriver =
        find_binary(CHROMEDRIVER_ENV, &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    if let (Some(chromium), Some(chromedriver)) = (&chromium, &chromedriver) {
        return Some(Installation { chromium: chromium.clone(), chromedriver: chromedriver.clone() });
    }
    let missing = [("chromium", chromium.is_none()), ("chromedriver", chromedriver.is_none())]
        .iter()
        .filter(|(_, missing)| *missing)
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(" and ");
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test}: {missing} not found (looked in /usr/bin; override with {CHROMIUM_ENV} / {CHROMEDRIVER_ENV}). \
             CI must run the browser tests: install them with `{INSTALL_HINT}`."
        );
    }
    eprintln!(
        "\n========================================================================\n\
         SKIPPED {test}: {missing} not found.\n\
         The HTML report's browser tests need headless Chromium. Install it with:\n    {INSTALL_HINT}\n\
         (With CI set, this is a failure instead of a skip.)\n\
         ========================================================================\n"
    );
    None
}

/// `target/ci-artifacts/` of the target dir holding `CARGO_TARGET_TMPDIR`-style `tmp_dir`
/// (its parent), where CI keeps screenshots.
pub fn artifacts_dir_for(tmp_dir: impl AsRef<Path>) -> PathBuf {
    let tmp_dir = tmp_dir.as_ref();
    tmp_dir.parent().unwrap_or(tmp_dir).join("ci-artifacts")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a loopback port").local_addr().unwrap().port()
}

/// One chromedriver process and one headless browser session; both end on drop.
#[derive(Debug)]
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless session with [`HEADLESS_FLAGS`] and
    /// `extra_args`, or returns `None` when the browser is not installed (see [`find`]).
    pub fn start(test: &str, extra_args: &[&str]) -> Option<Browser> {
        Some(Browser::start_with(&find(test)?, extra_args))
    }

    /// Starts chromedriver and a session with this installation.
    pub fn start_with(installation: &Installation, extra_args: &[&str]) -> Browser {
        let port = free_port();
        let driver_path = &installation.chromedriver;
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {}: {e}", driver_path.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(180)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("temp profile dir");
        let mut browser = Browser { driver, base, session: String::new(), agent, _profile: profile };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = browser
                .agent
                .get(format!("{}/status", browser.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == json!(true));
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut args: Vec<String> = HEADLESS_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", browser._profile.path().display()));
        args.extend(extra_args.iter().map(|s| (*s).to_owned()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": installation.chromium.to_string_lossy(), "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
            "pageLoadStrategy": "normal",
        }}});
        let value = browser.raw("POST", "/session", Some(caps));
        browser.session =
            value["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {value}")).to_owned();
        browser.cmd("POST", "/timeouts", Some(json!({"script": 120_000, "pageLoad": 120_000})));
        browser
    }

    fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self.agent.post(&url).send_json(body.unwrap_or_else(|| json!({}))),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let value: Value = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_json()
            .unwrap_or_else(|e| panic!("{method} {path}: bad JSON: {e}"));
        let value = value.get("value").cloned().unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path} -> {status}: {value}");
        value
    }

    /// A WebDriver command on the session: `path` is relative to `/session/{id}`.
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.raw(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Navigates to `url` and waits for the load.
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    /// Opens a local file.
    pub fn open_file(&self, path: &Path) {
        self.goto(&format!("file://{}", path.display()));
    }

    /// Runs a synchronous script (`return ...`) with `args` and returns its value.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({"script": script, "args": args})))
    }

    /// Waits until the script returns a truthy value, and returns it.
    pub fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.js(script, json!([]));
            if !(value.is_null() || value == json!(false) || value == json!(0) || value == json!("")) {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until rampart's HTML report is interactive (`data-ready="1"` on the root
    /// element), failing with the page's error text if it failed to render.
    pub fn wait_ready(&self) {
        let state = self.wait_for(
            "the report to be ready",
            "return document.documentElement.dataset.ready",
            Duration::from_secs(60),
        );
        assert_eq!(state, json!("1"), "report failed to render: {}", self.text("#rr-main"));
    }

    /// The serialized DOM (as `--dump-dom` prints it).
    pub fn dom(&self) -> String {
        self.js("return document.documentElement.outerHTML", json!([]))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The WebDriver id of the first element matching `css`.
    pub fn find(&self, css: &str) -> String {
        let value = self.cmd("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        value
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    /// A real WebDriver click (scrolls into view, hit-tests).
    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Types `text` into the element.
    pub fn send_keys(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/value"), Some(json!({"text": text})));
    }

    /// The element's `textContent` (empty when there is none).
    pub fn text(&self, css: &str) -> String {
        self.js("var e = document.querySelector(arguments[0]); return e ? e.textContent : null", json!([css]))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> u64 {
        self.js("return document.querySelectorAll(arguments[0]).length", json!([css])).as_u64().unwrap()
    }

    /// `location.hash`.
    pub fn hash(&self) -> String {
        self.js("return location.hash", json!([])).as_str().unwrap_or_default().to_owned()
    }

    /// Resizes the window.
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.cmd("POST", "/window/rect", Some(json!({"width": width, "height": height})));
    }

    /// A PNG screenshot of the viewport.
    pub fn screenshot_png(&self) -> Vec<u8> {
        use base64::Engine as _;
        let data = self.cmd("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 PNG"))
            .expect("base64 PNG")
    }

    /// Saves a PNG screenshot of the viewport to `path` (creating its directory).
    pub fn screenshot(&self, path: &Path) {
        let bytes = self.screenshot_png();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Browser console entries since the last call: (level, message). Chromium logs console
    /// calls, uncaught exceptions, CSP violations and failed loads here.
    pub fn console(&self) -> Vec<(String, String)> {
        let url = format!("{}/session/{}/se/log", self.base, self.session);
        let response = self.agent.post(&url).send_json(json!({"type": "browser"}));
        let value: Value = match response {
            Ok(mut r) if r.status().is_success() => r.body_mut().read_json().unwrap_or(Value::Null),
            _ => self
                .agent
                .get(format!("{}/session/{}/log", self.base, self.session))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json().ok())
                .unwrap_or(Value::Null),
        };
        value["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or("").to_owned(),
                            e["message"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Console entries at error level (SEVERE) since the last call.
    pub fn console_errors(&self) -> Vec<String> {
        self.console().into_iter().filter(|(level, _)| level == "SEVERE").map(|(_, m)| m).collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.agent.delete(format!("{}/session/{}", self.base, self.session)).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
