//! Property: for random programs, parsing the printed text gives back the same IR, with no error.
//!
//! Programs are built from a proptest-chosen seed by a generator that covers every construct of the
//! IR: several functions, every type form, every dtype with extreme values, strings with escapes,
//! BLOBFILE references in both spellings, lists/dicts/tuples, tuple arguments, several and zero
//! outputs, pinned opsets, nested blocks with parameters, and comments.

use half::{bf16, f16};
use mil_grammar::parse;
use mil_ir::printer::print_program;
use mil_ir::*;
use proptest::prelude::*;

struct Gen {
    state: u64,
    names: u32,
}

impl Gen {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    /// A fresh identifier, unique in the program.
    fn name(&mut self) -> String {
        self.names += 1;
        let stem = self.pick(&[
            "x", "var", "conv_w", "_t", "program", "func", "fp16", "value", "block", "Z9",
        ]);
        format!("{stem}_{}", self.names)
    }
    fn key(&mut self) -> String {
        self.pick(&[
            "x", "y", "axes", "dtype", "pad_type", "value", "func", "program", "weight", "tensor",
        ])
        .into()
    }

    fn dtype(&mut self) -> DType {
        self.pick(&DType::ALL)
    }

    fn shape(&mut self, unknown: bool) -> Vec<Dim> {
        (0..self.below(4))
            .map(|_| {
                if unknown && self.chance(15) {
                    Dim::Unknown
                } else {
                    Dim::Known(self.below(4))
                }
            })
            .collect()
    }

    fn value_type(&mut self, depth: u32) -> Type {
        match self.below(if depth > 1 { 2 } else { 8 }) {
            0 => Type::Scalar(self.dtype()),
            1 => Type::Tensor {
                dtype: self.dtype(),
                shape: self.shape(true),
            },
            2 => Type::State(Box::new(Type::Tensor {
                dtype: self.dtype(),
                shape: self.shape(false),
            })),
            3 => Type::List(
                Box::new(self.value_type(depth + 1)),
                if self.chance(50) {
                    Dim::Unknown
                } else {
                    Dim::Known(self.below(9))
                },
            ),
            4 => Type::Tuple((0..self.below(3)).map(|_| self.value_type(depth + 1)).collect()),
            5 => Type::Dict(
                Box::new(Type::Scalar(DType::String)),
                Box::new(self.value_type(depth + 1)),
            ),
            6 => Type::TensorBuffer {
                dtype: self.dtype(),
                params: vec![
                    ("shape".into(), self.shape(false)),
                    ("strides".into(), self.shape(false)),
                ],
            },
            _ => Type::Tensor {
                dtype: DType::Fp16,
                shape: vec![Dim::Known(1), Dim::Unknown],
            },
        }
    }

    fn string(&mut self) -> String {
        let pieces = [
            "", "a", "\"", "\\", "\n", "\t", "\r", "\u{7}", "é", "𝄞", " ", "{", "//", "x",
        ];
        (0..self.below(5)).map(|_| self.pick(&pieces)).collect()
    }

    fn float(&mut self) -> f64 {
        match self.below(6) {
            0 => self.pick(&[0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1.0]),
            1 => f64::from_bits(self.next()),
            _ => (self.next() as i64 as f64) / (1u64 << self.below(60)) as f64,
        }
    }

    fn elements(&mut self, dtype: DType, n: usize) -> Elements {
        let mut e = Elements::empty(dtype);
        for _ in 0..n {
            match &mut e {
                Elements::F16(v) => v.push(canonical_nan(f16::from_bits(self.next() as u16), f16::NAN)),
                Elements::Bf16(v) => v.push(canonical_nan(bf16::from_bits(self.next() as u16), bf16::NAN)),
                Elements::F32(v) => {
                    let x = f32::from_bits(self.next() as u32);
                    v.push(if x.is_nan() { f32::NAN } else { x })
                }
                Elements::F64(v) => {
                    let x = self.float();
                    v.push(if x.is_nan() { f64::NAN } else { x })
                }
                Elements::Int(v) => {
                    let (lo, hi) = dtype.int_range().unwrap();
                    v.push(self.pick(&[lo, hi, 0, (lo + hi) / 3]) as i64)
                }
                Elements::UInt(v) => {
                    let (_, hi) = dtype.int_range().unwrap();
                    v.push(self.pick(&[0, hi, hi / 2, 1]) as u64)
                }
                Elements::Bool(v) => v.push(self.chance(50)),
                Elements::Str(v) => v.push(self.string()),
            }
        }
        e
    }

    fn literal(&mut self, depth: u32) -> Literal {
        match self.below(if depth > 2 { 3 } else { 6 }) {
            0 => Literal::Number(
                self.pick(&[
                    "0",
                    "-3",
                    "0x1p-3",
                    "-0x1.48p-1",
                    "4.0960000000000001e-05",
                    "inf",
                    "-inf",
                    "nan",
                ])
                .into(),
            ),
            1 => Literal::Str(self.string()),
            2 => Literal::Bool(self.chance(50)),
            3 => Literal::List((0..self.below(3)).map(|_| self.literal(depth + 1)).collect()),
            4 => Literal::Tuple((0..1 + self.below(2)).map(|_| self.literal(depth + 1)).collect()),
            _ => Literal::Dict(
                (0..self.below(3))
                    .map(|_| (Literal::Str(self.string()), self.literal(depth + 1)))
                    .collect(),
            ),
        }
    }

    /// A constant of a random type that MIL can write as a literal.
    fn typed_value(&mut self) -> TypedValue {
        match self.below(6) {
            0 => {
                let ty = Type::Tensor {
                    dtype: self.dtype(),
                    shape: self.shape(false),
                };
                let data = ConstData::Blob(BlobRef {
                    path: format!("@model_path/weights/{}.bin", self.string()),
                    offset: self.next(),
                    rank0_spelling: self.chance(50),
                });
                TypedValue { ty, data }
            }
            1 => {
                let items = (0..1 + self.below(2)).map(|_| self.literal(1)).collect();
                TypedValue {
                    ty: Type::Tuple(vec![Type::Scalar(DType::String)]),
                    data: ConstData::Literal(Literal::Tuple(items)),
                }
            }
            2 => TypedValue {
                ty: Type::List(Box::new(Type::Scalar(DType::Int32)), Dim::Unknown),
                data: ConstData::Literal(Literal::List(
                    (0..self.below(4)).map(|_| self.literal(2)).collect(),
                )),
            },
            3 => TypedValue {
                ty: Type::Dict(
                    Box::new(Type::Scalar(DType::String)),
                    Box::new(Type::Scalar(DType::Fp64)),
                ),
                data: ConstData::Literal(self.dict()),
            },
            4 => {
                let dtype = self.dtype();
                TypedValue {
                    ty: Type::Scalar(dtype),
                    data: ConstData::Tensor(self.elements(dtype, 1)),
                }
            }
            _ => {
                let dtype = self.dtype();
                let unknown = self.chance(20);
                let shape = self.shape(unknown);
                let n = shape
                    .iter()
                    .map(|d| if let Dim::Known(k) = d { *k } else { 3 })
                    .product::<u64>();
                let data = ConstData::Tensor(self.elements(dtype, n as usize));
                TypedValue {
                    ty: Type::Tensor { dtype, shape },
                    data,
                }
            }
        }
    }

    fn dict(&mut self) -> Literal {
        Literal::Dict(
            (0..self.below(3))
                .map(|_| (Literal::Str(self.string()), self.literal(3)))
                .collect(),
        )
    }

    fn attributes(&mut self, name: Option<String>) -> Vec<Attribute> {
        let mut attrs: Vec<Attribute> = Vec::new();
        if let Some(n) = name {
            attrs.push(Attribute {
                key: "name".into(),
                value: TypedValue::string(&n),
            });
        }
        for _ in 0..self.below(3) {
            let key = format!("{}_{}", self.key(), attrs.len());
            attrs.push(Attribute {
                key: key.into(),
                value: self.typed_value(),
            });
        }
        attrs
    }

    fn comments(&mut self) -> Vec<String> {
        (0..if self.chance(15) { 1 + self.below(2) } else { 0 })
            .map(|_| {
                format!("//{}", self.string().replace(['\n', '\r'], ""))
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    fn function(&mut self) -> Function {
        let mut f = Function {
            name: self.name(),
            opset: self.pick(&["ios15", "ios16", "ios17", "ios18", "ios26"]).into(),
            comments: self.comments(),
            ..Function::default()
        };
        for i in 0..self.below(4) {
            let ty = self.value_type(0);
            let id = self.define(&mut f, ty, ValueDef::Param(i as u32));
            f.params.push(id);
        }
        f.attributes = self.attributes(None);
        let mut visible = f.params.clone();
        f.body = self.block(&mut f, Vec::new(), None, &mut visible, 0);
        f.recompute_uses();
        f
    }

    fn define(&mut self, f: &mut Function, ty: Type, def: ValueDef) -> ValueId {
        let name = self.name();
        let id = f.push_value(Value {
            name: name.as_str().into(),
            ty,
            def,
            uses: Vec::new(),
        });
        f.symbols.insert(name.into(), id);
        id
    }

    fn reference(&mut self, f: &Function, visible: &[ValueId]) -> Operand {
        if visible.is_empty() || self.chance(30) {
            return Operand::Const(self.typed_value());
        }
        let id = visible[self.below(visible.len() as u64) as usize];
        Operand::Value(ValueRef {
            name: f.value(id).name.clone(),
            id: Some(id),
        })
    }

    fn block(
        &mut self,
        f: &mut Function,
        params: Vec<ValueId>,
        parent: Option<OpId>,
        visible: &mut Vec<ValueId>,
        depth: u32,
    ) -> BlockId {
        let block = f.push_block(Block {
            params,
            parent,
            ..Block::default()
        });
        for _ in 0..self.below(if depth == 0 { 7 } else { 3 }) {
            let op = self.operation(f, block, visible, depth);
            f.blocks[block.index()].ops.push(op);
        }
        f.blocks[block.index()].trailing_comments = self.comments();
        let outputs = (0..self.below(3))
            .filter(|_| !visible.is_empty())
            .map(|_| {
                let id = visible[self.below(visible.len() as u64) as usize];
                ValueRef {
                    name: f.value(id).name.clone(),
                    id: Some(id),
                }
            })
            .collect();
        f.blocks[block.index()].outputs = outputs;
        block
    }

    fn operation(
        &mut self,
        f: &mut Function,
        parent: BlockId,
        visible: &mut Vec<ValueId>,
        depth: u32,
    ) -> OpId {
        let mut args = Vec::new();
        for i in 0..self.below(4) {
            let value = if self.chance(20) {
                Operand::Tuple(
                    (0..1 + self.below(3))
                        .map(|_| self.reference(f, visible))
                        .collect(),
                )
            } else {
                self.reference(f, visible)
            };
            args.push(Argument {
                key: Some(format!("{}{i}", self.key()).into()),
                value,
            });
        }
        let name = if self.chance(90) { Some(self.name()) } else { None };
        let op = f.push_op(Operation {
            kind: self
                .pick(&["conv", "const", "while_loop", "my_op", "tensor", "func", "fp16"])
                .into(),
            opset: if self.chance(20) {
                Some("ios17".into())
            } else {
                None
            },
            args,
            attributes: self.attributes(name),
            results: Default::default(),
            blocks: Vec::new(),
            parent,
            comments: self.comments(),
        });
        let mut blocks = Vec::new();
        if depth < 2 && self.chance(15) {
            for _ in 0..1 + self.below(2) {
                let mut inner = visible.clone();
                let next = BlockId(f.blocks.len() as u32);
                let params: Vec<_> = (0..self.below(3))
                    .map(|i| {
                        let ty = self.value_type(0);
                        self.define(f, ty, ValueDef::BlockParam(next, i as u32))
                    })
                    .collect();
                inner.extend(&params);
                blocks.push(self.block(f, params, Some(op), &mut inner, depth + 1));
            }
        }
        let results: Vec<_> = (0..self.below(4))
            .map(|i| {
                let ty = self.value_type(0);
                self.define(f, ty, ValueDef::Result(op, i as u32))
            })
            .collect();
        visible.extend(&results);
        let o = &mut f.ops[op.index()];
        o.blocks = blocks;
        o.results = results.into();
        op
    }

    fn program(&mut self) -> Program {
        Program {
            version: self.pick(&["1.0", "1.3"]).into(),
            attributes: self.attributes(None),
            functions: (0..1 + self.below(3)).map(|_| self.function()).collect(),
            comments: self.comments(),
        }
    }
}

/// Where two programs first differ, for a readable failure.
fn first_difference(a: &Program, b: &Program) -> String {
    if a.version != b.version || a.attributes != b.attributes || a.comments != b.comments {
        return format!(
            "program header: {:?} vs {:?}",
            (&a.attributes, &a.comments),
            (&b.attributes, &b.comments)
        );
    }
    for (fa, fb) in a.functions.iter().zip(&b.functions) {
        for (i, (x, y)) in fa.values.iter().zip(&fb.values).enumerate() {
            if x != y {
                return format!("value {i}: {x:?} vs {y:?}");
            }
        }
        for (i, (x, y)) in fa.ops.iter().zip(&fb.ops).enumerate() {
            if x != y {
                return format!("op {i}: {x:?} vs {y:?}");
            }
        }
        for (i, (x, y)) in fa.blocks.iter().zip(&fb.blocks).enumerate() {
            if x != y {
                return format!("block {i}: {x:?} vs {y:?}");
            }
        }
        if fa != fb {
            return format!(
                "function {}: {:?} vs {:?}",
                fa.name,
                (
                    fa.values.len(),
                    fa.ops.len(),
                    fa.blocks.len(),
                    &fa.comments,
                    &fa.attributes,
                    &fa.params,
                    fa.symbols.len()
                ),
                (
                    fb.values.len(),
                    fb.ops.len(),
                    fb.blocks.len(),
                    &fb.comments,
                    &fb.attributes,
                    &fb.params,
                    fb.symbols.len()
                )
            );
        }
    }
    format!("function count {} vs {}", a.functions.len(), b.functions.len())
}

fn canonical_nan<T: Copy + PartialEq>(x: T, nan: T) -> T {
    #[allow(clippy::eq_op)]
    if x != x { nan } else { x }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn parse_of_print_is_the_identity(seed in any::<u64>()) {
        let program = Gen { state: seed, names: 0 }.program();
        let text = print_program(&program);
        let parsed = parse(&text);
        let errors: Vec<_> = parsed.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
        prop_assert!(errors.is_empty(), "seed {seed}: errors {errors:?}\n{text}");
        prop_assert!(parsed.program == program, "seed {seed}: {}\n{text}", first_difference(&program, &parsed.program));
    }
}
