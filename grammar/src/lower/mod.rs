//! Lowering: the syntax tree becomes the shared IR plus its source map.
//!
//! Names are resolved to values as statements are read; a name used before its definition is
//! resolved at the end of the function and reported. Every problem is a diagnostic: lowering never
//! fails and always yields a program.

mod literal;
mod types;

use crate::ast::{self, ArgValue, Body, OpStmt, Stmt, TypeArg, TypedLit, Word};
use crate::lexer::{Comments, Item};
use crate::sink::Event;
use crate::suggest::suggestion;
use mil_ir::{
    ArgSpans, Argument, AttrSpans, Attribute, Block, BlockId, BlockSpans, Code, Diagnostic, Function,
    FunctionSpans, Name, OpId, OpSpans, Operand, Operation, Program, Results, SourceMap, Span, Value,
    ValueDef, ValueId, ValueRef, ValueSpans, codes,
};
use smallvec::SmallVec;
use std::sync::PoisonError;

/// State shared by the lowering of one file. The grammar drives it: it starts the program and each
/// function when their headers are read, hands over each top-level statement as soon as it is
/// parsed (so its syntax tree can be dropped at once), and ends each function after its body.
pub(crate) struct Lowerer<'a> {
    src: &'a str,
    diags: Vec<Diagnostic>,
    comments: Comments,
    next_comment: usize,
    /// Whether bare literals become rank-0 tensors (program 1.0's spelling of scalars).
    rank0_scalars: bool,
    program: Program,
    map: SourceMap,
    /// The function being built (boxed: it is taken out and put back for every statement).
    current: Option<Box<FnBuilder>>,
    known_tensors: types::KnownTensors,
    /// Whether an undefined name's diagnostic suggests a defined one.
    suggest: bool,
}

/// A use of a name that was not defined when it was read.
struct Pending {
    name: String,
    span: Span,
    site: Site,
}

enum Site {
    Operand {
        op: OpId,
        arg: usize,
        item: Option<usize>,
    },
    Output {
        block: BlockId,
        index: usize,
    },
}

/// The function being built with its spans, kept index-aligned.
struct FnBuilder {
    f: Function,
    spans: FunctionSpans,
    pending: Vec<Pending>,
}

impl<'a> Lowerer<'a> {
    /// A lowerer for `src`; `comments` fills as the lexer meets them; undefined names get a "did
    /// you mean" when `suggest`.
    pub(crate) fn new(src: &'a str, comments: Comments, suggest: bool) -> Lowerer<'a> {
        Lowerer {
            src,
            diags: Vec::new(),
            comments,
            next_comment: 0,
            rank0_scalars: false,
            program: Program::default(),
            map: SourceMap::default(),
            current: None,
            known_tensors: types::KnownTensors::default(),
            suggest,
        }
    }

    fn text(&self, span: Span) -> &'a str {
        &self.src[span.range()]
    }

    fn error(&mut self, code: Code, span: Span, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(code, span, message));
    }

    /// The comments that start before `offset` and were not attached yet.
    fn take_comments(&mut self, offset: u32) -> Vec<String> {
        let comments = self.comments.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        while let Some(c) = comments.get(self.next_comment) {
            if c.start >= offset {
                break;
            }
            out.push(self.src[c.range()].trim_end().to_string());
            self.next_comment += 1;
        }
        out
    }

    /// Lowers what the grammar has read; `items` holds the items of its lists read as single tokens.
    pub(crate) fn apply(&mut self, event: Event<'a>, items: &[Item]) {
        match event {
            Event::Program {
                start,
                version,
                attrs,
            } => self.start_program(start, version, attrs),
            Event::Function { start, end, header } => self.start_function(start, end, header),
            Event::Statement(s) => self.statement(&s, items),
            Event::EndFunction { body, outputs, end } => self.end_function(body, &outputs, end),
        }
    }

    /// `program(VERSION) [attrs] {` has been read (an empty version: the header could not be read).
    fn start_program(&mut self, start: usize, version: Word, attrs: Option<(Span, Vec<ast::Attr>)>) {
        let text = version.text.to_string();
        if !text.is_empty() && !is_version(&text) {
            self.error(
                codes::BAD_HEADER,
                version.span,
                format!("`{text}` is not a program version (Core ML writes 1.0 to 1.3)"),
            );
        }
        self.rank0_scalars = text == "1.0";
        self.program.comments = self.take_comments(start as u32 + 1);
        let (attributes, attr_spans) = self.lower_attrs(attrs.as_ref().map_or(&[], |a| &a.1));
        self.program.version = text;
        self.program.attributes = attributes;
        self.map.program.start = start as u32;
        self.map.version = version.span;
        self.map.attributes = attr_spans;
    }

    /// A function header from `start` to `end` has been read.
    fn start_function(&mut self, start: usize, end: usize, h: ast::FuncHeader) {
        let opset = match &h.opset {
            Some(w) => w.text.to_string(),
            None if h.name.text.is_empty() => String::new(), // an unreadable header, reported already
            None => {
                self.error(
                    codes::BAD_HEADER,
                    h.name.span,
                    format!(
                        "function `{}` needs an opset: `func {}<ios18>(...)`",
                        h.name.text, h.name.text
                    ),
                );
                String::new()
            }
        };
        let comments = self.take_comments(end as u32);
        let mut fb = FnBuilder {
            f: Function {
                name: h.name.text.to_string(),
                opset,
                comments,
                ..Function::default()
            },
            spans: FunctionSpans {
                whole: Span::new(start, end),
                name: h.name.span,
                opset: h.opset.map_or(h.name.span, |w| w.span),
                ..FunctionSpans::default()
            },
            pending: Vec::new(),
        };
        fb.reserve(statements_after(self.src, end), h.params.len());
        for (i, p) in h.params.iter().enumerate() {
            let id = self.define(&mut fb, p, ValueDef::Param(i as u32));
            fb.f.params.push(id);
        }
        let (attributes, attr_spans) = self.lower_attrs(h.attrs.as_ref().map_or(&[], |a| &a.1));
        fb.f.attributes = attributes;
        fb.spans.attributes = attr_spans;
        fb.f.body = begin_block(&mut fb, Vec::new(), None);
        self.current = Some(Box::new(fb));
    }

    /// A statement of the current function's body has been read.
    fn statement(&mut self, s: &OpStmt, items: &[Item]) {
        let Some(mut fb) = self.current.take() else { return };
        let body = fb.f.body;
        let op = self.lower_stmt(&mut fb, body, s, items);
        fb.f.blocks[body.index()].ops.push(op);
        self.current = Some(fb);
    }

    /// The current function's body closed with `-> (outputs)` (spanning `body`), its `;` ending at `end`.
    fn end_function(&mut self, body: Span, outputs: &[Word], end: usize) {
        let Some(mut fb) = self.current.take() else { return };
        let block = fb.f.body;
        self.end_block(&mut fb, block, body, outputs);
        fb.spans.whole.end = end as u32;
        self.resolve_pending(&mut fb);
        fb.f.recompute_uses();
        fb.fit();
        self.program.functions.push(fb.f);
        self.map.functions.push(fb.spans);
    }

    /// The program, its source map and the lowering diagnostics; a function left open by a syntax
    /// error is closed at `end`.
    pub(crate) fn finish(mut self, end: usize) -> (Program, SourceMap, Vec<Diagnostic>) {
        self.end_function(Span::new(end, end), &[], end);
        let rest = self.take_comments(u32::MAX);
        match self.program.functions.last_mut() {
            Some(f) => {
                let body = f.body.index();
                f.blocks[body].trailing_comments.extend(rest);
            }
            None => self.program.comments.extend(rest),
        }
        self.map.program.end = end as u32;
        (self.program, self.map, self.diags)
    }

    /// Adds a value named by `p` and enters it in the symbol table (reporting a duplicate).
    fn define(&mut self, fb: &mut FnBuilder, p: &ast::Param, def: ValueDef) -> ValueId {
        let ty = self.lower_type(&p.ty);
        let name = Name::from(p.name.text);
        let id = fb.f.push_value(Value {
            name: name.clone(),
            ty,
            def,
            uses: Vec::new(),
        });
        fb.spans.values.push(ValueSpans {
            name: p.name.span,
            ty: p.ty.span,
        });
        match fb.f.symbols.get(name.as_str()) {
            Some(first) => {
                let first_span = fb.spans.values[first.index()].name;
                self.diags.push(
                    Diagnostic::new(
                        codes::DUPLICATE_DEFINITION,
                        p.name.span,
                        format!("`{name}` is already defined in this function"),
                    )
                    .with_related(first_span, "first defined here"),
                );
            }
            None => {
                fb.f.symbols.insert(name, id);
            }
        }
        id
    }

    /// Lowers a nested block from its syntax tree.
    fn lower_body(
        &mut self,
        fb: &mut FnBuilder,
        body: &Body,
        params: Vec<ValueId>,
        parent: Option<OpId>,
        items: &[Item],
    ) -> BlockId {
        let block = begin_block(fb, params, parent);
        for stmt in &body.stmts {
            if let Stmt::Op(s) = stmt {
                let op = self.lower_stmt(fb, block, s, items);
                fb.f.blocks[block.index()].ops.push(op);
            }
        }
        self.end_block(fb, block, body.span, &body.outputs);
        block
    }

    /// Resolves a block's outputs and attaches the comments before its end.
    fn end_block(&mut self, fb: &mut FnBuilder, block: BlockId, span: Span, names: &[Word]) {
        let trailing = self.take_comments(span.end);
        let mut outputs = Vec::with_capacity(names.len());
        for (index, w) in names.iter().enumerate() {
            let id = fb.f.lookup(w.text);
            if id.is_none() {
                fb.pending.push(Pending {
                    name: w.text.into(),
                    span: w.span,
                    site: Site::Output { block, index },
                });
            }
            outputs.push(ValueRef {
                name: w.text.into(),
                id,
            });
        }
        let spans = &mut fb.spans.blocks[block.index()];
        spans.whole = span;
        spans.outputs = names.iter().map(|w| w.span).collect();
        let b = &mut fb.f.blocks[block.index()];
        b.outputs = outputs;
        b.trailing_comments = trailing;
    }

    /// Lowers a statement into `parent`; `items` holds the items of its lists read as single tokens.
    fn lower_stmt(&mut self, fb: &mut FnBuilder, parent: BlockId, s: &OpStmt, items: &[Item]) -> OpId {
        // Comments before the statement are its own; any inside it go to what follows, so that
        // nested blocks keep theirs.
        let comments = self.take_comments(s.span.start);
        let mut fused_args = SmallVec::new();
        let ast_args = s.args.read(self.src, items, &mut fused_args);
        let opset = self.op_opset(s);
        let op = fb.f.push_op(Operation {
            kind: s.head.name.text.into(),
            opset: opset.as_ref().map(|o| o.0.as_str().into()),
            args: Vec::with_capacity(ast_args.len()),
            attributes: Vec::new(),
            results: Results::with_capacity(s.outputs.len()),
            blocks: Vec::new(),
            parent,
            comments,
        });
        fb.spans.ops.push(OpSpans {
            whole: s.span,
            kind: s.head.name.span,
            opset: opset.map(|o| o.1),
            args: Vec::with_capacity(ast_args.len()),
            attributes: Vec::new(),
            attribute_block: s.attrs.as_ref().map(|a| a.0),
        });

        let mut args = Vec::with_capacity(ast_args.len());
        let mut arg_spans = Vec::with_capacity(ast_args.len());
        for (i, a) in ast_args.iter().enumerate() {
            match &a.key {
                Some(k) => {
                    if let Some(prev) = ast_args[..i]
                        .iter()
                        .find(|p| p.key.is_some_and(|pk| pk.text == k.text))
                    {
                        let prev_span = prev.span;
                        self.diags.push(
                            Diagnostic::new(
                                codes::DUPLICATE_ARGUMENT,
                                k.span,
                                format!("argument `{}` is given twice", k.text),
                            )
                            .with_related(prev_span, "first given here"),
                        );
                    }
                }
                None => self.diags.push(Diagnostic::new(
                    codes::POSITIONAL_ARGUMENT,
                    a.span,
                    "argument without its key; Core ML's files write `key = value`",
                )),
            }
            let mut tuple_spans = Vec::new();
            let value = self.lower_operand(fb, op, i, None, &a.value, &mut tuple_spans);
            args.push(Argument {
                key: a.key.map(|k| k.text.into()),
                value,
            });
            arg_spans.push(ArgSpans {
                whole: a.span,
                key: a.key.map(|k| k.span),
                value: a.value.span(),
                items: tuple_spans,
            });
        }
        let (attributes, attr_spans) = match &s.attrs {
            Some((_, attrs)) => {
                let mut fused_attrs = SmallVec::new();
                let attrs = attrs.read(self.src, items, &mut fused_attrs);
                self.lower_attrs(attrs)
            }
            None => (Vec::new(), Vec::new()),
        };
        if !attributes.iter().any(|a| a.key == "name")
            && !mil_ir::program::is_runtime_boundary(s.head.name.text)
        {
            self.diags.push(Diagnostic::new(
                codes::MISSING_NAME,
                s.head.name.span,
                "operation without `[name = ...]`; Core ML's files name every operation (mil fmt adds one)",
            ));
        }
        let mut blocks = Vec::with_capacity(s.blocks.len());
        for b in &s.blocks {
            if b.label.text != "block" {
                self.error(
                    codes::SYNTAX,
                    b.label.span,
                    format!(
                        "expected `block(...)` for a nested block, found `{}`",
                        b.label.text
                    ),
                );
            }
            let params = b
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let next = BlockId(fb.f.blocks.len() as u32);
                    forget_sibling_param(fb, p.name.text, op);
                    self.define(fb, p, ValueDef::BlockParam(next, i as u32))
                })
                .collect();
            blocks.push(self.lower_body(fb, &b.body, params, Some(op), items));
        }
        let results = s
            .outputs
            .iter()
            .enumerate()
            .map(|(i, p)| self.define(fb, p, ValueDef::Result(op, i as u32)))
            .collect();
        let o = &mut fb.f.ops[op.index()];
        o.args = args;
        o.attributes = attributes;
        o.blocks = blocks;
        o.results = results;
        let spans = &mut fb.spans.ops[op.index()];
        spans.args = arg_spans;
        spans.attributes = attr_spans;
        op
    }

    /// The `<opset>` pinned on an op head, reporting any other `<...>` form.
    fn op_opset(&mut self, s: &OpStmt) -> Option<(String, Span)> {
        match s.head.args.as_deref() {
            None => None,
            Some([TypeArg::Type(t)]) if t.args.is_none() => Some((t.name.text.to_string(), t.name.span)),
            Some(_) => {
                self.error(
                    codes::SYNTAX,
                    s.head.span,
                    "an operation takes at most an opset in `<...>`, as in `op<ios17>(...)`",
                );
                None
            }
        }
    }

    fn lower_operand(
        &mut self,
        fb: &mut FnBuilder,
        op: OpId,
        arg: usize,
        item: Option<usize>,
        v: &ArgValue,
        items: &mut Vec<Span>,
    ) -> Operand {
        if item.is_some() {
            items.push(v.span());
        }
        match v {
            ArgValue::Name(w) => match fb.f.lookup(w.text) {
                None if matches!(w.text, "true" | "false") => Operand::Const(self.lower_bare_word(w)),
                id => {
                    if id.is_none() {
                        fb.pending.push(Pending {
                            name: w.text.into(),
                            span: w.span,
                            site: Site::Operand { op, arg, item },
                        });
                    }
                    Operand::Value(ValueRef {
                        name: w.text.into(),
                        id,
                    })
                }
            },
            ArgValue::Typed(t) => Operand::Const(self.lower_typed(t)),
            ArgValue::Literal(w, kind) => Operand::Const(self.lower_typed(&TypedLit::of_lexeme(*w, *kind))),
            ArgValue::Bare(l) => Operand::Const(self.lower_bare(l)),
            ArgValue::Tuple(span, vs) => {
                if item.is_some() {
                    self.error(codes::SYNTAX, *span, "tuples do not nest in arguments");
                }
                Operand::Tuple(
                    vs.iter()
                        .enumerate()
                        .map(|(i, v)| self.lower_operand(fb, op, arg, Some(i), v, items))
                        .collect(),
                )
            }
        }
    }

    fn lower_attrs(&mut self, attrs: &[ast::Attr]) -> (Vec<Attribute>, Vec<AttrSpans>) {
        let mut out = Vec::with_capacity(attrs.len());
        let mut spans = Vec::with_capacity(attrs.len());
        for (i, a) in attrs.iter().enumerate() {
            if let Some(prev) = attrs[..i].iter().find(|p| p.key.text == a.key.text) {
                let prev_span = prev.span;
                self.diags.push(
                    Diagnostic::new(
                        codes::DUPLICATE_ATTRIBUTE,
                        a.key.span,
                        format!("attribute `{}` is given twice", a.key.text),
                    )
                    .with_related(prev_span, "first given here"),
                );
            }
            let (value, ty_span) = match &a.value {
                ArgValue::Typed(t) => (self.lower_typed(t), t.ty.span),
                ArgValue::Literal(w, kind) => {
                    let t = TypedLit::of_lexeme(*w, *kind);
                    (self.lower_typed(&t), t.ty.span)
                }
                ArgValue::Bare(l) => (self.lower_bare(l), l.span()),
                ArgValue::Name(w) if matches!(w.text, "true" | "false") => (self.lower_bare_word(w), w.span),
                other => {
                    self.error(
                        codes::BAD_LITERAL,
                        other.span(),
                        "an attribute's value is a typed literal, e.g. `string(\"x\")`",
                    );
                    continue;
                }
            };
            out.push(Attribute {
                key: a.key.text.into(),
                value,
            });
            spans.push(AttrSpans {
                whole: a.span,
                key: a.key.span,
                value: a.value.span(),
                ty: ty_span,
            });
        }
        (out, spans)
    }

    /// Resolves names used before their definition, or reports them as undefined.
    fn resolve_pending(&mut self, fb: &mut FnBuilder) {
        let suggest = self.suggest;
        let hint = move |f: &Function, name: &str| match suggest {
            true => suggestion(f, name),
            false => String::new(),
        };
        for p in std::mem::take(&mut fb.pending) {
            let id = fb.f.lookup(&p.name);
            match (id, &p.site) {
                (Some(id), _) => {
                    let def = fb.spans.values[id.index()].name;
                    self.diags.push(
                        Diagnostic::new(
                            codes::USE_BEFORE_DEFINITION,
                            p.span,
                            format!("`{}` is used before it is defined", p.name),
                        )
                        .with_related(def, "defined here"),
                    );
                }
                (None, Site::Operand { .. }) => self.error(
                    codes::UNDEFINED_VALUE,
                    p.span,
                    format!("`{}` is not defined{}", p.name, hint(&fb.f, &p.name)),
                ),
                (None, Site::Output { .. }) => self.error(
                    codes::UNKNOWN_OUTPUT,
                    p.span,
                    format!(
                        "cannot return `{}`: it is not defined{}",
                        p.name,
                        hint(&fb.f, &p.name)
                    ),
                ),
            }
            let Some(id) = id else { continue };
            let r = match p.site {
                Site::Operand { op, arg, item } => {
                    let operand = &mut fb.f.ops[op.index()].args[arg].value;
                    operand.value_at_mut(item.map(|i| i as u32))
                }
                Site::Output { block, index } => Some(&mut fb.f.blocks[block.index()].outputs[index]),
            };
            if let Some(r) = r {
                r.id = Some(id);
            }
        }
    }
}

impl FnBuilder {
    /// Makes room for up to `statements` operations with one result each and `params` parameters,
    /// so that the arenas and the symbol table grow once rather than by doubling (which copies
    /// them and, while copying, holds the old and the new memory). Room that is not used is
    /// address space, not memory; when even that cannot be had, the arenas grow as they go.
    fn reserve(&mut self, statements: usize, params: usize) {
        let values = statements + params;
        let _ = self.f.ops.try_reserve(statements);
        let _ = self.f.values.try_reserve(values);
        let _ = self.f.symbols.try_reserve(values);
        let _ = self.spans.ops.try_reserve(statements);
        let _ = self.spans.values.try_reserve(values);
    }

    /// Gives back what [`FnBuilder::reserve`] took beyond a quarter more than the function needed
    /// (the room reserved for the statements of later functions).
    fn fit(&mut self) {
        fn fit<T>(v: &mut Vec<T>) {
            if v.capacity() > v.len() + v.len() / 4 + 16 {
                v.shrink_to_fit();
            }
        }
        fit(&mut self.f.ops);
        fit(&mut self.f.values);
        fit(&mut self.spans.ops);
        fit(&mut self.spans.values);
        if self.f.symbols.capacity() > self.f.symbols.len() * 2 + 16 {
            self.f.symbols.shrink_to_fit();
        }
    }
}

/// An upper bound on the statements in `src` after byte `from`: its `;`s, but no more than one per
/// 16 bytes (a `;` in a string is not a statement, and a text of nothing else would otherwise ask
/// for a hundred times its size in address space).
fn statements_after(src: &str, from: usize) -> usize {
    let rest = &src.as_bytes()[from.min(src.len())..];
    memchr::memchr_iter(b';', rest).count().min(rest.len() / 16 + 1)
}

/// Adds an empty block (its span is set when it ends).
fn begin_block(fb: &mut FnBuilder, params: Vec<ValueId>, parent: Option<OpId>) -> BlockId {
    fb.spans.blocks.push(BlockSpans::default());
    fb.f.push_block(Block {
        params,
        parent,
        ..Block::default()
    })
}

fn is_version(v: &str) -> bool {
    matches!(v.split_once('.'), Some((a, b)) if !a.is_empty() && !b.is_empty()
        && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()))
}

/// Lets a block parameter reuse the name of a parameter of an earlier block of the same op, as
/// coremltools writes `while_loop` (its condition and body blocks take the same loop variables):
/// the earlier one leaves the symbol table, so names in the new block resolve to its own parameter.
fn forget_sibling_param(fb: &mut FnBuilder, name: &str, op: OpId) {
    if let Some(&first) = fb.f.symbols.get(name)
        && let ValueDef::BlockParam(block, _) = fb.f.value(first).def
        // A parameter of the block being read (not pushed yet) is a duplicate, not a sibling's.
        && fb.f.blocks.get(block.index()).is_some_and(|b| b.parent == Some(op))
    {
        fb.f.symbols.remove(name);
    }
}
