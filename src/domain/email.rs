use serde::{Deserialize, Serialize};
use std::fmt;

/// An email address that passed validation; always trimmed and lower-cased.
///
/// Accepted forms (what the paste box counts is what the mail transport can send):
/// - `local@domain`, with no display name, comments, quoted local part or IP-literal domain;
/// - the local part is a dot-atom (RFC 5322 §3.2.3): letters, digits and
///   `` !#$%&'*+-/=?^_`{|}~ ``, dots only between them, at most 64 octets (RFC 5321 §4.5.3.1.1);
/// - the domain has at least two labels of letters, digits, underscores and inner hyphens,
///   each at most 63 octets (RFC 1035 §2.3.4);
/// - letters may be non-ASCII (RFC 6531); on the server, a domain that is, or has an `xn--`
///   label, must be a valid international domain name (UTS #46, non-transitional, STD3 rules)
///   and is kept in its Unicode form, so `user@xn--bcher-kva.example` and `user@BÜCHER.example` are both
///   `user@bücher.example`; [`EmailAddress::to_ascii_domain`] gives the form mail goes out in;
/// - the whole address is at most 254 octets, in either form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EmailAddress(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address.")]
    Empty,
    #[error("That email address is too long.")]
    TooLong,
    /// `entry` is the text as typed (trimmed); `problem` says what is wrong with it.
    #[error("“{entry}” is not a valid email address: {problem}.")]
    Invalid { entry: String, problem: AddressProblem },
}

/// What makes a piece of text not an address, worded to finish "… is not a valid email address: ".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AddressProblem {
    #[error("it has no @")]
    NoAt,
    #[error("it has more than one @")]
    SeveralAts,
    #[error("nothing comes before the @")]
    NoLocalPart,
    #[error("no domain comes after the @")]
    NoDomain,
    #[error("it contains a space")]
    Space,
    /// An invisible character (`name`) after the text `after`, or at the start when it is empty.
    #[error("it contains an invisible {name} {}", place(after))]
    Invisible { name: String, after: String },
    #[error("quoted text is not accepted in an address")]
    Quoted,
    #[error("the part before the @ is too long: at most 64 plain letters, fewer accented ones")]
    LocalPartTooLong,
    #[error("the part before the @ starts or ends with a dot")]
    DotAtEdge,
    #[error("it has two dots in a row")]
    ConsecutiveDots,
    #[error("the domain starts with a dot")]
    LeadingDot,
    #[error("the domain ends with a dot")]
    TrailingDot,
    #[error("the domain has no top-level domain, such as .com")]
    NoTopLevelDomain,
    #[error("the domain part ‘{0}’ starts or ends with a hyphen")]
    HyphenAtEdge(String),
    #[error("the domain part ‘{0}’ is too long: at most 63 plain letters, fewer accented ones")]
    LabelTooLong(String),
    #[error("it contains {}, which an address cannot", show(*.0))]
    Character(char),
    /// The domain (as typed) is not a valid international domain name (UTS #46).
    #[error("the domain ‘{0}’ is not a valid international domain name")]
    InternationalDomain(String),
    #[error("mail cannot be delivered to this form of address")]
    Unsendable,
}

/// ‘<’ for what a keyboard types; ‘ü’ (U+00FC) otherwise, since it may be hard to tell apart.
fn show(c: char) -> String {
    if c.is_ascii() {
        format!("‘{c}’")
    } else {
        format!("‘{c}’ (U+{:04X})", c as u32)
    }
}

fn place(after: &str) -> String {
    if after.is_empty() {
        "at the start".into()
    } else {
        format!("after ‘{after}’")
    }
}

/// RFC 5321 limits a forward path to 254 characters.
const MAX_LEN: usize = 254;
/// RFC 5321 §4.5.3.1.1 and RFC 1035 §2.3.4.
const MAX_LOCAL_PART: usize = 64;
const MAX_LABEL: usize = 63;

/// Characters people cannot see that spreadsheets and web pages leave in copied text: the
/// byte-order mark, zero-width characters, bidi marks and invisible spaces. Named for the
/// reason an entry containing one is refused; `None` for everything else.
fn invisible_name(c: char) -> Option<&'static str> {
    // Nearly every character pasted is a printable ASCII one.
    if c == ' ' || c.is_ascii_graphic() {
        return None;
    }
    Some(match c {
        '\u{FEFF}' => "byte-order mark",
        '\u{200B}' => "zero-width space",
        '\u{200C}' => "zero-width non-joiner",
        '\u{200D}' => "zero-width joiner",
        '\u{2060}' => "word joiner",
        '\u{2061}'..='\u{2064}' => "invisible operator",
        '\u{180E}' => "Mongolian vowel separator",
        '\u{034F}' => "combining grapheme joiner",
        '\u{FE00}'..='\u{FE0F}' => "variation selector",
        // Blank characters Unicode counts as letters.
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => "Hangul filler",
        '\u{17B4}' | '\u{17B5}' => "Khmer vowel inherent",
        '\u{200E}' => "left-to-right mark",
        '\u{200F}' => "right-to-left mark",
        '\u{061C}' => "Arabic letter mark",
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "text-direction control",
        '\u{00AD}' => "soft hyphen",
        '\u{00A0}' => "no-break space",
        '\u{202F}' => "narrow no-break space",
        '\u{2007}' => "figure space",
        '\t' => "tab",
        c if c.is_whitespace() => "space character",
        c if c.is_control() => "control character",
        _ => return None,
    })
}

/// What separates addresses in pasted text: whitespace, and the invisible characters above
/// (except the soft hyphen, which only ever sits inside a word).
pub(super) fn is_separator(c: char) -> bool {
    c.is_whitespace() || (c != '\u{00AD}' && invisible_name(c).is_some())
}

/// RFC 5322 `atext`, plus non-ASCII letters and digits (RFC 6531).
fn is_atext(c: char) -> bool {
    matches!(c, 'a'..='z' | 'A'..='Z' | '0'..='9' | '!' | '#'..='\'' | '*' | '+' | '-' | '/' | '=' | '?' | '^'..='`' | '{'..='~')
        || (!c.is_ascii() && c.is_alphanumeric())
}

/// Non-ASCII characters in a domain are left to the IDNA check, which knows which are allowed.
fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii()
}

/// The first thing wrong with `address` (already trimmed), in the order a person would fix it.
fn problem(address: &str) -> Option<AddressProblem> {
    // RFC 5322 allows `"quoted local"@domain`, but the mail transport does not: refused first,
    // since the quotes are the thing to change.
    if address.contains('"') {
        return Some(AddressProblem::Quoted);
    }
    // "grace at example.com" lacks an @ more than it has spaces.
    let Some((local, domain)) = address.split_once('@') else {
        return Some(AddressProblem::NoAt);
    };
    for (i, c) in address.char_indices() {
        if c == ' ' {
            return Some(AddressProblem::Space);
        }
        if let Some(name) = invisible_name(c) {
            return Some(AddressProblem::Invisible { name: name.into(), after: address[..i].to_string() });
        }
    }
    if domain.contains('@') {
        return Some(AddressProblem::SeveralAts);
    }
    if local.is_empty() {
        return Some(AddressProblem::NoLocalPart);
    }
    if domain.is_empty() {
        return Some(AddressProblem::NoDomain);
    }
    if let Some(c) = local.chars().chain(domain.chars().filter(char::is_ascii)).find(|&c| c != '.' && !is_atext(c)) {
        return Some(AddressProblem::Character(c));
    }
    if local.len() > MAX_LOCAL_PART {
        return Some(AddressProblem::LocalPartTooLong);
    }
    if local.starts_with('.') || local.ends_with('.') {
        return Some(AddressProblem::DotAtEdge);
    }
    if domain.starts_with('.') {
        return Some(AddressProblem::LeadingDot);
    }
    if local.contains("..") || domain.contains("..") {
        return Some(AddressProblem::ConsecutiveDots);
    }
    if domain.ends_with('.') {
        return Some(AddressProblem::TrailingDot);
    }
    if let Some(c) = domain.chars().find(|&c| c != '.' && !is_label_char(c)) {
        return Some(AddressProblem::Character(c));
    }
    for label in domain.split('.') {
        if label.starts_with('-') || label.ends_with('-') {
            return Some(AddressProblem::HyphenAtEdge(label.to_string()));
        }
        // A non-ASCII label's limit is on its ASCII form, which the IDNA check measures.
        if label.is_ascii() && label.len() > MAX_LABEL {
            return Some(AddressProblem::LabelTooLong(label.to_string()));
        }
    }
    // A domain without a dot ("a@b") is legal in RFC 5322 but never a mailbox people are invited
    // from. An all-digit one (a@10.0.0.1) stays accepted, as before: accounts may already use it.
    (!domain.contains('.')).then_some(AddressProblem::NoTopLevelDomain)
}

impl EmailAddress {
    /// Trims whitespace and invisible characters from both ends, lower-cases, and checks the
    /// forms listed on the type. Errors: `Empty`, `TooLong` (over 254 octets), or `Invalid`
    /// with the first problem found.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim_matches(is_separator);
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let invalid = |problem| Err(EmailError::Invalid { entry: trimmed.to_string(), problem });
        let lower = trimmed.to_lowercase();
        // Judged as typed, so the reason quotes what the person sees. Lower-casing can add a
        // character (İ becomes i and a combining dot), so a form that grew is judged again.
        if let Some(problem) =
            problem(trimmed).or_else(|| (lower.len() != trimmed.len()).then(|| problem(&lower)).flatten())
        {
            return invalid(problem);
        }
        let (canonical, envelope) = match international_domain(&lower) {
            None => (lower, None),
            // Punycode packs repeated letters tightly: both forms must fit.
            Some(Ok((unicode, ascii))) if ascii.len() <= MAX_LEN && unicode.len() <= MAX_LEN => (unicode, Some(ascii)),
            Some(Ok(_)) => return Err(EmailError::TooLong),
            Some(Err(problem)) => return invalid(problem),
        };
        // The crate's RFC 5322 check stays the last word on what goes into the envelope.
        if !email_address::EmailAddress::is_valid(envelope.as_deref().unwrap_or(&canonical)) {
            return invalid(AddressProblem::Unsendable);
        }
        Ok(Self(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with its domain in ASCII (`jörg@xn--bcher-kva.example`), which is how it goes
    /// into an SMTP envelope: an international domain then needs no SMTPUTF8 (RFC 6531 §3.2).
    #[cfg(feature = "ssr")]
    pub fn to_ascii_domain(&self) -> std::borrow::Cow<'_, str> {
        let (local, domain) = self.0.rsplit_once('@').expect("a parsed address has an @");
        if domain.is_ascii() {
            return self.0.as_str().into();
        }
        let ascii = idna::domain_to_ascii_strict(domain).expect("a parsed domain converts");
        format!("{local}@{ascii}").into()
    }

    /// Whether the part before the @ has non-ASCII letters: the mail server must then offer
    /// SMTPUTF8 (RFC 6531).
    pub fn needs_smtputf8(&self) -> bool {
        !self.0.rsplit_once('@').is_some_and(|(local, _)| local.is_ascii())
    }
}

/// For an address whose domain is non-ASCII or has an A-label (`xn--…`): the address with the
/// domain in its Unicode form and in its ASCII form; or why the domain is not a valid
/// international domain name. `None` for a plain ASCII domain, which stays as it is.
#[cfg(feature = "ssr")]
fn international_domain(address: &str) -> Option<Result<(String, String), AddressProblem>> {
    let (local, domain) = address.rsplit_once('@')?;
    if domain.is_ascii() && !domain.split('.').any(|label| label.starts_with("xn--")) {
        return None;
    }
    let bad = AddressProblem::InternationalDomain(domain.to_string());
    // Strict: STD3 rules and DNS lengths (RFC 5891), as a resolver applies them.
    let Ok(ascii) = idna::domain_to_ascii_strict(domain) else {
        return Some(Err(bad));
    };
    Some(match idna::domain_to_unicode(&ascii) {
        (unicode, Ok(())) => Ok((format!("{local}@{unicode}"), format!("{local}@{ascii}"))),
        _ => Err(bad),
    })
}

/// In the browser an international domain stays as typed: IDNA's Unicode tables would add some
/// 60 KB to every page a phone opens. The server, which stores and sends, applies it, and the
/// paste box shows the server's classes as soon as they arrive.
#[cfg(not(feature = "ssr"))]
fn international_domain(_address: &str) -> Option<Result<(String, String), AddressProblem>> {
    None
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests;
