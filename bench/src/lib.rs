//! Generated benchmark programs, shared by every benchmark of the project.
//!
//! The programs look like Apple's compiler output (program(1.3), `main<ios18>`, every parameter a
//! named const, weights in `weight.bin`): a chain of 3×3 conv + ReLU layers, eight ops per layer, so
//! 2,000 layers make the 16k-op program and 20,000 the 160k-op one. With 30 channels the weights of
//! 2,000 layers take 34 MB.

use half::f16;
use mil_ir::DType;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// The shape of a generated conv + ReLU chain.
#[derive(Clone, Copy, Debug)]
pub struct ConvChain {
    /// Number of conv + ReLU layers (8 ops each).
    pub layers: usize,
    /// Channels in and out of every conv.
    pub channels: usize,
    /// Height and width of the feature map.
    pub size: usize,
}

impl ConvChain {
    /// The chain with `ops` operations (rounded down to whole layers), 30 channels, 64×64 maps.
    pub fn with_ops(ops: usize) -> ConvChain {
        ConvChain {
            layers: ops / 8,
            channels: 30,
            size: 64,
        }
    }

    fn weight_elements(&self) -> usize {
        self.channels * self.channels * 9
    }

    /// The record offsets of layer `i`'s weight and bias in the weight file [`ConvChain::write_weights`]
    /// writes.
    fn offsets(&self, i: usize) -> (u64, u64) {
        let aligned = |bytes: usize| (64 + bytes).div_ceil(64) * 64;
        let weight = aligned(self.weight_elements() * 2);
        let bias = aligned(self.channels * 2);
        let start = 64 + i * (weight + bias);
        (start as u64, (start + weight) as u64)
    }

    /// The MIL text of the program.
    pub fn text(&self) -> String {
        let (c, s) = (self.channels, self.size);
        let mut out = String::with_capacity(self.layers * 1700 + 512);
        out.push_str(
            "program(1.3)\n[buildInfo = dict<string, string>({{\"coremlc-version\", \"3600.25.1\"}, \
             {\"coremltools-version\", \"9.0\"}})]\n{\n",
        );
        let _ = writeln!(out, "    func main<ios18>(tensor<fp16, [1, {c}, {s}, {s}]> x) {{");
        let mut input = "x".to_string();
        for i in 0..self.layers {
            let (w, b) = self.offsets(i);
            let t = format!("tensor<fp16, [1, {c}, {s}, {s}]>");
            let _ = write!(
                out,
                "            tensor<fp16, [{c}, {c}, 3, 3]> conv{i}_weight = const()[name = string(\"conv{i}_weight\"), val = tensor<fp16, [{c}, {c}, 3, 3]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64({w})))];\n\
                 \x20           tensor<fp16, [{c}]> conv{i}_bias = const()[name = string(\"conv{i}_bias\"), val = tensor<fp16, [{c}]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64({b})))];\n\
                 \x20           tensor<int32, [2]> conv{i}_strides = const()[name = string(\"conv{i}_strides\"), val = tensor<int32, [2]>([1, 1])];\n\
                 \x20           string conv{i}_pad_type = const()[name = string(\"conv{i}_pad_type\"), val = string(\"custom\")];\n\
                 \x20           tensor<int32, [4]> conv{i}_pad = const()[name = string(\"conv{i}_pad\"), val = tensor<int32, [4]>([1, 1, 1, 1])];\n\
                 \x20           tensor<int32, [2]> conv{i}_dilations = const()[name = string(\"conv{i}_dilations\"), val = tensor<int32, [2]>([1, 1])];\n\
                 \x20           {t} conv{i} = conv(bias = conv{i}_bias, dilations = conv{i}_dilations, pad = conv{i}_pad, pad_type = conv{i}_pad_type, strides = conv{i}_strides, weight = conv{i}_weight, x = {input})[name = string(\"conv{i}\")];\n\
                 \x20           {t} relu{i} = relu(x = conv{i})[name = string(\"relu{i}\")];\n"
            );
            input = format!("relu{i}");
        }
        let _ = write!(out, "        }} -> ({input});\n}}");
        out
    }

    /// Writes `weight.bin` for the program: small deterministic fp16 values, 64-byte aligned blobs.
    pub fn write_weights(&self, path: &Path) -> io::Result<()> {
        let file = io::BufWriter::new(std::fs::File::create(path)?);
        let mut writer = mil_proto::blob::BlobWriter::new(file)?;
        let bytes = |n: usize, seed: usize| -> Vec<u8> {
            (0..n)
                .flat_map(|k| f16::from_f32(((k * 7 + seed) % 17) as f32 / 64.0 - 0.125).to_le_bytes())
                .collect()
        };
        for i in 0..self.layers {
            let n = self.weight_elements();
            let at = writer
                .append_bytes(DType::Fp16, n as u64, &bytes(n, i))
                .map_err(io::Error::other)?;
            debug_assert_eq!(at, self.offsets(i).0);
            let at = writer
                .append_bytes(DType::Fp16, self.channels as u64, &bytes(self.channels, i + 1))
                .map_err(io::Error::other)?;
            debug_assert_eq!(at, self.offsets(i).1);
        }
        writer.finish()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_programs_are_clean_and_their_weights_match() {
        let chain = ConvChain::with_ops(80);
        let dir = std::env::temp_dir().join(format!("mil-bench-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("weights")).unwrap();
        chain.write_weights(&dir.join("weights/weight.bin")).unwrap();
        let text = chain.text();
        // Read as `mil check` reads it: parsed, verified, weights checked against the file.
        let read = mil_ide::analysis::read(&text, Some(&dir));
        assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
        assert_eq!(read.program.functions[0].ops.len(), 80);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
