# shellcheck shell=bash
# Shared by scripts/fuzz and scripts/fuzz-long (sourced from the fuzz/ folder): the targets, their
# build, the committed inputs they start from, and the report that makes a crash reproducible from
# the log alone.

FUZZ_TARGETS=(parse print_roundtrip analyse decompile blob_reader rewrite)
# Flags every run of a target gets; the same ones reproduce and minimise a crash.
FUZZ_LIMITS=(-max_len=65536 -rss_limit_mb=2048 -timeout=10)
# The most of an input the report prints (as base64).
FUZZ_REPORT_BYTES=65536

# Builds every target into $CARGO_TARGET_DIR/<host>/release (CARGO_TARGET_DIR defaults to
# fuzz/target, or fuzz/target/trace-compares with FUZZ_TRACE_COMPARES=1 so that switching does not
# rebuild everything) and sets FUZZ_BIN to that folder.
#
# --target keeps the flags off build scripts and proc macros; debug assertions and overflow checks
# stay on in the release profile (fuzz/Cargo.toml), so arithmetic overflow is a crash.
# Comparisons are not traced unless FUZZ_TRACE_COMPARES=1: tracing every comparison made each
# execution of the text targets 2.8 times slower, and in runs of 30 s every target reached as much
# coverage or more without it (docs/robustness.md); long runs want it back.
fuzz_build() {
    local host
    host="$(rustc -vV | sed -n 's/^host: //p')"
    export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
--cfg fuzzing"
    if [ "${FUZZ_TRACE_COMPARES:-0}" = 1 ]; then
        RUSTFLAGS="$RUSTFLAGS -Cllvm-args=-sanitizer-coverage-trace-compares"
        export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/trace-compares}"
    else
        export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
    fi
    cargo build --release --locked --quiet --target "$host" --bins
    FUZZ_BIN="$CARGO_TARGET_DIR/$host/release"
}

# The committed folders of inputs target $1 starts from: its seeds (corpus/), the corpus long runs
# grew (grown/) and every input that once crashed it (regressions/), those that exist.
fuzz_inputs() {
    local dir
    for dir in "corpus/$1" "grown/$1" "regressions/$1"; do
        if [ -d "$dir" ]; then echo "$dir"; fi
    done
}

# The artifact libFuzzer's log $1 says it wrote, if any.
fuzz_artifact_in() {
    sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$1" | tail -n 1
}

# Prints what reproduces crash artifact $2 of target $1: the input minimised for a bounded time
# (FUZZ_MINIMIZE_SECONDS, default 30), the panic message and backtrace of running it once more with
# RUST_BACKTRACE=1, and the input itself as base64 (at most FUZZ_REPORT_BYTES of it), with the
# commands that turn it into a regression test.
fuzz_report() {
    local target="$1" artifact="$2"
    local bin="$FUZZ_BIN/$target" input="$2"
    local minimized="${artifact%/*}/minimized-${artifact##*/}"
    echo "---- reproducing $target: $artifact ($(stat -c %s "$artifact") bytes)"
    # (-max_len is left out: libFuzzer's minimising step sets it itself and asserts it is unset.)
    timeout 300 "$bin" -rss_limit_mb=2048 -timeout=10 -minimize_crash=1 \
        -max_total_time="${FUZZ_MINIMIZE_SECONDS:-30}" -exact_artifact_path="$minimized" \
        "$artifact" >"$minimized.log" 2>&1 || true
    if [ -s "$minimized" ] && [ "$(stat -c %s "$minimized")" -lt "$(stat -c %s "$artifact")" ]; then
        input="$minimized"
        echo "minimised for ${FUZZ_MINIMIZE_SECONDS:-30} s to $(stat -c %s "$input") bytes: $input"
    else
        echo "not minimised (see $minimized.log); the original input follows"
    fi
    local run
    run="$(RUST_BACKTRACE=1 timeout 120 "$bin" "${FUZZ_LIMITS[@]}" "$input" 2>&1 || true)"
    echo "---- panic message and backtrace (RUST_BACKTRACE=1 $FUZZ_BIN/$target $input)"
    if grep -q 'panicked at' <<<"$run"; then
        sed -n '/panicked at/,/ERROR: libFuzzer/p' <<<"$run" | head -n 200
    else
        tail -n 40 <<<"$run"
    fi
    local size
    size="$(stat -c %s "$input")"
    echo "---- the input: $size bytes, sha256 $(sha256sum "$input" | cut -d' ' -f1), base64:"
    head -c "$FUZZ_REPORT_BYTES" "$input" | base64 -w 100
    if [ "$size" -gt "$FUZZ_REPORT_BYTES" ]; then
        echo "(only its first $FUZZ_REPORT_BYTES bytes are shown; the whole input is" \
            "fuzz/${input#./} on the machine that ran the fuzzer)"
    fi
    echo "---- to keep it: base64 -d > fuzz/regressions/$target/<what-it-is> <<'EOF' (the lines" \
        "above) EOF; fix it; cargo test -p mil-robustness"
}
