//! Budget (issue 3): parse and classify 10,000 pasted addresses in at most 10 ms.
//! Run with `cargo bench --bench paste`.

use criterion::{criterion_group, criterion_main, Criterion};
use onboard::domain::email_list::parse_paste;
use std::hint::black_box;

/// A realistic messy paste: mixed separators, names from a mail client, case, blanks, typos
/// and repeats.
fn messy_paste(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        match i % 10 {
            0 => text.push_str(&format!("Person Number{i} <Person.{i}@Example.com>, ")),
            1 => text.push_str(&format!("\"Last{i}, First\" <first.last{i}@example.org>;\n")),
            2 => text.push_str(&format!("  user{i}@EXAMPLE.NET  \n\n")),
            3 => text.push_str(&format!("typo{i}@example\n")),
            4 => text.push_str(&format!("user{}@example.net\n", i - 2)),
            _ => text.push_str(&format!("member{i}@company.example; ")),
        }
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = messy_paste(10_000);
    let report = parse_paste(&text);
    assert_eq!(report.entries.len(), 10_000);
    c.bench_function("parse and classify 10,000 pasted addresses", |b| b.iter(|| parse_paste(black_box(&text))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
