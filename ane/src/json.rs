//! The placement as JSON: per op `var`, `op`, `device`, `ane_eligible`, `reason`, `estimated_ms`,
//! plus the estimate per device, the rule behind the reason and Core ML's verdict when the file
//! carries one; per function the segments, the findings and the totals. Written straight from
//! these structs into one buffer sized up front: no intermediate value tree, no list of ops, and
//! no string per op (reasons are written where they go).

use crate::device::Device;
use crate::placement::{FunctionPlacement, OpPlacement};
use crate::rules::Site;
use crate::target::Target;
use serde::Serialize;

/// The JSON document for one file, pretty-printed.
pub fn render(file: &str, target: Target, functions: &[FunctionPlacement]) -> String {
    let doc = Document {
        file,
        chip: target.chip.name(),
        compute_units: target.compute_units.name(),
        functions: functions.iter().map(function).collect(),
    };
    let ops: usize = functions.iter().map(|p| p.ops.len() + p.findings.len()).sum();
    let mut out = Vec::with_capacity(1024 + ops * BYTES_PER_OP);
    // Writing into a Vec fails only if a Serialize impl does, and none of these does.
    let _ = serde_json::to_writer_pretty(&mut out, &doc);
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

/// About what one op takes in the report, to size the buffer once.
const BYTES_PER_OP: usize = 700;

#[derive(Serialize)]
struct Document<'a> {
    file: &'a str,
    chip: &'a str,
    compute_units: &'a str,
    functions: Vec<FunctionJson<'a>>,
}

#[derive(Serialize)]
struct FunctionJson<'a> {
    name: &'a str,
    opset: &'a str,
    ops: Ops<'a>,
    segments: Vec<SegmentJson<'a>>,
    findings: Vec<FindingJson<'a>>,
    totals: Totals,
}

#[derive(Serialize)]
struct OpJson<'a> {
    var: &'a str,
    op: &'a str,
    device: Device,
    ane_eligible: bool,
    reason: ReasonJson<'a>,
    rule: Option<&'static str>,
    estimated_ms: f64,
    estimates_ms: PerDevice,
    flops: f64,
    segment: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coreml: Option<CoreMlJson<'a>>,
}

#[derive(Serialize)]
struct PerDevice {
    ane: Option<f64>,
    gpu: Option<f64>,
    cpu: Option<f64>,
}

#[derive(Serialize)]
struct CoreMlJson<'a> {
    selected: Option<&'a str>,
    device: Option<Device>,
    ane_supported: bool,
    estimated_ms: std::collections::BTreeMap<&'a str, f64>,
    message: Option<&'a str>,
    agrees: bool,
}

#[derive(Serialize)]
struct SegmentJson<'a> {
    index: usize,
    device: Device,
    first: &'a str,
    last: &'a str,
    ops: usize,
    estimated_ms: f64,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    code: &'static str,
    severity: &'static str,
    evidence: &'static str,
    at: String,
    message: &'a str,
    fix: Option<&'static str>,
}

#[derive(Serialize)]
struct Totals {
    ops: usize,
    ane_op_share: f64,
    ane_flop_share: f64,
    segments: usize,
    estimated_latency_ms: f64,
}

fn function<'a>(p: &'a FunctionPlacement<'a>) -> FunctionJson<'a> {
    let vars = Vars::new(p);
    FunctionJson {
        name: p.name,
        opset: p.opset,
        ops: Ops(&p.ops),
        segments: p
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| SegmentJson {
                index: i + 1,
                device: s.device,
                first: p.ops[s.first].var,
                last: p.ops[s.last].var,
                ops: s.ops,
                estimated_ms: s.ms,
            })
            .collect(),
        findings: p
            .findings
            .iter()
            .map(|f| FindingJson {
                code: f.rule.code.id,
                severity: f.rule.code.severity.name(),
                evidence: f.rule.evidence.citation(),
                at: vars.site(f.site),
                message: &f.message,
                fix: f.fix,
            })
            .collect(),
        totals: Totals {
            ops: p.planned().count(),
            ane_op_share: p.ane_op_share(),
            ane_flop_share: p.ane_flop_share(),
            segments: p.segments.len(),
            estimated_latency_ms: p.latency_ms,
        },
    }
}

/// The ops, written one by one.
struct Ops<'a>(&'a [OpPlacement<'a>]);

impl Serialize for Ops<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(op))
    }
}

/// An op's reason, written as a JSON string.
struct ReasonJson<'a>(&'a OpPlacement<'a>);

impl Serialize for ReasonJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        s.collect_str(&o.reason.sentence(o.device, o.segment))
    }
}

fn op<'a>(o: &'a OpPlacement<'a>) -> OpJson<'a> {
    let est = |d: Device| o.estimates_ms[d.index()];
    OpJson {
        var: o.var,
        op: o.kind,
        device: o.device,
        ane_eligible: o.ane_eligible,
        reason: ReasonJson(o),
        rule: o.reason.code(),
        estimated_ms: o.estimated_ms(),
        estimates_ms: PerDevice {
            ane: est(Device::Ane),
            gpu: est(Device::Gpu),
            cpu: est(Device::Cpu),
        },
        flops: o.cost.flops(),
        segment: o.segment.map(|s| s + 1),
        coreml: o.coreml.as_ref().map(|c| CoreMlJson {
            selected: c.selected.as_deref(),
            device: c.device(),
            ane_supported: c.ane_supported(),
            estimated_ms: c.estimates.iter().map(|(b, ms)| (b.as_str(), *ms)).collect(),
            message: c.ane_message(),
            agrees: c.device().is_none_or(|d| d == o.device) && c.ane_supported() == o.ane_eligible,
        }),
    }
}

/// The result name of every op, by op id.
pub struct Vars<'a>(Vec<&'a str>);

impl<'a> Vars<'a> {
    /// Indexes the ops of `p`.
    pub fn new(p: &FunctionPlacement<'a>) -> Vars<'a> {
        let mut names = vec![""; p.ops.iter().map(|o| o.op.index() + 1).max().unwrap_or(0)];
        for o in &p.ops {
            names[o.op.index()] = o.var;
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
