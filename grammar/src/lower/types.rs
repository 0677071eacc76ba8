//! Types: `tensor<fp16, [1, ?]>`, bare dtypes, `state<...>`, `tensor_buffer<...>`, `list`, `tuple`, `dict`.

use super::Lowerer;
use crate::ast::{self, TypeArg, TypeExpr};
use mil_ir::{DType, Diagnostic, Dim, Span, Type, codes};

type Problem = (Span, String);

impl Lowerer<'_> {
    /// Reads a type; a malformed one is reported and kept as [`Type::Invalid`].
    pub(super) fn lower_type(&mut self, t: &TypeExpr) -> Type {
        match read_type(t) {
            Ok(ty) => ty,
            Err((span, message)) => {
                self.diags.push(Diagnostic::new(codes::BAD_TYPE, span, message));
                Type::Invalid(self.text(t.span).to_string())
            }
        }
    }
}

fn read_type(t: &TypeExpr) -> Result<Type, Problem> {
    let name = t.name.text;
    if name.starts_with("tensor<") {
        return read_tensor_token(t.name);
    }
    let Some(args) = &t.args else {
        return DType::from_name(name)
            .map(Type::Scalar)
            .ok_or_else(|| unknown_type(t));
    };
    let malformed = |form: &str| (t.span, format!("malformed type: expected `{form}`"));
    match (name, args.as_slice()) {
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
        _ => Err(unknown_type(t)),
    }
}

/// Reads a `tensor<DTYPE, [dims]>` the lexer took as one token; its dims are digits and `?` only.
fn read_tensor_token(w: ast::Word) -> Result<Type, Problem> {
    let text = w.text;
    let base = w.span.start as usize;
    let at = |start: usize, end: usize| Span::new(base + start, base + end);
    // Byte ranges of the non-blank parts between `from` and `to`.
    let trimmed = |from: usize, to: usize| {
        let part = &text[from..to];
        let lead = part.len() - part.trim_start().len();
        (from + lead, (from + part.trim_end().len()).max(from + lead))
    };
    let comma = text.find(',').expect("the token has a comma");
    let (ds, de) = trimmed("tensor<".len(), comma);
    let dtype = DType::from_name(&text[ds..de]).ok_or_else(|| {
        let found = &text[ds..de];
        (
            at(ds, de),
            format!("`{found}` is not a dtype; expected one of {}", dtype_list()),
        )
    })?;
    let open = comma + text[comma..].find('[').expect("the token has `[`");
    let close = text.rfind(']').expect("the token has `]`");
    let mut shape = Vec::with_capacity(text[open..close].bytes().filter(|&b| b == b',').count() + 1);
    if !text[open + 1..close].trim().is_empty() {
        let mut from = open + 1;
        while from <= close {
            let to = from + text[from..close].find(',').unwrap_or(close - from);
            let (s, e) = trimmed(from, to);
            if s == e && to == close {
                break; // a trailing comma, as the grammar allows elsewhere
            }
            shape.push(match &text[s..e] {
                "?" => Dim::Unknown,
                d => Dim::Known(
                    d.parse()
                        .map_err(|_| (at(s, e), format!("`{d}` is not a dimension (a size ≥ 0 or `?`)")))?,
                ),
            });
            from = to + 1;
        }
    }
    Ok(Type::Tensor { dtype, shape })
}

fn read_dtype(t: &TypeExpr) -> Result<DType, Problem> {
    match (&t.args, DType::from_name(t.name.text)) {
        (None, Some(d)) => Ok(d),
        _ => Err((
            t.span,
            format!(
                "`{}` is not a dtype; expected one of {}",
                t.name.text,
                dtype_list()
            ),
        )),
    }
}

fn read_dims(dims: &[ast::Dim]) -> Result<Vec<Dim>, Problem> {
    dims.iter().map(read_dim).collect()
}

fn read_dim(d: &ast::Dim) -> Result<Dim, Problem> {
    match d {
        ast::Dim::Unknown(_) => Ok(Dim::Unknown),
        ast::Dim::Size(w) => w.text.parse::<u64>().map(Dim::Known).map_err(|_| {
            (
                w.span,
                format!("`{}` is not a dimension (a size ≥ 0 or `?`)", w.text),
            )
        }),
    }
}

fn unknown_type(t: &TypeExpr) -> Problem {
    let name = t.name.text;
    let hint = match DType::ALL.iter().find(|d| d.name().eq_ignore_ascii_case(name)) {
        Some(d) => format!("; did you mean `{d}`?"),
        None => String::new(),
    };
    (
        t.name.span,
        format!(
            "unknown type `{name}`: expected tensor<...>, state<...>, list<...>, tuple<...>, dict<...> or a dtype{hint}"
        ),
    )
}

fn dtype_list() -> String {
    DType::ALL.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
}
