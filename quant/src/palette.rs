//! Palettisation: a weight as a look-up table of 2ⁿ values and an n-bit index per element, as
//! coremltools 9.0's `palettize_weights` writes it in mode `kmeans`
//! (`optimize/coreml/_quantization_passes.py`, `palettize_weights.transform_op`,
//! `grouped_channelwise_compress`; `converters/mil/frontend/_utils.py`,
//! `_construct_constexpr_lut_op`; `optimize/_utils.py`, `ios18_lut_params_to_ios16`).
//!
//! The same consts as linear quantisation are candidates ([`crate::select`]). Per tensor, one
//! table serves the whole weight; per grouped channel (iOS18), one table per group of `n` output
//! channels. The op is `constexpr_lut_to_dense` named `NAME_palettized`: from iOS18 with inputs
//! `indices` (`uint<n>`, the weight's shape) and `lut` (the weight's dtype, shape: the weight's rank
//! of ones but the group count on the output axis, then `2ⁿ, 1`); below iOS18 with attributes
//! `indices` (the indices packed into uint8 bytes, least significant bit first), `lut` (`[2ⁿ]`) and
//! `shape` (uint32). Tables come from [`crate::kmeans`].

use mil_ir::{ConstData, DType, Elements, NewOp, Operand, Type, TypedValue};

use crate::kmeans;
use crate::weights::{ValueMaker, pack_bits};

/// The index widths coremltools palettises to (`_SUPPORTED_NBITS`).
pub const BITS: [u32; 6] = [1, 2, 3, 4, 6, 8];

/// The dtype of `bits`-bit indices.
pub fn index_dtype(bits: u32) -> Option<DType> {
    Some(match bits {
        1 => DType::UInt1,
        2 => DType::UInt2,
        3 => DType::UInt3,
        4 => DType::UInt4,
        6 => DType::UInt6,
        8 => DType::UInt8,
        _ => return None,
    })
}

/// A weight to palettise: its dtype, shape, index width and grouping.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'s> {
    /// fp16 or fp32.
    pub dtype: DType,
    /// The weight's shape.
    pub shape: &'s [u64],
    /// Bits per index ([`BITS`]).
    pub bits: u32,
    /// One table per this many channels along this axis; `None`: one for the whole tensor.
    pub grouping: Option<(usize, u64)>,
}

impl Layout<'_> {
    /// The grouping axis, the group size, and the elements after that axis.
    fn groups(&self) -> (usize, usize, usize) {
        let shape = self.shape;
        let (axis, group) = (self.grouping).unwrap_or((0, shape.first().copied().unwrap_or(1).max(1)));
        (
            axis,
            group as usize,
            shape[axis + 1..].iter().product::<u64>() as usize,
        )
    }

    /// The group (table) of element `i`, row-major.
    fn group_of(&self, i: usize) -> usize {
        let (axis, group, inner) = self.groups();
        (i / inner % self.shape[axis] as usize) / group
    }
}

/// A palettised weight: its tables and indices.
pub struct Palette {
    /// One table of `2ⁿ` entries per group, groups in order.
    pub tables: Vec<Vec<f32>>,
    /// The index of each element, row-major.
    pub indices: Vec<i32>,
}

/// Palettises `values` laid out as `layout` says; table entries are rounded to its dtype.
pub fn palettize(values: &[f32], layout: &Layout) -> Palette {
    let (axis, group, _) = layout.groups();
    let groups = layout.shape[axis] as usize / group;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for i in 0..values.len() {
        members[layout.group_of(i)].push(i);
    }
    let mut tables = Vec::with_capacity(groups);
    let mut indices = vec![0; values.len()];
    for m in &members {
        let group_values: Vec<f32> = m.iter().map(|&i| values[i]).collect();
        let c = kmeans::cluster(&group_values, 1 << layout.bits);
        // Rounded to the weight's dtype, each value takes the entry now nearest it.
        let table: Vec<f32> = c.centroids.iter().map(|&x| round_to(layout.dtype, x)).collect();
        let mut sorted: Vec<(f64, usize)> = table
            .iter()
            .enumerate()
            .map(|(e, &x)| (f64::from(x), e))
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let entries: Vec<f64> = sorted.iter().map(|e| e.0).collect();
        for (&i, &x) in m.iter().zip(&group_values) {
            indices[i] = sorted[kmeans::nearest(&entries, f64::from(x)) as usize].1 as i32;
        }
        tables.push(table);
    }
    Palette { tables, indices }
}

/// `x` as the nearest value of `dtype` (fp16 or fp32).
fn round_to(dtype: DType, x: f64) -> f32 {
    let x = x as f32;
    if dtype == DType::Fp16 {
        half::f16::from_f32(x).to_f32()
    } else {
        x
    }
}

impl Palette {
    /// The weight the palette stands for, row-major.
    pub fn dense(&self, layout: &Layout) -> Vec<f32> {
        (self.indices.iter().enumerate())
            .map(|(i, &q)| self.tables[layout.group_of(i)][q as usize])
            .collect()
    }

    /// The `constexpr_lut_to_dense` op standing for the weight named `name`, in the iOS18 form
    /// when `ios18`; and the bytes of its tables and indices.
    pub fn op(&self, values: &mut ValueMaker, name: &str, layout: &Layout, ios18: bool) -> (NewOp, u64) {
        let Layout {
            dtype,
            shape,
            bits,
            grouping,
        } = *layout;
        let entries = 1usize << bits;
        let lut: Vec<f32> = self.tables.concat();
        let op_name = format!("{name}_palettized");
        let op = NewOp::new("constexpr_lut_to_dense")
            .named(&op_name)
            .result(&op_name, Type::tensor(dtype, shape));
        let index_type = index_dtype(bits).expect("a supported width");
        let float_bytes = u64::from(dtype.bits().unwrap_or(32) / 8);
        let bytes = mil_ir::weights::payload_size(index_type, self.indices.len() as u64).unwrap_or(0)
            + lut.len() as u64 * float_bytes;
        if ios18 {
            let mut lut_shape = vec![1u64; shape.len() + 2];
            lut_shape[grouping.map_or(0, |g| g.0)] = self.tables.len() as u64;
            lut_shape[shape.len()] = entries as u64;
            let indices = values.ints(index_type, shape, &self.indices);
            let lut = values.floats(dtype, &lut_shape, &lut);
            let op = op
                .arg("indices", Operand::Const(indices))
                .arg("lut", Operand::Const(lut));
            return (op, bytes);
        }
        let packed: Vec<i32> = pack_bits(&self.indices, bits)
            .into_iter()
            .map(i32::from)
            .collect();
        let indices = values.ints(DType::UInt8, &[packed.len() as u64], &packed);
        let lut = values.floats(dtype, &[entries as u64], &lut);
        let shape_value = TypedValue {
            ty: Type::tensor(DType::UInt32, &[shape.len() as u64]),
            data: ConstData::Tensor(Elements::UInt(shape.to_vec())),
        };
        let op = op
            .attr("indices", indices)
            .attr("lut", lut)
            .attr("shape", shape_value);
        (op, bytes)
    }
}
