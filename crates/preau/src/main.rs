//! `preau`: the one binary. Each subcommand is a thin caller of the same use cases the
//! web pages and the API call.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use preau_core::{Db, collectivites, demo, import, users, write_tx};
use preau_domain::org::CollectiviteKind;
use preau_domain::{Principal, Role};
use std::path::PathBuf;

/// mimalloc hands memory back to the system once a burst is over (the demo's loading, a
/// run of inventories), where glibc's allocator keeps its arenas at their highest: the
/// memory benchmark (`examples/membench.rs`) measures the difference.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "preau",
    version,
    about = "Préau — le numérique des écoles pour les collectivités"
)]
struct Cli {
    /// Folder holding the SQLite database (ignored with a PostgreSQL URL).
    #[arg(
        long,
        env = "PREAU_DATA_DIR",
        default_value = "preau-data",
        global = true
    )]
    data_dir: PathBuf,
    /// `postgres://…` to run on PostgreSQL; empty for the SQLite file in the data folder.
    #[arg(
        long,
        env = "PREAU_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "PREAU_LOG_JSON", global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web interface and the API.
    Serve {
        #[arg(long, env = "PREAU_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Loads the demo commune into an empty database and prints its logins.
        #[arg(long)]
        demo: bool,
        /// Sends cookies without the Secure flag (plain HTTP on a LAN, never on the internet).
        #[arg(long, env = "PREAU_INSECURE_COOKIES")]
        insecure_cookies: bool,
        /// A path inventory agents post to, besides /ocsinventory, /inventory and GLPI's
        /// (repeatable; comma-separated in the variable).
        #[arg(long = "agent-path", env = "PREAU_AGENT_PATHS", value_delimiter = ',')]
        agent_paths: Vec<String>,
        /// The address users reach Préau at, for QR labels (default: the request's host).
        #[arg(long, env = "PREAU_PUBLIC_URL")]
        public_url: Option<String>,
        /// The mail relay notifications go through: smtp://host:port. Without it, e-mails
        /// wait in the queue.
        #[arg(long, env = "PREAU_SMTP_URL")]
        smtp_url: Option<String>,
        /// The sender address of notifications.
        #[arg(long, env = "PREAU_MAIL_FROM", default_value = "preau@localhost")]
        mail_from: String,
        /// Turns `/metrics` on (Prometheus text format), read with this bearer token.
        #[arg(long, env = "PREAU_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// A reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are believed (an
        /// address or an IPv4 range; repeatable, comma-separated in the variable).
        #[arg(
            long = "trusted-proxy",
            env = "PREAU_TRUSTED_PROXIES",
            value_delimiter = ','
        )]
        trusted_proxies: Vec<String>,
        /// Serves HTTPS itself with this certificate chain (PEM), for a commune without a
        /// reverse proxy; with `--tls-key`. Browsers are then told to keep to HTTPS (HSTS).
        #[arg(long, env = "PREAU_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, env = "PREAU_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Creates or updates the database schema.
    Migrate {
        /// Lists the migrations that would be applied, and applies none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Takes a consistent copy of the whole database (attachments and scans included)
    /// while Préau serves: a SQLite file, or a `pg_dump` archive on PostgreSQL. Run it
    /// every night (see the README for a systemd timer or a cron line).
    Backup {
        /// The file to write; it must not exist.
        file: PathBuf,
    },
    /// Puts a backup back into an empty data folder (SQLite) or an empty database
    /// (PostgreSQL, `--database-url`), then brings its schema up to date.
    Restore {
        /// A file `preau backup` wrote.
        file: PathBuf,
    },
    /// Copies the whole database into a new, empty one — SQLite to PostgreSQL the day a
    /// collectivité outgrows the file, or back — with its ids, row versions, audit and
    /// histories, then brings the copy's schema up to date. The source is read from one
    /// snapshot and never written: stop Préau first, or what it writes meanwhile stays
    /// behind.
    Copy {
        /// The new database: `postgres://…`, `sqlite://FOLDER/preau.sqlite3`, or a new
        /// data folder.
        #[arg(long, hide_env_values = true)]
        to: String,
    },
    /// Administration of a fresh install.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Imports reference data.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// SLA clocks on the school calendar.
    Sla {
        #[command(subcommand)]
        command: SlaCommand,
    },
    /// Exports data as CSV on standard output.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Creates a collectivité (a tenant).
    CreateCollectivite {
        #[arg(long)]
        name: String,
        /// commune, epci, departement or region.
        #[arg(long, default_value = "commune")]
        kind: String,
        #[arg(long)]
        insee: Option<String>,
    },
    /// Creates a user with one role. The password comes from PREAU_PASSWORD or standard input.
    CreateUser {
        #[arg(long)]
        login: String,
        #[arg(long)]
        role: String,
        /// UAI of the school, for technicien, directeur, enseignant, erun (repeatable).
        #[arg(long = "scope")]
        scope: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        /// The collectivité's name; optional when the deployment has only one.
        #[arg(long)]
        collectivite: Option<String>,
    },
    /// Sets (or rotates) the collectivité's inventory-agent credentials and prints the
    /// secret. The secret comes from PREAU_AGENT_SECRET, else a random one is made.
    AgentCredentials {
        #[arg(long, default_value = "agent")]
        login: String,
        #[arg(long)]
        collectivite: Option<String>,
    },
    /// Creates an API token for a user and prints it.
    Token {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// The user's collectivité (logins are unique within one); needed when there are
        /// several.
        #[arg(long)]
        collectivite: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// School holidays from the official `fr-en-calendrier-scolaire` export (all zones),
    /// for the years after those bundled with Préau.
    Calendar { file: PathBuf },
    /// A school's pupils from the ONDE export its head downloads: only the class, the
    /// level and a pupil label are kept; arrivals, departures and class changes are
    /// listed; nothing is written if any line is wrong.
    Onde {
        file: PathBuf,
        #[arg(long)]
        uai: String,
        /// The school year (`2026-2027`); by default the current one.
        #[arg(long)]
        year: Option<String>,
        #[arg(long)]
        collectivite: Option<String>,
        /// Shows what would change, writes nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Schools from the national directory export or a `uai;nom;type;adresse` CSV.
    Schools {
        file: PathBuf,
        /// Keep only the schools of this commune (INSEE code) from the directory export.
        #[arg(long)]
        commune: Option<String>,
        #[arg(long)]
        collectivite: Option<String>,
        /// Shows what would change, writes nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum SlaCommand {
    /// Prints when a clock started at --start for --duration ends, on the school's
    /// calendar (its zone's holidays, public holidays, its school week), in Europe/Paris.
    Deadline {
        #[arg(long)]
        uai: String,
        /// Local time, Europe/Paris: 2026-12-18T17:00.
        #[arg(long)]
        start: String,
        /// 4h, 90m, or 2d (working days).
        #[arg(long)]
        duration: String,
        /// The school week: 4 (no school on Wednesday) or 4.5; by default the school's own.
        #[arg(long)]
        week: Option<String>,
        #[arg(long)]
        collectivite: Option<String>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    Schools {
        #[arg(long)]
        collectivite: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("PREAU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(cli))
}

async fn open(cli: &Cli) -> anyhow::Result<Db> {
    let db = Db::open(
        cli.database_url.as_deref().filter(|u| !u.is_empty()),
        &cli.data_dir,
    )
    .await?;
    db.migrate().await?;
    preau_core::inventory::categories::ensure_builtin_everywhere(&db).await?;
    Ok(db)
}

/// The collectivité a command acts for: the one named, or the only one.
async fn collectivite(db: &Db, name: Option<&str>) -> anyhow::Result<i64> {
    if let Some(n) = name {
        return Ok(collectivites::find_by_name(db, n)
            .await?
            .with_context(|| format!("no collectivité named {n:?}"))?
            .id);
    }
    let all = collectivites::list_all(db).await?;
    match all.as_slice() {
        [one] => Ok(one.id),
        [] => bail!(
            "no collectivité yet: run `preau admin create-collectivite --name …` (or `preau serve --demo`)"
        ),
        _ => bail!("several collectivités: say which with --collectivite"),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url.as_deref().filter(|u| !u.is_empty());
    if let Command::Migrate { dry_run: true } = &cli.command {
        let db = Db::open(url, &cli.data_dir).await?;
        let pending = db.pending().await?;
        if pending.is_empty() {
            println!("no migration pending ({})", db.backend());
        }
        for (version, name) in pending {
            println!("pending: {version:04} {name}");
        }
        return Ok(());
    }
    // A restore goes into an empty place: nothing is opened or created before it.
    if let Command::Restore { file } = &cli.command {
        anyhow::ensure!(file.is_file(), "{} is not a file", file.display());
        match url {
            Some(u) if u.starts_with("postgres") => {
                preau_core::backup::restore_postgres(
                    file,
                    &preau_core::backup::Postgres {
                        url: u,
                        schema: None,
                    },
                )
                .await?
            }
            _ => preau_core::backup::restore_sqlite(file, &cli.data_dir).await?,
        }
        let db = open(&cli).await?;
        println!("restored {} ({})", file.display(), db.backend());
        return Ok(());
    }
    // A copy reads the source as it is (no migration) and writes into an empty database.
    if let Command::Copy { to } = &cli.command {
        let from = Db::open(url, &cli.data_dir).await?;
        let target = if to.contains("://") {
            Db::open(Some(to), &cli.data_dir).await?
        } else {
            Db::open_sqlite(std::path::Path::new(to)).await?
        };
        let copied = preau_core::copy::copy(&from, &target).await?;
        let upgraded = target.migrate().await?;
        preau_core::inventory::categories::ensure_builtin_everywhere(&target).await?;
        println!(
            "copied {} rows of {} tables (schema {}) from {} to {}{}",
            copied.rows(),
            copied.tables.len(),
            copied.version,
            from.backend(),
            target.backend(),
            if upgraded.is_empty() {
                String::new()
            } else {
                format!(", then upgraded it to schema {}", Db::latest_version())
            }
        );
        return Ok(());
    }
    let db = open(&cli).await?;
    match &cli.command {
        Command::Restore { .. } | Command::Copy { .. } => unreachable!("handled above"),
        Command::Backup { file } => {
            let pg = url.map(|u| preau_core::backup::Postgres {
                url: u,
                schema: None,
            });
            let taken =
                preau_core::backup::backup(&db, pg.as_ref(), file, chrono::Utc::now()).await?;
            println!(
                "backup written: {} ({} bytes)",
                taken.path.display(),
                taken.bytes
            );
        }
        Command::Migrate { .. } => {
            println!("database up to date ({})", db.backend());
        }
        Command::Serve {
            listen,
            demo: with_demo,
            insecure_cookies,
            agent_paths,
            public_url,
            smtp_url,
            mail_from,
            metrics_token,
            trusted_proxies,
            tls_cert,
            tls_key,
        } => {
            if *with_demo {
                if demo::load_if_empty(&db, chrono::Utc::now()).await? {
                    tracing::info!("demo commune loaded");
                }
                println!(
                    "Préau — commune de démonstration « {} »",
                    demo::COLLECTIVITE
                );
                println!("Identifiants (mot de passe « {} ») :", demo::PASSWORD);
                for (login, what) in demo::LOGINS {
                    println!("  {login:<12} {what}");
                }
                println!(
                    "Agents d'inventaire : {} / {} (http://{listen}/ocsinventory)",
                    demo::AGENT_LOGIN,
                    demo::PASSWORD
                );
            }
            let mut config = preau_web::WebConfig {
                secure_cookies: !insecure_cookies,
                public_url: public_url.clone().filter(|u| !u.is_empty()),
                metrics_token: metrics_token.clone().filter(|t| !t.trim().is_empty()),
                trusted_proxies: trusted_proxies
                    .iter()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| preau_web::TrustedProxy::parse(p))
                    .collect::<Result<_, _>>()
                    .map_err(|e| anyhow::anyhow!(e))?,
                hsts: tls_cert.is_some(),
                ..Default::default()
            };
            if let Some(t) = &config.metrics_token {
                anyhow::ensure!(
                    t.len() >= 16,
                    "--metrics-token must be at least 16 characters long"
                );
            }
            for path in agent_paths
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
            {
                anyhow::ensure!(
                    path.starts_with('/') && !path.contains(['{', '}', '*', ' ']),
                    "--agent-path must be a plain path starting with / (got {path:?})"
                );
                if !config.agent_paths.iter().any(|p| p == path) {
                    config.agent_paths.push(path.to_string());
                }
            }
            let state = preau_web::AppState::new(db.clone(), config);
            let metrics = state.metrics.clone();
            let app = preau_web::router(state);
            // The periodic pass on tickets: clocks refreshed, escalations, closing the
            // tickets the school did not confirm. Its state is in the database, so a
            // restart loses nothing.
            let ticker_db = db.clone();
            let ticker_metrics = metrics.clone();
            let ticker = tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
                loop {
                    every.tick().await;
                    // Several nodes on one PostgreSQL database: one of them runs the passes.
                    let lock = match ticker_db.exclusive("preau periodic passes").await {
                        Ok(Some(lock)) => lock,
                        Ok(None) => continue,
                        Err(e) => {
                            tracing::warn!(error = %e, "periodic passes skipped");
                            continue;
                        }
                    };
                    if let Err(e) = ticker_db.optimize().await {
                        tracing::warn!(error = %e, "planner statistics not refreshed");
                    }
                    // Pupil labels whose retention date has come are deleted.
                    let started = std::time::Instant::now();
                    let result = preau_core::pupils::purge(&ticker_db, chrono::Utc::now()).await;
                    ticker_metrics.pass("purge", started.elapsed().as_secs_f64(), result.is_ok());
                    match result {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(deleted = n, "pupil labels purged"),
                        Err(e) => tracing::warn!(error = %e, "pupil purge failed"),
                    }
                    // Schools heard from again, or fallen silent.
                    let started = std::time::Instant::now();
                    let result =
                        preau_core::connectivity::pass(&ticker_db, chrono::Utc::now()).await;
                    ticker_metrics.pass(
                        "connectivity",
                        started.elapsed().as_secs_f64(),
                        result.is_ok(),
                    );
                    match result {
                        Ok(p) if p.went_offline + p.came_back > 0 => tracing::info!(
                            offline = p.went_offline,
                            back = p.came_back,
                            "connectivity pass"
                        ),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "connectivity pass failed"),
                    }
                    // Rooms checked the class day before each visio session, and just before.
                    let started = std::time::Instant::now();
                    let result =
                        preau_core::visio::readiness_pass(&ticker_db, chrono::Utc::now()).await;
                    ticker_metrics.pass("visio", started.elapsed().as_secs_f64(), result.is_ok());
                    match result {
                        Ok(p) if p.not_ready > 0 => tracing::info!(
                            checked = p.checked,
                            not_ready = p.not_ready,
                            tickets = p.tickets,
                            "visio readiness pass"
                        ),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "visio readiness pass failed"),
                    }
                    let started = std::time::Instant::now();
                    let result = preau_core::tickets::tick(&ticker_db, chrono::Utc::now()).await;
                    ticker_metrics.pass("tickets", started.elapsed().as_secs_f64(), result.is_ok());
                    match result {
                        Ok(t) if t.closed + t.escalated > 0 => {
                            tracing::info!(
                                closed = t.closed,
                                escalated = t.escalated,
                                refreshed = t.refreshed,
                                "tickets pass"
                            )
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "tickets pass failed"),
                    }
                    if let Err(e) = lock.release().await {
                        tracing::warn!(error = %e, "periodic passes' lock not released");
                    }
                }
            });
            // The mail worker: sends what the job queue holds, every 30 seconds.
            let mailer = match smtp_url.as_deref().filter(|u| !u.is_empty()) {
                Some(url) => {
                    let cfg = preau_core::mail::SmtpConfig::from_url(url, mail_from)?;
                    let base = public_url
                        .clone()
                        .filter(|u| !u.is_empty())
                        .unwrap_or_else(|| format!("http://{listen}"));
                    let mail_db = db.clone();
                    let mail_metrics = metrics.clone();
                    tracing::info!(relay = %cfg.relay, "e-mail notifications on");
                    Some(tokio::spawn(async move {
                        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
                        loop {
                            every.tick().await;
                            let started = std::time::Instant::now();
                            let result = preau_core::jobs::run_mail(
                                &mail_db,
                                &cfg,
                                &base,
                                chrono::Utc::now(),
                            )
                            .await;
                            mail_metrics.pass(
                                "mail",
                                started.elapsed().as_secs_f64(),
                                result.is_ok(),
                            );
                            if let Err(e) = result {
                                tracing::warn!(error = %e, "mail pass failed");
                            }
                        }
                    }))
                }
                None => {
                    tracing::info!("no --smtp-url: e-mail notifications wait in the queue");
                    None
                }
            };
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, backend = %db.backend(), tls = tls_cert.is_some(), "listening");
            let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => {
                    // ring builds with the C compiler alone (aws-lc-rs wants more tools);
                    // rustls marks it deprecated for lacking post-quantum key exchange.
                    #[allow(deprecated)]
                    let provider = rustls::crypto::ring::default_provider();
                    let _ = provider.install_default();
                    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                        .await
                        .with_context(|| {
                            format!(
                                "cannot read the TLS certificate {} or its key {}",
                                cert.display(),
                                key.display()
                            )
                        })?;
                    println!("https://{addr}/");
                    let handle = axum_server::Handle::new();
                    let stopper = handle.clone();
                    tokio::spawn(async move {
                        shutdown().await;
                        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
                    });
                    axum_server::from_tcp_rustls(listener.into_std()?, tls)?
                        .handle(handle)
                        .serve(service)
                        .await?;
                }
                _ => {
                    println!("http://{addr}/");
                    axum::serve(listener, service)
                        .with_graceful_shutdown(shutdown())
                        .await?;
                }
            }
            ticker.abort();
            if let Some(m) = mailer {
                m.abort();
            }
            db.close().await;
            tracing::info!("stopped");
        }
        Command::Admin { command } => admin(&db, command).await?,
        Command::Sla {
            command:
                SlaCommand::Deadline {
                    uai,
                    start,
                    duration,
                    week,
                    collectivite: c,
                },
        } => {
            use preau_domain::calendar::Span;
            let cid = collectivite(&db, c.as_deref()).await?;
            let sys = Principal::system(cid, "cli");
            let uai = preau_domain::Uai::parse(uai)?;
            let school = preau_core::schools::find_by_uai(&db, &sys, &uai)
                .await
                .with_context(|| format!("no school {uai} in this collectivité"))?;
            let week = match week.as_deref().map(str::trim) {
                None => school.week.clone(),
                Some("4") => "4".to_string(),
                Some("4.5" | "4,5") => "4.5".to_string(),
                Some(other) => bail!("--week must be 4 or 4.5, not {other:?}"),
            };
            // The very calendar tickets of this school count on.
            let cal =
                preau_core::calendar::school_calendar(&db, &school.holiday_zone, &week).await?;
            let start = preau_domain::paris::parse(start).with_context(|| {
                format!("--start {start:?}: expected 2026-12-18T17:00, a time that exists in Paris")
            })?;
            let span = Span::parse(duration)?;
            let due = cal.deadline(start, span, &[]);
            let known_until = cal.closures.iter().map(|c| c.end).max();
            if known_until.is_none_or(|k| due.date_naive() > k) {
                eprintln!(
                    "attention : vacances scolaires connues jusqu'au {} seulement — importez le calendrier officiel pour les années suivantes",
                    known_until
                        .map(|k| k.to_string())
                        .unwrap_or_else(|| "—".into())
                );
            }
            println!(
                "{}",
                preau_domain::paris::local(due).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
            );
        }
        Command::Import {
            command: ImportCommand::Calendar { file },
        } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let (text, _) = import::decode(&bytes).map_err(|e| anyhow::anyhow!(e.to_string()))?;
            let report = write_tx!(db, tx => preau_core::calendar::import(tx, &text).await?)
                .map_err(describe)?;
            println!(
                "calendrier scolaire : {} période(s) ajoutée(s), {} déjà connue(s)",
                report.added, report.known
            );
        }
        Command::Import {
            command:
                ImportCommand::Schools {
                    file,
                    commune,
                    collectivite: c,
                    dry_run,
                },
        } => {
            let cid = collectivite(&db, c.as_deref()).await?;
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let sys = Principal::system(cid, "cli");
            let report = import::import_schools(
                &db,
                &sys,
                &bytes,
                commune.as_deref(),
                *dry_run,
                chrono::Utc::now(),
            )
            .await?;
            if !report.errors.is_empty() {
                for e in &report.errors {
                    eprintln!("ligne {} — {} : {}", e.line, e.field, e.message);
                }
                bail!(
                    "{} erreur(s) : rien n'a été importé / nothing was imported",
                    report.errors.len()
                );
            }
            println!(
                "{}{} ({}, {}) : {} créée(s), {} mise(s) à jour, {} inchangée(s), {} ignorée(s)",
                if *dry_run { "[essai] " } else { "" },
                report.format,
                report.encoding,
                file.display(),
                report.created,
                report.updated,
                report.unchanged,
                report.skipped
            );
        }
        Command::Import {
            command:
                ImportCommand::Onde {
                    file,
                    uai,
                    year,
                    collectivite: c,
                    dry_run,
                },
        } => {
            let cid = collectivite(&db, c.as_deref()).await?;
            let sys = Principal::system(cid, "cli");
            let uai = preau_domain::Uai::parse(uai).map_err(|e| anyhow::anyhow!(e.to_string()))?;
            let school = preau_core::schools::find_by_uai(&db, &sys, &uai)
                .await
                .map_err(|_| anyhow::anyhow!("no school with UAI {uai}"))?;
            let year_id = match year {
                Some(label) => Some(
                    preau_core::years::list(&db, &sys)
                        .await?
                        .into_iter()
                        .find(|y| &y.label == label)
                        .with_context(|| format!("no school year {label:?}"))?
                        .id,
                ),
                None => None,
            };
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let r = preau_core::pupils::import_onde(
                &db,
                &sys,
                school.id,
                year_id,
                &bytes,
                *dry_run,
                chrono::Utc::now(),
            )
            .await
            .map_err(describe)?;
            if !r.errors.is_empty() {
                for e in &r.errors {
                    eprintln!("ligne {} — {}", e.line, e.message);
                }
                bail!(
                    "{} erreur(s) : rien n'a été importé / nothing was imported",
                    r.errors.len()
                );
            }
            println!(
                "{}{} — {} ({}) : {} élève(s), {} classe(s) créée(s), {} arrivée(s), {} départ(s), {} changement(s) de classe, {} inchangé(s)",
                if *dry_run { "[essai] " } else { "" },
                r.school_name,
                r.school_year,
                r.encoding,
                r.pupils,
                r.classes_created.len(),
                r.arrivals.len(),
                r.departures.len(),
                r.moves.len(),
                r.unchanged
            );
            if r.continuing > 0 {
                println!(
                    "{} élève(s) déjà là l'an dernier ; {} tablette(s) les suivent, {} rendue(s) au stock",
                    r.continuing, r.loans_following, r.loans_to_stock
                );
            }
            for (label, class) in &r.arrivals {
                println!("  + {label} ({class})");
            }
            for (label, class) in &r.departures {
                println!("  - {label} ({class})");
            }
            for (label, from, to) in &r.moves {
                println!("  ~ {label} : {from} → {to}");
            }
            println!(
                "colonnes ignorées, jamais enregistrées : {}",
                r.dropped_columns.join(", ")
            );
        }
        Command::Export {
            command: ExportCommand::Schools { collectivite: c },
        } => {
            let cid = collectivite(&db, c.as_deref()).await?;
            print!(
                "{}",
                import::export_schools(&db, &Principal::system(cid, "cli")).await?
            );
        }
    }
    Ok(())
}

async fn admin(db: &Db, command: &AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateCollectivite { name, kind, insee } => {
            let kind = CollectiviteKind::parse("kind", kind)?;
            let id = write_tx!(db, tx => collectivites::create(tx, kind, name, insee.as_deref(), chrono::Utc::now()).await?)
                .map_err(describe)?;
            println!("collectivité {id} créée : {name}");
        }
        AdminCommand::CreateUser {
            login,
            role,
            scope,
            name,
            collectivite: c,
        } => {
            let cid = collectivite(db, c.as_deref()).await?;
            let role = Role::parse("role", role)?;
            let password = match std::env::var("PREAU_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprintln!("mot de passe (10 caractères au moins) :");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let sys = Principal::system(cid, "cli");
            let mut school_ids = Vec::new();
            for uai in scope {
                let uai = preau_domain::Uai::parse(uai)?;
                school_ids.push(
                    preau_core::schools::find_by_uai(db, &sys, &uai)
                        .await
                        .with_context(|| format!("no school {uai} in this collectivité"))?
                        .id,
                );
            }
            if matches!(role, Role::Prestataire | Role::Intervenant) {
                bail!(
                    "a prestataire or an intervenant needs a contractor company: create it in the web interface (Marchés → Prestataires) and give the role there"
                );
            }
            if school_ids.is_empty() && users::needs_school(role) {
                bail!("role {} needs --scope UAI", role.code());
            }
            let scopes: Vec<Option<i64>> = if school_ids.is_empty() {
                vec![None]
            } else {
                school_ids.into_iter().map(Some).collect()
            };
            let input = users::UserInput {
                login: login.clone(),
                display_name: name.clone().unwrap_or_else(|| login.clone()),
                email: None,
                password,
                lang: None,
            };
            write_tx!(db, tx => {
                let user = users::create(tx, &sys, &input, chrono::Utc::now()).await?;
                for school in &scopes {
                    users::add_role(tx, &sys, user.id, role, *school, None, chrono::Utc::now()).await?;
                }
            })
            .map_err(describe)?;
            println!(
                "utilisateur {login} créé ({})",
                role.label(preau_domain::Lang::Fr)
            );
        }
        AdminCommand::AgentCredentials {
            login,
            collectivite: c,
        } => {
            let cid = collectivite(db, c.as_deref()).await?;
            let sys = Principal::system(cid, "cli");
            let given = std::env::var("PREAU_AGENT_SECRET").ok();
            let secret = write_tx!(db, tx => {
                preau_core::inventory::agents::set(tx, &sys, login, given.as_deref(), chrono::Utc::now()).await?
            })
            .map_err(describe)?;
            eprintln!("identifiants des agents d'inventaire : {login} / (secret ci-dessous)");
            println!("{secret}");
        }
        AdminCommand::Token {
            user,
            name,
            collectivite: c,
        } => {
            let cid = collectivite(db, c.as_deref()).await?;
            let u = users::find_by_login_in(db, cid, user)
                .await?
                .with_context(|| format!("no user {user:?}"))?;
            let sys = Principal::system(u.collectivite_id, "cli");
            let token = write_tx!(db, tx => preau_core::users::auth::create_token(tx, &sys, u.id, name, chrono::Utc::now()).await?)
                .map_err(describe)?;
            println!("{token}");
        }
    }
    Ok(())
}

/// Turns field errors into a readable message for the terminal.
fn describe(e: preau_core::AppError) -> anyhow::Error {
    match e {
        preau_core::AppError::Invalid(errs) => anyhow::anyhow!(
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        preau_core::AppError::Conflict(f) => anyhow::anyhow!(f.to_string()),
        other => anyhow::anyhow!(other),
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
