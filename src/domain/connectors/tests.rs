use super::*;

#[test]
fn generated_webhook_secrets_pass_every_providers_check() {
    let secret = webhook_secret_from(&[0xab; 32]);
    assert_eq!(secret.len(), 64);
    assert!(ChatProvider::Telegram.check_credential("secret_token", &secret).is_ok());
    assert!(ChatProvider::D360.check_credential("webhook_secret", &secret).is_ok());
    let offered: Vec<&str> = ChatProvider::ALL
        .iter()
        .flat_map(|p| p.credential_fields().iter().filter(|f| f.can_generate()).map(|f| f.key))
        .collect();
    assert_eq!(offered, ["secret_token", "webhook_secret"]);
}

#[test]
fn onboarding_needs_a_message_and_allow_all_does_not() {
    assert_eq!(check_policy(Policy::AllowAll, "  ").unwrap(), "");
    assert!(check_policy(Policy::OnBoarding, " \n ").unwrap_err().for_field("onboarding_message").is_some());
    assert_eq!(check_policy(Policy::OnBoarding, " Hello ").unwrap(), "Hello");
    let long = "x".repeat(MAX_ONBOARDING_MESSAGE_CHARS + 1);
    assert!(check_policy(Policy::OnBoarding, &long).is_err());
}

#[test]
fn agent_urls_must_be_https_except_on_this_machine() {
    assert!(check_agent_url("https://agent.example.com/in").is_ok());
    assert!(check_agent_url("http://127.0.0.1:8080/agent").is_ok());
    assert!(check_agent_url("http://localhost/agent").is_ok());
    for bad in ["http://agent.example.com", "ftp://x", "agent.example.com", "https://", "https://a b", "https://u@evil"]
    {
        assert!(check_agent_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn credentials_are_checked_for_shape() {
    assert!(ChatProvider::Slack.check_credential("bot_token", "xoxb-1-2").is_ok());
    assert!(ChatProvider::Slack.check_credential("bot_token", "xoxp-1-2").is_err());
    assert!(ChatProvider::Telegram.check_credential("bot_token", "123456:ABC-def").is_ok());
    assert!(ChatProvider::Telegram.check_credential("bot_token", "abc").is_err());
    assert!(ChatProvider::Telegram.check_credential("secret_token", "ok_secret-1-0123456789abcdefghijk").is_ok());
    assert!(ChatProvider::Telegram.check_credential("secret_token", "ok_secret-1").is_err(), "too short");
    assert!(ChatProvider::Telegram.check_credential("secret_token", "no/slash").is_err());
    assert!(ChatProvider::Twilio.check_credential("from_number", "whatsapp:+447911123456").is_ok());
    assert!(ChatProvider::Twilio.check_credential("from_number", "07911123456").is_err());
    assert!(ChatProvider::Twilio.check_credential("account_sid", &format!("AC{}", "0".repeat(32))).is_ok());
    assert!(ChatProvider::D360.check_credential("webhook_secret", "short").is_err());
    assert_eq!(ChatProvider::D360.check_credential("api_key", "").unwrap_err(), "Required.");
}

#[test]
fn secrets_show_only_their_last_four_characters() {
    assert_eq!(hint("xoxb-123456789-abcd"), "••••abcd");
    assert_eq!(hint("short"), "••••");
}

#[test]
fn deny_lists_are_read_one_id_a_line_and_members_only_where_they_are_mapped() {
    let ids = check_rules(ChatProvider::Slack, true, " U0BAD \n\nu0eve, u0bad\r\n").unwrap();
    assert_eq!(ids, ["U0BAD", "U0EVE"], "Slack ids in upper case, once each");
    let numbers = check_rules(ChatProvider::Twilio, false, "+44 7911 123-456\n+447911123456").unwrap();
    assert_eq!(numbers, ["+447911123456"]);
    let refused = check_rules(ChatProvider::D360, false, "07911 123456").unwrap_err();
    assert!(refused.for_field("blocked").is_some_and(|r| r.contains("country code")), "{refused:?}");
    assert!(check_rules(ChatProvider::Telegram, false, "12a").is_err());
    let refused = check_rules(ChatProvider::Telegram, true, "").unwrap_err();
    assert!(refused.for_field("members").is_some(), "{refused:?}");
    assert!(check_rules(ChatProvider::Telegram, false, "12345").is_ok());
    let long = "x".repeat(MAX_PLATFORM_ID_CHARS + 1);
    let refused = check_rules(ChatProvider::Teams, false, &format!("ok\n{long}")).unwrap_err();
    assert!(refused.for_field("blocked").is_some_and(|r| r.starts_with("Entry 2 (")), "{refused:?}");
    let many: String = (0..=MAX_BLOCKED).map(|i| format!("U{i}\n")).collect();
    assert!(check_rules(ChatProvider::Slack, false, &many).is_err());
}
