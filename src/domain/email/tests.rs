use super::*;
use proptest::prelude::*;

#[test]
fn addresses_are_trimmed_and_lower_cased() {
    let e = EmailAddress::parse("  Ada.Lovelace@Example.COM ").unwrap();
    assert_eq!(e.as_str(), "ada.lovelace@example.com");
}

fn problem_of(raw: &str) -> AddressProblem {
    match EmailAddress::parse(raw) {
        Err(EmailError::Invalid { problem, .. }) => problem,
        other => panic!("{raw:?} gave {other:?}"),
    }
}

#[test]
fn malformed_addresses_are_refused_with_the_reason() {
    use AddressProblem::*;
    assert_eq!(EmailAddress::parse("   "), Err(EmailError::Empty));
    let long = format!("{}@example.com", "a".repeat(300));
    assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    for (raw, expected) in [
        ("ada.example.com", NoAt),
        ("ada@@example.com", SeveralAts),
        ("ada@grace@example.com", SeveralAts),
        ("@example.com", NoLocalPart),
        ("ada@", NoDomain),
        ("ada lovelace@example.com", Space),
        ("ada@example.com.", TrailingDot),
        ("ada@localhost", NoTopLevelDomain),
        ("grace at example.com", NoAt),
        ("ada@.example.com", LeadingDot),
        ("ann\u{3164}@example.com", Invisible { name: "Hangul filler".into(), after: "ann".into() }),
        (".ada@example.com", DotAtEdge),
        ("ada.@example.com", DotAtEdge),
        ("ada..l@example.com", ConsecutiveDots),
        ("ada@example..com", ConsecutiveDots),
        ("ada@-Example.com", HyphenAtEdge("-Example".into())),
        ("\"quoted local\"@example.com", Quoted),
        ("ada@[192.168.0.1]", Character('[')),
        ("<script>alert(1)</script>@example.com", Character('<')),
        ("ada(comment)@example.com", Character('(')),
        ("ada@exa!mple.com", Character('!')),
    ] {
        assert_eq!(problem_of(raw), expected, "{raw}");
    }
    assert_eq!(problem_of(&format!("{}@example.com", "a".repeat(65))), LocalPartTooLong);
}

#[test]
fn reasons_quote_the_whole_entry_and_say_what_is_wrong() {
    let message = |raw: &str| EmailAddress::parse(raw).unwrap_err().to_string();
    assert_eq!(
        message("<script>alert(1)</script>@example.com"),
        "“<script>alert(1)</script>@example.com” is not a valid email address: it contains ‘<’, which an address cannot."
    );
    assert_eq!(message("ada@@example.com"), "“ada@@example.com” is not a valid email address: it has more than one @.");
    assert_eq!(
        message("ada@example"),
        "“ada@example” is not a valid email address: the domain has no top-level domain, such as .com."
    );
}

#[test]
fn invisible_characters_at_the_edges_are_trimmed_and_inside_are_named_with_their_place() {
    for raw in [
        "\u{FEFF}alice@example.com",
        "\u{200B}bob@example.com",
        "dave@example.com\u{200F}",
        "\u{00A0}eve@example.com\u{2060}",
    ] {
        assert!(EmailAddress::parse(raw).is_ok(), "{raw:?}");
    }
    assert_eq!(
        problem_of("Carol\u{00A0}@example.com"),
        AddressProblem::Invisible { name: "no-break space".into(), after: "Carol".into() }
    );
    assert_eq!(
        EmailAddress::parse("ann@example.com\u{180E}x").unwrap_err().to_string(),
        "“ann@example.com\u{180E}x” is not a valid email address: it contains an invisible Mongolian vowel separator after ‘ann@example.com’."
    );
    assert_eq!(
        EmailAddress::parse("ed@exam\u{00AD}ple.org").unwrap_err().to_string(),
        "“ed@exam\u{00AD}ple.org” is not a valid email address: it contains an invisible soft hyphen after ‘ed@exam’."
    );
    assert_eq!(
        problem_of("\u{00AD}ed@example.org"),
        AddressProblem::Invisible { name: "soft hyphen".into(), after: String::new() }
    );
}

#[test]
fn the_accepted_forms_include_plus_tags_subdomains_and_international_letters() {
    for raw in [
        "ada+onboard@mail.example.co.uk",
        "o'brien@example.ie",
        "a_b-c@x-y.example",
        "jörg@bücher.example",
        "用户@例子.广告",
        // Accepted before these rules, so accounts may hold them.
        "admin@10.0.0.5",
        "ops@mail_relay.example.com",
    ] {
        assert!(EmailAddress::parse(raw).is_ok(), "{raw}");
    }
}

#[cfg(feature = "ssr")]
#[test]
fn an_international_domain_is_one_address_in_either_form_and_goes_out_in_ascii() {
    let unicode = EmailAddress::parse("user@bücher.example").unwrap();
    for other in ["user@xn--bcher-kva.example", "User@BÜCHER.Example", "user@XN--BCHER-KVA.example"] {
        assert_eq!(EmailAddress::parse(other), Ok(unicode.clone()), "{other}");
    }
    assert_eq!(unicode.as_str(), "user@bücher.example");
    assert_eq!(unicode.to_ascii_domain(), "user@xn--bcher-kva.example");
    assert!(!unicode.needs_smtputf8());
    let eai = EmailAddress::parse("jörg@bücher.example").unwrap();
    assert_eq!(eai.to_ascii_domain(), "jörg@xn--bcher-kva.example");
    assert!(eai.needs_smtputf8() && EmailAddress::parse("üser@example.com").unwrap().needs_smtputf8());
    let plain = EmailAddress::parse("ada@example.com").unwrap();
    assert_eq!((plain.to_ascii_domain().as_ref(), plain.needs_smtputf8()), ("ada@example.com", false));
    assert_eq!(problem_of("ada@bü_cher.example"), AddressProblem::InternationalDomain("bü_cher.example".into()));
    assert_eq!(problem_of(&format!("ada@{}.example", "a".repeat(64))), AddressProblem::LabelTooLong("a".repeat(64)));
}

// The paste box must never count an address the mail transport then refuses.
#[cfg(feature = "ssr")]
proptest! {
    #[test]
    fn whatever_is_accepted_the_mail_transport_can_address(
        // Mostly well-formed, so most cases reach the transport's parser, with the odd
        // quote, bracket, space or dot to test the edges.
        s in "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~ü-]{1,20}[\"(), <>@\\[\\]]?[a-z.]{0,3}@[a-z0-9ü_\\[-]{1,12}\\.[a-z0-9.-]{1,8}"
    ) {
        if let Ok(e) = EmailAddress::parse(&s) {
            prop_assert!(e.as_str().parse::<lettre::Address>().is_ok(), "{}", e);
        }
    }
}

proptest! {
    #[test]
    fn parsing_never_panics_and_accepted_addresses_are_canonical(s in "\\PC{0,80}") {
        if let Ok(e) = EmailAddress::parse(&s) {
            prop_assert_eq!(e.as_str(), e.as_str().to_lowercase());
            prop_assert_eq!(EmailAddress::parse(e.as_str()), Ok(e.clone()));
        }
    }
}
