//! Editing a function in place: insert, replace and erase operations, substitute values.
//!
//! Every rewrite of a program goes through an [`Editor`], which borrows one [`Function`] (and,
//! for a rewrite, its [`FunctionSpans`]) and keeps after each call, incrementally:
//!
//! - **use lists**: every value's [`Value::uses`] lists exactly its uses (as a set: the order of a
//!   list edited here is not program order, which [`Function::recompute_uses`] would give);
//! - **references**: every [`ValueRef`] an edit writes carries the name of the value it resolves to;
//! - **symbols**: [`Function::symbols`] maps each name to a live definition, the first in arena
//!   order when a name is defined more than once;
//! - **names**: new values get SSA names and new ops `name` attributes that collide with no name of
//!   the function, nested blocks included;
//! - **provenance**: an op made by a rewrite ([`Editor::rewriting`]) records in the source map the
//!   rewrite and the op it stands for, so its diagnostics point at the statement the user wrote.
//!
//! Ids stay stable: an erased op keeps its arena slot as a tombstone ([`Operation::is_erased`]),
//! reached from no block; its results and nested blocks are dead with it. Walk a function through
//! its blocks ([`Function::walk_ops`]) rather than its arenas after erasing.
//!
//! An edit that would break these (an operand naming an erased value, erasing an op whose results
//! are still read) is refused with an [`EditError`] and changes nothing.

use std::cell::OnceCell;
use std::fmt;

use rustc_hash::FxHashMap;

use crate::constant::{ConstData, Elements, TypedValue};
use crate::program::{
    Argument, Attribute, BlockId, Function, Name, OpId, Operand, Operation, Use, Value, ValueDef, ValueId,
    ValueRef,
};
use crate::source_map::FunctionSpans;
use crate::types::{DType, Type};

/// The kind an erased op is left with; no MIL op can be spelled so.
const ERASED: &str = "#erased";

/// Use lists longer than this get an index of their entries' positions the second time a use is
/// taken out of them, so that editing the readers of a value read everywhere stays linear (and one
/// edit, as a keystroke makes, scans the list once rather than indexing it).
const LONG_USE_LIST: usize = 32;

/// Ops that change state, which erasing dead code keeps even when nothing reads their results.
const SIDE_EFFECTS: [&str; 2] = ["write_state", "coreml_update_state"];

/// Names one rewrite (`tan-to-sin-cos`), recorded as the provenance of the ops it makes; the
/// rewrites' own ids are constants ([`crate::rewrite_id`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RewriteId(pub &'static str);

impl fmt::Display for RewriteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Where an inserted op goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Right before this op, in its block.
    Before(OpId),
    /// Right after this op, in its block.
    After(OpId),
    /// At the end of this block.
    End(BlockId),
}

/// An operation to insert: its kind, arguments, attributes and results.
///
/// Result names and the op's name are bases: the editor makes them unique. The `name` attribute
/// is the editor's to set (from [`NewOp::named`], else the first result's name, else the kind).
#[derive(Clone, Debug)]
pub struct NewOp {
    kind: Name,
    opset: Option<Name>,
    args: Vec<Argument>,
    attributes: Vec<Attribute>,
    results: Vec<(Name, Type)>,
    name: Option<Name>,
    made_for: Option<OpId>,
}

impl NewOp {
    /// An op of `kind` with nothing else yet.
    pub fn new(kind: &str) -> NewOp {
        NewOp {
            kind: kind.into(),
            opset: None,
            args: Vec::new(),
            attributes: Vec::new(),
            results: Vec::new(),
            name: None,
            made_for: None,
        }
    }

    /// Pins the op to an opset (`kind<opset>(...)`).
    pub fn opset(mut self, opset: &str) -> NewOp {
        self.opset = Some(opset.into());
        self
    }

    /// Adds the argument `key = operand` (operands come from [`Editor::operand`] or are constants).
    pub fn arg(mut self, key: &str, operand: Operand) -> NewOp {
        self.args.push(Argument {
            key: Some(key.into()),
            value: operand,
        });
        self
    }

    /// Adds the attribute `key = value`; a `name` is taken as [`NewOp::named`].
    pub fn attr(mut self, key: &str, value: TypedValue) -> NewOp {
        match (key, value.as_str()) {
            ("name", Some(name)) => self.name = Some(name.into()),
            _ => self.attributes.push(Attribute {
                key: key.into(),
                value,
            }),
        }
        self
    }

    /// Adds a result of type `ty`, named `name` or, when that is taken, `name_<n>`.
    pub fn result(mut self, name: &str, ty: Type) -> NewOp {
        self.results.push((name.into(), ty));
        self
    }

    /// The base of the op's `name` attribute.
    pub fn named(mut self, name: &str) -> NewOp {
        self.name = Some(name.into());
        self
    }

    /// The op this one is made for, recorded as its provenance (by default the op it is placed
    /// next to, or the op it replaces).
    pub fn made_for(mut self, op: OpId) -> NewOp {
        self.made_for = Some(op);
        self
    }
}

/// Why an edit was refused (the function is left as it was).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditError {
    /// The op was erased, or never existed.
    NoSuchOp(OpId),
    /// The block belongs to an erased op, or never existed.
    NoSuchBlock(BlockId),
    /// An operand names a value that was erased or never existed.
    NoSuchValue(ValueId),
    /// An operand names a value without resolving it.
    Unresolved(Name),
    /// The op's result is still read.
    StillUsed {
        /// The op.
        op: OpId,
        /// Its result that is read.
        value: ValueId,
        /// How many places read it.
        uses: usize,
    },
    /// A replacement gives another number of values than the op has results.
    ResultCount {
        /// The op replaced.
        op: OpId,
        /// Its number of results.
        expected: usize,
        /// The number of values given.
        found: usize,
    },
    /// A value would replace itself.
    SelfReplacement(ValueId),
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::NoSuchOp(op) => write!(f, "op {} was erased or never existed", op.0),
            EditError::NoSuchBlock(b) => write!(f, "block {} was erased or never existed", b.0),
            EditError::NoSuchValue(v) => write!(f, "value {} was erased or never existed", v.0),
            EditError::Unresolved(name) => write!(f, "the operand `{name}` resolves to no value"),
            EditError::StillUsed { op, value, uses } => write!(
                f,
                "op {} cannot be erased: its result {} is read {uses} time(s)",
                op.0, value.0
            ),
            EditError::ResultCount { op, expected, found } => write!(
                f,
                "op {} has {expected} result(s) but {found} value(s) were given to replace them",
                op.0
            ),
            EditError::SelfReplacement(v) => write!(f, "value {} cannot replace itself", v.0),
        }
    }
}

impl std::error::Error for EditError {}

impl Operation {
    /// Whether the op was erased by an [`Editor`] (its arena slot is a tombstone).
    pub fn is_erased(&self) -> bool {
        self.kind == ERASED
    }
}

impl Function {
    /// An editor of this function (see the [module documentation](self)).
    pub fn edit(&mut self) -> Editor<'_> {
        Editor::new(self)
    }

    /// Erases op `op`, which has no nested blocks and was already taken out of its block, for a
    /// caller that keeps the names, the symbols and the uses of the op's results itself (the
    /// language server re-reading statements from their text, which knows which names an edit
    /// touched without reading all of them as an [`Editor`] does): the op's reads leave the use
    /// lists and its slot becomes a tombstone ([`Operation::is_erased`]).
    pub fn retire_op(&mut self, op: OpId) {
        let reads: Vec<(ValueId, Use)> = (self.op(op).operands())
            .filter_map(|(slot, r)| Some((r.id?, slot.of(op))))
            .collect();
        for (v, u) in reads {
            let uses = &mut self.values[v.index()].uses;
            if let Some(at) = uses.iter().position(|&x| x == u) {
                uses.remove(at);
            }
        }
        let o = &mut self.ops[op.index()];
        o.kind = ERASED.into();
        o.args.clear();
        o.attributes.clear();
    }
}

/// Edits one function, keeping its use lists, symbols, names and provenance consistent.
pub struct Editor<'f> {
    f: &'f mut Function,
    /// The source map and rewrite to record provenance in, when editing for a rewrite.
    provenance: Option<(&'f mut FunctionSpans, RewriteId)>,
    /// The function's names, read on the first edit that needs them.
    names: OnceCell<Names>,
    /// For long use lists uses were taken out of: where each use is in the list, once a second
    /// use was taken out (`None` after the first).
    use_positions: FxHashMap<ValueId, Option<FxHashMap<Use, u32>>>,
    /// Per stem, the next number [`Editor::numbered_op_name`] tries.
    next_number: FxHashMap<Name, usize>,
    /// How `name` attributes are spelled when set by [`Editor::spell_names_as_rank0`].
    rank0_names: Option<bool>,
}

/// The names of a function, counted.
struct Names {
    /// Live ops per `name` attribute.
    ops: FxHashMap<Name, u32>,
    /// Live values per SSA name.
    values: FxHashMap<Name, u32>,
    /// Whether the function spells `name` attributes `tensor<string, []>(...)` (program 1.0).
    rank0: bool,
}

impl Names {
    /// Reads the names of `f`: one pass over its ops and values.
    fn read(f: &Function) -> Names {
        let mut names = Names {
            ops: FxHashMap::default(),
            values: FxHashMap::default(),
            rank0: false,
        };
        for op in f.walk_ops() {
            if let Some(v) = f.op(op).attribute("name") {
                names.rank0 |=
                    matches!(&v.ty, Type::Tensor { dtype: DType::String, shape } if shape.is_empty());
                if let Some(name) = v.as_str() {
                    *names.ops.entry(name.into()).or_insert(0) += 1;
                }
            }
        }
        for (i, v) in f.values.iter().enumerate() {
            if is_live_value(f, ValueId(i as u32)) {
                *names.values.entry(v.name.clone()).or_insert(0) += 1;
            }
        }
        names
    }
}

impl<'f> Editor<'f> {
    /// An editor of `f`. Making one costs nothing; the first edit that names something (or
    /// erases a definition) reads the function's names, in one pass.
    pub fn new(f: &'f mut Function) -> Editor<'f> {
        Editor {
            f,
            provenance: None,
            names: OnceCell::new(),
            use_positions: FxHashMap::default(),
            next_number: FxHashMap::default(),
            rank0_names: None,
        }
    }

    fn names(&self) -> &Names {
        self.names.get_or_init(|| Names::read(self.f))
    }

    fn names_mut(&mut self) -> &mut Names {
        self.names();
        self.names.get_mut().expect("read just now")
    }

    /// Records every op made from now on as made by `rewrite`, in `spans`.
    pub fn rewriting(mut self, spans: &'f mut FunctionSpans, rewrite: RewriteId) -> Editor<'f> {
        self.provenance = Some((spans, rewrite));
        self
    }

    /// Spells `name` attributes made from now on as `tensor<string, []>(...)` (`rank0`) or
    /// `string(...)`; by default as the function already spells them.
    pub fn spell_names_as_rank0(&mut self, rank0: bool) {
        self.rank0_names = Some(rank0);
    }

    /// The function being edited.
    pub fn function(&self) -> &Function {
        self.f
    }

    /// Value `v` as an operand.
    pub fn operand(&self, v: ValueId) -> Operand {
        Operand::Value(ValueRef {
            name: self.f.value(v).name.clone(),
            id: Some(v),
        })
    }

    /// Whether `op` exists and is not erased.
    pub fn is_live(&self, op: OpId) -> bool {
        self.f.ops.get(op.index()).is_some_and(|o| !o.is_erased())
    }

    /// `base` if no value or op of the function is called so, else the first free `base_<n>`.
    pub fn fresh_value_name(&self, base: &str) -> Name {
        let names = self.names();
        self.first_free(base, |n| {
            names.values.contains_key(n) || names.ops.contains_key(n)
        })
    }

    /// `base` if no op of the function has that `name`, else the first free `base_<n>`.
    pub fn fresh_op_name(&self, base: &str) -> Name {
        let names = self.names();
        self.first_free(base, |n| names.ops.contains_key(n))
    }

    /// The first `stem_<n>` no op has as its `name`, counting up from where the last call for
    /// `stem` stopped (from 0), so that numbering many ops stays linear.
    pub fn numbered_op_name(&mut self, stem: &str) -> Name {
        let mut n = self.next_number.get(stem).copied().unwrap_or(0);
        let name = loop {
            let candidate: Name = format!("{stem}_{n}").into();
            if !self.names().ops.contains_key(&candidate) {
                break candidate;
            }
            n += 1;
        };
        self.next_number.insert(stem.into(), n + 1);
        name
    }

    fn first_free(&self, base: &str, taken: impl Fn(&str) -> bool) -> Name {
        if !taken(base) {
            return base.into();
        }
        (1..)
            .map(|n| Name::from(format!("{base}_{n}")))
            .find(|c| !taken(c))
            .expect("some number is free")
    }

    /// Inserts `op` at `place` and returns its id; its results are its values.
    pub fn insert(&mut self, place: Place, op: NewOp) -> Result<OpId, EditError> {
        let (block, index) = self.position(place)?;
        for a in &op.args {
            for (_, r) in a.value.values() {
                self.check_operand(r)?;
            }
        }
        let id = OpId(self.f.ops.len() as u32);
        let results: crate::program::Results = op
            .results
            .iter()
            .enumerate()
            .map(|(i, (base, ty))| self.define(base, ty.clone(), ValueDef::Result(id, i as u32)))
            .collect();
        let base = op
            .name
            .or_else(|| results.first().map(|&r| self.f.value(r).name.clone()));
        let name = self.fresh_op_name(base.as_deref().unwrap_or(&op.kind));
        let mut attributes = op.attributes;
        let at = attributes
            .iter()
            .position(|a| a.key.as_str() > "name")
            .unwrap_or(attributes.len());
        attributes.insert(at, self.name_attribute(&name));
        *self.names_mut().ops.entry(name).or_insert(0) += 1;
        let mut args = op.args;
        for a in &mut args {
            for (_, r) in a.value.values_mut() {
                r.name = self.f.value(r.id.expect("checked")).name.clone();
            }
        }
        self.f.push_op(Operation {
            opset: op.opset,
            ..Operation::new(op.kind, args, attributes, results, block)
        });
        self.f.blocks[block.index()].ops.insert(index, id);
        self.add_uses(id);
        let anchor = match place {
            Place::Before(a) | Place::After(a) => Some(a),
            Place::End(_) => None,
        };
        if let (Some((spans, rewrite)), Some(from)) = (&mut self.provenance, op.made_for.or(anchor)) {
            spans.record_rewrite(id, from, *rewrite);
        }
        Ok(id)
    }

    /// Replaces `old` by `new`, placed where `old` was: every use of a result of `old` becomes a
    /// use of the same result of `new`. Returns the new op.
    pub fn replace(&mut self, old: OpId, new: NewOp) -> Result<OpId, EditError> {
        self.live(old)?;
        let (expected, found) = (self.f.op(old).results.len(), new.results.len());
        if expected != found {
            return Err(EditError::ResultCount {
                op: old,
                expected,
                found,
            });
        }
        let new = new.made_for(old);
        let id = self.insert(Place::Before(old), new)?;
        let results = self.f.op(id).results.clone();
        self.replace_op_with(old, &results)?;
        Ok(id)
    }

    /// Replaces `old` by values already in the function (made by ops inserted before it, say):
    /// every use of its result `i` becomes a use of `values[i]`, then `old` is erased.
    ///
    /// Function outputs keep their names (see [`Editor::replace_all_uses`]). The values must not
    /// read `old`'s results.
    pub fn replace_op_with(&mut self, old: OpId, values: &[ValueId]) -> Result<(), EditError> {
        self.live(old)?;
        let results = self.f.op(old).results.clone();
        if results.len() != values.len() {
            let (expected, found) = (results.len(), values.len());
            return Err(EditError::ResultCount {
                op: old,
                expected,
                found,
            });
        }
        for (&r, &v) in results.iter().zip(values) {
            self.live_value(v)?;
            if r == v {
                return Err(EditError::SelfReplacement(v));
            }
        }
        for (&r, &v) in results.iter().zip(values) {
            self.substitute(r, v, |_| true);
        }
        self.erase_unchecked(old);
        Ok(())
    }

    /// Makes every use of `from` a use of `to`; returns how many there were.
    ///
    /// A function output keeps its name, as it is the model's interface: when `from` is one of
    /// the function's outputs and `to`, an op's result, is not, the two swap names (`from` takes
    /// a fresh one), unless another value of the function is also called as `from` is.
    pub fn replace_all_uses(&mut self, from: ValueId, to: ValueId) -> Result<usize, EditError> {
        self.replace_uses_except(from, to, None)
    }

    /// Makes the uses of `from` that `keep` accepts uses of `to` (the function's outputs alone,
    /// say, or the readers that are not casts); returns how many. Function outputs keep their
    /// names as with [`Editor::replace_all_uses`].
    pub fn replace_uses_where(
        &mut self,
        from: ValueId,
        to: ValueId,
        keep: impl Fn(Use) -> bool,
    ) -> Result<usize, EditError> {
        self.live_value(from)?;
        self.live_value(to)?;
        if from == to {
            return Err(EditError::SelfReplacement(from));
        }
        Ok(self.substitute(from, to, keep))
    }

    /// Declares the function's parameter `index` of type `ty`: a change of the function's
    /// interface, whose readers are the caller's to keep well typed (a cast inserted after it).
    pub fn set_param_type(&mut self, index: usize, ty: Type) -> Result<(), EditError> {
        let &param = self
            .f
            .params
            .get(index)
            .ok_or(EditError::NoSuchValue(ValueId(index as u32)))?;
        self.f.values[param.index()].ty = ty;
        Ok(())
    }

    /// Makes every use of `from` a use of `to`, except those by op `except` (the op that computes
    /// `to` from `from`, such as a cast inserted after `from`'s definition); returns how many.
    pub fn replace_uses_except(
        &mut self,
        from: ValueId,
        to: ValueId,
        except: Option<OpId>,
    ) -> Result<usize, EditError> {
        self.live_value(from)?;
        self.live_value(to)?;
        if from == to {
            return Err(EditError::SelfReplacement(from));
        }
        Ok(self.substitute(
            from,
            to,
            |u| !matches!((u, except), (Use::Operand { op, .. }, Some(e)) if op == e),
        ))
    }

    /// Erases `op`, which must be live and have no read result; its nested blocks go with it.
    pub fn erase(&mut self, op: OpId) -> Result<(), EditError> {
        self.live(op)?;
        for &value in &self.f.op(op).results {
            let uses = self.f.value(value).uses.len();
            if uses > 0 {
                return Err(EditError::StillUsed { op, value, uses });
            }
        }
        self.erase_unchecked(op);
        Ok(())
    }

    /// Erases every op whose results nobody reads and which changes no state, and then those
    /// that only such ops read; returns how many were erased. Ops with nested blocks or without
    /// results are kept.
    pub fn erase_dead_ops(&mut self) -> usize {
        let mut work = self.f.walk_ops();
        let mut erased = 0;
        while let Some(op) = work.pop() {
            if !self.is_live(op) || !self.is_dead(op) {
                continue;
            }
            work.extend(
                self.f
                    .op(op)
                    .operands()
                    .filter_map(|(_, r)| match self.f.value(r.id?).def {
                        ValueDef::Result(def, _) => Some(def),
                        ValueDef::Param(_) | ValueDef::BlockParam(..) => None,
                    }),
            );
            self.erase_unchecked(op);
            erased += 1;
        }
        erased
    }

    /// Changes the arguments of `op` with `change` (reorder them, rename keys, bind other values);
    /// refused, with nothing changed, if an argument then names an erased value. A reference left
    /// unresolved (a name the parser found no definition for) stays so.
    pub fn edit_args(&mut self, op: OpId, change: impl FnOnce(&mut Vec<Argument>)) -> Result<(), EditError> {
        self.live(op)?;
        let mut args = self.f.op(op).args.clone();
        change(&mut args);
        for a in &args {
            for (_, r) in a.value.values() {
                if r.id.is_some() {
                    self.check_operand(r)?;
                }
            }
        }
        self.remove_uses(op);
        for a in &mut args {
            for (_, r) in a.value.values_mut() {
                if let Some(v) = r.id {
                    r.name = self.f.value(v).name.clone();
                }
            }
        }
        self.f.ops[op.index()].args = args;
        self.add_uses(op);
        Ok(())
    }

    /// Changes the attributes of `op` with `change`. Its `name` is the caller's to keep unique
    /// ([`Editor::fresh_op_name`]); [`Editor::set_op_name`] does that.
    pub fn edit_attributes(
        &mut self,
        op: OpId,
        change: impl FnOnce(&mut Vec<Attribute>),
    ) -> Result<(), EditError> {
        self.live(op)?;
        self.count_op_name(op, -1);
        change(&mut self.f.ops[op.index()].attributes);
        self.count_op_name(op, 1);
        Ok(())
    }

    /// Names `op` `base`, or `base_<n>` if another op is called so; returns the name given.
    pub fn set_op_name(&mut self, op: OpId, base: &str) -> Result<Name, EditError> {
        self.rename_op(op, |e| e.fresh_op_name(base))
    }

    /// Names `op` `stem_<n>` with [`Editor::numbered_op_name`]; returns the name given.
    pub fn set_numbered_op_name(&mut self, op: OpId, stem: &str) -> Result<Name, EditError> {
        self.rename_op(op, |e| e.numbered_op_name(stem))
    }

    /// Names `op` what `make` picks once its current name is free.
    fn rename_op(&mut self, op: OpId, make: impl FnOnce(&mut Self) -> Name) -> Result<Name, EditError> {
        self.live(op)?;
        self.count_op_name(op, -1);
        let name = make(self);
        self.put_op_name(op, &name);
        Ok(name)
    }

    fn put_op_name(&mut self, op: OpId, name: &Name) {
        let value = self.name_attribute(name);
        let attributes = &mut self.f.ops[op.index()].attributes;
        match attributes.iter_mut().find(|a| a.key == "name") {
            Some(a) => *a = value,
            None => attributes.push(value),
        }
        *self.names_mut().ops.entry(name.clone()).or_insert(0) += 1;
    }

    /// Adds `delta` to the count of `op`'s current name.
    fn count_op_name(&mut self, op: OpId, delta: i32) {
        let Some(name) = self.f.op(op).name() else { return };
        let name = Name::from(name);
        let ops = &mut self.names_mut().ops;
        let count = ops.entry(name.clone()).or_insert(0);
        *count = count.saturating_add_signed(delta);
        if *count == 0 {
            ops.remove(&name);
        }
    }

    fn name_attribute(&self, name: &str) -> Attribute {
        let value = if self.rank0_names.unwrap_or_else(|| self.names().rank0) {
            TypedValue {
                ty: Type::tensor(DType::String, &[]),
                data: ConstData::Tensor(Elements::Str(vec![name.to_owned()])),
            }
        } else {
            TypedValue::string(name)
        };
        Attribute {
            key: "name".into(),
            value,
        }
    }

    /// Whether erasing dead code may erase live op `op`.
    fn is_dead(&self, op: OpId) -> bool {
        let o = self.f.op(op);
        !o.results.is_empty()
            && o.blocks.is_empty()
            && !SIDE_EFFECTS.contains(&o.kind.as_str())
            && o.results.iter().all(|&r| self.f.value(r).uses.is_empty())
    }

    /// The block and index in it where `place` is.
    fn position(&self, place: Place) -> Result<(BlockId, usize), EditError> {
        let next_to = |op: OpId, after: usize| {
            self.live(op)?;
            let block = self.f.op(op).parent;
            let index = self
                .f
                .block(block)
                .ops
                .iter()
                .position(|&o| o == op)
                .ok_or(EditError::NoSuchOp(op))?;
            Ok((block, index + after))
        };
        match place {
            Place::Before(op) => next_to(op, 0),
            Place::After(op) => next_to(op, 1),
            Place::End(block) => {
                if !is_live_block(self.f, block) {
                    return Err(EditError::NoSuchBlock(block));
                }
                Ok((block, self.f.block(block).ops.len()))
            }
        }
    }

    fn live(&self, op: OpId) -> Result<(), EditError> {
        if self.is_live(op) {
            Ok(())
        } else {
            Err(EditError::NoSuchOp(op))
        }
    }

    fn live_value(&self, v: ValueId) -> Result<(), EditError> {
        if is_live_value(self.f, v) {
            Ok(())
        } else {
            Err(EditError::NoSuchValue(v))
        }
    }

    fn check_operand(&self, r: &ValueRef) -> Result<(), EditError> {
        self.live_value(r.id.ok_or_else(|| EditError::Unresolved(r.name.clone()))?)
    }

    /// Adds a value named after `base`, made unique, to the arena and the symbols.
    fn define(&mut self, base: &str, ty: Type, def: ValueDef) -> ValueId {
        let name = self.fresh_value_name(base);
        let id = self.f.push_value(Value {
            name: name.clone(),
            ty,
            def,
            uses: Vec::new(),
        });
        self.f.symbols.insert(name.clone(), id);
        self.names_mut().values.insert(name, 1);
        id
    }

    /// The values `op`'s operands read, with the use each read is.
    fn operand_uses(&self, op: OpId) -> Vec<(ValueId, Use)> {
        let o = self.f.op(op);
        o.operands()
            .filter_map(|(slot, r)| Some((r.id?, slot.of(op))))
            .collect()
    }

    /// Lists the uses by `op`'s operands in the use lists of the values they read.
    fn add_uses(&mut self, op: OpId) {
        for (v, u) in self.operand_uses(op) {
            self.push_use(v, u);
        }
    }

    /// Takes the uses by `op`'s operands out of the use lists of the values they read.
    fn remove_uses(&mut self, op: OpId) {
        for (v, u) in self.operand_uses(op) {
            self.remove_use(v, u);
        }
    }

    fn push_use(&mut self, v: ValueId, u: Use) {
        let uses = &mut self.f.values[v.index()].uses;
        if let Some(Some(positions)) = self.use_positions.get_mut(&v) {
            positions.insert(u, uses.len() as u32);
        }
        uses.push(u);
    }

    /// Takes `u` out of `v`'s use list, through the list's index when it is long.
    fn remove_use(&mut self, v: ValueId, u: Use) {
        let uses = &mut self.f.values[v.index()].uses;
        let at = match self.use_positions.get_mut(&v) {
            Some(Some(positions)) => positions.remove(&u).map(|i| i as usize),
            Some(slot @ None) => {
                let mut positions: FxHashMap<Use, u32> =
                    uses.iter().enumerate().map(|(i, &x)| (x, i as u32)).collect();
                let at = positions.remove(&u).map(|i| i as usize);
                *slot = Some(positions);
                at
            }
            None => {
                if uses.len() > LONG_USE_LIST {
                    self.use_positions.insert(v, None);
                }
                uses.iter().position(|&x| x == u)
            }
        };
        let Some(at) = at else { return };
        uses.swap_remove(at);
        if let (Some(Some(p)), Some(&moved)) = (self.use_positions.get_mut(&v), uses.get(at)) {
            p.insert(moved, at as u32);
        }
    }

    /// Replaces `v`'s use list, dropping its index.
    fn set_uses(&mut self, v: ValueId, uses: Vec<Use>) {
        self.use_positions.remove(&v);
        self.f.values[v.index()].uses = uses;
    }

    /// Moves the uses of `from` that `keep` accepts to `to`, keeping the function's output names;
    /// returns how many moved.
    fn substitute(&mut self, from: ValueId, to: ValueId, keep: impl Fn(Use) -> bool) -> usize {
        let body = self.f.body;
        let is_output = |f: &Function, v: ValueId| {
            f.value(v)
                .uses
                .iter()
                .any(|u| matches!(u, Use::Output { block, .. } if *block == body))
        };
        let swap_names = is_output(self.f, from)
            && !is_output(self.f, to)
            && matches!(self.f.value(to).def, ValueDef::Result(..))
            && self.names().values.get(&self.f.value(from).name) == Some(&1);
        let moved = self.move_uses(from, to, keep);
        if swap_names && is_output(self.f, to) {
            let name = self.f.value(from).name.clone();
            let fresh = self.fresh_value_name(&name);
            self.rename_value(from, &fresh);
            self.rename_value(to, &name);
        }
        moved
    }

    /// Moves the uses of `from` that `keep` accepts to `to`; returns how many moved.
    fn move_uses(&mut self, from: ValueId, to: ValueId, keep: impl Fn(Use) -> bool) -> usize {
        let uses = std::mem::take(&mut self.f.values[from.index()].uses);
        let (moved, stay): (Vec<Use>, Vec<Use>) = uses.into_iter().partition(|&u| keep(u));
        let mut to_uses = std::mem::take(&mut self.f.values[to.index()].uses);
        to_uses.extend_from_slice(&moved);
        let name = self.f.value(to).name.clone();
        for &u in &moved {
            if let Some(r) = self.reference_at(u) {
                *r = ValueRef {
                    name: name.clone(),
                    id: Some(to),
                };
            }
        }
        self.set_uses(from, stay);
        self.set_uses(to, to_uses);
        moved.len()
    }

    /// The reference written at use `u`.
    fn reference_at(&mut self, u: Use) -> Option<&mut ValueRef> {
        match u {
            Use::Operand { op, arg, item } => {
                let operand = &mut self.f.ops[op.index()].args.get_mut(arg as usize)?.value;
                operand.value_at_mut(item)
            }
            Use::Output { block, index } => self.f.blocks[block.index()].outputs.get_mut(index as usize),
        }
    }

    /// Gives live value `v` the free name `name`, in its definition, every reference to it and
    /// the symbols.
    fn rename_value(&mut self, v: ValueId, name: &Name) {
        self.forget_name(v);
        self.f.values[v.index()].name = name.clone();
        self.names_mut().values.insert(name.clone(), 1);
        self.f.symbols.insert(name.clone(), v);
        for u in self.f.value(v).uses.clone() {
            if let Some(r) = self.reference_at(u) {
                r.name = name.clone();
            }
        }
    }

    /// Erases `op` and what is nested in it, whoever reads its results.
    fn erase_unchecked(&mut self, op: OpId) {
        let block = self.f.op(op).parent;
        let ops = &mut self.f.blocks[block.index()].ops;
        if let Some(i) = ops.iter().position(|&o| o == op) {
            ops.remove(i);
        }
        self.tombstone(op);
    }

    /// Removes what `op` (already out of its block) reads and defines, nested blocks included.
    fn tombstone(&mut self, op: OpId) {
        self.remove_uses(op);
        for block in self.f.op(op).blocks.clone() {
            let outputs: Vec<(ValueId, Use)> = (self.f.block(block).outputs.iter().enumerate())
                .filter_map(|(index, r)| {
                    let index = index as u32;
                    Some((r.id?, Use::Output { block, index }))
                })
                .collect();
            for (v, u) in outputs {
                self.remove_use(v, u);
            }
            for nested in self.f.block(block).ops.clone() {
                self.tombstone(nested);
            }
            for p in self.f.block(block).params.clone() {
                self.forget_value(p);
            }
        }
        for r in self.f.op(op).results.clone() {
            self.forget_value(r);
        }
        self.count_op_name(op, -1);
        let o = &mut self.f.ops[op.index()];
        o.kind = ERASED.into();
        o.args.clear();
        o.attributes.clear();
    }

    /// Removes dead value `v` from the names and the symbols.
    fn forget_value(&mut self, v: ValueId) {
        self.forget_name(v);
        let uses = std::mem::take(&mut self.f.values[v.index()].uses);
        self.set_uses(v, Vec::new());
        for u in uses {
            if let Some(r) = self.reference_at(u) {
                r.id = None;
            }
        }
    }

    /// Takes `v`'s name out of the names and the symbols, where the next live value of that name
    /// (in arena order) takes its place.
    fn forget_name(&mut self, v: ValueId) {
        let name = self.f.value(v).name.clone();
        let values = &mut self.names_mut().values;
        let left = match values.get_mut(&name) {
            Some(count) => {
                *count -= 1;
                *count
            }
            None => 0,
        };
        if left == 0 {
            values.remove(&name);
        }
        if self.f.symbols.get(&name) != Some(&v) {
            return;
        }
        self.f.symbols.remove(&name);
        if left > 0 {
            let next = (0..self.f.values.len() as u32)
                .map(ValueId)
                .find(|&w| w != v && self.f.value(w).name == name && is_live_value(self.f, w));
            if let Some(w) = next {
                self.f.symbols.insert(name, w);
            }
        }
    }
}

/// Whether `v` exists and its definition is not erased.
fn is_live_value(f: &Function, v: ValueId) -> bool {
    let Some(value) = f.values.get(v.index()) else {
        return false;
    };
    match value.def {
        ValueDef::Param(_) => true,
        ValueDef::Result(op, _) => !f.op(op).is_erased(),
        ValueDef::BlockParam(block, _) => is_live_block(f, block),
    }
}

/// Whether `block` exists and is not nested in an erased op.
fn is_live_block(f: &Function, block: BlockId) -> bool {
    match f.blocks.get(block.index()) {
        Some(b) => b.parent.is_none_or(|op| !f.op(op).is_erased()),
        None => false,
    }
}
