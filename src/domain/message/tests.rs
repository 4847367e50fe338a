use super::*;
use proptest::prelude::*;

fn facts(custom: &str) -> MessageFacts {
    MessageFacts {
        first_name: "Ada".into(),
        org: "Northwind".into(),
        sender: "Grace Hopper".into(),
        custom: custom.into(),
        link: Some(RegistrationLink { url: "http://x/register/tok".into(), expires_at: 1_795_000_000_000 }),
        still_to_register: true,
    }
}

#[test]
fn without_a_fresh_link_a_person_still_to_register_is_pointed_to_their_invitation() {
    let plain = compose(&MessageFacts { link: None, ..facts("") }).to_plain();
    assert!(plain.contains("link in your invitation email"), "{plain}");
    assert!(!plain.contains("/register/"));
    let registered = compose(&MessageFacts { link: None, still_to_register: false, ..facts("") }).to_plain();
    assert!(registered.contains("Sign in to Onboard"), "{registered}");
}

#[test]
fn the_message_greets_names_the_sender_and_carries_the_link() {
    let m = compose(&facts(""));
    let plain = m.to_plain();
    assert!(plain.starts_with("Hi Ada,\n\nGrace Hopper asks you to finish joining Northwind on Onboard."), "{plain}");
    assert!(plain.contains("Finish registering: http://x/register/tok"));
    assert!(plain.contains("18 Nov 2026, 11:06 UTC"));
    assert_eq!(m.subject, "Reminder: finish joining Northwind on Onboard");
    assert!(m.to_slack().contains("<http://x/register/tok|Finish registering>"));
    assert!(m.to_html().contains("<a href=\"http://x/register/tok\">Finish registering</a>"));
}

#[test]
fn markdown_makes_paragraphs_lists_and_inline_styles() {
    let blocks = parse_markdown("Please **hurry**, it takes *two* minutes.\nThanks!\n\n- one\n- `two`\n\nSee [the guide](https://guide.example/a_b).");
    assert_eq!(blocks.len(), 3);
    let m = Message { subject: String::new(), blocks };
    assert_eq!(
        m.to_html(),
        "<p>Please <strong>hurry</strong>, it takes <em>two</em> minutes.<br>Thanks!</p>\
         <ul><li>one</li><li><code>two</code></li></ul>\
         <p>See <a href=\"https://guide.example/a_b\">the guide</a>.</p>"
    );
    assert_eq!(
        m.to_slack(),
        "Please *hurry*, it takes _two_ minutes.\nThanks!\n\n• one\n• `two`\n\nSee <https://guide.example/a_b|the guide>."
    );
}

#[test]
fn custom_text_cannot_inject_markup_into_any_channel() {
    let m = compose(&facts("<script>alert(1)</script> <!channel> <@U123> [x](javascript:alert(1)) & <b>"));
    let html = m.to_html();
    assert!(!html.contains("<script") && !html.contains("<b>") && !html.contains("javascript:alert(1)\""), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    let slack = m.to_slack();
    assert!(!slack.contains("<!channel>") && !slack.contains("<@U123>"), "{slack}");
    assert!(slack.contains("&lt;!channel&gt;") && slack.contains("&amp;"));
}

#[test]
fn snake_case_and_lone_markers_stay_as_typed() {
    let m = Message { subject: String::new(), blocks: parse_markdown("use my_var_name * and _ or \\*literal\\*") };
    assert_eq!(m.to_plain(), "use my_var_name * and _ or *literal*");
}

#[test]
fn custom_text_is_optional_but_not_blank_or_oversized() {
    assert_eq!(custom_text(""), Ok(String::new()));
    assert_eq!(custom_text("  hi \r\n"), Ok("hi".into()));
    assert!(custom_text("   \n ").unwrap_err().contains("blank"));
    let long = "x".repeat(MAX_CUSTOM_CHARS + 1);
    assert!(custom_text(&long).unwrap_err().contains("2001 characters"));
    assert!(custom_text("a\u{0}b").is_err());
}

proptest! {
    #[test]
    fn no_custom_text_ever_yields_a_tag_or_a_slack_control(custom in "\\PC{0,200}") {
        let m = compose(&facts(&custom));
        let html = m.to_html();
        // Every `<` in the output opens one of the renderer's own tags.
        for (i, _) in html.match_indices('<') {
            let rest = &html[i..];
            prop_assert!(["<p>", "</p>", "<ul>", "</ul>", "<li>", "</li>", "<strong>", "</strong>", "<em>", "</em>",
                "<code>", "</code>", "<br>", "<a href=\"", "</a>"].iter().any(|t| rest.starts_with(t)), "{}", html);
        }
        let slack = m.to_slack();
        for (i, _) in slack.match_indices('<') {
            prop_assert!(slack[i..].starts_with("<http") || slack[i..].starts_with("<mailto:"), "{}", slack);
        }
    }
}
