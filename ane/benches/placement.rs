//! `mil placement` beyond parsing, on a generated 160k-op program: the rules, the estimates and the
//! plan (`place`), and rendering the JSON and HTML reports. Run with
//! `cargo bench -p mil-ane --bench placement`; the numbers go to docs/benchmarks.md. With
//! `ONCE=1` it parses and places once, for `valgrind --tool=callgrind --separate-threads=yes
//! --toggle-collect='mil_ane::placement::place'`, whose instruction count the machine's load does
//! not change (the second half of the ops is walked on a thread of its own: its count is that
//! thread's whole count).
//!
//! The program is a chain of residual blocks in the shape of Apple's compiler output: conv, relu,
//! conv, add, sigmoid, mul, relu, and every 50th block a `mod` the Neural Engine refuses, so the
//! planner has segments to cut.

use mil_ane::placement::{self, Source};
use mil_ane::{Chip, ComputeUnits, Target};
use std::fmt::Write;
use std::time::{Duration, Instant};

/// The allocator of the `mil` binary, so that the IR is laid out in memory as it is there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OPS: usize = 160_000;
const RUNS: usize = 15;

/// A program of about `ops` ops.
fn generate(ops: usize) -> String {
    let mut t = String::from("program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 32, 16, 16]> x0) {\n");
    let ty = "tensor<fp16, [1, 32, 16, 16]>";
    let weight = |offset: usize| {
        format!(
            "tensor<fp16, [32, 32, 3, 3]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64({offset})))"
        )
    };
    let (mut n, mut block, mut prev) = (0, 0, "x0".to_string());
    while n < ops {
        let b = block;
        let mut line = |text: String| {
            let _ = writeln!(t, "            {text}");
            n += 1;
        };
        line(format!(
            "{ty} c{b}a = conv(x = {prev}, weight = {}, pad_type = string(\"same\"))[name = string(\"c{b}a\")];",
            weight(64 + b * 18496)
        ));
        line(format!("{ty} r{b}a = relu(x = c{b}a)[name = string(\"r{b}a\")];"));
        line(format!(
            "{ty} c{b}b = conv(x = r{b}a, weight = {}, pad_type = string(\"same\"))[name = string(\"c{b}b\")];",
            weight(64 + b * 18496)
        ));
        line(format!(
            "{ty} s{b} = add(x = c{b}b, y = {prev})[name = string(\"s{b}\")];"
        ));
        line(format!("{ty} g{b} = sigmoid(x = s{b})[name = string(\"g{b}\")];"));
        line(format!(
            "{ty} m{b} = mul(x = s{b}, y = g{b})[name = string(\"m{b}\")];"
        ));
        line(format!("{ty} r{b}b = relu(x = m{b})[name = string(\"r{b}b\")];"));
        prev = format!("r{b}b");
        if b % 50 == 49 {
            line(format!(
                "{ty} q{b} = mod(x = {prev}, y = fp16(0x1p+1))[name = string(\"q{b}\")];"
            ));
            prev = format!("q{b}");
        }
        block += 1;
    }
    let _ = write!(t, "        }} -> ({prev});\n}}\n");
    t
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (the machine is shared, so wall
/// time measures the neighbours too); wall time where that file does not exist.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        stat.split_whitespace().next()?.parse().ok()?,
    ))
}

/// How a run is timed.
#[derive(Clone, Copy, PartialEq)]
enum Clock {
    /// CPU time of this thread, when it can be read: for the steps that run on this thread alone.
    Thread,
    /// Wall time: for the steps that also run on a second thread (parsing, and placing a
    /// function of 4,096 ops or more), whose CPU time this thread's count would miss.
    Wall,
}

/// The fastest of [`RUNS`] runs.
fn best<T>(clock: Clock, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut fastest = Duration::MAX;
    for _ in 0..RUNS {
        let (cpu, wall) = (cpu_time().filter(|_| clock == Clock::Thread), Instant::now());
        let v = f();
        let spent = match (cpu, cpu_time()) {
            (Some(a), Some(b)) => b - a,
            _ => wall.elapsed(),
        };
        fastest = fastest.min(spent);
        out = Some(v);
    }
    (fastest, out.expect("at least one run"))
}

fn main() {
    let text = generate(OPS);
    let (parse_time, parse) = best(Clock::Wall, || mil_grammar::parse(&text));
    let program = parse.program;
    let ops = program.functions[0].ops.len();
    let target = Target {
        chip: Chip::M4,
        compute_units: ComputeUnits::All,
    };
    if std::env::var_os("ONCE").is_some() {
        std::hint::black_box(placement::place(&program, target, Source::Ours));
        return;
    }
    // The floor: one pass reading every op's operand and result types, nothing else.
    let f = &program.functions[0];
    let (walk_time, _) = best(Clock::Thread, || {
        f.walk_ops()
            .into_iter()
            .map(|id| {
                let op = f.op(id);
                let ins = mil_ane::tensor::input_types(f, op).filter_map(|(_, t)| mil_ane::tensor::bytes(t));
                let outs = mil_ane::tensor::output_types(f, op).filter_map(mil_ane::tensor::bytes);
                ins.chain(outs).sum::<u64>()
            })
            .sum::<u64>()
    });
    let (place_time, placed) = best(Clock::Wall, || placement::place(&program, target, Source::Ours));
    let (json_time, _) = best(Clock::Thread, || {
        mil_ane::json::render("bench.mil", target, &placed)
    });
    let (html_time, _) = best(Clock::Thread, || {
        mil_ane::html::page("bench.mil", target, &placed)
    });
    let p = &placed[0];
    println!(
        "{ops} ops, {} MB of text: parse {parse_time:.1?}; one pass over the types {walk_time:.1?}; place {place_time:.1?} ({} segments, {:.1}% on the ANE); JSON {json_time:.1?}; HTML {html_time:.1?}",
        text.len() / 1_000_000,
        p.segments.len(),
        100.0 * p.ane_op_share()
    );
}
