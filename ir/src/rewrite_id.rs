//! The id of every rewrite of `mil-rewrite`, in one place.
//!
//! The ANE rules (`mil-ane`, which cannot depend on the rewrite crate) name the rewrite that avoids
//! what they report by one of these constants, not by a string, and the rewrite crate gives each
//! of its rewrites one of them; a test of the rewrite crate checks that [`RewriteId::ALL`] and its
//! list of rewrites name the same ids, so a rule cannot name a rewrite that does not exist. A new
//! rewrite adds its constant here and to [`RewriteId::ALL`].

use crate::mutate::RewriteId;

impl RewriteId {
    /// `tan` → `sin / cos`.
    pub const TAN_TO_SIN_COS: RewriteId = RewriteId("tan-to-sin-cos");
    /// `asin`, `acos` → `atan` and `sqrt`.
    pub const ARC_TO_ATAN: RewriteId = RewriteId("arc-to-atan");
    /// `atanh` → `log`.
    pub const ATANH_TO_LOG: RewriteId = RewriteId("atanh-to-log");
    /// `sinh`, `cosh` → `exp`.
    pub const HYPERBOLIC_TO_EXP: RewriteId = RewriteId("hyperbolic-to-exp");
    /// `mod` → `floor_div`.
    pub const MOD_TO_FLOOR_DIV: RewriteId = RewriteId("mod-to-floor-div");
    /// `band_part` → `mul` by a constant mask.
    pub const BAND_PART_TO_MASK: RewriteId = RewriteId("band-part-to-mask");
    /// `cumsum` → `matmul` with a triangular constant.
    pub const CUMSUM_TO_MATMUL: RewriteId = RewriteId("cumsum-to-matmul");
    /// `reduce_prod` → a tree of `mul` over slices.
    pub const REDUCE_PROD_TO_MUL: RewriteId = RewriteId("reduce-prod-to-mul");
    /// `lstm`, `gru`, `rnn` of a static length → unrolled cells.
    pub const UNROLL_RECURRENT: RewriteId = RewriteId("unroll-recurrent");
    /// A conv kernel beyond the ANE's sizes → a sum of convs with smaller kernels on shifted inputs.
    pub const SPLIT_LARGE_KERNEL: RewriteId = RewriteId("split-large-kernel");
    /// A `max_pool` wider than 8 → a cascade of narrower pools covering the same window.
    pub const CASCADE_MAX_POOL: RewriteId = RewriteId("cascade-max-pool");
    /// A `matmul` whose inner dim is beyond 32,768 → partial products added.
    pub const SPLIT_MATMUL_INNER: RewriteId = RewriteId("split-matmul-inner");
    /// `linear`, `matmul` by a constant → a 1×1 `conv` in (B, C, 1, S).
    pub const LINEAR_TO_CONV1X1: RewriteId = RewriteId("linear-to-conv1x1");
    /// The defaults the private ANE compiler needs, written out.
    pub const SPELL_OUT_DEFAULTS: RewriteId = RewriteId("spell-out-defaults");
    /// An axis above 65,536 → the ops chained along it on pieces of it, concatenated.
    pub const SPLIT_AXIS: RewriteId = RewriteId("split-axis");
    /// A function's fp32 inputs and outputs declared fp16: a change of its interface, not of an op.
    pub const IO_TO_FP16: RewriteId = RewriteId("io-to-fp16");

    /// Every id that has its rewrite, in the order of `mil_rewrite::ALL`, then the rewrites of a
    /// function's interface (`mil_rewrite::io_fp16`).
    pub const ALL: &'static [RewriteId] = &[
        RewriteId::TAN_TO_SIN_COS,
        RewriteId::ARC_TO_ATAN,
        RewriteId::ATANH_TO_LOG,
        RewriteId::HYPERBOLIC_TO_EXP,
        RewriteId::MOD_TO_FLOOR_DIV,
        RewriteId::BAND_PART_TO_MASK,
        RewriteId::CUMSUM_TO_MATMUL,
        RewriteId::REDUCE_PROD_TO_MUL,
        RewriteId::UNROLL_RECURRENT,
        RewriteId::SPLIT_LARGE_KERNEL,
        RewriteId::CASCADE_MAX_POOL,
        RewriteId::SPLIT_MATMUL_INNER,
        RewriteId::LINEAR_TO_CONV1X1,
        RewriteId::SPELL_OUT_DEFAULTS,
        RewriteId::SPLIT_AXIS,
        RewriteId::IO_TO_FP16,
    ];

    /// The id as written (`tan-to-sin-cos`).
    pub fn name(self) -> &'static str {
        self.0
    }

    /// The id of [`RewriteId::ALL`] written `name`.
    pub fn parse(name: &str) -> Option<RewriteId> {
        RewriteId::ALL.iter().copied().find(|id| id.0 == name)
    }
}
