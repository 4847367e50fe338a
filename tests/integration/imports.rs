//! Inviting from a spreadsheet: the dry run row by row, sending with each row's choices, the
//! result per row, and what changes between the check and the sending.

use crate::common::smtp::SmtpSink;
use crate::common::{Acme, Backend, TestApp, Visitor, OWNER_PASSWORD as PASSWORD};
use onboard::AppError;
use serde_json::Value;

struct World {
    app: TestApp,
    sink: SmtpSink,
    owner: Visitor,
    org: i64,
    general: i64,
    north: i64,
    member_role: i64,
    nurses: i64,
}

async fn world(backend: Backend) -> World {
    let Acme { app, sink, owner, org, general, member_role } = Acme::start(backend).await;
    owner.call("add_service_area", &[("name", "North")]).await.unwrap();
    let north = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'North'", org).await;
    let nurses = owner.call("create_team", &[("name", "Nurses")]).await.unwrap().as_i64().unwrap();
    World { app, sink, owner, org, general, north, member_role, nurses }
}

impl World {
    async fn check(&self, who: &Visitor, sheet: &str) -> Result<i64, (u16, AppError)> {
        let area = self.general.to_string();
        let role = self.member_role.to_string();
        let answer = who.call("check_sheet", &[("pasted", sheet), ("area", &area), ("role", &role)]).await?;
        Ok(answer.as_i64().expect("a check's id"))
    }

    async fn rows(&self, who: &Visitor, id: i64, class: &str, page: i64) -> Result<Value, (u16, AppError)> {
        who.get("sheet_import", &[("id", &id.to_string()), ("class", class), ("page", &page.to_string())]).await
    }

    async fn membership(&self, email: &str) -> (i64, i64, String, String, String, String) {
        sqlx::query_as(
            "SELECT service_area_id, role_id, prefill_first_name, prefill_last_name, prefill_mobile, full_name
             FROM memberships WHERE org_id = $1 AND email = $2",
        )
        .bind(self.org)
        .bind(email)
        .fetch_one(&self.app.state.db.pool)
        .await
        .unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        self.app.scalar_i64(sql, self.org).await
    }
}

/// `(class, reason)` of each row on a page.
fn outcomes(page: &Value) -> Vec<(String, String)> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["class"].as_str().unwrap().to_string(), r["reason"].as_str().unwrap_or("").to_string()))
        .collect()
}

const SHEET: &str = "\u{feff}Email;First name;Last name;Mobile;Service area;Role;Teams;Notes\r\n\
ada@acme.example;Ada;\"Lovelace; Countess\";+44 7911 123456;north;Manager;Nurses;x\r\n\
bob@;Bob;;;;;;\r\n\
\r\n\
carol@acme.example;;;;Nort;;;\r\n\
owner@acme.example;;;;;;;\r\n\
erin@acme.example;;;;;Boss;;\r\n\
fay@acme.example;;;;;;Nurses|Night;\r\n\
ADA@acme.example;;;;;;;\r\n\
gus@acme.example;Gus;;;;;;\r\n";

async fn a_sheet_is_checked_row_by_row_then_sent_with_each_rows_choices(backend: Backend) {
    let w = world(backend).await;
    let memberships = "SELECT COUNT(*) FROM memberships WHERE org_id = $1";
    let id = w.check(&w.owner, SHEET).await.unwrap();

    // The dry run: every row classified, each bad one saying which row and what is wrong.
    let page = w.rows(&w.owner, id, "", 1).await.unwrap();
    let sheet = &page["sheet"];
    assert_eq!(sheet["ignored_columns"], serde_json::json!(["Notes"]));
    assert_eq!(sheet["batch"], Value::Null);
    let counts: Vec<(String, i64)> = sheet["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap().to_string(), c[1].as_i64().unwrap()))
        .collect();
    let expected = [
        ("New", 2),
        ("Invalid", 1),
        ("DuplicateInSheet", 1),
        ("AlreadyMember", 1),
        ("UnknownArea", 1),
        ("UnknownRole", 1),
        ("UnknownTeam", 1),
    ];
    assert_eq!(counts, expected.map(|(c, n)| (c.to_string(), n)));
    let got = outcomes(&page);
    assert_eq!(got[0], ("New".to_string(), String::new()));
    assert!(got[1].1.starts_with("row 3: “bob@” is not a valid email address"), "{got:?}");
    assert_eq!(
        &got[2..],
        [
            ("UnknownArea", "row 5: no service area called ‘Nort’."),
            ("AlreadyMember", "row 6: owner@acme.example is already a member."),
            ("UnknownRole", "row 7: no role called ‘Boss’."),
            ("UnknownTeam", "row 8: no team called ‘Night’."),
            ("DuplicateInSheet", "row 9: ada@acme.example is already on row 2."),
            ("New", ""),
        ]
        .map(|(c, r)| (c.to_string(), r.to_string()))
    );
    let ada = &page["rows"][0];
    assert_eq!((ada["area"].as_str(), ada["role"].as_str()), (Some("North"), Some("Manager")));
    assert_eq!((ada["name"].as_str(), ada["mobile"].as_str()), (Some("Ada Lovelace; Countess"), Some("+447911123456")));
    assert_eq!(ada["teams"], serde_json::json!(["Nurses"]));
    // One class at a time.
    let unknown = w.rows(&w.owner, id, "unknown-area", 1).await.unwrap();
    assert_eq!((unknown["total"].as_i64(), unknown["rows"].as_array().unwrap().len()), (Some(1), 1));
    // Nothing is stored before the admin confirms.
    assert_eq!(w.count(memberships).await, 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM outbox_jobs WHERE org_id = $1").await, 0);

    let batch = w.owner.call("send_sheet", &[("id", &id.to_string())]).await.unwrap().as_i64().unwrap();
    let again = w.owner.call("send_sheet", &[("id", &id.to_string())]).await;
    assert!(matches!(again, Err((409, AppError::Conflict(_)))), "a sheet is sent once: {again:?}");
    let progress = w.owner.get("invite_batch", &[("id", &batch.to_string())]).await.unwrap();
    assert_eq!(progress["sheet"].as_i64(), Some(id));
    w.app
        .eventually("both invitations are sent", || async {
            w.owner.get("invite_batch", &[("id", &batch.to_string())]).await.unwrap()["sent"] == 2
        })
        .await;

    // Each row's own area, role, team and details; the page's choices for the row without.
    let manager = w.app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Manager'", w.org).await;
    let (area, role, first, last, mobile, full_name) = w.membership("ada@acme.example").await;
    assert_eq!((area, role), (w.north, manager));
    assert_eq!((first.as_str(), last.as_str(), mobile.as_str()), ("Ada", "Lovelace; Countess", "+447911123456"));
    assert_eq!(full_name, "Ada Lovelace; Countess", "the users list names her before she registers");
    let on_team = "SELECT COUNT(*) FROM team_members tm JOIN memberships m ON m.id = tm.membership_id
                   WHERE tm.team_id = $1 AND m.email = 'ada@acme.example'";
    assert_eq!(w.app.scalar_i64(on_team, w.nurses).await, 1);
    let (area, role, ..) = w.membership("gus@acme.example").await;
    assert_eq!((area, role), (w.general, w.member_role));
    assert_eq!(w.count(memberships).await, 3);

    // Her registration form starts with what the sheet said.
    let token = w.sink.to("ada@acme.example").pop().unwrap().registration_token().unwrap();
    let invitee = w.app.visitor();
    let info = invitee.get("registration", &[("token", &token)]).await.unwrap();
    assert_eq!(info["prefill"]["first_name"], "Ada");
    assert_eq!(info["prefill"]["last_name"], "Lovelace; Countess");
    assert_eq!(info["prefill"]["mobile"], "+447911123456");

    // The batch's rows say what became of each, and the download says the same.
    let results = w.rows(&w.owner, id, "", 1).await.unwrap();
    assert_eq!(results["rows"][0]["result"], "Sent");
    assert_eq!(results["rows"][1]["result"], Value::Null);
    let res = w.owner.client.get(format!("{}/api/export_sheet_results?id={id}", w.owner.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "\u{feff}row,email,first_name,last_name,mobile,service_area,role,teams,class,result,reason");
    assert_eq!(lines.len(), 9, "{csv}");
    // A cell a spreadsheet would run as a formula is kept as text (OWASP, CSV Injection).
    assert_eq!(
        lines[1],
        "2,ada@acme.example,Ada,Lovelace; Countess,'+447911123456,North,Manager,Nurses,New,Invited · email sent,"
    );
    assert!(
        lines[3].starts_with("5,carol@acme.example,") && lines[3].ends_with("row 5: no service area called ‘Nort’."),
        "{csv}"
    );
    w.app.stop().await;
}

async fn a_check_is_its_authors_and_roles_beyond_the_inviter_are_refused_per_row(backend: Backend) {
    let w = world(backend).await;
    w.app.add_member(w.org, "manager@acme.example", PASSWORD, "Manager").await;
    let manager = w.app.visitor();
    manager.sign_in("manager@acme.example", PASSWORD).await.unwrap();
    let owners_check = w.check(&w.owner, "email\nsomeone@acme.example\n").await.unwrap();
    let theirs = w.rows(&manager, owners_check, "", 1).await;
    assert!(matches!(theirs, Err((404, AppError::NotFound))), "another inviter's dry run is private: {theirs:?}");
    let send = manager.call("send_sheet", &[("id", &owners_check.to_string())]).await;
    assert!(matches!(send, Err((404, AppError::NotFound))), "{send:?}");

    // A Manager may invite, but not give Admin, which holds permissions a Manager lacks.
    let id = w.check(&manager, "email,role\nann@acme.example,Admin\nben@acme.example,member\n").await.unwrap();
    let page = w.rows(&manager, id, "", 1).await.unwrap();
    assert_eq!(
        outcomes(&page),
        [
            ("RoleNotAllowed", "row 2: you cannot give the role ‘Admin’: it has permissions you do not have."),
            ("New", ""),
        ]
        .map(|(c, r)| (c.to_string(), r.to_string()))
    );
    let batch = manager.call("send_sheet", &[("id", &id.to_string())]).await.unwrap().as_i64().unwrap();
    // Once sent, the rows are the batch's: anyone who may invite follows them.
    let results = w.rows(&w.owner, id, "", 1).await.unwrap();
    assert_eq!(results["sheet"]["batch"].as_i64(), Some(batch));
    assert_eq!(w.count("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND email = 'ann@acme.example'").await, 0);
    w.app.stop().await;
}

async fn what_changed_between_the_check_and_the_sending_is_checked_again(backend: Backend) {
    let w = world(backend).await;
    let id = w
        .check(&w.owner, "email,teams\nann@acme.example,\nben@acme.example,\ncid@acme.example,Nurses\n")
        .await
        .unwrap();
    // Meanwhile ben is invited by paste, and the team cid was to join is deleted.
    let (area, role) = (w.general.to_string(), w.member_role.to_string());
    w.owner.call("send_invites", &[("emails", "ben@acme.example"), ("area", &area), ("role", &role)]).await.unwrap();
    w.owner.call("delete_team", &[("id", &w.nurses.to_string())]).await.unwrap();
    w.owner.call("send_sheet", &[("id", &id.to_string())]).await.unwrap();
    let page = w.rows(&w.owner, id, "", 1).await.unwrap();
    assert_eq!(
        outcomes(&page),
        [
            ("New", ""),
            ("AlreadyPending", "row 3: ben@acme.example was invited meanwhile."),
            ("UnknownTeam", "row 4: one of its teams was deleted meanwhile."),
        ]
        .map(|(c, r)| (c.to_string(), r.to_string()))
    );
    assert_eq!(w.count("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND email = 'cid@acme.example'").await, 0);
    w.app.stop().await;
}

async fn bad_sheets_are_refused_with_what_to_do_and_a_check_expires(backend: Backend) {
    let w = world(backend).await;
    let field_of = |answer: Result<i64, (u16, AppError)>| match answer {
        Err((422, AppError::Invalid { field, reason })) => (field, reason),
        other => panic!("not refused: {other:?}"),
    };
    assert_eq!(field_of(w.check(&w.owner, " \n").await).0, "sheet");
    let (field, reason) = field_of(w.check(&w.owner, "name,address\nAda,London\n").await);
    assert_eq!(
        (field.as_str(), reason.as_str()),
        ("sheet", "row 1 must name the columns, and one of them must be ‘email’.")
    );
    let (_, reason) = field_of(w.check(&w.owner, "email,Phone,Mobile\na@acme.example,1,2\n").await);
    assert!(reason.contains("columns B (‘Phone’) and C (‘Mobile’) are both read as ‘mobile’"), "{reason}");
    assert!(field_of(w.check(&w.owner, "email\n").await).1.contains("no people"));
    let area = w.owner.call("check_sheet", &[("pasted", "email\na@acme.example"), ("area", "0"), ("role", "0")]).await;
    assert!(matches!(area, Err((422, AppError::Invalid { ref field, .. })) if field == "area"), "{area:?}");
    assert_eq!(
        w.count("SELECT COUNT(*) FROM sheet_imports WHERE org_id = $1").await,
        0,
        "nothing kept of a refused sheet"
    );

    // A check not sent within a day is gone: its page says so, and sending it does nothing.
    let id = w.check(&w.owner, "email\nlate@acme.example\n").await.unwrap();
    sqlx::query("UPDATE sheet_imports SET expires_at = 1 WHERE id = $1")
        .bind(id)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    assert!(matches!(w.rows(&w.owner, id, "", 1).await, Err((404, AppError::NotFound))));
    let late = w.owner.call("send_sheet", &[("id", &id.to_string())]).await;
    assert!(matches!(late, Err((404, AppError::NotFound))), "{late:?}");
    assert_eq!(onboard::server::db::sheet_imports::prune(&w.app.state.db, 2).await.unwrap(), 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM memberships WHERE org_id = $1").await, 1);
    w.app.stop().await;
}

async fn a_sheet_of_twenty_five_thousand_pages_and_stores_each_rows_choices_in_parts(backend: Backend) {
    let w = world(backend).await;
    // Alternate rows go to North and the Nurses; the last 15,000 are stored by the outbox.
    let mut sheet = String::from("email\tfirst name\tservice area\tteams\n");
    for i in 0..25_000 {
        let (area, team) = if i % 2 == 0 { ("North", "Nurses") } else { ("", "") };
        sheet.push_str(&format!("p{i:05}@bulk.example\tP{i}\t{area}\t{team}\n"));
    }
    let id = w.check(&w.owner, &sheet).await.unwrap();
    let last = w.rows(&w.owner, id, "", 500).await.unwrap();
    assert_eq!((last["page"].as_i64(), last["total"].as_i64()), (Some(500), Some(25_000)));
    assert_eq!(last["rows"].as_array().unwrap().len(), 50);
    assert_eq!(last["rows"][49]["number"].as_i64(), Some(25_001), "the header is row 1");
    let beyond = w.rows(&w.owner, id, "", 9_999).await.unwrap();
    assert_eq!(beyond["page"].as_i64(), Some(500), "a page past the end shows the last");

    let batch = w.owner.call("send_sheet", &[("id", &id.to_string())]).await.unwrap().as_i64().unwrap();
    w.app
        .eventually_within(std::time::Duration::from_secs(300), "the whole sheet is stored", || async {
            w.count("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND status = 'pending'").await == 25_000
        })
        .await;
    let north = "SELECT COUNT(*) FROM memberships WHERE service_area_id = $1 AND status = 'pending'";
    assert_eq!(w.app.scalar_i64(north, w.north).await, 12_500, "deferred rows keep their own area");
    let nurses = "SELECT COUNT(*) FROM team_members WHERE team_id = $1";
    assert_eq!(w.app.scalar_i64(nurses, w.nurses).await, 12_500);
    let (_, _, first, ..) = w.membership("p24998@bulk.example").await;
    assert_eq!(first, "P24998");
    let progress = w.owner.get("invite_batch", &[("id", &batch.to_string())]).await.unwrap();
    assert_eq!(progress["preparing"], 0, "{progress}");
    w.app.stop().await;
}

crate::on_both_databases!(
    a_sheet_is_checked_row_by_row_then_sent_with_each_rows_choices,
    a_check_is_its_authors_and_roles_beyond_the_inviter_are_refused_per_row,
    what_changed_between_the_check_and_the_sending_is_checked_again,
    bad_sheets_are_refused_with_what_to_do_and_a_check_expires,
    a_sheet_of_twenty_five_thousand_pages_and_stores_each_rows_choices_in_parts,
);
