use crate::common::{Backend, TestApp, Visitor};
use onboard::AppError;

const PASSWORD: &str = "a long enough passphrase";

/// Acme with its owner signed in, plus `n` members spread over statuses, areas and roles.
async fn acme_with_members(app: &TestApp, n: usize) -> (i64, Visitor) {
    let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", PASSWORD).await;
    let owner = app.visitor();
    owner.sign_in("owner@acme.example", PASSWORD).await.unwrap();
    owner.call("add_service_area", &[("name", "North")]).await.unwrap();
    let north = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'North'", org).await;
    let member_role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await;
    let mut tx = app.state.db.pool.begin().await.unwrap();
    for i in 0..n {
        let account: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (email, first_name, last_name, created_at) VALUES ($1, $2, 'Tester', 0) RETURNING id",
        )
        .bind(format!("person{i:03}@acme.example"))
        .bind(if i == 7 { "Grace".to_string() } else { format!("Person{i}") })
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query("INSERT INTO memberships (org_id, account_id, service_area_id, role_id, status, created_at) VALUES ($1, $2, $3, $4, $5, 0)")
            .bind(org)
            .bind(account)
            .bind(if i % 2 == 0 { Some(north) } else { None })
            .bind(member_role)
            .bind(if i % 3 == 0 { "inactive" } else { "active" })
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    (org, owner)
}

async fn total(v: &Visitor, query: &[(&str, &str)]) -> (i64, usize) {
    let page = v.get("list_members", query).await.unwrap();
    (page["total"].as_i64().unwrap(), page["rows"].as_array().unwrap().len())
}

/// The addresses on one page of the list, and whether it goes on before and after.
async fn addresses(v: &Visitor, query: &[(&str, &str)]) -> (Vec<String>, bool, bool) {
    let page = v.get("list_members", query).await.unwrap();
    let rows = page["rows"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap().to_string()).collect();
    (rows, page["has_previous"].as_bool().unwrap(), page["has_next"].as_bool().unwrap())
}

/// Every address of the list, page by page through "next", with `extra` filter parameters.
async fn walk(v: &Visitor, extra: &[(&str, &str)]) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = extra.to_vec();
        if let Some(key) = &after {
            query.push(("filter[after]", key));
        }
        let (rows, _, has_next) = addresses(v, &query).await;
        seen.extend(rows.iter().cloned());
        if !has_next {
            return seen;
        }
        after = rows.last().cloned();
    }
}

async fn members_can_be_searched_filtered_and_paged(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = acme_with_members(&app, 120).await;
    assert_eq!(total(&owner, &[]).await, (121, 50));
    let (first, has_previous, has_next) = addresses(&owner, &[]).await;
    assert_eq!((first[0].as_str(), has_previous, has_next), ("owner@acme.example", false, true));

    // Next, next, next: every member once, in address order; back again through "previous".
    let everyone = walk(&owner, &[]).await;
    let mut sorted = everyone.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((everyone.len(), &everyone), (121, &sorted));
    let (last, has_previous, has_next) = addresses(&owner, &[("filter[last]", "true")]).await;
    assert_eq!((&last[..], has_previous, has_next), (&everyone[71..], true, false));
    let (before, has_previous, has_next) = addresses(&owner, &[("filter[before]", &last[0])]).await;
    assert_eq!((&before[..], has_previous, has_next), (&everyone[21..71], true, true));
    let (from, has_previous, _) = addresses(&owner, &[("filter[from]", "person1")]).await;
    assert_eq!((from[0].as_str(), has_previous), ("person100@acme.example", true));
    // The page offers what the list has around it: from the first page only onwards.
    let first_page = owner.page("/users").await.text().await.unwrap();
    assert!(first_page.contains(r#"class="pager""#) && first_page.contains("50 per page"), "{first_page}");
    assert!(first_page.contains("Next ›") && first_page.contains("Last »"), "{first_page}");
    assert!(!first_page.contains("‹ Previous") && !first_page.contains("« First"), "{first_page}");
    let last_page = owner.page("/users?last=1").await.text().await.unwrap();
    assert!(last_page.contains("« First") && last_page.contains("‹ Previous"), "{last_page}");
    assert!(!last_page.contains("Next ›") && !last_page.contains("Last »"), "{last_page}");

    assert_eq!(total(&owner, &[("filter[search]", "GRACE")]).await, (1, 1));
    assert_eq!(total(&owner, &[("filter[search]", "person00")]).await, (10, 10));
    assert_eq!(total(&owner, &[("filter[search]", "tester")]).await, (120, 50), "a last name");
    assert_eq!(total(&owner, &[("filter[search]", "Pe")]).await, (120, 50), "two letters: the start of an address");
    assert_eq!(
        total(&owner, &[("filter[search]", "person10")]).await.0,
        11,
        "the start of a word: person10x@, Person10"
    );
    assert_eq!(total(&owner, &[("filter[search]", "erson")]).await.0, 0, "not the middle of one");
    assert_eq!(total(&owner, &[("filter[search]", "%")]).await, (0, 0), "a typed % is not a wildcard");
    assert_eq!(total(&owner, &[("filter[search]", "%_%")]).await, (0, 0), "nor in a longer search");
    let nothing = addresses(&owner, &[("filter[search]", "***"), ("filter[from]", "m")]).await;
    assert_eq!(nothing, (vec![], false, false), "no words to look for, from any place in the list");
    assert_eq!(walk(&owner, &[("filter[search]", "acme")]).await, everyone, "a search pages like the list");
    assert_eq!(total(&owner, &[("filter[status]", "Inactive")]).await.0, 40);
    let north = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'North'", org).await;
    assert_eq!(total(&owner, &[("filter[area]", &north.to_string())]).await.0, 60);
    let member_role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await;
    let both = [("filter[role]", member_role.to_string()), ("filter[status]", "Active".to_string())];
    let both: Vec<(&str, &str)> = both.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(total(&owner, &both).await.0, 80);
    assert_eq!(walk(&owner, &both).await.len(), 80);

    // The kept counts follow a pause, a move to another area and a new member.
    let id = app.scalar_i64("SELECT MAX(id) FROM memberships WHERE org_id = $1 AND status = 'active'", org).await;
    owner.call("pause_member", &[("id", &id.to_string())]).await.unwrap();
    assert_eq!(total(&owner, &[("filter[status]", "Inactive")]).await.0, 41);
    sqlx::query("UPDATE memberships SET service_area_id = NULL WHERE org_id = $1 AND service_area_id IS NOT NULL")
        .bind(org)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(total(&owner, &[("filter[area]", &north.to_string())]).await.0, 0);
    sqlx::query(
        "UPDATE accounts SET first_name = 'Ada', email = 'zz-ada@acme.example' WHERE email = 'person005@acme.example'",
    )
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let (ada, _, _) = addresses(&owner, &[("filter[search]", "ada")]).await;
    assert_eq!(ada, ["zz-ada@acme.example"], "a changed name and address are found, and listed in their new place");
    assert_eq!(walk(&owner, &[]).await.last().unwrap(), "zz-ada@acme.example");
    app.stop().await;
}

/// Keyset paging while people are invited: a walk through the list shows every member who was
/// there before it began exactly once, whatever is added meanwhile before or after its place.
async fn paging_skips_and_repeats_no_one_while_members_are_added(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = acme_with_members(&app, 300).await;
    let before = walk(&owner, &[]).await;
    let member_role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await;
    let pool = app.state.db.pool.clone();
    let adding = tokio::spawn(async move {
        for i in 0..150 {
            // Around every place in the list: "a…" before it all, "person…x" among it, "z…" after.
            let email = match i % 3 {
                0 => format!("a{i:03}@acme.example"),
                1 => format!("person{:03}x@acme.example", i * 2),
                _ => format!("z{i:03}@acme.example"),
            };
            let account: i64 =
                sqlx::query_scalar("INSERT INTO accounts (email, created_at) VALUES ($1, 0) RETURNING id")
                    .bind(&email)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            sqlx::query("INSERT INTO memberships (org_id, account_id, role_id, status, created_at) VALUES ($1, $2, $3, 'pending', 0)")
                .bind(org)
                .bind(account)
                .bind(member_role)
                .execute(&pool)
                .await
                .unwrap();
        }
    });
    let during = walk(&owner, &[]).await;
    adding.await.unwrap();
    let mut unique = during.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), during.len(), "no member is shown twice");
    assert_eq!(unique, during, "the walk stays in address order");
    let missing: Vec<_> = before.iter().filter(|e| !during.contains(e)).collect();
    assert!(missing.is_empty(), "no member is skipped: {missing:?}");
    assert_eq!(walk(&owner, &[]).await.len(), 451);
    assert_eq!(total(&owner, &[]).await.0, 451);
    app.stop().await;
}

/// The same search finds the same members on SQLite (FTS5) and PostgreSQL (text search): words
/// as prefixes, in any case, letters beyond ASCII, quotes and LIKE's wildcards typed as text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_find_the_same_members_on_sqlite_and_postgresql() {
    let people = [
        ("olaf@nord.example", "Ölaf", "Åström"),
        ("emile@paris.example", "ÉMILE", "Zola"),
        ("quote@acme.example", "Dwayne \"The Rock\"", "Johnson"),
        ("percent@acme.example", "Fifty", "50%_off"),
        ("maria@acme.example", "María José", "García"),
        ("ada@lovelace.example", "Ada", "Lovelace"),
        ("nikos@gr.example", "ΝΊΚΟΣ", "Παπαδόπουλος"),
        ("7e3a9f@hex.example", "", ""),
    ];
    let searches = [
        "ölaf",
        "ÖLAF",
        "åst",
        "émile",
        "Émi",
        "mile",
        "\"the rock\"",
        "rock\"",
        "50%_",
        "0%_o",
        "maría j",
        "ía j",
        "garcía",
        "arc",
        "ada love",
        "lovelace.ex",
        "@acme",
        "nord",
        "acme.example",
        "no such person",
        "ol",
        "em",
        "ΠΑΠΑΔΌΠΟΥΛΟΣ",
        "νίκος",
        "a9f",
        "7e3",
    ];
    let mut found = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && crate::common::postgres_skipped() {
            return;
        }
        let app = TestApp::start(backend).await;
        let (org, owner) = acme_with_members(&app, 0).await;
        for (email, first, last) in people {
            app.add_member(org, email, PASSWORD, "Member").await;
            sqlx::query("UPDATE accounts SET first_name = $2, last_name = $3 WHERE email = $1")
                .bind(email)
                .bind(first)
                .bind(last)
                .execute(&app.state.db.pool)
                .await
                .unwrap();
        }
        let mut results = Vec::new();
        for search in searches {
            results.push((search, addresses(&owner, &[("filter[search]", search)]).await.0));
        }
        found.push(results);
        app.stop().await;
    }
    assert_eq!(found[0], found[1], "SQLite first, PostgreSQL second");
    let of = |search: &str| found[0].iter().find(|(s, _)| *s == search).unwrap().1.clone();
    assert_eq!(of("ÖLAF"), ["olaf@nord.example"]);
    assert_eq!(of("Émi"), ["emile@paris.example"]);
    assert_eq!(of("rock\""), ["quote@acme.example"]);
    assert_eq!(of("50%_"), ["percent@acme.example"]);
    assert_eq!(of("maría j"), ["maria@acme.example"]);
    assert!(of("ía j").is_empty() && of("mile").is_empty(), "words match from their start");
    assert_eq!(of("ada love"), ["ada@lovelace.example"]);
    assert_eq!(of("@acme").len(), 4, "the owner and three people at acme");
    assert!(of("no such person").is_empty());
    assert_eq!(of("em"), ["emile@paris.example"], "two letters match the start of an address");
    assert_eq!(of("ΠΑΠΑΔΌΠΟΥΛΟΣ"), ["nikos@gr.example"], "a final sigma typed in capitals");
    assert_eq!(of("νίκος"), ["nikos@gr.example"]);
    assert_eq!(of("7e3"), ["7e3a9f@hex.example"], "a word that looks like a number is one word");
    assert!(of("a9f").is_empty());
}

async fn pausing_a_member_ends_their_access_and_resuming_restores_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = acme_with_members(&app, 0).await;
    app.add_member(org, "mia@acme.example", PASSWORD, "Member").await;
    let mia = app.visitor();
    mia.sign_in("mia@acme.example", PASSWORD).await.unwrap();
    let id = app.scalar_i64("SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'mia@acme.example' AND m.org_id = $1", org).await;

    owner.call("pause_member", &[("id", &id.to_string())]).await.unwrap();
    assert!(mia.whoami().await.is_null(), "the paused member's session is over");
    assert!(mia.sign_in("mia@acme.example", PASSWORD).await.is_err(), "and they cannot sign in again");
    let again = owner.call("pause_member", &[("id", &id.to_string())]).await;
    assert!(matches!(again, Err((409, AppError::Conflict(_)))), "{again:?}");

    owner.call("resume_member", &[("id", &id.to_string())]).await.unwrap();
    mia.sign_in("mia@acme.example", PASSWORD).await.unwrap();
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE org_id = $1 AND action LIKE 'member.%' ORDER BY id")
            .bind(org)
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(actions, ["member.paused", "member.resumed"]);
    app.stop().await;
}

async fn nobody_can_pause_themselves_or_someone_with_more_permissions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (org, owner) = acme_with_members(&app, 0).await;
    let owner_membership = app.scalar_i64("SELECT MIN(id) FROM memberships WHERE org_id = $1", org).await;
    let myself = owner.call("pause_member", &[("id", &owner_membership.to_string())]).await;
    assert!(matches!(myself, Err((409, AppError::Conflict(_)))), "{myself:?}");

    app.add_member(org, "admin@acme.example", PASSWORD, "Admin").await;
    let admin = app.visitor();
    admin.sign_in("admin@acme.example", PASSWORD).await.unwrap();
    let over = admin.call("pause_member", &[("id", &owner_membership.to_string())]).await;
    assert!(
        matches!(over, Err((409, AppError::Conflict(ref m))) if m.contains("permissions you do not have")),
        "{over:?}"
    );
    app.stop().await;
}

/// `onboard dev seed`: every status, area, role, team, mapping and message it promises, with
/// the dashboard's counts in step (they are kept by triggers, which the seed goes through).
async fn a_seeded_organization_has_every_status_team_and_mapping(backend: Backend) {
    use onboard::server::seed::{large_organization, Plan};
    let app = TestApp::start(backend).await;
    // Three transactions of 700, 700 and 600: the chunks join up without a gap or an overlap.
    let plan = Plan { members: 2_000, teams: 20, owner: "owner@seed.example".into(), per_transaction: 700 };
    let org = large_organization(&app.state, &plan).await.unwrap().org_id;
    let count = |sql: &'static str| app.scalar_i64(sql, org);
    let statuses: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM memberships WHERE org_id = $1 GROUP BY status ORDER BY status")
            .bind(org)
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    let expected = [("active", 801), ("expired", 200), ("inactive", 200), ("pending", 800)];
    assert_eq!(statuses, expected.map(|(s, n)| (s.to_string(), n)), "2,000 members and the Owner");
    assert_eq!(count("SELECT COUNT(DISTINCT service_area_id) FROM memberships WHERE org_id = $1").await, 11);
    assert_eq!(count("SELECT COUNT(*) FROM memberships m JOIN roles r ON r.id = m.role_id WHERE m.org_id = $1 AND r.name = 'Manager'").await, 2);
    assert_eq!(count("SELECT COUNT(*) FROM teams WHERE org_id = $1").await, 20);
    assert_eq!(
        count("SELECT COUNT(*) FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.org_id = $1").await,
        2_200
    );
    assert_eq!(
        count("SELECT CAST(SUM(members) AS BIGINT) FROM teams WHERE org_id = $1").await,
        2_200,
        "team counts kept by the triggers"
    );
    assert_eq!(count("SELECT COUNT(*) FROM identity_mappings WHERE org_id = $1 AND provider = 'slack'").await, 200);
    assert_eq!(count("SELECT COUNT(*) FROM identity_mappings WHERE org_id = $1 AND provider = 'teams'").await, 100);
    assert_eq!(count("SELECT COUNT(*) FROM invitations WHERE org_id = $1").await, 1_000);
    let seeded = "SELECT COUNT(DISTINCT a.email) FROM accounts a JOIN memberships m ON m.account_id = a.id
                  WHERE m.org_id = $1 AND a.email LIKE 'member%'";
    assert_eq!(count(seeded).await, 2_000);
    let notified = count("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND notified_at IS NOT NULL").await;
    assert!(notified > 0);
    assert_eq!(count("SELECT COUNT(*) FROM onboarding_messages WHERE org_id = $1").await, notified);
    assert_eq!(count("SELECT total FROM onboarding_counts WHERE org_id = $1").await, 2_001);
    assert_eq!(count("SELECT onboarded FROM onboarding_counts WHERE org_id = $1").await, 1_001);
    app.stop().await;
}

crate::on_both_databases!(
    members_can_be_searched_filtered_and_paged,
    paging_skips_and_repeats_no_one_while_members_are_added,
    pausing_a_member_ends_their_access_and_resuming_restores_it,
    nobody_can_pause_themselves_or_someone_with_more_permissions,
    a_seeded_organization_has_every_status_team_and_mapping,
);
