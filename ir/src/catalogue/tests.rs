//! The catalogue against its sources of truth: coremltools' registry (read here as text, not
//! through the generator) and the ops Apple's compiler wrote into the corpus files.

use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const REGISTRY_OPSETS: [(&str, Opset); 4] = [
    ("iOS15", Opset::Ios15),
    ("iOS16", Opset::Ios16),
    ("iOS17", Opset::Ios17),
    ("iOS18", Opset::Ios18),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared(path: &str) -> Option<PathBuf> {
    let path = repo_root().join("../shared").join(path);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is not there", path.display());
        None
    }
}

/// The string list `"key": [...]` of opset `opset` in the registry's `opsets` section.
fn registry_list(registry: &str, opset: &str, key: &str) -> Vec<String> {
    let section = &registry[registry.find("\"opsets\": {").expect("opsets section")..];
    let block = &section[section.find(&format!("\"{opset}\": {{")).expect("opset")..];
    let list = &block[block.find(&format!("\"{key}\": [")).expect("list") + key.len() + 5..];
    list[..list.find(']').expect("end of list")]
        .split(',')
        .map(|item| item.trim().trim_matches('"').to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

fn registry() -> Option<String> {
    Some(std::fs::read_to_string(shared("reference/op_registry.json")?).expect("readable registry"))
}

#[test]
fn ops_are_sorted_and_unique() {
    assert!(ops().windows(2).all(|w| w[0].name < w[1].name));
    assert_eq!(ops().len(), 171);
}

#[test]
fn each_opset_has_exactly_the_registry_ops_plus_the_runtime_ones() {
    let Some(registry) = registry() else { return };
    for (key, opset) in REGISTRY_OPSETS {
        let expected = registry_list(&registry, key, "ops");
        let runtime: &[&str] = match opset {
            Opset::Ios15 | Opset::Ios16 => &[],
            Opset::Ios17 => &["tensor_buffer_to_tensor", "tensor_to_tensor_buffer"],
            Opset::Ios18 | Opset::Ios26 => &[
                "tensor_buffer_to_tensor",
                "tensor_to_tensor_buffer",
                "write_state",
            ],
        };
        let ours: Vec<&str> = ops_in(opset)
            .map(|v| v.name)
            .filter(|n| !runtime.contains(n))
            .collect();
        assert_eq!(ours, expected, "{key}");
        assert_eq!(ops_in(opset).count(), expected.len() + runtime.len(), "{key}");
    }
}

#[test]
fn a_new_version_starts_exactly_where_the_registry_redefines_an_op() {
    let Some(registry) = registry() else { return };
    for (key, opset) in REGISTRY_OPSETS {
        let mut redefined = registry_list(&registry, key, "redefined_ops");
        redefined.sort();
        let ours: Vec<&str> = ops()
            .iter()
            .filter(|op| op.versions.iter().skip(1).any(|v| v.since() == opset))
            .map(|op| op.name)
            .collect();
        assert_eq!(ours, redefined, "{key}");
    }
}

#[test]
fn versions_cover_consecutive_opsets_up_to_ios18() {
    for op in ops() {
        let opsets: Vec<Opset> = op
            .versions
            .iter()
            .flat_map(|v| v.opsets.iter().copied())
            .collect();
        let first = Opset::ALL.iter().position(|&o| o == opsets[0]).unwrap();
        assert_eq!(opsets, Opset::ALL[first..4], "{}", op.name);
    }
}

#[test]
fn type_variables_name_a_domain_of_their_version() {
    for version in ops().iter().flat_map(|op| op.versions) {
        for input in version.inputs {
            if let Some(var) = input.type_var {
                assert_eq!(
                    version.type_domain(var),
                    Some(input.dtypes),
                    "{}.{}",
                    version.name,
                    input.name
                );
            }
            let tensor_like = matches!(input.kind, InputKind::Tensor);
            assert_eq!(
                !input.dtypes.is_empty(),
                tensor_like,
                "{}.{}",
                version.name,
                input.name
            );
            assert_eq!(
                input.default.is_some(),
                input.optional,
                "{}.{}",
                version.name,
                input.name
            );
        }
    }
}

#[test]
fn ops_missing_from_an_older_opset_name_the_first_that_has_them() {
    let sdpa = "scaled_dot_product_attention";
    for opset in ["ios15", "ios16", "ios17"] {
        assert_eq!(
            lookup(sdpa, opset),
            Err(LookupError::NotInOpset { first: Opset::Ios18 })
        );
    }
    assert_eq!(lookup(sdpa, "ios18").unwrap().since(), Opset::Ios18);
    assert_eq!(
        lookup("quantize", "ios16"),
        Err(LookupError::NotInOpset { first: Opset::Ios17 })
    );
    assert_eq!(
        lookup("constexpr_lut_to_dense", "ios15"),
        Err(LookupError::NotInOpset { first: Opset::Ios16 })
    );
    assert_eq!(
        lookup("write_state", "ios17"),
        Err(LookupError::NotInOpset { first: Opset::Ios18 })
    );
    assert_eq!(
        LookupError::NotInOpset { first: Opset::Ios18 }.to_string(),
        "op not available before ios18"
    );
}

#[test]
fn unknown_ops_and_opsets_are_told_apart() {
    assert_eq!(lookup("conv2d", "ios17"), Err(LookupError::UnknownOp));
    assert_eq!(lookup("conv", "ios14"), Err(LookupError::UnknownOpset));
    assert_eq!(lookup("conv", "iOS17").unwrap().class, Some("iOS17.conv.conv"));
}

#[test]
fn ios26_uses_the_ios18_ops() {
    assert!(ops_in(Opset::Ios26).eq(ops_in(Opset::Ios18)));
    assert_eq!(lookup("gru", "ios26").unwrap().class, Some("iOS18.recurrent.gru"));
    assert!(Opset::Ios15 < Opset::Ios18 && Opset::Ios18 < Opset::Ios26);
}

#[test]
fn a_redefined_op_changes_its_inputs_with_the_opset() {
    let gather15 = lookup("gather", "ios15").unwrap();
    let gather16 = lookup("gather", "ios16").unwrap();
    assert!(gather15.input("batch_dims").is_none());
    assert_eq!(
        gather16.input("batch_dims").unwrap().default,
        Some(DefaultValue::Int(0))
    );
    assert_eq!(gather16.input_index("batch_dims"), Some(3));
    let conv = lookup("conv", "ios16").unwrap();
    assert_eq!(conv.type_domain("T"), Some(&[DType::Fp16, DType::Fp32][..]));
    assert_eq!(
        conv.required_inputs().map(|i| i.name).collect::<Vec<_>>(),
        ["x", "weight"]
    );
    let conv_weight = lookup("conv", "ios17").unwrap().input("weight").unwrap();
    assert_eq!(conv_weight.type_var, Some("U"));
}

#[test]
fn output_counts_follow_the_op_definitions() {
    let count = |name: &str, opset: &str| lookup(name, opset).unwrap().outputs();
    assert_eq!(count("lstm", "ios15"), OutputCount::Exactly(3));
    assert_eq!(count("gru", "ios18"), OutputCount::Exactly(2));
    assert_eq!(count("rnn", "ios17"), OutputCount::Exactly(2));
    assert_eq!(count("write_state", "ios18"), OutputCount::Exactly(0));
    assert_eq!(count("split", "ios15"), OutputCount::PerSplit);
    assert_eq!(count("topk", "ios15"), OutputCount::Exactly(2));
    assert_eq!(
        count("topk", "ios17"),
        OutputCount::TwoUnlessFalse("return_indices")
    );
    assert_eq!(count("non_maximum_suppression", "ios16"), OutputCount::Exactly(4));
    assert_eq!(count("non_maximum_suppression", "ios26"), OutputCount::Exactly(3));
    assert_eq!(count("conv", "ios26"), OutputCount::Exactly(1));
}

/// The op of the statement on a MIL text line, with its pinned opset and its number of declared
/// outputs: `= kind(` or `= kind<ios17>(` after the first ` = ` of a line that is not a comment.
fn statement_op(line: &str) -> Option<(&str, Option<&str>, usize)> {
    if line.trim_start().starts_with("//") {
        return None;
    }
    let (outputs, rest) = line.split_once(" = ")?;
    let rest = rest.trim_start();
    let call = &rest[..rest.find('(')?];
    let (kind, pinned) = match call.split_once('<') {
        Some((kind, opset)) => (kind, Some(opset.strip_suffix('>')?)),
        None => (call, None),
    };
    let is_ident = !kind.is_empty() && kind.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric());
    // A typed literal (`keep_dims = bool(true)`) on a continuation line is not an op.
    (is_ident && DType::from_name(kind).is_none() && pinned.is_none_or(|o| o.starts_with("ios")))
        .then(|| (kind, pinned, declared_outputs(outputs)))
}

/// How many `TYPE name` pairs a statement declares: the commas outside type brackets, plus one.
fn declared_outputs(outputs: &str) -> usize {
    let mut depth = 0i32;
    let mut count = 1;
    for c in outputs.chars() {
        match c {
            '<' | '[' => depth += 1,
            '>' | ']' => depth -= 1,
            ',' if depth == 0 => count += 1,
            _ => {}
        }
    }
    count
}

/// Whether `declared` results fit `count` on the statement `line`.
fn output_count_fits(count: OutputCount, declared: usize, line: &str) -> bool {
    match count {
        OutputCount::Exactly(n) => declared == n,
        OutputCount::TwoUnlessFalse(flag) => {
            let off = line.contains(&format!("{flag} = bool(false)"));
            declared == if off { 1 } else { 2 }
        }
        OutputCount::PerSplit | OutputCount::PerLoopVar | OutputCount::PerBranchOutput => declared >= 1,
    }
}

#[test]
fn every_op_of_the_corpus_is_known_in_its_opset_with_its_number_of_outputs() {
    let Some(corpus) = shared("corpus") else { return };
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [corpus.clone(), corpus.join("analytics")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "mil") {
                files.push(path);
            }
        }
    }
    let mut checked = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut function_opset = None;
        for line in text.lines() {
            if let Some(header) = line.trim_start().strip_prefix("func ") {
                let opset = &header[header.find('<').unwrap() + 1..header.find('>').unwrap()];
                function_opset = Some(opset);
                continue;
            }
            let Some((kind, pinned, declared)) = statement_op(line) else {
                continue;
            };
            let opset = pinned.or(function_opset).expect("statement inside a function");
            let version = lookup(kind, opset)
                .unwrap_or_else(|e| panic!("{}: {kind} in {opset}: {e}\n{line}", path.display()));
            let count = version.outputs();
            assert!(
                output_count_fits(count, declared, line),
                "{}: {kind} declares {declared} outputs, catalogue says {count:?}\n{line}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 5000, "only {checked} statements found");
}

#[test]
fn generated_tables_are_up_to_date() {
    let Some(registry) = shared("reference/op_registry.json") else {
        return;
    };
    let script = repo_root().join("tools/gen_catalogue.py");
    let output = match Command::new("python3")
        .arg(&script)
        .arg(&registry)
        .arg("--check")
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: no python3");
            return;
        }
        Err(e) => panic!("running {}: {e}", script.display()),
    };
    assert!(
        output.status.success(),
        "generated.rs is stale or the generator failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
