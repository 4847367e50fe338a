//! Real Onboard processes (the release binary the tests were built with) on one PostgreSQL
//! database, and a TCP proxy in front of that database that can drop every connection.

use crate::common::{self, smtp::SmtpSink, Backend, Visitor};
use onboard::server::{bootstrap, AppState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const OWNER: &str = "owner@scale.example";
pub const PASSWORD: &str = "a long enough passphrase";

/// One database with an organization whose Owner has `PASSWORD`.
pub struct Cluster {
    pub database_url: String,
    /// The server key every instance shares.
    pub secret_key: String,
    pub area: i64,
    pub role: i64,
    /// For the test's own reads; the instances have their own pools.
    pub db: sqlx::AnyPool,
}

impl Cluster {
    /// None, with a note, when the suite runs without PostgreSQL.
    pub async fn new() -> Option<Self> {
        if common::postgres_skipped() {
            return None;
        }
        let database_url = common::fresh_database_url(Backend::Postgres).await;
        let settings = common::test_settings(&database_url);
        let secret_key = settings.security.secret_key.expose().to_string();
        let state = AppState::new(settings).await.expect("migrations apply");
        let owner = bootstrap::create_owner(&state, OWNER, Some("Scale")).await.unwrap();
        common::set_password(&state, OWNER, PASSWORD).await;
        let db = state.db.pool.clone();
        let id = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).bind(owner.org_id).fetch_one(&db);
        let area = id("SELECT id FROM service_areas WHERE org_id = $1").await.unwrap();
        let role = id("SELECT id FROM roles WHERE org_id = $1 AND name = 'Member'").await.unwrap();
        Some(Self { database_url, secret_key, area, role, db })
    }

    /// The settings every instance of this cluster shares, as environment variables.
    pub fn env(&self, sink: &SmtpSink) -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", self.database_url.clone()),
            ("ONBOARD_SECRET_KEY", self.secret_key.clone()),
            ("ONBOARD_SMTP_URL", sink.url()),
            ("ONBOARD_OUTBOX_POLL_MILLIS", "200".into()),
            ("ONBOARD_OUTBOX_LEASE_SECONDS", "10".into()),
            ("ONBOARD_DB_MAX_CONNECTIONS", "20".into()),
        ]
    }

    /// Queues invitations to `emails` as the Owner; returns the batch id.
    pub async fn invite(&self, owner: &Visitor, emails: &[String]) -> i64 {
        self.try_invite(owner, emails).await.expect("the batch is stored").as_i64().unwrap()
    }

    pub async fn try_invite(&self, owner: &Visitor, emails: &[String]) -> common::Answer {
        let (area, role) = (self.area.to_string(), self.role.to_string());
        owner.call("send_invites", &[("emails", &emails.join("\n")), ("area", &area), ("role", &role)]).await
    }

    /// How many outbox jobs that send something are in each status: not the jobs that store a
    /// large batch's addresses after its first 10,000, which `batch_parts_done` checks.
    pub async fn jobs_by_status(&self) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT status, COUNT(*) FROM outbox_jobs WHERE kind <> 'batch' GROUP BY status ORDER BY status")
            .fetch_all(&self.db)
            .await
            .unwrap()
    }

    /// Whether every batch's deferred addresses are stored and the jobs that stored them done.
    pub async fn batch_parts_done(&self) -> bool {
        let left: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM invite_batches WHERE deferred_stored < deferred_total)
                  + (SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'batch' AND status <> 'done')",
        )
        .fetch_one(&self.db)
        .await
        .unwrap();
        left == 0
    }
}

/// `count` addresses `prefix00000@scale.example`, …
pub fn addresses(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i:05}@scale.example")).collect()
}

/// A running `onboard` process, serving on a port it chose itself.
pub struct Instance {
    pub base: String,
    pub pid: u32,
    child: std::process::Child,
}

impl Instance {
    pub async fn start(label: &str, env: &[(&str, String)]) -> Self {
        use std::io::{BufRead, Write};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_onboard"))
            .env("ONBOARD_SITE_ADDR", "127.0.0.1:0")
            .env("ONBOARD_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn,onboard=info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the onboard binary starts");
        let pid = child.id();
        let log_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("faults-{label}-{pid}.log"));
        let mut log = std::fs::File::create(&log_path).unwrap();
        let stdout = child.stdout.take().unwrap();
        // The log goes to a file for a failing run to be read; its "serving Onboard" line names the port.
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(log, "{line}");
                let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
                if entry["fields"]["message"] == "serving Onboard" {
                    if let (Some(tx), Some(port)) = (port_tx.take(), entry["fields"]["port"].as_u64()) {
                        let _ = tx.send(port);
                    }
                }
            }
        });
        let port = tokio::time::timeout(Duration::from_secs(60), port_rx)
            .await
            .unwrap_or_else(|_| panic!("{label} did not start within a minute; see {}", log_path.display()))
            .unwrap_or_else(|_| panic!("{label} exited while starting; see {}", log_path.display()));
        Self { base: format!("http://127.0.0.1:{port}"), pid, child }
    }

    /// kill -9: no shutdown, no handing back of claimed jobs.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The server's resident memory now and at its peak, in KiB, from /proc.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

/// A test that fails part-way leaves no server behind.
impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `check` holds, polling every 200 ms, for at most `limit`.
pub async fn until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A TCP proxy to the database that can cut every connection and turn new ones away, as when
/// the network to the database fails, and then let them through again.
pub struct Proxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    pub async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, links) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
        let (cut_flag, link_list) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if cut_flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                link_list.lock().unwrap().push(link.abort_handle());
            }
        });
        Self { port, cut, links }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
