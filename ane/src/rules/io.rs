//! Function inputs and outputs (ANE006, ANE009, ANE010, ANE106, ANE108, ANE109).

use super::{Cx, DYNAMIC_SHAPE, FP32_IO, Finding, INT8_OUTPUT, INT32_IO, SMALL_IO, Site, WIDE_SHORT_IO};
use crate::tensor::{bytes, dims, known_dims};
use mil_ir::{DType, Dim, Type};

/// The smallest input/output buffer the probes saw work well, in bytes.
const MIN_IO_BYTES: u64 = 16 * 1024;

/// Fires on the function's parameters and returned values.
pub(super) fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let f = cx.f;
    for (i, &p) in f.params.iter().enumerate() {
        check_one(&f.value(p).ty, Site::Param(i as u32), "input", out);
    }
    for (i, r) in f.block(f.body).outputs.iter().enumerate() {
        if let Some(id) = r.id {
            check_one(&f.value(id).ty, Site::Output(i as u32), "output", out);
        }
    }
}

fn check_one(ty: &Type, site: Site, role: &str, out: &mut Vec<Finding>) {
    match ty.dtype() {
        Some(DType::Int32) => {
            let what = if role == "input" {
                "this int32 input keeps every op reading it on CPU: Core ML reports 'Tensor buffer live-in not created: Unsupported tensor data type: int32'".to_string()
            } else {
                "this int32 output is produced on CPU: Core ML reports 'Unsupported tensor data type: int32'".to_string()
            };
            out.push(Finding::new(&INT32_IO, site, what));
        }
        Some(DType::Int8) if role == "output" => out.push(Finding::new(
            &INT8_OUTPUT,
            site,
            "Core ML inserts a CPU-only cast of this int8 output to int32 (`..._pre__output__int32__cast`), which drags the end of the graph off the ANE",
        )),
        Some(DType::Fp32) => out.push(Finding::new(
            &FP32_IO,
            site,
            format!("Core ML inserts an fp32↔fp16 cast at this {role}; the cast is eligible but costs a pass over the tensor"),
        )),
        _ => {}
    }
    if dims(ty).is_some_and(|d| d.contains(&Dim::Unknown)) {
        let what = format!(
            "this {role} has a dynamic (`?`) dimension; lore says such models are planned off the ANE unless the shapes are enumerated"
        );
        out.push(Finding::new(&DYNAMIC_SHAPE, site, what));
    }
    let Some(shape) = known_dims(ty) else {
        return;
    };
    if let [1, c, 1, s] = &shape[..]
        && *c > 768
        && *s < 32
    {
        let what = format!(
            "a [1, {c}, 1, {s}] {role} (C > 768, S < 32) was rejected in hardware probes of the private ANE compiler"
        );
        out.push(Finding::new(&WIDE_SHORT_IO, site, what));
        return;
    }
    let size = bytes(ty).unwrap_or(0);
    let last = shape.last().copied().unwrap_or(1);
    if shape.len() < 2 {
        return;
    }
    // Only what falls short is said: a last axis of 32 in a small buffer is fine on its own.
    let short = (last < 32).then(|| format!("its last axis is {last} long (probes want ≥ 32)"));
    let small =
        (size < MIN_IO_BYTES).then(|| format!("its buffer is {} (probes want ≥ 16 KB)", byte_count(size)));
    let what = match (short, small) {
        (Some(a), Some(b)) => format!("this {role} is small for the ANE: {a} and {b}"),
        (Some(a), None) | (None, Some(a)) => format!("this {role} is small for the ANE: {a}"),
        (None, None) => return,
    };
    out.push(Finding::new(&SMALL_IO, site, what));
}

/// `n` bytes, in KB when that is exact ("640 bytes", "2000 bytes", "8 KB").
fn byte_count(n: u64) -> String {
    match n {
        1 => "1 byte".to_string(),
        n if n >= 1024 && n % 1024 == 0 => format!("{} KB", n / 1024),
        n => format!("{n} bytes"),
    }
}
