//! Equivalence in numbers: run an original and a rewritten program in the reference interpreter
//! on the same inputs and measure how far their outputs are apart.
//!
//! Two measures, as issue 16 asks: the largest relative error, |got − want| / max(|want|, floor),
//! where `floor` keeps values near zero from turning rounding noise into a huge ratio; and the
//! peak signal-to-noise ratio, 10·log10(peak² / mean squared error) with the peak the largest
//! |want|. Non-finite outputs must match exactly (the same infinity, or NaN for NaN).

use mil_eval::{EvalError, Interpreter, Named};
use mil_ir::Program;

/// How far one output of a rewritten program is from the original's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Agreement {
    /// The largest |got − want| / max(|want|, floor); infinite when non-finite values differ.
    pub max_rel_error: f64,
    /// The peak signal-to-noise ratio in dB; infinite when equal, −∞ when non-finite values differ.
    pub psnr_db: f64,
}

/// Compares `got` with `want`, element by element.
pub fn agreement(want: &[f32], got: &[f32], floor: f64) -> Agreement {
    let mismatch = Agreement {
        max_rel_error: f64::INFINITY,
        psnr_db: f64::NEG_INFINITY,
    };
    if want.len() != got.len() {
        return mismatch;
    }
    let (mut max_rel_error, mut squares, mut peak, mut n) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    for (&w, &g) in want.iter().zip(got) {
        let (w, g) = (f64::from(w), f64::from(g));
        if !w.is_finite() || !g.is_finite() {
            if w.to_bits() != g.to_bits() && !(w.is_nan() && g.is_nan()) {
                return mismatch;
            }
            continue;
        }
        max_rel_error = max_rel_error.max((g - w).abs() / w.abs().max(floor));
        squares += (g - w) * (g - w);
        peak = peak.max(w.abs());
        n += 1;
    }
    let mse = if n == 0 { 0.0 } else { squares / n as f64 };
    let psnr_db = if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (peak * peak / mse).log10()
    };
    Agreement {
        max_rel_error,
        psnr_db,
    }
}

/// Runs the default function (`main`, or the only one) of `program` on `inputs`.
pub fn run(program: &Program, inputs: Named) -> Result<Named, EvalError> {
    let interp = Interpreter::new(program, None);
    let f = interp.function(None)?;
    interp.run(f, inputs)
}

/// Runs `original` and `rewritten` on `inputs` and compares each output, in order.
pub fn compare(
    original: &Program,
    rewritten: &Program,
    inputs: &Named,
    floor: f64,
) -> Result<Vec<Agreement>, EvalError> {
    let want = run(original, inputs.clone())?;
    let got = run(rewritten, inputs.clone())?;
    if want.len() != got.len() {
        return Err(EvalError::msg(format!(
            "{} outputs against {}",
            got.len(),
            want.len()
        )));
    }
    want.iter()
        .zip(&got)
        .map(|((_, w), (_, g))| Ok(agreement(&w.to_f32()?, &g.to_f32()?, floor)))
        .collect()
}
