//! The settings of a command, read as the language server reads them (docs/configuration.md): the
//! defaults, then an editor's settings (`--settings JSON`, as the server takes them from the
//! client), then `--config FILE` or else the `mil.toml` nearest above the file, then `--chip` and
//! `--compute-units`.

use mil_ane::{Chip, ComputeUnits};
use mil_ide::config::{self, Config, Settings};
use std::path::{Path, PathBuf};

/// The options that override the settings files.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SettingsArgs {
    /// The chip ANE diagnostics and placement are for: a14, a15, a16, a17pro, a18, a18pro, m1, m2,
    /// m3, m4 (default: the settings file's, else m4).
    #[arg(long, value_parser = parse_chip)]
    pub chip: Option<String>,
    /// The devices Core ML may use: all, cpu_and_ne, cpu_and_gpu, cpu_only (default: the settings
    /// file's, else cpu_and_ne).
    #[arg(long, value_parser = parse_units)]
    pub compute_units: Option<String>,
    /// The settings file to read instead of the `mil.toml` nearest above each file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the text read from standard input lives: its `mil.toml` is looked for from there.
    #[arg(long, value_name = "PATH")]
    pub stdin_path: Option<PathBuf>,
    /// An editor's settings, as JSON in the form the language server takes them
    /// (`{"chip": "m1", "computeUnits": "all"}`); the `mil.toml` file overrides them.
    #[arg(long, value_name = "JSON")]
    pub settings: Option<String>,
}

fn parse_units(s: &str) -> Result<String, String> {
    ComputeUnits::parse(s)
        .map(|_| s.to_string())
        .ok_or_else(|| format!("unknown compute units `{s}` (all, cpu_and_ne, cpu_and_gpu, cpu_only)"))
}

fn parse_chip(s: &str) -> Result<String, String> {
    let names: Vec<&str> = Chip::ALL.iter().map(|c| c.name()).collect();
    Chip::parse(s)
        .map(|_| s.to_string())
        .ok_or_else(|| format!("unknown chip `{s}` ({})", names.join(", ")))
}

impl SettingsArgs {
    /// The settings for the file at `path` (`-`: standard input, whose settings file is looked for
    /// from `--stdin-path`, else from the current folder). Problems in the settings are reported on
    /// stderr; settings that cannot be read are an error.
    pub fn config_for(&self, path: &Path) -> Result<Config, String> {
        let mut config = Config::default();
        if let Some(json) = &self.settings {
            let value: serde_json::Value =
                serde_json::from_str(json).map_err(|e| format!("--settings: {e}"))?;
            let settings = Settings::from_json(&value).map_err(|e| format!("--settings: {e}"))?;
            for problem in config.apply(&settings) {
                eprintln!("mil: --settings: {problem}");
            }
        }
        let path = match &self.stdin_path {
            Some(stdin_path) if path == Path::new("-") => stdin_path,
            _ => path,
        };
        let file = match &self.config {
            Some(file) => Some(file.clone()),
            None if path == Path::new("-") => config::discover(Path::new(".")),
            None => config::discover(
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new(".")),
            ),
        };
        if let Some(file) = file {
            let settings = config::read_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            for problem in config.apply(&settings) {
                eprintln!("mil: {}: {problem}", file.display());
            }
        }
        if let Some(chip) = &self.chip {
            config.chip = Some(chip.clone());
        }
        if let Some(units) = &self.compute_units {
            config.compute_units = units.clone();
        }
        Ok(config)
    }
}
