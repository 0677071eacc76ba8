//! Programs, functions, blocks, operations and values.
//!
//! Each function owns three arenas (values, operations, blocks) indexed by stable ids. Nodes hold
//! meaning only; where each came from in the source is kept apart, in [`crate::SourceMap`], so that
//! programs built by a rewrite or read from a package are the same kind of thing as parsed ones and
//! two programs compare equal when they mean the same.

use crate::constant::TypedValue;
use crate::types::Type;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

/// Whether `name` can be written in MIL text as a name: `[A-Za-z_][A-Za-z0-9_]*`, other than the
/// keyword `BLOBFILE`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "BLOBFILE"
}

/// A short name held inline up to 24 bytes (SSA names, op kinds, argument and attribute keys), so
/// that reading one is not a trip to another heap block and making one is not an allocation.
pub type Name = compact_str::CompactString;

/// An operation's results: nearly every op has one, which is held inline.
pub type Results = SmallVec<[ValueId; 1]>;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            /// The arena index.
            pub fn index(self) -> usize { self.0 as usize }
        }
    };
}

id!(
    /// A value of a function (parameter, block parameter or op result).
    ValueId
);
id!(
    /// An operation of a function.
    OpId
);
id!(
    /// A block of a function (the body or a nested block of a control-flow op).
    BlockId
);

/// A whole MIL program: `program(1.0) [attrs] { func ... }`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    /// The version as written (`1.0`, `1.3`).
    pub version: String,
    /// Program attributes (`buildInfo`).
    pub attributes: Vec<Attribute>,
    /// The functions, in order.
    pub functions: Vec<Function>,
    /// `//` comments before `program` (hand-written files).
    pub comments: Vec<String>,
}

impl Program {
    /// The function called `name`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }
}

/// `key = typed_value` in an attribute block.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// The key.
    pub key: Name,
    /// The value.
    pub value: TypedValue,
}

/// Finds the attribute `key` in a list.
pub fn attribute<'a>(attrs: &'a [Attribute], key: &str) -> Option<&'a TypedValue> {
    attrs.iter().find(|a| a.key == key).map(|a| &a.value)
}

/// `func NAME<OPSET>(params) [attrs] { ... } -> (outputs);`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Function {
    /// The function's name (`main`).
    pub name: String,
    /// The opset the function is written against (`ios17`).
    pub opset: String,
    /// Parameters, in order.
    pub params: Vec<ValueId>,
    /// Function attributes (`FlexibleShapeInformation`, analytics launch costs).
    pub attributes: Vec<Attribute>,
    /// The body.
    pub body: BlockId,
    /// Value arena.
    pub values: Vec<Value>,
    /// Operation arena.
    pub ops: Vec<Operation>,
    /// Block arena.
    pub blocks: Vec<Block>,
    /// SSA variable name → its (first) definition.
    pub symbols: FxHashMap<Name, ValueId>,
    /// `//` comments before `func`.
    pub comments: Vec<String>,
}

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueDef {
    /// The function's parameter at this index.
    Param(u32),
    /// Parameter `index` of a nested block.
    BlockParam(BlockId, u32),
    /// Result `index` of an operation.
    Result(OpId, u32),
}

/// A place a value is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Use {
    /// Argument `arg` of `op`; `item` is the position inside a tuple argument.
    Operand {
        /// The using operation.
        op: OpId,
        /// Index into its arguments.
        arg: u32,
        /// Index into a tuple argument.
        item: Option<u32>,
    },
    /// Output `index` of a block (the function's return list for the body).
    Output {
        /// The block.
        block: BlockId,
        /// Index into its outputs.
        index: u32,
    },
}

/// An SSA value.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// The SSA variable name (not the op's `name` attribute).
    pub name: Name,
    /// The declared type.
    pub ty: Type,
    /// Its definition.
    pub def: ValueDef,
    /// Every use.
    pub uses: Vec<Use>,
}

/// A reference to a value by name; `id` is `None` when no definition was found.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueRef {
    /// The name as written.
    pub name: Name,
    /// The definition it resolves to.
    pub id: Option<ValueId>,
}

/// What an argument binds an input to.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A value by name.
    Value(ValueRef),
    /// An inline constant.
    Const(TypedValue),
    /// A tuple, for variadic inputs: `values = (a, b)`.
    Tuple(Vec<Operand>),
}

impl Operand {
    /// The values this operand reads: itself when it is a value, each value item of a tuple with
    /// its index, nothing for a constant.
    pub fn values(&self) -> impl Iterator<Item = (Option<u32>, &ValueRef)> {
        let (plain, items) = match self {
            Operand::Value(r) => (Some(r), &[][..]),
            Operand::Tuple(items) => (None, &items[..]),
            Operand::Const(_) => (None, &[][..]),
        };
        let items = items.iter().enumerate().filter_map(|(i, o)| match o {
            Operand::Value(r) => Some((Some(i as u32), r)),
            Operand::Const(_) | Operand::Tuple(_) => None,
        });
        plain.map(|r| (None, r)).into_iter().chain(items)
    }

    /// The reference this operand holds at `item` (itself for `None`, a tuple item for `Some`),
    /// when that is a value.
    pub fn value_at_mut(&mut self, item: Option<u32>) -> Option<&mut ValueRef> {
        let operand = match (self, item) {
            (Operand::Tuple(items), Some(i)) => items.get_mut(i as usize)?,
            (o, None) => o,
            (_, Some(_)) => return None,
        };
        match operand {
            Operand::Value(r) => Some(r),
            Operand::Const(_) | Operand::Tuple(_) => None,
        }
    }

    /// [`Operand::values`], each reference open to change.
    pub fn values_mut(&mut self) -> impl Iterator<Item = (Option<u32>, &mut ValueRef)> {
        let (plain, items) = match self {
            Operand::Value(r) => (Some(r), &mut [][..]),
            Operand::Tuple(items) => (None, &mut items[..]),
            Operand::Const(_) => (None, &mut [][..]),
        };
        let items = items.iter_mut().enumerate().filter_map(|(i, o)| match o {
            Operand::Value(r) => Some((Some(i as u32), r)),
            Operand::Const(_) | Operand::Tuple(_) => None,
        });
        plain.map(|r| (None, r)).into_iter().chain(items)
    }
}

/// Where an operation reads a value: argument `arg`, and `item` inside it when it is a tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    /// Index into the op's arguments.
    pub arg: u32,
    /// Index into a tuple argument.
    pub item: Option<u32>,
}

impl Slot {
    /// The use this slot is in operation `op`.
    pub fn of(self, op: OpId) -> Use {
        Use::Operand {
            op,
            arg: self.arg,
            item: self.item,
        }
    }
}

/// `key = operand`; the key is `None` for a positional argument (hand-written files).
#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    /// The input name.
    pub key: Option<Name>,
    /// What it is bound to.
    pub value: Operand,
}

/// One statement: `outputs = kind<opset>(args)[attrs] blocks;`.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// The op type (`conv`, `const`).
    pub kind: Name,
    /// An opset pinned on the op (`tensor_buffer_to_tensor<ios17>`).
    pub opset: Option<Name>,
    /// Arguments in order.
    pub args: Vec<Argument>,
    /// Attributes in order (`name`, `val`, analytics data).
    pub attributes: Vec<Attribute>,
    /// Results in order.
    pub results: Results,
    /// Nested blocks (control-flow ops).
    pub blocks: Vec<BlockId>,
    /// The block holding the op.
    pub parent: BlockId,
    /// `//` comments before the statement.
    pub comments: Vec<String>,
}

impl Operation {
    /// An op of `kind` in block `parent`, without a pinned opset, nested blocks or comments.
    pub fn new(
        kind: Name,
        args: Vec<Argument>,
        attributes: Vec<Attribute>,
        results: Results,
        parent: BlockId,
    ) -> Self {
        Operation {
            kind,
            opset: None,
            args,
            attributes,
            results,
            blocks: Vec::new(),
            parent,
            comments: Vec::new(),
        }
    }

    /// The argument bound to input `key`.
    pub fn arg(&self, key: &str) -> Option<&Operand> {
        self.args
            .iter()
            .find(|a| a.key.as_deref() == Some(key))
            .map(|a| &a.value)
    }

    /// The attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&TypedValue> {
        attribute(&self.attributes, key)
    }

    /// The op's `name` attribute.
    pub fn name(&self) -> Option<&str> {
        self.attribute("name")?.as_str()
    }

    /// Every value the op reads through its arguments, plain or as a tuple item, with where it is
    /// read (resolved or not), in argument order.
    pub fn operands(&self) -> impl Iterator<Item = (Slot, &ValueRef)> {
        self.args.iter().enumerate().flat_map(|(arg, a)| {
            a.value.values().map(move |(item, r)| {
                (
                    Slot {
                        arg: arg as u32,
                        item,
                    },
                    r,
                )
            })
        })
    }

    /// [`Operation::operands`], each reference open to change (its use lists are then the
    /// caller's to keep; [`crate::mutate::Editor`] does).
    pub fn operands_mut(&mut self) -> impl Iterator<Item = (Slot, &mut ValueRef)> {
        self.args.iter_mut().enumerate().flat_map(|(arg, a)| {
            a.value.values_mut().map(move |(item, r)| {
                (
                    Slot {
                        arg: arg as u32,
                        item,
                    },
                    r,
                )
            })
        })
    }

    /// Whether the op is one of those with which Core ML's runtime wraps a program's inputs and
    /// outputs in its analytics files (which it writes without a name).
    pub fn is_runtime_boundary(&self) -> bool {
        is_runtime_boundary(&self.kind)
    }
}

/// Whether `kind` is one of the runtime's input/output wrapper ops (`tensor_buffer_to_tensor`,
/// `tensor_to_tensor_buffer`).
pub fn is_runtime_boundary(kind: &str) -> bool {
    matches!(kind, "tensor_buffer_to_tensor" | "tensor_to_tensor_buffer")
}

/// A sequence of operations with its outputs: a function body or a nested block.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Block {
    /// Block parameters (loop variables of `while_loop`); empty for a function body.
    pub params: Vec<ValueId>,
    /// Operations in order.
    pub ops: Vec<OpId>,
    /// The values the block returns.
    pub outputs: Vec<ValueRef>,
    /// The op owning a nested block; `None` for a function body.
    pub parent: Option<OpId>,
    /// `//` comments after the last statement.
    pub trailing_comments: Vec<String>,
}

impl Function {
    /// The value `id`.
    pub fn value(&self, id: ValueId) -> &Value {
        &self.values[id.index()]
    }

    /// The operation `id`.
    pub fn op(&self, id: OpId) -> &Operation {
        &self.ops[id.index()]
    }

    /// The block `id`.
    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.index()]
    }

    /// The value a name resolves to.
    pub fn lookup(&self, name: &str) -> Option<ValueId> {
        self.symbols.get(name).copied()
    }

    /// Adds a value to the arena (not to the symbol table).
    pub fn push_value(&mut self, value: Value) -> ValueId {
        self.values.push(value);
        ValueId(self.values.len() as u32 - 1)
    }

    /// Adds an operation to the arena (not to any block).
    pub fn push_op(&mut self, op: Operation) -> OpId {
        self.ops.push(op);
        OpId(self.ops.len() as u32 - 1)
    }

    /// Adds a block to the arena.
    pub fn push_block(&mut self, block: Block) -> BlockId {
        self.blocks.push(block);
        BlockId(self.blocks.len() as u32 - 1)
    }

    /// Every operation of the function in program order, nested blocks right after their op.
    pub fn walk_ops(&self) -> Vec<OpId> {
        let mut out = Vec::with_capacity(self.ops.len());
        let mut stack: Vec<(BlockId, usize)> = vec![(self.body, 0)];
        while let Some((block, i)) = stack.pop() {
            let Some(&op) = self.block(block).ops.get(i) else {
                continue;
            };
            out.push(op);
            stack.push((block, i + 1));
            for &b in self.op(op).blocks.iter().rev() {
                stack.push((b, 0));
            }
        }
        out
    }

    /// Recomputes every value's use list from the operands and block outputs. Each list is
    /// allocated once, at its length: the uses are counted first, then listed.
    pub fn recompute_uses(&mut self) {
        let order = self.walk_ops();
        let mut counts = vec![0usize; self.values.len()];
        each_use(&self.ops, &self.blocks, self.body, &order, |id, _| {
            counts[id.index()] += 1
        });
        for (v, n) in self.values.iter_mut().zip(counts) {
            v.uses = Vec::with_capacity(n);
        }
        let values = &mut self.values;
        each_use(&self.ops, &self.blocks, self.body, &order, |id, u| {
            values[id.index()].uses.push(u)
        });
    }
}

/// Calls `f` with every use of a resolved value, in the order use lists keep them: op by op in
/// `order` (program order), each op's operands and then the outputs of its nested blocks, and last
/// the outputs of the `body` block.
fn each_use(
    ops: &[Operation],
    blocks: &[Block],
    body: BlockId,
    order: &[OpId],
    mut f: impl FnMut(ValueId, Use),
) {
    fn outputs(blocks: &[Block], block: BlockId, f: &mut impl FnMut(ValueId, Use)) {
        for (index, r) in blocks[block.index()].outputs.iter().enumerate() {
            if let Some(id) = r.id {
                let index = index as u32;
                f(id, Use::Output { block, index });
            }
        }
    }
    for &op_id in order {
        let op = &ops[op_id.index()];
        for (slot, r) in op.operands() {
            if let Some(id) = r.id {
                f(id, slot.of(op_id));
            }
        }
        for &b in &op.blocks {
            outputs(blocks, b, &mut f);
        }
    }
    outputs(blocks, body, &mut f);
}
