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
fn allow_all_forwards_everyone_whatever_their_request_says() {
    for request in [None, Some(AccessStatus::Pending), Some(AccessStatus::Approved), Some(AccessStatus::Rejected)] {
        for shared in [false, true] {
            assert_eq!(route(Policy::AllowAll, request, shared), Route::Forward);
        }
    }
}

#[test]
fn onboarding_holds_back_new_and_pending_users_and_forwards_approved_ones() {
    assert_eq!(route(Policy::OnBoarding, None, false), Route::RequestAccess);
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Pending), false), Route::Keep);
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Approved), false), Route::Forward);
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Rejected), false), Route::Rejected);
}

#[test]
fn in_a_shared_conversation_only_people_let_in_are_answered_and_nothing_else_is_said() {
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Approved), true), Route::Forward);
    for request in [None, Some(AccessStatus::Pending), Some(AccessStatus::Rejected)] {
        assert_eq!(route(Policy::OnBoarding, request, true), Route::Ignore);
    }
}

#[test]
fn media_reads_as_its_kind_and_caption() {
    assert_eq!(shown(MessageKind::Photo, ""), "[photo]");
    assert_eq!(shown(MessageKind::Voice, "  "), "[voice]");
    assert_eq!(shown(MessageKind::Document, "the contract"), "[document] the contract");
    assert_eq!(shown(MessageKind::Text, "hello"), "hello");
    assert_eq!(MessageKind::of_mime_type("image/jpeg"), MessageKind::Photo);
    assert_eq!(MessageKind::of_mime_type("application/pdf"), MessageKind::Document);
    for kind in MessageKind::ALL {
        assert_eq!(MessageKind::parse(kind.key()), Some(kind));
    }
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
fn names_fall_back_to_the_platform_id() {
    assert_eq!(display_name("Ada", "Lovelace", "U1"), "Ada Lovelace");
    assert_eq!(display_name(" ", "", "+447911123456"), "+447911123456");
    assert_eq!(initials("Ada Lovelace"), "AL");
    assert_eq!(initials("+447911123456"), "4");
}

#[test]
fn long_inbound_text_is_clipped() {
    let text = "é".repeat(MAX_INBOUND_TEXT_CHARS + 10);
    assert_eq!(clip_text(&text).chars().count(), MAX_INBOUND_TEXT_CHARS);
}
