//! Whole programs through the interpreter, checked against values worked by hand or computed with
//! numpy (the numpy expression is written beside each expectation).

use mil_eval::inputs;
use mil_eval::{Interpreter, Named, Tensor};
use mil_ir::{DType, Severity};
use std::path::Path;

/// Parses `body` as the statements of `func main<ios18>(params)` returning `outputs`.
fn program(params: &str, body: &str, outputs: &str) -> mil_ir::Program {
    let text =
        format!("program(1.3)\n{{\n    func main<ios18>({params}) {{\n{body}\n    }} -> ({outputs});\n}}\n");
    parse(&text)
}

fn parse(text: &str) -> mil_ir::Program {
    let parsed = mil_grammar::parse(text);
    let errors: Vec<_> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    parsed.program
}

fn run_in(p: &mil_ir::Program, dir: Option<&Path>, inputs: Named) -> Result<Named, mil_eval::EvalError> {
    let interp = Interpreter::new(p, dir);
    let f = interp.function(None)?;
    let problems = inputs::check(f, &inputs);
    assert!(problems.is_empty(), "{problems:?}");
    interp.run(f, inputs)
}

fn run(p: &mil_ir::Program, inputs: Named) -> Named {
    run_in(p, None, inputs).unwrap()
}

fn f32s(dtype: DType, shape: &[usize], v: &[f32]) -> Tensor {
    Tensor::from_f32(dtype, shape.to_vec(), v.to_vec())
}

fn close(got: &Tensor, want: &[f32], tol: f32) {
    let g = got.to_f32().unwrap();
    assert_eq!(g.len(), want.len(), "{g:?} vs {want:?}");
    for (a, b) in g.iter().zip(want) {
        assert!((a - b).abs() <= tol * (1.0 + b.abs()), "{g:?} vs {want:?}");
    }
}

#[test]
fn conv_with_same_padding_and_stride_matches_numpy() {
    let p = program(
        "tensor<fp32, [1, 1, 5, 5]> x",
        r#"            tensor<fp32, [1, 1, 3, 3]> w = const()[name = string("w"), val = tensor<fp32, [1, 1, 3, 3]>([1, 0, -1, 2, 0, -2, 1, 0, -1])];
            tensor<fp32, [1, 1, 3, 3]> y = conv(x = x, weight = w, strides = [2, 2], pad_type = "same", dilations = [1, 1], groups = 1)[name = string("y")];"#,
        "y",
    );
    let x: Vec<f32> = (1..=25).map(|v| v as f32).collect();
    let out = run(&p, vec![("x".into(), f32s(DType::Fp32, &[1, 1, 5, 5], &x))]);
    // numpy: zero-pad 1, 3×3 windows at stride 2, times the Sobel kernel, summed.
    close(
        &out[0].1,
        &[-11.0, -6.0, 17.0, -48.0, -8.0, 56.0, -61.0, -6.0, 67.0],
        0.0,
    );
    assert_eq!(out[0].1.shape, [1, 1, 3, 3]);
}

#[test]
fn matmul_softmax_layer_norm_and_pool_match_numpy() {
    let p = program(
        "tensor<fp32, [2, 3]> a, tensor<fp32, [3, 2]> b, tensor<fp32, [3]> s, tensor<fp32, [2, 4]> v, tensor<fp32, [1, 1, 4, 4]> q",
        r#"            tensor<fp32, [2, 2]> m = matmul(x = a, y = b, transpose_x = false, transpose_y = false)[name = string("m")];
            tensor<fp32, [3]> sm = softmax(x = s, axis = 0)[name = string("sm")];
            tensor<fp32, [2, 4]> ln = layer_norm(x = v, axes = [-1], epsilon = 1e-5)[name = string("ln")];
            tensor<fp32, [1, 1, 2, 2]> mp = max_pool(x = q, kernel_sizes = [2, 2], strides = [2, 2], pad_type = "valid")[name = string("mp")];"#,
        "m, sm, ln, mp",
    );
    let out = run(
        &p,
        vec![
            (
                "a".into(),
                f32s(DType::Fp32, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            ),
            (
                "b".into(),
                f32s(DType::Fp32, &[3, 2], &[1.0, -1.0, 0.0, 2.0, 3.0, 1.0]),
            ),
            ("s".into(), f32s(DType::Fp32, &[3], &[1.0, 2.0, 3.0])),
            (
                "v".into(),
                f32s(DType::Fp32, &[2, 4], &[1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0, 8.0]),
            ),
            (
                "q".into(),
                f32s(
                    DType::Fp32,
                    &[1, 1, 4, 4],
                    &(0..16).map(|v| v as f32).collect::<Vec<_>>(),
                ),
            ),
        ],
    );
    close(&out[0].1, &[10.0, 6.0, 22.0, 12.0], 0.0); // a @ b
    close(&out[1].1, &[0.09003057, 0.24472846, 0.66524094], 1e-6); // exp(s) / exp(s).sum()
    // (v - v.mean(-1)) / sqrt(v.var(-1) + 1e-5)
    close(
        &out[2].1,
        &[
            -1.3416355,
            -0.44721183,
            0.44721183,
            1.3416355,
            -1.3416395,
            -0.44721317,
            0.44721317,
            1.3416395,
        ],
        1e-5,
    );
    close(&out[3].1, &[5.0, 7.0, 13.0, 15.0], 0.0); // q.reshape(2,2,2,2).max(axis=(1,3))
}

#[test]
fn fp16_results_are_rounded_and_ints_are_exact() {
    let p = program(
        "tensor<fp16, [2]> x, tensor<int32, [4]> i, tensor<int32, [4]> j",
        r#"            tensor<fp16, [2]> y = add(x = x, y = fp16(0x1p-11))[name = string("y")];
            tensor<int32, [4]> q = floor_div(x = i, y = j)[name = string("q")];
            tensor<int32, [4]> r = mod(x = i, y = j)[name = string("r")];"#,
        "y, q, r",
    );
    let ints = |v: &[i64]| Tensor::from_i64(DType::Int32, vec![4], v.to_vec());
    let out = run(
        &p,
        vec![
            ("x".into(), f32s(DType::Fp16, &[2], &[1.0, 3.0])),
            ("i".into(), ints(&[7, -7, 7, -7])),
            ("j".into(), ints(&[2, 2, -2, -2])),
        ],
    );
    // 1 + 2^-11 is a tie between 1 and 1 + 2^-10 in fp16 and rounds to even (1); 3 + 2^-11 rounds to 3.
    assert_eq!(out[0].1.dtype, DType::Fp16);
    assert_eq!(out[0].1.to_f32().unwrap(), [1.0, 3.0]);
    // np.floor_divide / np.mod of [7, -7, 7, -7] by [2, 2, -2, -2]
    assert_eq!(out[1].1.to_i64().unwrap(), [3, -4, -4, 3]);
    assert_eq!(out[2].1.to_i64().unwrap(), [1, 1, -1, -1]);
}

#[test]
fn cond_and_while_loop_run_their_blocks() {
    let p = program(
        "int32 n, tensor<fp32, [2]> v",
        r#"            int32 i_out, tensor<fp32, [2]> v_out = while_loop(loop_vars = (n, v))[name = string("loop")]
                block(int32 i, tensor<fp32, [2]> a) {
                        bool more = greater(x = i, y = int32(0))[name = string("more")];
                    } -> (more)
                block(int32 j, tensor<fp32, [2]> b) {
                        int32 j_next = sub(x = j, y = int32(1))[name = string("j_next")];
                        tensor<fp32, [2]> b_next = mul(x = b, y = fp32(2))[name = string("b_next")];
                    } -> (j_next, b_next);
            bool big = greater(x = n, y = int32(2))[name = string("big")];
            tensor<fp32, [2]> picked = cond(pred = big)[name = string("picked")]
                block() {
                        tensor<fp32, [2]> neg = mul(x = v_out, y = fp32(-1))[name = string("neg")];
                    } -> (neg)
                block() {
                    } -> (v_out);"#,
        "i_out, v_out, picked",
    );
    let v = f32s(DType::Fp32, &[2], &[1.0, -0.5]);
    let out = run(
        &p,
        vec![
            ("n".into(), Tensor::from_i64(DType::Int32, vec![], vec![3])),
            ("v".into(), v.clone()),
        ],
    );
    assert_eq!(out[0].1.to_i64().unwrap(), [0]);
    close(&out[1].1, &[8.0, -4.0], 0.0); // doubled three times
    close(&out[2].1, &[-8.0, 4.0], 0.0); // n = 3 > 2: the true branch
    let out = run(
        &p,
        vec![
            ("n".into(), Tensor::from_i64(DType::Int32, vec![], vec![1])),
            ("v".into(), v),
        ],
    );
    close(&out[2].1, &[2.0, -1.0], 0.0); // n = 1: the false branch
}

#[test]
fn state_is_read_written_and_returned() {
    let p = program(
        "state<tensor<fp16, [2]>> s, tensor<fp16, [2]> x",
        r#"            tensor<fp16, [2]> old = read_state(input = s)[name = string("old")];
            tensor<fp16, [2]> sum = add(x = old, y = x)[name = string("sum")];
            write_state(data = sum, input = s)[name = string("w")];
            tensor<fp16, [2]> now = read_state(input = s)[name = string("now")];"#,
        "now",
    );
    let out = run(
        &p,
        vec![
            ("s".into(), f32s(DType::Fp16, &[2], &[1.0, 2.0])),
            ("x".into(), f32s(DType::Fp16, &[2], &[0.5, 0.25])),
        ],
    );
    assert_eq!(
        out.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["now", "s"]
    );
    close(&out[0].1, &[1.5, 2.25], 0.0);
    close(&out[1].1, &[1.5, 2.25], 0.0);
}

#[test]
fn blobfile_constants_and_decompressions_are_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("weights")).unwrap();
    let file = std::fs::File::create(dir.path().join("weights/weight.bin")).unwrap();
    let mut blobs = mil_proto::blob::BlobWriter::new(file).unwrap();
    let bytes: Vec<u8> = [0.5f32, -1.0, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let offset = blobs.append_bytes(DType::Fp32, 3, &bytes).unwrap();
    blobs.finish().unwrap();
    let p = program(
        "tensor<fp32, [3]> x",
        &format!(
            r#"            tensor<fp32, [3]> w = const()[name = string("w"), val = tensor<fp32, [3]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64({offset})))];
            tensor<fp32, [3]> y = mul(x = x, y = w)[name = string("y")];
            tensor<fp16, [2, 2]> dq = constexpr_blockwise_shift_scale(data = tensor<int8, [2, 2]>([1, 2, 3, 4]), scale = tensor<fp16, [2, 1]>([0.5, 2]), offset = tensor<int8, [2, 1]>([1, 0]))[name = string("dq")];
            tensor<fp16, [2, 2]> lut = constexpr_lut_to_dense(indices = tensor<uint2, [2, 2]>([0, 1, 2, 3]), lut = tensor<fp16, [1, 1, 4, 1]>([10, 20, 30, 40]))[name = string("lut")];"#
        ),
        "y, dq, lut",
    );
    let out = run_in(
        &p,
        Some(dir.path()),
        vec![("x".into(), f32s(DType::Fp32, &[3], &[2.0, 3.0, 4.0]))],
    )
    .unwrap();
    close(&out[0].1, &[1.0, -3.0, 8.0], 0.0);
    // (data - offset) * scale, each row with its own scale and offset: [[0, 0.5], [6, 8]]
    close(&out[1].1, &[0.0, 0.5, 6.0, 8.0], 0.0);
    close(&out[2].1, &[10.0, 20.0, 30.0, 40.0], 0.0);
    // Without a folder, the BLOBFILE reference is an error that names the op.
    let err = run_in(
        &p,
        None,
        vec![("x".into(), f32s(DType::Fp32, &[3], &[2.0, 3.0, 4.0]))],
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("const \"w\": "), "{err}");
}

#[test]
fn an_unsupported_op_is_an_error_naming_it() {
    let p = program(
        "tensor<fp32, [2]> x",
        r#"            tensor<fp32, [2]> y = frobnicate(x = x)[name = string("y")];"#,
        "y",
    );
    let err = run_in(&p, None, vec![("x".into(), f32s(DType::Fp32, &[2], &[1.0, 2.0]))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "frobnicate \"y\": op `frobnicate` is not supported by the interpreter yet"
    );
}

#[test]
fn inputs_are_checked_by_name_shape_and_dtype() {
    let p = program("tensor<fp32, [2, ?]> x, tensor<int32, [3]> k", "", "x");
    let f = &p.functions[0];
    let good = vec![
        ("x".to_string(), f32s(DType::Fp32, &[2, 7], &[0.0; 14])),
        (
            "k".to_string(),
            Tensor::from_i64(DType::Int32, vec![3], vec![1, 2, 3]),
        ),
    ];
    assert!(inputs::check(f, &good).is_empty());
    let bad = vec![
        ("x".to_string(), f32s(DType::Fp16, &[3, 7], &[0.0; 21])),
        ("z".to_string(), f32s(DType::Fp32, &[1], &[0.0])),
    ];
    let problems = inputs::check(f, &bad);
    assert_eq!(
        problems,
        [
            "input `x` is fp16 but the function takes fp32 (tensor<fp32, [2, ?]>)",
            "input `x` has shape [3, 7] but the function takes tensor<fp32, [2, ?]>",
            "input `k` (tensor<int32, [3]>) is missing",
            "`z` is not an input of `main` (its inputs: x, k)",
        ]
    );
    let err = inputs::random(f, 1).unwrap_err();
    assert!(err.contains("unknown dim"), "{err}");
}

/// The samples and the corpus files that run on their own (no weight file, no unknown input dim)
/// give finite outputs on random inputs.
#[test]
fn samples_and_corpus_files_run_to_finite_outputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files: Vec<_> = std::fs::read_dir(root.join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let corpus = root.join("../../shared/corpus");
    if let Ok(dir) = std::fs::read_dir(&corpus) {
        files.extend(dir.map(|e| e.unwrap().path()));
    }
    let mut ran = 0;
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "mil")) {
        let text = std::fs::read_to_string(path).unwrap();
        if text.contains("BLOBFILE") {
            continue;
        }
        let parsed = mil_grammar::parse(&text);
        if parsed.diagnostics.iter().any(|d| d.severity == Severity::Error) {
            continue;
        }
        let interp = Interpreter::new(&parsed.program, path.parent());
        let f = interp.function(None).unwrap();
        let Ok(given) = inputs::random(f, 7) else { continue };
        let out = interp
            .run(f, given)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (name, t) in out {
            if let Ok(v) = t.to_f32() {
                assert!(
                    v.iter().all(|x| x.is_finite()),
                    "{}: {name} has non-finite values",
                    path.display()
                );
            }
        }
        ran += 1;
    }
    assert!(ran >= 8, "only {ran} programs ran");
}

#[test]
fn lists_grow_and_are_read_back() {
    let p = program(
        "tensor<fp32, [2]> a, tensor<fp32, [2]> b",
        r#"            list<tensor<fp32, [2]>, ?> ls = make_list(init_length = int32(1), dynamic_length = true, elem_shape = (int32(2)), dtype = "fp32")[name = string("ls")];
            list<tensor<fp32, [2]>, ?> w0 = list_write(ls = ls, index = int32(0), value = a)[name = string("w0")];
            list<tensor<fp32, [2]>, ?> w2 = list_write(ls = w0, index = int32(2), value = b)[name = string("w2")];
            int32 n = list_length(ls = w2)[name = string("n")];
            tensor<fp32, [3, 2]> all = list_gather(ls = w2, indices = [2, 1, 0])[name = string("all")];
            tensor<fp32, [2]> first = list_read(ls = w2, index = int32(0))[name = string("first")];"#,
        "n, all, first",
    );
    let out = run(
        &p,
        vec![
            ("a".into(), f32s(DType::Fp32, &[2], &[1.0, 2.0])),
            ("b".into(), f32s(DType::Fp32, &[2], &[3.0, 4.0])),
        ],
    );
    // Writing index 2 of a one-item list grows it to three items, the new middle one zeros.
    assert_eq!(out[0].1.to_i64().unwrap(), [3]);
    close(&out[1].1, &[3.0, 4.0, 0.0, 0.0, 1.0, 2.0], 0.0);
    close(&out[2].1, &[1.0, 2.0], 0.0);
}

#[test]
fn sparse_decompressions_give_masks_and_values() {
    let p = program(
        "tensor<fp16, [2, 2]> x",
        r#"            tensor<uint1, [2, 2]> m, tensor<fp16, [2]> v = constexpr_lut_to_sparse(indices_mask = tensor<uint1, [2, 2]>([1, 0, 0, 1]), indices_nonzero_data = tensor<uint2, [2]>([1, 3]), lut = tensor<fp16, [1, 1, 4, 1]>([10, 20, 30, 40]))[name = string("ls")];
            tensor<fp16, [2, 2]> d = constexpr_sparse_to_dense(nonzero_data = v, mask = m)[name = string("d")];
            tensor<uint1, [2, 2]> m2, tensor<fp16, [3]> v2 = constexpr_sparse_blockwise_shift_scale(data_mask = tensor<uint1, [2, 2]>([1, 1, 0, 1]), nonzero_data = tensor<int8, [3]>([2, 4, 6]), scale = tensor<fp16, [2, 1]>([0.5, 2]))[name = string("ss")];
            tensor<fp16, [2, 2]> d2 = constexpr_sparse_to_dense(nonzero_data = v2, mask = m2)[name = string("d2")];
            tensor<fp16, [2, 2]> y = add(x = d, y = d2)[name = string("y")];"#,
        "v, d, v2, y",
    );
    let out = run(&p, vec![("x".into(), f32s(DType::Fp16, &[2, 2], &[0.0; 4]))]);
    close(&out[0].1, &[20.0, 40.0], 0.0); // lut[1], lut[3] at the set positions
    close(&out[1].1, &[20.0, 0.0, 0.0, 40.0], 0.0);
    close(&out[2].1, &[1.0, 2.0, 12.0], 0.0); // [[2, 4], [_, 6]] * [[0.5], [2]] at the set positions
    close(&out[3].1, &[21.0, 2.0, 0.0, 52.0], 0.0);
}
