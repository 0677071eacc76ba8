//! What is at an offset of a document: the question hover, definition, references, rename,
//! completion and signature help all start from. Answered from the source map by binary search
//! over each block's statements, so it costs the depth of nesting times log(statements).

use crate::model::Model;
use mil_ir::{BlockId, Function, FunctionSpans, OpId, Span, ValueDef, ValueId};

/// A thing found at an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// A value's name, where it is defined or used.
    Value {
        /// The value.
        id: ValueId,
        /// The occurrence.
        span: Span,
    },
    /// A name no definition was found for.
    Unresolved {
        /// The occurrence.
        span: Span,
    },
    /// An op's kind (`conv`).
    OpKind(OpId),
    /// The key of argument `arg` of `op`.
    ArgKey {
        /// The op.
        op: OpId,
        /// The argument's index.
        arg: usize,
    },
    /// Attribute `attr` of `op` (key or value).
    Attribute {
        /// The op.
        op: OpId,
        /// The attribute's index.
        attr: usize,
    },
    /// Elsewhere inside a statement (a literal argument, punctuation).
    Statement(OpId),
    /// The function's name.
    FunctionName,
}

/// Where an offset is: the function and what is there.
#[derive(Clone, Copy, Debug)]
pub struct Found {
    /// Index of the function.
    pub function: usize,
    /// What is at the offset, if anything named.
    pub hit: Option<Hit>,
}

/// The function, block, statement and named thing at `offset`.
pub fn at(m: &Model, offset: u32) -> Option<Found> {
    let function = m.map.functions.iter().position(|s| s.whole.contains(offset))?;
    let (f, spans) = (m.program.functions.get(function)?, &m.map.functions[function]);
    let (block, op) = innermost(f, spans, offset);
    let hit = block_output(f, spans, block, offset).or_else(|| match op {
        Some(op) => in_statement(f, spans, op, offset),
        None => in_header(f, spans, offset),
    });
    Some(Found { function, hit })
}

/// The function (its index) and the innermost statement containing `offset`.
pub fn statement_at(m: &Model, offset: u32) -> Option<(usize, OpId)> {
    let function = m.map.functions.iter().position(|s| s.whole.contains(offset))?;
    let (f, spans) = (m.program.functions.get(function)?, &m.map.functions[function]);
    Some((function, innermost(f, spans, offset).1?))
}

/// The innermost block and statement containing `offset`.
pub fn innermost(f: &Function, spans: &FunctionSpans, offset: u32) -> (BlockId, Option<OpId>) {
    let whole = |o: OpId| spans.ops.get(o.index()).map_or(Span::default(), |s| s.whole);
    let mut block = f.body;
    let mut found = None;
    while let Some(b) = f.blocks.get(block.index()) {
        let i = b.ops.partition_point(|&o| whole(o).start <= offset);
        let Some(&op) = i.checked_sub(1).and_then(|i| b.ops.get(i)) else {
            break;
        };
        if !whole(op).contains(offset) {
            break;
        }
        found = Some(op);
        let nested = f
            .op(op)
            .blocks
            .iter()
            .find(|b| spans.block(**b).is_some_and(|s| s.whole.contains(offset)));
        match nested {
            Some(&b) => block = b,
            None => break,
        }
    }
    (block, found)
}

fn value_hit(f: &Function, r: &mil_ir::ValueRef, span: Span) -> Hit {
    match r.id {
        Some(id) if id.index() < f.values.len() => Hit::Value { id, span },
        _ => Hit::Unresolved { span },
    }
}

fn block_output(f: &Function, spans: &FunctionSpans, block: BlockId, offset: u32) -> Option<Hit> {
    let outputs = &spans.block(block)?.outputs;
    let i = outputs.iter().position(|s| s.contains(offset))?;
    let r = f.block(block).outputs.get(i)?;
    Some(value_hit(f, r, outputs[i]))
}

fn definition_at(f: &Function, spans: &FunctionSpans, ids: &[ValueId], offset: u32) -> Option<Hit> {
    ids.iter()
        .find_map(|&id| {
            let span = spans.values.get(id.index())?.name;
            span.contains(offset).then_some(Hit::Value { id, span })
        })
        .filter(|_| !f.values.is_empty())
}

fn in_statement(f: &Function, spans: &FunctionSpans, op: OpId, offset: u32) -> Option<Hit> {
    let o = f.op(op);
    let s = spans.ops.get(op.index())?;
    if let Some(hit) = definition_at(f, spans, &o.results, offset) {
        return Some(hit);
    }
    for &b in &o.blocks {
        if let Some(hit) = definition_at(f, spans, &f.block(b).params, offset) {
            return Some(hit);
        }
    }
    if s.kind.contains(offset) {
        return Some(Hit::OpKind(op));
    }
    for (i, (a, sa)) in o.args.iter().zip(&s.args).enumerate() {
        if sa.key.is_some_and(|k| k.contains(offset)) {
            return Some(Hit::ArgKey { op, arg: i });
        }
        for (item, r) in a.value.values() {
            let span = match item {
                Some(i) => sa.items.get(i as usize).copied(),
                None => Some(sa.value),
            };
            if let Some(span) = span.filter(|s| s.contains(offset)) {
                return Some(value_hit(f, r, span));
            }
        }
    }
    if let Some(i) = s.attributes.iter().position(|a| a.whole.contains(offset)) {
        return Some(Hit::Attribute { op, attr: i });
    }
    Some(Hit::Statement(op))
}

fn in_header(f: &Function, spans: &FunctionSpans, offset: u32) -> Option<Hit> {
    if spans.name.contains(offset) {
        return Some(Hit::FunctionName);
    }
    definition_at(f, spans, &f.params, offset)
}

/// Where value `id` is defined and every place it is used, definition first.
pub fn occurrences(f: &Function, spans: &FunctionSpans, id: ValueId) -> Vec<Span> {
    let mut out: Vec<Span> = spans.values.get(id.index()).map(|s| s.name).into_iter().collect();
    out.extend(f.value(id).uses.iter().filter_map(|&u| spans.use_span(u)));
    out
}

/// The name of the op or function a value comes from, for hover texts.
pub fn origin(f: &Function, id: ValueId) -> String {
    match f.value(id).def {
        ValueDef::Param(i) => format!("parameter {} of `{}`", i + 1, f.name),
        ValueDef::BlockParam(_, i) => format!("parameter {} of a nested block", i + 1),
        ValueDef::Result(op, i) => {
            let o = f.op(op);
            let named = o.name().map(|n| format!(" `{n}`")).unwrap_or_default();
            if o.results.len() > 1 {
                format!("result {} of `{}`{named}", i + 1, o.kind)
            } else {
                format!("result of `{}`{named}", o.kind)
            }
        }
    }
}
