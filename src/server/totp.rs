//! Authenticator apps (RFC 6238): 30-second steps, six digits, HMAC-SHA1, which is what every
//! common app expects from an `otpauth://` QR code. The codes are `totp-rs`'s; which step a code
//! was for is ours to know, so that each step's code is accepted once (RFC 6238 §5.2).

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECONDS: i64 = 30;
/// One step either side: phones' clocks drift and people type slowly.
const DRIFT_STEPS: i64 = 1;
const SECRET_BYTES: usize = 20;

/// A fresh random secret, in the base32 form (RFC 4648, no padding) apps take when typed in.
pub fn new_secret() -> String {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

/// The six-digit code for `secret` (base32) at the time step `step`; `None` for a secret that is
/// not base32 or shorter than the 128 bits RFC 4226 §4 asks for.
pub fn code_at(secret: &str, step: i64) -> Option<String> {
    code_of(&authenticator(secret)?, step)
}

fn authenticator(secret: &str) -> Option<TOTP> {
    let key = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, DRIFT_STEPS as u8, STEP_SECONDS as u64, key).ok()
}

fn code_of(totp: &TOTP, step: i64) -> Option<String> {
    Some(totp.generate(u64::try_from(step).ok()? * STEP_SECONDS as u64))
}

pub fn step_at(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(1000 * STEP_SECONDS)
}

/// The step whose code `typed` is, within the allowed drift of `now_ms`; None when it matches none.
pub fn matching_step(secret: &str, typed: &str, now_ms: i64) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = authenticator(secret)?;
    let now = step_at(now_ms);
    (now - DRIFT_STEPS..=now + DRIFT_STEPS)
        .find(|&step| code_of(&totp, step).is_some_and(|code| bool::from(code.as_bytes().ct_eq(typed.as_bytes()))))
}

/// The address an app reads from the QR code (Google Authenticator's Key Uri Format). Issuer
/// and account are percent-encoded whole, so a colon in an organization's name cannot split
/// the label.
pub fn otpauth_uri(secret: &str, issuer: &str, account: &str) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The QR code of `data` as an SVG image, black on white so every camera reads it.
pub fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // Inline in HTML, so without the XML declaration.
    svg.find("<svg").map(|start| svg[start..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret, "12345678901234567890".
    fn rfc_secret() -> String {
        Secret::Raw(b"12345678901234567890".to_vec()).to_encoded().to_string()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = rfc_secret();
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        // The RFC lists eight digits; apps show the last six.
        for (unix, eight) in
            [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (2000000000, "69279037")]
        {
            assert_eq!(code_at(&secret, step_at(unix * 1000)).unwrap(), eight[2..], "at {unix}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = new_secret();
        let now = 1_700_000_000_000;
        let step = step_at(now);
        for offset in [-1, 0, 1] {
            let code = code_at(&secret, step + offset).unwrap();
            assert_eq!(matching_step(&secret, &code, now), Some(step + offset));
        }
        for offset in [-3, 3] {
            let code = code_at(&secret, step + offset).unwrap();
            // A far-off code could collide with a near one by chance (1 in 10^6); rule that out.
            if (-1..=1).all(|o| code_at(&secret, step + o).unwrap() != code) {
                assert_eq!(matching_step(&secret, &code, now), None);
            }
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn secrets_round_trip_through_base32_and_make_a_scannable_uri() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(Secret::Encoded(secret.clone()).to_bytes().unwrap().len(), SECRET_BYTES);
        assert_eq!(code_at("not base32!", 1), None);
        // Shorter than 128 bits: refused rather than weak.
        assert_eq!(code_at("GEZDGNBV", 1), None);
        let uri = otpauth_uri(&secret, "Northwind & Co", "ana@example.com");
        assert!(uri.starts_with("otpauth://totp/Northwind%20%26%20Co:ana%40example%2Ecom?secret="));
        assert!(qr_svg(&uri).unwrap().starts_with("<svg"));
    }
}
