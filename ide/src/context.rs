//! The lexical context of the cursor, read from the text rather than the program so that it works
//! in a statement that is still being typed and does not parse yet: which op call the cursor is in,
//! which argument, and whether it is at a key or a value.

use crate::model::Model;
use mil_ir::program::is_identifier;

/// How far back from the cursor the context is looked for.
const LOOK_BACK: usize = 8 << 10;

/// The op call around the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The op kind before `(`.
    pub kind: String,
    /// An opset pinned with `<...>`.
    pub opset: Option<String>,
    /// The index of the argument the cursor is in.
    pub arg_index: usize,
    /// Its key, when written (`key =` before the cursor).
    pub key: Option<String>,
    /// The name being typed, when the argument is a bare name so far (a key or a value).
    pub word: Option<String>,
    /// The keys of the arguments before it.
    pub keys_before: Vec<String>,
    /// Whether the cursor is after the `=` of its argument.
    pub in_value: bool,
}

/// The text of the statement up to `offset`: from the last `;`, `{` or `}` before it.
pub fn statement_prefix(m: &Model, offset: u32) -> String {
    let end = (offset as usize).min(m.rope.len_bytes());
    let end_char = m.rope.byte_to_char(end);
    let start_char = m.rope.byte_to_char(end.saturating_sub(LOOK_BACK));
    let text = m.rope.slice(start_char..end_char).to_string();
    let cut = text.rfind([';', '{', '}']).map_or(0, |i| i + 1);
    text[cut..].to_string()
}

/// Whether a name before `(` starts a typed literal or other non-op parentheses.
fn is_type_name(name: &str) -> bool {
    mil_ir::DType::from_name(name).is_some()
        || matches!(
            name,
            "tensor"
                | "list"
                | "tuple"
                | "dict"
                | "state"
                | "tensor_buffer"
                | "BLOBFILE"
                | "program"
                | "block"
        )
}

/// The op call whose argument list the end of `prefix` is in.
pub fn call_at(prefix: &str) -> Option<Call> {
    let bytes = prefix.as_bytes();
    // Unclosed `(` positions, skipping strings; brackets and angle brackets nest inside.
    let mut opens: Vec<usize> = Vec::new();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'(' => opens.push(i),
                b')' => {
                    opens.pop();
                }
                _ => {}
            }
        }
        i += 1;
    }
    for &open in opens.iter().rev() {
        let head = prefix[..open].trim_end();
        let (before, name, opset) = split_head(head)?;
        if name.is_empty() || is_type_name(name) || before.trim_end().ends_with("func") {
            continue;
        }
        let args = &prefix[open + 1..];
        let (arg_index, current, before) = split_args(args);
        let key_of = |a: &str| {
            let (k, _) = a.split_once('=')?;
            let k = k.trim();
            is_identifier(k).then(|| k.to_string())
        };
        return Some(Call {
            kind: name.to_string(),
            opset,
            arg_index,
            key: key_of(current),
            word: Some(current.trim())
                .filter(|w| is_identifier(w))
                .map(str::to_string),
            keys_before: before.iter().filter_map(|a| key_of(a)).collect(),
            in_value: current.contains('='),
        });
    }
    None
}

/// `name` or `name<opset>` at the end of `head`, with the text before it.
fn split_head(head: &str) -> Option<(&str, &str, Option<String>)> {
    let (head, opset) = match head.strip_suffix('>') {
        Some(rest) => {
            let lt = rest.rfind('<')?;
            (&rest[..lt], Some(rest[lt + 1..].trim().to_string()))
        }
        None => (head, None),
    };
    let start = head
        .char_indices()
        .rfind(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    Some((&head[..start], &head[start..], opset))
}

/// The arguments after `(`: the index of the last one, its text, and the texts of those before it
/// (commas inside brackets, parentheses, braces and strings do not split).
fn split_args(args: &str) -> (usize, &str, Vec<&str>) {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut start = 0;
    let mut parts = Vec::new();
    let mut escaped = false;
    for (i, c) in args.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    (parts.len(), &args[start..], parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_call_and_argument_around_the_cursor() {
        let c = call_at("tensor<fp16, [1]> y = conv(x = x, pad = tensor<int32, [2]>([0, 0]), str").unwrap();
        assert_eq!((c.kind.as_str(), c.arg_index, c.key), ("conv", 2, None));
        assert_eq!(c.keys_before, ["x", "pad"]);
        let c = call_at("y = tensor_buffer_to_tensor<ios17>(x = a, y = fp16(").unwrap();
        assert_eq!(c.kind, "tensor_buffer_to_tensor");
        assert_eq!(c.opset.as_deref(), Some("ios17"));
        assert_eq!((c.key.as_deref(), c.in_value), (Some("y"), true));
        assert_eq!(
            call_at("tensor<fp16, [1]> y = relu(x = x)[name = string(\"a,("),
            None
        );
        assert_eq!(call_at("func main<ios18>(tensor<fp16, [1]> x"), None);
        assert_eq!(call_at("£¡(").map(|c| c.kind), None);
        assert_eq!(call_at("é relu(").map(|c| c.kind), Some("relu".to_string()));
    }
}
