//! Layout changes moved out of the way: the pass that `linear-to-conv1x1` runs after it puts a
//! projection in (B, C, 1, S), so that a chain of projections keeps one layout change at each of
//! its ends (Apple's ml-ane-transformers principle: stay in (B, C, 1, S) and convert at the edges).
//!
//! A *layout op* is a `transpose` or a `reshape` with a known input and result shape: it moves no
//! value, only where each value sits. [`tidy`] repeats two steps until neither applies:
//!
//! - **cancel**: a run of layout ops whose composition puts every element back where it was is
//!   skipped: its readers read the run's input instead. Whether it does is decided on strided
//!   views ([`View`]), not by matching op patterns, so `reshape ∘ transpose ∘ transpose ∘ reshape`
//!   cancels as well as `transpose ∘ transpose`.
//! - **sink**: an elementwise op whose tensor inputs all come from the same layout change (the same
//!   kind, parameters and input type), and whose result is read only by layout ops, is applied
//!   before the layout change instead: `relu(transpose(t))` becomes `transpose(relu(t))`, which
//!   the readers' layout ops can then cancel.
//! - **hoist**: an elementwise op with one input through a layout change that only it reads, and
//!   other inputs in the changed layout that an earlier layout op already takes back to the
//!   source's layout (a residual `add(x, transpose(c))` where `transpose(x)` feeds the block), is
//!   applied before the change on those: `add(x, T(c))` becomes `T(add(T⁻¹(x), c))` with
//!   `T⁻¹(x)` the op already there, so the op stays in the source's layout and the change moves
//!   after it, where the next block's layout ops cancel it.
//!
//! Both only touch runs that contain an op the current rewrite made (ids from `first_new` on),
//! so the rest of the user's program is left as written; ops the pass leaves unread are erased.

use crate::build::{const_arg, value_arg};
use mil_ir::mutate::{EditError, Editor, NewOp, Place};
use mil_ir::{Dim, Function, OpId, Operand, Type, Use, ValueDef, ValueId};

/// Elementwise ops that commute with a layout change: each result element depends only on the
/// elements at the same position of the tensor inputs (of one shape), and on constants.
const ELEMENTWISE: &[&str] = &[
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "gelu",
    "silu",
    "exp",
    "sqrt",
    "abs",
    "erf",
    "sin",
    "cos",
    "softplus",
    "softsign",
    "leaky_relu",
    "elu",
    "clip",
    "clamped_relu",
    "square",
    "sign",
    "floor",
    "ceil",
    "round",
    "add",
    "sub",
    "mul",
    "real_div",
    "maximum",
    "minimum",
    "pow",
];

/// The longest run of layout ops [`tidy`] looks back over.
const MAX_RUN: usize = 8;

/// Where each element of a tensor sits in its source: per axis, its size and its stride in the
/// source's elements (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct View(Vec<(u64, i64)>);

impl View {
    /// A tensor of `shape` as it is stored.
    pub fn contiguous(shape: &[u64]) -> View {
        let mut stride = 1i64;
        let mut dims: Vec<(u64, i64)> = shape
            .iter()
            .rev()
            .map(|&n| {
                let d = (n, stride);
                stride *= n as i64;
                d
            })
            .collect();
        dims.reverse();
        View(dims)
    }

    /// The view after `transpose(perm)`; `None` unless `perm` permutes the axes.
    pub fn transpose(&self, perm: &[usize]) -> Option<View> {
        let mut seen = vec![false; self.0.len()];
        let dims = perm.iter().map(|&p| {
            let first = !std::mem::replace(seen.get_mut(p)?, true);
            first.then(|| self.0[p])
        });
        let dims: Option<Vec<_>> = dims.collect();
        dims.filter(|d| d.len() == self.0.len()).map(View)
    }

    /// The view after `reshape(shape)`, when the elements of each group of axes that `shape`
    /// merges or splits are evenly spaced; `None` otherwise (or when the sizes differ).
    pub fn reshape(&self, shape: &[u64]) -> Option<View> {
        let old: Vec<(u64, i64)> = self.0.iter().copied().filter(|d| d.0 != 1).collect();
        let count = |dims: &[u64]| dims.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
        let sizes: Vec<u64> = old.iter().map(|d| d.0).collect();
        let (n_old, n_new) = (count(&sizes), count(shape));
        if n_old != n_new || n_new == Some(0) {
            return None;
        }
        let mut out = Vec::with_capacity(shape.len());
        let (mut i, mut j) = (0, 0);
        while j < shape.len() {
            if shape[j] == 1 {
                out.push((1, 0));
                j += 1;
                continue;
            }
            let (i0, j0) = (i, j);
            let (mut from, mut to) = (old.get(i)?.0, shape[j]);
            (i, j) = (i + 1, j + 1);
            while from != to {
                if from < to {
                    from *= old.get(i)?.0;
                    i += 1;
                } else {
                    to *= *shape.get(j)?;
                    j += 1;
                }
            }
            let evenly_spaced = (i0..i - 1).all(|k| old[k].1 == old[k + 1].1 * old[k + 1].0 as i64);
            if !evenly_spaced {
                return None;
            }
            let mut stride = old[i - 1].1;
            let start = out.len();
            for &n in shape[j0..j].iter().rev() {
                out.push((n, stride));
                stride *= n as i64;
            }
            out[start..].reverse();
        }
        (i == old.len()).then_some(View(out))
    }

    /// Whether the view is a tensor of `shape` stored as it is: every element in its place.
    pub fn is_identity(&self, shape: &[u64]) -> bool {
        let sizes: Vec<u64> = self.0.iter().map(|d| d.0).collect();
        let moved = |v: &View| -> Vec<(u64, i64)> { v.0.iter().copied().filter(|d| d.0 != 1).collect() };
        sizes == shape && moved(self) == moved(&View::contiguous(shape))
    }
}

/// One layout op: its input, and what it does.
#[derive(Clone, Debug, PartialEq)]
struct Layout {
    x: ValueId,
    change: Change,
}

/// What a layout op does to the view of its input.
#[derive(Clone, Debug, PartialEq)]
enum Change {
    Transpose(Vec<usize>),
    Reshape(Vec<u64>),
}

impl Change {
    fn apply(&self, view: &View) -> Option<View> {
        match self {
            Change::Transpose(perm) => view.transpose(perm),
            Change::Reshape(shape) => view.reshape(shape),
        }
    }
}

/// The known dims of `ty`.
fn dims(ty: &Type) -> Option<Vec<u64>> {
    ty.shape()?
        .iter()
        .map(|d| match d {
            Dim::Known(n) => Some(*n),
            Dim::Unknown => None,
        })
        .collect()
}

/// `op` as a layout op: a live `transpose` with a constant `perm` or a `reshape`, between tensors
/// of known shapes.
fn layout(f: &Function, op: OpId) -> Option<Layout> {
    let o = f.op(op);
    let x = value_arg(f, op, "x")?;
    let rank = dims(&f.value(x).ty)?.len() as i64;
    let result = dims(&f.value(*o.results.first()?).ty)?;
    let change = match o.kind.as_str() {
        "transpose" => {
            let perm = const_arg(f, op, "perm")?.elements()?;
            let perm = (0..perm.len()).map(|i| {
                let p = perm.get_i64(i)?;
                (-rank..rank).contains(&p).then(|| p.rem_euclid(rank) as usize)
            });
            Change::Transpose(perm.collect::<Option<_>>()?)
        }
        "reshape" => Change::Reshape(result),
        _ => return None,
    };
    Some(Layout { x, change })
}

/// The op that defines `v`, if an op does.
fn producer(f: &Function, v: ValueId) -> Option<OpId> {
    match f.value(v).def {
        ValueDef::Result(op, 0) => Some(op),
        _ => None,
    }
}

/// Runs [`cancel`] and [`sink`] on the ops of `e`'s function until neither applies, then erases the
/// layout ops left unread; `first_new` is the first op id the current rewrite made.
pub fn tidy(e: &mut Editor<'_>, first_new: usize) -> Result<(), EditError> {
    let mut touched = Vec::new();
    while cancel(e, first_new, &mut touched)? || sink(e, first_new, &mut touched)? {}
    // Erase back to front, so that a run's earlier ops are unread once its later ones are gone.
    let mut erased = true;
    while erased {
        erased = false;
        for &op in touched.iter().rev() {
            let f = e.function();
            let unread = e.is_live(op) && f.op(op).results.iter().all(|&r| f.value(r).uses.is_empty());
            if unread {
                e.erase(op)?;
                erased = true;
            }
        }
    }
    Ok(())
}

/// Skips one run of layout ops that puts every element back; whether one was found.
fn cancel(e: &mut Editor<'_>, first_new: usize, touched: &mut Vec<OpId>) -> Result<bool, EditError> {
    let f = e.function();
    for end in f.walk_ops() {
        let Some(last) = layout(f, end) else { continue };
        let out = f.op(end).results[0];
        if f.value(out).uses.is_empty() {
            continue;
        }
        let mut run = vec![(end, last)];
        while run.len() <= MAX_RUN {
            let source = run.last().expect("not empty").1.x;
            let made_here = run.iter().any(|(op, _)| op.index() >= first_new);
            if made_here && keeps_outputs(f, out, source) && is_identity(f, source, &run) {
                let ops: Vec<OpId> = run.iter().map(|(op, _)| *op).collect();
                e.replace_all_uses(out, source)?;
                touched.extend(ops.into_iter().rev());
                return Ok(true);
            }
            match producer(f, source).and_then(|p| Some((p, layout(f, p)?))) {
                Some(before) => run.push(before),
                None => break,
            }
        }
    }
    Ok(false)
}

/// Whether `out` may be replaced by `source` without a function output losing its name: `out` is
/// no output, or `source` is an op's result and no output, whose name the editor swaps with it.
fn keeps_outputs(f: &Function, out: ValueId, source: ValueId) -> bool {
    let is_output = |v: ValueId| f.value(v).uses.iter().any(|u| matches!(u, Use::Output { .. }));
    !is_output(out) || (producer(f, source).is_some() && !is_output(source))
}

/// Whether the layout ops of `run` (last first), applied to `source`, give back `source`.
fn is_identity(f: &Function, source: ValueId, run: &[(OpId, Layout)]) -> bool {
    let Some(shape) = dims(&f.value(source).ty) else {
        return false;
    };
    let view = run
        .iter()
        .rev()
        .try_fold(View::contiguous(&shape), |v, (_, l)| l.change.apply(&v));
    view.is_some_and(|v| v.is_identity(&shape))
}

/// How [`sink`] moves an elementwise op before a layout change.
struct Sink {
    /// Each tensor input of the op, and what the moved op reads instead.
    inputs: Vec<(ValueId, ValueId)>,
    /// The layout op applied again after the moved op.
    change: OpId,
    /// The type of the moved op's tensor inputs.
    source_ty: Type,
    /// The layout ops the op no longer reads.
    left: Vec<OpId>,
}

/// Moves one elementwise op from after a layout change to before it; whether one was moved.
fn sink(e: &mut Editor<'_>, first_new: usize, touched: &mut Vec<OpId>) -> Result<bool, EditError> {
    let f = e.function();
    for op in f.walk_ops() {
        let Some(plan) = sinkable(f, op, first_new).or_else(|| hoistable(f, op, first_new)) else {
            continue;
        };
        let Sink {
            inputs,
            change: first,
            source_ty,
            left,
        } = plan;
        let o = f.op(op).clone();
        let result = f.value(o.results[0]).clone();
        // The op on the layout change's inputs, with the result of their type.
        let mut moved = NewOp::new(&o.kind);
        for a in &o.args {
            let key = a.key.as_deref().unwrap_or_default();
            let operand = match &a.value {
                Operand::Value(r) => match inputs.iter().find(|(v, _)| Some(*v) == r.id) {
                    Some(&(_, instead)) => e.operand(instead),
                    None => a.value.clone(),
                },
                other => other.clone(),
            };
            moved = moved.arg(key, operand);
        }
        for at in o.attributes.iter().filter(|a| a.key != "name") {
            moved = moved.attr(&at.key, at.value.clone());
        }
        let elem_ty = Type::Tensor {
            dtype: result.ty.dtype().expect("a tensor result"),
            shape: source_ty.shape().expect("a known shape").to_vec(),
        };
        let moved = moved.result(&result.name, elem_ty).made_for(op);
        let moved = e.insert(Place::Before(op), moved)?;
        let moved_value = e.function().op(moved).results[0];
        // The same layout change, now after it.
        let template = e.function().op(first).clone();
        let mut again = NewOp::new(&template.kind);
        for a in &template.args {
            let key = a.key.as_deref().unwrap_or_default();
            let operand = if key == "x" {
                e.operand(moved_value)
            } else {
                a.value.clone()
            };
            again = again.arg(key, operand);
        }
        let again = again
            .result(&format!("{}_layout", result.name), result.ty.clone())
            .made_for(op);
        let again = e.insert(Place::Before(op), again)?;
        let again_value = e.function().op(again).results[0];
        e.replace_op_with(op, &[again_value])?;
        // Erased at once when unread, so that its input is read only by what still needs it.
        for &p in &left {
            let f = e.function();
            if e.is_live(p) && f.value(f.op(p).results[0]).uses.is_empty() {
                e.erase(p)?;
            }
        }
        touched.extend(left);
        return Ok(true);
    }
    Ok(false)
}

/// The layout ops feeding elementwise `op` and the type of their inputs, when [`sink`] may move
/// `op` before them: every tensor input is the result of the same layout change of tensors of one
/// type, only layout ops read `op`'s result, and one of these layout ops is new.
fn sinkable(f: &Function, op: OpId, first_new: usize) -> Option<Sink> {
    let o = f.op(op);
    if !ELEMENTWISE.contains(&o.kind.as_str()) || o.results.len() != 1 {
        return None;
    }
    let mut layouts: Vec<(OpId, Layout)> = Vec::new();
    for a in &o.args {
        let r = match &a.value {
            Operand::Value(r) => r,
            // A scalar broadcasts the same before the layout change as after it.
            Operand::Const(c) if is_scalar(&c.ty) => continue,
            _ => return None,
        };
        let v = r.id?;
        let p = producer(f, v)?;
        if f.op(p).kind == "const" && is_scalar(&f.value(v).ty) {
            continue;
        }
        let l = layout(f, p)?;
        if !layouts.iter().any(|(q, _)| *q == p) {
            layouts.push((p, l));
        }
    }
    let (first, l0) = layouts.first()?;
    let source_ty = f.value(l0.x).ty.clone();
    let same = layouts.iter().all(|(p, l)| {
        l.change == l0.change && f.value(l.x).ty == source_ty && f.op(*p).kind == f.op(*first).kind
    });
    let out = f.value(o.results[0]);
    let readers: Option<Vec<OpId>> = out
        .uses
        .iter()
        .map(|u| match u {
            Use::Operand { op: reader, .. } => layout(f, *reader).map(|_| *reader),
            Use::Output { .. } => None,
        })
        .collect();
    let readers = readers.filter(|r| !r.is_empty())?;
    let made_here = layouts
        .iter()
        .map(|(p, _)| p)
        .chain(&readers)
        .any(|p| p.index() >= first_new);
    (same && made_here && dims(&source_ty).is_some()).then(|| Sink {
        inputs: layouts.iter().map(|(p, l)| (f.op(*p).results[0], l.x)).collect(),
        change: *first,
        source_ty,
        left: layouts.iter().map(|(p, _)| *p).collect(),
    })
}

/// The hoist of elementwise `op` (see the module documentation): one tensor input is the result
/// of a new layout op `via` that only `op` reads; every other is a tensor of `via`'s result type
/// that the same change made from one of `via`'s input type, or that a layout op before `op`,
/// whose result is read, changes into one of `via`'s input type such that `via` changes it back.
fn hoistable(f: &Function, op: OpId, first_new: usize) -> Option<Sink> {
    let o = f.op(op);
    if !ELEMENTWISE.contains(&o.kind.as_str()) || o.results.len() != 1 {
        return None;
    }
    let tensors: Vec<ValueId> = (o.args.iter())
        .filter_map(|a| match &a.value {
            Operand::Value(r) => r.id,
            _ => None,
        })
        .filter(|&v| !is_scalar(&f.value(v).ty))
        .collect();
    let only_reader = |v: ValueId| {
        f.value(v)
            .uses
            .iter()
            .all(|u| matches!(u, Use::Operand { op: r, .. } if *r == op))
    };
    tensors.iter().find_map(|&through| {
        let via = producer(f, through).filter(|p| p.index() >= first_new && only_reader(through))?;
        let l = layout(f, via)?;
        let source_ty = f.value(l.x).ty.clone();
        dims(&source_ty)?;
        let mut inputs = vec![(through, l.x)];
        let mut left = vec![via];
        for &v in tensors.iter().filter(|&&v| v != through) {
            if f.value(v).ty != f.value(through).ty {
                return None;
            }
            // `v` made by the same change, or changed back by a layout op already there.
            let same_change = producer(f, v).and_then(|e| {
                let el = layout(f, e).filter(|el| el.change == l.change && f.value(el.x).ty == source_ty)?;
                left.push(e);
                Some(el.x)
            });
            let back = same_change.or_else(|| {
                f.value(v).uses.iter().find_map(|u| {
                    let Use::Operand { op: d, .. } = *u else {
                        return None;
                    };
                    let dl = layout(f, d).filter(|dl| dl.x == v)?;
                    let w = f.op(d).results[0];
                    let fits = f.value(w).ty == source_ty
                        && !f.value(w).uses.is_empty()
                        && precedes(f, d, op)
                        && is_identity(f, v, &[(via, l.clone()), (d, dl)]);
                    fits.then_some(w)
                })
            })?;
            inputs.push((v, back));
        }
        (inputs.len() > 1).then_some(Sink {
            inputs,
            change: via,
            source_ty,
            left,
        })
    })
}

/// Whether op `a` comes before op `b` in the same block.
fn precedes(f: &Function, a: OpId, b: OpId) -> bool {
    let block = f.op(a).parent;
    let ops = &f.block(block).ops;
    let at = |op: OpId| ops.iter().position(|&o| o == op);
    f.op(b).parent == block && matches!((at(a), at(b)), (Some(i), Some(j)) if i < j)
}

/// Whether `ty` is a scalar (or a rank-0 tensor).
fn is_scalar(ty: &Type) -> bool {
    matches!(ty, Type::Scalar(_)) || ty.shape().is_some_and(<[Dim]>::is_empty)
}

#[cfg(test)]
mod tests {
    use super::View;

    #[test]
    fn transposes_that_undo_each_other_are_the_identity() {
        let v = View::contiguous(&[2, 3, 4]);
        let back = v
            .transpose(&[0, 2, 1])
            .and_then(|t| t.transpose(&[0, 2, 1]))
            .unwrap();
        assert!(back.is_identity(&[2, 3, 4]));
        assert!(!v.transpose(&[0, 2, 1]).unwrap().is_identity(&[2, 4, 3]));
    }

    #[test]
    fn the_bc1s_round_trip_is_the_identity() {
        // (B, S, C) → (B, C, S) → (B, C, 1, S) … (B, C, 1, S) → (B, C, S) → (B, S, C).
        let there = View::contiguous(&[2, 5, 3])
            .transpose(&[0, 2, 1])
            .and_then(|v| v.reshape(&[2, 3, 1, 5]))
            .unwrap();
        let back = there
            .reshape(&[2, 3, 5])
            .and_then(|v| v.transpose(&[0, 2, 1]))
            .unwrap();
        assert!(back.is_identity(&[2, 5, 3]));
        assert!(!there.is_identity(&[2, 3, 1, 5]));
    }

    #[test]
    fn a_reshape_across_a_transpose_is_no_view_and_a_wrong_order_is_no_identity() {
        let t = View::contiguous(&[2, 3]).transpose(&[1, 0]).unwrap();
        assert_eq!(t.reshape(&[6]), None);
        let flat = View::contiguous(&[2, 3]).reshape(&[3, 2]).unwrap();
        assert!(!flat.transpose(&[1, 0]).unwrap().is_identity(&[2, 3]));
        assert!(flat.reshape(&[2, 3]).unwrap().is_identity(&[2, 3]));
        assert_eq!(View::contiguous(&[2, 3]).transpose(&[0, 0]), None);
    }
}
