//! `learner-mcp`: the wasmtime harness. It serves the Learner DNA MCP component
//! locally (`serve`) and is the bed the end-to-end tests run on.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use wasmtime::error::Context as _;

use learner_core::outbound::AllowedHost;
use learner_mcp::native::audit::SqliteAudit;
use learner_mcp::native::config::{HostConfig, parse_pair};
use learner_mcp::native::fetch::HttpClient;
use learner_mcp::native::kv::SqliteKv;
use learner_mcp::native::sql::SqliteSql;
use learner_mcp::state::Ports;
use learner_mcp::{engine, server};

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

    /// The gateway component to serve.
    #[arg(long, default_value = "build/gateway.wasm", env = "LEARNER_COMPONENT")]
    component: PathBuf,

    /// A configuration value for the application, NAME=VALUE; repeatable. Secrets are
    /// not passed here but as LEARNER_SECRET_<NAME> environment variables.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_pair)]
    settings: Vec<(String, String)>,

    /// A destination the application may fetch, scheme://host[:port] with `*`
    /// wildcards for the host (`*`, `*.example.org`) or port; repeatable.
    #[arg(
        long = "allow-outbound",
        value_name = "PATTERN",
        default_value = "https://*"
    )]
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
    }
}

async fn serve(args: ServeArgs) -> wasmtime::Result<()> {
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating data directory {}", args.data.display()))?;
    let mut settings = vec![("host.name".to_owned(), "wasmtime".to_owned())];
    settings.extend(args.settings);
    let ports = Arc::new(Ports {
        kv: SqliteKv::open(&args.data.join("kv.db"))?,
        sql: SqliteSql::open(&args.data.join("app.db"))?,
        audit: SqliteAudit::open(&args.data.join("audit.db"))?,
        config: HostConfig::new(settings),
        fetch: HttpClient::new(args.allow_outbound)?,
    });
    spawn_purger(Arc::clone(&ports));
    let engine = engine::serving_engine()?;
    let component = engine::load_component(&engine, &args.component, &args.data.join("compiled"))?;
    let app = server::App::new(&engine, &component, ports)?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, data = %args.data.display(), "serving");
    println!("listening on http://{local}");
    server::serve(listener, app).await
}

/// Removes expired key-value entries once a minute (reads already ignore them).
fn spawn_purger(ports: Arc<Ports>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
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
