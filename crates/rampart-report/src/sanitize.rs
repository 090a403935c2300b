//! Cleaning recorded text before it reaches a terminal: agent responses and evaluator text are
//! attacker-controlled, so escape sequences must not reach the user's terminal.

/// Removes ANSI/ECMA-48 escape sequences and control characters, keeping tab and newline.
pub fn clean_text(text: &str) -> String {
    // Printable ASCII, tabs and newlines (nearly every name, message and captured line) hold
    // nothing to strip.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t') {
        return text.to_owned();
    }
    clean_text_slow(text)
}

/// [`clean_text`] without its fast path.
fn clean_text_slow(text: &str) -> String {
    // strip-ansi-escapes also drops tabs: strip each tab-separated piece.
    let stripped: Vec<String> = text.split('\t').map(strip_ansi_escapes::strip_str).collect();
    stripped
        .join("\t")
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !(c.is_control() || is_bidi_control(c) || is_bidi_mark(c)))
        .collect()
}

/// [`clean_text`], then newlines and tabs become spaces: for one-line summaries.
pub fn clean_line(text: &str) -> String {
    clean_text(text).chars().map(|c| if c == '\n' || c == '\t' { ' ' } else { c }).collect()
}

/// Keeps at most the last `max_bytes` bytes of `text` (on a char boundary), with a leading
/// `[N bytes truncated]` line when something was cut. A text already cut this way is cut
/// again with the counts added up.
pub fn tail(text: &str, max_bytes: usize) -> String {
    let (already, body) = match text.strip_prefix('[').and_then(|t| t.split_once(" bytes truncated]\n")) {
        Some((n, body)) if n.bytes().all(|b| b.is_ascii_digit()) => (n.parse::<usize>().unwrap_or(0), body),
        _ => (0, text),
    };
    if body.len() <= max_bytes {
        return text.to_owned();
    }
    let mut start = body.len() - max_bytes;
    while !body.is_char_boundary(start) {
        start += 1;
    }
    format!("[{} bytes truncated]\n{}", already + start, &body[start..])
}

/// `text` with every control character and escape sequence made visible and inert (`ESC`
/// becomes `\x1b`, a bare CR `\r`, a newline `\n`), and bidirectional controls and marks
/// removed: for diagnostics, which quote their input and must show it without letting it act
/// on the terminal.
pub fn visible(text: &str) -> String {
    inert(text, false)
}

/// [`visible`], but newlines and tabs are kept: for multi-line text in a file format (a JUnit
/// description) that must hold no control character a viewer could act on.
pub fn inert_text(text: &str) -> String {
    inert(text, true)
}

fn inert(text: &str, keep_lines: bool) -> String {
    if !text.chars().any(|c| c.is_control() || is_bidi_control(c) || is_bidi_mark(c)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' if keep_lines => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            c if is_bidi_control(c) || is_bidi_mark(c) => {}
            c if c.is_control() => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{code:x}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Bidirectional marks: invisible, and they reorder neighbouring text.
fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Unicode bidirectional overrides can reorder what a terminal shows (trojan-source style).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_changes_nothing_the_slow_path_would_keep() {
        proptest::proptest!(|(text in "[ -~\t\n]*")| {
            proptest::prop_assert_eq!(clean_text(&text), clean_text_slow(&text));
        });
    }

    #[test]
    fn strips_escapes_and_controls() {
        assert_eq!(clean_text("ansi \x1b[31mred\x1b[0m text"), "ansi red text");
        assert_eq!(clean_text("osc \x1b]0;title\x07 after"), "osc  after");
        assert_eq!(clean_text("nul \0 bell \x07 del \x7f c1 \u{9b}31m"), "nul  bell  del  c1 31m");
        assert_eq!(clean_text("keep\ttab\nnewline"), "keep\ttab\nnewline");
        assert_eq!(clean_text("cr\rreturn"), "crreturn");
        assert_eq!(clean_text("bidi \u{202E}evil\u{202C}"), "bidi evil");
        assert_eq!(clean_line("two\nlines\tand tab"), "two lines and tab");
        assert_eq!(clean_text("marks \u{200E}\u{200F}\u{061C}gone"), "marks gone");
    }

    #[test]
    fn visible_makes_controls_inert_and_keeps_text() {
        assert_eq!(visible("osc52 \x1b]52;c;ZXZpbA==\x07 end"), "osc52 \\x1b]52;c;ZXZpbA==\\x07 end");
        assert_eq!(visible("clear\x1b[2J bare\rcr and\nline"), "clear\\x1b[2J bare\\rcr and\\nline");
        assert_eq!(visible("c1 \u{9b}31m bidi \u{202E}x\u{200F}y"), "c1 \\x9b31m bidi xy");
        assert_eq!(visible("plain {\"json\": 1}"), "plain {\"json\": 1}");
        assert!(!visible("\x1b\r\x07\u{9b}").chars().any(|c| c.is_control()));
        assert_eq!(inert_text("two\nlines\tkept \x1b[2J\u{7f}"), "two\nlines\tkept \\x1b[2J\\x7f");
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail("short", 10), "short");
        assert_eq!(tail("0123456789", 4), "[6 bytes truncated]\n6789");
        assert_eq!(tail(&tail("0123456789", 6), 4), "[6 bytes truncated]\n6789", "counts add up");
        // Never splits a char.
        let t = tail("ééé", 3);
        assert!(t.ends_with("é"), "{t}");
    }
}
