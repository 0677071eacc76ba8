//! libFuzzer target: one input through `mil_robustness::rewrite` (its doc says what is checked).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mil_robustness::rewrite(data));
