//! Quantisation of MIL programs as coremltools 9.0 does it.
//!
//! [`fp16::compute_in_fp16`] moves a program to fp16 compute precision as its
//! `FP16ComputePrecision` pass (and the clean-up after it) does. [`palettize_weights`] replaces
//! weights by k-means look-up tables as `palettize_weights` does ([`palette`], [`kmeans`]).
//! [`psnr::output_psnr`] runs the float and the quantised program in the interpreter and compares
//! their outputs.
//!
//! [`quantize_weights`] does what `coremltools.optimize.coreml.linear_quantize_weights` does with
//! an `OpLinearQuantizerConfig` (8- or 4-bit, symmetric or affine, per tensor, channel or block):
//! it picks the same consts ([`select`]), computes
//! the same integers, scales and zero points ([`linear`]) and replaces each const, through the
//! IR's [`Editor`](mil_ir::Editor), by the op coremltools writes for the function's opset:
//! `constexpr_affine_dequantize` for iOS16 and iOS17, `constexpr_blockwise_shift_scale` from
//! iOS18. New weights go into a [`MemoryWeights`] until the caller writes them out.

pub mod activations;
pub mod calibrate;
pub mod describe;
pub mod fp16;
pub mod kmeans;
pub mod linear;
pub mod palette;
pub mod psnr;
pub mod select;
pub mod weights;

use linear::{BlockParams, IntType, Mode, Precision, block_params};
use mil_ir::catalogue::Opset;
use mil_ir::weights::{MemoryWeights, Weights, payload_size};
use mil_ir::{DType, Function, NewOp, OpId, Operand, Program};
use weights::{FloatWeight, ValueMaker, read_floats};

/// How scales are shared across a weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// One scale (and zero point) for the whole tensor.
    PerTensor,
    /// One per output channel (axis 0, or the axis the reading op gives it).
    PerChannel,
    /// One per block of this many elements along the input channel, in each output channel
    /// (iOS18).
    PerBlock(u64),
}

/// The settings of a linear weight quantisation (coremltools' `OpLinearQuantizerConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// int8 or uint8.
    pub int: IntType,
    /// Symmetric (`linear_symmetric`) or affine (`linear`).
    pub mode: Mode,
    /// Per tensor or per channel.
    pub granularity: Granularity,
    /// Consts of this many elements or fewer are left alone (`weight_threshold`).
    pub threshold: u64,
}

impl Default for Config {
    /// coremltools' defaults: int8, symmetric, per channel, threshold 2048.
    fn default() -> Config {
        Config {
            int: IntType::Int8,
            mode: Mode::Symmetric,
            granularity: Granularity::PerChannel,
            threshold: 2048,
        }
    }
}

/// How far a quantised weight is from the original.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightError {
    /// The largest absolute difference.
    pub max_abs: f32,
    /// The signal-to-noise ratio in dB: `10 log10(Σ w² / Σ (w − q)²)`; infinite when exact.
    pub snr_db: f64,
}

impl WeightError {
    /// The error of `approx` standing for `original` (element by element).
    pub fn between(original: &[f32], approx: &[f32]) -> WeightError {
        let (mut max_abs, mut signal, mut noise) = (0f32, 0f64, 0f64);
        for (&w, &q) in original.iter().zip(approx) {
            let d = w - q;
            max_abs = max_abs.max(d.abs());
            signal += f64::from(w) * f64::from(w);
            noise += f64::from(d) * f64::from(d);
        }
        let snr_db = if noise == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (signal / noise).log10()
        };
        WeightError { max_abs, snr_db }
    }
}

/// One quantised weight, for the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// The function holding it.
    pub function: String,
    /// The const's name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<u64>,
    /// Its bytes before (fp16 or fp32 values).
    pub bytes_before: u64,
    /// The bytes of the quantised data, scales and zero points (or tables and indices).
    pub bytes_after: u64,
    /// How far the quantised weight is from the original.
    pub error: WeightError,
}

/// Why a program cannot be quantised; nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuantError {
    /// The function's opset has no quantised-weight op (coremltools needs iOS16).
    OpsetTooOld {
        /// The function.
        function: String,
        /// Its opset as written.
        opset: String,
    },
    /// Per-block scales and 4-bit data need `constexpr_blockwise_shift_scale`, tables per channel
    /// group the iOS18 `constexpr_lut_to_dense` (iOS18).
    NeedsIos18 {
        /// The function.
        function: String,
        /// Its opset as written.
        opset: String,
    },
    /// Quantised activations need the `quantize` op (iOS17).
    NeedsIos17 {
        /// The function.
        function: String,
        /// Its opset as written.
        opset: String,
    },
    /// A tensor to quantise has no calibrated range.
    NoStatistics {
        /// The tensor.
        name: String,
    },
    /// A weight could not be read.
    Unreadable {
        /// The const.
        name: String,
        /// The weight store's message.
        message: String,
    },
}

impl std::fmt::Display for QuantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuantError::OpsetTooOld { function, opset } => write!(
                f,
                "function `{function}` targets {opset}; quantised weights need ios16 or later (change its opset)"
            ),
            QuantError::NeedsIos18 { function, opset } => write!(
                f,
                "function `{function}` targets {opset}; per-block scales, 4-bit weights and tables per channel group need ios18 or later (change its opset)"
            ),
            QuantError::NeedsIos17 { function, opset } => write!(
                f,
                "function `{function}` targets {opset}; quantized activations (w8a8) need ios17 or later (change its opset)"
            ),
            QuantError::NoStatistics { name } => {
                write!(
                    f,
                    "no calibrated range for `{name}` (the statistics do not name it)"
                )
            }
            QuantError::Unreadable { name, message } => {
                write!(f, "cannot read the weight of `{name}`: {message}")
            }
        }
    }
}

/// Quantises the weights of every function of `program` as `config` says, reading weights through
/// `weights` and putting the new ones in `memory`; returns what was quantised, in program order.
/// On error nothing is changed.
pub fn quantize_weights(
    program: &mut Program,
    weights: &mut dyn Weights,
    memory: &mut MemoryWeights,
    config: &Config,
) -> Result<Vec<Quantized>, QuantError> {
    quantize_weights_where(program, weights, memory, config, &|_| true)
}

/// [`quantize_weights`] for the consts whose name `keep` accepts.
pub fn quantize_weights_where(
    program: &mut Program,
    weights: &mut dyn Weights,
    memory: &mut MemoryWeights,
    config: &Config,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<Quantized>, QuantError> {
    compress_consts(program, weights, memory, &Linear { config, keep })
}

/// A weight compression, as [`compress_consts`] runs it.
trait Compression {
    /// What it decides of a const it takes.
    type Plan;
    /// Whether its settings need iOS18 (per-block scales, 4-bit data, tables per channel group).
    fn needs_ios18(&self) -> bool;
    /// Consts of this many elements or fewer are left alone (`weight_threshold`).
    fn threshold(&self) -> u64;
    /// Whether it takes the candidate `c`, and what it decides of it.
    fn plan(&self, c: &Candidate) -> Option<Self::Plan>;
    /// The op standing for `c` (in a function at iOS18 or later with `ios18`).
    fn compress(&self, c: &Candidate, plan: Self::Plan, values: &mut ValueMaker, ios18: bool) -> Compressed;
}

/// Linear quantisation of the consts whose name `keep` accepts.
struct Linear<'a> {
    config: &'a Config,
    keep: &'a dyn Fn(&str) -> bool,
}

impl Compression for Linear<'_> {
    /// The block size along each axis.
    type Plan = Vec<u64>;

    fn needs_ios18(&self) -> bool {
        matches!(self.config.granularity, Granularity::PerBlock(_)) || self.config.int.bits() < 8
    }

    fn threshold(&self) -> u64 {
        self.config.threshold
    }

    fn plan(&self, c: &Candidate) -> Option<Vec<u64>> {
        (self.keep)(&c.name)
            .then(|| select::block_sizes(self.config.granularity, &c.shape, c.axes))
            .flatten()
    }

    fn compress(
        &self,
        c: &Candidate,
        block_sizes: Vec<u64>,
        values: &mut ValueMaker,
        ios18: bool,
    ) -> Compressed {
        Plan { c, block_sizes }.op(values, self.config, ios18)
    }
}

/// What compressing one const gives: the op standing for it, the bytes of its new weights and
/// their error.
type Compressed = (NewOp, u64, WeightError);

/// Runs `compression` over every function of `program`: checks each function's opset, plans each
/// [`candidate`] const it takes, then replaces those consts, in program order, by the ops it
/// makes; returns the report. On error nothing is changed.
fn compress_consts<C: Compression>(
    program: &mut Program,
    weights: &mut dyn Weights,
    memory: &mut MemoryWeights,
    compression: &C,
) -> Result<Vec<Quantized>, QuantError> {
    let mut plans = Vec::new();
    for (index, f) in program.functions.iter().enumerate() {
        let opset = Opset::parse(&f.opset);
        if opset.is_some_and(|o| o < Opset::Ios16) {
            return Err(QuantError::OpsetTooOld {
                function: f.name.clone(),
                opset: f.opset.clone(),
            });
        }
        let ios18 = opset.is_some_and(|o| o >= Opset::Ios18);
        if compression.needs_ios18() && !ios18 {
            return Err(QuantError::NeedsIos18 {
                function: f.name.clone(),
                opset: f.opset.clone(),
            });
        }
        for op in f.walk_ops() {
            if let Some(c) = candidate(f, op, weights, compression.threshold())?
                && let Some(extra) = compression.plan(&c)
            {
                plans.push((index, ios18, op, c, extra));
            }
        }
    }
    let rank0 = program.version == "1.0";
    let mut done = Vec::with_capacity(plans.len());
    let mut values = ValueMaker { memory, rank0 };
    // One editor per function: an editor reads the function's names once, at its first edit.
    let mut plans = plans.into_iter().peekable();
    for (index, f) in program.functions.iter_mut().enumerate() {
        let function = f.name.clone();
        let mut editor = f.edit();
        while let Some((_, ios18, op, c, extra)) = plans.next_if(|p| p.0 == index) {
            let (new_op, bytes_after, error) = compression.compress(&c, extra, &mut values, ios18);
            editor
                .replace(op, new_op)
                .expect("a const read by ops is replaced by an op of one result");
            done.push(Quantized {
                function: function.clone(),
                bytes_before: c.weight.values.len() as u64
                    * u64::from(c.weight.dtype.bits().unwrap_or(32) / 8),
                bytes_after,
                error,
                name: c.name,
                shape: c.shape,
            });
        }
    }
    Ok(done)
}

/// A candidate const to quantise linearly, with its block size along each axis (0: the whole
/// axis).
struct Plan<'c> {
    c: &'c Candidate,
    block_sizes: Vec<u64>,
}

/// A const coremltools would compress: its name, shape, values and channel axes.
struct Candidate {
    name: String,
    shape: Vec<u64>,
    weight: FloatWeight,
    /// The (output, input) channel axes.
    axes: (usize, usize),
}

/// `op` as a candidate when it is a const coremltools compresses with `threshold`
/// ([`select`]'s rules).
fn candidate(
    f: &Function,
    op: OpId,
    weights: &mut dyn Weights,
    threshold: u64,
) -> Result<Option<Candidate>, QuantError> {
    let o = f.op(op);
    let (Some(val), [value]) = (o.attribute("val"), o.results.as_slice()) else {
        return Ok(None);
    };
    if o.kind != "const" {
        return Ok(None);
    }
    let Some(shape) = val.known_shape() else {
        return Ok(None);
    };
    let readers = select::readers(f, *value);
    let elements: u64 = shape.iter().product();
    if !select::is_candidate(f, &readers, shape.len(), elements, threshold) {
        return Ok(None);
    }
    let Some(axes) = select::channel_axes(f, *value, &readers, shape.len()) else {
        return Ok(None);
    };
    let name = o.name().unwrap_or(&f.value(*value).name).to_string();
    let weight = match read_floats(val, weights) {
        Ok(Some(w)) => w,
        Ok(None) => return Ok(None),
        Err(message) => return Err(QuantError::Unreadable { name, message }),
    };
    // coremltools skips consts holding inf; NaN has no defined quantisation, so it is skipped too.
    if weight.values.len() as u64 != elements || weight.values.iter().any(|x| !x.is_finite()) {
        return Ok(None);
    }
    Ok(Some(Candidate {
        name,
        shape,
        weight,
        axes,
    }))
}

/// The settings of a palettisation (coremltools' `OpPalettizerConfig` with mode `kmeans`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaletteConfig {
    /// Bits per index: 1, 2, 3, 4, 6 or 8 ([`palette::BITS`]).
    pub bits: u32,
    /// One table for the whole tensor (`None`, `per_tensor`), or one per this many output
    /// channels (`per_grouped_channel` with `group_size`; iOS18).
    pub group: Option<u64>,
    /// Consts of this many elements or fewer are left alone (`weight_threshold`).
    pub threshold: u64,
}

/// Palettises the weights of every function of `program` as `config` says (k-means tables,
/// `constexpr_lut_to_dense`), reading weights through `weights` and putting the new ones in
/// `memory`; returns what was palettised, in program order. On error nothing is changed.
pub fn palettize_weights(
    program: &mut Program,
    weights: &mut dyn Weights,
    memory: &mut MemoryWeights,
    config: &PaletteConfig,
) -> Result<Vec<Quantized>, QuantError> {
    palettize_weights_where(program, weights, memory, config, &|_| true)
}

/// [`palettize_weights`] for the consts whose name `keep` accepts.
pub fn palettize_weights_where(
    program: &mut Program,
    weights: &mut dyn Weights,
    memory: &mut MemoryWeights,
    config: &PaletteConfig,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<Quantized>, QuantError> {
    compress_consts(program, weights, memory, &Palettize { config, keep })
}

/// Palettisation of the consts whose name `keep` accepts.
struct Palettize<'a> {
    config: &'a PaletteConfig,
    keep: &'a dyn Fn(&str) -> bool,
}

impl Compression for Palettize<'_> {
    /// The grouping of the tables: (output axis, channels per table), or one table.
    type Plan = Option<(usize, u64)>;

    fn needs_ios18(&self) -> bool {
        self.config.group.is_some()
    }

    fn threshold(&self) -> u64 {
        self.config.threshold
    }

    fn plan(&self, c: &Candidate) -> Option<Self::Plan> {
        let grouping = self.config.group.map(|g| (c.axes.0, g));
        let divides = grouping.is_none_or(|(axis, g)| c.shape[axis].is_multiple_of(g));
        ((self.keep)(&c.name) && divides).then_some(grouping)
    }

    fn compress(
        &self,
        c: &Candidate,
        grouping: Self::Plan,
        values: &mut ValueMaker,
        ios18: bool,
    ) -> Compressed {
        let layout = palette::Layout {
            dtype: c.weight.dtype,
            shape: &c.shape,
            bits: self.config.bits,
            grouping,
        };
        let p = palette::palettize(&c.weight.values, &layout);
        let (new_op, bytes_after) = p.op(values, &c.name, &layout, ios18);
        let error = WeightError::between(&c.weight.values, &p.dense(&layout));
        (new_op, bytes_after, error)
    }
}

impl Plan<'_> {
    /// The shape of the scales: per axis, the number of blocks along it.
    fn param_shape(&self) -> Vec<u64> {
        (self.c.shape.iter().zip(&self.block_sizes))
            .map(|(&dim, &size)| dim.checked_div(size).unwrap_or(1))
            .collect()
    }

    /// The block of each element, in row-major order of the scales.
    fn block_of_each(&self, param_shape: &[u64]) -> Vec<usize> {
        let mut strides = vec![1usize; param_shape.len()];
        for a in (0..param_shape.len().saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * param_shape[a + 1] as usize;
        }
        (0..self.c.weight.values.len())
            .map(|i| {
                let mut rest = i;
                let mut block = 0;
                for a in (0..self.c.shape.len()).rev() {
                    let dim = self.c.shape[a] as usize;
                    let coordinate = rest % dim;
                    rest /= dim;
                    if self.block_sizes[a] > 0 {
                        block += coordinate / self.block_sizes[a] as usize * strides[a];
                    }
                }
                block
            })
            .collect()
    }

    /// The op replacing the const, the bytes of its weights and its error.
    fn op(&self, values: &mut ValueMaker, config: &Config, blockwise: bool) -> (NewOp, u64, WeightError) {
        let precision = if self.c.weight.dtype == DType::Fp16 {
            Precision::Fp16
        } else {
            Precision::Fp32
        };
        let param_shape = self.param_shape();
        let blocks = self.block_of_each(&param_shape);
        let channels = param_shape.iter().product::<u64>() as usize;
        let mut ranges = vec![(f32::INFINITY, f32::NEG_INFINITY); channels];
        for (&block, &w) in blocks.iter().zip(&self.c.weight.values) {
            let r = &mut ranges[block];
            *r = (r.0.min(w), r.1.max(w));
        }
        let params: Vec<BlockParams> = ranges
            .iter()
            .map(|&(lo, hi)| block_params(lo, hi, config.int, config.mode, precision))
            .collect();
        let data: Vec<i32> = (blocks.iter().zip(&self.c.weight.values))
            .map(|(&block, &w)| params[block].quantize(w, config.int, config.mode, precision))
            .collect();
        let scales: Vec<f32> = params.iter().map(|p| p.scale).collect();
        let zero_points: Vec<i32> = params.iter().map(BlockParams::stored_zero_point).collect();
        let dequantized: Vec<f32> = (blocks.iter().zip(&data))
            .map(|(&b, &q)| precision.round((q - zero_points[b]) as f32 * scales[b]))
            .collect();
        let error = WeightError::between(&self.c.weight.values, &dequantized);
        let has_offset = params[0].zero_point.is_some();
        let int_dtype = match config.int {
            IntType::Int8 => DType::Int8,
            IntType::UInt8 => DType::UInt8,
            IntType::Int4 => DType::Int4,
            IntType::UInt4 => DType::UInt4,
        };
        let float_bytes = u64::from(self.c.weight.dtype.bits().unwrap_or(32) / 8);
        let data_value = values.ints(int_dtype, &self.c.shape, &data);
        let name = format!("{}_quantized", self.c.name);
        let mut op = NewOp::new(if blockwise {
            "constexpr_blockwise_shift_scale"
        } else {
            "constexpr_affine_dequantize"
        })
        .named(&name)
        .result(&name, mil_ir::Type::tensor(self.c.weight.dtype, &self.c.shape));
        if blockwise {
            op = op.arg("data", Operand::Const(data_value)).arg(
                "scale",
                Operand::Const(values.floats(self.c.weight.dtype, &param_shape, &scales)),
            );
            if has_offset {
                op = op.arg(
                    "offset",
                    Operand::Const(values.ints(int_dtype, &param_shape, &zero_points)),
                );
            }
        } else {
            // `ios18_quant_params_to_ios16`: scale and zero point squeezed, the axis their
            // non-unit dim (0 when there is none), a zero point even when symmetric.
            let squeezed: Vec<u64> = param_shape.iter().copied().filter(|&d| d != 1).collect();
            let axis = param_shape.iter().position(|&d| d != 1).unwrap_or(0);
            op = op
                .attr("axis", values.int32(axis as i32))
                .attr("quantized_data", data_value)
                .attr("scale", values.floats(self.c.weight.dtype, &squeezed, &scales))
                .attr("zero_point", values.ints(int_dtype, &squeezed, &zero_points));
        }
        let int_bytes = |n: usize| payload_size(int_dtype, n as u64).unwrap_or(0);
        let zero_point_bytes = if has_offset || !blockwise {
            int_bytes(channels)
        } else {
            0
        };
        (
            op,
            int_bytes(data.len()) + channels as u64 * float_bytes + zero_point_bytes,
            error,
        )
    }
}
