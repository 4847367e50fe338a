//! Issue 16: a spreadsheet of 100,000 people read (CSV with quoted cells and Windows line
//! ends) and every row checked against the organization's areas, roles, teams and members,
//! before anything is stored. Run with `cargo bench --features ssr --bench import`.

use criterion::{criterion_group, criterion_main, Criterion};
use onboard::domain::import::{check_rows, Lookups, RowClass};
use onboard::domain::MembershipStatus;
use onboard::server::sheets;
use std::collections::HashMap;
use std::hint::black_box;

/// A sheet as an HR system exports it: every column, quoted names with commas, a tenth of the
/// rows with a problem (a typo in the address, an unknown area, a repeat).
fn sheet(n: usize) -> String {
    let mut text = String::from("\u{feff}Email,First name,Last name,Mobile,Service area,Role,Teams\r\n");
    for i in 0..n {
        let (email, area) = match i % 10 {
            0 => (format!("typo{i}@example"), "North"),
            1 => (format!("person{}@example.com", i - 1), "North"),
            2 => (format!("person{i}@example.com"), "Nort"),
            _ => (format!("person{i}@example.com"), if i % 2 == 0 { "North" } else { "South" }),
        };
        text.push_str(&format!(
            "{email},\"Ada, {i}\",Lovelace,+44 7911 {:06},{area},Member,Nurses|Night shift\r\n",
            i % 1_000_000
        ));
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = sheet(100_000);
    let known: HashMap<String, MembershipStatus> =
        (0..1_000).map(|i| (format!("person{}@example.com", i * 97), MembershipStatus::Active)).collect();
    let lookups = Lookups {
        areas: &[(1, "North".into()), (2, "South".into())],
        roles: &[(10, "Member".into(), true)],
        teams: &[(20, "Nurses".into()), (21, "Night shift".into())],
        default_area: 1,
        default_role: 10,
        known: &known,
    };
    // The server's phone rules are the phonenumber crate's; a stand-in keeps this about the sheet.
    let mobile = |raw: &str| Ok(raw.replace(' ', ""));
    let read = sheets::read(&text).unwrap();
    let rows = check_rows(&read.header, read.rows.iter().map(|r| (r.number, r.cells.as_slice())), &lookups, mobile);
    assert_eq!(rows.len(), 100_000);
    assert!(rows.iter().filter(|r| r.class == RowClass::New).count() > 60_000);
    c.bench_function("read a 100,000-row sheet", |b| b.iter(|| sheets::read(black_box(&text)).unwrap()));
    c.bench_function("check 100,000 rows against the organization", |b| {
        b.iter(|| check_rows(&read.header, read.rows.iter().map(|r| (r.number, r.cells.as_slice())), &lookups, mobile))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
