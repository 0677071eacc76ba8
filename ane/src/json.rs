//! The placement as JSON: per op `var`, `op`, `device`, `ane_eligible`, `reason`, `estimated_ms`,
//! plus the estimate per device, the rule behind the reason and Core ML's verdict when the file
//! carries one; per function the segments, the findings and the totals.
//!
//! A 160k-op report is 85 MB, so it is written straight into one buffer sized up front, laid out
//! as `serde_json::to_string_pretty` lays it out (two-space indents) but without its per-byte
//! escaping of every key and string: keys are written as they are, strings are copied whole when
//! nothing in them needs escaping (the usual case) and escaped by serde_json otherwise, and numbers
//! are written by serde_json, so the text is the same.

use crate::device::Device;
use crate::placement::{FunctionPlacement, OpPlacement};
use crate::rules::Site;
use crate::target::Target;
use std::fmt;
use std::io::Write as _;

/// The JSON document for one file, pretty-printed.
pub fn render(file: &str, target: Target, functions: &[FunctionPlacement]) -> String {
    let rows: usize = functions.iter().map(|p| p.ops.len() + p.findings.len()).sum();
    let mut w = Json::with_capacity(1024 + rows * BYTES_PER_OP);
    w.open(b'{');
    w.key("file").str(file);
    w.key("chip").str(target.chip.name());
    w.key("compute_units").str(target.compute_units.name());
    w.key("functions").open(b'[');
    for p in functions {
        w.item();
        function(&mut w, p);
    }
    w.close(b']');
    w.close(b'}');
    w.out.push(b'\n');
    String::from_utf8(w.out).unwrap_or_default()
}

/// About what one op takes in the report, to size the buffer once.
const BYTES_PER_OP: usize = 600;

fn function(w: &mut Json, p: &FunctionPlacement) {
    w.open(b'{');
    w.key("name").str(p.name);
    w.key("opset").str(p.opset);
    w.key("ops").open(b'[');
    for o in &p.ops {
        w.item();
        op(w, o);
    }
    w.close(b']');
    w.key("segments").open(b'[');
    for (i, s) in p.segments.iter().enumerate() {
        w.item().open(b'{');
        w.key("index").num(i + 1);
        w.key("device").str(s.device.name());
        w.key("first").str(p.ops[s.first].var);
        w.key("last").str(p.ops[s.last].var);
        w.key("ops").num(s.ops);
        w.key("estimated_ms").num(s.ms);
        w.close(b'}');
    }
    w.close(b']');
    let vars = Vars::new(p);
    w.key("findings").open(b'[');
    for f in &p.findings {
        w.item().open(b'{');
        w.key("code").str(f.rule.code.id);
        w.key("severity").str(f.rule.code.severity.name());
        w.key("evidence").str(f.rule.evidence.citation());
        w.key("at").str(&vars.site(f.site));
        w.key("message").str(&f.message);
        w.key("fix").opt_str(f.fix.map(|x| x.to_string()).as_deref());
        w.close(b'}');
    }
    w.close(b']');
    w.key("totals").open(b'{');
    w.key("ops").num(p.planned().count());
    w.key("ane_op_share").num(p.ane_op_share());
    w.key("ane_flop_share").num(p.ane_flop_share());
    w.key("segments").num(p.segments.len());
    w.key("estimated_latency_ms").num(p.latency_ms);
    w.close(b'}');
    w.close(b'}');
}

fn op(w: &mut Json, o: &OpPlacement) {
    w.open(b'{');
    w.key("var").str(o.var);
    w.key("op").str(o.kind);
    w.key("device").str(o.device.name());
    w.key("ane_eligible").bool(o.ane_eligible);
    w.key("reason").display(o.reason.sentence(o.device, o.segment));
    w.key("rule").opt_str(o.reason.code());
    w.key("estimated_ms").num(o.estimated_ms());
    w.key("estimates_ms").open(b'{');
    for d in [Device::Ane, Device::Gpu, Device::Cpu] {
        w.key(d.name()).opt_num(o.estimates_ms[d.index()]);
    }
    w.close(b'}');
    w.key("flops").num(o.cost.flops());
    w.key("segment").opt_num(o.segment.map(|s| s + 1));
    if let Some(c) = &o.coreml {
        w.key("coreml").open(b'{');
        w.key("selected").opt_str(c.selected.as_deref());
        w.key("device").opt_str(c.device().map(Device::name));
        w.key("ane_supported").bool(c.ane_supported());
        w.key("estimated_ms").open(b'{');
        let mut estimates: Vec<(&str, f64)> = c.estimates.iter().map(|(b, ms)| (b.as_str(), *ms)).collect();
        // A JSON object by backend name: sorted, the last of equal names kept (as a map keeps it).
        estimates.sort_by(|a, b| a.0.cmp(b.0));
        estimates.reverse();
        estimates.dedup_by(|a, b| a.0 == b.0);
        for (backend, ms) in estimates.iter().rev() {
            w.key(backend).num(*ms);
        }
        w.close(b'}');
        w.key("message").opt_str(c.ane_message());
        let agrees = c.device().is_none_or(|d| d == o.device) && c.ane_supported() == o.ane_eligible;
        w.key("agrees").bool(agrees);
        w.close(b'}');
    }
    w.close(b'}');
}

/// A JSON writer with serde_json's pretty layout.
struct Json {
    out: Vec<u8>,
    /// Nesting depth.
    depth: usize,
    /// Whether the innermost object or array is still empty.
    empty: bool,
}

impl Json {
    fn with_capacity(bytes: usize) -> Json {
        Json {
            out: Vec::with_capacity(bytes),
            depth: 0,
            empty: true,
        }
    }

    /// Starts an object (`{`) or an array (`[`).
    fn open(&mut self, bracket: u8) {
        self.out.push(bracket);
        self.depth += 1;
        self.empty = true;
    }

    /// Ends the innermost object (`}`) or array (`]`).
    fn close(&mut self, bracket: u8) {
        self.depth -= 1;
        if !self.empty {
            self.newline();
        }
        self.out.push(bracket);
        self.empty = false;
    }

    /// Starts the next element of an array.
    fn item(&mut self) -> &mut Json {
        if !self.empty {
            self.out.push(b',');
        }
        self.newline();
        self.empty = false;
        self
    }

    /// Starts the next member of an object; `name` needs no escaping.
    fn key(&mut self, name: &str) -> &mut Json {
        self.item();
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\": ");
        self
    }

    fn newline(&mut self) {
        self.out.push(b'\n');
        self.out.resize(self.out.len() + 2 * self.depth, b' ');
    }

    fn str(&mut self, s: &str) {
        if needs_escape(s.as_bytes()) {
            let _ = serde_json::to_writer(&mut self.out, s);
        } else {
            self.out.push(b'"');
            self.out.extend_from_slice(s.as_bytes());
            self.out.push(b'"');
        }
    }

    /// A string written by `text`'s Display, escaped when it needs to be.
    fn display(&mut self, text: impl fmt::Display) {
        let start = self.out.len();
        self.out.push(b'"');
        let _ = write!(self.out, "{text}");
        if needs_escape(&self.out[start + 1..]) {
            let raw = String::from_utf8_lossy(&self.out[start + 1..]).into_owned();
            self.out.truncate(start);
            let _ = serde_json::to_writer(&mut self.out, &raw);
        } else {
            self.out.push(b'"');
        }
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    fn bool(&mut self, b: bool) {
        self.out.extend_from_slice(if b { b"true" } else { b"false" });
    }

    /// A number as serde_json writes it (`null` for a non-finite float).
    fn num(&mut self, n: impl serde::Serialize) {
        let _ = serde_json::to_writer(&mut self.out, &n);
    }

    fn opt_num(&mut self, n: Option<impl serde::Serialize>) {
        match n {
            Some(n) => self.num(n),
            None => self.out.extend_from_slice(b"null"),
        }
    }
}

/// Whether JSON needs any of these bytes escaped (a quote, a backslash or a control character);
/// written without early exit so that it compiles to a vector loop.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(false, |any, &b| any | (b < 0x20) | (b == b'"') | (b == b'\\'))
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
