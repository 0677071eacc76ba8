//! Which operand each input of an op is bound to: keyed arguments by key, positional ones by
//! position, and inputs Core ML writes in the attribute block (the operands of iOS16/17
//! `constexpr_*` ops) by attribute key.

use crate::catalogue::OpVersion;
use crate::constant::TypedValue;
use crate::program::{Operand, Operation};

/// Where the value of one input comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source<'a> {
    /// Argument `index` of the op.
    Arg(usize, &'a Operand),
    /// Attribute `index` of the op.
    Attr(usize, &'a TypedValue),
}

/// The inputs of one op bound to their sources.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Binding<'a> {
    /// By input index of the op version: the source of that input, if given.
    pub inputs: Vec<Option<Source<'a>>>,
    /// Indices of the arguments that name no input of the op.
    pub unknown: Vec<usize>,
}

impl<'a> Binding<'a> {
    /// Binds the arguments and attributes of `op` to the inputs of `version`. A key given twice
    /// binds its first argument (the parser reports the duplicate).
    pub fn new(op: &'a Operation, version: &OpVersion) -> Binding<'a> {
        let mut inputs: Vec<Option<Source<'a>>> = vec![None; version.inputs.len()];
        let mut unknown = Vec::new();
        for (i, arg) in op.args.iter().enumerate() {
            let slot = match &arg.key {
                Some(key) => version.input_index(key),
                None if op
                    .args
                    .iter()
                    .any(|a| a.key.as_deref() == version.inputs.get(i).map(|x| x.name)) =>
                {
                    None
                }
                None => (i < inputs.len()).then_some(i),
            };
            match slot {
                Some(s) if inputs[s].is_none() => inputs[s] = Some(Source::Arg(i, &arg.value)),
                Some(_) => {}
                None => unknown.push(i),
            }
        }
        for (i, attr) in op.attributes.iter().enumerate() {
            if let Some(s) = version.input_index(&attr.key)
                && inputs[s].is_none()
            {
                inputs[s] = Some(Source::Attr(i, &attr.value));
            }
        }
        Binding { inputs, unknown }
    }
}
