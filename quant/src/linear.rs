//! The numbers of linear quantisation, as coremltools computes them.
//!
//! coremltools 9.0 `optimize/_utils.py`: `compute_qparams_by_dtype` reshapes the weight so that
//! each block is a set of axes and calls `quantize_weight_by_dtype`, which works in numpy at the
//! weight's own dtype: the block's min and max, the scale `(max - min) / (qmax - qmin)`, the data
//! `round(w / scale)` (round half to even), the zero point, then the clip to the integer range.
//! An fp16 weight is computed at fp16: numpy evaluates each fp16 operation in fp32 and rounds the
//! result to fp16, which [`Precision::round`] reproduces (one rounding of an exact-enough fp32
//! result, so the same value as a correctly rounded fp16 operation).
//!
//! A block whose values are all zero gets the scale 0, so `w / scale` is NaN; numpy casts NaN to
//! the integer 0 (x86-64), and so do we.

/// The integer type the quantised data has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntType {
    /// int8.
    Int8,
    /// uint8.
    UInt8,
    /// int4 (iOS18).
    Int4,
    /// uint4 (iOS18).
    UInt4,
}

/// How the float range maps onto the integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `linear_symmetric`: a range symmetric around 0; no zero point for a signed type, the middle
    /// of the range (127 for uint8, 7 for uint4) for an unsigned one.
    Symmetric,
    /// `linear`: the range `[min(0, min), max(0, max)]` with a zero point.
    Affine,
}

/// The precision a weight is computed at: its own dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// fp16 weights: every operation rounds to fp16.
    Fp16,
    /// fp32 weights.
    Fp32,
}

impl Precision {
    /// `x` rounded to this precision (round to nearest even).
    pub fn round(self, x: f32) -> f32 {
        match self {
            Precision::Fp16 => half::f16::from_f32(x).to_f32(),
            Precision::Fp32 => x,
        }
    }
}

impl IntType {
    /// The width in bits.
    pub fn bits(self) -> u32 {
        match self {
            IntType::Int8 | IntType::UInt8 => 8,
            IntType::Int4 | IntType::UInt4 => 4,
        }
    }

    /// Whether the type is signed.
    pub fn signed(self) -> bool {
        matches!(self, IntType::Int8 | IntType::Int4)
    }

    /// The integer range of `mode` (`get_quant_range`): symmetric leaves out the lowest value of
    /// a signed type (int8 `[-127, 127]`) or the highest of an unsigned one (uint8 `[0, 254]`).
    pub fn range(self, mode: Mode) -> (i32, i32) {
        let values = 1i32 << self.bits();
        let (lo, hi) = if self.signed() {
            (-values / 2, values / 2 - 1)
        } else {
            (0, values - 1)
        };
        match (mode, self.signed()) {
            (Mode::Symmetric, true) => (lo + 1, hi),
            (Mode::Symmetric, false) => (lo, hi - 1),
            (Mode::Affine, _) => (lo, hi),
        }
    }
}

/// One block's parameters and how it maps a value to an integer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockParams {
    /// The scale, at the weight's precision.
    pub scale: f32,
    /// The zero point as a float (NaN for an all-zero block in affine mode), `None` for int8
    /// symmetric, which has none.
    pub zero_point: Option<f32>,
}

/// The parameters of a block whose values lie in `[min, max]` (`quantize_weight_by_dtype`).
pub fn block_params(min: f32, max: f32, int: IntType, mode: Mode, p: Precision) -> BlockParams {
    let (qmin, qmax) = int.range(mode);
    let (lo, hi) = match mode {
        Mode::Symmetric => {
            let max_abs = min.abs().max(max.abs());
            (-max_abs, max_abs)
        }
        Mode::Affine => (min.min(0.0), max.max(0.0)),
    };
    let scale = p.round(p.round(hi - lo) / (qmax - qmin) as f32);
    let zero_point = match (mode, int.signed()) {
        (Mode::Symmetric, true) => None,
        (Mode::Symmetric, false) => Some((qmax / 2) as f32),
        (Mode::Affine, _) => {
            let numerator = p.round(p.round(qmin as f32 * hi) - p.round(qmax as f32 * lo));
            let z = p.round(numerator / p.round(hi - lo)).round_ties_even();
            Some(clip(z, qmin, qmax))
        }
    };
    BlockParams { scale, zero_point }
}

impl BlockParams {
    /// The quantised value of `w`: `clip(round(w / scale) + zero_point)`, cast to an integer.
    pub fn quantize(&self, w: f32, int: IntType, mode: Mode, p: Precision) -> i32 {
        let (qmin, qmax) = int.range(mode);
        let mut q = p.round(w / self.scale).round_ties_even();
        if let Some(z) = self.zero_point {
            q += z;
        }
        to_int(clip(q, qmin, qmax))
    }

    /// The zero point as the integer stored (0 when there is none).
    pub fn stored_zero_point(&self) -> i32 {
        self.zero_point.map_or(0, to_int)
    }
}

/// `np.clip` to `[lo, hi]`; NaN stays NaN.
fn clip(x: f32, lo: i32, hi: i32) -> f32 {
    if x.is_nan() {
        x
    } else {
        x.clamp(lo as f32, hi as f32)
    }
}

/// numpy's cast of a float already in range to an integer: truncation, NaN to 0.
fn to_int(x: f32) -> i32 {
    if x.is_nan() { 0 } else { x as i32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(values: &[f32], int: IntType, mode: Mode, p: Precision) -> (BlockParams, Vec<i32>) {
        let min = values.iter().copied().fold(f32::INFINITY, f32::min);
        let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let b = block_params(min, max, int, mode, p);
        let q = values.iter().map(|&w| b.quantize(w, int, mode, p)).collect();
        (b, q)
    }

    #[test]
    fn int8_symmetric_maps_the_largest_magnitude_to_127() {
        // max |w| = 1.27, scale = 2.54 / 254 = 0.01 (in fp32: 2.54f32 / 254).
        let (b, q) = params(
            &[-1.27, 0.5, 0.005, 0.015],
            IntType::Int8,
            Mode::Symmetric,
            Precision::Fp32,
        );
        assert_eq!(b.scale, 2.54f32 / 254.0);
        assert_eq!(b.zero_point, None);
        // 0.5 / 0.01 = 50; 0.005 / 0.01 = 0.5 rounds to even 0; 0.015 / 0.01 = 1.5 rounds to 2.
        assert_eq!(
            q,
            vec![-127, 50, (0.005f32 / b.scale).round_ties_even() as i32, 2]
        );
    }

    #[test]
    fn ranges_are_coremltools_get_quant_range() {
        let ranges: Vec<_> = [IntType::Int8, IntType::UInt8, IntType::Int4, IntType::UInt4]
            .into_iter()
            .map(|t| (t.range(Mode::Symmetric), t.range(Mode::Affine)))
            .collect();
        assert_eq!(
            ranges,
            [
                ((-127, 127), (-128, 127)),
                ((0, 254), (0, 255)),
                ((-7, 7), (-8, 7)),
                ((0, 14), (0, 15))
            ]
        );
        let uint4 = block_params(-7.0, 7.0, IntType::UInt4, Mode::Symmetric, Precision::Fp32);
        assert_eq!((uint4.scale, uint4.stored_zero_point()), (1.0, 7));
    }

    #[test]
    fn half_way_values_round_to_even() {
        // scale = 2 * 127 / 254 = 1 exactly, so w / scale = w.
        let (b, q) = params(
            &[127.0, 0.5, 1.5, 2.5, -0.5, -1.5],
            IntType::Int8,
            Mode::Symmetric,
            Precision::Fp32,
        );
        assert_eq!(b.scale, 1.0);
        assert_eq!(q, vec![127, 0, 2, 2, 0, -2]);
    }

    #[test]
    fn uint8_symmetric_has_zero_point_127() {
        let (b, q) = params(
            &[-127.0, 0.0, 127.0],
            IntType::UInt8,
            Mode::Symmetric,
            Precision::Fp32,
        );
        assert_eq!((b.scale, b.stored_zero_point()), (1.0, 127));
        assert_eq!(q, vec![0, 127, 254]);
    }

    #[test]
    fn affine_range_includes_zero_and_has_a_zero_point() {
        // [0, 2.55] (min raised to 0): scale = 2.55 / 255, zero point = (-128 * 2.55 - 0) / 2.55 = -128.
        let (b, q) = params(&[0.51, 2.55], IntType::Int8, Mode::Affine, Precision::Fp32);
        assert_eq!(b.scale, 2.55f32 / 255.0);
        assert_eq!(b.stored_zero_point(), -128);
        assert_eq!(q, vec![(0.51f32 / b.scale).round_ties_even() as i32 - 128, 127]);
        // [-1, 3] in uint8: scale 4 / 255, zero point round(255 / 4) = round(63.75) = 64.
        let (b, q) = params(&[-1.0, 3.0], IntType::UInt8, Mode::Affine, Precision::Fp32);
        assert_eq!(b.stored_zero_point(), 64);
        assert_eq!(q, vec![0, 255]);
    }

    #[test]
    fn an_all_zero_block_has_scale_zero_and_data_zero() {
        for (int, mode) in [
            (IntType::Int8, Mode::Symmetric),
            (IntType::UInt8, Mode::Symmetric),
            (IntType::Int8, Mode::Affine),
            (IntType::UInt8, Mode::Affine),
        ] {
            let (b, q) = params(&[0.0; 3], int, mode, Precision::Fp32);
            assert_eq!(b.scale, 0.0);
            assert_eq!(q, vec![0; 3], "{int:?} {mode:?}");
        }
        let (b, _) = params(&[0.0; 3], IntType::UInt8, Mode::Symmetric, Precision::Fp32);
        assert_eq!(b.stored_zero_point(), 127);
    }

    #[test]
    fn fp16_weights_are_computed_at_fp16() {
        // max |w| = 1 (exact in fp16): scale = 2 / 254 rounded to fp16, not to fp32.
        let (b, _) = params(&[1.0, -0.25], IntType::Int8, Mode::Symmetric, Precision::Fp16);
        assert_eq!(b.scale, half::f16::from_f32(2.0 / 254.0).to_f32());
        assert_ne!(b.scale, 2.0f32 / 254.0);
    }
}
