//! Core ML's own verdicts, read from the attributes its E5 runtime writes into `analytics.mil`:
//! per op `BackendSupport`, `EstimatedRuntime`, `SelectedBackend` and `ValidationMessage`; per
//! function the launch and switch charges (`Launch_*_ms`, `Src_*_Dest_*_ms`).

use crate::device::Device;
use crate::plan::Charges;
use mil_ir::{ConstData, Function, Literal, Operation, TypedValue, program::attribute};

/// What Core ML decided about one op.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The backends that can run the op (`bnns`, `classic_cpu`, `ane`), without `unsupported`.
    pub supported: Vec<String>,
    /// The backend Core ML chose.
    pub selected: Option<String>,
    /// Core ML's estimate per backend, in ms.
    pub estimates: Vec<(String, f64)>,
    /// Why a backend refused the op, per backend.
    pub messages: Vec<(String, String)>,
}

impl Verdict {
    /// Whether the Neural Engine can run the op.
    pub fn ane_supported(&self) -> bool {
        self.supported.iter().any(|b| b == "ane")
    }

    /// The device of the chosen backend.
    pub fn device(&self) -> Option<Device> {
        self.selected.as_deref().and_then(backend_device)
    }

    /// Core ML's estimate on the fastest backend of `device`, in ms.
    pub fn estimate(&self, device: Device) -> Option<f64> {
        self.estimates
            .iter()
            .filter(|(b, _)| backend_device(b) == Some(device))
            .map(|(_, ms)| *ms)
            .min_by(f64::total_cmp)
    }

    /// The Neural Engine's refusal message, if any.
    pub fn ane_message(&self) -> Option<&str> {
        self.messages
            .iter()
            .find(|(b, _)| b == "ane")
            .map(|(_, m)| m.as_str())
    }
}

/// The device a Core ML backend name runs on (`bnns`, `classic_cpu`, ... are CPU backends).
pub fn backend_device(backend: &str) -> Option<Device> {
    match backend {
        "ane" => Some(Device::Ane),
        "bnns" | "classic_cpu" | "e5_minimal_cpu" | "jit_call" => Some(Device::Cpu),
        "gpu" | "mps" | "mpsgraph" => Some(Device::Gpu),
        _ => None,
    }
}

/// Core ML's verdict on `op`, when the op carries analytics attributes.
pub fn verdict(op: &Operation) -> Option<Verdict> {
    let support = op.attribute("BackendSupport")?;
    let supported = strings(support)
        .into_iter()
        .filter(|b| b != "unsupported")
        .collect();
    let selected = op
        .attribute("SelectedBackend")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let estimates = op
        .attribute("EstimatedRuntime")
        .map(pairs)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.parse::<f64>().ok()?)))
        .collect();
    let messages = op.attribute("ValidationMessage").map(pairs).unwrap_or_default();
    Some(Verdict {
        supported,
        selected,
        estimates,
        messages,
    })
}

/// The launch and switch charges written on a function, when it carries them.
pub fn charges(f: &Function) -> Option<Charges> {
    let ms = |key: &str| attribute(&f.attributes, key).and_then(number);
    let ane_launch_ms = ms("Launch_ane_ms")?;
    let switch_ms = ms("Src_ane_Dest_bnns_ms").or_else(|| ms("Src_bnns_Dest_ane_ms"))?;
    Some(Charges {
        ane_launch_ms,
        switch_ms,
        ..Charges::default()
    })
}

fn number(tv: &TypedValue) -> Option<f64> {
    tv.elements()?.get_f64(0)
}

fn strings(tv: &TypedValue) -> Vec<String> {
    match &tv.data {
        ConstData::Literal(Literal::List(items)) => items
            .iter()
            .filter_map(|l| match l {
                Literal::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The `{{key, value}, ...}` entries of a dict value, values as their lexeme or string.
fn pairs(tv: &TypedValue) -> Vec<(String, String)> {
    match &tv.data {
        ConstData::Literal(Literal::Dict(entries)) => entries
            .iter()
            .filter_map(|(k, v)| {
                let Literal::Str(k) = k else { return None };
                let v = match v {
                    Literal::Str(s) | Literal::Number(s) => s.clone(),
                    _ => return None,
                };
                Some((k.clone(), v))
            })
            .collect(),
        _ => Vec::new(),
    }
}
