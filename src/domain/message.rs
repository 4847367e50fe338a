//! The onboarding message: composed from its facts and an optional custom text in a small
//! Markdown, then written out for each channel. The modal's preview and the outbox worker
//! both call `compose`, so what an admin previews is what each recipient receives.
//!
//! Custom text is only ever text: raw HTML and Slack's `<…>` controls come out escaped, and
//! links are kept only for http, https and mailto addresses.

use serde::{Deserialize, Serialize};

pub const MAX_CUSTOM_CHARS: usize = 2_000;

/// A paragraph or a list, each made of inline runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    Paragraph(Vec<Inline>),
    List(Vec<Vec<Inline>>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Code(String),
    Link { text: String, url: String },
    LineBreak,
}

/// Everything an onboarding message says, kept in the outbox and rendered when it is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFacts {
    /// The recipient's first name; empty when they have not told us yet.
    pub first_name: String,
    pub org: String,
    /// Who sends the reminder, as the recipient knows them.
    pub sender: String,
    /// The admin's custom text, already checked by `custom_text`; empty for none.
    pub custom: String,
    /// The recipient's own registration link, while they are still to register.
    pub link: Option<RegistrationLink>,
    /// Still to register, without a fresh link in this message (the sender may not renew
    /// invitations): they are pointed to the link they were sent.
    #[serde(default)]
    pub still_to_register: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationLink {
    pub url: String,
    pub expires_at: i64,
}

/// A composed message: a subject (for email) and its blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub subject: String,
    pub blocks: Vec<Block>,
}

/// Checks an admin's custom text: optional, but not blank space alone, and not too long.
pub fn custom_text(raw: &str) -> Result<String, String> {
    let text = raw.replace("\r\n", "\n").replace('\r', "\n");
    if text.is_empty() {
        return Ok(text);
    }
    if text.trim().is_empty() {
        return Err("The custom message is only blank space. Write a message, or clear the box to send none.".into());
    }
    let chars = text.trim().chars().count();
    if chars > MAX_CUSTOM_CHARS {
        return Err(format!("The custom message is {chars} characters long; keep it to {MAX_CUSTOM_CHARS} or fewer."));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("The custom message contains control characters; remove them and try again.".into());
    }
    Ok(text.trim().to_string())
}

pub fn compose(facts: &MessageFacts) -> Message {
    let greeting = if facts.first_name.trim().is_empty() {
        "Hello,".to_string()
    } else {
        format!("Hi {},", facts.first_name.trim())
    };
    let mut blocks = vec![
        Block::Paragraph(vec![Inline::Text(greeting)]),
        Block::Paragraph(vec![
            Inline::Text(format!("{} asks you to finish joining ", facts.sender)),
            Inline::Strong(vec![Inline::Text(facts.org.clone())]),
            Inline::Text(" on Onboard.".into()),
        ]),
    ];
    blocks.extend(parse_markdown(&facts.custom));
    match &facts.link {
        Some(link) => {
            blocks.push(Block::Paragraph(vec![
                Inline::Link { text: "Finish registering".into(), url: link.url.clone() },
                Inline::Text(format!(
                    " (your personal link; it works once and expires on {}).",
                    super::time::format_utc(link.expires_at)
                )),
            ]));
        }
        None if facts.still_to_register => blocks.push(Block::Paragraph(vec![Inline::Text(format!(
            "Finish registering with the link in your invitation email. If it has expired, ask {} for a new one.",
            facts.sender
        ))])),
        None => blocks.push(Block::Paragraph(vec![Inline::Text(
            "Sign in to Onboard with your email address and password to finish.".into(),
        )])),
    }
    Message { subject: format!("Reminder: finish joining {} on Onboard", facts.org), blocks }
}

/// Paragraphs (split by blank lines, line breaks kept), `-`/`*` bullet lists, `**strong**`,
/// `*emphasis*`/`_emphasis_`, `` `code` `` and `[text](https://…)`. Nothing else is markup.
pub fn parse_markdown(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Vec<Vec<Inline>> = Vec::new();
    let flush_paragraph = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            let mut runs = Vec::new();
            for (i, line) in paragraph.iter().enumerate() {
                if i > 0 {
                    runs.push(Inline::LineBreak);
                }
                runs.extend(parse_inline(line.trim()));
            }
            blocks.push(Block::Paragraph(runs));
            paragraph.clear();
        }
    };
    for line in text.lines() {
        let trimmed = line.trim_start();
        let item =
            trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")).or_else(|| trimmed.strip_prefix("+ "));
        match item {
            Some(item) => {
                flush_paragraph(&mut paragraph, &mut blocks);
                list.push(parse_inline(item.trim()));
            }
            None if trimmed.is_empty() => {
                flush_paragraph(&mut paragraph, &mut blocks);
                if !list.is_empty() {
                    blocks.push(Block::List(std::mem::take(&mut list)));
                }
            }
            None => {
                if !list.is_empty() {
                    blocks.push(Block::List(std::mem::take(&mut list)));
                }
                paragraph.push(line);
            }
        }
    }
    flush_paragraph(&mut paragraph, &mut blocks);
    if !list.is_empty() {
        blocks.push(Block::List(list));
    }
    blocks
}

fn parse_inline(text: &str) -> Vec<Inline> {
    let chars: Vec<char> = text.chars().collect();
    let mut runs = Vec::new();
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let parsed = match c {
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                plain.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '*' | '_' if chars.get(i + 1) == Some(&c) => closing(&chars, i + 2, &[c, c])
                .map(|end| (Inline::Strong(parse_inline(&collect(&chars[i + 2..end]))), end + 2)),
            // `_` marks emphasis only at a word's edge, so snake_case stays as typed.
            '_' if i > 0 && chars[i - 1].is_alphanumeric() => None,
            '*' | '_' => closing(&chars, i + 1, &[c])
                .filter(|end| *end > i + 1 && !chars[i + 1].is_whitespace())
                .filter(|end| c == '*' || chars.get(end + 1).is_none_or(|n| !n.is_alphanumeric()))
                .map(|end| (Inline::Emphasis(parse_inline(&collect(&chars[i + 1..end]))), end + 1)),
            '`' => closing(&chars, i + 1, &['`']).map(|end| (Inline::Code(collect(&chars[i + 1..end])), end + 1)),
            '[' => link(&chars, i),
            _ => None,
        };
        match parsed {
            Some((run, next)) => {
                if !plain.is_empty() {
                    runs.push(Inline::Text(std::mem::take(&mut plain)));
                }
                runs.push(run);
                i = next;
            }
            None => {
                plain.push(c);
                i += 1;
            }
        }
    }
    if !plain.is_empty() {
        runs.push(Inline::Text(plain));
    }
    runs
}

fn collect(chars: &[char]) -> String {
    chars.iter().collect()
}

/// Where `marker` next starts at or after `from`, if the span between is not empty.
fn closing(chars: &[char], from: usize, marker: &[char]) -> Option<usize> {
    (from..chars.len().saturating_sub(marker.len() - 1))
        .find(|&j| chars[j..].starts_with(marker))
        .filter(|&end| end > from)
}

/// `[text](url)` starting at `start`, kept only for a safe address.
fn link(chars: &[char], start: usize) -> Option<(Inline, usize)> {
    let close = (start + 1..chars.len()).find(|&j| chars[j] == ']')?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = (close + 2..chars.len()).find(|&j| chars[j] == ')')?;
    let text = collect(&chars[start + 1..close]);
    let url = collect(&chars[close + 2..end]).trim().to_string();
    let safe = ["https://", "http://", "mailto:"].iter().any(|p| url.to_ascii_lowercase().starts_with(p))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    (safe && !text.trim().is_empty()).then(|| (Inline::Link { text, url }, end + 1))
}

/// HTML with every character of text escaped: for email and Microsoft Teams.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Slack's mrkdwn reserves only `&`, `<` and `>`: escaped, text can never become a mention or a link.
pub fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl Message {
    /// HTML for an email body or a Teams message.
    pub fn to_html(&self) -> String {
        fn inline(runs: &[Inline], out: &mut String) {
            for run in runs {
                match run {
                    Inline::Text(t) => out.push_str(&escape_html(t)),
                    Inline::Strong(inner) => {
                        out.push_str("<strong>");
                        inline(inner, out);
                        out.push_str("</strong>");
                    }
                    Inline::Emphasis(inner) => {
                        out.push_str("<em>");
                        inline(inner, out);
                        out.push_str("</em>");
                    }
                    Inline::Code(code) => out.push_str(&format!("<code>{}</code>", escape_html(code))),
                    Inline::Link { text, url } => {
                        out.push_str(&format!("<a href=\"{}\">{}</a>", escape_html(url), escape_html(text)))
                    }
                    Inline::LineBreak => out.push_str("<br>"),
                }
            }
        }
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Paragraph(runs) => {
                    out.push_str("<p>");
                    inline(runs, &mut out);
                    out.push_str("</p>");
                }
                Block::List(items) => {
                    out.push_str("<ul>");
                    for item in items {
                        out.push_str("<li>");
                        inline(item, &mut out);
                        out.push_str("</li>");
                    }
                    out.push_str("</ul>");
                }
            }
        }
        out
    }

    /// Slack mrkdwn for `chat.postMessage`.
    pub fn to_slack(&self) -> String {
        fn inline(runs: &[Inline], out: &mut String) {
            for run in runs {
                match run {
                    Inline::Text(t) => out.push_str(&escape_slack(t)),
                    Inline::Strong(inner) => {
                        out.push('*');
                        inline(inner, out);
                        out.push('*');
                    }
                    Inline::Emphasis(inner) => {
                        out.push('_');
                        inline(inner, out);
                        out.push('_');
                    }
                    Inline::Code(code) => out.push_str(&format!("`{}`", escape_slack(code))),
                    // `|` would end the link's address early; Slack reads %7C as the same address.
                    Inline::Link { text, url } => {
                        out.push_str(&format!("<{}|{}>", escape_slack(&url.replace('|', "%7C")), escape_slack(text)))
                    }
                    Inline::LineBreak => out.push('\n'),
                }
            }
        }
        self.write_blocks("• ", inline)
    }

    /// Plain text: an email's text part, and what notifications show.
    pub fn to_plain(&self) -> String {
        fn inline(runs: &[Inline], out: &mut String) {
            for run in runs {
                match run {
                    Inline::Text(t) | Inline::Code(t) => out.push_str(t),
                    Inline::Strong(inner) | Inline::Emphasis(inner) => inline(inner, out),
                    Inline::Link { text, url } => out.push_str(&format!("{text}: {url}")),
                    Inline::LineBreak => out.push('\n'),
                }
            }
        }
        self.write_blocks("- ", inline)
    }

    fn write_blocks(&self, bullet: &str, inline: fn(&[Inline], &mut String)) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            match block {
                Block::Paragraph(runs) => inline(runs, &mut out),
                Block::List(items) => {
                    for (n, item) in items.iter().enumerate() {
                        if n > 0 {
                            out.push('\n');
                        }
                        out.push_str(bullet);
                        inline(item, &mut out);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
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
        assert!(
            plain.starts_with("Hi Ada,\n\nGrace Hopper asks you to finish joining Northwind on Onboard."),
            "{plain}"
        );
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
        assert!(
            !html.contains("<script") && !html.contains("<b>") && !html.contains("javascript:alert(1)\""),
            "{html}"
        );
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
}
