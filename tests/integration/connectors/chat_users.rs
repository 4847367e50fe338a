//! The chat users' list: its pages keep the platform and search they were filtered by.

use super::*;

/// Sixty Telegram users called Ada, sixty Slack users called Ada and ten Telegram users called
/// Bob: filtered to Telegram and "ada", the list has two pages, and the second page's link, and
/// the page it leads to, keep both filters.
async fn chat_user_pages_keep_the_platform_and_search(backend: Backend) {
    let w = world(backend).await;
    let people = (0..60)
        .map(|i| ("telegram", "Ada", format!("Telegram-{i}")))
        .chain((0..60).map(|i| ("slack", "Ada", format!("Slackuser-{i}"))))
        .chain((0..10).map(|i| ("telegram", "Bob", format!("Telegram-bob-{i}"))));
    for (n, (provider, first, last)) in people.enumerate() {
        sqlx::query(
            "INSERT INTO chat_users (org_id, provider, platform_id, first_name, last_name, created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(w.org)
        .bind(provider)
        .bind(format!("id-{n}"))
        .bind(first)
        .bind(&last)
        .bind(1_700_000_000_000i64 + n as i64)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    }

    let first = w.owner.page("/chat-users?provider=telegram&search=ada").await;
    assert_eq!(first.status(), 200);
    let first = first.text().await.unwrap().replace("&amp;", "&");
    assert!(first.contains("Page 1 of 2"), "60 matches, 50 a page");
    assert!(!first.contains("Slackuser-") && !first.contains("Telegram-bob-"), "the first page is filtered");
    let next = "/chat-users?provider=telegram&search=ada&page=2";
    assert!(first.contains(&format!(r#"href="{next}""#)), "the next page keeps both filters");

    let second = w.owner.page(next).await.text().await.unwrap().replace("&amp;", "&");
    assert!(second.contains("Page 2 of 2"));
    assert_eq!(second.matches(r#"<a href="/chat-users/"#).count(), 10, "the ten other Adas");
    assert!(!second.contains("Slackuser-") && !second.contains("Telegram-bob-"), "the second page is filtered too");
    let previous = "/chat-users?provider=telegram&search=ada";
    assert!(second.contains(&format!(r#"href="{previous}""#)), "and so does the way back");
}

crate::on_both_databases!(chat_user_pages_keep_the_platform_and_search);
