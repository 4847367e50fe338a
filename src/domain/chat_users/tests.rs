use super::*;
use crate::domain::connectors::Policy;

#[test]
fn allow_all_forwards_everyone_whatever_their_request_says() {
    for request in [None, Some(AccessStatus::Pending), Some(AccessStatus::Approved), Some(AccessStatus::Rejected)] {
        for shared in [false, true] {
            assert_eq!(route(Policy::AllowAll, request, Standing::Other, shared), Route::Forward);
        }
    }
}
#[test]
fn onboarding_holds_back_new_and_pending_users_and_forwards_approved_ones() {
    assert_eq!(route(Policy::OnBoarding, None, Standing::Other, false), Route::RequestAccess);
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Pending), Standing::Other, false), Route::Keep);
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Approved), Standing::Other, false), Route::Forward);
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Rejected), Standing::Other, false), Route::Rejected);
}
#[test]
fn in_a_shared_conversation_only_people_let_in_are_answered_and_nothing_else_is_said() {
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Approved), Standing::Other, true), Route::Forward);
    for request in [None, Some(AccessStatus::Pending), Some(AccessStatus::Rejected)] {
        assert_eq!(route(Policy::OnBoarding, request, Standing::Other, true), Route::Ignore);
    }
}
#[test]
fn the_deny_list_comes_first_and_members_are_let_in_where_they_would_wait() {
    for policy in [Policy::AllowAll, Policy::OnBoarding] {
        for request in [None, Some(AccessStatus::Pending), Some(AccessStatus::Approved), Some(AccessStatus::Rejected)] {
            for shared in [false, true] {
                assert_eq!(route(policy, request, Standing::Blocked, shared), Route::Blocked);
            }
        }
    }
    assert_eq!(route(Policy::OnBoarding, None, Standing::Member, false), Route::LetIn);
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Pending), Standing::Member, false), Route::LetIn);
    assert_eq!(route(Policy::OnBoarding, None, Standing::Member, true), Route::Forward, "a channel starts no request");
    for shared in [false, true] {
        assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Approved), Standing::Member, shared), Route::Forward);
        assert_eq!(route(Policy::AllowAll, None, Standing::Member, shared), Route::Forward);
    }
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Rejected), Standing::Member, false), Route::Rejected);
    assert_eq!(route(Policy::OnBoarding, Some(AccessStatus::Rejected), Standing::Member, true), Route::Ignore);
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

#[test]
fn a_decided_card_says_who_decided_and_a_late_click_is_told_so() {
    assert_eq!(card_outcome(AccessStatus::Pending, Some("Ada Lovelace")), None);
    assert_eq!(card_outcome(AccessStatus::Approved, Some("Ada Lovelace")).unwrap(), "Approved by Ada Lovelace");
    assert_eq!(card_outcome(AccessStatus::Rejected, Some("Ada Lovelace")).unwrap(), "Rejected by Ada Lovelace");
    assert_eq!(card_outcome(AccessStatus::Approved, None).unwrap(), "Approved automatically, as a member");
    assert_eq!(
        already_decided("Approved by Ada Lovelace", "14:02 UTC"),
        "Already approved by Ada Lovelace, 14:02 UTC. Nothing changed."
    );
    assert!(ChatMessageOrigin::Approval.is_private(), "an approval is told to the requester alone");
}
