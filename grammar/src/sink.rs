//! Where the grammar hands over what it has read: the program and function headers, each top-level
//! statement as soon as it is parsed, and the end of each function.
//!
//! A small text goes straight to the [`Lowerer`]. A large one goes in batches over a channel to a
//! lowerer on a second thread, so that lowering one statement overlaps with lexing and parsing the
//! next: the two halves of the work cost about the same, and the machine has two cores.
//!
//! The items of the lists the lexer read as single tokens go along: the statements that hold
//! those lists point into them. When anything is handed over, the lexer has read no list past it
//! (lists follow `name = op`, and the grammar looks one token ahead), so the items gathered so far
//! belong to what was handed over, and a fresh gathering starts.

use crate::ast::{Attr, FuncHeader, OpStmt, Word};
use crate::lexer::{Item, Items};
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
    /// A top-level statement of the current function (moved out of the grammar's box, which is
    /// then freed by the thread that made it).
    Statement(OpStmt<'a>),
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

/// Events and the list items they point into.
pub(crate) struct Batch<'a> {
    /// The events, in the order read.
    pub(crate) events: Vec<Event<'a>>,
    /// The items of their fused lists.
    pub(crate) items: Vec<Item>,
}

/// The grammar's end of the pipeline.
pub(crate) struct Sink<'a> {
    /// The items the lexer gathers.
    items: Items,
    to: Lowering<'a>,
}

/// Where the events go.
enum Lowering<'a> {
    /// Lowering as the grammar goes, on the same thread.
    Direct(Box<Lowerer<'a>>),
    /// Batches of events for a lowerer on another thread.
    Channel {
        events: Vec<Event<'a>>,
        to: SyncSender<Batch<'a>>,
    },
}

impl<'a> Sink<'a> {
    /// A sink that lowers as the grammar goes, with the lexer's `items`.
    pub(crate) fn direct(lowerer: Lowerer<'a>, items: Items) -> Sink<'a> {
        Sink {
            items,
            to: Lowering::Direct(Box::new(lowerer)),
        }
    }

    /// A sink that sends batches `to` a lowerer on another thread, with the lexer's `items`.
    pub(crate) fn channel(to: SyncSender<Batch<'a>>, items: Items) -> Sink<'a> {
        Sink {
            items,
            to: Lowering::Channel {
                events: Vec::with_capacity(BATCH),
                to,
            },
        }
    }

    /// The lowerer of a direct sink, once parsing is done.
    pub(crate) fn into_lowerer(self) -> Option<Lowerer<'a>> {
        match self.to {
            Lowering::Direct(lowerer) => Some(*lowerer),
            Lowering::Channel { .. } => None,
        }
    }

    /// Hands over one event with the items gathered so far.
    fn send(&mut self, event: Event<'a>) {
        match &mut self.to {
            Lowering::Direct(lowerer) => {
                let mut items = self.items.borrow_mut();
                lowerer.apply(event, &items);
                items.clear();
            }
            Lowering::Channel { events, to } => {
                events.push(event);
                if events.len() == BATCH {
                    let batch = Batch {
                        events: std::mem::replace(events, Vec::with_capacity(BATCH)),
                        items: std::mem::take(&mut *self.items.borrow_mut()),
                    };
                    // The lowering thread only stops early by panicking, which `parse` re-raises.
                    let _ = to.send(batch);
                }
            }
        }
    }

    /// Sends what is left of the last batch.
    pub(crate) fn flush(&mut self) {
        if let Lowering::Channel { events, to } = &mut self.to
            && !events.is_empty()
        {
            let _ = to.send(Batch {
                events: std::mem::take(events),
                items: std::mem::take(&mut *self.items.borrow_mut()),
            });
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
    pub(crate) fn statement(&mut self, s: OpStmt<'a>) {
        self.send(Event::Statement(s));
    }

    /// The current function's body closed with `-> (outputs)` (spanning `body`), its `;` ending at `end`.
    pub(crate) fn end_function(&mut self, body: Span, outputs: Vec<Word<'a>>, end: usize) {
        self.send(Event::EndFunction { body, outputs, end });
    }
}
