//! The placement as JSON: per op `var`, `op`, `device`, `ane_eligible`, `reason`, `estimated_ms`,
//! plus the estimate per device, the rule behind the reason and Core ML's verdict when the file
//! carries one; per function the segments, the findings and the totals.

use crate::device::Device;
use crate::placement::{FunctionPlacement, OpPlacement};
use crate::rules::Site;
use crate::target::Target;
use serde_json::{Value, json};

/// The JSON document for one file.
pub fn document(file: &str, target: Target, functions: &[FunctionPlacement]) -> Value {
    json!({
        "file": file,
        "chip": target.chip.name(),
        "compute_units": target.compute_units.name(),
        "functions": functions.iter().map(function).collect::<Vec<_>>(),
    })
}

fn function(p: &FunctionPlacement) -> Value {
    let vars = Vars::new(p);
    json!({
        "name": p.name,
        "opset": p.opset,
        "ops": p.ops.iter().map(op).collect::<Vec<_>>(),
        "segments": p.segments.iter().enumerate().map(|(i, s)| json!({
            "index": i + 1,
            "device": s.device,
            "first": p.ops[s.first].var,
            "last": p.ops[s.last].var,
            "ops": s.ops,
            "estimated_ms": s.ms,
        })).collect::<Vec<_>>(),
        "findings": p.findings.iter().map(|f| json!({
            "code": f.rule.code.id,
            "severity": f.rule.code.severity.name(),
            "evidence": f.rule.evidence.citation(),
            "at": vars.site(f.site),
            "message": f.message,
            "fix": f.fix,
        })).collect::<Vec<_>>(),
        "totals": {
            "ops": p.planned().count(),
            "ane_op_share": p.ane_op_share(),
            "ane_flop_share": p.ane_flop_share(),
            "segments": p.segments.len(),
            "estimated_latency_ms": p.latency_ms,
        },
    })
}

fn op(o: &OpPlacement) -> Value {
    let est = |d: Device| o.estimates_ms[d.index()];
    let mut v = json!({
        "var": o.var,
        "op": o.kind,
        "device": o.device,
        "ane_eligible": o.ane_eligible,
        "reason": o.reason.text(o.device, o.segment),
        "rule": o.reason.code(),
        "estimated_ms": o.estimated_ms(),
        "estimates_ms": { "ane": est(Device::Ane), "gpu": est(Device::Gpu), "cpu": est(Device::Cpu) },
        "flops": o.cost.flops(),
        "segment": o.segment.map(|s| s + 1),
    });
    if let Some(c) = &o.coreml {
        v["coreml"] = json!({
            "selected": c.selected,
            "device": c.device(),
            "ane_supported": c.ane_supported(),
            "estimated_ms": c.estimates.iter().map(|(b, ms)| (b.clone(), json!(ms))).collect::<serde_json::Map<_, _>>(),
            "message": c.ane_message(),
            "agrees": c.device().is_none_or(|d| d == o.device) && c.ane_supported() == o.ane_eligible,
        });
    }
    v
}

/// The result name of every op, by op id.
pub struct Vars<'a>(Vec<&'a str>);

impl<'a> Vars<'a> {
    /// Indexes the ops of `p`.
    pub fn new(p: &'a FunctionPlacement) -> Vars<'a> {
        let mut names = vec![""; p.ops.iter().map(|o| o.op.index() + 1).max().unwrap_or(0)];
        for o in &p.ops {
            names[o.op.index()] = &o.var;
        }
        Vars(names)
    }

    /// A finding's place: the op's result name, or `input N` / `output N`.
    pub fn site(&self, s: Site) -> String {
        match s {
            Site::Op(id) => self.0.get(id.index()).copied().unwrap_or("").to_string(),
            Site::Param(i) => format!("input {i}"),
            Site::Output(i) => format!("output {i}"),
        }
    }
}
