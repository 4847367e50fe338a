# The two commands in the README. Both install what is missing first.
.PHONY: run test watch fmt fuzz faults load lighthouse

## Serve Onboard on http://127.0.0.1:3000 with SQLite under data/.
run:
	scripts/run.sh

## Run every test: Rust on SQLite and PostgreSQL, then Playwright against the release build.
test:
	scripts/test.sh

## Rebuild and reload while developing (debug build).
watch:
	scripts/setup.sh
	PATH="$(CURDIR)/end2end/node_modules/.bin:$$PATH" cargo leptos watch --split

## Feed arbitrary input to the email-list parser and every webhook decoder (MINUTES each, default 10).
fuzz:
	scripts/fuzz.sh $(MINUTES)

## Several instances on PostgreSQL, kill -9 mid-batch, SMTP/Slack outage, database cut (also part of `make test`).
faults:
	scripts/faults.sh

## Load on the main pages and server functions of a seeded organization: throughput, p50/p99,
## memory. MEMBERS sets its size (100000 unless told): `make load MEMBERS=1000000`.
load:
	ONBOARD_LOAD_MEMBERS=$(or $(MEMBERS),100000) scripts/faults.sh load

## Lighthouse on a fresh release server: phone pages (mobile preset) and every admin page (desktop); scores and bytes.
lighthouse:
	scripts/lighthouse.sh $(ARGS)

fmt:
	cargo fmt --all
