//! Settings: defaults, then the client's (`initializationOptions`, `workspace/didChangeConfiguration`),
//! then the workspace's `mil.toml`, each overriding the one before. See docs/configuration.md.

use mil_ir::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::MessageType;

/// The settings in force.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The opset a new function is written against (completion's statement snippet).
    pub deployment_target: String,
    /// The chip placement estimates are for (`M1`, `A17`); used once placement lands.
    pub chip: Option<String>,
    /// The compute units placement is predicted for (`all`, `cpu_and_ne`, `cpu_and_gpu`, `cpu_only`).
    pub compute_units: String,
    /// Whether saving a document compiles it.
    pub compile_on_save: bool,
    /// Where compiled packages and reports go, relative to the workspace.
    pub output_folder: PathBuf,
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
    pub log_level: MessageType,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            deployment_target: "ios18".into(),
            chip: None,
            compute_units: "cpu_and_ne".into(),
            compile_on_save: false,
            output_folder: PathBuf::from("build"),
            severity: BTreeMap::new(),
            inlay_device: true,
            inlay_parameter_names: true,
            docs_url: default_docs_url(),
            max_document_bytes: 64 << 20,
            log_level: MessageType::INFO,
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
        set!(compute_units);
        set!(compile_on_save);
        set!(output_folder);
        set!(docs_url);
        set!(max_document_bytes);
        if s.chip.is_some() {
            self.chip = s.chip.clone();
        }
        if let Some(v) = s.inlay_hints.device {
            self.inlay_device = v;
        }
        if let Some(v) = s.inlay_hints.parameter_names {
            self.inlay_parameter_names = v;
        }
        if let Some(level) = &s.log_level {
            match level.to_ascii_lowercase().as_str() {
                "error" => self.log_level = MessageType::ERROR,
                "warning" => self.log_level = MessageType::WARNING,
                "info" => self.log_level = MessageType::INFO,
                "log" | "debug" => self.log_level = MessageType::LOG,
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

/// The `mil.toml` of a workspace folder, if it has one.
pub fn read_workspace_file(root: &Path) -> Option<Result<Settings, String>> {
    let text = std::fs::read_to_string(root.join("mil.toml")).ok()?;
    Some(Settings::from_toml(&text))
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
}
