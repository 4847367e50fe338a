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
mod tests;
