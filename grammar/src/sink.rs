//! Where the grammar hands over what it has read: the program and function headers, each top-level
//! statement as soon as it is parsed, and the end of each function.
//!
//! A small text goes straight to the [`Lowerer`]. A large one goes in batches over a channel to a
//! lowerer on a second thread, so that lowering one statement overlaps with lexing and parsing the
//! next: the two halves of the work cost about the same, and the machine has two cores.

use crate::ast::{Attr, FuncHeader, OpStmt, Word};
use crate::lower::Lowerer;
use mil_ir::Span;
use std::sync::mpsc::SyncSender;

/// Something read, in the order read.
pub(crate) enum Event<'a> {
    /// `program(VERSION) [attrs] {`, from `start`.
    Program {
        start: usize,
        version: Word<'a>,
        attrs: Option<(Span, Vec<Attr<'a>>)>,
    },
    /// A function header spanning `start..end`.
    Function {
        start: usize,
        end: usize,
        header: FuncHeader<'a>,
    },
    /// A top-level statement of the current function.
    Statement(Box<OpStmt<'a>>),
    /// The current function's `-> (outputs)` (the body spans `body`), its `;` ending at `end`.
    EndFunction {
        body: Span,
        outputs: Vec<Word<'a>>,
        end: usize,
    },
}

/// How many events travel together: enough that the channel costs little per statement, few
/// enough that the lowering thread starts at once and the batches in flight take little memory.
pub(crate) const BATCH: usize = 64;

/// The grammar's end of the pipeline.
pub(crate) enum Sink<'a> {
    /// Lowering as the grammar goes, on the same thread.
    Direct(Box<Lowerer<'a>>),
    /// Batches of events for a lowerer on another thread.
    Channel {
        batch: Vec<Event<'a>>,
        to: SyncSender<Vec<Event<'a>>>,
    },
}

impl<'a> Sink<'a> {
    /// Hands over one event.
    fn send(&mut self, event: Event<'a>) {
        match self {
            Sink::Direct(lowerer) => lowerer.apply(event),
            Sink::Channel { batch, to } => {
                batch.push(event);
                if batch.len() == BATCH {
                    let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
                    // The lowering thread only stops early by panicking, which `parse` re-raises.
                    let _ = to.send(full);
                }
            }
        }
    }

    /// Sends what is left of the last batch.
    pub(crate) fn flush(&mut self) {
        if let Sink::Channel { batch, to } = self
            && !batch.is_empty()
        {
            let _ = to.send(std::mem::take(batch));
        }
    }

    /// `program(VERSION) [attrs] {` has been read (an empty version: the header could not be read).
    pub(crate) fn start_program(
        &mut self,
        start: usize,
        version: Word<'a>,
        attrs: Option<(Span, Vec<Attr<'a>>)>,
    ) {
        self.send(Event::Program {
            start,
            version,
            attrs,
        });
    }

    /// A function header from `start` to `end` has been read.
    pub(crate) fn start_function(&mut self, start: usize, end: usize, header: FuncHeader<'a>) {
        self.send(Event::Function { start, end, header });
    }

    /// A statement of the current function's body has been read.
    pub(crate) fn statement(&mut self, s: Box<OpStmt<'a>>) {
        self.send(Event::Statement(s));
    }

    /// The current function's body closed with `-> (outputs)` (spanning `body`), its `;` ending at `end`.
    pub(crate) fn end_function(&mut self, body: Span, outputs: Vec<Word<'a>>, end: usize) {
        self.send(Event::EndFunction { body, outputs, end });
    }
}
