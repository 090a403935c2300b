//! A non-recursive probe of one sidecar line: the few fields a reader must never lose (the
//! line's `kind`, the result's `index`, `recorded_at`, and its `status`, `summary`,
//! `harm_category`, `observability_level`, `strategy`), found without deserializing anything
//! else. It reads lines that a full parse refuses: too large, nested deeper than any parser's
//! recursion limit, or malformed after the fields it needs. Nested values are skipped by
//! counting brackets (strings respected), so it takes linear time and constant stack on any
//! input.

/// Longest string the probe keeps (longer ones are cut, on a char boundary).
pub(crate) const MAX_PROBED_STRING_BYTES: usize = 4096;

/// What the probe found; every field is `None` when it was not found before the line ended or
/// broke.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LineProbe {
    pub kind: Option<String>,
    pub index: Option<u32>,
    pub recorded_at: Option<String>,
    pub status: Option<String>,
    pub summary: Option<String>,
    pub harm_category: Option<String>,
    pub observability_level: Option<String>,
    pub strategy: Option<String>,
}

struct Scanner<'b> {
    bytes: &'b [u8],
    pos: usize,
}

impl<'b> Scanner<'b> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Moves past the string starting at `pos` (which must be `"`); its raw bytes (without
    /// the quotes) and whether it holds escapes, or `None` when it does not close.
    fn skip_string(&mut self) -> Option<(&'b [u8], bool)> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                b'"' => {
                    self.pos = i + 1;
                    return Some((&self.bytes[start..i], escaped));
                }
                _ => i += 1,
            }
        }
        None
    }

    /// A string, decoded and cut to [`MAX_PROBED_STRING_BYTES`]; `None` when it is not one or
    /// does not close.
    fn string(&mut self) -> Option<String> {
        self.skip_ws();
        let (raw, escaped) = self.skip_string()?;
        let text = if escaped && raw.len() <= 16 * MAX_PROBED_STRING_BYTES {
            let mut quoted = Vec::with_capacity(raw.len() + 2);
            quoted.push(b'"');
            quoted.extend_from_slice(raw);
            quoted.push(b'"');
            serde_json::from_slice::<String>(&quoted)
                .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
        } else {
            let end = raw.len().min(2 * MAX_PROBED_STRING_BYTES);
            String::from_utf8_lossy(&raw[..end]).into_owned()
        };
        Some(cut(text))
    }

    /// Skips any JSON value without recursion; `false` when the line ends inside it.
    fn skip_value(&mut self) -> bool {
        self.skip_ws();
        match self.bytes.get(self.pos) {
            None => false,
            Some(b'"') => self.skip_string().is_some(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(&b) = self.bytes.get(self.pos) {
                    match b {
                        b'"' => {
                            if self.skip_string().is_none() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                self.pos += 1;
                                return true;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
                false
            }
            Some(_) => self.scalar().is_some(),
        }
    }

    /// A scalar token (number, `true`...) as text.
    fn scalar(&mut self) -> Option<&str> {
        self.skip_ws();
        let start = self.pos;
        while let Some(&c) = self.bytes.get(self.pos) {
            if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                break;
            }
            self.pos += 1;
        }
        std::str::from_utf8(&self.bytes[start..self.pos]).ok()
    }

    /// Visits the members of the object at `pos`, calling `member` with each key; `member`
    /// consumes the value (or the scanner skips it when it returns `false`). Stops quietly
    /// where the line breaks.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &str) -> bool) {
        if !self.eat(b'{') {
            return;
        }
        loop {
            if self.eat(b'}') {
                return;
            }
            let Some(key) = self.string() else { return };
            if !self.eat(b':') {
                return;
            }
            let consumed = member(self, &key);
            if !consumed && !self.skip_value() {
                return;
            }
            if !self.eat(b',') {
                return;
            }
        }
    }
}

fn cut(mut text: String) -> String {
    if text.len() > MAX_PROBED_STRING_BYTES {
        let mut end = MAX_PROBED_STRING_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Probes one line (see the [module docs](self)).
pub(crate) fn probe_line(bytes: &[u8]) -> LineProbe {
    let mut probe = LineProbe::default();
    let mut scanner = Scanner { bytes, pos: 0 };
    scanner.object(|s, key| match key {
        "kind" => {
            probe.kind = s.string();
            true
        }
        "index" => {
            probe.index = s.scalar().and_then(|t| t.parse().ok());
            true
        }
        "recorded_at" => {
            probe.recorded_at = s.string();
            true
        }
        "result" => {
            s.object(|s, key| {
                let slot = match key {
                    "status" => &mut probe.status,
                    "summary" => &mut probe.summary,
                    "harm_category" => &mut probe.harm_category,
                    "observability_level" => &mut probe.observability_level,
                    "strategy" => &mut probe.strategy,
                    _ => return false,
                };
                *slot = s.string();
                true
            });
            // The result object is consumed (or the line broke inside it).
            s.eat(b'}');
            true
        }
        _ => false,
    });
    probe
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn finds_the_fields_past_anything_nested_or_large() {
        let line = format!(
            r#"{{"kind":"result","index":3,"recorded_at":"2026-01-01T00:00:00.000Z","result":{{"metadata":{{"deep":{}}},"turns":[{{"response":{{"text":"{}"}}}}],"status":"unsafe","summary":"leaked \"it\"","harm_category":"jailbreak","observability_level":"tool_only"}}}}"#,
            nested(100_000),
            "x".repeat(1 << 20)
        );
        let probe = probe_line(line.as_bytes());
        assert_eq!(probe.kind.as_deref(), Some("result"));
        assert_eq!(probe.index, Some(3));
        assert_eq!(probe.status.as_deref(), Some("unsafe"));
        assert_eq!(probe.summary.as_deref(), Some("leaked \"it\""));
        assert_eq!(probe.harm_category.as_deref(), Some("jailbreak"));
        assert_eq!(probe.observability_level.as_deref(), Some("tool_only"));
    }

    #[test]
    fn a_line_broken_after_the_status_still_gives_it() {
        let probe = probe_line(
            br#"{"kind":"result","index":0,"result":{"status":"unsafe","summary":"s","metadata":{"a": oops"#,
        );
        assert_eq!(probe.status.as_deref(), Some("unsafe"));
        let probe = probe_line(br#"{"kind":"result","index":0,"result":{"metadata":{"a":[1,2,"#);
        assert_eq!(probe.status, None);
        assert_eq!(probe.kind.as_deref(), Some("result"));
    }

    #[test]
    fn nested_keys_named_status_are_not_the_status() {
        let probe = probe_line(
            br#"{"kind":"result","result":{"metadata":{"status":"safe","result":{"status":"safe"}},"status":"unsafe"}}"#,
        );
        assert_eq!(probe.status.as_deref(), Some("unsafe"));
    }

    #[test]
    fn long_strings_are_cut_and_garbage_gives_nothing() {
        let line = format!(r#"{{"kind":"result","result":{{"summary":"{}"}}}}"#, "é".repeat(10_000));
        let summary = probe_line(line.as_bytes()).summary.unwrap();
        assert!(summary.len() <= MAX_PROBED_STRING_BYTES + 3 && summary.ends_with('…'));
        assert_eq!(probe_line(b"\xff\xfe not json at all"), LineProbe::default());
        assert_eq!(probe_line(b""), LineProbe::default());
        assert_eq!(probe_line(b"{\"kind\":"), LineProbe::default());
    }
}
