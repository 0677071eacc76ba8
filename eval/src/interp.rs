//! Running a function: its ops in order, each through the kernel of its kind; `cond` and
//! `while_loop` run their blocks; `read_state`/`write_state` read and replace a state input's
//! value. A value computed in the function body is dropped after the last op that reads it.

use crate::bail;
use crate::cx::{Cx, Env, Shared};
use crate::error::{EvalError, Result};
use crate::kernels;
use crate::tensor::Tensor;
use crate::weights::Weights;
use mil_ir::weights::MemoryWeights;
use mil_ir::{BlockId, Function, OpId, Operand, Program, Type, ValueId};
use std::path::Path;
use std::sync::Arc;

/// The most iterations a `while_loop` may run before it is reported as not ending.
const MAX_ITERATIONS: usize = 10_000_000;

/// A function's results by name: its outputs in order, then the final value of each state input.
pub type Named = Vec<(String, Tensor)>;

/// A program ready to run: the program and its weight files.
pub struct Interpreter<'p> {
    program: &'p Program,
    weights: Weights,
}

impl<'p> Interpreter<'p> {
    /// An interpreter for `program`, whose BLOBFILE paths resolve under `model_dir`.
    pub fn new(program: &'p Program, model_dir: Option<&Path>) -> Interpreter<'p> {
        Interpreter {
            program,
            weights: Weights::new(model_dir),
        }
    }

    /// An interpreter for `program`, which also names weights held in `memory` (made by a
    /// rewrite and not written out yet).
    pub fn with_memory(
        program: &'p Program,
        model_dir: Option<&Path>,
        memory: MemoryWeights,
    ) -> Interpreter<'p> {
        Interpreter {
            program,
            weights: Weights::new(model_dir).with_memory(memory),
        }
    }

    /// The function called `name`, or `main`, or the only one.
    pub fn function(&self, name: Option<&str>) -> Result<&'p Function> {
        let fs = &self.program.functions;
        let found = match name {
            Some(n) => self.program.function(n),
            None if fs.len() == 1 => fs.first(),
            None => self.program.function("main"),
        };
        found.ok_or_else(|| {
            let names: Vec<_> = fs.iter().map(|f| f.name.as_str()).collect();
            EvalError::msg(match name {
                Some(n) => format!("the program has no function `{n}` (it has {})", names.join(", ")),
                None => format!(
                    "the program has no `main`; choose one of {} with --function",
                    names.join(", ")
                ),
            })
        })
    }

    /// Runs `f` on `inputs` (checked by [`crate::inputs::check`] first), returning its outputs
    /// and then the final values of its state inputs.
    pub fn run(&self, f: &Function, inputs: Named) -> Result<Named> {
        self.run_observed(f, inputs, &mut |_, _| {})
    }

    /// [`Interpreter::run`], showing `observe` each result of the function body's ops (not those
    /// of nested blocks) as soon as it is computed: how calibration sees every intermediate value
    /// without keeping them all.
    pub fn run_observed(
        &self,
        f: &Function,
        inputs: Named,
        observe: &mut dyn FnMut(ValueId, &Tensor),
    ) -> Result<Named> {
        let mut env: Env = vec![None; f.values.len()];
        for (name, tensor) in inputs {
            let id = f
                .params
                .iter()
                .find(|&&p| f.value(p).name == name)
                .ok_or_else(|| EvalError::msg(format!("the function has no input `{name}`")))?;
            env[id.index()] = Some(Arc::new(tensor));
        }
        let body = f.block(f.body);
        let keep: Vec<ValueId> = body
            .outputs
            .iter()
            .filter_map(|r| r.id)
            .chain(f.params.iter().copied())
            .collect();
        let last_uses = last_uses(f, &keep);
        for (i, &op) in body.ops.iter().enumerate() {
            self.op(f, &mut env, op)?;
            for &v in &f.op(op).results {
                if let Some(t) = &env[v.index()] {
                    observe(v, t);
                }
            }
            for v in &last_uses[i] {
                env[v.index()] = None;
            }
        }
        let mut out = Vec::new();
        for r in &body.outputs {
            out.push((r.name.to_string(), value(&env, r.id, &r.name)?));
        }
        for &p in &f.params {
            if matches!(f.value(p).ty, Type::State(_)) {
                out.push((
                    f.value(p).name.to_string(),
                    value(&env, Some(p), &f.value(p).name)?,
                ));
            }
        }
        Ok(out)
    }

    /// Runs the ops of `block` and returns its outputs.
    fn block(&self, f: &Function, env: &mut Env, block: BlockId) -> Result<Vec<Shared>> {
        let b = f.block(block);
        for &op in &b.ops {
            self.op(f, env, op)?;
        }
        b.outputs
            .iter()
            .map(|r| {
                r.id.and_then(|id| env[id.index()].clone())
                    .ok_or_else(|| EvalError::msg(format!("block output `{}` has no value", r.name)))
            })
            .collect()
    }

    /// Runs one op and stores its results.
    fn op(&self, f: &Function, env: &mut Env, id: OpId) -> Result<()> {
        let op = f.op(id);
        let describe = || match op.name() {
            Some(n) => format!("{} \"{n}\"", op.kind),
            None => op.kind.to_string(),
        };
        let results: Vec<Shared> = match op.kind.as_str() {
            "cond" => {
                let pred = Cx::new(op, f, env, &self.weights)
                    .get("pred")
                    .map_err(|e| e.in_op(describe))?;
                let branch = if pred.to_bool()?.first().copied().unwrap_or(false) {
                    0
                } else {
                    1
                };
                let Some(&block) = op.blocks.get(branch) else {
                    bail!("{}: `cond` needs two blocks", describe());
                };
                self.block(f, env, block)?
            }
            "while_loop" => self.while_loop(f, env, id).map_err(|e| e.in_op(describe))?,
            "write_state" => {
                let cx = Cx::new(op, f, env, &self.weights);
                let data = cx.get("data").map_err(|e| e.in_op(describe))?;
                match op.arg("input").or_else(|| op.args.first().map(|a| &a.value)) {
                    Some(Operand::Value(r)) if r.id.is_some() => {
                        env[r.id.unwrap().index()] = Some(data);
                    }
                    _ => bail!("{}: `input` must name a state", describe()),
                }
                Vec::new()
            }
            kind => {
                let cx = Cx::new(op, f, env, &self.weights);
                let kernel = kernels::kernel(kind).ok_or_else(|| {
                    EvalError::msg(format!("op `{kind}` is not supported by the interpreter yet"))
                        .in_op(describe)
                })?;
                let out = kernel(&cx).map_err(|e| e.in_op(describe))?;
                out.into_iter()
                    .enumerate()
                    .map(|(i, t)| conform(t, cx.out_type(i)).map(Arc::new))
                    .collect::<Result<_>>()
                    .map_err(|e| e.in_op(describe))?
            }
        };
        if results.len() < op.results.len() {
            bail!(
                "{}: produced {} results where the program names {}",
                describe(),
                results.len(),
                op.results.len()
            );
        }
        for (&v, t) in op.results.iter().zip(results) {
            env[v.index()] = Some(t);
        }
        Ok(())
    }

    /// `while_loop`: the condition block, then the body, until the condition is false.
    fn while_loop(&self, f: &Function, env: &mut Env, id: OpId) -> Result<Vec<Shared>> {
        let op = f.op(id);
        let mut vars = Cx::new(op, f, env, &self.weights).tuple("loop_vars")?;
        let [cond, body] = op.blocks[..] else {
            bail!("`while_loop` needs two blocks");
        };
        for _ in 0..MAX_ITERATIONS {
            bind(env, &f.block(cond).params, &vars);
            let go = self.block(f, env, cond)?;
            if !go
                .first()
                .map(|t| t.to_bool())
                .transpose()?
                .and_then(|v| v.first().copied())
                .unwrap_or(false)
            {
                return Ok(vars);
            }
            bind(env, &f.block(body).params, &vars);
            vars = self.block(f, env, body)?;
        }
        bail!("the loop ran {MAX_ITERATIONS} times without ending")
    }
}

/// Sets block parameters to values.
fn bind(env: &mut Env, params: &[ValueId], values: &[Shared]) {
    for (p, v) in params.iter().zip(values) {
        env[p.index()] = Some(v.clone());
    }
}

/// The value of a function output.
fn value(env: &Env, id: Option<ValueId>, name: &str) -> Result<Tensor> {
    let v = id.and_then(|id| env[id.index()].clone());
    let v = v.ok_or_else(|| EvalError::msg(format!("output `{name}` has no value")))?;
    Ok(Arc::try_unwrap(v).unwrap_or_else(|shared| (*shared).clone()))
}

/// A kernel's result held to the type the program declares: cast to its dtype, and checked
/// against its known dims (a difference is a bug worth reporting, not hiding).
fn conform(t: Tensor, declared: Option<&Type>) -> Result<Tensor> {
    let Some(declared) = declared else { return Ok(t) };
    let t = match declared.dtype() {
        Some(d) if d != t.dtype && d != mil_ir::DType::String && t.dtype != mil_ir::DType::String => {
            t.cast(d)?
        }
        _ => t,
    };
    if let Some(shape) = declared.shape()
        && !crate::inputs::fits(shape, &t.shape)
    {
        bail!(
            "computed shape {:?} where the program declares {declared}",
            t.shape
        );
    }
    Ok(t)
}

/// For each op of the function body, the values of the body it reads for the last time (its own
/// operands, or those of the ops in its blocks), leaving out `keep`.
fn last_uses(f: &Function, keep: &[ValueId]) -> Vec<Vec<ValueId>> {
    let body = f.block(f.body);
    let mut last: Vec<Option<usize>> = vec![None; f.values.len()];
    for (i, &op) in body.ops.iter().enumerate() {
        let mut stack = vec![op];
        while let Some(o) = stack.pop() {
            let o = f.op(o);
            for a in &o.args {
                let items = match &a.value {
                    Operand::Tuple(items) => items.iter().collect(),
                    other => vec![other],
                };
                for item in items {
                    if let Operand::Value(r) = item
                        && let Some(id) = r.id
                    {
                        last[id.index()] = Some(i);
                    }
                }
            }
            for &b in &o.blocks {
                stack.extend(f.block(b).ops.iter().copied());
                for r in &f.block(b).outputs {
                    if let Some(id) = r.id {
                        last[id.index()] = Some(i);
                    }
                }
            }
        }
    }
    let mut out = vec![Vec::new(); body.ops.len()];
    for (v, l) in last.iter().enumerate() {
        if let Some(i) = l
            && !keep.contains(&ValueId(v as u32))
        {
            out[*i].push(ValueId(v as u32));
        }
    }
    out
}
