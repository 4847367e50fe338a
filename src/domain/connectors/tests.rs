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

#[test]
fn approvers_conversations_are_a_slack_channel_or_a_teams_chat() {
    assert_eq!(check_approvers_conversation(ChatProvider::Slack, " c0123abcd ").unwrap(), "C0123ABCD");
    assert_eq!(check_approvers_conversation(ChatProvider::Slack, "G0PRIVATE1").unwrap(), "G0PRIVATE1");
    let link = "https://acme.slack.com/archives/C0123ABCD";
    assert_eq!(check_approvers_conversation(ChatProvider::Slack, link).unwrap(), "C0123ABCD", "a copied link");
    let link = "https://teams.microsoft.com/l/channel/19%3aa1b2c3%40thread.tacv2/Approvers?groupId=g&tenantId=t";
    assert_eq!(check_approvers_conversation(ChatProvider::Teams, link).unwrap(), "19:a1b2c3@thread.tacv2");
    assert_eq!(check_approvers_conversation(ChatProvider::Slack, "").unwrap(), "", "empty turns it off");
    let direct = check_approvers_conversation(ChatProvider::Slack, "D0123ABCD").unwrap_err();
    assert!(direct.for_field("conversation").is_some_and(|r| r.contains("direct message")), "{direct:?}");
    for bad in ["#approvers", "C01", "C0123 ABCD", "https://acme.slack.com/team/U0123ABCD"] {
        assert!(check_approvers_conversation(ChatProvider::Slack, bad).is_err(), "{bad}");
    }
    let channel = "19:a1b2c3@thread.tacv2";
    assert_eq!(check_approvers_conversation(ChatProvider::Teams, channel).unwrap(), channel);
    assert!(check_approvers_conversation(ChatProvider::Teams, "19:group@thread.v2").is_ok());
    for bad in ["a:personal", "19:no-thread", "19:a b@thread.v2"] {
        assert!(check_approvers_conversation(ChatProvider::Teams, bad).is_err(), "{bad}");
    }
    let refused = check_approvers_conversation(ChatProvider::Telegram, "-100123").unwrap_err();
    assert!(refused.for_field("via").is_some(), "{refused:?}");
    assert!(check_approval_message("  ").unwrap_err().for_field("approval_message").is_some());
    assert_eq!(check_approval_message(" Welcome in. ").unwrap(), "Welcome in.");
}
