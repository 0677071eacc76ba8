//! Compiles the Core ML schema in `schema/` into Rust types with protox (a protobuf compiler written
//! in Rust, so no `protoc` is needed) and prost-build.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "schema/Model.proto",
        "schema/FeatureTypes.proto",
        "schema/MIL.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["schema"])?;
    prost_build::Config::new()
        .btree_map(["."])
        .include_file("coreml.rs")
        .compile_fds(descriptors)?;
    Ok(())
}
