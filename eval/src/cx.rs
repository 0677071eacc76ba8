//! What a kernel sees of the op it runs: its inputs by name (keyed, positional or in the attribute
//! block, bound as the type checker binds them), the catalogue's defaults for absent ones, and the
//! types the program declares for its results.

use crate::bail;
use crate::error::{EvalError, Result};
use crate::tensor::Tensor;
use crate::weights::Weights;
use mil_ir::catalogue::{DefaultValue, OpVersion};
use mil_ir::infer::{Binding, Source};
use mil_ir::{DType, Function, Operand, Operation, Type};
use std::sync::Arc;

/// A shared tensor: values are read by several ops without being copied.
pub type Shared = Arc<Tensor>;

/// The values computed so far in a function, by value id.
pub type Env = Vec<Option<Shared>>;

/// One op about to run.
pub struct Cx<'a> {
    /// The op.
    pub op: &'a Operation,
    /// The function holding it.
    pub function: &'a Function,
    version: Option<&'static OpVersion>,
    binding: Binding<'a>,
    env: &'a Env,
    weights: &'a Weights,
}

impl<'a> Cx<'a> {
    /// The context of `op`, whose inputs are read from `env`.
    pub fn new(op: &'a Operation, function: &'a Function, env: &'a Env, weights: &'a Weights) -> Cx<'a> {
        let opset = op.opset.as_deref().unwrap_or(&function.opset);
        let version = mil_ir::catalogue::lookup(&op.kind, opset)
            .or_else(|_| mil_ir::catalogue::lookup(&op.kind, "ios18"))
            .ok();
        let binding = version.map(|v| Binding::new(op, v)).unwrap_or_default();
        Cx {
            op,
            function,
            version,
            binding,
            env,
            weights,
        }
    }

    /// Where input `key` comes from, if the op gives it.
    fn source(&self, key: &str) -> Option<Source<'a>> {
        match self.version {
            Some(v) => self.binding.inputs.get(v.input_index(key)?).copied().flatten(),
            None => self
                .op
                .args
                .iter()
                .enumerate()
                .find(|(_, a)| a.key.as_deref() == Some(key))
                .map(|(i, a)| Source::Arg(i, &a.value)),
        }
    }

    /// The value of an operand.
    fn operand(&self, operand: &Operand) -> Result<Shared> {
        match operand {
            Operand::Value(r) => {
                let value = r.id.and_then(|id| self.env.get(id.index()).cloned().flatten());
                value.ok_or_else(|| EvalError::msg(format!("`{}` has no value here", r.name)))
            }
            Operand::Const(v) => Ok(Arc::new(self.weights.tensor(v)?)),
            Operand::Tuple(_) => bail!("a tuple where a single value was expected"),
        }
    }

    /// Input `key`, or its default, or `None` when it is absent and has no value by default.
    pub fn opt(&self, key: &str) -> Result<Option<Shared>> {
        match self.source(key) {
            Some(Source::Arg(_, operand)) => self.operand(operand).map(Some),
            Some(Source::Attr(_, value)) => Ok(Some(Arc::new(self.weights.tensor(value)?))),
            None => Ok(self.default(key).map(Arc::new)),
        }
    }

    /// The catalogue's default of input `key` as a tensor, when it is a value.
    fn default(&self, key: &str) -> Option<Tensor> {
        let input = self.version?.input(key)?;
        Some(match input.default? {
            DefaultValue::Bool(b) => Tensor::from_bool(vec![], vec![b]),
            DefaultValue::Int(i) => Tensor::from_i64(DType::Int32, vec![], vec![i]),
            DefaultValue::Float(f) => Tensor::scalar_f32(DType::Fp32, f as f32),
            DefaultValue::Str(s) => Tensor {
                dtype: DType::String,
                shape: vec![],
                data: crate::tensor::Data::Str(vec![s.to_string()]),
            },
            _ => return None,
        })
    }

    /// Input `key`, which must be there.
    pub fn get(&self, key: &str) -> Result<Shared> {
        self.opt(key)?
            .ok_or_else(|| EvalError::msg(format!("input `{key}` is missing")))
    }

    /// The tensors of a tuple input (`values = (a, b)`).
    pub fn tuple(&self, key: &str) -> Result<Vec<Shared>> {
        match self.source(key) {
            Some(Source::Arg(_, Operand::Tuple(items))) => items.iter().map(|o| self.operand(o)).collect(),
            Some(Source::Arg(_, operand)) => Ok(vec![self.operand(operand)?]),
            _ => bail!("input `{key}` is missing"),
        }
    }

    /// Whether input `key` is given or has a default.
    pub fn has(&self, key: &str) -> Result<bool> {
        Ok(self.opt(key)?.is_some())
    }

    /// Integer input `key` as a list.
    pub fn ints(&self, key: &str) -> Result<Vec<i64>> {
        self.get(key)?.to_i64()
    }

    /// Integer input `key`, or `None` when it is absent.
    pub fn opt_ints(&self, key: &str) -> Result<Option<Vec<i64>>> {
        self.opt(key)?.map(|t| t.to_i64()).transpose()
    }

    /// A single integer input.
    pub fn int(&self, key: &str) -> Result<i64> {
        match self.ints(key)?.as_slice() {
            [v] => Ok(*v),
            _ => bail!("input `{key}` must be a single integer"),
        }
    }

    /// A single float input.
    pub fn float(&self, key: &str) -> Result<f32> {
        self.get(key)?.scalar()
    }

    /// A single float input, or `default` when it is absent (for inputs whose default coremltools
    /// computes from other inputs).
    pub fn float_or(&self, key: &str, default: f32) -> Result<f32> {
        Ok(self.opt_float(key)?.unwrap_or(default))
    }

    /// A single float input, or `None` when it is absent.
    pub fn opt_float(&self, key: &str) -> Result<Option<f32>> {
        self.opt(key)?.map(|t| t.scalar()).transpose()
    }

    /// A list of axes of a tensor of `rank` (negative ones counted from the end), or `None` when
    /// the input is absent.
    pub fn axes(&self, key: &str, rank: usize) -> Result<Option<Vec<usize>>> {
        self.opt_ints(key)?
            .map(|a| a.into_iter().map(|a| axis(a, rank)).collect())
            .transpose()
    }

    /// A single bool input.
    pub fn bool(&self, key: &str) -> Result<bool> {
        Ok(self.float(key)? != 0.0)
    }

    /// A string input.
    pub fn string(&self, key: &str) -> Result<String> {
        match &self.get(key)?.data {
            crate::tensor::Data::Str(v) if v.len() == 1 => Ok(v[0].clone()),
            _ => bail!("input `{key}` must be a string"),
        }
    }

    /// The type the program declares for result `i`.
    pub fn out_type(&self, i: usize) -> Option<&'a Type> {
        let id = *self.op.results.get(i)?;
        Some(&self.function.value(id).ty)
    }

    /// The dtype of result `i`, or `fallback` when the declared type has none.
    pub fn out_dtype(&self, i: usize, fallback: DType) -> DType {
        self.out_type(i).and_then(Type::dtype).unwrap_or(fallback)
    }

    /// The `[cols, rows]` transpose of a `[rows, cols]` weight read from a weight file, made once
    /// per program (`Weights::transposed`); `None` for other tensors.
    pub fn transposed_weight(&self, t: &Tensor, rows: usize, cols: usize) -> Option<Arc<Vec<f32>>> {
        self.weights.transposed(t, rows, cols)
    }

    /// The (first) input tensor `x`.
    pub fn x(&self) -> Result<Shared> {
        self.get("x")
    }
}

/// An axis in `-rank..rank` made non-negative, or an error naming it.
pub fn axis(a: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if a < -r || a >= r.max(1) {
        bail!("axis {a} is out of range for rank {rank}");
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}
