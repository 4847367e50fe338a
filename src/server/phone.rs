//! Mobile numbers: what a person types, read into E.164 (ITU-T E.164) with libphonenumber's
//! metadata, in the country they chose unless the number names its own.

use crate::api::registration::types::CountryChoice;
use phonenumber::metadata::DATABASE;
use phonenumber::{ParseError, PhoneNumber, Type};
use std::sync::LazyLock;

/// Every country whose numbers can be read, by ISO 3166 name, with its calling code.
pub fn countries() -> &'static [CountryChoice] {
    static LIST: LazyLock<Vec<CountryChoice>> = LazyLock::new(|| {
        let mut list: Vec<CountryChoice> = DATABASE
            .iter()
            .filter_map(|meta| {
                // Non-geographic entities (satellite services, "001") have no ISO code.
                let country = isocountry::CountryCode::for_alpha2(meta.id()).ok()?;
                Some(CountryChoice {
                    code: meta.id().to_string(),
                    name: country.name().to_string(),
                    calling_code: meta.country_code(),
                })
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    });
    &LIST
}

fn country(code: &str) -> Option<&'static CountryChoice> {
    countries().iter().find(|c| c.code == code)
}

/// An organization's default country: empty for none, or a code from [`countries`]
/// (ISO 3166-1 alpha-2, any case). Returns the code upper-cased.
pub fn country_setting(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty() || country(&code).is_some() {
        Ok(code)
    } else {
        Err("Choose a country from the list.".into())
    }
}

/// A mobile number in E.164 form (`+447911123456`). Typed with `+` or the `00` international
/// prefix and the calling code, or in national form (`07911 123456`) for `country`, an ISO
/// 3166-1 alpha-2 code or empty. Errors are worded for the field: no country for a national
/// number, an unknown calling code, a length no number there has, or not a mobile number.
pub fn e164(raw: &str, country_code: &str) -> Result<String, String> {
    let typed = raw.trim();
    if typed.is_empty() {
        return Err("Enter your mobile number.".into());
    }
    // `00` is the international prefix in most of the world (ITU-T E.164 Annex A), and people
    // type it in place of `+` whatever country they dial from.
    let international = match typed.strip_prefix("00") {
        Some(rest) => Some(format!("+{rest}")),
        None => typed.starts_with('+').then(|| typed.to_string()),
    };
    let chosen = country(&country_code.trim().to_ascii_uppercase());
    let number = match (&international, chosen) {
        (Some(text), _) => phonenumber::parse(None, text),
        (None, Some(c)) => phonenumber::parse(c.code.parse().ok(), typed),
        (None, None) => {
            return Err("Choose your country, or start the number with + and the country code.".into());
        }
    };
    let place = |number: &PhoneNumber| {
        number.country().id().and_then(|id| country(id.as_ref())).or(chosen).map(|c| c.name.as_str())
    };
    let wrong_length = |name: Option<&str>| match name {
        Some(name) => format!("That number is too short or too long for {name}. Check the digits."),
        None => "That number is too short or too long. Check the digits.".to_string(),
    };
    let number = match number {
        Ok(number) => number,
        Err(ParseError::InvalidCountryCode) => {
            return Err("No country has the calling code after the + (or 00). Check it, or choose your country and enter the number without it.".into());
        }
        Err(ParseError::TooShortAfterIdd | ParseError::TooShortNsn | ParseError::TooLong) => {
            return Err(wrong_length(chosen.filter(|_| international.is_none()).map(|c| c.name.as_str())));
        }
        Err(_) => return Err("Enter the number in digits, with + and the country code or your country chosen.".into()),
    };
    let name = place(&number);
    if !phonenumber::is_valid(&number) {
        let length = number.national().to_string().len() as u16;
        let possible =
            number.metadata(&DATABASE).is_some_and(|m| m.descriptors().general().possible_length().contains(&length));
        return Err(if possible { not_mobile(name) } else { wrong_length(name) });
    }
    match number.number_type(&DATABASE) {
        // Where a country's numbers do not tell mobiles from landlines (the US, Canada), accept it.
        Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber => {
            Ok(number.format().mode(phonenumber::Mode::E164).to_string())
        }
        _ => Err(not_mobile(name)),
    }
}

fn not_mobile(place: Option<&str>) -> String {
    match place {
        Some(name) => {
            format!("That is not a mobile number in {name}. Enter the number of a phone that receives text messages.")
        }
        None => "That is not a mobile number. Enter the number of a phone that receives text messages.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_00_prefix_and_national_numbers_in_the_chosen_country_are_read_as_e164() {
        for (typed, country) in [
            ("+44 7911 123456", ""),
            ("0044 7911 123456", ""),
            ("00447911123456", "FR"),
            ("07911 123456", "GB"),
            ("07911 123456", "gb"),
        ] {
            assert_eq!(e164(typed, country).as_deref(), Ok("+447911123456"), "{typed} in {country}");
        }
        assert_eq!(e164("06 12 34 56 78", "FR").as_deref(), Ok("+33612345678"));
        assert_eq!(e164("(415) 555-0123", "US").as_deref(), Ok("+14155550123"));
    }

    #[test]
    fn refusals_tell_length_landline_unknown_code_and_missing_country_apart() {
        let err = |typed: &str, country: &str| e164(typed, country).unwrap_err();
        assert!(
            err("07911 12", "GB").contains("too short or too long for United Kingdom"),
            "{}",
            err("07911 12", "GB")
        );
        assert!(err("+44 7911 123456789", "").contains("too short or too long"));
        assert!(err("+44 20 7946 0000", "").contains("not a mobile number in United Kingdom"));
        assert!(err("+999 123 456 789", "").contains("No country has the calling code"));
        assert!(err("07911 123456", "").contains("Choose your country"));
        assert_eq!(err("  ", "GB"), "Enter your mobile number.");
    }

    #[test]
    fn countries_have_names_and_calling_codes_and_settings_take_only_them() {
        let gb = country("GB").unwrap();
        assert_eq!((gb.calling_code, gb.name.starts_with("United Kingdom")), (44, true));
        assert!(countries().len() > 200);
        assert_eq!(country_setting(" gb ").as_deref(), Ok("GB"));
        assert_eq!(country_setting("").as_deref(), Ok(""));
        assert!(country_setting("XX").is_err());
    }
}
