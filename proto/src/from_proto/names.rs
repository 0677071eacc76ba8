//! The names values get in the decompiled text.
//!
//! MIL text names each value of a function once; the one exception is that a block parameter may
//! reuse the name of a parameter of an earlier block of the same op, as coremltools writes
//! `while_loop`'s condition and body blocks (`grammar/src/lower`, `forget_sibling_param`). A proto
//! may name several values alike, in one block or in nested ones (coremltools' reader lets the
//! later one hide the earlier). So the first value of a name keeps it, and a later one that the text
//! would read as a duplicate gets `name_N`, with the smallest `N` that no value of the function is
//! called, neither in the proto nor in the text so far. References follow the proto's scoping (the
//! latest value of a proto name) and are printed with the new name.

use crate::mil;
use mil_ir::{Function, ValueDef, ValueId};
use std::collections::HashSet;

/// The names taken in one function: every value name its proto uses anywhere, and every name
/// given out so far.
pub(super) struct Names {
    taken: HashSet<String>,
}

impl Names {
    /// The names of `proto`'s inputs and of every block parameter and op output inside it.
    pub(super) fn new(proto: &mil::Function) -> Names {
        let mut taken: HashSet<String> = proto.inputs.iter().map(|v| v.name.clone()).collect();
        let mut blocks: Vec<&mil::Block> = proto.block_specializations.values().collect();
        while let Some(block) = blocks.pop() {
            taken.extend(block.inputs.iter().map(|v| v.name.clone()));
            for op in &block.operations {
                taken.extend(op.outputs.iter().map(|v| v.name.clone()));
                blocks.extend(&op.blocks);
            }
        }
        Names { taken }
    }

    /// The name the text gives a new value `def` the proto calls `name`, in `f` as built so far.
    pub(super) fn text_name(&mut self, f: &Function, name: &str, def: ValueDef) -> String {
        match f.lookup(name) {
            Some(holder) if !is_sibling_param(f, holder, def) => self.fresh(name),
            _ => name.into(),
        }
    }

    /// `name_N` for the smallest `N` not taken.
    fn fresh(&mut self, name: &str) -> String {
        (1u64..)
            .map(|n| format!("{name}_{n}"))
            .find(|candidate| self.taken.insert(candidate.clone()))
            .expect("a free name among unboundedly many")
    }
}

/// Whether `def` is a parameter of a block and `holder` a parameter of another block of the same op.
fn is_sibling_param(f: &Function, holder: ValueId, def: ValueDef) -> bool {
    let (ValueDef::BlockParam(new, _), ValueDef::BlockParam(old, _)) = (def, f.value(holder).def) else {
        return false;
    };
    let parent = |b: mil_ir::BlockId| f.blocks[b.index()].parent;
    new != old && parent(new).is_some() && parent(new) == parent(old)
}

#[cfg(test)]
mod tests;
