//! Milliseconds with four decimals, as `{:.4}` writes them, for reports of many thousand ops.
//!
//! The standard formatter rounds the exact binary value and, for the small figures reports are
//! made of (a 0.0005 ms estimate asks for one significant digit), often falls back to its
//! big-number path: that was a tenth of a 160k-op report's time. Here a figure below 2^53 / 10^4
//! is rounded with 128-bit integers, half to even like the standard formatter; anything else is
//! handed to it.

use std::fmt;

/// `x` written as `{:.4}` writes it.
#[derive(Clone, Copy, Debug)]
pub struct Ms4(pub f64);

/// The largest figure rounded here: its ten-thousandths still fit the mantissa's range.
const LIMIT: f64 = 9.007_199_254_740_992e11;

impl fmt::Display for Ms4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        if !(x.is_finite() && x.is_sign_positive() && x < LIMIT) {
            return write!(f, "{x:.4}");
        }
        let q = ten_thousandths(x);
        write!(f, "{}.{:04}", q / 10_000, q % 10_000)
    }
}

/// `x · 10⁴` rounded half to even, for finite non-negative `x` below [`LIMIT`].
fn ten_thousandths(x: f64) -> u64 {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    // x = m · 2^e exactly.
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, exp - 1075)
    };
    if e >= 0 {
        return (m << e) * 10_000;
    }
    let shift = -e as u32;
    let scaled = u128::from(m) * 10_000;
    if shift >= 68 {
        // scaled < 2^67 ≤ half of 2^shift: rounds to 0.
        return 0;
    }
    let q = (scaled >> shift) as u64;
    let rest = scaled & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if rest > half || (rest == half && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::Ms4;

    fn same(x: f64) {
        assert_eq!(Ms4(x).to_string(), format!("{x:.4}"), "{x:e}");
    }

    #[test]
    fn writes_what_the_standard_formatter_writes() {
        for x in [
            0.0, -0.0, 1e-300, 5e-324, 0.00005, 0.00015, 0.03125, 0.09375, 1.5, 2.5e-4, 0.125,
        ] {
            same(x);
        }
        for x in [f64::NAN, f64::INFINITY, -1.0, 1e12, 9.007_199_254_740_991e11] {
            same(x);
        }
        // The exact ties, odd multiples of 1/32 (x · 10⁴ = odd · 312.5), and their neighbours.
        for k in 0..20_000u32 {
            let x = f64::from(2 * k + 1) / 32.0;
            same(x);
            same(f64::from_bits(x.to_bits() + 1));
            same(f64::from_bits(x.to_bits() - 1));
        }
        // Pseudo-random figures across the magnitudes of estimates.
        let mut s = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let mantissa = (s >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi((s % 16) as i32 - 9);
            same(mantissa * scale);
        }
    }
}
