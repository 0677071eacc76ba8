//! Settings, an input of every analysis: defaults, then the client's (`initializationOptions`,
//! `workspace/didChangeConfiguration`) or the command line's `--config FILE`, then the `mil.toml`
//! nearest above the file, then the command line's flags, each overriding the one before. See
//! docs/configuration.md.

use mil_ane::{Chip, ComputeUnits, Target};
use mil_ir::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The settings in force.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The opset a new function is written against (completion's statement snippet).
    pub deployment_target: String,
    /// The chip ANE diagnostics, placement and estimates are for (`M1`, `A17`; the M4 when unset).
    pub chip: Option<String>,
    /// The compute units ANE diagnostics and placement are for (`all`, `cpu_and_ne`, `cpu_and_gpu`,
    /// `cpu_only`).
    pub compute_units: String,
    /// Whether saving a document compiles it.
    pub compile_on_save: bool,
    /// Where compiled packages and reports go, relative to the workspace.
    pub output_folder: PathBuf,
    /// The folder of calibration samples `mil.w8a8` quantises with (relative to the workspace).
    pub calibration_folder: Option<PathBuf>,
    /// Per-code severities; `None` turns the code off.
    pub severity: BTreeMap<String, Option<Severity>>,
    /// Device-per-op inlay hints (once placement lands).
    pub inlay_device: bool,
    /// Input-name inlay hints before positional arguments.
    pub inlay_parameter_names: bool,
    /// The folder of the project's docs (ending in `/`); diagnostic codes link into it.
    pub docs_url: String,
    /// Documents larger than this are not analysed.
    pub max_document_bytes: usize,
    /// The least severe log messages sent (`error`, `warning`, `info`, `log`).
    pub log_level: LogLevel,
}

/// How much the language server logs, least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warning,
    /// Also what the server does (the default).
    Info,
    /// Everything, down to each analysis.
    Log,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            deployment_target: "ios18".into(),
            chip: None,
            compute_units: "cpu_and_ne".into(),
            compile_on_save: false,
            output_folder: PathBuf::from("build"),
            calibration_folder: None,
            severity: BTreeMap::new(),
            inlay_device: true,
            inlay_parameter_names: true,
            docs_url: default_docs_url(),
            max_document_bytes: 64 << 20,
            log_level: LogLevel::Info,
        }
    }
}

/// The docs folder of this checkout, as a file URI.
fn default_docs_url() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let path = path.canonicalize().unwrap_or(path);
    format!("file://{}/", path.display())
}

/// Settings as a client or `mil.toml` gives them: every field optional. JSON keys are camelCase,
/// `mil.toml` keys kebab-case.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    #[serde(alias = "deployment-target")]
    deployment_target: Option<String>,
    chip: Option<String>,
    #[serde(alias = "compute-units")]
    compute_units: Option<String>,
    #[serde(alias = "compile-on-save")]
    compile_on_save: Option<bool>,
    #[serde(alias = "output-folder")]
    output_folder: Option<PathBuf>,
    #[serde(alias = "calibration-folder")]
    calibration_folder: Option<PathBuf>,
    severity: BTreeMap<String, String>,
    #[serde(alias = "inlay-hints")]
    inlay_hints: InlaySettings,
    #[serde(alias = "docs-url")]
    docs_url: Option<String>,
    #[serde(alias = "max-document-bytes")]
    max_document_bytes: Option<usize>,
    #[serde(alias = "log-level")]
    log_level: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct InlaySettings {
    device: Option<bool>,
    #[serde(alias = "parameter-names")]
    parameter_names: Option<bool>,
}

impl Settings {
    /// Reads client settings: the object itself or its `mil` section. Unknown keys are ignored;
    /// a malformed object is an error.
    pub fn from_json(value: &serde_json::Value) -> Result<Settings, String> {
        let section = value.get("mil").unwrap_or(value);
        if section.is_null() {
            return Ok(Settings::default());
        }
        Settings::deserialize(section).map_err(|e| e.to_string())
    }

    /// Reads a `mil.toml`.
    pub fn from_toml(text: &str) -> Result<Settings, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

impl Config {
    /// Applies `s` over the current settings; returns the problems found (bad severities).
    pub fn apply(&mut self, s: &Settings) -> Vec<String> {
        let mut problems = Vec::new();
        macro_rules! set {
            ($field:ident) => {
                if let Some(v) = &s.$field {
                    self.$field = v.clone();
                }
            };
        }
        set!(deployment_target);
        if let Some(units) = &s.compute_units {
            match ComputeUnits::parse(units) {
                Some(_) => self.compute_units = units.clone(),
                None => problems.push(format!(
                    "compute units `{units}`: use all, cpu_and_ne, cpu_and_gpu or cpu_only"
                )),
            }
        }
        set!(compile_on_save);
        set!(output_folder);
        if let Some(folder) = &s.calibration_folder {
            self.calibration_folder = Some(folder.clone());
        }
        set!(docs_url);
        set!(max_document_bytes);
        if let Some(chip) = &s.chip {
            match Chip::parse(chip) {
                Some(_) => self.chip = Some(chip.clone()),
                None => {
                    let names: Vec<&str> = Chip::ALL.iter().map(|c| c.name()).collect();
                    problems.push(format!("chip `{chip}`: use one of {}", names.join(", ")));
                }
            }
        }
        if let Some(v) = s.inlay_hints.device {
            self.inlay_device = v;
        }
        if let Some(v) = s.inlay_hints.parameter_names {
            self.inlay_parameter_names = v;
        }
        if let Some(level) = &s.log_level {
            match level.to_ascii_lowercase().as_str() {
                "error" => self.log_level = LogLevel::Error,
                "warning" => self.log_level = LogLevel::Warning,
                "info" => self.log_level = LogLevel::Info,
                "log" | "debug" => self.log_level = LogLevel::Log,
                _ => problems.push(format!("log level `{level}`: use error, warning, info or log")),
            }
        }
        for (code, level) in &s.severity {
            match parse_severity(level) {
                Some(sev) => {
                    self.severity.insert(code.to_ascii_uppercase(), sev);
                }
                None => problems.push(format!(
                    "severity `{level}` for {code}: use error, warning, information, hint or off"
                )),
            }
        }
        problems
    }

    /// The chip and compute units ANE diagnostics, placement and estimates are for.
    pub fn target(&self) -> Target {
        let default = Target::default();
        Target {
            chip: self.chip.as_deref().and_then(Chip::parse).unwrap_or(default.chip),
            compute_units: ComputeUnits::parse(&self.compute_units).unwrap_or(default.compute_units),
        }
    }

    /// The severity a diagnostic with `code` is shown with (`None`: not shown).
    pub fn severity(&self, code: &str, default: Severity) -> Option<Severity> {
        self.severity.get(code).copied().unwrap_or(Some(default))
    }
}

fn parse_severity(s: &str) -> Option<Option<Severity>> {
    Some(match s.to_ascii_lowercase().as_str() {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "information" | "info" => Some(Severity::Information),
        "hint" => Some(Severity::Hint),
        "off" | "none" => None,
        _ => return None,
    })
}

/// The name of the settings file of a project.
pub const FILE_NAME: &str = "mil.toml";

/// The `mil.toml` of a folder, if it has one.
pub fn read_workspace_file(root: &Path) -> Option<Result<Settings, String>> {
    let path = root.join(FILE_NAME);
    path.is_file().then(|| read_file(&path))
}

/// Reads a settings file.
pub fn read_file(path: &Path) -> Result<Settings, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    Settings::from_toml(&text)
}

/// The `mil.toml` that applies to the files of `folder`: the one in it or in the nearest folder
/// above it that has one.
pub fn discover(folder: &Path) -> Option<PathBuf> {
    let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
    folder
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_sources_override_earlier_ones() {
        let mut c = Config::default();
        let client =
            serde_json::json!({"mil": {"deploymentTarget": "ios17", "severity": {"MIL0101": "off"}}});
        assert!(c.apply(&Settings::from_json(&client).unwrap()).is_empty());
        let file = "compile-on-save = true\ndeployment-target = \"ios16\"\n[severity]\nmil0102 = \"hint\"\n[inlay-hints]\ndevice = false\n";
        assert!(c.apply(&Settings::from_toml(file).unwrap()).is_empty());
        assert_eq!(c.deployment_target, "ios16");
        assert!(c.compile_on_save && !c.inlay_device);
        assert_eq!(c.severity("MIL0101", Severity::Warning), None);
        assert_eq!(c.severity("MIL0102", Severity::Warning), Some(Severity::Hint));
        assert_eq!(c.severity("MIL0103", Severity::Warning), Some(Severity::Warning));
        let bad = Settings::from_json(&serde_json::json!({"severity": {"MIL0001": "loud"}})).unwrap();
        assert_eq!(c.apply(&bad).len(), 1);
    }

    #[test]
    fn the_target_follows_chip_and_compute_units_and_refuses_unknown_ones() {
        let mut c = Config::default();
        assert_eq!(c.target(), Target::default());
        let file = "chip = \"m1\"\ncompute-units = \"cpu_only\"\n";
        assert!(c.apply(&Settings::from_toml(file).unwrap()).is_empty());
        assert_eq!(c.target().chip, Chip::M1);
        assert_eq!(c.target().compute_units, ComputeUnits::CpuOnly);
        let bad = Settings::from_toml("chip = \"m9\"\ncompute-units = \"gpu\"\n").unwrap();
        let problems = c.apply(&bad);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("m9") && p.contains("a14")),
            "{problems:?}"
        );
        assert_eq!(
            c.target().chip,
            Chip::M1,
            "an unknown chip leaves the setting as it was"
        );
    }

    #[test]
    fn the_nearest_mil_toml_above_a_folder_applies() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(discover(&inner).filter(|p| p.starts_with(dir.path())), None);
        std::fs::write(dir.path().join(FILE_NAME), "chip = \"a14\"\n").unwrap();
        assert_eq!(discover(&inner), Some(dir.path().join(FILE_NAME)));
        std::fs::write(dir.path().join("a").join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&inner), Some(dir.path().join("a").join(FILE_NAME)));
    }
}
