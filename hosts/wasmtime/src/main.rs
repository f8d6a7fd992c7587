//! `learner-mcp`: the wasmtime harness. It serves the Learner DNA MCP component
//! locally (`serve`) and is the bed the end-to-end tests run on.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use wasmtime::error::Context as _;

use learner_core::outbound::AllowedHost;
use learner_wasmtime::native::audit::SqliteAudit;
use learner_wasmtime::native::config::{HostConfig, parse_pair};
use learner_wasmtime::native::fetch::HttpClient;
use learner_wasmtime::outbound::OutboundPolicy;
use learner_wasmtime::spin::host::SpinHost;
use learner_wasmtime::spin::manifest;
use learner_wasmtime::state::Ports;
use learner_wasmtime::{audit_trail, engine, server};

/// Learner DNA MCP — local server and test harness.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application over HTTP.
    Serve(ServeArgs),
    /// Fill the data directory's database with deterministic synthetic Learner DNA
    /// data (the schema is migrated first).
    Seed(SeedArgs),
    /// Check or export the hash-chained audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every link of the chain; report the first broken one (exit status 1).
    Verify(AuditArgs),
    /// Write the trail as JSON lines (verifying it on the way; exit status 1 and a
    /// message at the first broken link).
    Export(AuditExportArgs),
}

#[derive(clap::Args)]
struct AuditArgs {
    /// Data directory whose `audit.db` to read.
    #[arg(long, default_value = "./data", env = "LEARNER_DATA")]
    data: PathBuf,
    /// Read this SQLite file instead (any database holding the `audit_log` table, such
    /// as a Spin application's default database).
    #[arg(long)]
    database: Option<PathBuf>,
}

impl AuditArgs {
    fn open(&self) -> wasmtime::Result<(PathBuf, SqliteAudit)> {
        let path = self
            .database
            .clone()
            .unwrap_or_else(|| self.data.join("audit.db"));
        let audit = SqliteAudit::open_read_only(&path)
            .with_context(|| format!("opening the audit trail in {}", path.display()))?;
        Ok((path, audit))
    }
}

#[derive(clap::Args)]
struct AuditExportArgs {
    #[command(flatten)]
    source: AuditArgs,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct SeedArgs {
    /// Directory of the application database (`app.db`). Created if missing.
    #[arg(long, default_value = "./data", env = "LEARNER_DATA")]
    data: PathBuf,
    /// Tenants to generate (besides the demo tenant).
    #[arg(long, default_value_t = 1)]
    tenants: u32,
    /// Learners per tenant.
    #[arg(long, default_value_t = 200)]
    learners: u32,
    /// The generator's seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Leave out tenant `demo` (the one the demo sign-in accounts belong to).
    #[arg(long)]
    no_demo: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is logged
    /// and printed as `listening on http://…`).
    #[arg(long, default_value = "127.0.0.1:8787", env = "LEARNER_ADDR")]
    addr: SocketAddr,

    /// Directory for the SQLite databases (key-value, application data, audit log)
    /// and the compiled-component cache. Created if missing.
    #[arg(long, default_value = "./data", env = "LEARNER_DATA")]
    data: PathBuf,

    /// The component to serve. Default: build/gateway.wasm, or with --spin the
    /// manifest's component source.
    #[arg(long, env = "LEARNER_COMPONENT")]
    component: Option<PathBuf>,

    /// Serve a Spin application: read this Spin 3 manifest (spin.toml) and provide the
    /// Spin interfaces its component imports (SQLite, variables, outbound HTTP) instead
    /// of the native ports. Spin SQLite databases live in <data>/spin/.
    #[arg(long, value_name = "SPIN_TOML")]
    spin: Option<PathBuf>,

    /// A configuration value for the application, NAME=VALUE; repeatable. Secrets are
    /// not passed here but as LEARNER_SECRET_<NAME> environment variables.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_pair)]
    settings: Vec<(String, String)>,

    /// A destination the application may fetch, scheme://host[:port] with `*`
    /// wildcards for the host (`*`, `*.example.org`) or port; repeatable. Adds to the
    /// default: `https://*`, or with --spin the manifest's allowed_outbound_hosts.
    #[arg(long = "allow-outbound", value_name = "PATTERN")]
    allow_outbound: Vec<AllowedHost>,
}

fn main() -> wasmtime::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("LEARNER_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Seed(args) => runtime.block_on(seed(args)),
        Command::Audit(command) => audit(&command),
    }
}

/// `learner-mcp audit verify|export`.
fn audit(command: &AuditCommand) -> wasmtime::Result<()> {
    let (path, verdict) = match command {
        AuditCommand::Verify(args) => {
            let (path, trail) = args.open()?;
            (path, audit_trail::verify(&trail))
        }
        AuditCommand::Export(args) => {
            let (path, trail) = args.source.open()?;
            let verdict = match &args.out {
                Some(out) => {
                    let file = std::fs::File::create(out)
                        .with_context(|| format!("creating {}", out.display()))?;
                    audit_trail::export(&trail, &mut std::io::BufWriter::new(file))
                }
                None => audit_trail::export(&trail, &mut std::io::stdout().lock()),
            };
            (path, verdict)
        }
    };
    // The verdict goes to standard output for `verify`; `export` keeps standard output
    // for the entries.
    let report = |line: String| match command {
        AuditCommand::Verify(_) => println!("{line}"),
        AuditCommand::Export(_) => eprintln!("{line}"),
    };
    match verdict.map_err(|e| wasmtime::format_err!("reading the audit trail: {e}"))? {
        audit_trail::Verdict::Intact { entries, head } => {
            report(format!(
                "audit trail {}: {entries} entries, chain intact, head {head}",
                path.display()
            ));
            Ok(())
        }
        audit_trail::Verdict::Broken { verified, broken } => {
            report(format!(
                "audit trail {}: BROKEN at entry {}: {broken} ({verified} entries before it verify)",
                path.display(),
                broken.sequence()
            ));
            std::process::exit(1);
        }
    }
}

/// `learner-mcp seed`.
async fn seed(args: SeedArgs) -> wasmtime::Result<()> {
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating data directory {}", args.data.display()))?;
    let sql = learner_wasmtime::native::sql::open(&args.data.join("app.db"))?;
    let plan = learner_dna::seed::Plan {
        seed: args.seed,
        tenants: args.tenants,
        learners: args.learners,
        demo: !args.no_demo,
        now_ms: learner_wasmtime::native::now_ms(),
    };
    let report = seed_database(&sql, &plan).await?;
    println!(
        "seeded {}: {} tenants, {} classes, {} learners ({} under 13, {} of them with verified parental consent), {} learning events",
        args.data.join("app.db").display(),
        report.tenants,
        report.classes,
        report.learners,
        report.under_13,
        report.under_13_with_consent,
        report.events
    );
    if report.busy > 0 {
        println!(
            "{} tenants left to another run writing them now (run again later to check)",
            report.busy
        );
    }
    Ok(())
}

/// Migrates the schema and generates `plan`'s data.
async fn seed_database(
    sql: &learner_wasmtime::native::sql::SqliteSql,
    plan: &learner_dna::seed::Plan,
) -> wasmtime::Result<learner_dna::seed::Report> {
    learner_dna::migrations::migrate(sql, plan.now_ms)
        .await
        .map_err(|e| wasmtime::format_err!("migrating the schema: {e}"))?;
    learner_dna::seed::seed(sql, plan)
        .await
        .map_err(|e| wasmtime::format_err!("seeding: {e}"))
}

async fn serve(args: ServeArgs) -> wasmtime::Result<()> {
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating data directory {}", args.data.display()))?;
    // The demo accounts' password: a setting of the application on the native profile,
    // the `demo_password` variable (when left empty) under the Spin profile.
    let password = demo_password(&args.data)?;
    let fallbacks = BTreeMap::from([("demo_password".to_owned(), password.clone())]);
    let spin_app = args
        .spin
        .as_deref()
        .map(|path| manifest::load(path, &fallbacks))
        .transpose()?;
    let (host_name, mut allowed, component_path) = match &spin_app {
        Some(app) => (
            "spin",
            app.allowed_outbound_hosts.clone(),
            app.source.clone(),
        ),
        None => (
            "wasmtime",
            vec![
                "https://*"
                    .parse()
                    .map_err(|e: String| wasmtime::format_err!(e))?,
            ],
            PathBuf::from("build/gateway.wasm"),
        ),
    };
    allowed.extend(args.allow_outbound);
    let component_path = args.component.unwrap_or(component_path);
    let mut settings = vec![("host.name".to_owned(), host_name.to_owned())];
    settings.extend(args.settings);
    let mut config = HostConfig::new(settings);
    // The application's settings, validated as it will read them: an invalid one stops
    // the server here, naming it. (A Spin application reads its own variables; it
    // answers every request with the error instead.)
    if spin_app.is_none() {
        learner_app::settings::Settings::from_config(&config)
            .map_err(|error| wasmtime::format_err!("{error}"))?;
    }
    // The password the application will see (empty: no demo accounts).
    let demo = match &spin_app {
        None => Some(password),
        // The Spin application reads its secrets from `secret_<name>` component variables.
        Some(app) => app.variables.get("secret_demo_password").cloned(),
    }
    .filter(|p| !p.is_empty());
    if let Some(password) = demo {
        println!(
            "demo sign-in accounts: teacher, guardian, student, admin — password: {password} \
             (their tenant, `demo`, is added on first use)"
        );
        if spin_app.is_none() {
            config.default_secret("demo-password", password);
        }
    }
    let spin = spin_app
        .map(|app| {
            SpinHost::new(
                &args.data.join("spin"),
                &app.sqlite_databases,
                app.variables,
            )
        })
        .transpose()?;
    let ports = Arc::new(Ports {
        kv: learner_wasmtime::native::kv::open(&args.data.join("kv.db"))?,
        sql: learner_wasmtime::native::sql::open(&args.data.join("app.db"))?,
        audit: SqliteAudit::open(&args.data.join("audit.db"))?,
        config,
        fetch: HttpClient::new(allowed.clone())?,
        outbound: OutboundPolicy::new(allowed),
        spin,
    });
    spawn_purger(Arc::clone(&ports));
    let engine = engine::serving_engine()?;
    let component = engine::load_component(&engine, &component_path, &args.data.join("compiled"))?;
    let app = server::App::new(&engine, &component, ports)?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, data = %args.data.display(), profile = host_name,
        component = %component_path.display(), "serving");
    println!("listening on http://{local}");
    server::serve(listener, app).await
}

/// The demo accounts' password for this data directory: `LEARNER_SECRET_DEMO_PASSWORD`
/// if set, else one generated on first start and kept in `<data>/demo-password`.
fn demo_password(data: &std::path::Path) -> wasmtime::Result<String> {
    if let Ok(password) = std::env::var("LEARNER_SECRET_DEMO_PASSWORD") {
        return Ok(password);
    }
    let path = data.join("demo-password");
    if let Ok(password) = std::fs::read_to_string(&path) {
        return Ok(password.trim().to_owned());
    }
    let mut bytes = [0u8; 12];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| wasmtime::format_err!("no system randomness"))?;
    let password = learner_core::hex(&bytes);
    std::fs::write(&path, &password)?;
    Ok(password)
}

/// Removes expired key-value entries once a minute (reads already ignore them).
fn spawn_purger(ports: Arc<Ports>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_mins(1));
        loop {
            tick.tick().await;
            let ports = Arc::clone(&ports);
            match tokio::task::spawn_blocking(move || ports.kv.purge_expired()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(purged)) => tracing::debug!(purged, "purged expired key-value entries"),
                Ok(Err(error)) => tracing::warn!(%error, "purging expired entries failed"),
                Err(error) => tracing::warn!(%error, "purge task failed"),
            }
        }
    });
}
