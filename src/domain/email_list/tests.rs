use super::*;
use proptest::prelude::*;

fn valid(report: &PasteReport) -> Vec<&str> {
    report.valid().map(|(a, _)| a.as_str()).collect()
}

#[test]
fn lines_commas_and_semicolons_all_separate_addresses() {
    let report = parse_paste("ada@example.com\ngrace@example.com, alan@example.com;edsger@example.com\r\n\r\n");
    assert_eq!(valid(&report), ["ada@example.com", "grace@example.com", "alan@example.com", "edsger@example.com"]);
    assert_eq!(report.entries.len(), 4, "blank lines are not entries");
}

#[cfg(feature = "ssr")]
#[test]
fn an_international_domain_in_either_form_is_one_address() {
    let report = parse_paste("user@bücher.example\nUser@XN--BCHER-KVA.example, user@bücher.example");
    assert_eq!(valid(&report), ["user@bücher.example"]);
    assert_eq!((report.valid_count(), report.duplicate_count()), (1, 2));
}

#[test]
fn names_as_pasted_from_a_mail_client_are_kept() {
    let report =
        parse_paste(r#"Ada Lovelace <Ada@Example.com>, "Hopper, Grace" <grace@example.com>; <alan@example.com>"#);
    assert_eq!(valid(&report), ["ada@example.com", "grace@example.com", "alan@example.com"]);
    let names: Vec<Option<&str>> = report.entries.iter().map(|e| e.name.as_deref()).collect();
    assert_eq!(names, [Some("Ada Lovelace"), Some("Hopper, Grace"), None]);
}

#[test]
fn stray_spaces_mixed_case_and_mailto_are_tidied() {
    let report =
        parse_paste("   ADA@EXAMPLE.COM   \n mailto:grace@example.com \n alan@example.com  edsger@example.com");
    assert_eq!(valid(&report), ["ada@example.com", "grace@example.com", "alan@example.com", "edsger@example.com"]);
}

#[test]
fn duplicates_and_typos_are_reported_in_order() {
    let report = parse_paste("ada@example.com\nADA@example.com\nada@example\ngrace at example.com\n<>");
    let outcomes: Vec<&str> = report
        .entries
        .iter()
        .map(|e| match e.outcome {
            PasteOutcome::Valid(_) => "valid",
            PasteOutcome::DuplicateInList(_) => "duplicate",
            PasteOutcome::Invalid(_) => "invalid",
        })
        .collect();
    assert_eq!(outcomes, ["valid", "duplicate", "invalid", "invalid", "invalid"]);
    assert_eq!((report.valid_count(), report.duplicate_count(), report.invalid_count()), (1, 1, 3));
}

#[test]
fn an_unclosed_quote_spoils_only_its_own_line() {
    let report = parse_paste("\"Ada <ada@example.com>, grace@example.com\nalan@example.com");
    assert!(valid(&report).contains(&"alan@example.com"));
}

#[test]
fn invisible_characters_from_spreadsheets_separate_addresses_or_are_named() {
    let report = parse_paste(
        "\u{FEFF}alice@example.com\n\u{200B}bob@example.com\ncarol\u{00A0}@example.com\ndave@example.com\u{200F}\ned@exam\u{00AD}ple.org",
    );
    assert_eq!(valid(&report), ["alice@example.com", "bob@example.com", "dave@example.com"]);
    let reasons: Vec<&str> = report
        .entries
        .iter()
        .filter_map(|e| match &e.outcome {
            PasteOutcome::Invalid(reason) => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "“carol\u{00A0}@example.com” is not a valid email address: it contains an invisible no-break space after ‘carol’.",
            "“ed@exam\u{00AD}ple.org” is not a valid email address: it contains an invisible soft hyphen after ‘ed@exam’.",
        ]
    );
    // Two addresses joined by a zero-width space are two entries.
    assert_eq!(valid(&parse_paste("ann@example.com\u{200B}ben@example.com")), ["ann@example.com", "ben@example.com"]);
}

#[test]
fn a_name_with_text_after_it_or_an_unclosed_bracket_still_gives_the_address() {
    let report = parse_paste(
        "Ada Lovelace <ada@example.com> (Finance)\n<grace@example.com> Grace\nAlan Turing <alan@example.com",
    );
    assert_eq!(valid(&report), ["ada@example.com", "grace@example.com", "alan@example.com"]);
    let empty = parse_paste("Ada <>");
    assert_eq!(empty.entries[0].outcome, PasteOutcome::Invalid("“Ada <>” holds no address.".into()));
}

#[test]
fn a_reason_quotes_the_whole_entry_as_pasted() {
    let report = parse_paste("<script>alert(1)</script>@example.com\nAda <ada@example>");
    let reasons: Vec<String> = report
        .entries
        .iter()
        .map(|e| match &e.outcome {
            PasteOutcome::Invalid(reason) => reason.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "“<script>alert(1)</script>@example.com” is not a valid email address: it contains ‘<’, which an address cannot.",
            "“Ada <ada@example>” is not a valid email address: the domain has no top-level domain, such as .com.",
        ]
    );
}

#[test]
fn markup_and_sql_are_just_invalid_text() {
    let report = parse_paste("<script>alert(1)</script>\n'; DROP TABLE accounts; --");
    assert_eq!(report.valid_count(), 0);
    assert!(report.entries.iter().all(|e| matches!(e.outcome, PasteOutcome::Invalid(_))));
}

#[test]
fn a_megabyte_of_text_is_parsed_and_long_pieces_are_shortened_in_the_report() {
    let junk = "x".repeat(1024 * 1024);
    let report = parse_paste(&junk);
    assert_eq!(report.entries.len(), 1);
    assert!(report.entries[0].raw.chars().count() <= MAX_ECHO + 1);
    let many: String = (0..20_000).map(|i| format!("person{i}@example.com\n")).collect();
    assert_eq!(parse_paste(&many).valid_count(), 20_000);
}

#[test]
fn reading_stops_after_the_most_entries_a_paste_may_hold() {
    let separators = "a,".repeat(MAX_ENTRIES + 1);
    let report = parse_paste(&separators);
    assert!(report.overflowed);
    assert_eq!(report.entries.len(), MAX_ENTRIES);
    let full = "a,".repeat(MAX_ENTRIES);
    assert!(!parse_paste(&full).overflowed);
}

proptest! {
    #[test]
    fn parsing_never_panics_and_every_valid_address_is_unique(text in "\\PC{0,400}") {
        let report = parse_paste(&text);
        let valid: Vec<_> = report.valid().map(|(a, _)| a.clone()).collect();
        let unique: HashSet<_> = valid.iter().cloned().collect();
        prop_assert_eq!(valid.len(), unique.len());
    }

    #[test]
    fn any_list_of_addresses_joined_by_any_separators_is_recovered(
        locals in proptest::collection::vec("[a-z][a-z0-9.]{0,10}[a-z0-9]", 1..30),
        seps in proptest::collection::vec(prop_oneof![Just("\n"), Just(", "), Just(";"), Just(" ,\r\n "), Just(";;")], 30),
    ) {
        // The dot keeps them distinct: "p51" + 0 and "p5" + 10 would both be p510.
        let addresses: Vec<String> = locals.iter().enumerate().map(|(i, l)| format!("{l}.{i}@example.org")).collect();
        let text: String = addresses.iter().zip(seps.iter().cycle()).map(|(a, s)| format!("{a}{s}")).collect();
        let report = parse_paste(&text);
        let found: Vec<String> = report.valid().map(|(a, _)| a.to_string()).collect();
        let expected: Vec<String> = addresses.into_iter().filter(|a| EmailAddress::parse(a).is_ok()).collect();
        prop_assert_eq!(found, expected);
    }
}
