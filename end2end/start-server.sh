#!/bin/sh
# Starts the release build on a fresh SQLite database for the Playwright suite. The server's
# output goes to a log too, where the first-run test reads the Owner's one-time link.
set -eu
cd "$(dirname "$0")/.."
mkdir -p target/e2e
rm -f target/e2e/onboard.db target/e2e/onboard.db-wal target/e2e/onboard.db-shm target/e2e/onboard.db.key target/e2e/server.log
export ONBOARD_SITE_ADDR=127.0.0.1:3100
export ONBOARD_PUBLIC_URL=http://127.0.0.1:3100
export ONBOARD_SITE_ROOT=target/site
export DATABASE_URL=sqlite://target/e2e/onboard.db
export ONBOARD_FIRST_ORGANIZATION="Northwind"
export ONBOARD_OWNER_EMAIL=owner@northwind.test
export ONBOARD_OUTBOX_POLL_MILLIS=200
export ONBOARD_SMTP_URL=smtp://127.0.0.1:3125
export ONBOARD_TELEGRAM_BASE_URL=http://127.0.0.1:3127/telegram
# The fake agent runs on this machine, which agent endpoints may not reach unless allowed.
export ONBOARD_ALLOWED_PRIVATE_AGENT_HOSTS=127.0.0.1
exec ./target/release/onboard serve 2>&1 | tee target/e2e/server.log
