//! Where each part of a parsed program is in its source text.
//!
//! Kept beside the IR rather than inside it, indexed by the same ids, so that every editor
//! feature (diagnostics, hover, definition, references, rename) is answered from one table.
//!
//! An op made by a rewrite has no text of its own: instead of spans it has a [`Provenance`] (the
//! rewrite and the op it stands for), and [`FunctionSpans::statement`] answers for it with the
//! statement it came from, so that a diagnostic on a rewritten op points at what the user wrote.

use crate::mutate::RewriteId;
use crate::program::{BlockId, Function, OpId, Use, ValueId};
use crate::span::Span;
use rustc_hash::FxHashMap;

/// The spans of a whole program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceMap {
    /// The whole program.
    pub program: Span,
    /// The version inside `program(...)`.
    pub version: Span,
    /// Program attributes.
    pub attributes: Vec<AttrSpans>,
    /// One entry per function, in order.
    pub functions: Vec<FunctionSpans>,
}

/// The spans of one function, indexed like its arenas.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunctionSpans {
    /// From `func` to the closing `;`.
    pub whole: Span,
    /// The name after `func`.
    pub name: Span,
    /// The opset inside `<...>`.
    pub opset: Span,
    /// Function attributes.
    pub attributes: Vec<AttrSpans>,
    /// By [`ValueId`]: where each value is defined.
    pub values: Vec<ValueSpans>,
    /// By [`OpId`].
    pub ops: Vec<OpSpans>,
    /// By [`BlockId`].
    pub blocks: Vec<BlockSpans>,
    /// The ops made by a rewrite, which have no spans of their own.
    pub provenance: FxHashMap<OpId, Provenance>,
}

/// Where an op made by a rewrite comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// The rewrite that made it.
    pub rewrite: RewriteId,
    /// The op it replaced or was made for (which may itself be gone since).
    pub replaced: OpId,
    /// The statement in the source text it comes from: the replaced op's, or, when that op was
    /// itself made by a rewrite, the statement that op came from.
    pub statement: Span,
}

/// Where a value is defined.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ValueSpans {
    /// The name in its definition.
    pub name: Span,
    /// The declared type.
    pub ty: Span,
}

/// The parts of a statement.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpSpans {
    /// The whole statement, outputs to `;`.
    pub whole: Span,
    /// The op type.
    pub kind: Span,
    /// The pinned opset, if any.
    pub opset: Option<Span>,
    /// Each argument.
    pub args: Vec<ArgSpans>,
    /// Each attribute.
    pub attributes: Vec<AttrSpans>,
    /// The `[...]` attribute block, if written.
    pub attribute_block: Option<Span>,
}

/// The parts of an argument.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArgSpans {
    /// `key = value`.
    pub whole: Span,
    /// The key, if written.
    pub key: Option<Span>,
    /// The value.
    pub value: Span,
    /// Each item of a tuple value.
    pub items: Vec<Span>,
}

/// The parts of an attribute.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AttrSpans {
    /// `key = value`.
    pub whole: Span,
    /// The key.
    pub key: Span,
    /// The typed value.
    pub value: Span,
    /// The type of the value.
    pub ty: Span,
}

/// The parts of a block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlockSpans {
    /// From the opening `{` (or block header) to the closing `)` of its outputs.
    pub whole: Span,
    /// Each name in `-> (...)`.
    pub outputs: Vec<Span>,
}

impl FunctionSpans {
    /// The statement `op` stands for in the text: its own, or for an op made by a rewrite, the
    /// statement of the op it came from.
    pub fn statement(&self, op: OpId) -> Option<Span> {
        match self.provenance.get(&op) {
            Some(p) => Some(p.statement),
            None => self.ops.get(op.index()).map(|s| s.whole),
        }
    }

    /// Records that `rewrite` made `op` for `replaced`.
    pub fn record_rewrite(&mut self, op: OpId, replaced: OpId, rewrite: RewriteId) {
        let statement = self.statement(replaced).unwrap_or_default();
        self.provenance.insert(
            op,
            Provenance {
                rewrite,
                replaced,
                statement,
            },
        );
    }

    /// Where a use of a value is written.
    pub fn use_span(&self, u: Use) -> Option<Span> {
        match u {
            Use::Operand { op, arg, item } => {
                let a = self.ops.get(op.index())?.args.get(arg as usize)?;
                match item {
                    Some(i) => a.items.get(i as usize).copied(),
                    None => Some(a.value),
                }
            }
            Use::Output { block, index } => self
                .blocks
                .get(block.index())?
                .outputs
                .get(index as usize)
                .copied(),
        }
    }

    /// The op whose statement contains `offset`, innermost first.
    pub fn op_at(&self, f: &Function, offset: u32) -> Option<OpId> {
        f.walk_ops()
            .into_iter()
            .rev()
            .find(|o| self.ops.get(o.index()).is_some_and(|s| s.whole.contains(offset)))
    }

    /// The value whose definition or one of whose uses covers `offset`.
    pub fn value_at(&self, f: &Function, offset: u32) -> Option<ValueId> {
        f.values.iter().enumerate().find_map(|(i, v)| {
            let id = ValueId(i as u32);
            let def = self.values.get(i).is_some_and(|s| s.name.contains(offset));
            let used = v
                .uses
                .iter()
                .any(|&u| self.use_span(u).is_some_and(|s| s.contains(offset)));
            (def || used).then_some(id)
        })
    }

    /// The span of a block.
    pub fn block(&self, id: BlockId) -> Option<&BlockSpans> {
        self.blocks.get(id.index())
    }
}
