//! `Manifest.json`, the table of contents of an `.mlpackage`.
//!
//! It lists the package's items (the model spec, the weights folder) by a uuid4 identifier and names
//! the root model. coremltools writes it as Python's `json.dumps(obj, indent=4, sort_keys=True)` plus a
//! newline; [`Manifest::to_json`] produces the same bytes.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The manifest's file name, at the package's root.
pub const MANIFEST_FILE: &str = "Manifest.json";
/// The folder of a package that item paths are relative to.
pub const DATA_DIR: &str = "Data";
/// The author of the items Core ML reads.
pub const AUTHOR: &str = "com.apple.CoreML";
/// The model spec's path under `Data/`.
pub const MODEL_PATH: &str = "com.apple.CoreML/model.mlmodel";
/// The weights folder's path under `Data/`.
pub const WEIGHTS_PATH: &str = "com.apple.CoreML/weights";
/// The newest manifest format version this module reads and the one it writes.
pub const FILE_FORMAT_VERSION: &str = "1.0.0";

/// One entry of `itemInfoEntries`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ItemInfo {
    /// Who wrote the item (`com.apple.CoreML`).
    pub author: String,
    /// What it is (`CoreML Model Specification`).
    pub description: String,
    /// Its name (`model.mlmodel`, `weights`).
    pub name: String,
    /// Its path under `Data/`.
    pub path: String,
}

/// The contents of `Manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// `fileFormatVersion`, at most 1.0.0.
    pub file_format_version: String,
    /// `itemInfoEntries`, by identifier.
    pub items: BTreeMap<String, ItemInfo>,
    /// `rootModelIdentifier`: the identifier of the model spec's entry.
    pub root_model_identifier: String,
}

/// Why a manifest cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManifestError {
    /// The text is not JSON.
    Json(String),
    /// A required key is absent or not a string (or, for `itemInfoEntries`, not an object); the
    /// path of keys leading to it.
    MissingKey(String),
    /// A `fileFormatVersion` that is not a version at most 1.0.0.
    UnsupportedVersion(String),
    /// A `rootModelIdentifier` that names no entry.
    UnknownRootModel(String),
    /// An item whose `Data/<path>` does not exist.
    MissingItem(PathBuf),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Json(e) => write!(f, "{MANIFEST_FILE} is not JSON: {e}"),
            ManifestError::MissingKey(key) => write!(f, "{MANIFEST_FILE} lacks the string `{key}`"),
            ManifestError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "{MANIFEST_FILE} has format version {v:?}; at most {FILE_FORMAT_VERSION} is supported"
                )
            }
            ManifestError::UnknownRootModel(id) => {
                write!(
                    f,
                    "{MANIFEST_FILE} names root model {id:?}, which is not one of its items"
                )
            }
            ManifestError::MissingItem(path) => {
                write!(
                    f,
                    "{MANIFEST_FILE} lists {}, which does not exist",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// The manifest of a package holding a model spec and its weights folder (the folder is listed
    /// even when it holds no weight file, as coremltools does), with fresh uuid4 identifiers.
    pub fn for_model() -> Manifest {
        let item = |description: &str, name: &str, path: &str| ItemInfo {
            author: AUTHOR.into(),
            description: description.into(),
            name: name.into(),
            path: path.into(),
        };
        let model_id = uuid::Uuid::new_v4().to_string();
        let weights_id = uuid::Uuid::new_v4().to_string();
        Manifest {
            file_format_version: FILE_FORMAT_VERSION.into(),
            items: BTreeMap::from([
                (
                    model_id.clone(),
                    item("CoreML Model Specification", "model.mlmodel", MODEL_PATH),
                ),
                (weights_id, item("CoreML Model Weights", "weights", WEIGHTS_PATH)),
            ]),
            root_model_identifier: model_id,
        }
    }

    /// The root model's entry.
    pub fn root_model(&self) -> Option<&ItemInfo> {
        self.items.get(&self.root_model_identifier)
    }

    /// The first entry named `name` (`weights`).
    pub fn item_named(&self, name: &str) -> Option<&ItemInfo> {
        self.items.values().find(|item| item.name == name)
    }

    /// The manifest as coremltools writes it: `json.dumps(obj, indent=4, sort_keys=True) + "\n"`.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        out.push_str("{\n");
        let _ = writeln!(
            out,
            "    \"fileFormatVersion\": {},",
            json_string(&self.file_format_version)
        );
        if self.items.is_empty() {
            out.push_str("    \"itemInfoEntries\": {},\n");
        } else {
            out.push_str("    \"itemInfoEntries\": {\n");
            for (i, (id, item)) in self.items.iter().enumerate() {
                let _ = writeln!(out, "        {}: {{", json_string(id));
                let fields = [
                    ("author", &item.author),
                    ("description", &item.description),
                    ("name", &item.name),
                    ("path", &item.path),
                ];
                for (j, (key, value)) in fields.iter().enumerate() {
                    let comma = if j + 1 < fields.len() { "," } else { "" };
                    let _ = writeln!(out, "            \"{key}\": {}{comma}", json_string(value));
                }
                out.push_str(if i + 1 < self.items.len() {
                    "        },\n"
                } else {
                    "        }\n"
                });
            }
            out.push_str("    },\n");
        }
        let _ = writeln!(
            out,
            "    \"rootModelIdentifier\": {}",
            json_string(&self.root_model_identifier)
        );
        out.push_str("}\n");
        out
    }

    /// Reads a manifest: every entry needs `path`, `name`, `author` and `description`, the version
    /// must be at most 1.0.0, and the root model must be one of the entries. Other keys are ignored.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let json: Value = serde_json::from_str(text).map_err(|e| ManifestError::Json(e.to_string()))?;
        let string = |v: &Value, key: &str, at: &str| -> Result<String, ManifestError> {
            v.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ManifestError::MissingKey(format!("{at}{key}")))
        };
        let file_format_version = string(&json, "fileFormatVersion", "")?;
        if !version_supported(&file_format_version) {
            return Err(ManifestError::UnsupportedVersion(file_format_version));
        }
        let entries = json
            .get("itemInfoEntries")
            .and_then(Value::as_object)
            .ok_or_else(|| ManifestError::MissingKey("itemInfoEntries".into()))?;
        let mut items = BTreeMap::new();
        for (id, entry) in entries {
            let at = format!("itemInfoEntries.{id}.");
            let item = ItemInfo {
                author: string(entry, "author", &at)?,
                description: string(entry, "description", &at)?,
                name: string(entry, "name", &at)?,
                path: string(entry, "path", &at)?,
            };
            items.insert(id.clone(), item);
        }
        let root_model_identifier = string(&json, "rootModelIdentifier", "")?;
        if !items.contains_key(&root_model_identifier) {
            return Err(ManifestError::UnknownRootModel(root_model_identifier));
        }
        Ok(Manifest {
            file_format_version,
            items,
            root_model_identifier,
        })
    }

    /// Checks that every entry's `Data/<path>` exists in the package at `package_dir`.
    pub fn check_items(&self, package_dir: &Path) -> Result<(), ManifestError> {
        for item in self.items.values() {
            let path = package_dir.join(DATA_DIR).join(&item.path);
            if !path.exists() {
                return Err(ManifestError::MissingItem(path));
            }
        }
        Ok(())
    }
}

/// Whether `version` is a dotted version of numbers at most 1.0.0 (`1.0`, `1.0.0`, `0.9`).
fn version_supported(version: &str) -> bool {
    let parts: Option<Vec<u64>> = version.split('.').map(|p| p.parse().ok()).collect();
    let Some(mut parts) = parts.filter(|p| !p.is_empty()) else {
        return false;
    };
    while parts.last() == Some(&0) {
        parts.pop();
    }
    parts.as_slice() <= [1].as_slice()
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`: everything outside ASCII, and
/// control characters, as `\uXXXX` escapes, UTF-16 surrogate pairs above U+FFFF).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COREMLTOOLS: &str = include_str!("../tests/data/coremltools_Manifest.json");
    const PYTHON: &str = include_str!("../tests/data/python_Manifest.json");

    #[test]
    fn manifests_written_by_coremltools_and_python_round_trip_byte_for_byte() {
        for text in [COREMLTOOLS, PYTHON] {
            assert_eq!(Manifest::parse(text).unwrap().to_json(), text);
        }
        let odd = Manifest::parse(PYTHON).unwrap();
        assert_eq!(odd.items["A-root"].description, "é");
        assert!(odd.items["B-item"].name.ends_with("nul \0 del \u{7f} é 😀"));
    }

    #[test]
    fn a_new_manifest_is_shaped_like_the_one_coremltools_writes() {
        let ours = Manifest::for_model();
        let theirs = Manifest::parse(COREMLTOOLS).unwrap();
        let entries = |m: &Manifest| {
            m.items
                .values()
                .cloned()
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(entries(&ours), entries(&theirs));
        assert_eq!(ours.root_model().unwrap().path, MODEL_PATH);
        assert_eq!(ours.item_named("weights").unwrap().path, WEIGHTS_PATH);
        assert_eq!(ours.file_format_version, theirs.file_format_version);
        for id in ours.items.keys() {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 4);
            assert_eq!(
                id,
                &uuid.hyphenated().to_string(),
                "lower-case hyphenated like Python's str(uuid4())"
            );
        }
        assert_ne!(
            Manifest::for_model().root_model_identifier,
            ours.root_model_identifier
        );
        assert_eq!(Manifest::parse(&ours.to_json()).unwrap(), ours);
    }

    #[test]
    fn versions_up_to_1_0_0_are_read() {
        for v in ["1.0.0", "1.0", "1", "0.9.9", "1.0.0.0"] {
            assert!(version_supported(v), "{v}");
        }
        for v in ["1.0.1", "1.1", "2.0.0", "1.0.0.1", "1.a", "", "1..0", "-1"] {
            assert!(!version_supported(v), "{v}");
        }
    }

    #[test]
    fn malformed_manifests_are_rejected_with_the_reason() {
        let good = Manifest::parse(COREMLTOOLS).unwrap();
        let root = good.root_model_identifier.clone();
        let weights = good
            .items
            .iter()
            .find(|(_, item)| item.name == "weights")
            .unwrap()
            .0
            .clone();
        let other_root = format!("0{}", &root[1..]);
        let cases = [
            (
                COREMLTOOLS.replace("1.0.0", "1.1.0"),
                ManifestError::UnsupportedVersion("1.1.0".into()),
            ),
            (
                COREMLTOOLS.replace(
                    "\"author\": \"com.apple.CoreML\",\n            \"description\": \"CoreML Model Weights\"",
                    "\"description\": \"CoreML Model Weights\"",
                ),
                ManifestError::MissingKey(format!("itemInfoEntries.{weights}.author")),
            ),
            (
                COREMLTOOLS.replace(&format!("\"rootModelIdentifier\": \"{root}"), &format!("\"rootModelIdentifier\": \"{other_root}")),
                ManifestError::UnknownRootModel(other_root.clone()),
            ),
            (
                COREMLTOOLS.replace("\"fileFormatVersion\"", "\"version\""),
                ManifestError::MissingKey("fileFormatVersion".into()),
            ),
            (
                COREMLTOOLS.replace("\"path\": \"com.apple.CoreML/weights\"", "\"path\": 3"),
                ManifestError::MissingKey(format!("itemInfoEntries.{weights}.path")),
            ),
        ];
        for (text, expected) in cases {
            assert_ne!(text, COREMLTOOLS, "the case must change the text");
            assert_eq!(Manifest::parse(&text), Err(expected));
        }
        assert!(matches!(Manifest::parse("{"), Err(ManifestError::Json(_))));
        assert_eq!(
            Manifest::parse("[]"),
            Err(ManifestError::MissingKey("fileFormatVersion".into()))
        );
    }

    #[test]
    fn every_item_must_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let manifest = Manifest::for_model();
        let data = tmp.path().join(DATA_DIR);
        std::fs::create_dir_all(data.join(WEIGHTS_PATH)).unwrap();
        assert_eq!(
            manifest.check_items(tmp.path()),
            Err(ManifestError::MissingItem(data.join(MODEL_PATH)))
        );
        std::fs::write(data.join(MODEL_PATH), b"").unwrap();
        assert_eq!(manifest.check_items(tmp.path()), Ok(()));
    }
}
