//! A function's inputs: checked against its parameters before anything runs, or made up at random
//! from a seed.

use crate::tensor::{Data, Tensor, numel};
use half::f16;
use mil_ir::{DType, DTypeKind, Dim, Function, Type};

/// The tensor type a parameter takes (a state's inner type).
fn param_type(ty: &Type) -> &Type {
    match ty {
        Type::State(inner) => inner,
        other => other,
    }
}

/// Whether a tensor of shape `shape` has the declared `dims` (a `?` takes any size).
pub fn fits(dims: &[Dim], shape: &[usize]) -> bool {
    dims.len() == shape.len()
        && dims.iter().zip(shape).all(|(d, &n)| match d {
            Dim::Known(k) => *k as usize == n,
            Dim::Unknown => true,
        })
}

/// Every problem with `inputs` for `f`: missing and extra names, and for each given input a
/// shape or dtype other than the parameter's. Empty when they fit.
pub fn check(f: &Function, inputs: &[(String, Tensor)]) -> Vec<String> {
    let mut problems = Vec::new();
    for &p in &f.params {
        let v = f.value(p);
        let ty = param_type(&v.ty);
        let Some((_, t)) = inputs.iter().find(|(n, _)| *n == v.name) else {
            problems.push(format!("input `{}` ({ty}) is missing", v.name));
            continue;
        };
        if let Some(d) = ty.dtype()
            && d != t.dtype
        {
            problems.push(format!(
                "input `{}` is {} but the function takes {d} ({ty})",
                v.name, t.dtype
            ));
        }
        if let Some(shape) = ty.data_shape()
            && !fits(shape, &t.shape)
        {
            problems.push(format!(
                "input `{}` has shape {:?} but the function takes {ty}",
                v.name, t.shape
            ));
        }
    }
    for (name, _) in inputs {
        if !f.params.iter().any(|&p| f.value(p).name == *name) {
            let names: Vec<_> = f.params.iter().map(|&p| f.value(p).name.as_str()).collect();
            problems.push(format!(
                "`{name}` is not an input of `{}` (its inputs: {})",
                f.name,
                names.join(", ")
            ));
        }
    }
    problems
}

/// SplitMix64: a small, well-mixed generator, so that a seed gives the same inputs everywhere.
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Random inputs for every parameter of `f` from `seed`: floats uniform in `[-1, 1)`, integers in
/// `[0, 4)` (small, so they can serve as indices), bools fair. A parameter with an unknown dim
/// cannot be made up; the error names it.
pub fn random(f: &Function, seed: u64) -> Result<Vec<(String, Tensor)>, String> {
    let mut rng = SplitMix::new(seed);
    let mut out = Vec::new();
    for &p in &f.params {
        let v = f.value(p);
        let ty = param_type(&v.ty);
        let (Some(dtype), Some(dims)) = (ty.dtype(), ty.data_shape()) else {
            return Err(format!(
                "input `{}` ({ty}) is not a tensor; give it with --input",
                v.name
            ));
        };
        let shape = dims
            .iter()
            .map(|d| match d {
                Dim::Known(n) => Ok(*n as usize),
                Dim::Unknown => Err(format!(
                    "input `{}` ({ty}) has an unknown dim; give it with --input",
                    v.name
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let n = numel(&shape);
        let data = match dtype.kind() {
            DTypeKind::Float if dtype == DType::Fp16 => {
                Data::F16((0..n).map(|_| f16::from_f32(rng.unit() * 2.0 - 1.0)).collect())
            }
            DTypeKind::Float => Data::F32((0..n).map(|_| rng.unit() * 2.0 - 1.0).collect()),
            DTypeKind::Bool => Data::Bool((0..n).map(|_| rng.next_u64() & 1 == 1).collect()),
            DTypeKind::Int | DTypeKind::UInt => {
                Data::Int((0..n).map(|_| (rng.next_u64() % 4) as i64).collect())
            }
            DTypeKind::String => return Err(format!("input `{}` is a string; give it with --input", v.name)),
        };
        out.push((v.name.to_string(), Tensor { dtype, shape, data }));
    }
    Ok(out)
}
