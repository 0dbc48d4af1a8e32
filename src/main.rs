//! The `sky-takeout` command: parses arguments, sets up logging, runs the chosen command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sky_takeout::app::Application;
use sky_takeout::cli;
use sky_takeout::config::layer::SettingsLayer;
use sky_takeout::usecases::shops::ShopRequest;

#[derive(Parser)]
#[command(
    name = "sky-takeout",
    version,
    about = "Sky Take-Out order backend with durable order alerts"
)]
struct Cli {
    /// TOML file of settings (keys are the long flag names with `_`).
    #[arg(long, global = true, env = "SKY_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingsLayer,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Manage shops.
    Shops {
        #[command(subcommand)]
        command: ShopsCommand,
    },
    /// Print a shop's alert frames as its merchant screen receives them (logs in first).
    Watch {
        /// The service's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Merchant account.
        #[arg(long, default_value = "admin")]
        username: String,
        /// Its password.
        #[arg(long, env = "SKY_WATCH_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Subcommand)]
enum ShopsCommand {
    /// Create a shop with its first merchant account; prints the shop id.
    Add {
        /// Shop name.
        #[arg(long)]
        name: String,
        /// Login of the first merchant account.
        #[arg(long)]
        admin_username: String,
        /// Its password.
        #[arg(long, env = "SKY_SHOP_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
        /// Also create the demo menu.
        #[arg(long)]
        demo_menu: bool,
    },
    /// List shops.
    List,
}

fn main() -> ExitCode {
    return_large_buffers_to_the_system();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let file = match &cli.config {
        Some(path) => match SettingsLayer::from_file(path) {
            Ok(l) => l,
            Err(e) => return fail(e),
        },
        None => SettingsLayer::default(),
    };
    let settings = match cli.settings.clone().or(file).resolve() {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::Shops { command } => shops(settings, command).await,
            Command::Watch {
                url,
                username,
                password,
            } => cli::watch::run(&url, &username, &password).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}")),
    }
}

/// Makes glibc serve every allocation over 1 MiB with its own mapping, returned to the
/// system when freed. By default glibc raises that threshold after the first such buffer is
/// freed, and from then on keeps big buffers in per-thread arenas for good: after a burst of
/// logins (argon2 takes 19 MiB per verification, on the blocking pool's threads) the process
/// stayed at hundreds of MiB. Called first thing, before any thread exists.
fn return_large_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("sky-takeout: {e}");
    ExitCode::from(2)
}

async fn serve(settings: sky_takeout::config::Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    tracing::info!(addr = %app.local_addr(), "sky-takeout listening");
    app.run_until(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn shops(
    settings: sky_takeout::config::Settings,
    command: ShopsCommand,
) -> anyhow::Result<()> {
    match command {
        ShopsCommand::Add {
            name,
            admin_username,
            admin_password,
            demo_menu,
        } => {
            let request = ShopRequest {
                name,
                admin_username,
                admin_password,
                demo_menu,
            };
            println!("{}", cli::shops::add(&settings, request).await?);
        }
        ShopsCommand::List => {
            for (id, name) in cli::shops::list(&settings).await? {
                println!("{id}\t{name}");
            }
        }
    }
    Ok(())
}
