//! The commands the README documents exist: every flag of every `cargo rampart-report ...` and
//! `cargo nextest run ...` in its code blocks is in the command's `--help`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::scrubbed;

const REPORT: &str = "cargo rampart-report";
const NEXTEST: &str = "cargo nextest run";

/// The lines inside fenced code blocks.
fn code_blocks(markdown: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = &mut current {
            block.push(line);
        }
    }
    blocks
}

/// Every invocation of `command` in the code blocks, with YAML continuation lines (folded
/// scalars: following lines that start with `--`) joined, and shell comments removed.
fn invocations(markdown: &str, command: &str) -> Vec<String> {
    let mut found = Vec::new();
    for block in code_blocks(markdown) {
        for (idx, line) in block.iter().enumerate() {
            let Some(start) = line.find(command) else { continue };
            let mut text = line[start..].to_owned();
            for next in &block[idx + 1..] {
                if !next.trim_start().starts_with("--") {
                    break;
                }
                text.push(' ');
                text.push_str(next.trim());
            }
            if let Some(comment) = text.find(" #") {
                text.truncate(comment);
            }
            found.push(text);
        }
    }
    found
}

/// The long flags in an invocation (`--name`, without any `=value`).
fn flags(invocation: &str) -> Vec<String> {
    invocation
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ';' | '"' | '\'' | '|'))
        .filter(|t| t.starts_with("--") && t[2..].starts_with(|c: char| c.is_ascii_lowercase()))
        .map(|t| t.split('=').next().unwrap().to_owned())
        .collect()
}

fn help(program: &Path, args: &[&str]) -> String {
    let output = scrubbed(program).args(args).output().unwrap();
    assert!(output.status.success(), "{program:?} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn check(command: &str, help_text: &str, min_invocations: usize, must_use: &[&str]) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let found = invocations(&readme, command);
    assert!(found.len() >= min_invocations, "only {} `{command}` commands found: {found:#?}", found.len());
    let mut used = BTreeSet::new();
    for invocation in &found {
        for flag in flags(invocation) {
            assert!(
                help_text.contains(&format!("{flag} ")) || help_text.contains(&format!("{flag}\n")),
                "the README uses `{flag}` in `{invocation}`, but `{command} --help` has no such flag"
            );
            used.insert(flag);
        }
    }
    for flag in must_use {
        assert!(used.contains(*flag), "no README command uses {flag}: {used:?}");
    }
}

#[test]
fn readme_report_commands_use_existing_flags() {
    let help_text =
        help(Path::new(env!("CARGO_BIN_EXE_cargo-rampart-report")), &["rampart-report", "--help"]);
    check(REPORT, &help_text, 5, &["--junit", "--results", "--out"]);
}

#[test]
fn readme_nextest_commands_use_existing_flags() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let help_text = help(Path::new(&cargo), &["nextest", "run", "--help"]);
    check(NEXTEST, &help_text, 4, &["--profile", "--partition"]);
}

#[test]
fn flag_extraction() {
    assert_eq!(flags("cargo nextest run --profile ci --partition hash:1/3"), ["--profile", "--partition"]);
    assert_eq!(
        flags(r#"cargo rampart-report $(for f in p/*.xml; do echo --junit "$f"; done) --format=json"#),
        ["--junit", "--format"]
    );
    let markdown = "```yaml\nrun: >\n  cargo rampart-report\n  --junit a.xml\n  --out o\n- next\n```\n";
    assert_eq!(invocations(markdown, REPORT), ["cargo rampart-report --junit a.xml --out o"]);
    assert_eq!(
        invocations("```sh\ncargo rampart-report   # --bogus\n```", REPORT),
        ["cargo rampart-report  "]
    );
}

/// `--help` names every `--format` value and every file the README says the report writes, and
/// carries no stale text; each default is printed once.
#[test]
fn help_names_every_format_and_every_documented_file() {
    let help_text =
        help(Path::new(env!("CARGO_BIN_EXE_cargo-rampart-report")), &["rampart-report", "--help"]);
    for format in ["terminal", "json", "markdown", "junit", "html"] {
        assert!(help_text.contains(&format!("- {format}:")), "--help does not describe --format {format}");
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let table = &readme[readme.find("### What the report writes").expect("the README's table of files")..];
    let table = &table[..table[4..].find("\n#").map_or(table.len(), |i| i + 4)];
    let mut files = Vec::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let name = row[3..].split('`').next().unwrap();
        files.push(name.to_owned());
        if name != ".rampart-report" {
            assert!(help_text.contains(name), "--help does not mention {name}, which the README lists");
        }
    }
    assert!(files.len() >= 4, "{files:?}");
    for stale in ["not built yet", "accepted and skipped"] {
        assert!(!help_text.contains(stale), "stale text in --help: {stale}");
    }
    for line in help_text.lines() {
        assert!(line.matches("[default:").count() <= 1, "a default printed twice: {line}");
    }
    let defaults = help_text.matches("[default: 16MiB]").count();
    assert_eq!(defaults, 1, "{help_text}");
}
