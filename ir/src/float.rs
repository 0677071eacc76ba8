//! Exact conversions between floats and their MIL spellings: C99 hex floats (`0x1.998p-4`), which
//! Apple's compiler writes, and decimals, which people write.

/// Formats `x` the way C's `printf("%a")` does (`0x1.8p+1`, `0x0p+0`, `-0x1.48p-1`), with `inf`,
/// `-inf` and `nan` for the special values, as MIL text spells them.
pub fn format_hex(x: f64) -> String {
    let mut s = String::with_capacity(24);
    write_hex(&mut s, x).expect("writing to a String cannot fail");
    s
}

/// Writes `x` as [`format_hex`] spells it, without allocating.
pub fn write_hex<W: std::fmt::Write>(out: &mut W, x: f64) -> std::fmt::Result {
    if x.is_nan() {
        return out.write_str("nan");
    }
    if x.is_sign_negative() {
        out.write_char('-')?;
    }
    if x.is_infinite() {
        return out.write_str("inf");
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    if biased == 0 && frac == 0 {
        return out.write_str("0x0p+0");
    }
    let (lead, exp) = if biased == 0 {
        (0, -1022)
    } else {
        (1, biased - 1023)
    };
    write!(out, "0x{lead}")?;
    if frac != 0 {
        let zeros = (frac.trailing_zeros() / 4) as usize;
        let width = 13 - zeros;
        write!(out, ".{:0width$x}", frac >> (4 * zeros))?;
    }
    let esign = if exp >= 0 { '+' } else { '-' };
    write!(out, "p{esign}{}", exp.abs())
}

/// Parses a MIL float lexeme: a hex float, a decimal, `inf`, `-inf` or `nan` (with an optional sign).
/// Hex floats are rounded to the nearest `f64`, ties to even.
pub fn parse_float(text: &str) -> Option<f64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = match body {
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if body.starts_with("0x") || body.starts_with("0X") => parse_hex_magnitude(&body[2..])?,
        _ if body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) =>
        {
            body.parse::<f64>().ok()?
        }
        _ => return None,
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// Whether a float lexeme is written in C99 hex form (or is one of the special words),
/// i.e. in the canonical spelling of compiler output.
pub fn is_canonical_spelling(text: &str) -> bool {
    let body = text.trim_start_matches('-');
    body.starts_with("0x") || matches!(body, "inf" | "nan")
}

fn parse_hex_magnitude(s: &str) -> Option<f64> {
    let (mantissa, exponent) = s.split_once(['p', 'P'])?;
    let exponent: i64 = exponent.parse().ok()?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    // Accumulate up to 120 significant bits; anything below only matters as a sticky bit.
    let mut m: u128 = 0;
    let mut exp2 = exponent;
    let mut sticky = false;
    for (i, c) in int_part.chars().chain(frac_part.chars()).enumerate() {
        let d = c.to_digit(16)? as u128;
        if i >= int_part.len() {
            exp2 = exp2.checked_sub(4)?;
        }
        if m >> 116 == 0 {
            m = (m << 4) | d;
        } else {
            sticky |= d != 0;
            exp2 = exp2.checked_add(4)?;
        }
    }
    if m == 0 {
        return Some(0.0);
    }
    Some(round_to_f64(m, exp2, sticky))
}

/// `m * 2^exp2` rounded to the nearest f64 (ties to even); `sticky` says lower bits were dropped.
fn round_to_f64(m: u128, exp2: i64, sticky: bool) -> f64 {
    let nbits = 128 - m.leading_zeros() as i64;
    let e = exp2 + nbits - 1; // value lies in [2^e, 2^(e+1))
    if e > 1023 {
        return f64::INFINITY;
    }
    let keep = if e >= -1022 { 53 } else { e + 1075 };
    if keep <= 0 {
        // Below half the smallest subnormal rounds to zero; above it, to the smallest subnormal.
        let half = keep == 0 && (m.count_ones() > 1 || sticky);
        return if half { f64::from_bits(1) } else { 0.0 };
    }
    let shift = nbits - keep;
    let mut r = if shift > 0 {
        let kept = m >> shift;
        let rem = m & ((1u128 << shift) - 1);
        let halfway = 1u128 << (shift - 1);
        let round_up = rem > halfway || (rem == halfway && (sticky || kept & 1 == 1));
        kept + round_up as u128
    } else {
        m << (-shift)
    };
    let mut scale = e - keep + 1;
    if r >> keep != 0 {
        r >>= 1;
        scale += 1;
        if e + 1 > 1023 {
            return f64::INFINITY;
        }
    }
    (r as f64) * pow2(scale)
}

fn pow2(k: i64) -> f64 {
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// Formats an `f64` the way C's `printf("%.17g")` does, as Core ML writes the fp64 values of
/// runtime analytics dictionaries (`0.0026214400000000001`, `4.0960000000000001e-05`, `0`).
pub fn format_g17(x: f64) -> String {
    if !x.is_finite() {
        return format_hex(x);
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{x:.16e}"); // d.dddddddddddddddde[-]x
    let (mant, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..17).contains(&exp) {
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{}e{esign}{:02}", strip(mant), exp.abs())
    } else {
        let decimals = (16 - exp).max(0) as usize;
        strip(&format!("{x:.decimals$}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_matches_printf_a() {
        assert_eq!(format_hex(0.0), "0x0p+0");
        assert_eq!(format_hex(1.0), "0x1p+0");
        assert_eq!(format_hex(0.125), "0x1p-3");
        assert_eq!(format_hex(-0.640625), "-0x1.48p-1");
        assert_eq!(format_hex(f64::from(half::f16::from_f32(0.1))), "0x1.998p-4");
        assert_eq!(format_hex(f64::from_bits(1)), "0x0.0000000000001p-1022");
        assert_eq!(format_hex(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn hex_parses_exactly() {
        for x in [
            0.1,
            -3.5e-300,
            1.7976931348623157e308,
            f64::from_bits(1),
            f64::from_bits(0x000f_ffff_ffff_ffff),
        ] {
            assert_eq!(parse_float(&format_hex(x)).unwrap().to_bits(), x.to_bits(), "{x}");
        }
        assert_eq!(
            parse_float("0x1.1000000000000p-20"),
            Some(f64::from_bits(0x3eb1_0000_0000_0000))
        );
        assert_eq!(parse_float("0x1.00000000000008p+0"), Some(1.0)); // tie rounds to even
        assert_eq!(
            parse_float("0x1.00000000000018p+0"),
            Some(1.0 + 2.0 * f64::EPSILON)
        );
        assert_eq!(parse_float("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("1e-6"), Some(1e-6));
        assert_eq!(parse_float("0x"), None);
        assert_eq!(parse_float("1e"), None);
    }

    #[test]
    #[allow(clippy::excessive_precision)] // the literals are spelled as printf prints them
    fn g17_matches_printf() {
        assert_eq!(format_g17(0.0026214400000000001), "0.0026214400000000001");
        assert_eq!(format_g17(4.096e-05), "4.0960000000000001e-05");
        assert_eq!(format_g17(0.0), "0");
        assert_eq!(format_g17(476.80945305249844), "476.80945305249844");
        assert_eq!(format_g17(0.00131072), "0.00131072");
        assert_eq!(format_g17(1e17), "1e+17");
    }
}
