use super::*;

fn patch(body: Value) -> Vec<Operation> {
    parse_patch(body.as_object().unwrap()).unwrap()
}

#[test]
fn filters_are_equality_comparisons_joined_by_and() {
    let terms = parse_filter(r#"userName eq "Ada@Example.com""#, USER_FILTERS).unwrap();
    assert_eq!(terms, [Equals { attribute: "userName", value: "Ada@Example.com".into() }]);
    // Attribute names and operators in any case, the core schema's URN, quotes escaped inside.
    let terms = parse_filter(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:USERNAME EQ "a \"b\"" AND externalid eq "x y""#,
        USER_FILTERS,
    )
    .unwrap();
    assert_eq!(terms[0], Equals { attribute: "userName", value: "a \"b\"".into() });
    assert_eq!(terms[1], Equals { attribute: "externalId", value: "x y".into() });
    // Entra ID looks people up by their work email.
    let terms = parse_filter(r#"emails[type eq "work"].value eq "ada@example.com""#, USER_FILTERS).unwrap();
    assert_eq!(terms[0].attribute, "emails.value");
    assert_eq!(parse_filter("displayName eq \"Night shift\"", GROUP_FILTERS).unwrap()[0].value, "Night shift");
}

#[test]
fn unsupported_filters_are_refused_with_invalid_filter() {
    for filter in [
        r#"userName co "ada""#,
        r#"userName eq "a" or userName eq "b""#,
        r#"title eq "CEO""#,
        r#"userName eq "unterminated"#,
        "userName eq",
        "userName",
        r#"userName eq ada"#,
    ] {
        let e = parse_filter(filter, USER_FILTERS).unwrap_err();
        assert_eq!((e.status, e.scim_type), (StatusCode::BAD_REQUEST, Some("invalidFilter")), "{filter}");
    }
    assert!(parse_filter(r#"displayName eq "x""#, GROUP_FILTERS).is_ok());
    assert!(parse_filter(r#"userName eq "x""#, GROUP_FILTERS).is_err());
}

#[test]
fn errors_have_the_scim_body_with_status_as_a_string() {
    let body = ScimError::uniqueness("taken").body();
    assert_eq!(body["schemas"][0], ERROR_SCHEMA);
    assert_eq!(body["status"], "409");
    assert_eq!(body["scimType"], "uniqueness");
    assert!(ScimError::not_found("gone").body().get("scimType").is_none());
}

#[test]
fn paging_is_one_based_and_capped() {
    assert_eq!(Page::parse(None, None).unwrap(), Page { start_index: 1, count: DEFAULT_COUNT });
    assert_eq!(Page::parse(Some("0"), Some("-5")).unwrap(), Page { start_index: 1, count: 0 });
    assert_eq!(Page::parse(Some("11"), Some("100000")).unwrap(), Page { start_index: 11, count: MAX_RESULTS });
    assert_eq!(Page::parse(Some("11"), None).unwrap().offset(), 10);
    assert_eq!(Page::parse(Some("x"), None).unwrap_err().scim_type, Some("invalidValue"));
}

#[test]
fn entra_id_patches_with_capitalised_ops_and_booleans_as_strings() {
    let ops = patch(json!({
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada@example.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Byron"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
            {"op": "Add", "path": "title", "value": "Countess"},
        ]
    }));
    assert_eq!(ops[0].op, Op::Replace);
    let change = UserChange::from_patch(&ops).unwrap();
    assert_eq!(change.active, Some(false));
    assert_eq!(change.email.as_deref(), Some("ada@example.com"));
    assert_eq!(change.family_name.as_deref(), Some("Byron"));
    assert_eq!(change.given_name, None);
    let change =
        UserChange::from_patch(&patch(json!({"Operations": [{"op": "replace", "path": "active", "value": "True"}]})));
    assert_eq!(change.unwrap().active, Some(true));
}

#[test]
fn okta_deactivates_with_a_pathless_replace() {
    let ops = patch(json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}));
    assert_eq!(UserChange::from_patch(&ops).unwrap().active, Some(false));
    // Dotted names inside a pathless value, as Entra ID may send them.
    let ops =
        patch(json!({"Operations": [{"op": "Replace", "value": {"name.givenName": "Ada", "externalId": "e-1"}}]}));
    let change = UserChange::from_patch(&ops).unwrap();
    assert_eq!((change.given_name.as_deref(), change.external_id), (Some("Ada"), Some(Some("e-1".into()))));
}

#[test]
fn bad_patches_say_what_is_wrong() {
    let bad = |body: Value| parse_patch(body.as_object().unwrap()).unwrap_err().scim_type;
    assert_eq!(bad(json!({"Operations": []})), Some("invalidSyntax"));
    assert_eq!(bad(json!({"schemas": [PATCH_OP]})), Some("invalidSyntax"));
    assert_eq!(bad(json!({"Operations": [{"op": "move", "path": "active", "value": true}]})), Some("invalidValue"));
    assert_eq!(bad(json!({"Operations": [{"op": "replace", "path": "active"}]})), Some("invalidValue"));
    assert_eq!(bad(json!({"Operations": [{"op": "remove"}]})), Some("noTarget"));
    let change = |body: Value| UserChange::from_patch(&patch(body)).unwrap_err().scim_type;
    assert_eq!(
        change(json!({"Operations": [{"op": "replace", "path": "active", "value": "maybe"}]})),
        Some("invalidValue")
    );
    assert_eq!(change(json!({"Operations": [{"op": "remove", "path": "userName"}]})), Some("mutability"));
    assert_eq!(
        change(json!({"Operations": [{"op": "replace", "path": "userName", "value": 7}]})),
        Some("invalidValue")
    );
}

#[test]
fn a_user_resource_names_its_email_by_primary_then_work_then_first() {
    let user = json!({
        "schemas": [USER_SCHEMA],
        "userName": "Test_User_1",
        "name": {"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
        "emails": [{"type": "home", "value": "ada@home.example"}, {"type": "work", "value": "ada@work.example"}],
        "active": "True",
        "password": "never kept",
        "externalId": "0a21f0f2",
    });
    let change = UserChange::from_resource(user.as_object().unwrap()).unwrap();
    assert_eq!(change.user_name.as_deref(), Some("Test_User_1"));
    assert_eq!(change.email.as_deref(), Some("ada@work.example"));
    assert_eq!((change.given_name.as_deref(), change.family_name.as_deref()), (Some("Ada"), Some("Lovelace")));
    assert_eq!(change.active, Some(true));
    let primary = json!({"emails": [{"value": "a@x.example"}, {"value": "b@x.example", "primary": "true"}]});
    assert_eq!(UserChange::from_resource(primary.as_object().unwrap()).unwrap().email.as_deref(), Some("b@x.example"));
}

#[test]
fn group_membership_changes_by_value_lists_and_by_filter() {
    let ops = patch(json!({"Operations": [
        {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "7"}, {"value": "8"}]},
        {"op": "Remove", "path": "members", "value": [{"value": "9"}]},
        {"op": "remove", "path": "members[value eq \"10\"]"},
        {"op": "Replace", "path": "displayName", "value": "Night shift"},
    ]}));
    let change = GroupChange::from_patch(&ops).unwrap();
    assert_eq!(change.add_members, ["7", "8"]);
    assert_eq!(change.remove_members, ["9", "10"]);
    assert_eq!(change.display_name.as_deref(), Some("Night shift"));
    // Okta renames with a pathless replace that repeats the id.
    let ops = patch(json!({"Operations": [{"op": "replace", "value": {"id": "3", "displayName": "Renamed"}}]}));
    assert_eq!(GroupChange::from_patch(&ops).unwrap().display_name.as_deref(), Some("Renamed"));
    let ops = patch(json!({"Operations": [{"op": "remove", "path": "members"}]}));
    assert!(GroupChange::from_patch(&ops).unwrap().remove_all_members);
    let ops = patch(json!({"Operations": [{"op": "replace", "path": "members", "value": [{"value": "1"}]}]}));
    assert_eq!(GroupChange::from_patch(&ops).unwrap().members, Some(vec!["1".to_string()]));
    let bad = |ops: Value| GroupChange::from_patch(&patch(ops)).unwrap_err().scim_type;
    assert_eq!(
        bad(json!({"Operations": [{"op": "add", "path": "members[value eq \"1\"]", "value": {}}]})),
        Some("invalidPath")
    );
    assert_eq!(bad(json!({"Operations": [{"op": "add", "path": "owner", "value": "x"}]})), Some("invalidPath"));
    assert_eq!(
        bad(json!({"Operations": [{"op": "add", "path": "members", "value": [{"display": "x"}]}]})),
        Some("invalidValue")
    );
    assert_eq!(bad(json!({"Operations": [{"op": "remove", "path": "displayName"}]})), Some("mutability"));
}

#[test]
fn attribute_names_are_read_in_any_case() {
    let user = json!({"USERNAME": "ada@example.com", "Active": false});
    let change = UserChange::from_resource(user.as_object().unwrap()).unwrap();
    assert_eq!((change.user_name.as_deref(), change.active), (Some("ada@example.com"), Some(false)));
}

#[test]
fn values_are_bounded_and_other_emails_left_alone() {
    let change = |ops: Value| UserChange::from_patch(&patch(json!({ "Operations": ops })));
    let long = "x".repeat(MAX_IDENTIFIER_CHARS + 1);
    assert_eq!(
        change(json!([{"op": "replace", "path": "userName", "value": long}])).unwrap_err().scim_type,
        Some("invalidValue")
    );
    let control = json!([{"op": "replace", "path": "name.givenName", "value": "Ada\u{7}"}]);
    assert_eq!(change(control).unwrap_err().scim_type, Some("invalidValue"));
    let name = json!([{"op": "replace", "path": "name", "value": {"givenName": "y".repeat(101)}}]);
    assert_eq!(change(name).unwrap_err().scim_type, Some("invalidValue"));
    // A home email is not the one Onboard invites: neither set nor refused.
    let home = json!([
        {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "ada@home.example"},
        {"op": "remove", "path": "emails[type eq \"home\"]"},
    ]);
    assert_eq!(change(home).unwrap().email, None);
    let work = json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@work.example"}]);
    assert_eq!(change(work).unwrap().email.as_deref(), Some("ada@work.example"));
}
