//! Recurrent layers: `lstm` (three results), `gru` and `rnn` (two each).

use super::context::Ctx;
use super::shape::{known, map, show};
use super::{Inferred, Problem, tensor};
use crate::types::{DType, Dim};

/// The activations the recurrent ops accept.
const ACTIVATIONS: &[&str] = &["tanh", "scaled_tanh", "sigmoid", "hard_sigmoid", "relu", "linear"];

/// The `[seq, batch, input]` of x, and x's dtype.
fn sequence(cx: &Ctx) -> Result<(DType, Dim, Dim), Problem> {
    let (dtype, x) = cx.tensor("x")?;
    match x {
        &[s, b, _] => Ok((dtype, s, b)),
        _ => Err(Problem::incompatible(
            "x",
            format!(
                "{} needs x of rank 3 [seq, batch, input], not {}",
                cx.op.kind,
                show(x)
            ),
        )),
    }
}

/// Checks the named activation inputs (given or defaulted) and the direction.
fn check_strings(
    cx: &Ctx,
    activations: &[(&str, &'static str)],
    directions: &[&str],
) -> Result<String, Problem> {
    for &(key, default) in activations {
        let a = cx.string_or(key, default)?;
        if !ACTIVATIONS.contains(&a.to_lowercase().as_str()) {
            return Err(Problem::invalid(
                key,
                format!("unknown activation \"{a}\" ({})", ACTIVATIONS.join(", ")),
            ));
        }
    }
    let direction = cx.string_or("direction", "forward")?;
    if !directions.contains(&direction.as_str()) {
        return Err(Problem::invalid(
            "direction",
            format!("unknown direction \"{direction}\" ({})", directions.join(", ")),
        ));
    }
    Ok(direction)
}

/// Checks that a weight has rank 2 and `gates` gates of `hidden` rows each.
fn check_weight(cx: &Ctx, key: &str, gates: i64, hidden: Dim) -> Result<(), Problem> {
    let w = cx.shape(key)?;
    let rows = match w {
        [rows, _] => *rows,
        _ => {
            return Err(Problem::incompatible(
                key,
                format!("{key} must have rank 2, not {}", w.len()),
            ));
        }
    };
    if let (Some(r), Some(h)) = (known(rows), known(hidden))
        && h > 0
        && r / h != gates
    {
        return Err(Problem::incompatible(
            key,
            format!("{key} {} needs {gates} × {h} rows, one block per gate", show(w)),
        ));
    }
    Ok(())
}

/// The length of the output sequence: all steps, or only the last.
fn out_len(cx: &Ctx, seq: Dim) -> Result<Dim, Problem> {
    Ok(if cx.bool_or("output_sequence", false)? {
        seq
    } else {
        Dim::Known(1)
    })
}

/// `lstm`: the output sequence, and the last hidden and cell states (doubled when bidirectional).
pub(crate) fn lstm(cx: &Ctx) -> Inferred {
    let (dtype, seq, batch) = sequence(cx)?;
    let direction = check_strings(
        cx,
        &[
            ("recurrent_activation", "sigmoid"),
            ("cell_activation", "tanh"),
            ("activation", "tanh"),
        ],
        &["forward", "reverse", "bidirectional"],
    )?;
    let hidden = match cx.shape("weight_hh")? {
        [_, h] => *h,
        w => {
            return Err(Problem::incompatible(
                "weight_hh",
                format!("weight_hh must have rank 2, not {}", w.len()),
            ));
        }
    };
    check_weight(cx, "weight_hh", 4, hidden)?;
    check_weight(cx, "weight_ih", 4, hidden)?;
    let directions = if direction == "bidirectional" { 2 } else { 1 };
    let width = map(hidden, |h| h * directions);
    let state = tensor(dtype, vec![batch, width]);
    Ok(vec![
        tensor(dtype, vec![out_len(cx, seq)?, batch, width]),
        state.clone(),
        state,
    ])
}

/// `gru`: the output sequence and the last hidden state.
pub(crate) fn gru(cx: &Ctx) -> Inferred {
    let (dtype, seq, batch) = sequence(cx)?;
    check_strings(
        cx,
        &[("recurrent_activation", "sigmoid"), ("activation", "tanh")],
        &["forward", "reverse"],
    )?;
    let hidden = match cx.shape("weight_hh")? {
        [_, h] => *h,
        w => {
            return Err(Problem::incompatible(
                "weight_hh",
                format!("weight_hh must have rank 2, not {}", w.len()),
            ));
        }
    };
    check_weight(cx, "weight_hh", 3, hidden)?;
    Ok(vec![
        tensor(dtype, vec![out_len(cx, seq)?, batch, hidden]),
        tensor(dtype, vec![batch, hidden]),
    ])
}

/// `rnn`: the output sequence and the last hidden state.
pub(crate) fn rnn(cx: &Ctx) -> Inferred {
    let (dtype, seq, batch) = sequence(cx)?;
    check_strings(cx, &[("activation", "tanh")], &["forward", "reverse"])?;
    let hidden = match cx.shape("weight_ih")? {
        [h, _] => *h,
        w => {
            return Err(Problem::incompatible(
                "weight_ih",
                format!("weight_ih must have rank 2, not {}", w.len()),
            ));
        }
    };
    Ok(vec![
        tensor(dtype, vec![out_len(cx, seq)?, batch, hidden]),
        tensor(dtype, vec![batch, hidden]),
    ])
}
