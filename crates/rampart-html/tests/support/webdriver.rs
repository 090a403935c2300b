//! A tiny WebDriver client for headless Chromium through chromedriver (Debian packages
//! `chromium` and `chromium-driver`: `/usr/bin/chromium`, `/usr/bin/chromedriver`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const INSTALL_HINT: &str = "apt-get update && apt-get install -y chromium chromium-driver";

fn find_binary(env_var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// Chromium and chromedriver, or None (after a loud skip message) when they are missing.
/// Under `CI` a missing browser is a failure, never a skip.
pub fn browser_paths(test: &str) -> Option<(PathBuf, PathBuf)> {
    let chromium = find_binary(
        "RAMPART_CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"],
    );
    let driver =
        find_binary("RAMPART_CHROMEDRIVER", &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        (c, d) => {
            let missing = [("chromium", c.is_none()), ("chromedriver", d.is_none())]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(" and ");
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{test}: {missing} not found (looked in /usr/bin; override with RAMPART_CHROMIUM / RAMPART_CHROMEDRIVER). \
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
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a loopback port").local_addr().unwrap().port()
}

/// One chromedriver process and one browser session; both end on drop.
#[derive(Debug)]
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless session, or returns None when the browser is not
    /// installed (see [`browser_paths`]).
    pub fn start(test: &str, extra_args: &[&str]) -> Option<Browser> {
        let (chromium, driver_path) = browser_paths(test)?;
        let port = free_port();
        let driver = Command::new(&driver_path)
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
        let mut args: Vec<String> = [
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
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.push(format!("--user-data-dir={}", browser._profile.path().display()));
        args.extend(extra_args.iter().map(|s| (*s).to_owned()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
            "pageLoadStrategy": "normal",
        }}});
        let value = browser.raw("POST", "/session", Some(caps));
        browser.session =
            value["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {value}")).to_owned();
        browser.cmd("POST", "/timeouts", Some(json!({"script": 120_000, "pageLoad": 120_000})));
        Some(browser)
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

    /// A command on the session: `path` is relative to `/session/{id}`.
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.raw(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    pub fn open_file(&self, path: &Path) {
        self.goto(&format!("file://{}", path.display()));
    }

    /// Runs a synchronous script (`return ...`) and returns its value.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({"script": script, "args": args})))
    }

    /// Waits until the script returns a truthy value.
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

    pub fn wait_ready(&self) {
        let state = self.wait_for(
            "the report to be ready",
            "return document.documentElement.dataset.ready",
            Duration::from_secs(60),
        );
        assert_eq!(state, json!("1"), "report failed to render: {}", self.text("#rr-main"));
    }

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

    pub fn send_keys(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/value"), Some(json!({"text": text})));
    }

    pub fn text(&self, css: &str) -> String {
        self.js("var e = document.querySelector(arguments[0]); return e ? e.textContent : null", json!([css]))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn count(&self, css: &str) -> u64 {
        self.js("return document.querySelectorAll(arguments[0]).length", json!([css])).as_u64().unwrap()
    }

    pub fn hash(&self) -> String {
        self.js("return location.hash", json!([])).as_str().unwrap_or_default().to_owned()
    }

    pub fn set_window_size(&self, width: u32, height: u32) {
        self.cmd("POST", "/window/rect", Some(json!({"width": width, "height": height})));
    }

    /// Saves a PNG screenshot of the viewport.
    pub fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let data = self.cmd("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap()).unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }

    /// Browser console entries since the last call (level, message).
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

    /// Console entries at error level (SEVERE).
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
