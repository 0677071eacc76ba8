//! Values: typed literals (`tensor<int32, [2]>([1, 1])`, BLOBFILE references, dicts) and the bare
//! literals of hand-written files, checked against their declared type and stored compactly.

use super::Lowerer;
use crate::ast::{ArgValue, Lit, LitBody, TypedLit, Word};
use crate::lexer::Value;
use half::{bf16, f16};
use mil_ir::float::{is_canonical_spelling, parse_float};
use mil_ir::{BlobRef, ConstData, DType, Diagnostic, Dim, Elements, Literal, Span, Type, TypedValue, codes};

impl Lowerer<'_> {
    /// Reads `TYPE(body)`.
    pub(super) fn lower_typed(&mut self, t: &TypedLit) -> TypedValue {
        let ty = self.lower_type(&t.ty);
        let data = match (&t.body, &ty) {
            (_, Type::Invalid(_)) => placeholder(),
            (LitBody::Blob(span, args), Type::Tensor { .. } | Type::Scalar(_)) => {
                self.lower_blob(*span, args)
            }
            (LitBody::Blobfile(span), Type::Tensor { .. } | Type::Scalar(_)) => self.lower_blobfile(*span),
            (LitBody::Items(span), Type::Tensor { dtype, shape }) => {
                ConstData::Tensor(self.lower_items(*dtype, shape, *span))
            }
            (LitBody::Lit(lit), Type::Tensor { dtype, shape }) => {
                ConstData::Tensor(self.lower_elements(*dtype, shape, lit))
            }
            // Every op's `name`: a string literal always fits a string scalar, so it is stored
            // without the checks of `lower_elements`.
            (LitBody::Lit(Lit::Str(w)), Type::Scalar(DType::String)) => {
                ConstData::Tensor(Elements::Str(vec![unescape(w.text)]))
            }
            (LitBody::Lit(lit), Type::Scalar(dtype)) => {
                ConstData::Tensor(self.lower_elements(*dtype, &[], lit))
            }
            (LitBody::Lit(lit), Type::List(..) | Type::Tuple(_) | Type::Dict(..)) => {
                self.check_container_form(&ty, lit);
                ConstData::Literal(self.raw_literal(lit))
            }
            (body, _) => {
                let span = match body {
                    LitBody::Lit(l) => l.span(),
                    LitBody::Blob(s, _) | LitBody::Blobfile(s) | LitBody::Items(s) | LitBody::Empty(s) => *s,
                };
                let what = if matches!(body, LitBody::Empty(_)) {
                    "an empty value"
                } else {
                    "this value"
                };
                self.error(codes::BAD_LITERAL, span, format!("a `{ty}` cannot hold {what}"));
                placeholder()
            }
        };
        TypedValue { ty, data }
    }

    /// Reads a literal written without its type (`keep_dims = true`, `axes = [0, 2]`), inferring the
    /// type from its form, and warns that it should be written typed.
    pub(super) fn lower_bare(&mut self, lit: &Lit) -> TypedValue {
        let Some(ty) = self.infer_bare_type(lit) else {
            self.error(
                codes::BAD_LITERAL,
                lit.span(),
                "this literal needs its type, e.g. `dict<string, string>({...})`",
            );
            return TypedValue {
                ty: Type::Invalid(self.text(lit.span()).to_string()),
                data: placeholder(),
            };
        };
        self.diags.push(Diagnostic::new(
            codes::BARE_LITERAL,
            lit.span(),
            format!("literal without a type: read as `{ty}`; Core ML's files always write the type"),
        ));
        let data = match &ty {
            Type::Tensor { dtype, shape } => ConstData::Tensor(self.lower_elements(*dtype, shape, lit)),
            Type::Scalar(dtype) => ConstData::Tensor(self.lower_elements(*dtype, &[], lit)),
            _ => unreachable!("bare literals are tensors or scalars"),
        };
        TypedValue { ty, data }
    }

    /// A bare `true` / `false` written where a value name could stand.
    pub(super) fn lower_bare_word(&mut self, w: &Word) -> TypedValue {
        self.lower_bare(&Lit::Word(*w))
    }

    fn infer_bare_type(&self, lit: &Lit) -> Option<Type> {
        let scalar = |d: DType| {
            if self.rank0_scalars {
                Type::Tensor {
                    dtype: d,
                    shape: vec![],
                }
            } else {
                Type::Scalar(d)
            }
        };
        match lit {
            Lit::List(..) => {
                let mut shape = Vec::new();
                let mut cur = lit;
                while let Lit::List(_, items) = cur {
                    shape.push(items.len() as u64);
                    match items.first() {
                        Some(first) => cur = first,
                        None => break,
                    }
                }
                let mut leaves = Vec::new();
                flatten(lit, &mut leaves);
                let dtype =
                    leaves
                        .iter()
                        .map(|l| leaf_dtype(l))
                        .try_fold(None, |acc: Option<DType>, d| {
                            let d = d?;
                            Some(Some(match acc {
                                None => d,
                                Some(DType::Int32) if d == DType::Fp32 => DType::Fp32,
                                Some(DType::Fp32) if d == DType::Int32 => DType::Fp32,
                                Some(a) if a == d => a,
                                Some(_) => return None,
                            }))
                        })?;
                Some(Type::tensor(dtype.unwrap_or(DType::Int32), &shape))
            }
            _ => leaf_dtype(lit).map(scalar),
        }
    }

    fn lower_blob(&mut self, span: Span, args: &[(Word, ArgValue)]) -> ConstData {
        let mut path = None;
        let mut offset = None;
        let mut rank0_spelling = false;
        for (key, value) in args {
            let v = match value {
                ArgValue::Typed(value) => self.lower_typed(value),
                ArgValue::Literal(w, kind) => self.lower_typed(&TypedLit::of_lexeme(*w, *kind)),
                _ => {
                    self.error(
                        codes::BAD_LITERAL,
                        value.span(),
                        format!("BLOBFILE's `{}` is a typed literal, e.g. `uint64(64)`", key.text),
                    );
                    continue;
                }
            };
            match key.text {
                "path" => {
                    rank0_spelling = matches!(v.ty, Type::Tensor { .. });
                    path = v.as_str().map(str::to_string);
                }
                "offset" => {
                    offset = match v.elements() {
                        Some(Elements::UInt(x)) if x.len() == 1 && v.ty.dtype() == Some(DType::UInt64) => {
                            Some(x[0])
                        }
                        _ => None,
                    }
                }
                other => self.error(
                    codes::BAD_LITERAL,
                    key.span,
                    format!("BLOBFILE has no parameter `{other}` (it takes `path` and `offset`)"),
                ),
            }
        }
        match (path, offset) {
            (Some(path), Some(offset)) => ConstData::Blob(BlobRef {
                path,
                offset,
                rank0_spelling,
            }),
            _ => {
                self.error(
                    codes::BAD_LITERAL,
                    span,
                    "BLOBFILE needs `path = string(\"...\")` and `offset = uint64(N)`",
                );
                placeholder()
            }
        }
    }

    /// Reads the `BLOBFILE(path = string("..."), offset = uint64(N))` at `span`, which the lexer took
    /// as part of one token (so that spelling, give or take blanks, is certain), straight from its
    /// text: the path is the token's only string, and the offset's digits follow its last `(`. An
    /// offset beyond uint64 is read the long way, as the typed literal it is, to be reported as one.
    fn lower_blobfile(&mut self, span: Span) -> ConstData {
        let text = self.text(span);
        // Byte loops rather than `str::find` and `rfind`: each part lies at most a few dozen bytes
        // from where its search starts, too near for `memchr`'s setup to pay.
        let (bytes, spelling) = (text.as_bytes(), "the token has a path string and `uint64(`");
        let open = bytes.iter().position(|&b| b == b'"').expect(spelling);
        let uint = bytes.iter().rposition(|&b| b == b'(').expect(spelling);
        let close = bytes[..uint].iter().rposition(|&b| b == b'"').expect(spelling);
        let offset = text[uint + 1..].trim_start_matches([' ', '\t']);
        let digits = &offset[..offset.bytes().take_while(u8::is_ascii_digit).count()];
        match digits.parse::<u64>() {
            Ok(offset) => ConstData::Blob(BlobRef {
                path: unescape(&text[open..=close]),
                offset,
                rank0_spelling: false,
            }),
            Err(_) => self.lower_blob(span, &blobfile_args(self.src, span)),
        }
    }

    /// Reads tensor elements and checks them against the dtype and the shape.
    fn lower_elements(&mut self, dtype: DType, shape: &[Dim], lit: &Lit) -> Elements {
        let mut check = ElementCheck::default();
        let (out, count) = match lit {
            Lit::List(_, items) => {
                let mut leaves = Vec::with_capacity(items.len());
                flatten(lit, &mut leaves);
                let mut out = Elements::with_capacity(dtype, leaves.len());
                for leaf in &leaves {
                    check.push(&mut out, dtype, leaf);
                }
                (out, leaves.len())
            }
            leaf => {
                let mut out = Elements::with_capacity(dtype, 1);
                check.push(&mut out, dtype, leaf);
                (out, 1)
            }
        };
        self.report(check, dtype);
        let form = Form {
            list: matches!(lit, Lit::List(..)),
            flat: is_flat(lit),
            nested: nested_as(lit, shape),
        };
        self.check_shape(shape, lit.span(), count, form);
        out
    }

    /// Reads the flat list `[a, b, ...]` at `span` that the lexer took as part of one token, element
    /// by element, with the checks of [`Self::lower_elements`]. The token makes each element one
    /// lexeme between blanks and commas, so the items are cut and trimmed byte by byte (their
    /// shortness makes a search for each comma cost more than that).
    fn lower_items(&mut self, dtype: DType, shape: &[Dim], span: Span) -> Elements {
        let text = self.text(span);
        let inner = &text[1..text.len() - 1];
        let mut out = Elements::with_capacity(dtype, inner.bytes().filter(|&b| b == b',').count() + 1);
        let mut check = ElementCheck::default();
        let mut count = 0;
        let mut at = 1;
        for item in inner.as_bytes().split(|&b| b == b',') {
            let lead = item
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(item.len());
            let len = item[lead..]
                .iter()
                .position(u8::is_ascii_whitespace)
                .unwrap_or(item.len() - lead);
            if len > 0 {
                let start = at + lead;
                let leaf = crate::ast::leaf(&text[start..start + len], span.start as usize + start);
                check.push(&mut out, dtype, &leaf);
                count += 1;
            }
            at += item.len() + 1;
        }
        self.report(check, dtype);
        let form = Form {
            list: true,
            flat: true,
            nested: matches!(shape, [Dim::Known(n)] if *n == count as u64),
        };
        self.check_shape(shape, span, count, form);
        out
    }

    /// Reports what [`ElementCheck`] found.
    fn report(&mut self, check: ElementCheck, dtype: DType) {
        if let Some((span, msg)) = check.bad {
            self.error(codes::LITERAL_DTYPE, span, msg);
        }
        if let Some(span) = check.decimal {
            self.diags.push(Diagnostic::new(
                codes::DECIMAL_FLOAT,
                span,
                format!(
                    "decimal float in a {dtype} literal; Core ML's files write hex floats (mil fmt converts)"
                ),
            ));
        }
        if let Some(span) = check.inexact {
            self.diags.push(Diagnostic::new(
                codes::INEXACT_FLOAT,
                span,
                format!("this value is not exactly representable as {dtype} and is rounded"),
            ));
        }
    }

    /// Checks a literal of `count` elements at `span`, written in `form`, against `shape`.
    fn check_shape(&mut self, shape: &[Dim], span: Span, count: usize, form: Form) {
        let expected = shape.iter().try_fold(1u64, |acc, d| match d {
            Dim::Known(n) => acc.checked_mul(*n).ok_or(true),
            Dim::Unknown => Err(false),
        });
        let dims = || {
            format!(
                "[{}]",
                shape.iter().map(Dim::to_string).collect::<Vec<_>>().join(", ")
            )
        };
        match expected {
            Err(true) => self.error(codes::ELEMENT_COUNT, span, format!("shape {} overflows", dims())),
            Err(false) => {}
            Ok(n) if n != count as u64 => self.error(
                codes::ELEMENT_COUNT,
                span,
                format!(
                    "{count} element{} for shape {}, which holds {n}",
                    if count == 1 { "" } else { "s" },
                    dims()
                ),
            ),
            Ok(_) if form.nested => {}
            Ok(_) if shape.len() >= 2 && form.flat => self.diags.push(Diagnostic::new(
                codes::FLAT_TENSOR_LITERAL,
                span,
                format!(
                    "flat list for shape {}; Core ML's files nest one list per dimension",
                    dims()
                ),
            )),
            Ok(_) if !shape.is_empty() && !form.list => self.diags.push(Diagnostic::new(
                codes::FLAT_TENSOR_LITERAL,
                span,
                format!("single value for shape {}; write it as a nested list", dims()),
            )),
            Ok(_) => self.error(
                codes::ELEMENT_COUNT,
                span,
                format!("the nesting of this literal does not match shape {}", dims()),
            ),
        }
    }

    fn check_container_form(&mut self, ty: &Type, lit: &Lit) {
        let ok = matches!(
            (ty, lit),
            (Type::List(..), Lit::List(..))
                | (Type::Tuple(_), Lit::Tuple(..))
                | (Type::Dict(..), Lit::Braces(..))
        );
        if !ok {
            let form = match ty {
                Type::List(..) => "[a, b, ...]",
                Type::Tuple(_) => "(a, b, ...)",
                _ => "{{key, value}, ...}",
            };
            self.error(
                codes::BAD_LITERAL,
                lit.span(),
                format!("a `{ty}` is written `{form}`"),
            );
        }
    }

    /// Converts a literal to its raw form, keeping number lexemes.
    fn raw_literal(&mut self, lit: &Lit) -> Literal {
        match lit {
            Lit::Number(w) => Literal::Number(w.text.to_string()),
            Lit::Str(w) => Literal::Str(unescape(w.text)),
            Lit::Word(w) => match w.text {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "inf" | "nan" => Literal::Number(w.text.to_string()),
                other => {
                    self.error(codes::BAD_LITERAL, w.span, format!("`{other}` is not a literal"));
                    Literal::Str(other.to_string())
                }
            },
            Lit::Negated(span, _) => Literal::Number(self.text(*span).replace(char::is_whitespace, "")),
            Lit::List(_, items) => Literal::List(items.iter().map(|l| self.raw_literal(l)).collect()),
            Lit::Tuple(_, items) => Literal::Tuple(items.iter().map(|l| self.raw_literal(l)).collect()),
            Lit::Braces(_, items) => {
                let mut pairs = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Lit::Braces(_, kv) if kv.len() == 2 => {
                            pairs.push((self.raw_literal(&kv[0]), self.raw_literal(&kv[1])))
                        }
                        _ => self.error(
                            codes::BAD_LITERAL,
                            item.span(),
                            "a dict entry is written `{key, value}`",
                        ),
                    }
                }
                Literal::Dict(pairs)
            }
        }
    }
}

/// What a placeholder for an unreadable value holds.
fn placeholder() -> ConstData {
    ConstData::Literal(Literal::List(Vec::new()))
}

/// How a tensor literal is written, for checking it against its shape.
struct Form {
    /// It is a list (not a single value).
    list: bool,
    /// It is a list of single values.
    flat: bool,
    /// It nests one list per dimension of the shape.
    nested: bool,
}

/// What reading a literal's elements found: the first element of the wrong dtype (with why), the
/// first decimal float and the first float that had to be rounded.
#[derive(Default)]
struct ElementCheck {
    bad: Option<(Span, String)>,
    decimal: Option<Span>,
    inexact: Option<Span>,
}

impl ElementCheck {
    /// Appends `leaf` to `out`, noting what is wrong with it.
    fn push(&mut self, out: &mut Elements, dtype: DType, leaf: &Lit) {
        match push_element(out, dtype, leaf) {
            Ok(Pushed { decimal, inexact }) => {
                self.decimal = self.decimal.or(decimal.then(|| leaf.span()));
                self.inexact = self.inexact.or(inexact.then(|| leaf.span()));
            }
            Err(msg) if self.bad.is_none() => self.bad = Some((leaf.span(), msg)),
            Err(_) => {}
        }
    }
}

/// The `path` and `offset` parameters of the `BLOBFILE(path = string("..."), offset = uint64(N))` at
/// `span`, which the lexer took as part of one token (so that spelling, give or take blanks, is
/// certain: each part is found by its first letter).
fn blobfile_args(src: &str, span: Span) -> [(Word<'_>, ArgValue<'_>); 2] {
    let bytes = src.as_bytes();
    let find = |from: usize, c: u8| from + bytes[from..].iter().position(|&b| b == c).expect("in the token");
    let path = find(span.start as usize + "BLOBFILE".len(), b'p');
    let string = find(path, b's');
    let quote = find(string, b'"');
    let mut escaped = false;
    let close = quote
        + 1
        + bytes[quote + 1..]
            .iter()
            .position(|&b| {
                let end = b == b'"' && !escaped;
                escaped = b == b'\\' && !escaped;
                end
            })
            .expect("the string closes");
    let string_end = find(close, b')') + 1;
    let offset = find(string_end, b'o');
    let uint = find(offset, b'u');
    let uint_end = find(uint, b')') + 1;
    let typed = |start: usize, end: usize| {
        let lexeme = Word {
            text: &src[start..end],
            span: Span::new(start, end),
        };
        ArgValue::Literal(lexeme, Value::Scalar)
    };
    [
        (crate::ast::key_word(src, path), typed(string, string_end)),
        (crate::ast::key_word(src, offset), typed(uint, uint_end)),
    ]
}

fn flatten<'l, 'a>(lit: &'l Lit<'a>, out: &mut Vec<&'l Lit<'a>>) {
    match lit {
        Lit::List(_, items) => items.iter().for_each(|i| flatten(i, out)),
        _ => out.push(lit),
    }
}

fn nested_as(lit: &Lit, shape: &[Dim]) -> bool {
    match (shape.split_first(), lit) {
        (None, Lit::List(..)) => false,
        (None, _) => true,
        (Some((d, rest)), Lit::List(_, items)) => {
            matches!(d, Dim::Known(n) if *n == items.len() as u64) && items.iter().all(|i| nested_as(i, rest))
        }
        (Some(_), _) => false,
    }
}

fn is_flat(lit: &Lit) -> bool {
    matches!(lit, Lit::List(_, items) if items.iter().all(|i| !matches!(i, Lit::List(..))))
}

fn leaf_dtype(lit: &Lit) -> Option<DType> {
    match lit {
        Lit::Number(w) if is_integer(w.text) => Some(DType::Int32),
        Lit::Number(_) | Lit::Negated(..) => Some(DType::Fp32),
        Lit::Word(w) if matches!(w.text, "true" | "false") => Some(DType::Bool),
        Lit::Word(w) if matches!(w.text, "inf" | "nan") => Some(DType::Fp32),
        Lit::Str(_) => Some(DType::String),
        _ => None,
    }
}

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

struct Pushed {
    decimal: bool,
    inexact: bool,
}

const EXACT: Pushed = Pushed {
    decimal: false,
    inexact: false,
};

/// Appends one leaf to `out` (a default value when it does not fit, so counts stay aligned).
fn push_element(out: &mut Elements, dtype: DType, leaf: &Lit) -> Result<Pushed, String> {
    let found = || format!("expected a {dtype} element, found `{}`", leaf_text(leaf));
    match out {
        Elements::F16(_) | Elements::Bf16(_) | Elements::F32(_) | Elements::F64(_) => {
            let (text, value) = match leaf {
                Lit::Number(w) => (w.text.to_string(), parse_float(w.text)),
                Lit::Word(w) if matches!(w.text, "inf" | "nan") => (w.text.to_string(), parse_float(w.text)),
                Lit::Negated(_, w) if matches!(w.text, "inf" | "nan") => {
                    (format!("-{}", w.text), parse_float(&format!("-{}", w.text)))
                }
                _ => (String::new(), None),
            };
            let Some(v) = value else {
                push_default(out);
                return Err(found());
            };
            let canonical = is_canonical_spelling(&text);
            let rounded = match out {
                Elements::F16(e) => {
                    let h = f16::from_f64(v);
                    e.push(h);
                    f64::from(h)
                }
                Elements::Bf16(e) => {
                    let h = bf16::from_f64(v);
                    e.push(h);
                    f64::from(h)
                }
                Elements::F32(e) => {
                    let x = if canonical {
                        v as f32
                    } else {
                        text.parse::<f32>().unwrap_or(v as f32)
                    };
                    e.push(x);
                    f64::from(x)
                }
                Elements::F64(e) => {
                    e.push(v);
                    v
                }
                _ => unreachable!("float storage"),
            };
            if rounded.is_infinite() && v.is_finite() {
                return Err(format!("`{text}` is out of range for {dtype}"));
            }
            Ok(Pushed {
                decimal: !canonical,
                inexact: canonical && !v.is_nan() && rounded != v,
            })
        }
        Elements::Int(_) | Elements::UInt(_) => {
            let value = match leaf {
                Lit::Number(w) if is_integer(w.text) => w.text.parse::<i128>().ok(),
                _ => None,
            };
            let (lo, hi) = dtype.int_range().unwrap_or((i64::MIN as i128, u64::MAX as i128));
            match (value, &mut *out) {
                (Some(v), Elements::Int(e)) if (lo..=hi).contains(&v) => e.push(v as i64),
                (Some(v), Elements::UInt(e)) if (lo..=hi).contains(&v) => e.push(v as u64),
                (Some(_), _) => {
                    push_default(out);
                    return Err(format!(
                        "`{}` is out of range for {dtype} ({lo}..={hi})",
                        leaf_text(leaf)
                    ));
                }
                (None, _) => {
                    push_default(out);
                    return Err(found());
                }
            }
            Ok(EXACT)
        }
        Elements::Bool(e) => match leaf {
            Lit::Word(w) if matches!(w.text, "true" | "false") => {
                e.push(w.text == "true");
                Ok(EXACT)
            }
            _ => {
                e.push(false);
                Err(found())
            }
        },
        Elements::Str(e) => match leaf {
            Lit::Str(w) => {
                e.push(unescape(w.text));
                Ok(EXACT)
            }
            _ => {
                e.push(String::new());
                Err(found())
            }
        },
    }
}

fn push_default(out: &mut Elements) {
    match out {
        Elements::F16(e) => e.push(f16::ZERO),
        Elements::Bf16(e) => e.push(bf16::ZERO),
        Elements::F32(e) => e.push(0.0),
        Elements::F64(e) => e.push(0.0),
        Elements::Int(e) => e.push(0),
        Elements::UInt(e) => e.push(0),
        Elements::Bool(e) => e.push(false),
        Elements::Str(e) => e.push(String::new()),
    }
}

fn leaf_text(leaf: &Lit) -> String {
    match leaf {
        Lit::Number(w) | Lit::Str(w) | Lit::Word(w) => w.text.to_string(),
        Lit::Negated(_, w) => format!("-{}", w.text),
        Lit::List(..) => "[...]".into(),
        Lit::Braces(..) => "{...}".into(),
        Lit::Tuple(..) => "(...)".into(),
    }
}

/// The contents of a string lexeme (with its quotes): `\"`, `\\`, `\n`, `\t`, `\r` and `\xHH`
/// (the printer's spelling of other control characters) are unescaped; any other escaped character
/// stands for itself.
fn unescape(lexeme: &str) -> String {
    let inner = lexeme.strip_prefix('"').unwrap_or(lexeme);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('x') => {
                let hex: String = chars.clone().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if hex.len() == 2 && b.is_ascii() => {
                        out.push(b as char);
                        chars.nth(1);
                    }
                    _ => out.push('x'),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use mil_ir::{BlobRef, ConstData};

    /// A BLOBFILE reference the lexer reads as one token, with `(`, `)` and an escaped quote in its
    /// path and blanks around its offset, reads as written.
    #[test]
    fn one_token_blobfile_reads_path_and_offset() {
        let text = "program(1.3)\n{\n    func main<ios18>() {\n        \
            tensor<fp16, [2]> w = const()[name = string(\"w\"), val = tensor<fp16, [2]>(\
            BLOBFILE(path = string(\"w(1)\\\"x).bin\"), offset = uint64( 128 )))];\n    } -> (w);\n}\n";
        let parsed = crate::parse(text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let val = parsed.program.functions[0].ops[0].attribute("val").unwrap();
        let expected = BlobRef {
            path: "w(1)\"x).bin".to_string(),
            offset: 128,
            rank0_spelling: false,
        };
        assert_eq!(val.data, ConstData::Blob(expected));
    }
}
