//! How close a quantised program's outputs are to the float program's: both run in the reference
//! interpreter (`mil-eval`) on the same inputs, and each float output is compared as coremltools'
//! `compute_snr_and_psnr` compares (`optimize/coreml/_testing_utils` in its test suite):
//! `SNR = 10 log10(mean(y²) / mean((x − y)²))`, `PSNR = 10 log10(max(y²) / mean((x − y)²))`, with
//! `y` the float model's output.

use std::path::Path;

use mil_eval::{Interpreter, Named, inputs};
use mil_ir::Program;

/// One output's agreement with the float model's.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputPsnr {
    /// The output's name.
    pub name: String,
    /// Signal-to-noise ratio in dB (infinite when equal).
    pub snr_db: f64,
    /// Peak signal-to-noise ratio in dB (infinite when equal).
    pub psnr_db: f64,
}

/// Runs the first function (or `main`) of `float` and of `quantized` on `samples` — or, when
/// there are none, on one set of random inputs (floats in [-1, 1), seed 0) — and compares each
/// float output, accumulating the error over all samples. Weight files resolve under each
/// program's folder.
pub fn output_psnr(
    float: (&Program, Option<&Path>),
    quantized: (&Program, Option<&Path>),
    samples: &[Named],
) -> Result<Vec<OutputPsnr>, String> {
    let a = Interpreter::new(float.0, float.1);
    let b = Interpreter::new(quantized.0, quantized.1);
    let fa = a.function(None).map_err(|e| e.to_string())?;
    let fb = b.function(Some(&fa.name)).map_err(|e| e.to_string())?;
    let made;
    let samples = if samples.is_empty() {
        made = [inputs::random(fa, 0)?];
        &made[..]
    } else {
        samples
    };
    // Per output: Σ y², max y², Σ (x − y)², count.
    let mut sums: Vec<(String, f64, f64, f64, usize)> = Vec::new();
    for sample in samples {
        let ya = a
            .run(fa, sample.clone())
            .map_err(|e| format!("the float program fails: {e}"))?;
        let yb = b
            .run(fb, sample.clone())
            .map_err(|e| format!("the quantized program fails: {e}"))?;
        for (i, ((name, ta), (_, tb))) in ya.iter().zip(&yb).enumerate() {
            if ta.dtype.kind() != mil_ir::DTypeKind::Float {
                continue;
            }
            let (Ok(y), Ok(x)) = (ta.to_f32(), tb.to_f32()) else {
                continue;
            };
            if sums.len() <= i {
                sums.resize(i + 1, (String::new(), 0.0, 0.0, 0.0, 0));
            }
            let s = &mut sums[i];
            s.0.clone_from(name);
            for (&y, &x) in y.iter().zip(&x) {
                let (y, x) = (f64::from(y), f64::from(x));
                s.1 += y * y;
                s.2 = s.2.max(y * y);
                s.3 += (x - y) * (x - y);
                s.4 += 1;
            }
        }
    }
    Ok(sums
        .into_iter()
        .filter(|s| s.4 > 0)
        .map(|(name, energy, peak, noise, n)| {
            let noise = noise / n as f64;
            let db = |signal: f64| {
                if noise == 0.0 {
                    f64::INFINITY
                } else {
                    10.0 * (signal / noise).log10()
                }
            };
            OutputPsnr {
                name,
                snr_db: db(energy / n as f64),
                psnr_db: db(peak),
            }
        })
        .collect())
}
