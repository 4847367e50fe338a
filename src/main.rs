// mimalloc, not the system allocator: a request makes many small, short-lived allocations on
// several threads. With it the load run served 20–110% more server-rendered pages a second,
// and the server used less memory (BENCHMARKS.md, "fifth step").
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("the runtime starts").block_on(run())
}

/// SQLite allocates with the C library's malloc, on each pooled connection's own thread, and
/// glibc gives threads arenas of their own (up to eight per core), each keeping what it freed.
/// The parts of a large invitation batch, stored on whichever connection was free, left their
/// JSON's memory behind in many of them: the server peaked at 184–201 MiB on SQLite, and at
/// 139 MiB with one arena per core (BENCHMARKS.md, seventh step). Set before any thread starts;
/// an operator's `MALLOC_ARENA_MAX` still wins.
#[cfg(all(feature = "ssr", target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // SAFETY: mallopt only sets one of malloc's parameters, and no other thread runs yet.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, cores.try_into().unwrap_or(libc::c_int::MAX)) };
    }
}

#[cfg(all(feature = "ssr", not(all(target_os = "linux", target_env = "gnu"))))]
fn limit_malloc_arenas() {}

#[cfg(feature = "ssr")]
async fn run() -> std::process::ExitCode {
    use onboard::server::{bootstrap, cli, AppState, Settings};
    use std::process::ExitCode;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    let outcome = match command {
        cli::Command::Help => {
            println!("{}", cli::USAGE);
            Ok(())
        }
        cli::Command::Migrate => match AppState::new(settings).await {
            Ok(state) => {
                state.db.close().await;
                println!("migrations applied");
                Ok(())
            }
            Err(e) => Err(e),
        },
        cli::Command::CreateOwner { email, organization } => match AppState::new(settings).await {
            Ok(state) => {
                let created = bootstrap::create_owner(&state, &email, organization.as_deref()).await;
                state.db.close().await;
                created.map(|owner| println!("Owner {} can set a password at:\n{}", owner.email, owner.link))
            }
            Err(e) => Err(e),
        },
        cli::Command::GenerateKey => {
            println!("{}", onboard::server::sealing::ServerKey::generate().1.expose());
            Ok(())
        }
        cli::Command::RotateKey => {
            let new_key = std::env::var("ONBOARD_NEW_SECRET_KEY").ok().filter(|k| !k.trim().is_empty());
            onboard::server::key_rotation::rotate(&settings, new_key.as_deref()).await.map(|r| {
                println!("Re-encrypted {} stored secrets: key {} replaced key {}.", r.resealed, r.new_id, r.old_id);
                match r.source {
                    onboard::server::keys::KeySource::File(path) => println!("The new key is in {}.", path.display()),
                    _ => println!("Start every instance with ONBOARD_SECRET_KEY set to the new key."),
                }
            })
        }
        cli::Command::Seed { members, teams, owner } => match AppState::new(settings).await {
            Ok(state) => {
                let per_transaction = onboard::server::seed::PER_TRANSACTION;
                let plan = onboard::server::seed::Plan { members, teams, owner, per_transaction };
                let seeded = onboard::server::seed::large_organization(&state, &plan).await;
                state.db.close().await;
                seeded.map(|seeded| {
                    println!(
                        "Seeded organization {} with {members} members on {teams} teams in {:.1} s.
Its Owner {} can set a password at:
{}",
                        seeded.org_id,
                        seeded.elapsed.as_secs_f64(),
                        plan.owner,
                        seeded.owner_link
                    );
                })
            }
            Err(e) => Err(e),
        },
        cli::Command::Serve => serve(settings).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "ssr")]
async fn serve(settings: onboard::server::Settings) -> anyhow::Result<()> {
    use onboard::server::{bootstrap, Application};
    let app = Application::build(settings).await?;
    if let Some(owner) = bootstrap::ensure_first_organization(app.state()).await? {
        println!(
            "\nFirst run: created the organization and its Owner {}.\nSet the Owner's password here (the link works once):\n\n    {}\n",
            owner.email, owner.link
        );
    }
    tracing::info!(address = %app.state().settings.server.site_addr, port = app.port(), "serving Onboard");
    let db = app.state().db.clone();
    let served = app.run_until_stopped(shutdown_signal()).await;
    db.close().await;
    served
}

#[cfg(feature = "ssr")]
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing requests and outbox jobs");
}

#[cfg(feature = "ssr")]
fn init_logging(settings: &onboard::server::Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&settings.log.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if settings.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build has no binary; `cargo leptos` builds the server with `--features ssr`.
}
