use super::*;

#[test]
fn every_variable_settings_accept_is_read_from_the_environment() {
    // `set` names each variable in a match arm; `load` reads only those listed in ENV_KEYS.
    let source = include_str!("../config.rs");
    let arms: Vec<&str> = source
        .lines()
        .filter_map(|line| line.trim().strip_prefix('"')?.split_once("\" =>").map(|(key, _)| key))
        .collect();
    assert!(arms.len() > 40, "{arms:?}");
    for key in arms {
        assert!(ENV_KEYS.contains(&key), "{key} is accepted by Settings::set but never read by Settings::load");
    }
}

#[test]
fn the_environment_overrides_the_file_and_bad_numbers_name_the_variable() {
    let mut s: Settings = toml::from_str("[server]\npublic_url = \"https://onboard.example\"\n").unwrap();
    assert_eq!(s.server.public_url, "https://onboard.example");
    s.set("ONBOARD_INVITE_LIFETIME_DAYS", "14").unwrap();
    assert_eq!(s.invitations.default_lifetime_days, 14);
    let err = s.set("ONBOARD_OUTBOX_WORKERS", "many").unwrap_err().to_string();
    assert!(err.contains("ONBOARD_OUTBOX_WORKERS"), "{err}");
    assert!(s.secure_cookies());
}

#[test]
fn unknown_keys_in_the_file_are_refused() {
    assert!(toml::from_str::<Settings>("[server]\nsite_adr = \"x\"\n").is_err());
}

#[test]
fn the_shipped_leptos_toml_is_valid() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
    let s: Settings = toml::from_str(&text).unwrap();
    s.validate().unwrap();
}
