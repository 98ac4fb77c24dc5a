//! The `rapport` command line.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::bail;
use clap::{Parser, Subcommand};
use domain::auth::Role;

use crate::config::Config;
use crate::startup::{self, Application};
use crate::telemetry;

/// Rapport: a GraphQL backend for customer relationships.
#[derive(Debug, Parser)]
#[command(name = "rapport", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// What to do; `serve` when none is given.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a staff user. The password is prompted for, or read from
    /// standard input with `--password-stdin`.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["ADMIN", "MANAGER", "AGENT"])]
        role: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print the GraphQL SDL.
    ExportSchema,
    /// Load the demo data set (into an empty database) and print the logins.
    SeedDemo,
    /// Load the benchmark data set into an empty database: the demo data plus
    /// `--customers` customers (purchases, touchpoints, memberships, ledger)
    /// and `--responses` survey responses with CSI ratings. Deterministic.
    /// Prints a JSON summary (ids the scenarios use) on standard output.
    /// Full size: `--customers 10000 --responses 1000000`.
    SeedBench {
        #[arg(long, default_value_t = 1_000)]
        customers: u64,
        #[arg(long, default_value_t = 20_000)]
        responses: u64,
        /// Empty ACTIVE surveys for submission runs (one per run).
        #[arg(long, default_value_t = 6)]
        load_surveys: u64,
        /// Password of the `bench@rapport.dev` admin.
        #[arg(long, default_value = "bench-password-1")]
        admin_password: String,
    },
}

/// The process entry point: runs the command line on the actix runtime and
/// turns the outcome into an exit code. Shared by the `rapport` binary and
/// the copy the end-to-end tests build for themselves.
pub fn main() -> std::process::ExitCode {
    match actix_web::rt::System::new().block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Parses the command line and runs it.
///
/// # Errors
/// Whatever the command fails with.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::ExportSchema => {
            print!("{}", crate::graphql::schema::sdl());
            Ok(())
        }
        Command::Serve => {
            telemetry::init(&config.log, config.log_format);
            Application::build(config)
                .await?
                .run_until_stopped()
                .await?;
            Ok(())
        }
        Command::Migrate => {
            telemetry::init(&config.log, config.log_format);
            let db = startup::connect(&config).await?;
            startup::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateUser {
            email,
            role,
            password_stdin,
        } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = read_password(password_stdin)?;
            let db = startup::connect(&config).await?;
            startup::migrate(&db).await?;
            let services = startup::services(&config, db)?;
            let user = services
                .users
                .create_user(None, &email, password, role)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created {} user {} (id {})", user.role, user.email, user.id);
            Ok(())
        }
        Command::SeedBench {
            customers,
            responses,
            load_surveys,
            admin_password,
        } => {
            let db = startup::connect(&config).await?;
            startup::migrate(&db).await?;
            let services = startup::services(&config, db)?;
            if domain::users::UserService::any_exist(&services.db).await? {
                bail!("the database already has users; seed-bench only fills an empty database");
            }
            let started = std::time::Instant::now();
            let sizes = seed::bench::BenchSizes {
                customers,
                responses,
                load_surveys,
                admin_password,
            };
            let seeded = seed::bench::seed(&services.db, &services.users, &sizes).await?;
            eprintln!(
                "seeded {} rows ({} customers, {} responses, {} ratings) in {:.1} s",
                seeded.rows,
                seeded.customers,
                seeded.responses,
                seeded.ratings,
                started.elapsed().as_secs_f64()
            );
            println!("{}", serde_json::to_string(&seeded)?);
            Ok(())
        }
        Command::SeedDemo => {
            if config.environment == crate::config::Environment::Production {
                bail!("seed-demo is refused when RAPPORT_ENV=production: it creates accounts and prints their passwords");
            }
            let db = startup::connect(&config).await?;
            startup::migrate(&db).await?;
            let services = startup::services(&config, db)?;
            if domain::users::UserService::any_exist(&services.db).await? {
                bail!("the database already has users; seed-demo only fills an empty database");
            }
            let demo = seed::seed_demo(&services.db, &services.users).await?;
            print!("{}", startup::demo_block(&config.public_url(), &demo));
            Ok(())
        }
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !from_stdin {
        if !stdin.is_terminal() {
            bail!("no terminal to prompt on; pass --password-stdin and pipe the password");
        }
        eprint!("Password: ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("empty password");
    }
    Ok(password)
}
