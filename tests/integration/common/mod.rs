//! Test harness: starts the real app on port 0 with a fresh database (a new SQLite file, or a
//! new PostgreSQL database), and talks HTTP to it like a browser would.
#![allow(dead_code)]

pub mod chat_fakes;
pub mod fakes;
pub mod smtp;
pub mod webhook_receiver;

use onboard::domain::EmailAddress;
use onboard::server::{db, AppState, Application, Settings};
use onboard::AppError;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named scenario `async fn name(backend: Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::postgres_skipped() {
                        return;
                    }
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Where the invitation scenarios start: Acme, its Owner signed in with `OWNER_PASSWORD`, and an
/// SMTP sink on loopback catching every email the app sends.
pub struct Acme {
    pub app: TestApp,
    pub sink: smtp::SmtpSink,
    pub owner: Visitor,
    pub org: i64,
    /// The service area every organization starts with.
    pub general: i64,
    pub member_role: i64,
}

pub const OWNER_PASSWORD: &str = "a long enough passphrase";

impl Acme {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Acme on a server whose settings `adjust` changes first.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Self {
        let sink = smtp::SmtpSink::start().await;
        let url = sink.url();
        let app = TestApp::start_with(backend, |s| {
            s.mail.smtp_url = onboard::server::secret::Secret::new(&url);
            adjust(s);
        })
        .await;
        let (org, _) = app.organization_with_owner("Acme", "owner@acme.example", OWNER_PASSWORD).await;
        let owner = app.visitor();
        owner.sign_in("owner@acme.example", OWNER_PASSWORD).await.unwrap();
        let general = app.scalar_i64("SELECT id FROM service_areas WHERE org_id = $1 AND name = 'General'", org).await;
        let member_role = app.scalar_i64("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'", org).await;
        Acme { app, sink, owner, org, general, member_role }
    }
}

/// The server to create test databases on; trust authentication on loopback by default.
pub fn postgres_admin_url() -> String {
    std::env::var("ONBOARD_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The test command checks PostgreSQL first; outside CI it may let the PostgreSQL half be skipped.
pub fn postgres_skipped() -> bool {
    let skip = std::env::var("ONBOARD_SKIP_POSTGRES").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("PostgreSQL half skipped: ONBOARD_SKIP_POSTGRES=1");
    }
    skip
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{:016x}", std::process::id(), rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    h.finish()
}

pub async fn fresh_database_url(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("onboard-tests");
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}", dir.join(format!("{}.db", unique("t"))).display())
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = postgres_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!("PostgreSQL is not reachable at {admin}: {e}. Start it, or set ONBOARD_TEST_POSTGRES_URL.")
            });
            let name = unique("onboard_test");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
    }
}

pub fn test_settings(database_url: &str) -> Settings {
    let mut s = Settings::default();
    s.server.site_addr = "127.0.0.1:0".parse().unwrap();
    s.database.url = onboard::server::secret::Secret::new(database_url);
    if database_url.starts_with("postgres") {
        // PostgreSQL has no key file beside it; SQLite tests use the one the first start creates.
        s.security.secret_key = onboard::server::sealing::ServerKey::generate().1;
    }
    s.outbox.poll_millis = 50;
    s.outbox.workers = 2;
    s.database.max_connections = 5;
    // Fake agents listen on loopback, which agent endpoints may not reach unless allowed.
    s.chat.allowed_private_agent_hosts = vec!["127.0.0.1".into()];
    s
}

/// Everything the apps of this test process have logged.
pub static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// Writes log lines to `LOGS` and to the test's captured output.
struct CapturedLogs;

impl std::io::Write for CapturedLogs {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(line);
        print!("{}", String::from_utf8_lossy(line));
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Self {
        let url = fresh_database_url(backend).await;
        let mut settings = test_settings(&url);
        adjust(&mut settings);
        Self::start_on(settings).await
    }

    pub async fn start_on(mut settings: Settings) -> Self {
        // Server logs appear with a failing test's output (and with --nocapture), and are kept
        // for the tests that search them for secrets; debug level, as an operator might run it.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("TEST_LOG").unwrap_or_else(|_| "warn,onboard=debug,tower_http=debug".into()))
            .with_writer(|| CapturedLogs)
            .try_init();
        // Links must point at the port we are given, which is only known once bound; keeping the
        // listener (not probing and re-binding) means no parallel test can take the port meanwhile.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        settings.server.site_addr = format!("127.0.0.1:{port}").parse().unwrap();
        settings.server.public_url = format!("http://127.0.0.1:{port}");
        let app = Application::build_on(settings, listener).await.expect("the app starts");
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        Self { base: format!("http://127.0.0.1:{port}"), state, stop: Some(tx), task: Some(task) }
    }

    /// Stops the app gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.base)
    }

    /// A new organization whose Owner has `password`; returns (org id, account id).
    pub async fn organization_with_owner(&self, org: &str, email: &str, password: &str) -> (i64, i64) {
        let owner = onboard::server::bootstrap::create_owner(&self.state, email, Some(org)).await.unwrap();
        let account = self.set_password(email, password).await;
        (owner.org_id, account)
    }

    pub async fn set_password(&self, email: &str, password: &str) -> i64 {
        set_password(&self.state, email, password).await
    }

    /// Adds an Active member with the named role to an organization.
    pub async fn add_member(&self, org_id: i64, email: &str, password: &str, role: &str) -> i64 {
        self.add_membership(org_id, email, role, "active").await;
        self.set_password(email, password).await
    }

    /// Adds a member in any status (an invited person is 'pending'); returns the membership id.
    pub async fn add_membership(&self, org_id: i64, email: &str, role: &str, status: &str) -> i64 {
        let address = EmailAddress::parse(email).unwrap();
        let mut tx = self.state.db.pool.begin().await.unwrap();
        let account = db::accounts::find_or_create(&mut tx, &address).await.unwrap();
        let role_id: i64 = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND name = $2")
            .bind(org_id)
            .bind(role)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let activated = if status == "active" { Some(0i64) } else { None };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO memberships (org_id, account_id, role_id, status, created_at, activated_at) VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
        )
        .bind(org_id)
        .bind(account)
        .bind(role_id)
        .bind(status)
        .bind(activated)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub async fn scalar_i64(&self, sql: &str, bind: i64) -> i64 {
        sqlx::query_scalar(sql).bind(bind).fetch_one(&self.state.db.pool).await.unwrap()
    }

    /// Waits (up to 10 s) until `check` holds, for things the outbox worker does in the background.
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.eventually_within(std::time::Duration::from_secs(10), what, check).await
    }

    /// Waits up to `limit` until `check` holds, looking every 50 ms.
    pub async fn eventually_within<F, Fut>(&self, limit: std::time::Duration, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if check().await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("timed out after {limit:?} waiting until {what}");
    }
}

/// Gives the account `email` the password `password`; returns the account id.
pub async fn set_password(state: &AppState, email: &str, password: &str) -> i64 {
    let address = EmailAddress::parse(email).unwrap();
    let id = db::accounts::id_by_email(&state.db, &address).await.unwrap().unwrap();
    let hash = onboard::server::sign_in::hash_password(onboard::server::secret::Secret::new(password)).await.unwrap();
    let mut tx = state.db.pool.begin().await.unwrap();
    db::accounts::set_password_hash(&mut tx, id, &hash).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// One browser: its own cookie jar.
pub struct Visitor {
    pub base: String,
    pub client: reqwest::Client,
    cookies: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Visitor {
    pub fn new(base: &str) -> Self {
        let cookies = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { base: base.to_string(), client, cookies }
    }

    /// The same browser (the same cookies) talking to another address, as a load balancer
    /// without sticky sessions sends it to any instance.
    pub fn at(&self, base: &str) -> Self {
        Self { base: base.to_string(), client: self.client.clone(), cookies: self.cookies.clone() }
    }

    /// The value of the session cookie this browser holds, if any.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let header = self.cookies.cookies(&self.base.parse().unwrap())?;
        header.to_str().ok()?.split("; ").find_map(|c| c.strip_prefix("onboard_session=")).map(String::from)
    }
}

/// What a server function answered: its JSON value, or the error it returned with the status.
pub type Answer = Result<Value, (u16, AppError)>;

impl Visitor {
    /// Calls a POST server function with form fields, as the Leptos client does.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Answer {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        Self::answer(res).await
    }

    /// Calls a POST server function that takes JSON (its arguments as one object).
    pub async fn call_json(&self, endpoint: &str, args: &Value) -> Answer {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("accept", "application/json")
            .json(args)
            .send()
            .await
            .unwrap();
        Self::answer(res).await
    }

    /// Calls a GET server function with query parameters.
    pub async fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Answer {
        let res = self
            .client
            .get(format!("{}/api/{endpoint}", self.base))
            .header("accept", "application/json")
            .query(query)
            .send()
            .await
            .unwrap();
        Self::answer(res).await
    }

    async fn answer(res: reqwest::Response) -> Answer {
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        if (200..300).contains(&status) {
            Ok(if body.is_empty() { Value::Null } else { serde_json::from_str(&body).unwrap_or(Value::String(body)) })
        } else {
            let error = serde_json::from_str::<AppError>(&body)
                .unwrap_or_else(|_| panic!("status {status} with a body that is not an AppError: {body}"));
            Err((status, error))
        }
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Answer {
        self.call("sign_in", &[("email", email), ("password", password)]).await
    }

    pub async fn whoami(&self) -> Value {
        self.get("whoami", &[]).await.expect("whoami never fails")
    }

    pub async fn page(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).header("accept", "text/html").send().await.unwrap()
    }
}
