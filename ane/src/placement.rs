//! The whole prediction for a function: the rules' findings, an estimate per op per device, the
//! plan, and for every op its device and the reason for it.

use crate::analytics::{self, Verdict};
use crate::cost::{self, OpCost};
use crate::decimal::Ms4;
use crate::device::Device;
use crate::facts::Sizes;
use crate::kind::Kind;
use crate::plan::{self, Charges, Node};
use crate::rules::{self, Checker, Cx, Finding};
use crate::target::Target;
use mil_ir::{Function, OpId, Program, Use, ValueDef};
use std::fmt;

/// Whose estimates and eligibility the planner uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Our rules and cost model (what `mil placement` shows).
    Ours,
    /// Core ML's own `BackendSupport` and `EstimatedRuntime` from an analytics file, to check the
    /// segmentation alone against Core ML's `SelectedBackend`.
    CoreMl,
}

/// Why an op is where it is.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// A `const`: folded into the ops that read it.
    Constant,
    /// Core ML's runtime input/output wrapper.
    Boundary,
    /// A rule refuses the op on the Neural Engine.
    Ineligible {
        /// The rule's code.
        code: &'static str,
        /// The rule's message.
        message: String,
    },
    /// Core ML's own verdict refuses it (only with [`Source::CoreMl`]).
    RefusedByCoreMl(String),
    /// The compute units leave the Neural Engine out.
    NotAllowed,
    /// On the Neural Engine, the cheapest plan.
    OnAne {
        /// What the best plan with it on the CPU would cost more, in ms.
        cpu_extra_ms: f64,
    },
    /// Eligible, but the plan puts it elsewhere.
    Moved {
        /// What the best plan with it on the Neural Engine would cost more, in ms (0 for a tie).
        ane_extra_ms: f64,
    },
    /// On the GPU or CPU, not eligible for the Neural Engine for lack of an ANE estimate.
    Cheapest,
}

impl Reason {
    /// The rule code behind the reason, if any.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Reason::Ineligible { code, .. } => Some(code),
            Reason::Moved { .. } => Some(rules::MOVED_OFF_ANE.code.id),
            _ => None,
        }
    }

    /// A sentence for people.
    pub fn text(&self, device: Device, segment: Option<usize>) -> String {
        self.sentence(device, segment).to_string()
    }

    /// The sentence of [`Reason::text`], written where it goes (a report) without building a
    /// string per op.
    pub fn sentence(&self, device: Device, segment: Option<usize>) -> impl fmt::Display + '_ {
        Sentence {
            reason: self,
            device,
            segment,
        }
    }
}

/// A reason written out; see [`Reason::sentence`].
struct Sentence<'r> {
    reason: &'r Reason,
    device: Device,
    segment: Option<usize>,
}

impl fmt::Display for Sentence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let device = self.device;
        let seg = SegmentNote(self.segment);
        match self.reason {
            Reason::Constant => f.write_str("constant: folded into the ops that read it"),
            Reason::Boundary => f.write_str("I/O boundary: Core ML's runtime wrapper of an input or output"),
            Reason::Ineligible { code, message } => write!(f, "ineligible ({code}): {message}"),
            Reason::RefusedByCoreMl(m) => write!(f, "ineligible: Core ML reports '{m}'"),
            Reason::NotAllowed => f.write_str("the compute units leave the Neural Engine out"),
            Reason::OnAne { cpu_extra_ms } => write!(
                f,
                "cheapest on the ANE{seg}: the best plan with it on the CPU costs {} ms more",
                Ms4(*cpu_extra_ms)
            ),
            Reason::Moved { ane_extra_ms } if *ane_extra_ms < 1e-9 => write!(
                f,
                "moved to {device}{seg}: ANE-eligible, and a tie: the plan costs the same with it on the ANE"
            ),
            Reason::Moved { ane_extra_ms } => write!(
                f,
                "moved to {device}{seg}: ANE-eligible, but the best plan with it on the ANE costs {} ms more (launch and switch charges outweigh its saving)",
                Ms4(*ane_extra_ms)
            ),
            Reason::Cheapest => write!(f, "cheapest on the {device}{seg}"),
        }
    }
}

/// ` (segment N)`, numbered from 1, or nothing.
struct SegmentNote(Option<usize>);

impl fmt::Display for SegmentNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, " (segment {})", s + 1),
            None => Ok(()),
        }
    }
}

/// Where one op runs; names are borrowed from the function.
///
/// The fields the plan writes back (reason, segment, device) come first, with the op and its
/// eligibility, in the first 64 bytes: writing the plan back over 160k ops then touches one cache
/// line of each instead of all three.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct OpPlacement<'a> {
    /// Why it is there.
    pub reason: Reason,
    /// The segment it belongs to (none for constants and boundaries).
    pub segment: Option<usize>,
    /// The op.
    pub op: OpId,
    /// The chosen device.
    pub device: Device,
    /// Whether the Neural Engine may run it.
    pub ane_eligible: bool,
    /// Its first result's SSA name (or its kind when it has none).
    pub var: &'a str,
    /// The op type.
    pub kind: &'a str,
    /// Our estimate per device.
    pub cost: OpCost,
    /// The estimate per device the plan used (`None` where the op cannot run).
    pub estimates_ms: [Option<f64>; 3],
    /// Core ML's verdict, when the file carries analytics attributes.
    pub coreml: Option<Box<Verdict>>,
}

impl OpPlacement<'_> {
    /// The estimate on the chosen device, in ms.
    pub fn estimated_ms(&self) -> f64 {
        self.estimates_ms[self.device.index()].unwrap_or(0.0)
    }
}

/// A maximal run of planned ops on one device.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// The device.
    pub device: Device,
    /// Index (into [`FunctionPlacement::ops`]) of its first op.
    pub first: usize,
    /// Index of its last op.
    pub last: usize,
    /// Number of planned ops in it.
    pub ops: usize,
    /// Estimated ms of its ops, charges excluded.
    pub ms: f64,
}

/// The prediction for one function; names are borrowed from it.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionPlacement<'a> {
    /// The function's name.
    pub name: &'a str,
    /// Its opset.
    pub opset: &'a str,
    /// Every op in program order.
    pub ops: Vec<OpPlacement<'a>>,
    /// The data edges between ops, `(producer, consumer)`, in program order of the consumer.
    pub edges: Vec<(OpId, OpId)>,
    /// The segments in order.
    pub segments: Vec<Segment>,
    /// Estimated latency, charges included, in ms.
    pub latency_ms: f64,
    /// The charges used.
    pub charges: Charges,
    /// Every rule finding.
    pub findings: Vec<Finding>,
}

impl<'a> FunctionPlacement<'a> {
    /// Planned ops (not constants or boundaries).
    pub fn planned(&self) -> impl Iterator<Item = &OpPlacement<'a>> {
        self.ops.iter().filter(|o| o.segment.is_some())
    }

    /// The share of planned ops on the Neural Engine.
    pub fn ane_op_share(&self) -> f64 {
        let (on, all) = self.planned().fold((0, 0), |(on, all), o| {
            (on + usize::from(o.device == Device::Ane), all + 1)
        });
        if all == 0 { 0.0 } else { on as f64 / all as f64 }
    }

    /// The share of FLOPs on the Neural Engine.
    pub fn ane_flop_share(&self) -> f64 {
        let (on, all) = self.planned().fold((0.0, 0.0), |(on, all), o| {
            let fl = o.cost.flops();
            (on + if o.device == Device::Ane { fl } else { 0.0 }, all + fl)
        });
        if all == 0.0 { 0.0 } else { on / all }
    }
}

/// Predicts every function of `program`.
pub fn place(program: &Program, target: Target, source: Source) -> Vec<FunctionPlacement<'_>> {
    program
        .functions
        .iter()
        .map(|f| place_function(f, target, source))
        .collect()
}

/// Functions with at least this many ops are walked on two threads, each taking half of the ops.
const WALK_IN_PARALLEL_FROM: usize = 4096;

/// Predicts one function.
pub fn place_function(f: &Function, target: Target, source: Source) -> FunctionPlacement<'_> {
    place_walking_in_parallel_from(f, target, source, WALK_IN_PARALLEL_FROM)
}

/// [`place_function`], walking the ops on two threads when there are at least `parallel_from`.
fn place_walking_in_parallel_from(
    f: &Function,
    target: Target,
    source: Source,
    parallel_from: usize,
) -> FunctionPlacement<'_> {
    let cx = Cx::new(f, target);
    let order: &[OpId] = &cx.order;
    let walked = if order.len() < parallel_from {
        walk(&cx, source, order)
    } else {
        let (first, second) = order.split_at(order.len() / 2);
        std::thread::scope(|scope| {
            let later = scope.spawn(|| walk(&cx, source, second));
            let mut walked = walk(&cx, source, first);
            match later.join() {
                Ok(later) => walked.append(later),
                Err(panic) => std::panic::resume_unwind(panic),
            }
            walked
        })
    };
    let Walked {
        checker,
        mut ops,
        mut nodes,
        node_ops,
        edges,
    } = walked;
    let mut node_of = vec![usize::MAX; f.ops.len()];
    for (n, id) in node_ops.iter().enumerate() {
        node_of[id.index()] = n;
    }
    for producer in output_producers(f) {
        if let Some(&n) = node_of.get(producer.index())
            && n != usize::MAX
        {
            nodes[n].outputs += 1;
        }
    }
    let findings = checker.finish();
    let charges = analytics::charges(f).unwrap_or_default();
    let plan = plan::plan(&nodes, &charges);
    let segments = assign(f, &mut ops, &node_of, &nodes, &plan);
    FunctionPlacement {
        name: &f.name,
        opset: &f.opset,
        ops,
        edges,
        segments,
        latency_ms: plan.total_ms,
        charges,
        findings,
    }
}

/// What walking a run of consecutive ops (in program order) finds: the rules' findings, each op's
/// placement before the plan, the plan's nodes (one per planned op) and the data edges.
struct Walked<'c, 'a> {
    checker: Checker<'c, 'a>,
    ops: Vec<OpPlacement<'a>>,
    nodes: Vec<Node>,
    /// The op of each node.
    node_ops: Vec<OpId>,
    edges: Vec<(OpId, OpId)>,
}

impl<'c, 'a> Walked<'c, 'a> {
    /// Adds what the walk of the ops right after these found.
    fn append(&mut self, later: Walked<'c, 'a>) {
        self.checker.append(later.checker);
        self.ops.extend(later.ops);
        self.nodes.extend(later.nodes);
        self.node_ops.extend(later.node_ops);
        self.edges.extend(later.edges);
    }
}

/// Runs the rules, Core ML's verdicts and the estimates over `ids`, consecutive ops in program
/// order.
fn walk<'c, 'a>(cx: &'c Cx<'a>, source: Source, ids: &[OpId]) -> Walked<'c, 'a> {
    let (f, target) = (cx.f, cx.target);
    let mut checker = Checker::new(cx);
    let mut ops = Vec::with_capacity(ids.len());
    let mut nodes = Vec::with_capacity(ids.len());
    let mut node_ops = Vec::with_capacity(ids.len());
    let mut edges = Vec::with_capacity(ids.len() * 2);
    let mut sizes = Sizes::new(f);
    for &id in ids {
        let facts = cx.facts(id, &mut sizes);
        let op = facts.op;
        let refusal = checker.visit(&facts);
        let coreml = analytics::verdict(op).map(Box::new);
        let planned = !facts.kind.is_unplanned();
        let (ane_eligible, reason) = match facts.kind {
            Kind::Const => (true, Reason::Constant),
            Kind::Boundary => (true, Reason::Boundary),
            _ => eligibility(source, refusal, coreml.as_deref()),
        };
        let cost = cost::estimate(f, &facts, &cx.chip);
        let estimates_ms = if planned {
            estimates(source, &cost, coreml.as_deref(), ane_eligible, target)
        } else {
            [Some(0.0); 3]
        };
        if planned {
            node_ops.push(id);
            nodes.push(Node {
                ms: estimates_ms,
                outputs: 0,
            });
        }
        let var = op
            .results
            .first()
            .map_or(op.kind.as_str(), |&v| f.value(v).name.as_str());
        push_edges(f, op, id, &mut edges);
        ops.push(OpPlacement {
            op: id,
            var,
            kind: &op.kind,
            device: Device::Cpu,
            ane_eligible,
            reason,
            cost,
            estimates_ms,
            segment: None,
            coreml,
        });
    }
    Walked {
        checker,
        ops,
        nodes,
        node_ops,
        edges,
    }
}

fn eligibility(source: Source, refusal: Option<&Finding>, coreml: Option<&Verdict>) -> (bool, Reason) {
    match (source, refusal, coreml) {
        (Source::CoreMl, _, Some(v)) if !v.ane_supported() => (
            false,
            Reason::RefusedByCoreMl(v.ane_message().unwrap_or("not supported").to_string()),
        ),
        (Source::CoreMl, _, _) => (true, Reason::Cheapest),
        (Source::Ours, Some(fi), _) => (
            false,
            Reason::Ineligible {
                code: fi.rule.code.id,
                message: fi.message.clone(),
            },
        ),
        (Source::Ours, None, _) => (true, Reason::Cheapest),
    }
}

fn estimates(
    source: Source,
    cost: &OpCost,
    coreml: Option<&Verdict>,
    ane_eligible: bool,
    target: Target,
) -> [Option<f64>; 3] {
    let units = target.compute_units;
    let (cpu, gpu, ane) = match (source, coreml) {
        (Source::CoreMl, Some(v)) => (
            v.estimate(Device::Cpu).unwrap_or(cost.cpu_ms),
            cost.gpu_ms,
            v.estimate(Device::Ane).unwrap_or(cost.ane_ms),
        ),
        _ => (cost.cpu_ms, cost.gpu_ms, cost.ane_ms),
    };
    [
        Some(cpu),
        units.allows_gpu().then_some(gpu),
        (units.allows_ane() && ane_eligible).then_some(ane),
    ]
}

/// Pushes an edge `(producer, id)` for each op whose results op `id` reads, in argument order.
fn push_edges(f: &Function, op: &mil_ir::Operation, id: OpId, edges: &mut Vec<(OpId, OpId)>) {
    for (_, r) in op.operands() {
        if let Some(producer) = r.id.and_then(|v| crate::tensor::defining_op(f, v)) {
            edges.push((producer, id));
        }
    }
}

/// The ops producing the function's outputs, looking through Core ML's output wrappers.
fn output_producers(f: &Function) -> Vec<OpId> {
    let mut out = Vec::new();
    for r in &f.block(f.body).outputs {
        let Some(mut v) = r.id else { continue };
        while let ValueDef::Result(op, _) = f.value(v).def {
            let o = f.op(op);
            match o.args.first().map(|a| &a.value) {
                Some(mil_ir::Operand::Value(inner)) if o.is_runtime_boundary() && inner.id.is_some() => {
                    v = inner.id.unwrap_or(v);
                }
                _ => {
                    out.push(op);
                    break;
                }
            }
        }
    }
    out
}

/// Writes the plan's devices and reasons into `ops` and returns the segments. The estimates are
/// read from the plan's `nodes` (the same figures as each op's `estimates_ms`), so that only the
/// first cache line of each [`OpPlacement`] is touched.
fn assign(
    f: &Function,
    ops: &mut [OpPlacement],
    node_of: &[usize],
    nodes: &[Node],
    plan: &plan::Plan,
) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    for (i, o) in ops.iter_mut().enumerate() {
        let n = node_of[o.op.index()];
        if n == usize::MAX {
            place_unplanned(f, o, node_of, plan);
            continue;
        }
        let d = plan.devices[n];
        let estimates_ms = nodes[n].ms;
        o.device = d;
        match segments.last_mut() {
            Some(s) if s.device == d => {
                s.last = i;
                s.ops += 1;
                s.ms += estimates_ms[d.index()].unwrap_or(0.0);
            }
            _ => segments.push(Segment {
                device: d,
                first: i,
                last: i,
                ops: 1,
                ms: estimates_ms[d.index()].unwrap_or(0.0),
            }),
        }
        o.segment = Some(segments.len() - 1);
        let forced = plan.forced_ms[n];
        let best = plan.total_ms;
        if o.ane_eligible
            && estimates_ms[Device::Ane.index()].is_none()
            && matches!(o.reason, Reason::Cheapest)
        {
            o.reason = Reason::NotAllowed;
        } else if matches!(o.reason, Reason::Cheapest) && o.ane_eligible {
            o.reason = if d == Device::Ane {
                Reason::OnAne {
                    cpu_extra_ms: (forced[Device::Cpu.index()] - best).max(0.0),
                }
            } else {
                Reason::Moved {
                    ane_extra_ms: (forced[Device::Ane.index()] - best).max(0.0),
                }
            };
        }
    }
    segments
}

/// Gives a constant or boundary the device of the op that reads (or, for outputs, writes) it.
fn place_unplanned(f: &Function, o: &mut OpPlacement, node_of: &[usize], plan: &plan::Plan) {
    let op = f.op(o.op);
    let reader = op
        .results
        .iter()
        .flat_map(|&v| f.value(v).uses.iter())
        .find_map(|u| match u {
            Use::Operand { op, .. } => Some(*op),
            Use::Output { .. } => None,
        });
    let writer = op.args.iter().find_map(|a| match &a.value {
        mil_ir::Operand::Value(r) => r.id.and_then(|v| crate::tensor::defining_op(f, v)),
        _ => None,
    });
    let neighbour = if op.kind == "tensor_to_tensor_buffer" {
        writer
    } else {
        reader
    };
    if let Some(n) = neighbour
        .map(|id| node_of[id.index()])
        .filter(|&n| n != usize::MAX)
    {
        o.device = plan.devices[n];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Chip, ComputeUnits};
    use std::path::{Path, PathBuf};

    fn mil_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("the corpus folder") {
            let path = entry.expect("a corpus entry").path();
            if path.is_dir() {
                mil_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "mil") {
                out.push(path);
            }
        }
    }

    /// Walking the two halves of a function's ops on two threads and joining what they found gives
    /// the placement, findings included, that one walk over all of them gives: on every corpus file
    /// (with Core ML's verdicts, int8 weights, fp32 ops, odd last axes...), for both sources.
    #[test]
    fn walking_in_halves_places_as_one_walk_does() {
        let mut files = Vec::new();
        mil_files(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
            &mut files,
        );
        assert!(files.len() > 50, "the corpus is there");
        let targets = [
            Target {
                chip: Chip::M4,
                compute_units: ComputeUnits::CpuAndNeuralEngine,
            },
            Target {
                chip: Chip::A14,
                compute_units: ComputeUnits::All,
            },
        ];
        for path in files {
            let text = std::fs::read_to_string(&path).expect("a corpus file");
            let program = mil_grammar::parse(&text).program;
            for f in &program.functions {
                for target in targets {
                    for source in [Source::Ours, Source::CoreMl] {
                        let one = place_walking_in_parallel_from(f, target, source, usize::MAX);
                        let halves = place_walking_in_parallel_from(f, target, source, 0);
                        assert_eq!(one, halves, "{} ({target:?}, {source:?})", path.display());
                    }
                }
            }
        }
    }
}
