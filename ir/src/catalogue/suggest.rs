//! "Did you mean": the op name closest to a misspelt one.

/// The op name closest to `name` by edit distance (ASCII case ignored; a swap of two neighbouring
/// letters counts as one edit), if one is close enough to be a plausible typo: at most one edit
/// per three letters, and at least one. Ties go to the name sharing the longest prefix with `name`,
/// then to the alphabetically first. A known op name suggests itself.
///
/// ```
/// use mil_ir::catalogue::suggest;
/// assert_eq!(suggest("conv2d"), Some("conv"));
/// assert_eq!(suggest("layernorm"), Some("layer_norm"));
/// assert_eq!(suggest("frobnicate"), None);
/// ```
pub fn suggest(name: &str) -> Option<&'static str> {
    let wanted: Vec<u8> = name.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let limit = wanted.len().div_ceil(3).max(1);
    super::ops()
        .iter()
        .map(|op| {
            let candidate = op.name.as_bytes();
            let prefix = wanted.iter().zip(candidate).take_while(|(a, b)| a == b).count();
            (edit_distance(&wanted, candidate), usize::MAX - prefix, op.name)
        })
        .filter(|&(distance, _, _)| distance <= limit)
        .min()
        .map(|(_, _, name)| name)
}

/// The optimal string alignment distance: insertions, deletions, substitutions and transpositions
/// of adjacent bytes, each costing one.
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    // Three rolling rows of the dynamic-programming table: i-2, i-1 and i.
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_each_kind_of_edit_once() {
        assert_eq!(edit_distance(b"", b"abc"), 3);
        assert_eq!(edit_distance(b"abc", b"abc"), 0);
        assert_eq!(edit_distance(b"abc", b"abd"), 1);
        assert_eq!(edit_distance(b"abc", b"ac"), 1);
        assert_eq!(edit_distance(b"abc", b"bac"), 1);
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
    }

    #[test]
    fn typos_find_the_op_meant() {
        assert_eq!(suggest("conv2d"), Some("conv"));
        assert_eq!(suggest("Conv"), Some("conv"));
        assert_eq!(suggest("sofmtax"), Some("softmax"));
        assert_eq!(suggest("maxpool"), Some("max_pool"));
        assert_eq!(suggest("batchnorm"), Some("batch_norm"));
        assert_eq!(suggest("reduce_mena"), Some("reduce_mean"));
        assert_eq!(suggest("relu"), Some("relu"));
    }

    #[test]
    fn names_far_from_every_op_suggest_nothing() {
        assert_eq!(suggest(""), None);
        assert_eq!(suggest("frobnicate"), None);
        assert_eq!(suggest("xyz"), None);
    }
}
