//! One-op programs built from fuzz bytes, of the ops the ANE rewrites take: a recurrent layer
//! (lstm, gru or rnn, any direction, activations and options), a conv with a kernel beyond the
//! Neural Engine's, a max_pool wider than 8, a matmul with an inner dimension above 32,768, a
//! reduce_prod over any axes. Sizes
//! stay small, so that the interpreter runs each in well under a millisecond or two.

/// Reads the fuzz bytes one at a time, then zeros.
pub struct Bytes<'a>(std::slice::Iter<'a, u8>);

impl<'a> Bytes<'a> {
    /// Bytes from `data`.
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes(data.iter())
    }

    /// A number in `0..n`.
    pub fn pick(&mut self, n: usize) -> usize {
        self.0.next().map_or(0, |&b| b as usize % n.max(1))
    }

    /// One of `items`.
    pub fn one<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.pick(items.len())]
    }

    /// A float in [−1, 1].
    fn unit(&mut self) -> f32 {
        self.pick(256) as f32 / 127.5 - 1.0
    }
}

/// `tensor<fp32, [2, 3]>`.
fn tensor(dtype: &str, shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("tensor<{dtype}, [{}]>", dims.join(", "))
}

/// `tensor<int32, [2]>([1, 2])`.
fn ints(v: &[usize]) -> String {
    let items: Vec<String> = v.iter().map(usize::to_string).collect();
    format!("tensor<int32, [{}]>([{}])", v.len(), items.join(", "))
}

/// The program `results = statement` over `params`, with `consts` before it.
fn program(params: &[String], consts: &[String], results: &[String], statement: &str) -> String {
    let names: Vec<&str> = results.iter().filter_map(|r| r.rsplit(' ').next()).collect();
    let consts: String = consts.iter().map(|c| format!("        {c}\n")).collect();
    format!(
        "program(1.3)\n{{\n    func main<ios18>({}) {{\n{consts}        {} = {statement}[name = string(\"op\")];\n    }} -> ({});\n}}\n",
        params.join(", "),
        results.join(", "),
        names.join(", ")
    )
}

/// A one-op program of one of the five families, its every choice read from `b`.
pub fn one_op(b: &mut Bytes<'_>) -> String {
    let dtype = b.one(&["fp32", "fp16"]);
    match b.pick(5) {
        0 => recurrent(b, dtype),
        1 => conv(b, dtype),
        2 => max_pool(b, dtype),
        3 => matmul(b, dtype),
        _ => reduce_prod(b, dtype),
    }
}

fn recurrent(b: &mut Bytes<'_>, dtype: &str) -> String {
    let kind = b.one(&["rnn", "gru", "lstm"]);
    let (s, n, i, h) = (1 + b.pick(4), 1 + b.pick(2), 1 + b.pick(3), 1 + b.pick(3));
    let direction = if kind == "lstm" {
        b.one(&["forward", "reverse", "bidirectional"])
    } else {
        b.one(&["forward", "reverse"])
    };
    let d = if direction == "bidirectional" { 2 } else { 1 };
    let g = match kind {
        "rnn" => 1,
        "gru" => 3,
        _ => 4,
    };
    let mut consts = Vec::new();
    let mut args = vec!["x = x".to_string(), "initial_h = h0".to_string()];
    let mut constant = |b: &mut Bytes<'_>, name: &str, shape: &[usize]| {
        let count: usize = shape.iter().product();
        let values: Vec<String> = (0..count).map(|_| format!("{:?}", b.unit())).collect();
        let ty = tensor(dtype, shape);
        consts.push(format!(
            "{ty} {name} = const()[name = string(\"{name}\"), val = {ty}([{}])];",
            values.join(", ")
        ));
        args.push(format!("{name} = {name}"));
    };
    for suffix in ["", "_back"].iter().take(d) {
        constant(b, &format!("weight_ih{suffix}"), &[g * h, i]);
        constant(b, &format!("weight_hh{suffix}"), &[g * h, h]);
        if b.pick(2) == 0 {
            constant(b, &format!("bias{suffix}"), &[g * h]);
        }
        if kind == "lstm" && b.pick(2) == 0 {
            constant(b, &format!("peephole{suffix}"), &[3 * h]);
        }
    }
    if kind == "gru" && b.pick(2) == 0 {
        constant(b, "input_bias", &[g * h]);
    }
    let activations = ["sigmoid", "tanh", "relu", "linear", "hard_sigmoid", "scaled_tanh"];
    args.push(format!("direction = string(\"{direction}\")"));
    let output_sequence = b.pick(2) == 0;
    args.push(format!("output_sequence = {output_sequence}"));
    args.push(format!("activation = string(\"{}\")", b.one(&activations)));
    if kind != "rnn" {
        args.push(format!(
            "recurrent_activation = string(\"{}\")",
            b.one(&["sigmoid", "hard_sigmoid"])
        ));
    }
    if kind == "lstm" {
        args.push(format!("cell_activation = string(\"{}\")", b.one(&activations)));
        if b.pick(2) == 0 {
            args.push(format!("clip = {dtype}({:?})", 0.5 + b.pick(4) as f32));
        }
    }
    if kind == "gru" && b.pick(2) == 0 {
        args.push("reset_after = true".into());
    }
    let state = tensor(dtype, &[n, d * h]);
    let mut params = vec![format!("{} x", tensor(dtype, &[s, n, i])), format!("{state} h0")];
    let out = tensor(dtype, &[if output_sequence { s } else { 1 }, n, d * h]);
    let mut results = vec![format!("{out} out"), format!("{state} h")];
    if kind == "lstm" {
        params.push(format!("{state} c0"));
        args.push("initial_c = c0".into());
        results.push(format!("{state} c"));
    }
    program(
        &params,
        &consts,
        &results,
        &format!("{kind}({})", args.join(", ")),
    )
}

/// `pad_type` and its arguments for a window, with the padding it adds per spatial dim.
fn padding(b: &mut Bytes<'_>, input: &[usize], spans: &[usize], strides: &[usize]) -> (String, Vec<usize>) {
    match b.pick(4) {
        0 => ("pad_type = string(\"valid\")".into(), vec![0; input.len()]),
        1 => {
            let pad: Vec<usize> = (0..2 * input.len()).map(|_| b.pick(3)).collect();
            let totals = pad.chunks(2).map(|p| p[0] + p[1]).collect();
            (
                format!("pad = {}, pad_type = string(\"custom\")", ints(&pad)),
                totals,
            )
        }
        k => {
            let totals = (0..input.len())
                .map(|i| {
                    ((input[i].div_ceil(strides[i]) - 1) * strides[i] + spans[i]).saturating_sub(input[i])
                })
                .collect();
            let name = if k == 2 { "same" } else { "same_lower" };
            (format!("pad_type = string(\"{name}\")"), totals)
        }
    }
}

/// The output size of a window over `input` padded by `pad`, spanning `span`, at stride `s`.
fn outputs(input: &[usize], pads: &[usize], spans: &[usize], strides: &[usize]) -> Vec<usize> {
    (0..input.len())
        .map(|i| (input[i] + pads[i] - spans[i]) / strides[i] + 1)
        .collect()
}

fn conv(b: &mut Bytes<'_>, dtype: &str) -> String {
    let kernel: Vec<usize> = match b.pick(4) {
        0 => vec![17 + b.pick(3); 2],
        1 => vec![1, 16 + b.pick(20)],
        2 => vec![32 + b.pick(4), 1],
        _ => vec![16 + b.pick(4)],
    };
    let k = kernel.len();
    let strides: Vec<usize> = (0..k).map(|_| 1 + b.pick(2)).collect();
    let dilations: Vec<usize> = (0..k).map(|_| 1 + b.pick(2)).collect();
    let spans: Vec<usize> = (0..k).map(|i| (kernel[i] - 1) * dilations[i] + 1).collect();
    let spatial: Vec<usize> = spans.iter().map(|&s| s + b.pick(4)).collect();
    let (pad_args, pads) = padding(b, &spatial, &spans, &strides);
    let (cin, cout) = (1 + b.pick(2), 1 + b.pick(2));
    let x = [&[1, cin][..], &spatial].concat();
    let w = [&[cout, cin][..], &kernel].concat();
    let out = [&[1, cout][..], &outputs(&spatial, &pads, &spans, &strides)].concat();
    let statement = format!(
        "conv(dilations = {}, {pad_args}, strides = {}, weight = w, x = x)",
        ints(&dilations),
        ints(&strides)
    );
    let params = [
        format!("{} x", tensor(dtype, &x)),
        format!("{} w", tensor(dtype, &w)),
    ];
    program(
        &params,
        &[],
        &[format!("{} out", tensor(dtype, &out))],
        &statement,
    )
}

fn max_pool(b: &mut Bytes<'_>, dtype: &str) -> String {
    let width = b.one(&[9, 10, 15, 17, 31, 33, 40]);
    let kernel: Vec<usize> = if b.pick(2) == 0 {
        vec![width]
    } else {
        vec![1 + b.pick(3), width]
    };
    let k = kernel.len();
    let strides: Vec<usize> = (0..k).map(|_| 1 + b.pick(3)).collect();
    let spatial: Vec<usize> = kernel.iter().map(|&w| w + b.pick(6)).collect();
    let (pad_args, pads) = padding(b, &spatial, &kernel, &strides);
    let x = [&[1, 1 + b.pick(2)][..], &spatial].concat();
    let out = [&x[..2], &outputs(&spatial, &pads, &kernel, &strides)].concat();
    let statement = format!(
        "max_pool(ceil_mode = false, kernel_sizes = {}, {pad_args}, strides = {}, x = x)",
        ints(&kernel),
        ints(&strides)
    );
    program(
        &[format!("{} x", tensor(dtype, &x))],
        &[],
        &[format!("{} out", tensor(dtype, &out))],
        &statement,
    )
}

fn matmul(b: &mut Bytes<'_>, dtype: &str) -> String {
    let k = 32_769 + b.pick(256) * 16;
    let (m, n) = (1 + b.pick(2), 1 + b.pick(2));
    let (tx, ty) = (b.pick(2) == 1, b.pick(2) == 1);
    let x = if tx { [k, m] } else { [m, k] };
    let y = if ty { [n, k] } else { [k, n] };
    let params = [
        format!("{} x", tensor(dtype, &x)),
        format!("{} y", tensor(dtype, &y)),
    ];
    let statement = format!("matmul(transpose_x = {tx}, transpose_y = {ty}, x = x, y = y)");
    program(
        &params,
        &[],
        &[format!("{} out", tensor(dtype, &[m, n]))],
        &statement,
    )
}

fn reduce_prod(b: &mut Bytes<'_>, dtype: &str) -> String {
    let rank = 1 + b.pick(4);
    let x: Vec<usize> = (0..rank).map(|_| 1 + b.pick(9)).collect();
    // Each axis reduced or not, written negative or not; `axes` absent reduces every axis.
    let mut axes = None;
    if b.pick(4) != 0 {
        let mut chosen = Vec::new();
        for a in 0..rank {
            if b.pick(2) == 0 {
                let negative = b.pick(2) == 1;
                chosen.push((
                    a,
                    if negative {
                        a as i64 - rank as i64
                    } else {
                        a as i64
                    },
                ));
            }
        }
        axes = Some(chosen);
    }
    let reduced = |a: usize| axes.as_ref().is_none_or(|axes| axes.iter().any(|&(r, _)| r == a));
    // A scalar result is not a case the rewrite takes: every axis reduced keeps its dims.
    let keep_dims = b.pick(2) == 1 || (0..rank).all(reduced);
    let out: Vec<usize> = (0..rank)
        .filter_map(|a| match reduced(a) {
            true if keep_dims => Some(1),
            true => None,
            false => Some(x[a]),
        })
        .collect();
    let axes_arg = match &axes {
        None => String::new(),
        Some(axes) => {
            let list: Vec<String> = axes.iter().map(|(_, written)| written.to_string()).collect();
            format!("axes = tensor<int32, [{}]>([{}]), ", axes.len(), list.join(", "))
        }
    };
    program(
        &[format!("{} x", tensor(dtype, &x))],
        &[],
        &[format!("{} out", tensor(dtype, &out))],
        &format!("reduce_prod({axes_arg}keep_dims = {keep_dims}, x = x)"),
    )
}
