//! The placement as one self-contained HTML page: totals, a picture of the program coloured by
//! device (inline SVG: a strip of segments, then every op in program order with its data edges),
//! the segments, every op with its reason, and the findings.

use crate::decimal::Ms4;
use crate::device::Device;
use crate::json::Vars;
use crate::placement::FunctionPlacement;
use crate::target::Target;
use mil_ir::diagnostic::count;
use std::fmt::{self, Write};

/// Ops drawn one by one at most; larger programs get the segment strip only.
const MAX_DRAWN_OPS: usize = 4000;
/// Ops per row of the picture.
const PER_ROW: usize = 40;
const CELL: usize = 22;
/// About what one op's row (and cell) takes, to size the page once.
const BYTES_PER_ROW: usize = 400;

fn colour(d: Device) -> &'static str {
    match d {
        Device::Ane => "#2e9d5b",
        Device::Gpu => "#3a6fd8",
        Device::Cpu => "#d9822b",
    }
}

/// Text escaped for HTML as it is written (no string per escaped field).
struct Esc<T>(T);

impl<T: fmt::Display> fmt::Display for Esc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(Escaper(f), "{}", self.0)
    }
}

/// Writes through to a formatter, escaping `&`, `<`, `>` and `"`.
struct Escaper<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Escaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut from = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => continue,
            };
            self.0.write_str(&s[from..i])?;
            self.0.write_str(entity)?;
            from = i + 1;
        }
        self.0.write_str(&s[from..])
    }
}

/// The page for one file.
pub fn page(file: &str, target: Target, functions: &[FunctionPlacement]) -> String {
    let rows: usize = functions.iter().map(|p| p.ops.len() + p.findings.len()).sum();
    let mut h = String::with_capacity(4096 + rows * BYTES_PER_ROW);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>placement: {f}</title>\n<style>body{{font:14px system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}}.ane{{color:{a}}}.gpu{{color:{g}}}.cpu{{color:{c}}}.k{{display:inline-block;width:1em;height:1em;margin:0 .3em}}</style></head><body>\n<h1>Where each op runs: {f}</h1>\n<p>Chip <b>{chip}</b>, compute units <b>{units}</b>. <span class=\"k\" style=\"background:{a}\"></span>Neural Engine <span class=\"k\" style=\"background:{g}\"></span>GPU <span class=\"k\" style=\"background:{c}\"></span>CPU; a dashed outline marks ops the ANE refuses.</p>\n",
        f = Esc(file),
        chip = target.chip,
        units = target.compute_units,
        a = colour(Device::Ane),
        g = colour(Device::Gpu),
        c = colour(Device::Cpu),
    );
    for p in functions {
        function(&mut h, p);
    }
    h.push_str("</body></html>\n");
    h
}

fn function(h: &mut String, p: &FunctionPlacement) {
    let planned = p.planned().count();
    let _ = write!(
        h,
        "<h2>func {}&lt;{}&gt;</h2>\n<p>{}, {:.1}% on the ANE ({:.1}% of FLOPs), {}, estimated latency {:.4} ms.</p>\n",
        Esc(p.name),
        Esc(p.opset),
        count(planned, "op"),
        100.0 * p.ane_op_share(),
        100.0 * p.ane_flop_share(),
        count(p.segments.len(), "segment"),
        p.latency_ms
    );
    strip(h, p);
    if planned <= MAX_DRAWN_OPS {
        graph(h, p);
    }
    h.push_str("<h3>Segments</h3>\n<table><tr><th>#</th><th>device</th><th>from</th><th>to</th><th>ops</th><th>ms</th></tr>\n");
    for (i, s) in p.segments.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"{d}\">{d}</td><td><a href=\"#op{}\">{}</a></td><td><a href=\"#op{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            i + 1,
            s.first,
            Esc(p.ops[s.first].var),
            s.last,
            Esc(p.ops[s.last].var),
            s.ops,
            Ms4(s.ms),
            d = s.device
        );
    }
    h.push_str("</table>\n<h3>Ops</h3>\n<table><tr><th>var</th><th>op</th><th>device</th><th>ANE-eligible</th><th>ms</th><th>reason</th></tr>\n");
    for (i, o) in p.ops.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr id=\"op{i}\"><td>{}</td><td>{}</td><td class=\"{d}\">{d}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(o.var),
            Esc(o.kind),
            if o.ane_eligible { "yes" } else { "no" },
            Ms4(o.estimated_ms()),
            Esc(o.reason.sentence(o.device, o.segment)),
            d = o.device
        );
    }
    h.push_str("</table>\n");
    if !p.findings.is_empty() {
        let vars = Vars::new(p);
        h.push_str(
            "<h3>Findings</h3>\n<table><tr><th>code</th><th>at</th><th>message</th><th>fix</th></tr>\n",
        );
        for f in &p.findings {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.rule.code.id,
                Esc(vars.site(f.site)),
                Esc(&f.message),
                Esc(&f.fix.map_or_else(|| "—".to_string(), |x| x.to_string()))
            );
        }
        h.push_str("</table>\n");
    }
}

/// One bar per segment, as wide as its share of the ops.
fn strip(h: &mut String, p: &FunctionPlacement) {
    let total = p.segments.iter().map(|s| s.ops).sum::<usize>().max(1) as f64;
    let width = 1000.0;
    let _ = write!(
        h,
        "<svg width=\"{width}\" height=\"28\" role=\"img\" aria-label=\"segments\">"
    );
    let mut x = 0.0;
    for (i, s) in p.segments.iter().enumerate() {
        let w = (s.ops as f64 / total * width).max(1.0);
        let _ = write!(
            h,
            "<rect x=\"{x:.1}\" y=\"2\" width=\"{w:.1}\" height=\"24\" fill=\"{}\" stroke=\"#fff\"><title>segment {}: {} on {}, {} ms</title></rect>",
            colour(s.device),
            i + 1,
            count(s.ops, "op"),
            s.device,
            Ms4(s.ms)
        );
        x += w;
    }
    h.push_str("</svg>\n");
}

/// Every planned op as a cell in program order, with its data edges.
fn graph(h: &mut String, p: &FunctionPlacement) {
    let ops: Vec<usize> = (0..p.ops.len()).filter(|&i| p.ops[i].segment.is_some()).collect();
    let mut cell_of = vec![usize::MAX; p.ops.iter().map(|o| o.op.index() + 1).max().unwrap_or(0)];
    for (cell, &i) in ops.iter().enumerate() {
        cell_of[p.ops[i].op.index()] = cell;
    }
    let rows = ops.len().div_ceil(PER_ROW).max(1);
    let (w, ht) = (PER_ROW * CELL + 10, rows * CELL + 10);
    let _ = write!(
        h,
        "<svg width=\"{w}\" height=\"{ht}\" role=\"img\" aria-label=\"ops by device\">"
    );
    let centre = |cell: usize| {
        (
            5 + (cell % PER_ROW) * CELL + CELL / 2,
            5 + (cell / PER_ROW) * CELL + CELL / 2,
        )
    };
    for &(from, to) in &p.edges {
        let cell = |id: mil_ir::OpId| cell_of.get(id.index()).copied().filter(|&c| c != usize::MAX);
        if let (Some(src), Some(dst)) = (cell(from), cell(to)) {
            {
                let ((x1, y1), (x2, y2)) = (centre(src), centre(dst));
                let _ = write!(
                    h,
                    "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#999\" stroke-width=\"0.6\"/>"
                );
            }
        }
    }
    for (cell, &i) in ops.iter().enumerate() {
        let o = &p.ops[i];
        let (cx, cy) = centre(cell);
        let dash = if o.ane_eligible {
            ""
        } else {
            " stroke=\"#000\" stroke-dasharray=\"2 2\""
        };
        let _ = write!(
            h,
            "<a href=\"#op{i}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{}\"{dash}><title>{} = {} on {}: {}</title></rect></a>",
            cx - CELL / 2 + 2,
            cy - CELL / 2 + 2,
            CELL - 4,
            CELL - 4,
            colour(o.device),
            Esc(o.var),
            Esc(o.kind),
            o.device,
            Esc(o.reason.sentence(o.device, o.segment))
        );
    }
    h.push_str("</svg>\n");
}
