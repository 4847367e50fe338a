use super::*;
use std::collections::HashMap;

fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |variable| map.get(variable).cloned()
}

#[test]
fn the_environment_overrides_the_file_which_overrides_the_defaults() {
    let file = "[server]\npublic_url = \"https://onboard.example\"\n[outbox]\nworkers = 4\n";
    let s = Settings::layered(
        Some(("onboard.toml", file)),
        environment(&[("ONBOARD_OUTBOX_WORKERS", "9"), ("ONBOARD_INVITE_LIFETIME_DAYS", "14")]),
    )
    .unwrap();
    assert_eq!(s.server.public_url, "https://onboard.example");
    assert_eq!(s.outbox.workers, 9);
    assert_eq!(s.invitations.default_lifetime_days, 14);
    assert_eq!(s.outbox.max_attempts, 8, "a setting nobody sets keeps its default");
    assert!(s.secure_cookies());
}

#[test]
fn text_that_looks_like_a_number_stays_text_and_lists_split_at_commas() {
    let s = Settings::layered(
        None,
        environment(&[
            ("ONBOARD_SLACK_CLIENT_ID", "1234567890.1234567890"),
            ("ONBOARD_TWILIO_FROM", "+15005550006"),
            ("ONBOARD_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.0.0/16,"),
            ("ONBOARD_ALLOWED_PRIVATE_AGENT_HOSTS", "agent.internal"),
        ]),
    )
    .unwrap();
    assert_eq!(s.slack.client_id, "1234567890.1234567890");
    assert_eq!(s.sms.twilio_from, "+15005550006");
    assert_eq!(s.server.trusted_proxies, vec!["10.0.0.0/8".parse().unwrap(), "192.168.0.0/16".parse().unwrap()]);
    assert_eq!(s.chat.allowed_private_agent_hosts, vec!["agent.internal".to_string()]);
}

#[test]
fn cargo_leptos_names_the_site_unless_ours_do() {
    let s = Settings::layered(None, environment(&[("LEPTOS_SITE_ROOT", "out/site")])).unwrap();
    assert_eq!(s.server.site_root, "out/site");
    let s = Settings::layered(
        None,
        environment(&[("LEPTOS_SITE_ADDR", "127.0.0.1:4000"), ("ONBOARD_SITE_ADDR", "127.0.0.1:5000")]),
    )
    .unwrap();
    assert_eq!(s.server.site_addr.port(), 5000);
}

#[test]
fn a_bad_value_from_the_environment_names_its_variable() {
    let err = Settings::layered(None, environment(&[("ONBOARD_OUTBOX_WORKERS", "many")])).unwrap_err().to_string();
    assert_eq!(err, "ONBOARD_OUTBOX_WORKERS must be a whole number, not “many”");
    let err = Settings::layered(None, environment(&[("ONBOARD_OUTBOX_WORKERS", "-1")])).unwrap_err().to_string();
    assert!(err.starts_with("ONBOARD_OUTBOX_WORKERS must be"), "{err}");
    let err = Settings::layered(None, environment(&[("ONBOARD_SITE_ADDR", "localhost")])).unwrap_err().to_string();
    assert!(err.starts_with("ONBOARD_SITE_ADDR: “localhost” is not valid"), "{err}");
    let err = Settings::layered(None, environment(&[("ONBOARD_TRUSTED_PROXIES", "10.0.0.0/8,office")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("ONBOARD_TRUSTED_PROXIES:"), "{err}");
    let err = Settings::layered(None, environment(&[("LEPTOS_SITE_ADDR", "anywhere")])).unwrap_err().to_string();
    assert!(err.starts_with("LEPTOS_SITE_ADDR:"), "{err}");
}

#[test]
fn a_number_is_a_whole_number_with_spaces_around_it_at_most() {
    let s = Settings::layered(None, environment(&[("ONBOARD_OUTBOX_WORKERS", " 9\r\n")])).unwrap();
    assert_eq!(s.outbox.workers, 9);
    for word in ["off", "true", "1.5", ""] {
        let err = Settings::layered(None, environment(&[("ONBOARD_MAX_FAILED_SIGN_INS_PER_ACCOUNT", word)]))
            .unwrap_err()
            .to_string();
        assert_eq!(err, format!("ONBOARD_MAX_FAILED_SIGN_INS_PER_ACCOUNT must be a whole number, not “{word}”"));
    }
}

#[test]
fn a_bad_file_is_named_with_the_key_at_fault() {
    let err = Settings::layered(Some(("onboard.toml", "[server]\nsite_adr = \"x\"\n")), environment(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("onboard.toml is not valid configuration"), "{err}");
    assert!(err.contains("site_adr"), "{err}");
    let err = Settings::layered(Some(("onboard.toml", "[outbox]\nworkers = \"many\"\n")), environment(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("outbox.workers"), "{err}");
}

#[test]
fn the_defaults_are_valid_and_agree_with_the_domain() {
    let s = Settings::default();
    s.validate().unwrap();
    assert_eq!(s.invitations.default_lifetime_days, crate::domain::settings::DEFAULT_INVITE_DAYS);
    assert_eq!(s.database.url.expose(), "sqlite://data/onboard.db");
}

#[test]
fn every_setting_is_declared_once_and_every_variable_is_distinct() {
    for (i, a) in SETTINGS.iter().enumerate() {
        for b in &SETTINGS[i + 1..] {
            assert!(a.key != b.key && a.variable != b.variable, "{a:?} and {b:?} overlap");
        }
    }
}

/// `key = value  # VARIABLE…` lines of a TOML file, with the section prefixed to the key.
fn documented_lines(text: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut lines = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            section = name.to_string();
        } else if let Some((key, rest)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
            let variable = rest.split_once('#').map(|(_, c)| c.trim()).unwrap_or("");
            let variable = variable.split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).next();
            lines.push((format!("{section}.{}", key.trim()), variable.unwrap_or("").to_string()));
        }
    }
    lines
}

#[test]
fn the_shipped_leptos_toml_sets_every_setting_to_its_default_and_names_its_variable() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
    let lines = documented_lines(&text);
    let keys: Vec<&str> = lines.iter().map(|(key, _)| key.as_str()).collect();
    let declared: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
    assert_eq!(keys, declared, "Leptos.toml lists the settings in SETTINGS' order");
    for ((key, variable), setting) in lines.iter().zip(SETTINGS) {
        assert_eq!(variable, setting.variable, "the comment beside {key} names its variable");
    }
    let shipped = Config::builder().add_source(File::from_str(&text, FileFormat::Toml)).build().unwrap();
    for setting in SETTINGS {
        let value = match setting.shape {
            Shape::List => shipped.get::<Vec<String>>(setting.key).unwrap().join(","),
            Shape::Text | Shape::Number => shipped.get_string(setting.key).unwrap(),
        };
        assert_eq!(value, setting.default, "Leptos.toml's {} is its default", setting.key);
    }
    Settings::layered(Some(("Leptos.toml", &text)), environment(&[])).unwrap().validate().unwrap();
}

#[test]
fn the_readme_table_agrees_with_the_declarations() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let rows: Vec<Vec<&str>> = readme
        .lines()
        .skip_while(|line| !line.starts_with("| `Leptos.toml` key |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| line.split(" | ").map(|cell| cell.trim_matches(|c| c == '|' || c == ' ')).collect())
        .collect();
    assert_eq!(rows.len(), SETTINGS.len(), "one README row per setting");
    for (row, setting) in rows.iter().zip(SETTINGS) {
        let default = match setting.default {
            "" => "empty".to_string(),
            value => format!("`{value}`"),
        };
        assert_eq!(
            row[..3],
            [format!("`{}`", setting.key).as_str(), &format!("`{}`", setting.variable), &default],
            "the README row of {}",
            setting.key
        );
    }
}
