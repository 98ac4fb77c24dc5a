//! Building and running the application: database, migrations, services,
//! schema and HTTP server.

use std::net::TcpListener;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use domain::cluster::{jobs, lock};
use domain::db::{self, DbSettings};
use domain::users::{PasswordHasher, SessionSettings, UserService};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use tracing_actix_web::TracingLogger;

use crate::auth::JwtKeys;
use crate::config::{Config, Environment};
use crate::graphql::schema;
use crate::http::export::ExportLinks;
use crate::http::ws::{OpenSockets, WsSettings};
use crate::http::{self, graphql::HttpSettings, request_span::RedactedRootSpan};
use crate::state::Services;

/// A built server, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    services: Services,
}

impl Application {
    /// Connects, migrates, builds the services and binds the listener.
    ///
    /// # Errors
    /// Unsafe production settings, an unreachable database, a failed migration
    /// or a port that cannot be bound.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.check()?;
        let statements = Arc::new(AtomicU64::new(0));
        let db = connect_counted(&config, &statements).await?;
        let services = services_counted(&config, db.clone(), statements)?;
        // Processes started together on one PostgreSQL take turns here: the
        // first migrates (and seeds the demo), the others find it done.
        let demo = lock::exclusive(&db, lock::MIGRATIONS, async {
            Migrator::up(&db, None)
                .await
                .context("Failed to run migrations")?;
            if config.demo && !UserService::any_exist(&services.db).await? {
                return Ok::<_, anyhow::Error>(Some(
                    seed::seed_demo(&services.db, &services.users).await?,
                ));
            }
            Ok(None)
        })
        .await??;
        tokio::spawn(scheduled_jobs(services.db.clone(), config.job_tick));
        tokio::spawn(crate::feedback_relay::relay(services.clone()));
        // The outbox worker checks for due messages on its own small pool:
        // its idle polling takes no connection from requests and is not
        // counted as theirs (`RAPPORT_DEBUG_STATEMENT_COUNT`).
        let outbox_db = db::connect(
            &config.database_url,
            &DbSettings {
                max_connections: Some(2),
                ..DbSettings::default()
            },
        )
        .await
        .context("Failed to connect the outbox worker to the database")?;
        tokio::spawn(crate::delivery::run(
            outbox_db,
            crate::delivery::deliverers(&config, &services)?,
            crate::delivery::WorkerSettings {
                poll: config.outbox_poll,
                lease: config.outbox_lease,
            },
        ));
        let listener = TcpListener::bind(&config.bind)
            .with_context(|| format!("Failed to bind {}", config.bind))?;
        let port = listener.local_addr()?.port();
        if let Some(demo) = demo {
            // The configured public URL, else the address actually bound (port 0 → the real port).
            let base = match &config.public_url {
                Some(url) => url.trim_end_matches('/').to_owned(),
                None => format!("http://{}", listener.local_addr()?),
            };
            print!("{}", demo_block(&base, &demo));
        }
        let server = run(listener, &config, services.clone())?;
        tracing::info!(address = %config.bind, port, "rapport listening");
        Ok(Self {
            port,
            server,
            services,
        })
    }

    /// The bound port (useful with `--bind 127.0.0.1:0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The services, for tests that arrange data directly.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until SIGINT/SIGTERM, finishing in-flight requests.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Applies pending migrations, one process at a time on PostgreSQL (an
/// advisory lock), so processes started together migrate an empty database
/// once.
///
/// # Errors
/// When the lock or a migration fails.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    lock::exclusive(db, lock::MIGRATIONS, Migrator::up(db, None))
        .await?
        .context("Failed to run migrations")
}

/// Opens the database pool with the configured limits.
///
/// # Errors
/// When the database cannot be reached.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    connect_counted(config, &DbSettings::default().statement_counter).await
}

/// Like [`connect`], counting statements into `counter`.
///
/// # Errors
/// When the database cannot be reached.
pub async fn connect_counted(
    config: &Config,
    counter: &Arc<AtomicU64>,
) -> anyhow::Result<DatabaseConnection> {
    let settings = DbSettings {
        max_connections: config.db_max_connections,
        statement_counter: counter.clone(),
        ..DbSettings::default()
    };
    db::connect(&config.database_url, &settings)
        .await
        .context("Failed to connect to the database")
}

/// Builds the shared services.
///
/// # Errors
/// When the JWT key is missing or weak.
pub fn services(config: &Config, db: DatabaseConnection) -> anyhow::Result<Services> {
    services_counted(config, db, Arc::default())
}

fn services_counted(
    config: &Config,
    db: DatabaseConnection,
    statements: Arc<AtomicU64>,
) -> anyhow::Result<Services> {
    let jwt_key = config.jwt_key()?;
    let jwt = JwtKeys::new(&jwt_key, config.access_token_ttl);
    let hasher = PasswordHasher::new(std::thread::available_parallelism().map_or(2, |n| n.get()));
    let sessions = SessionSettings {
        refresh_ttl: chrono::Duration::from_std(config.refresh_token_ttl)?,
        reuse_interval: chrono::Duration::from_std(config.refresh_reuse_interval)?,
        successor_key: config.successor_key()?,
    };
    let users = UserService::new(db.clone(), hasher, sessions);
    let mut services = Services::new(
        db,
        jwt,
        users,
        config.public_url(),
        statements,
        ExportLinks::new(&config.export_link_key()?, config.export_link_ttl)?,
    )
    .with_webhook_rules(domain::webhooks::UrlRules {
        require_https: config.environment == Environment::Production
            && !config.webhook_allow_private,
    });
    services.mail = Arc::new(crate::state::MailSettings::new(config, &jwt_key));
    Ok(services)
}

fn run(listener: TcpListener, config: &Config, services: Services) -> anyhow::Result<Server> {
    let production = config.environment == Environment::Production;
    let schema = web::Data::new(schema::build(
        services.clone(),
        production,
        config.max_response_bytes,
    )?);
    let settings = web::Data::new(HttpSettings {
        request_timeout: config.request_timeout,
        graphiql: config.graphiql_enabled(),
        statement_count_header: config.debug_statement_count,
    });
    let ws_settings = web::Data::new(WsSettings {
        init_timeout: config.ws_init_timeout,
        max_per_client: config.ws_max_per_client,
        max_operations: config.ws_max_operations,
        max_message_bytes: config.max_body_bytes,
        heartbeat: config.ws_heartbeat,
    });
    let form_page = web::Data::new(http::form::FormPage::new(&config.branding())?);
    let sockets = web::Data::new(OpenSockets::default());
    let trusted_proxies = web::Data::new(config.trusted_proxies.clone());
    let services = web::Data::new(services);
    let max_body = config.max_body_bytes;
    let cors = http::cors::Policy::from_config(config)?;
    let metrics = config.metrics && http::metrics::install().is_some();
    let graphiql = config.graphiql_enabled();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::Condition::new(
                metrics,
                actix_web::middleware::from_fn(http::metrics::track),
            ))
            .wrap(cors.middleware())
            .wrap(TracingLogger::<RedactedRootSpan>::new())
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(schema.clone())
            .app_data(services.clone())
            .app_data(settings.clone())
            .app_data(ws_settings.clone())
            .app_data(sockets.clone())
            .app_data(form_page.clone())
            .app_data(trusted_proxies.clone())
            .route(
                "/graphql",
                web::post().to(http::graphql::post::<schema::AppSchema>),
            )
            .route(
                "/graphql",
                web::get().to(http::graphql::get::<schema::AppSchema>),
            )
            .route("/graphql/ws", web::get().to(http::ws::subscriptions))
            .route("/health", web::get().to(http::health::health))
            .route("/ready", web::get().to(http::health::ready))
            .route("/s/{token}", web::get().to(http::form::survey_form))
            .route(
                "/unsubscribe/{token}",
                web::get().to(http::unsubscribe::confirm),
            )
            .route(
                "/unsubscribe/{token}",
                web::post().to(http::unsubscribe::record),
            )
            .route("/exports/{token}", web::get().to(http::export::download))
            .configure(|cfg| {
                if graphiql {
                    http::graphiql::routes(cfg);
                }
                if metrics {
                    cfg.route("/metrics", web::get().to(http::metrics::scrape));
                }
            })
    })
    .client_request_timeout(std::time::Duration::from_secs(10))
    .shutdown_timeout(20)
    .listen(listener)?
    .run();
    Ok(server)
}

/// The daily loyalty job's name in `job_runs`.
const LOYALTY_DAILY_JOB: &str = "loyalty-daily";
/// How long a claimed run is the holder's; another process takes over an
/// unfinished run after it (the job takes seconds).
const JOB_LEASE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The scheduled jobs (SPEC §6): every `tick`, the loyalty daily job
/// (birthday bonuses and point expiry, due every day at 00:05 UTC) runs if
/// its latest due run has not run yet. Each process ticks; the run is
/// claimed once across processes (`domain::cluster::jobs`), and a run its
/// holder never finished is taken over after the lease. Both steps are
/// idempotent besides.
async fn scheduled_jobs(db: DatabaseConnection, tick: std::time::Duration) {
    let holder = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    loop {
        tokio::time::sleep(tick).await;
        let now = chrono::Utc::now();
        let due = domain::loyalty::next_daily_run(now) - chrono::Duration::days(1);
        let lease = match jobs::claim(&db, LOYALTY_DAILY_JOB, due, &holder, JOB_LEASE).await {
            Ok(Some(lease)) => lease,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(error = %error, "scheduled jobs not checked; retried next tick");
                continue;
            }
        };
        match domain::loyalty::run_daily(&db, now).await {
            Ok((birthdays, expiry)) => {
                tracing::info!(
                    due = %due,
                    holder = %holder,
                    birthday_members = birthdays.members_credited,
                    birthday_points = birthdays.points_credited,
                    expired_points = expiry.points_expired,
                    expiry_entries = expiry.entries_written,
                    "loyalty daily job done"
                );
                if let Err(error) = lease.finish(&db).await {
                    tracing::warn!(error = %error, "loyalty daily job not marked done; repeated after the lease");
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "loyalty daily job failed; retried after the lease")
            }
        }
    }
}

/// The console block printed once after the demo data is loaded: where
/// GraphiQL is, the three logins and the German survey's open form link
/// (`base` is the public URL). Plain text, no colour codes.
pub fn demo_block(base: &str, demo: &seed::Demo) -> String {
    use std::fmt::Write as _;
    let rule = "=".repeat(72);
    let mut out = format!("\n{rule}\n Rapport demo data loaded\n\n GraphiQL:  {base}/graphiql\n\n Logins (shown once; sign in with the `login` mutation):\n");
    for login in &demo.logins {
        let _ = writeln!(
            out,
            "   {:<8} {:<28} {}",
            login.role.as_str(),
            login.email,
            login.password
        );
    }
    if let Some(token) = &demo.german_token {
        let _ = writeln!(
            out,
            "\n German survey \"{}\" (every question type), an open invitation:\n   {base}/s/{token}",
            demo.german_survey
        );
    }
    let _ = writeln!(
        out,
        "\n Send the access token as `Authorization: Bearer <token>` (GraphiQL: Headers tab).\n{rule}\n"
    );
    out
}
