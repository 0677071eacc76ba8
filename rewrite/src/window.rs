//! What the size-limit rewrites of windowed ops (`conv`, `max_pool`) read: the input's spatial
//! dims, strides, dilations and the padding before and after each spatial dim, with `same` and
//! `same_lower` worked out as MIL defines them (and the interpreter computes them), and how a long
//! side is cut into pieces the Neural Engine takes.

use crate::NotApplicable;
use crate::build::{arg_shape, const_ints, const_str, known_shape};
use mil_ir::{Function, OpId};

/// The geometry of a windowed op over `n` spatial dims.
pub struct Window {
    /// The input's shape, `[N, C, *spatial]`.
    pub input: Vec<u64>,
    /// The output's shape.
    pub output: Vec<u64>,
    /// The kernel's spatial size.
    pub kernel: Vec<u64>,
    /// Strides per spatial dim.
    pub strides: Vec<u64>,
    /// Dilations per spatial dim (1 for pools).
    pub dilations: Vec<u64>,
    /// Padding before and after each spatial dim.
    pub pads: Vec<(u64, u64)>,
}

impl Window {
    /// Reads `op`'s window over input `x` with spatial kernel `kernel`.
    pub fn read(f: &Function, op: OpId, kernel: Vec<u64>) -> Result<Window, NotApplicable> {
        let input =
            arg_shape(f, op, "x").ok_or_else(|| NotApplicable("the shape of `x` is not known".into()))?;
        let output = known_shape(&f.value(f.op(op).results[0]).ty)?;
        let n = kernel.len();
        NotApplicable::unless(input.len() == n + 2 && output.len() == n + 2, || {
            format!("`x` is not [N, C] and {n} spatial dims")
        })?;
        let list = |key: &str| -> Result<Vec<u64>, NotApplicable> {
            if f.op(op).arg(key).is_none() {
                return Ok(vec![1; n]);
            }
            let v =
                const_ints(f, op, key).ok_or_else(|| NotApplicable(format!("`{key}` is not a constant")))?;
            NotApplicable::unless(v.len() == n && v.iter().all(|&s| s >= 1), || {
                format!("`{key}` does not have {n} positive values")
            })?;
            Ok(v.into_iter().map(|s| s as u64).collect())
        };
        let (strides, dilations) = (list("strides")?, list("dilations")?);
        let pad_type = const_str(f, op, "pad_type", "valid")
            .ok_or_else(|| NotApplicable("`pad_type` is not a constant".into()))?;
        let spatial = &input[2..];
        let pads = match pad_type.as_str() {
            "valid" => vec![(0, 0); n],
            "custom" => {
                let pad = match f.op(op).arg("pad") {
                    None => vec![0; 2 * n],
                    Some(_) => const_ints(f, op, "pad")
                        .ok_or_else(|| NotApplicable("`pad` is not a constant".into()))?,
                };
                NotApplicable::unless(pad.len() == 2 * n && pad.iter().all(|&p| p >= 0), || {
                    format!("`pad` does not have {} values", 2 * n)
                })?;
                pad.chunks(2).map(|p| (p[0] as u64, p[1] as u64)).collect()
            }
            same @ ("same" | "same_lower") => (0..n)
                .map(|i| {
                    let span = (kernel[i] - 1) * dilations[i] + 1;
                    let out = spatial[i].div_ceil(strides[i]);
                    let total = ((out.max(1) - 1) * strides[i] + span).saturating_sub(spatial[i]);
                    let before = if same == "same" {
                        total / 2
                    } else {
                        total.div_ceil(2)
                    };
                    (before, total - before)
                })
                .collect(),
            other => return Err(NotApplicable(format!("the pad type `{other}` is unknown"))),
        };
        let window = Window {
            input,
            output,
            kernel,
            strides,
            dilations,
            pads,
        };
        for i in 0..n {
            NotApplicable::unless(window.output[i + 2] == window.outputs(i), || {
                "the result's shape does not match the window".into()
            })?;
        }
        Ok(window)
    }

    /// The output size of spatial dim `i` (floor mode).
    pub fn outputs(&self, i: usize) -> u64 {
        let span = (self.kernel[i] - 1) * self.dilations[i] + 1;
        let padded = self.input[i + 2] + self.pads[i].0 + self.pads[i].1;
        padded.checked_sub(span).map_or(0, |d| d / self.strides[i] + 1)
    }

    /// Whether any side is padded.
    pub fn padded(&self) -> bool {
        self.pads.iter().any(|&(b, a)| b > 0 || a > 0)
    }

    /// The input's shape after padding.
    pub fn padded_input(&self) -> Vec<u64> {
        let mut shape = self.input.clone();
        for (i, (b, a)) in self.pads.iter().enumerate() {
            shape[i + 2] += b + a;
        }
        shape
    }
}

/// `len` cut into the fewest pieces of at most `max`, as equal as can be: `(offset, length)`.
pub fn pieces(len: u64, max: u64) -> Vec<(u64, u64)> {
    let n = len.div_ceil(max.max(1)).max(1);
    let mut offset = 0;
    (0..n)
        .map(|i| {
            let size = len / n + u64::from(i < len % n);
            offset += size;
            (offset - size, size)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn pieces_are_balanced_and_cover_the_length() {
        assert_eq!(pieces(17, 16), [(0, 9), (9, 8)]);
        assert_eq!(pieces(40, 15), [(0, 14), (14, 13), (27, 13)]);
        assert_eq!(pieces(5, 16), [(0, 5)]);
        assert_eq!(
            pieces(65_537, 32_768),
            [(0, 21_846), (21_846, 21_846), (43_692, 21_845)]
        );
    }
}
