//! `unroll-recurrent`: `lstm`, `gru` and `rnn` over a sequence of static length → one cell per
//! step, made of `matmul`, `add`, `slice_by_size`, `sigmoid`/`tanh`/…, `mul` and `concat`.
//!
//! Core ML refuses the three recurrent ops on the Neural Engine and runs matmul, the activations,
//! elementwise arithmetic, slices and concat there (`../shared/docs/ane.md`). The layer is
//! coremltools' (`ops/defs/iOS15/recurrent.py`, `iOS18` for gru's `reset_after` and
//! `input_bias`), as the interpreter computes it (`eval/src/kernels/recurrent.rs`):
//!
//! - the input projections of every step at once: `matmul(x, weight_ih, transpose_y = true)`
//!   plus `bias`, `[S, B, G·H]`;
//! - per step, the hidden projection `matmul(h, weight_hh, transpose_y = true)` and the gates
//!   sliced from the last axis in coremltools' order (lstm `[i, f, o, z]`, gru `[r, o, z]`), with
//!   peepholes, cell clipping, gru's reset before or after its product, and the layer's activations;
//! - a `reverse` layer runs from the last step to the first and emits its states in the order it
//!   ran them; a bidirectional one runs both ways, the backward states put back in time order beside
//!   the forward ones, and the final states concatenated forward first.
//!
//! The projections are matmuls by the weight rather than `linear` layers because that is what
//! makes the unrolled layer cheaper than the op in Core ML's plan: its planner prices a `linear`
//! with fewer than 512 outputs at about 89 ps per multiply-accumulate on the CPU, above the
//! recurrent op's own 86 (so the unrolled layer's projections alone cost as much as the layer), and
//! a matmul by a constant at 2.65 (`matmul_const.mil` against `linear.mil` in the analytics
//! corpus; `mil_ane::cost`). Both are eligible on the Neural Engine.
//!
//! The weights are read where they are (a `const` or inline): the rewrite makes no constant but
//! the slice bounds, so a layer with its weights in a file is rewritten as well. Sequences longer
//! than [`MAX_STEPS`] are left alone (each step is some twenty ops).

use crate::build::{
    Chain, arg_shape, boolean, const_arg, const_int, const_str, int32, ints, operand_arg, same_dtype, scalar,
};
use crate::{NotApplicable, Rewrite};
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{DType, Function, OpId, Operand, Type, ValueId};

/// Unrolls `lstm`, `gru` and `rnn` into per-step cells.
pub const UNROLL_RECURRENT: Rewrite = Rewrite {
    id: RewriteId::UNROLL_RECURRENT,
    kinds: &["lstm", "gru", "rnn"],
    title: "Unroll {kind} into per-step matmuls and activations",
    precondition: |f, op| Layer::read(f, op).map(drop),
    edit,
};

/// The longest sequence the rewrite unrolls.
pub const MAX_STEPS: u64 = 128;

/// Which recurrent op.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Rnn,
    Gru,
    Lstm,
}

impl Cell {
    /// How many gates its weights stack.
    fn gates(self) -> u64 {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }
}

/// An activation by the name the recurrent ops take.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    Linear,
    HardSigmoid,
}

impl Activation {
    /// The activation called `name`; `scaled_tanh` with its default parameters is `tanh`.
    fn named(name: &str) -> Result<Activation, NotApplicable> {
        Ok(match name {
            "sigmoid" => Activation::Sigmoid,
            "tanh" | "scaled_tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "linear" => Activation::Linear,
            "hard_sigmoid" | "sigmoid_hard" => Activation::HardSigmoid,
            other => return Err(NotApplicable(format!("the activation `{other}` is unknown"))),
        })
    }
}

/// What the rewrite reads from a recurrent op.
struct Layer {
    cell: Cell,
    dtype: DType,
    steps: u64,
    batch: u64,
    hidden: u64,
    /// One entry per direction: the suffix of its weights' keys and whether it runs backwards.
    directions: Vec<(&'static str, bool)>,
    output_sequence: bool,
    recurrent: Activation,
    cell_activation: Activation,
    activation: Activation,
    clip: Option<f64>,
    reset_after: bool,
}

impl Layer {
    /// Reads `op`, or says why it cannot be unrolled.
    fn read(f: &Function, op: OpId) -> Result<Layer, NotApplicable> {
        let o = f.op(op);
        let cell = match o.kind.as_str() {
            "rnn" => Cell::Rnn,
            "gru" => Cell::Gru,
            _ => Cell::Lstm,
        };
        let dtype = o
            .results
            .first()
            .and_then(|&r| f.value(r).ty.dtype())
            .filter(|d| matches!(d, DType::Fp16 | DType::Fp32))
            .ok_or_else(|| NotApplicable("the layer does not compute in fp16 or fp32".into()))?;
        let shape = |key: &str| {
            arg_shape(f, op, key).ok_or_else(|| NotApplicable(format!("the shape of `{key}` is not known")))
        };
        // A constant parameter, or `default` when absent.
        let constant = |key: &str, default: &str| {
            const_str(f, op, key, default).ok_or_else(|| NotApplicable(format!("`{key}` is not a constant")))
        };
        let flag = |key: &str| {
            const_int(f, op, key, 0)
                .map(|v| v != 0)
                .ok_or_else(|| NotApplicable(format!("`{key}` is not a constant")))
        };
        // An optional operand is absent or of shape `want`; a required one is there.
        let fits = |key: &str, want: &[u64], required: bool| match arg_shape(f, op, key) {
            Some(s) => NotApplicable::unless(s == want, || format!("`{key}` is not {want:?}")),
            None if !required && o.arg(key).is_none() => Ok(()),
            None => Err(NotApplicable(format!("`{key}` is missing or of unknown shape"))),
        };
        let floats = [
            "x",
            "initial_h",
            "initial_c",
            "weight_ih",
            "weight_hh",
            "bias",
            "peephole",
            "weight_ih_back",
            "weight_hh_back",
            "bias_back",
            "peephole_back",
            "input_bias",
            "clip",
        ];
        same_dtype(f, op, dtype, &floats)?;
        for &r in &o.results {
            NotApplicable::unless(f.value(r).ty.dtype() == Some(dtype), || {
                "the results differ in dtype".into()
            })?;
        }
        let x = shape("x")?;
        let [steps, batch, input] = x[..] else {
            return Err(NotApplicable("`x` is not of rank 3 ([seq, batch, input])".into()));
        };
        NotApplicable::unless(steps <= MAX_STEPS, || {
            format!("the sequence is {steps} steps long; at most {MAX_STEPS} are unrolled")
        })?;
        let directions: Vec<(&'static str, bool)> = match constant("direction", "forward")?.as_str() {
            "forward" => vec![("", false)],
            "reverse" => vec![("", true)],
            "bidirectional" => vec![("", false), ("_back", true)],
            other => return Err(NotApplicable(format!("the direction `{other}` is unknown"))),
        };
        let dirs = directions.len() as u64;
        let h0 = shape("initial_h")?;
        NotApplicable::unless(h0.len() == 2 && h0[0] == batch && h0[1] % dirs == 0, || {
            "`initial_h` is not [batch, directions·hidden]".into()
        })?;
        if cell == Cell::Lstm {
            fits("initial_c", &h0, true)?;
        }
        let hidden = h0[1] / dirs;
        let gates = cell.gates() * hidden;
        for (suffix, _) in &directions {
            fits(&format!("weight_ih{suffix}"), &[gates, input], true)?;
            fits(&format!("weight_hh{suffix}"), &[gates, hidden], true)?;
            fits(&format!("bias{suffix}"), &[gates], false)?;
            if cell == Cell::Lstm {
                fits(&format!("peephole{suffix}"), &[3 * hidden], false)?;
            }
        }
        if cell == Cell::Gru {
            fits("input_bias", &[gates], false)?;
        }
        let clip = match o.arg("clip").filter(|_| cell == Cell::Lstm) {
            None => None,
            Some(_) => Some(
                const_arg(f, op, "clip")
                    .and_then(|v| v.elements()?.get_f64(0))
                    .ok_or_else(|| NotApplicable("`clip` is not a constant".into()))?,
            ),
        };
        Ok(Layer {
            cell,
            dtype,
            steps,
            batch,
            hidden,
            directions,
            output_sequence: flag("output_sequence")?,
            recurrent: Activation::named(&constant("recurrent_activation", "sigmoid")?)?,
            cell_activation: Activation::named(&constant("cell_activation", "tanh")?)?,
            activation: Activation::named(&constant("activation", "tanh")?)?,
            clip,
            reset_after: cell == Cell::Gru && flag("reset_after")?,
        })
    }

    /// The type of a `[1, batch, n·hidden]` state.
    fn state(&self, n: u64) -> Type {
        Type::tensor(self.dtype, &[1, self.batch, n * self.hidden])
    }
}

/// Builds the unrolled layer before the op it replaces.
struct Unroll<'l, 'a, 'f> {
    layer: &'l Layer,
    c: Chain<'a, 'f>,
}

impl Unroll<'_, '_, '_> {
    /// `kind(args)` with a result of type `ty`, named `<result>_<suffix>`.
    fn op(
        &mut self,
        kind: &str,
        suffix: &str,
        args: Vec<(&str, Operand)>,
        ty: &Type,
    ) -> Result<ValueId, EditError> {
        self.c.typed_op(kind, suffix, args, ty.clone())
    }

    /// An elementwise op on values of the `[1, batch, hidden]` state's type.
    fn elementwise(
        &mut self,
        kind: &str,
        suffix: &str,
        x: ValueId,
        y: ValueId,
    ) -> Result<ValueId, EditError> {
        let args = vec![("x", self.c.operand(x)), ("y", self.c.operand(y))];
        let ty = self.layer.state(1);
        self.op(kind, suffix, args, &ty)
    }

    /// Gate `g` (`[1, batch, hidden]`) of a `[1, batch, gates·hidden]` projection.
    fn gate(&mut self, suffix: &str, projection: ValueId, g: u64) -> Result<ValueId, EditError> {
        let (b, h) = (self.layer.batch, self.layer.hidden);
        let x = self.c.operand(projection);
        self.c.slice(suffix, x, &[0, 0, g * h], &[1, b, h])
    }

    /// `activation(x)`; `linear` is `x` itself.
    fn activate(&mut self, a: Activation, suffix: &str, x: ValueId) -> Result<ValueId, EditError> {
        let ty = self.layer.state(1);
        let kind = match a {
            Activation::Linear => return Ok(x),
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::HardSigmoid => {
                let (alpha, beta) = (scalar(self.layer.dtype, 0.2), scalar(self.layer.dtype, 0.5));
                let args = vec![("alpha", alpha), ("beta", beta), ("x", self.c.operand(x))];
                return self.op("sigmoid_hard", suffix, args, &ty);
            }
        };
        self.op(kind, suffix, vec![("x", self.c.operand(x))], &ty)
    }

    /// `x·weightᵀ (+ bias)` with a result of type `ty`: a `matmul` with `transpose_y`, then an
    /// `add` of the bias. Core ML's planner prices a matmul by a constant far below a `linear` on
    /// the CPU (see the module's documentation), and both run on the Neural Engine.
    fn project(
        &mut self,
        suffix: &str,
        x: Operand,
        weight: Operand,
        bias: Option<Operand>,
        ty: &Type,
    ) -> Result<ValueId, EditError> {
        let args = vec![
            ("transpose_x", boolean(false)),
            ("transpose_y", boolean(true)),
            ("x", x),
            ("y", weight),
        ];
        let product = self.op("matmul", suffix, args, ty)?;
        let Some(bias) = bias else { return Ok(product) };
        let args = vec![("x", self.c.operand(product)), ("y", bias)];
        self.op("add", &format!("{suffix}_b"), args, ty)
    }

    /// `concat(values, axis)`, or the value itself when there is one.
    fn concat(
        &mut self,
        suffix: &str,
        values: &[ValueId],
        axis: i64,
        ty: &Type,
    ) -> Result<ValueId, EditError> {
        if let [one] = values {
            return Ok(*one);
        }
        let items = values.iter().map(|&v| self.c.operand(v)).collect();
        let args = vec![
            ("axis", int32(axis)),
            ("interleave", boolean(false)),
            ("values", Operand::Tuple(items)),
        ];
        self.op("concat", suffix, args, ty)
    }

    /// Direction `di`'s part of an initial state `[batch, directions·hidden]`, as `[1, batch, hidden]`.
    fn initial_state(&mut self, suffix: &str, v: Operand, di: u64) -> Result<ValueId, EditError> {
        let (b, h) = (self.layer.batch, self.layer.hidden);
        let part = if self.layer.directions.len() == 1 {
            v
        } else {
            let part = self
                .c
                .slice(&format!("{suffix}_part"), v, &[0, di * h], &[b, h])?;
            self.c.operand(part)
        };
        self.reshape(suffix, part, &[1, b, h])
    }

    /// `x` reshaped to `shape`.
    fn reshape(&mut self, suffix: &str, x: Operand, shape: &[u64]) -> Result<ValueId, EditError> {
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let args = vec![("shape", ints(&dims)), ("x", x)];
        self.op("reshape", suffix, args, &Type::tensor(self.layer.dtype, shape))
    }
}

/// One direction's results: its states in output order, and its last hidden and cell states
/// (`[1, batch, hidden]` each).
struct Run {
    states: Vec<ValueId>,
    h: ValueId,
    c: Option<ValueId>,
}

/// What one direction reads: its operands, taken before the first edit.
struct Operands {
    x: Operand,
    initial_h: Operand,
    initial_c: Option<Operand>,
    weight_ih: Operand,
    weight_hh: Operand,
    bias: Option<Operand>,
    input_bias: Option<Operand>,
    peephole: Option<Operand>,
}

impl Operands {
    /// The operands of `op`'s direction whose weights end in `suffix`.
    fn of(f: &Function, op: OpId, suffix: &str, cell: Cell) -> Result<Operands, EditError> {
        let operand = |key: String| operand_arg(f, op, &key).ok_or_else(|| EditError::Unresolved(key.into()));
        let weight = |key: &str| operand(format!("{key}{suffix}"));
        Ok(Operands {
            x: operand("x".into())?,
            initial_h: operand("initial_h".into())?,
            initial_c: (cell == Cell::Lstm)
                .then(|| operand("initial_c".into()))
                .transpose()?,
            weight_ih: weight("weight_ih")?,
            weight_hh: weight("weight_hh")?,
            bias: weight("bias").ok(),
            input_bias: operand_arg(f, op, "input_bias").filter(|_| cell == Cell::Gru),
            peephole: weight("peephole").ok().filter(|_| cell == Cell::Lstm),
        })
    }
}

/// The recurrent state and what every step reads.
struct Step<'n> {
    /// The names' prefix, direction and time (`fwd3`).
    n: &'n str,
    /// The input projection of this step, `[1, batch, gates·hidden]`.
    gx: ValueId,
    /// The hidden projection, `[1, batch, gates·hidden]`.
    gh: ValueId,
}

/// One rnn step: `activation(x·W_ihᵀ + b + h·W_hhᵀ)`.
fn rnn_step(u: &mut Unroll<'_, '_, '_>, s: &Step<'_>) -> Result<ValueId, EditError> {
    let pre = u.elementwise("add", &format!("{}_pre", s.n), s.gx, s.gh)?;
    u.activate(u.layer.activation, &format!("{}_state", s.n), pre)
}

/// One gru step: gates `[r, o, z]`; the reset applied to `h` before its product with the o rows
/// of `weight_hh` (`w_ho`), or after it with `reset_after`.
fn gru_step(
    u: &mut Unroll<'_, '_, '_>,
    s: &Step<'_>,
    h: ValueId,
    w_ho: Option<ValueId>,
) -> Result<ValueId, EditError> {
    let (n, l) = (s.n, u.layer);
    let mut gates = Vec::new();
    for (k, name) in ["r", "o", "z"].into_iter().enumerate() {
        let x = u.gate(&format!("{n}_{name}x"), s.gx, k as u64)?;
        let hh = u.gate(&format!("{n}_{name}h"), s.gh, k as u64)?;
        gates.push((x, hh));
    }
    let [(rx, rh), (ox, oh), (zx, zh)] = gates[..] else {
        unreachable!("three gates")
    };
    let r_pre = u.elementwise("add", &format!("{n}_r_pre"), rx, rh)?;
    let r = u.activate(l.recurrent, &format!("{n}_r"), r_pre)?;
    let z_pre = u.elementwise("add", &format!("{n}_z_pre"), zx, zh)?;
    let z = u.activate(l.recurrent, &format!("{n}_z"), z_pre)?;
    let candidate = match w_ho {
        None => u.elementwise("mul", &format!("{n}_reset"), r, oh)?,
        Some(w) => {
            let reset = u.elementwise("mul", &format!("{n}_reset"), h, r)?;
            let args = vec![
                ("transpose_x", boolean(false)),
                ("transpose_y", boolean(true)),
                ("x", u.c.operand(reset)),
                ("y", u.c.operand(w)),
            ];
            u.op("matmul", &format!("{n}_reset_h"), args, &l.state(1))?
        }
    };
    let o_pre = u.elementwise("add", &format!("{n}_o_pre"), ox, candidate)?;
    let o = u.activate(l.activation, &format!("{n}_o"), o_pre)?;
    let args = vec![("x", scalar(l.dtype, 1.0)), ("y", u.c.operand(z))];
    let keep = u.op("sub", &format!("{n}_keep"), args, &l.state(1))?;
    let new = u.elementwise("mul", &format!("{n}_new"), keep, o)?;
    let old = u.elementwise("mul", &format!("{n}_old"), z, h)?;
    u.elementwise("add", &format!("{n}_state"), new, old)
}

/// An lstm gate's pre-activation: gate `k` of the summed projections, plus `c·peephole` when the
/// layer has peepholes and the gate reads one.
fn lstm_gate(
    u: &mut Unroll<'_, '_, '_>,
    n: &str,
    pre: ValueId,
    k: u64,
    peephole: Option<(ValueId, ValueId)>,
) -> Result<ValueId, EditError> {
    let name = ["i", "f", "o", "z"][k as usize];
    let g = u.gate(&format!("{n}_{name}_pre"), pre, k)?;
    let Some((c, p)) = peephole else { return Ok(g) };
    let args = vec![("x", u.c.operand(c)), ("y", u.c.operand(p))];
    let cp = u.op("mul", &format!("{n}_{name}_peep"), args, &u.layer.state(1))?;
    u.elementwise("add", &format!("{n}_{name}_sum"), g, cp)
}

/// One lstm step: gates `[i, f, o, z]`, peepholes on i and f from the previous cell state and on
/// o from the new one, the cell state clipped. Returns the hidden and cell states.
fn lstm_step(
    u: &mut Unroll<'_, '_, '_>,
    s: &Step<'_>,
    c_prev: ValueId,
    peepholes: Option<&[ValueId]>,
) -> Result<(ValueId, ValueId), EditError> {
    let (n, l) = (s.n, u.layer);
    let args = vec![("x", u.c.operand(s.gx)), ("y", u.c.operand(s.gh))];
    let pre = u.op("add", &format!("{n}_pre"), args, &l.state(4))?;
    let peep = |c: ValueId, k: usize| peepholes.map(|p| (c, p[k]));
    let i_pre = lstm_gate(u, n, pre, 0, peep(c_prev, 0))?;
    let f_pre = lstm_gate(u, n, pre, 1, peep(c_prev, 1))?;
    let z_pre = lstm_gate(u, n, pre, 3, None)?;
    let i = u.activate(l.recurrent, &format!("{n}_i"), i_pre)?;
    let f = u.activate(l.recurrent, &format!("{n}_f"), f_pre)?;
    let z = u.activate(l.cell_activation, &format!("{n}_z"), z_pre)?;
    let kept = u.elementwise("mul", &format!("{n}_kept"), f, c_prev)?;
    let added = u.elementwise("mul", &format!("{n}_added"), i, z)?;
    let mut c = u.elementwise("add", &format!("{n}_cell"), kept, added)?;
    if let Some(t) = l.clip {
        let args = vec![
            ("alpha", scalar(l.dtype, -t)),
            ("beta", scalar(l.dtype, t)),
            ("x", u.c.operand(c)),
        ];
        c = u.op("clip", &format!("{n}_clipped"), args, &l.state(1))?;
    }
    let o_pre = lstm_gate(u, n, pre, 2, peep(c, 2))?;
    let o = u.activate(l.recurrent, &format!("{n}_o"), o_pre)?;
    let out = u.activate(l.activation, &format!("{n}_out"), c)?;
    Ok((u.elementwise("mul", &format!("{n}_state"), o, out)?, c))
}

/// Runs direction `di` (weights `suffix`, backwards or not) over the sequence.
fn run(
    u: &mut Unroll<'_, '_, '_>,
    op: OpId,
    di: u64,
    suffix: &str,
    backward: bool,
) -> Result<Run, EditError> {
    let l = u.layer;
    let (s, b, h, g) = (l.steps, l.batch, l.hidden, l.cell.gates());
    let dirs = l.directions.len() as u64;
    let tag = if dirs == 2 && backward { "back" } else { "fwd" };
    let ops = Operands::of(u.c.function(), op, suffix, l.cell)?;

    let projected = Type::tensor(l.dtype, &[s, b, g * h]);
    let mut gx = u.project(&format!("{tag}_x"), ops.x, ops.weight_ih, ops.bias, &projected)?;
    if let Some(ib) = ops.input_bias {
        let args = vec![("x", u.c.operand(gx)), ("y", ib)];
        gx = u.op("add", &format!("{tag}_x_in"), args, &projected)?;
    }
    let mut h_state = u.initial_state(&format!("{tag}_h0"), ops.initial_h, di)?;
    let mut c_state = match ops.initial_c {
        Some(c) => Some(u.initial_state(&format!("{tag}_c0"), c, di)?),
        None => None,
    };
    let peepholes = match ops.peephole {
        Some(p) => Some(
            (0..3)
                .map(|k| {
                    u.c.slice(&format!("{tag}_peephole{k}"), p.clone(), &[k * h], &[h])
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let w_ho = if l.cell == Cell::Gru && !l.reset_after {
        Some(u.c.slice(&format!("{tag}_w_ho"), ops.weight_hh.clone(), &[h, 0], &[h, h])?)
    } else {
        None
    };
    let mut states = Vec::new();
    for step in 0..s {
        let t = if backward { s - 1 - step } else { step };
        let n = format!("{tag}{t}");
        let x = u.c.operand(gx);
        let gx_t = u.c.slice(&format!("{n}_x"), x, &[t, 0, 0], &[1, b, g * h])?;
        let h = u.c.operand(h_state);
        let gh = u.project(&format!("{n}_h"), h, ops.weight_hh.clone(), None, &l.state(g))?;
        let step = Step { n: &n, gx: gx_t, gh };
        h_state = match (l.cell, c_state) {
            (Cell::Rnn, _) => rnn_step(u, &step)?,
            (Cell::Gru, _) => gru_step(u, &step, h_state, w_ho)?,
            (Cell::Lstm, Some(c)) => {
                let (h_new, c_new) = lstm_step(u, &step, c, peepholes.as_deref())?;
                c_state = Some(c_new);
                h_new
            }
            (Cell::Lstm, None) => return Err(EditError::Unresolved("initial_c".into())),
        };
        states.push(h_state);
    }
    // A bidirectional layer's backward states go back in time order.
    if backward && dirs == 2 {
        states.reverse();
    }
    Ok(Run {
        states,
        h: h_state,
        c: c_state,
    })
}

/// Every direction, then the outputs: the sequence (or last state), the last hidden state and,
/// for lstm, the last cell state.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    // The precondition held; an op that no longer reads as a layer is not the op it was.
    let layer = Layer::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let mut u = Unroll {
        layer: &layer,
        c: Chain::new(e, op),
    };
    let mut runs = Vec::new();
    for (di, &(suffix, backward)) in layer.directions.iter().enumerate() {
        runs.push(run(&mut u, op, di as u64, suffix, backward)?);
    }
    let (s, b, h, dirs) = (layer.steps, layer.batch, layer.hidden, runs.len() as u64);
    let out = if layer.output_sequence {
        let mut per_direction = Vec::new();
        for (k, r) in runs.iter().enumerate() {
            let ty = Type::tensor(layer.dtype, &[s, b, h]);
            per_direction.push(u.concat(&format!("sequence{k}"), &r.states, 0, &ty)?);
        }
        u.concat(
            "sequence",
            &per_direction,
            2,
            &Type::tensor(layer.dtype, &[s, b, dirs * h]),
        )?
    } else {
        let last: Vec<ValueId> = runs.iter().map(|r| r.h).collect();
        u.concat("last", &last, 2, &layer.state(dirs))?
    };
    let mut finals = vec![out];
    let lasts: [fn(&Run) -> Option<ValueId>; 2] = [|r| Some(r.h), |r| r.c];
    for (k, last) in lasts.iter().enumerate() {
        let Some(parts) = runs.iter().map(last).collect::<Option<Vec<ValueId>>>() else {
            continue;
        };
        let mut flat = Vec::new();
        for (d, p) in parts.into_iter().enumerate() {
            let p = u.c.operand(p);
            flat.push(u.reshape(&format!("final{k}_{d}"), p, &[b, h])?);
        }
        finals.push(u.concat(
            &format!("final{k}"),
            &flat,
            1,
            &Type::tensor(layer.dtype, &[b, dirs * h]),
        )?);
    }
    u.c.finish_all(&finals)
}
