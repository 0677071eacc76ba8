//! The op kinds the rules, the cost model and the planner tell apart, read once per op from its
//! name so that each of them dispatches on a small enum instead of comparing strings.

use crate::rules::unsupported;

/// What kind of op it is, as far as placement cares; every other op is [`Kind::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `const`.
    Const,
    /// `constexpr_*`: weights expanded when the model loads.
    Constexpr,
    /// Core ML's runtime input/output wrappers (`tensor_buffer_to_tensor`, `tensor_to_tensor_buffer`).
    Boundary,
    /// An op Core ML answers `Unsupported MIL operation` for, with the rewrite that avoids it.
    Unsupported {
        /// The rewrite, when there is one.
        fix: Option<crate::rule::Fix>,
    },
    /// `scatter`.
    Scatter,
    /// `sliding_windows`.
    SlidingWindows,
    /// `range_1d`.
    Range1d,
    /// `cond` and `while_loop`.
    ControlFlow,
    /// `conv`.
    Conv,
    /// `conv_transpose`.
    ConvTranspose,
    /// `linear`.
    Linear,
    /// `matmul`.
    Matmul,
    /// `gather`.
    Gather,
    /// `gather_nd` and `gather_along_axis`.
    GatherByIndexTensor,
    /// `topk`.
    Topk,
    /// Ops whose integer result can only be int32: `reduce_argmax`, `reduce_argmin`, `argsort`.
    Int32Result,
    /// `crop_resize`.
    CropResize,
    /// `equal`, `not_equal`, `greater`, `greater_equal`, `less`, `less_equal`.
    Comparison,
    /// `max_pool`.
    MaxPool,
    /// `quantize`.
    Quantize,
    /// `cast`.
    Cast,
    /// `rsqrt`, `log` and `inverse`, whose `epsilon` has a default.
    WithEpsilon,
    /// `concat`.
    Concat,
    /// Anything else.
    Other,
}

impl Kind {
    /// The kind of an op named `name`.
    pub fn of(name: &str) -> Kind {
        match name {
            "const" => Kind::Const,
            "tensor_buffer_to_tensor" | "tensor_to_tensor_buffer" => Kind::Boundary,
            "scatter" => Kind::Scatter,
            "sliding_windows" => Kind::SlidingWindows,
            "range_1d" => Kind::Range1d,
            "cond" | "while_loop" => Kind::ControlFlow,
            "conv" => Kind::Conv,
            "conv_transpose" => Kind::ConvTranspose,
            "linear" => Kind::Linear,
            "matmul" => Kind::Matmul,
            "gather" => Kind::Gather,
            "gather_nd" | "gather_along_axis" => Kind::GatherByIndexTensor,
            "topk" => Kind::Topk,
            "reduce_argmax" | "reduce_argmin" | "argsort" => Kind::Int32Result,
            "crop_resize" => Kind::CropResize,
            "equal" | "not_equal" | "greater" | "greater_equal" | "less" | "less_equal" => Kind::Comparison,
            "max_pool" => Kind::MaxPool,
            "quantize" => Kind::Quantize,
            "cast" => Kind::Cast,
            "rsqrt" | "log" | "inverse" => Kind::WithEpsilon,
            "concat" => Kind::Concat,
            other if other.starts_with("constexpr_") => Kind::Constexpr,
            other => match unsupported::refused(other) {
                Some(fix) => Kind::Unsupported { fix },
                None => Kind::Other,
            },
        }
    }

    /// Whether the planner leaves the op out: constants and the runtime's wrappers.
    pub fn is_unplanned(self) -> bool {
        matches!(self, Kind::Const | Kind::Boundary)
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;
    use mil_ir::program::is_runtime_boundary;

    #[test]
    fn kinds_agree_with_the_ir_and_the_refused_ops() {
        for name in ["tensor_buffer_to_tensor", "tensor_to_tensor_buffer", "relu"] {
            assert_eq!(Kind::of(name) == Kind::Boundary, is_runtime_boundary(name));
        }
        assert_eq!(Kind::of("constexpr_lut_to_dense"), Kind::Constexpr);
        assert!(matches!(Kind::of("tan"), Kind::Unsupported { fix: Some(_) }));
        assert_eq!(Kind::of("non_zero"), Kind::Unsupported { fix: None });
        assert_eq!(Kind::of("sigmoid"), Kind::Other);
    }
}
