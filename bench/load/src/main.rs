//! `learner-load`: the load client of `just bench-hosts`. It drives the whole OAuth
//! and MCP flow against one server and saves what it measured as JSON (`run`), and
//! prints several such files side by side (`table`).
//!
//!   learner-load run --stack learner --base http://127.0.0.1:8787 --password P \
//!       --label harness --pgid 1234 --out harness.json
//!   learner-load table reference.json worker.json harness.json

mod flow;
mod report;
mod run;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::flow::{Stack, Target};
use crate::report::Report;
use crate::run::Plan;

#[derive(Parser)]
#[command(about = "Measures Learner DNA MCP hosts and the reference stack side by side")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure one server.
    Run {
        /// Which kind of server.
        #[arg(long, value_enum)]
        stack: Stack,
        /// Its base URL (the reference stack: http://localhost:8788).
        #[arg(long)]
        base: String,
        /// Its name in the table.
        #[arg(long)]
        label: String,
        /// Who signs in (this project).
        #[arg(long, default_value = "teacher")]
        username: String,
        /// Their password.
        #[arg(long, default_value = "", env = "LEARNER_LOAD_PASSWORD")]
        password: String,
        #[command(flatten)]
        plan: Plan,
        /// Where the JSON report goes.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print reports side by side; ratios are to the first.
    Table {
        /// Reports written by `run`.
        reports: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("learner-load: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Run {
            stack,
            base,
            label,
            username,
            password,
            plan,
            out,
        } => {
            let base = base.trim_end_matches('/');
            let target = Target::discover(stack, base, &username, &password)?;
            let report = run::measure(&target, &plan, &label)?;
            let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
            std::fs::write(&out, json).map_err(|e| format!("{}: {e}", out.display()))?;
            println!("{}", report::table(std::slice::from_ref(&report)));
            Ok(())
        }
        Command::Table { reports } => {
            let reports: Vec<Report> = reports
                .iter()
                .map(|path| {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
                })
                .collect::<Result<_, String>>()?;
            println!("{}", report::table(&reports));
            Ok(())
        }
    }
}
