//! One-dimensional k-means: the look-up table of a palettised weight.
//!
//! coremltools clusters a weight with scikit-learn's `KMeans` (k-means++, one start, tolerance
//! 1e-2), or with `kmeans1d` — the optimal clustering — for fp16 weights of 10 000 values or more
//! when that package is installed (`_get_kmeans_lookup_table_and_weight`). In one dimension the
//! optimal clusters are runs of the sorted values, so dynamic programming finds them exactly
//! (`D[m][j] = min_i D[m-1][i] + cost(i, j)`, with the split points monotone in `j`, solved by
//! divide and conquer). We run it on the distinct values weighted by their counts — or, past
//! [`EXACT_UP_TO`] distinct values (every fp16 weight has fewer), on as many runs of equal count —
//! and then polish the centroids with Lloyd iterations on every value, so the error is never worse
//! than a local optimum's.

/// Up to this many distinct values the clustering is exactly optimal.
pub const EXACT_UP_TO: usize = 1 << 16;

/// Lloyd iterations after the dynamic programme (it stops earlier once nothing moves).
const LLOYD_ROUNDS: usize = 30;

/// The clustering of some values: `k` centroids (ascending) and the centroid of each value.
#[derive(Clone, Debug, PartialEq)]
pub struct Clusters {
    /// The centroids; when there are fewer distinct values than `k`, the rest are 0.
    pub centroids: Vec<f64>,
    /// For each value, the index of its centroid.
    pub labels: Vec<u32>,
}

/// Clusters `values` into at most `k` centroids, minimising the sum of squared distances.
pub fn cluster(values: &[f32], k: usize) -> Clusters {
    let mut sorted: Vec<f32> = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    // Distinct values with their counts.
    let mut points: Vec<(f64, f64)> = Vec::new();
    for &x in &sorted {
        match points.last_mut() {
            Some((v, c)) if *v == f64::from(x) => *c += 1.0,
            _ => points.push((f64::from(x), 1.0)),
        }
    }
    if points.len() <= k {
        let mut centroids: Vec<f64> = points.iter().map(|p| p.0).collect();
        centroids.resize(k, 0.0);
        let labels = values
            .iter()
            .map(|&x| points.partition_point(|p| p.0 < f64::from(x)) as u32)
            .collect();
        return Clusters { centroids, labels };
    }
    let runs = if points.len() > EXACT_UP_TO {
        merge_runs(&points, EXACT_UP_TO)
    } else {
        points
    };
    let mut centroids = optimal(&runs, k);
    lloyd(&sorted, &mut centroids);
    let labels = values
        .iter()
        .map(|&x| nearest(&centroids, f64::from(x)))
        .collect();
    Clusters { centroids, labels }
}

/// `points` (value, count), sorted, merged into `n` runs of about equal count, each its mean.
fn merge_runs(points: &[(f64, f64)], n: usize) -> Vec<(f64, f64)> {
    let total: f64 = points.iter().map(|p| p.1).sum();
    let per_run = total / n as f64;
    let mut runs = Vec::with_capacity(n);
    let (mut sum, mut count) = (0.0, 0.0);
    for &(v, c) in points {
        sum += v * c;
        count += c;
        if count >= per_run {
            runs.push((sum / count, count));
            (sum, count) = (0.0, 0.0);
        }
    }
    if count > 0.0 {
        runs.push((sum / count, count));
    }
    runs
}

/// The centroids of the optimal clustering of sorted weighted `points` into `k` runs.
fn optimal(points: &[(f64, f64)], k: usize) -> Vec<f64> {
    let n = points.len();
    let mut w = vec![0.0; n + 1];
    let mut s = vec![0.0; n + 1];
    let mut q = vec![0.0; n + 1];
    for (i, &(v, c)) in points.iter().enumerate() {
        w[i + 1] = w[i] + c;
        s[i + 1] = s[i] + c * v;
        q[i + 1] = q[i] + c * v * v;
    }
    // The squared error of one cluster holding points[i..j].
    let cost = |i: usize, j: usize| {
        let (cw, cs) = (w[j] - w[i], s[j] - s[i]);
        (q[j] - q[i] - cs * cs / cw).max(0.0)
    };
    let mut previous: Vec<f64> = (0..=n).map(|j| if j == 0 { 0.0 } else { cost(0, j) }).collect();
    let mut splits: Vec<Vec<u32>> = vec![vec![0; n + 1]];
    for m in 1..k {
        let mut current = vec![f64::INFINITY; n + 1];
        let mut split = vec![0u32; n + 1];
        // Cluster m ends at j; the previous ones cover points[..i], with i monotone in j.
        let mut stack = vec![(m + 1, n, m, n)];
        while let Some((lo, hi, from, to)) = stack.pop() {
            if lo > hi {
                continue;
            }
            let j = (lo + hi) / 2;
            let (mut best, mut at) = (f64::INFINITY, from);
            for (i, &before) in previous.iter().enumerate().take(to.min(j - 1) + 1).skip(from) {
                let c = before + cost(i, j);
                if c < best {
                    (best, at) = (c, i);
                }
            }
            current[j] = best;
            split[j] = at as u32;
            if j > lo {
                stack.push((lo, j - 1, from, at));
            }
            stack.push((j + 1, hi, at, to));
        }
        previous = current;
        splits.push(split);
    }
    // Walk the splits back from the end.
    let mut bounds = vec![n];
    let mut end = n;
    for m in (1..k).rev() {
        end = splits[m][end] as usize;
        bounds.push(end);
    }
    bounds.push(0);
    bounds.reverse();
    bounds
        .windows(2)
        .map(|b| (s[b[1]] - s[b[0]]) / (w[b[1]] - w[b[0]]))
        .collect()
}

/// Lloyd iterations over sorted `values`: each centroid moves to the mean of the values nearest it.
fn lloyd(sorted: &[f32], centroids: &mut [f64]) {
    for _ in 0..LLOYD_ROUNDS {
        let mut sums = vec![(0.0, 0.0); centroids.len()];
        for &x in sorted {
            let c = nearest(centroids, f64::from(x)) as usize;
            sums[c].0 += f64::from(x);
            sums[c].1 += 1.0;
        }
        let mut moved = false;
        for (c, (sum, count)) in centroids.iter_mut().zip(sums) {
            if count > 0.0 && *c != sum / count {
                *c = sum / count;
                moved = true;
            }
        }
        centroids.sort_by(f64::total_cmp);
        if !moved {
            break;
        }
    }
}

/// The index of the centroid nearest `x` in ascending `centroids` (the lower one on a tie).
pub fn nearest(centroids: &[f64], x: f64) -> u32 {
    let above = centroids.partition_point(|&c| c < x);
    if above == 0 {
        return 0;
    }
    if above == centroids.len() || x - centroids[above - 1] <= centroids[above] - x {
        (above - 1) as u32
    } else {
        above as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(values: &[f32], c: &Clusters) -> f64 {
        (values.iter().zip(&c.labels))
            .map(|(&x, &l)| (f64::from(x) - c.centroids[l as usize]).powi(2))
            .sum()
    }

    #[test]
    fn few_distinct_values_are_kept_exactly() {
        let c = cluster(&[3.0, 1.0, 3.0, 2.0], 4);
        assert_eq!(c.centroids, vec![1.0, 2.0, 3.0, 0.0]);
        assert_eq!(c.labels, vec![2, 0, 2, 1]);
    }

    #[test]
    fn two_clusters_split_at_the_widest_gap() {
        let values = [0.0, 0.1, 0.2, 10.0, 10.2];
        let c = cluster(&values, 2);
        assert!((c.centroids[0] - 0.1).abs() < 1e-6 && (c.centroids[1] - 10.1).abs() < 1e-6);
        assert_eq!(c.labels, vec![0, 0, 0, 1, 1]);
    }

    #[test]
    fn the_programme_beats_every_split_found_by_brute_force() {
        // 12 values into 3 runs: try every pair of split points.
        let values: Vec<f32> = [0.3, 1.1, 1.2, 2.9, 3.0, 3.05, 5.5, 7.0, 7.1, 7.3, 9.9, 10.0].to_vec();
        let sse = |run: &[f32]| {
            let mean = run.iter().map(|&x| f64::from(x)).sum::<f64>() / run.len() as f64;
            run.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>()
        };
        let mut best = f64::INFINITY;
        for a in 1..values.len() {
            for b in a + 1..values.len() {
                best = best.min(sse(&values[..a]) + sse(&values[a..b]) + sse(&values[b..]));
            }
        }
        let c = cluster(&values, 3);
        assert!(
            (error(&values, &c) - best).abs() < 1e-9,
            "{} vs {best}",
            error(&values, &c)
        );
    }
}
