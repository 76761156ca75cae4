//! `studydesk store …`: where the index lives, and copying it between this data folder's
//! embedded engine and a Qdrant server.

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use studydesk_engine::Cancel;
use studydesk_engine::config::{Config, DEFAULT_COLLECTION, Paths, ServerStoreConfig, StoreConfig};
use studydesk_engine::library::INDEX_DIR;
use studydesk_engine::store::edge::EdgeStore;
use studydesk_engine::store::migrate::{MigrateReport, copy_index};
use studydesk_engine::store::server::{Create, ServerStore};
use studydesk_engine::store::{Scope, Source, VectorStore};

/// Where an interrupted copy records how far it got.
const CHECKPOINT_FILE: &str = "store-migration.json";
/// Where a copy from the server is built before it replaces a stale embedded index.
const INCOMING_DIR: &str = "index.incoming";

#[derive(Subcommand)]
pub enum StoreAction {
    /// Which index config.toml selects, whether it answers, and what it holds
    Status,
    /// Copy the index between this data folder's embedded engine and a Qdrant server, with
    /// vectors (nothing is re-embedded); an interrupted copy resumes when run again
    Migrate(MigrateArgs),
}

#[derive(Args)]
pub struct MigrateArgs {
    /// Copy the embedded index to this server's gRPC address, e.g. http://localhost:6334
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "from",
        conflicts_with = "from"
    )]
    to: Option<String>,
    /// Copy the index on this server into the embedded engine
    #[arg(long, value_name = "URL")]
    from: Option<String>,
    /// The collection on the server [default: [store] collection when config.toml names the
    /// same server, else "studydesk"]
    #[arg(long)]
    collection: Option<String>,
    /// Environment variable that holds the server's API key [default: the key stored in the
    /// OS keyring for URL, if any]
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,
    /// After a verified copy, make config.toml use the copy
    #[arg(long)]
    switch: bool,
}

pub fn run(
    out: &mut impl Write,
    paths: &Paths,
    config: &Config,
    action: StoreAction,
    cancel: &Cancel,
) -> Result<()> {
    match action {
        StoreAction::Status => status(out, paths, config),
        StoreAction::Migrate(args) => migrate(out, paths, config, args, cancel),
    }
}

fn status(out: &mut impl Write, paths: &Paths, config: &Config) -> Result<()> {
    let store = studydesk_engine::store::open(
        &config.store,
        &paths.data_dir.join(INDEX_DIR),
        Create::Never,
    )?;
    writeln!(out, "index: {}", store.location())?;
    let count = |source| {
        store.count(&Scope {
            source: Some(source),
            ..Scope::default()
        })
    };
    writeln!(
        out,
        "passages: {} (question bank {}, documents {})",
        store.count(&Scope::default())?,
        count(Source::Bank)?,
        count(Source::Doc)?
    )?;
    Ok(())
}

/// The server side of a copy: the command line wins, then config.toml when it names the same
/// server, then the defaults.
fn server_config(config: &Config, url: &str, args: &MigrateArgs) -> ServerStoreConfig {
    let same = match &config.store {
        StoreConfig::Server(s)
            if s.qdrant_url.trim_end_matches('/') == url.trim_end_matches('/') =>
        {
            Some(s)
        }
        _ => None,
    };
    ServerStoreConfig {
        qdrant_url: url.to_string(),
        api_key_env: args
            .api_key_env
            .clone()
            .or_else(|| same.and_then(|s| s.api_key_env.clone())),
        collection: args
            .collection
            .clone()
            .or_else(|| same.map(|s| s.collection.clone()))
            .unwrap_or_else(|| DEFAULT_COLLECTION.to_string()),
        shard_number: same.and_then(|s| s.shard_number),
        replication_factor: same.and_then(|s| s.replication_factor),
    }
}

fn migrate(
    out: &mut impl Write,
    paths: &Paths,
    config: &Config,
    args: MigrateArgs,
    cancel: &Cancel,
) -> Result<()> {
    let (url, to_server) = match (&args.to, &args.from) {
        (Some(url), None) => (url.clone(), true),
        (None, Some(url)) => (url.clone(), false),
        _ => unreachable!("clap requires exactly one of --to and --from"),
    };
    let server_config = server_config(config, &url, &args);
    paths.ensure_data_dir()?;
    // The server first: a wrong URL or key fails before the local index is even opened.
    let create = if to_server {
        Create::IfMissing
    } else {
        Create::Never
    };
    let server = ServerStore::connect(&server_config, create)?;
    let index_dir = paths.data_dir.join(INDEX_DIR);
    // Coming back from a server this data folder uses: its embedded index is the one left from
    // before the move, stale since. It is replaced, not merged into: the copy goes to a folder
    // beside it, which takes its place only once complete and verified.
    let incoming_dir = paths.data_dir.join(INCOMING_DIR);
    let replace_stale = !to_server
        && matches!(config.store, StoreConfig::Server(_))
        && (incoming_dir.exists() || EdgeStore::open(&index_dir)?.count(&Scope::default())? > 0);
    let embedded_dir = if replace_stale {
        &incoming_dir
    } else {
        &index_dir
    };
    let embedded = EdgeStore::open(embedded_dir)?;
    let (from, to): (&dyn VectorStore, &dyn VectorStore) = if to_server {
        (&embedded, &server)
    } else {
        (&server, &embedded)
    };
    eprintln!("copying {} to {}", from.location(), to.location());
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("copying [{bar:30}] {pos}/{len} passages  {eta}")
            .expect("valid template"),
    );
    let result = copy_index(
        from,
        to,
        &paths.data_dir.join(CHECKPOINT_FILE),
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
        cancel,
    );
    bar.finish_and_clear();
    let MigrateReport {
        copied,
        resumed,
        bank,
        docs,
    } = result?;
    let target_location = if replace_stale {
        format!("the embedded index in {}", index_dir.display())
    } else {
        to.location()
    };
    if replace_stale {
        drop(embedded);
        let old_dir = paths.data_dir.join(format!("{INDEX_DIR}.replaced"));
        let _ = std::fs::remove_dir_all(&old_dir);
        std::fs::rename(&index_dir, &old_dir)
            .with_context(|| format!("moving the stale {} aside", index_dir.display()))?;
        std::fs::rename(&incoming_dir, &index_dir)
            .with_context(|| format!("putting the copy at {}", index_dir.display()))?;
        std::fs::remove_dir_all(&old_dir)
            .with_context(|| format!("removing the stale {}", old_dir.display()))?;
        writeln!(
            out,
            "the embedded index left from before the move to the server was replaced by this copy"
        )?;
    }
    let resumed = if resumed { " (resumed)" } else { "" };
    writeln!(
        out,
        "copied {copied} passages{resumed}; verified: {target_location} now holds the same {} passages as its source (question bank {bank}, documents {docs})",
        bank + docs
    )?;
    let target = if to_server {
        StoreConfig::Server(server_config)
    } else {
        StoreConfig::Embedded
    };
    if config.store == target {
        writeln!(out, "config.toml already uses it")?;
    } else if args.switch {
        let mut next = Config::load(paths)?;
        next.store = target;
        next.save(paths)
            .context("the copy is complete, but config.toml was not updated")?;
        writeln!(out, "config.toml now uses it")?;
    } else {
        writeln!(
            out,
            "to use it, put this line in {} (or run again with --switch):\n{}",
            paths.config_file().display(),
            setting_line(&target)
        )?;
    }
    Ok(())
}

/// The `store = …` line of config.toml, as an inline table.
fn setting_line(store: &StoreConfig) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    match store {
        StoreConfig::Embedded => r#"store = "embedded""#.to_string(),
        StoreConfig::Server(s) => {
            let mut fields = vec![format!("qdrant_url = {}", quote(&s.qdrant_url))];
            if let Some(var) = &s.api_key_env {
                fields.push(format!("api_key_env = {}", quote(var)));
            }
            fields.push(format!("collection = {}", quote(&s.collection)));
            format!("store = {{ {} }}", fields.join(", "))
        }
    }
}
