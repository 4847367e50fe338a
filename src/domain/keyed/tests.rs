use crate::domain::chat_users::{AccessStatus, ChatMessageOrigin, ChatMessageStatus, Direction, MessageKind};
use crate::domain::connectors::{ChatProvider, Policy};
use crate::domain::onboarding::{Channel, DeliveryStatus, OnboardingStatus, Provider};
use crate::domain::outbox::{JobKind, JobStatus};
use crate::domain::second_factor::SecondFactor;
use crate::domain::MembershipStatus;

/// Every variant's key parses back to it, travels as JSON as the key, and no two keys clash.
macro_rules! round_trips {
    ($($enum:ty),+) => {$(
        let keys: Vec<&str> = <$enum>::ALL.iter().map(|v| v.key()).collect();
        for variant in <$enum>::ALL {
            assert_eq!(<$enum>::parse(variant.key()), Some(variant));
            let json = serde_json::to_string(&variant).unwrap();
            assert_eq!(json, format!("\"{}\"", variant.key()));
            assert_eq!(serde_json::from_str::<$enum>(&json).unwrap(), variant);
            assert_eq!(keys.iter().filter(|k| **k == variant.key()).count(), 1, "{} twice", variant.key());
        }
        assert_eq!(<$enum>::parse("no such key"), None);
    )+};
}

#[test]
fn every_keyed_enum_round_trips_through_its_keys() {
    round_trips!(
        AccessStatus,
        ChatMessageOrigin,
        ChatMessageStatus,
        Direction,
        MessageKind,
        ChatProvider,
        Policy,
        Channel,
        DeliveryStatus,
        OnboardingStatus,
        Provider,
        JobKind,
        JobStatus,
        SecondFactor,
        MembershipStatus
    );
}

#[test]
fn the_spelling_written_before_the_keys_still_reads_and_nothing_else_does() {
    // Queued outbox jobs, sessions and a browser on the previous version wrote the variant's name.
    assert_eq!(serde_json::from_str::<Channel>("\"Teams\"").unwrap(), Channel::Teams);
    assert_eq!(serde_json::from_str::<ChatProvider>("\"D360\"").unwrap(), ChatProvider::D360);
    assert_eq!(serde_json::from_str::<MembershipStatus>("\"Active\"").unwrap(), MembershipStatus::Active);
    let refused = serde_json::from_str::<MembershipStatus>("\"ACTIVE\"").unwrap_err().to_string();
    assert!(refused.contains("expected one of `pending`, `active`, `inactive`, `expired`"), "{refused}");
}
