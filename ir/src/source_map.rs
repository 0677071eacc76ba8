//! Where each part of a parsed program is in its source text.
//!
//! Kept beside the IR rather than inside it, indexed by the same ids, so that every editor
//! feature (diagnostics, hover, definition, references, rename) is answered from one table.

use crate::program::{BlockId, Function, OpId, Use, ValueId};
use crate::span::Span;

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
