//! `clausum-origin`: serve the API, create organisations, print the spec.

use std::io::Write;

use clap::{Parser, Subcommand};
use clausum_core::catalog::Segment;
use clausum_origin::{
    api,
    bootstrap::{self, DEFAULT_RATE_LIMIT_PER_MINUTE, NewOrganization},
    config::Config,
    server,
};

/// mimalloc: the request path allocates many small, short-lived values
/// across threads, where glibc's allocator spends much of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "clausum-origin", version, about = "Clausum's authoritative API server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). A first start on an empty database
    /// creates a sandbox organisation and prints its keys once.
    Serve(Box<Config>),
    /// Create an organisation with an admin user and one key of each type.
    Init {
        /// Organisation name.
        #[arg(long)]
        org: String,
        /// `comercio`, `psp` or `banco`.
        #[arg(long, default_value = "comercio", value_parser = parse_segment)]
        segment: Segment,
        /// Admin login email (derived from the name when absent).
        #[arg(long)]
        admin_email: Option<String>,
        /// Per-minute rate limit of the new keys.
        #[arg(long, default_value_t = DEFAULT_RATE_LIMIT_PER_MINUTE)]
        rate_limit_per_minute: i64,
        /// Print the credentials as JSON.
        #[arg(long)]
        json: bool,
        /// Database URL.
        #[arg(
            long,
            env = "CLAUSUM_DATABASE_URL",
            default_value = "sqlite://clausum.db",
            hide_env_values = true
        )]
        database_url: String,
    },
    /// Print the OpenAPI document.
    Openapi,
}

/// `serve`'s options alone, to run it when no subcommand is given.
#[derive(Parser)]
struct ServeDefaults {
    #[command(flatten)]
    config: Config,
}

fn parse_segment(s: &str) -> Result<Segment, String> {
    Segment::parse(s).ok_or_else(|| "segment must be comercio, psp or banco".to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("CLAUSUM_LOG").unwrap_or_else(|_| "info".into())
    };
    // `CLAUSUM_LOG_FORMAT=json`: one JSON object per line, with the request
    // id of the request being served, for log pipelines.
    if std::env::var("CLAUSUM_LOG_FORMAT").is_ok_and(|f| f == "json") {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr).init();
    }
    let cli = Cli::parse();
    match cli.command.unwrap_or_else(|| {
        Command::Serve(Box::new(ServeDefaults::parse_from(["clausum-origin"]).config))
    }) {
        Command::Openapi => std::io::stdout().write_all(api::spec_json().as_bytes())?,
        Command::Init { org, segment, admin_email, rate_limit_per_minute, json, database_url } => {
            let store = server::open_store(&database_url).await?;
            let creds = bootstrap::create_organization(
                store.as_ref(),
                NewOrganization { name: org, segment, admin_email, rate_limit_per_minute },
            )
            .await?;
            // Running replicas learn the new keys at once (PostgreSQL).
            let notice = clausum_origin::sync::Notice {
                node: "cli".into(),
                change: clausum_origin::sync::Change::Keys,
            };
            store.notify_change(&serde_json::to_string(&notice)?).await?;
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&creds)?)?;
            } else {
                print_credentials(&mut out, &creds)?;
            }
        }
        Command::Serve(config) => {
            let store = server::open_store(&config.database_url).await?;
            if !config.no_bootstrap && store.count_organizations().await? == 0 {
                let creds = bootstrap::create_organization(
                    store.as_ref(),
                    NewOrganization {
                        name: "Sandbox".into(),
                        segment: Segment::Comercio,
                        admin_email: None,
                        rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE,
                    },
                )
                .await?;
                eprintln!(
                    "First start: created a sandbox organisation. These secrets are shown only once:\n"
                );
                // A closed stdout must not stop the server (nor lose the
                // keys silently): say so on stderr and keep serving.
                if let Err(e) = print_first_start(&creds, &config) {
                    tracing::warn!(error = %e, "could not print the sandbox credentials; create new keys with `init`");
                }
            }
            let state = server::load_state(store, &config).await?;
            tracing::info!(listen = %config.listen, database = state.store.backend(), "serving");
            server::serve_forever(&config, state).await?;
        }
    }
    Ok(())
}

fn print_credentials(out: &mut impl Write, c: &bootstrap::Credentials) -> std::io::Result<()> {
    writeln!(out, "organization_id:  {}", c.organization_id)?;
    writeln!(out, "admin_email:      {}", c.admin_email)?;
    writeln!(out, "admin_password:   {}", c.admin_password)?;
    writeln!(out, "secret key:       {}", c.keys.secret)?;
    writeln!(out, "publishable key:  {}", c.keys.publishable)?;
    writeln!(out, "ingest key:       {}", c.keys.ingest)
}

fn print_first_start(c: &bootstrap::Credentials, config: &Config) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    print_credentials(&mut out, c)?;
    writeln!(
        out,
        "\nDashboard: http://{}/dashboard (sign in with admin_email and admin_password above)",
        config.listen
    )?;
    writeln!(out, "\nTry it:\n  export CLAUSUM_SECRET_KEY={}", c.keys.secret)?;
    writeln!(
        out,
        "  curl -s http://{}/api/v1/assess -H \"Authorization: Bearer $CLAUSUM_SECRET_KEY\" \\\n    -H 'Content-Type: application/json' -d '{{\"amount\": 1500, \"currency\": \"MXN\"}}'\n",
        config.listen
    )?;
    out.flush()
}
