//! Our `.proto` files must describe the same wire format as Core ML's: every message, field, oneof
//! and enum value we declare is checked against `shared/reference/coreml_proto_schema.txt`, which was
//! printed from the descriptors that ship in coremltools.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// The reference schema: `$MIL_SHARED_DIR/reference/...`, by default the `shared/` folder beside the
/// repository.
fn reference_text() -> String {
    let shared = std::env::var_os("MIL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let path = shared.join("reference/coreml_proto_schema.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the reference schema {}: {e}", path.display()))
}

/// The reference as lines `Message: [repeated ]type name = N [oneof O]` and `Enum: NAME = N`.
fn reference_lines(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut fields = BTreeSet::new();
    let mut enums = BTreeSet::new();
    let mut stack: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("message ") {
            stack.push(rest.trim_end_matches(" {").to_string());
        } else if line == "}" {
            stack.pop();
        } else if let Some(rest) = line.strip_prefix("enum ") {
            let (name, values) = rest.split_once(" { ").expect("enum line");
            let full = match stack.last() {
                Some(parent) => format!("{parent}.{name}"),
                None => format!("CoreML.Specification.MILSpec.{name}"),
            };
            for value in values.trim_end_matches(" }").split(", ") {
                let (v, n) = value.split_once('=').expect("enum value");
                enums.insert(format!("{full}: {v} = {n}"));
            }
        } else if let Some(message) = stack.last()
            && let Some((decl, comment)) = line.split_once(';')
        {
            let oneof = comment
                .trim()
                .strip_prefix("// oneof ")
                .map(|o| format!(" oneof {o}"));
            fields.insert(format!("{message}: {decl}{}", oneof.unwrap_or_default()));
        }
    }
    (fields, enums)
}

/// Our schema in the same form, read from the descriptors protox compiles from `proto/schema`.
fn our_lines() -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schema");
    let set = protox::compile(["Model.proto", "FeatureTypes.proto", "MIL.proto"], [dir]).expect("compiles");
    let mut fields = BTreeSet::new();
    let mut enums = BTreeSet::new();
    let mut messages = BTreeSet::new();
    let mut map_entries = std::collections::BTreeMap::new();
    let mut all = Vec::new();
    for file in &set.file {
        let mut stack: Vec<(String, &_)> = file
            .message_type
            .iter()
            .map(|m| (format!("{}.{}", file.package(), m.name()), m))
            .collect();
        for e in &file.enum_type {
            for v in &e.value {
                enums.insert(format!(
                    "{}.{}: {} = {}",
                    file.package(),
                    e.name(),
                    v.name(),
                    v.number()
                ));
            }
        }
        while let Some((name, message)) = stack.pop() {
            for e in &message.enum_type {
                for v in &e.value {
                    enums.insert(format!("{name}.{}: {} = {}", e.name(), v.name(), v.number()));
                }
            }
            for nested in &message.nested_type {
                stack.push((format!("{name}.{}", nested.name()), nested));
            }
            if message.options.as_ref().is_some_and(|o| o.map_entry()) {
                map_entries.insert(format!(".{name}"), message);
            } else {
                messages.insert(name.clone());
                all.push((name, message));
            }
        }
    }
    let type_name = |f: &prost_types::FieldDescriptorProto| -> String {
        use prost_types::field_descriptor_proto::Type;
        match f.r#type() {
            Type::Message | Type::Enum => f.type_name().trim_start_matches('.').to_string(),
            Type::Float => "float".into(),
            t => t.as_str_name().trim_start_matches("TYPE_").to_lowercase(),
        }
    };
    for (name, message) in all {
        for f in &message.field {
            let decl = if let Some(entry) = map_entries.get(f.type_name()) {
                format!(
                    "map<{}, {}>",
                    type_name(&entry.field[0]),
                    type_name(&entry.field[1])
                )
            } else if f.label() == prost_types::field_descriptor_proto::Label::Repeated {
                format!("repeated {}", type_name(f))
            } else {
                type_name(f)
            };
            let oneof = f
                .oneof_index
                .map(|i| format!(" oneof {}", message.oneof_decl[i as usize].name()))
                .unwrap_or_default();
            fields.insert(format!("{name}: {decl} {} = {}{oneof}", f.name(), f.number()));
        }
    }
    (fields, enums, messages)
}

#[test]
fn every_declared_field_and_enum_value_is_in_the_reference() {
    let (ref_fields, ref_enums) = reference_lines(&reference_text());
    let (fields, enums, _) = our_lines();
    let extra: Vec<_> = fields.difference(&ref_fields).collect();
    assert!(extra.is_empty(), "fields not in the reference: {extra:#?}");
    assert_eq!(enums, ref_enums);
}

#[test]
fn only_fields_of_undescribed_message_types_are_left_out() {
    let (ref_fields, _) = reference_lines(&reference_text());
    let (fields, _, messages) = our_lines();
    let missing: Vec<_> = ref_fields
        .difference(&fields)
        .filter(|line| {
            // `Message: [repeated ]Type name = N ...`: left out only when Type is a message the
            // reference does not describe (the other kinds of FeatureType).
            let decl = line.split_once(": ").unwrap().1.trim_start_matches("repeated ");
            let ty = decl.split(' ').next().unwrap();
            !(ty.starts_with("CoreML.")
                && !messages.contains(ty)
                && !ref_fields.iter().any(|l| l.starts_with(&format!("{ty}: "))))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "reference fields we do not declare: {missing:#?}"
    );
}
