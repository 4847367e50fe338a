//! Budget (issue 3): parse and classify 10,000 pasted addresses in at most 10 ms.
//! Run with `cargo bench --bench paste` for the browser's parser, and with `--features ssr` for
//! the server's, which also applies IDNA to international domains.

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

/// The same with one address in ten on an international domain, half typed in Unicode and half
/// in its ASCII (`xn--`) form.
fn international_paste(n: usize) -> String {
    let mut text = messy_paste(n - n / 10);
    for i in 0..n / 10 {
        match i % 2 {
            0 => text.push_str(&format!("kunde{i}@bücher-{}.example\n", i % 50)),
            _ => text.push_str(&format!("jörg{i}@xn--mnchen-3ya.example\n")),
        }
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = messy_paste(10_000);
    let report = parse_paste(&text);
    assert_eq!(report.entries.len(), 10_000);
    c.bench_function("parse and classify 10,000 pasted addresses", |b| b.iter(|| parse_paste(black_box(&text))));
    let text = international_paste(10_000);
    assert_eq!(parse_paste(&text).entries.len(), 10_000);
    c.bench_function("parse and classify 10,000 addresses, one in ten international", |b| {
        b.iter(|| parse_paste(black_box(&text)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
