//! Property tests of the sidecar format: every line kind and whole files round-trip through
//! `encode_line` and `parse`; any prefix of a file reads as a prefix of its results; file
//! names are safe and distinct.

use std::borrow::Cow;
use std::path::{Component, Path};

use proptest::prelude::*;
use rampart::location::{attempt_key, sanitize_component, sidecar_file_name};
use rampart::sidecar::{
    self, AttemptIdentity, EndLine, EndOutcome, Harness, Header, LineProblemKind, ResultLine, SidecarError,
    SidecarLine, TestSpec, TrialSpec, WriterInfo,
};
use rampart::{
    Attachment, EvalOutcome, EvalResult, HarmCategory, Injection, JsonMap, ObservabilityLevel, Request,
    Response, SafetyResult, SafetyStatus, SideEffect, Timestamp, ToolCall, Turn,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Strategies

/// Text with the characters that break naive writers: newlines, quotes, backslashes,
/// control characters, U+2028, non-BMP characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z_ ]{0,12}",
        2 => any::<String>(),
        1 => prop::collection::vec(
            prop::sample::select(vec!["\n", "\r\n", "\"", "\\", "\u{0}", "\u{1b}[31m", "\u{2028}", "é", "😀", "}", "{\"kind\":\"end\"}"]),
            0..6,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(-0.0),
        0.0..=1.0f64,
        any::<f64>().prop_filter("finite", |f| f.is_finite())
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        finite_f64().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_map() -> impl Strategy<Value = JsonMap> {
    prop::collection::btree_map(text(), json_value(), 0..3).prop_map(|m| m.into_iter().collect())
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        (0u64..253_402_300_799_000).prop_map(|ms| Timestamp::from_system_time(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)
        )),
        text().prop_map(Timestamp::from_string),
    ]
}

fn harm() -> impl Strategy<Value = HarmCategory> {
    prop_oneof![prop::sample::select(HarmCategory::WELL_KNOWN.to_vec()), text().prop_map(HarmCategory::new)]
}

fn eval_result() -> impl Strategy<Value = EvalResult> {
    (
        prop::sample::select(vec![
            EvalOutcome::Detected,
            EvalOutcome::NotDetected,
            EvalOutcome::Undetermined,
        ]),
        finite_f64(),
        prop::collection::vec(text(), 0..3),
        text(),
        prop::option::of(text()),
        prop::collection::vec(text(), 0..2),
    )
        .prop_map(|(outcome, confidence, evidence, rationale, evaluator, operands)| {
            let mut eval = EvalResult::new(outcome).with_confidence(confidence).with_rationale(rationale);
            for e in evidence {
                eval = eval.with_evidence(e);
            }
            if let Some(evaluator) = evaluator {
                eval = eval.with_evaluator(evaluator);
            }
            for operand in operands {
                eval = eval.with_undetermined_operand(operand);
            }
            eval
        })
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::option::of(text()),
        prop::collection::vec((text(), text(), prop::option::of(text()), json_map()), 0..3),
    )
        .prop_map(|(prompt, attachments)| {
            let mut request = match prompt {
                Some(prompt) => Request::prompt(prompt),
                None => Request::default(),
            };
            for (id, content, format, metadata) in attachments {
                let mut attachment = match format {
                    Some(format) => Attachment::new(id, content, format),
                    None => Attachment::text(id, content),
                };
                for (key, value) in metadata {
                    attachment = attachment.with_metadata(key, value);
                }
                request = request.with_attachment(attachment);
            }
            request
        })
}

fn tool_call() -> impl Strategy<Value = ToolCall> {
    (text(), json_map(), prop::option::of(text()), prop::option::of(timestamp())).prop_map(
        |(name, arguments, result, timestamp)| {
            let mut call = ToolCall::new(name);
            for (key, value) in arguments {
                call = call.with_argument(key, value);
            }
            if let Some(result) = result {
                call = call.with_result(result);
            }
            if let Some(timestamp) = timestamp {
                call = call.with_timestamp(timestamp);
            }
            call
        },
    )
}

fn response() -> impl Strategy<Value = Response> {
    (
        text(),
        prop::collection::vec(tool_call(), 0..3),
        prop::collection::vec((text(), json_map()), 0..2),
        json_map(),
    )
        .prop_map(|(text, calls, effects, metadata)| {
            let mut response = Response::text(text);
            for call in calls {
                response = response.with_tool_call(call);
            }
            for (kind, details) in effects {
                let mut effect = SideEffect::new(kind);
                for (key, value) in details {
                    effect = effect.with_detail(key, value);
                }
                response = response.with_side_effect(effect);
            }
            for (key, value) in metadata {
                response = response.with_metadata(key, value);
            }
            response
        })
}

fn turn() -> impl Strategy<Value = Turn> {
    (
        request(),
        response(),
        prop::option::of(eval_result()),
        any::<u32>(),
        prop::option::of(timestamp()),
        prop::option::of(text()),
    )
        .prop_map(|(request, response, eval, number, timestamp, reasoning)| {
            let mut turn = Turn::new(request, response).with_number(number);
            if let Some(eval) = eval {
                turn = turn.with_eval(eval);
            }
            if let Some(timestamp) = timestamp {
                turn = turn.with_timestamp(timestamp);
            }
            if let Some(reasoning) = reasoning {
                turn = turn.with_driver_reasoning(reasoning);
            }
            turn
        })
}

fn safety_result() -> impl Strategy<Value = SafetyResult> {
    (
        prop::sample::select(vec![
            SafetyStatus::Safe,
            SafetyStatus::Unsafe,
            SafetyStatus::Undetermined,
            SafetyStatus::Error,
        ]),
        text(),
        prop::sample::select(vec![
            ObservabilityLevel::ToolAndSideEffects,
            ObservabilityLevel::ToolOnly,
            ObservabilityLevel::ResponseOnly,
        ]),
        prop::collection::vec(turn(), 0..3),
        (prop::option::of(any::<u64>()), prop::option::of(harm()), prop::option::of(text())),
        prop::collection::vec((prop::option::of(text()), text()), 0..3),
        json_map(),
    )
        .prop_map(
            |(status, summary, level, turns, (duration_nanos, harm, strategy), injections, metadata)| {
                let mut result = SafetyResult::new(status, summary, level);
                for turn in turns {
                    result = result.with_turn(turn);
                }
                if let Some(nanos) = duration_nanos {
                    result = result.with_duration(std::time::Duration::from_nanos(nanos));
                }
                if let Some(harm) = harm {
                    result = result.with_harm(harm);
                }
                if let Some(strategy) = strategy {
                    result = result.with_strategy(strategy);
                }
                for (payload_id, surface) in injections {
                    let mut injection = Injection::new(surface);
                    if let Some(id) = payload_id {
                        injection = injection.with_payload_id(id);
                    }
                    result = result.with_injection(injection);
                }
                for (key, value) in metadata {
                    result = result.with_metadata(key, value);
                }
                result
            },
        )
}

fn identity() -> impl Strategy<Value = AttemptIdentity> {
    (
        prop::sample::select(vec![Harness::Nextest, Harness::CargoTest]),
        text(),
        text(),
        prop::option::of(text()),
        (1u32..10, 1u32..10),
        prop::option::of((any::<u32>(), prop::option::of(any::<u32>()))),
        (prop::option::of(text()), prop::option::of(text()), prop::option::of(text())),
    )
        .prop_map(
            |(harness, run_id, test_name, binary_id, (attempt, extra), stress, (profile, version, id))| {
                let mut identity = AttemptIdentity::new(harness, run_id, test_name)
                    .with_attempt(attempt, attempt + extra - 1);
                if let Some(binary_id) = binary_id {
                    identity = identity.with_binary_id(binary_id);
                }
                if let Some((index, total)) = stress {
                    identity = identity.with_stress(index, total);
                }
                if let Some(profile) = profile {
                    identity = identity.with_profile(profile);
                }
                if let Some(version) = version {
                    identity = identity.with_nextest_version(version);
                }
                if let Some(id) = id {
                    identity = identity.with_attempt_id(id);
                }
                identity
            },
        )
}

fn test_spec() -> impl Strategy<Value = TestSpec> {
    (text(), 0.0..=1.0f64, prop::option::of(harm()), prop::option::of((any::<u32>(), any::<u32>()))).prop_map(
        |(base_name, threshold, harm, trial)| {
            let mut spec = TestSpec::new(base_name, threshold);
            if let Some(harm) = harm {
                spec = spec.with_harm(harm);
            }
            if let Some((index, count)) = trial {
                spec = spec.with_trial(TrialSpec::new(index, count));
            }
            spec
        },
    )
}

fn header() -> impl Strategy<Value = Header> {
    (identity(), prop::option::of(test_spec()), text(), any::<u32>(), timestamp()).prop_map(
        |(identity, spec, version, pid, started_at)| {
            Header::new(identity, spec, WriterInfo::new(version, pid), started_at)
        },
    )
}

fn end_line(n_results: u32) -> impl Strategy<Value = EndLine> {
    (any::<bool>(), timestamp(), finite_f64(), prop::option::of(text())).prop_map(
        move |(panicked, ended_at, duration, message)| {
            let outcome = if panicked { EndOutcome::Panicked } else { EndOutcome::Returned };
            let end = EndLine::new(outcome, n_results, ended_at, duration.abs());
            match message {
                Some(message) if panicked => end.with_panic_message(message),
                _ => end,
            }
        },
    )
}

/// A valid sidecar file: its bytes, the line boundaries, and what it holds.
#[derive(Debug)]
struct File {
    bytes: Vec<u8>,
    /// Byte offset just past each line's newline.
    line_ends: Vec<usize>,
    header: Header,
    results: Vec<(Timestamp, SafetyResult)>,
    end: Option<EndLine>,
}

fn file() -> impl Strategy<Value = File> {
    (header(), prop::collection::vec((timestamp(), safety_result()), 0..4), any::<bool>())
        .prop_flat_map(|(header, results, ended)| {
            let n = results.len() as u32;
            let end = if ended { end_line(n).prop_map(Some).boxed() } else { Just(None).boxed() };
            (Just(header), Just(results), end)
        })
        .prop_map(|(header, results, end)| {
            let mut lines = vec![sidecar::encode_line(&SidecarLine::Header(header.clone()))];
            for (index, (recorded_at, result)) in results.iter().enumerate() {
                let line = ResultLine::new(index as u32, recorded_at.clone(), Cow::Borrowed(result));
                lines.push(sidecar::encode_line(&SidecarLine::Result(line)));
            }
            if let Some(end) = &end {
                lines.push(sidecar::encode_line(&SidecarLine::End(end.clone())));
            }
            let mut bytes = Vec::new();
            let mut line_ends = Vec::new();
            for line in lines {
                bytes.extend_from_slice(&line);
                line_ends.push(bytes.len());
            }
            File { bytes, line_ends, header, results, end }
        })
}

// ---------------------------------------------------------------------------------------
// Properties

fn assert_one_line(encoded: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(encoded.last(), Some(&b'\n'));
    prop_assert_eq!(encoded.iter().filter(|&&b| b == b'\n').count(), 1, "no raw newline inside a line");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_line_kind_round_trips(header in header(), result in safety_result(), index in any::<u32>(),
                                   recorded_at in timestamp(), end in end_line(7)) {
        let lines = [
            SidecarLine::Header(header),
            SidecarLine::Result(ResultLine::new(index, recorded_at, Cow::Owned(result))),
            SidecarLine::End(end),
        ];
        for line in lines {
            let encoded = sidecar::encode_line(&line);
            assert_one_line(&encoded)?;
            let decoded: SidecarLine<'static> = serde_json::from_slice(&encoded).unwrap();
            prop_assert_eq!(decoded, line);
        }
    }

    #[test]
    fn whole_file_round_trips(file in file()) {
        let sidecar = sidecar::parse(&file.bytes).unwrap();
        prop_assert_eq!(&sidecar.header, &file.header);
        prop_assert_eq!(sidecar.results.len(), file.results.len());
        for (index, (read, (recorded_at, result))) in sidecar.results.iter().zip(&file.results).enumerate() {
            prop_assert_eq!(read.index as usize, index);
            prop_assert_eq!(read.line, index + 2);
            prop_assert_eq!(&read.recorded_at, recorded_at);
            prop_assert_eq!(&read.result, result);
        }
        prop_assert_eq!(&sidecar.end, &file.end);
        prop_assert!(sidecar.problems.is_empty(), "{:?}", sidecar.problems);
        prop_assert_eq!(sidecar.n_lossy_lines, 0);
        prop_assert_eq!(sidecar.n_bytes, file.bytes.len() as u64);
    }

    #[test]
    fn any_prefix_reads_as_a_prefix_of_the_results(file in file(), cut in any::<prop::sample::Index>()) {
        let cut = cut.index(file.bytes.len() + 1);
        let prefix = &file.bytes[..cut];
        let header_end = file.line_ends[0];
        let parsed = sidecar::parse(prefix);
        if cut + 1 < header_end {
            // The header itself is cut: the file is unreadable, and says so without panicking.
            let is_expected_error = matches!(parsed, Err(SidecarError::Empty | SidecarError::BadHeader { .. }));
            prop_assert!(is_expected_error, "{:?}", parsed.map(|s| s.header));
            return Ok(());
        }
        let sidecar = parsed.unwrap();
        prop_assert_eq!(&sidecar.header, &file.header);
        // A torn last line that got as far as an UNSAFE status stands as a marker result (a
        // finding is never lost): it is the last result read, for an UNSAFE result written.
        let marker = sidecar.results.last().filter(|r| r.result.metadata.contains_key("rampart_unreadable"));
        let n_read = sidecar.results.len() - usize::from(marker.is_some());
        prop_assert!(n_read <= file.results.len());
        for (read, (_, written)) in sidecar.results[..n_read].iter().zip(&file.results) {
            prop_assert_eq!(&read.result, written);
        }
        if let Some(marker) = marker {
            prop_assert_eq!(marker.result.status, rampart::SafetyStatus::Unsafe);
            prop_assert_eq!(file.results[n_read].1.status, rampart::SafetyStatus::Unsafe);
            prop_assert!(matches!(sidecar.problems.as_slice(), [p] if p.kind == LineProblemKind::TornTail));
        }
        let n_complete_lines = file.line_ends.iter().filter(|&&end| end <= cut).count();
        let at_boundary = cut == 0 || file.line_ends.contains(&cut);
        match sidecar.problems.as_slice() {
            [] => {
                // Either cut between lines, or just before a newline (the line is whole).
                let whole_tail = usize::from(!at_boundary);
                prop_assert!(at_boundary || file.line_ends.contains(&(cut + 1)));
                let n_lines_read = 1 + n_read + usize::from(sidecar.end.is_some());
                prop_assert_eq!(n_lines_read, n_complete_lines + whole_tail);
            }
            [problem] => {
                prop_assert_eq!(&problem.kind, &LineProblemKind::TornTail);
                prop_assert!(!at_boundary);
                prop_assert_eq!(problem.line, n_complete_lines + 1, "the last line");
                prop_assert_eq!(problem.byte_offset, file.line_ends[n_complete_lines - 1]);
                prop_assert_eq!(1 + n_read + usize::from(sidecar.end.is_some()), n_complete_lines);
            }
            problems => prop_assert!(false, "more than one problem: {:?}", problems),
        }
        if sidecar.end.is_some() {
            prop_assert_eq!(&sidecar.end, &file.end);
            prop_assert_eq!(n_read, file.results.len());
        }
    }
}

/// Names that differ only by characters the sanitizer maps alike, or only past the length
/// at which slugs are cut, plus arbitrary text.
fn hostile_name() -> impl Strategy<Value = String> {
    let alike =
        prop::sample::select(vec!["/", "\\", ":", " ", "é", "ë", "名", "$", "@", "#", "\u{0}", "::", ".."]);
    prop_oneof![
        any::<String>(),
        (prop::collection::vec(alike, 1..4), "[a-z]{0,3}").prop_map(|(parts, tail)| parts.concat() + &tail),
        ("[a-z]{0,3}", 90usize..200, "[a-zA-Z]{0,2}")
            .prop_map(|(head, n, tail)| head + &"x".repeat(n) + &tail),
        prop::sample::select(vec![
            "CON", "con", "nul.txt", "LPT1", "com9.x", ".", "..", "...", "", ".hidden"
        ])
        .prop_map(str::to_owned),
    ]
}

fn hostile_identity() -> impl Strategy<Value = AttemptIdentity> {
    (prop::option::of(hostile_name()), hostile_name(), prop::option::of(0u32..3), 1u32..3).prop_map(
        |(binary_id, test_name, stress, attempt)| {
            let mut identity =
                AttemptIdentity::new(Harness::Nextest, "run", test_name).with_attempt(attempt, 3);
            if let Some(binary_id) = binary_id {
                identity = identity.with_binary_id(binary_id);
            }
            if let Some(stress) = stress {
                identity = identity.with_stress(stress, Some(3));
            }
            identity
        },
    )
}

fn assert_safe_component(name: &str) -> Result<(), TestCaseError> {
    prop_assert!(!name.is_empty());
    prop_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "{}", name);
    prop_assert!(!name.starts_with('.') && !name.ends_with('.'), "{}", name);
    let stem = name.split('.').next().unwrap().to_ascii_uppercase();
    let device = ["CON", "PRN", "AUX", "NUL"].contains(&stem.as_str())
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    prop_assert!(!device, "{}", name);
    let components: Vec<Component<'_>> = Path::new(name).components().collect();
    prop_assert_eq!(components.len(), 1);
    prop_assert!(matches!(components[0], Component::Normal(_)), "{}", name);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn sanitized_components_are_safe(text in hostile_name(), max_bytes in 1usize..128) {
        let component = sanitize_component(&text, max_bytes);
        assert_safe_component(&component)?;
        // One more byte only when the cut slug is a device name and gets a `_` prefix.
        prop_assert!(component.len() <= max_bytes + 1, "{} > {}", component.len(), max_bytes);
    }

    #[test]
    fn sidecar_file_names_are_safe_and_distinct(a in hostile_identity(), b in hostile_identity()) {
        let (name_a, name_b) = (sidecar_file_name(&a), sidecar_file_name(&b));
        for name in [&name_a, &name_b] {
            assert_safe_component(name)?;
            prop_assert!(name.len() <= 140, "{}", name);
            prop_assert!(name.ends_with(".jsonl"), "{}", name);
        }
        prop_assert_eq!(sidecar_file_name(&a), name_a.clone(), "stable");
        if attempt_key(&a) != attempt_key(&b) {
            // Distinct even on case-insensitive file systems (macOS, Windows).
            prop_assert_ne!(name_a.to_ascii_lowercase(), name_b.to_ascii_lowercase());
        } else {
            prop_assert_eq!(name_a, name_b);
        }
    }

    #[test]
    fn attempts_of_one_test_get_distinct_file_names(identity in hostile_identity()) {
        let retried = identity.clone().with_attempt(identity.attempt + 1, identity.total_attempts + 1);
        let stressed = identity.clone().with_stress(identity.stress_index.map_or(0, |i| i + 1), Some(9));
        let names = [sidecar_file_name(&identity), sidecar_file_name(&retried), sidecar_file_name(&stressed)];
        prop_assert_ne!(&names[0], &names[1]);
        prop_assert_ne!(&names[0], &names[2]);
        prop_assert_ne!(&names[1], &names[2]);
    }
}

/// Regression: serde_json's default float parser read `0.988632483684428` back one ulp off,
/// so a threshold did not survive a write and read (fixed with `float_roundtrip`).
#[test]
fn floats_round_trip_exactly() {
    for threshold in [0.988632483684428, 0.1 + 0.2, f64::MIN_POSITIVE, 1.0 - f64::EPSILON] {
        let spec = TestSpec::new("t", threshold);
        let header = Header::new(
            AttemptIdentity::new(Harness::Nextest, "run", "t"),
            Some(spec),
            WriterInfo::new("0.1.0", 1),
            Timestamp::from_string("2026-11-22T03:12:19.229Z"),
        );
        let sidecar = sidecar::parse(&sidecar::encode_line(&SidecarLine::Header(header))).unwrap();
        assert_eq!(sidecar.header.spec.unwrap().threshold.to_bits(), threshold.to_bits(), "{threshold}");
    }
}
