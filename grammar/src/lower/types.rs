//! Types: `tensor<fp16, [1, ?]>`, bare dtypes, `state<...>`, `tensor_buffer<...>`, `list`, `tuple`, `dict`.

use super::Lowerer;
use crate::ast::{self, TypeArg, TypeExpr};
use mil_ir::{DType, Diagnostic, Dim, Span, Type, codes};
use rustc_hash::FxHashMap;

type Problem = (Span, String);

/// How many tensor types a lowerer remembers at most (see [`KnownTensors`]) before it starts over.
const KNOWN_LIMIT: usize = 256;

/// The one-token tensor types (`tensor<fp16, [1, 30, 64, 64]>`) read so far, by their text, which
/// alone decides what they read as. Core ML's files spell the same few types thousands of times;
/// only types read without a problem are kept, since a problem is reported where it was written.
pub(super) type KnownTensors = FxHashMap<Box<str>, Type>;

impl Lowerer<'_> {
    /// Reads a type; a malformed one is reported and kept as [`Type::Invalid`].
    pub(super) fn lower_type(&mut self, t: &TypeExpr) -> Type {
        let read = if t.args.is_none() && t.name.text.starts_with("tensor<") {
            self.read_known_tensor(t.name)
        } else {
            read_type(t)
        };
        read.unwrap_or_else(|(span, message)| {
            self.diags.push(Diagnostic::new(codes::BAD_TYPE, span, message));
            Type::Invalid(self.text(t.span).to_string())
        })
    }

    /// Reads a tensor type the lexer took as one token, remembering it (see [`KnownTensors`]).
    fn read_known_tensor(&mut self, w: ast::Word) -> Result<Type, Problem> {
        if let Some(ty) = self.known_tensors.get(w.text) {
            return Ok(ty.clone());
        }
        let ty = read_tensor_token(w)?;
        if self.known_tensors.len() == KNOWN_LIMIT {
            self.known_tensors.clear();
        }
        self.known_tensors.insert(w.text.into(), ty.clone());
        Ok(ty)
    }
}

/// Reads a type: one word, or a name with `<...>` parameters.
fn read_type(t: &TypeExpr) -> Result<Type, Problem> {
    match &t.args {
        None => read_word(t.name),
        Some(args) => read_with_args(t, args),
    }
}

/// Reads a type written with `<...>` parameters: `args`.
fn read_with_args(t: &TypeExpr, args: &[TypeArg]) -> Result<Type, Problem> {
    let name = t.name.text;
    let malformed = |form: &str| (t.span, format!("malformed type: expected `{form}`"));
    match (name, args) {
        ("tensor", [TypeArg::Type(d), TypeArg::Dims(_, dims)]) => Ok(Type::Tensor {
            dtype: read_dtype(d)?,
            shape: read_dims(dims)?,
        }),
        ("tensor", _) => Err(malformed("tensor<DTYPE, [d0, d1, ...]>")),
        ("state", [TypeArg::Type(inner)]) => Ok(Type::State(Box::new(read_type(inner)?))),
        ("state", _) => Err(malformed("state<tensor<DTYPE, [...]>>")),
        ("tensor_buffer", [TypeArg::Type(d), rest @ ..]) => {
            let params = rest
                .iter()
                .map(|a| match a {
                    TypeArg::Keyed(k, _, dims) => Ok((k.text.to_string(), read_dims(dims)?)),
                    _ => Err(malformed("tensor_buffer<DTYPE, shape=[...], strides=[...], ...>")),
                })
                .collect::<Result<_, _>>()?;
            Ok(Type::TensorBuffer {
                dtype: read_dtype(d)?,
                params,
            })
        }
        ("tensor_buffer", _) => Err(malformed("tensor_buffer<DTYPE, shape=[...], ...>")),
        ("list", [TypeArg::Type(elem), TypeArg::Dim(len)]) => {
            Ok(Type::List(Box::new(read_type(elem)?), read_dim(len)?))
        }
        ("list", _) => Err(malformed("list<TYPE, LENGTH>")),
        ("tuple", items) => items
            .iter()
            .map(|a| match a {
                TypeArg::Type(t) => read_type(t),
                _ => Err(malformed("tuple<TYPE, ...>")),
            })
            .collect::<Result<_, _>>()
            .map(Type::Tuple),
        ("dict", [TypeArg::Type(k), TypeArg::Type(v)]) => {
            Ok(Type::Dict(Box::new(read_type(k)?), Box::new(read_type(v)?)))
        }
        ("dict", _) => Err(malformed("dict<KEY, VALUE>")),
        _ => Err(unknown_type(t.name)),
    }
}

/// Reads a type written as one word: a dtype, or a tensor type the lexer took as one token.
fn read_word(w: ast::Word) -> Result<Type, Problem> {
    if w.text.starts_with("tensor<") {
        read_tensor_token(w)
    } else {
        DType::from_name(w.text)
            .map(Type::Scalar)
            .ok_or_else(|| unknown_type(w))
    }
}

/// Reads a `tensor<DTYPE, [dims]>` the lexer took as one token; its dims are digits and `?` only.
fn read_tensor_token(w: ast::Word) -> Result<Type, Problem> {
    let text = w.text;
    let bytes = text.as_bytes();
    let base = w.span.start as usize;
    let at = |start: usize, end: usize| Span::new(base + start, base + end);
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut i = "tensor<".len();
    while blank(bytes[i]) {
        i += 1;
    }
    let ds = i;
    while bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let dtype = DType::from_name(&text[ds..i]).ok_or_else(|| not_a_dtype(at(ds, i), &text[ds..i]))?;
    while bytes[i] != b'[' {
        i += 1;
    }
    let open = i;
    let close = open
        + bytes[open..]
            .iter()
            .position(|&b| b == b']')
            .expect("the token has `]`");
    let mut shape = Vec::with_capacity(bytes[open..close].iter().filter(|&&b| b == b',').count() + 1);
    let mut from = open + 1;
    while from <= close {
        let to = from
            + bytes[from..close]
                .iter()
                .position(|&b| b == b',')
                .unwrap_or(close - from);
        let (mut s, mut e) = (from, to);
        while s < e && blank(bytes[s]) {
            s += 1;
        }
        while e > s && blank(bytes[e - 1]) {
            e -= 1;
        }
        if s == e && to == close {
            break; // nothing, or a trailing comma as the grammar allows elsewhere
        }
        shape.push(match &bytes[s..e] {
            b"?" => Dim::Unknown,
            digits => read_size(digits)
                .map(Dim::Known)
                .ok_or_else(|| not_a_dimension(at(s, e), &text[s..e]))?,
        });
        from = to + 1;
    }
    Ok(Type::Tensor { dtype, shape })
}

/// A dimension written in decimal digits, if it is one and fits.
fn read_size(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            .flatten()
    })
}

fn read_dtype(t: &TypeExpr) -> Result<DType, Problem> {
    match (&t.args, DType::from_name(t.name.text)) {
        (None, Some(d)) => Ok(d),
        _ => Err(not_a_dtype(t.span, t.name.text)),
    }
}

/// "`float16` is not a dtype; did you mean `fp16`?", or the list of dtypes when no one is likely.
fn not_a_dtype(span: Span, name: &str) -> Problem {
    let message = match DType::suggest(name) {
        Some(d) => format!("`{name}` is not a dtype; did you mean `{d}`?"),
        None => format!("`{name}` is not a dtype; expected one of {}", dtype_list()),
    };
    (span, message)
}

fn read_dims(dims: &[ast::Dim]) -> Result<Vec<Dim>, Problem> {
    dims.iter().map(read_dim).collect()
}

fn read_dim(d: &ast::Dim) -> Result<Dim, Problem> {
    match d {
        ast::Dim::Unknown(_) => Ok(Dim::Unknown),
        ast::Dim::Size(w) => read_size(w.text.as_bytes())
            .map(Dim::Known)
            .ok_or_else(|| not_a_dimension(w.span, w.text)),
    }
}

fn not_a_dimension(span: Span, text: &str) -> Problem {
    (span, format!("`{text}` is not a dimension (a size ≥ 0 or `?`)"))
}

fn unknown_type(w: ast::Word) -> Problem {
    let name = w.text;
    let message = match DType::suggest(name) {
        Some(d) => format!("unknown type `{name}`; did you mean `{d}`?"),
        None => format!(
            "unknown type `{name}`: expected tensor<...>, state<...>, list<...>, tuple<...>, dict<...> or a dtype"
        ),
    };
    (w.span, message)
}

fn dtype_list() -> String {
    DType::ALL.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use mil_ir::{DType, Type, codes};

    /// A tensor type written again reads as the first time (the lowerer remembers it), and a
    /// bad one is reported at each place it is written, since only good readings are remembered.
    #[test]
    fn repeated_tensor_types_read_alike_and_bad_ones_are_reported_each_time() {
        let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, ?]> a, tensor<fp16, [1, ?]> b, \
                    tensor<fp61, [2]> c, tensor<fp61, [2]> d) {\n    } -> (a);\n}\n";
        let parsed = crate::parse(text);
        let f = &parsed.program.functions[0];
        let ty = |i: usize| &f.value(f.params[i]).ty;
        let expected = Type::Tensor {
            dtype: DType::Fp16,
            shape: vec![mil_ir::Dim::Known(1), mil_ir::Dim::Unknown],
        };
        assert_eq!((ty(0), ty(1)), (&expected, &expected));
        let bad: Vec<(u32, &str)> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.code == codes::BAD_TYPE)
            .map(|d| (d.span.start, &text[d.span.range()]))
            .collect();
        let second = text.rfind("fp61").unwrap() as u32;
        assert_eq!(
            bad,
            [(text.find("fp61").unwrap() as u32, "fp61"), (second, "fp61")]
        );
        assert_eq!(ty(3), &Type::Invalid("tensor<fp61, [2]>".into()));
    }
}
