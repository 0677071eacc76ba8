//! Parse + check throughput and peak memory on the generated 16k- and 160k-op programs.
//!
//! `cargo run --release -p mil-bench --bin parse_bench [OPS...]` prints one line per program (by
//! default the 16k- and 160k-op ones; `RUNS` sets the repetitions): text size,
//! best-of-N time for parse + verify, throughput, and the peak heap used during one parse + verify
//! as a multiple of the text size, and what the parsed program keeps (measured by a counting
//! allocator over mimalloc, the allocator the `mil` binary uses). The allocator counts only during
//! the memory run: counting in the timed runs would make both parsing threads contend for one
//! counter on every allocation, a cost the `mil` binary does not pay.

use mil_bench::ConvChain;
use mimalloc::MiMalloc as System;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};
use std::time::Instant;

struct Counting;

static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// Whether allocations are being counted (only during the memory run).
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Adds `grown` bytes to the current heap size and raises the peak.
fn count_growth(grown: usize) {
    if COUNTING.load(Relaxed) {
        let grown = grown as isize;
        let now = CURRENT.fetch_add(grown, Relaxed) + grown;
        PEAK.fetch_max(now, Relaxed);
    }
}

/// Takes `shrunk` bytes off the current heap size.
fn count_shrink(shrunk: usize) {
    if COUNTING.load(Relaxed) {
        CURRENT.fetch_sub(shrunk as isize, Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_growth(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_shrink(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            count_growth(new_size - layout.size());
        } else {
            count_shrink(layout.size() - new_size);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Parses and checks `text`; the parse is returned so that dropping it is not timed (the `mil`
/// binary never frees the program it checked).
fn parse_and_check(text: &str) -> (mil_grammar::Parse, usize) {
    let parsed = mil_grammar::parse(text);
    let diags = mil_ir::verify::verify(&parsed.program, &parsed.source_map);
    let n = parsed.diagnostics.len() + diags.len() + parsed.program.functions[0].ops.len();
    (parsed, n)
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![16_000, 160_000]
    } else {
        sizes
    };
    for ops in sizes {
        let text = ConvChain::with_ops(ops).text();
        let mb = text.len() as f64 / 1e6;
        let runs = std::env::var("RUNS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(if ops > 100_000 { 5 } else { 20 });
        let mut best = f64::MAX;
        for _ in 0..runs {
            let start = Instant::now();
            let checked = std::hint::black_box(parse_and_check(&text));
            best = best.min(start.elapsed().as_secs_f64());
            drop(checked);
        }
        // Counting starts from zero and covers only this parse and check.
        CURRENT.store(0, Relaxed);
        PEAK.store(0, Relaxed);
        COUNTING.store(true, Relaxed);
        let parsed = mil_grammar::parse(&text);
        let retained = CURRENT.load(Relaxed);
        std::hint::black_box(mil_ir::verify::verify(&parsed.program, &parsed.source_map));
        drop(parsed);
        let peak = PEAK.load(Relaxed);
        COUNTING.store(false, Relaxed);
        println!(
            "{ops:>7} ops  {mb:7.2} MB  parse+check {:8.2} ms  {:7.1} MB/s  peak heap {:6.1} MB = {:4.2} x text  \
             (IR + source map {:6.1} MB)",
            best * 1e3,
            mb / best,
            peak as f64 / 1e6,
            peak as f64 / text.len() as f64,
            retained as f64 / 1e6,
        );
    }
}
