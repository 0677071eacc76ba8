//! "Did you mean": the defined name closest to an undefined one, by edit distance.
//!
//! [`suggestion`] looks at every name of a function, which reading a whole text does once per
//! undefined name. An editor asks again after every edit that defines or takes away a name, so
//! [`NameIndex`] keeps the names in a BK-tree (Burkhard and Keller, 1973: a node's children are
//! keyed by their edit distance to it, and by the triangle inequality a search within distance `r`
//! of a name only descends into children keyed within `r` of the node's own distance to it), and
//! gives the same suggestion while comparing a few hundred names instead of all of them.

use mil_ir::{Function, Name};
use smallvec::SmallVec;

/// `; did you mean `x`?` for the defined name of `f` closest to `name`, if one is close: what the
/// diagnostic of an undefined name adds (the language server words the ones it finds again after
/// an edit with it).
pub fn suggestion(f: &Function, name: &str) -> String {
    let best = f
        .symbols
        .keys()
        .map(|k| (edit_distance(k, name), k.as_str()))
        .filter(|&(d, k)| close(d, name, k))
        .min();
    hint(best.map(|(_, k)| k))
}

/// Whether `k`, at edit distance `d` from the undefined `name`, is close enough to suggest.
fn close(d: usize, name: &str, k: &str) -> bool {
    d <= (name.len().max(k.len()) / 3).max(1)
}

/// The text a suggestion adds to the diagnostic.
fn hint(best: Option<&str>) -> String {
    match best {
        Some(k) => format!("; did you mean `{k}`?"),
        None => String::new(),
    }
}

/// Levenshtein distance over bytes.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: SmallVec<[usize; 48]> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + (ca != cb) as usize).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The names of a function, for suggestions ([`NameIndex::suggestion`] gives what [`suggestion`]
/// gives). Names taken away from the function may stay in the index: a suggestion is only ever a
/// name the function defines now, so the index must hold every such name (insert each new one)
/// and may hold others; rebuild it when [`NameIndex::len`] grows far past the function's names.
#[derive(Clone, Debug, Default)]
pub struct NameIndex {
    /// The tree's nodes; the first is the root.
    nodes: Vec<Node>,
}

#[derive(Clone, Debug)]
struct Node {
    name: Name,
    /// The children, each with its edit distance to this node's name (no two alike).
    children: Vec<(u32, u32)>,
}

impl NameIndex {
    /// The index of every name `f` defines.
    pub fn of(f: &Function) -> NameIndex {
        let mut index = NameIndex {
            nodes: Vec::with_capacity(f.symbols.len()),
        };
        for name in f.symbols.keys() {
            index.insert(name);
        }
        index
    }

    /// How many names the index holds (including names no longer defined).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the index holds no name.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds `name` (nothing when it is there already).
    pub fn insert(&mut self, name: &str) {
        let node = |name: &str| Node {
            name: name.into(),
            children: Vec::new(),
        };
        if self.nodes.is_empty() {
            self.nodes.push(node(name));
            return;
        }
        let mut at = 0;
        loop {
            let d = edit_distance(&self.nodes[at].name, name) as u32;
            if d == 0 {
                return;
            }
            match self.nodes[at].children.iter().find(|&&(cd, _)| cd == d) {
                Some(&(_, child)) => at = child as usize,
                None => {
                    let child = self.nodes.len() as u32;
                    self.nodes.push(node(name));
                    self.nodes[at].children.push((d, child));
                    return;
                }
            }
        }
    }

    /// What [`suggestion`] gives for `name` in `f`, whose every name the index must hold.
    pub fn suggestion(&self, f: &Function, name: &str) -> String {
        // A suggestion `k` at distance `d` has `d ≥ |k| − |name|` and `d ≤ max(|name|, |k|) / 3`
        // (or 1), so `d ≤ max(|name| / 2, 1)`: the radius to search, narrowed to the best so far.
        let mut radius = (name.len() / 2).max(1);
        let mut best: Option<(usize, &str)> = None;
        let mut todo: Vec<u32> = Vec::new();
        let mut near: Vec<(std::cmp::Reverse<usize>, u32)> = Vec::new();
        if !self.nodes.is_empty() {
            todo.push(0);
        }
        while let Some(at) = todo.pop() {
            let node = &self.nodes[at as usize];
            let d = edit_distance(&node.name, name);
            let candidate = (d, node.name.as_str());
            if close(d, name, &node.name)
                && best.is_none_or(|b| candidate < b)
                && f.symbols.contains_key(node.name.as_str())
            {
                best = Some(candidate);
                radius = d;
            }
            // The children nearest `d` last, so they are searched first and narrow the radius.
            near.clear();
            near.extend(node.children.iter().filter_map(|&(cd, child)| {
                let gap = (cd as usize).abs_diff(d);
                (gap <= radius).then_some((std::cmp::Reverse(gap), child))
            }));
            near.sort_unstable();
            todo.extend(near.iter().map(|&(_, child)| child));
        }
        hint(best.map(|(_, k)| k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mil_ir::ValueId;

    /// A function defining `names` (no ops: suggestions only read the symbols).
    fn defining(names: &[String]) -> Function {
        let mut f = Function::default();
        for (i, n) in names.iter().enumerate() {
            f.symbols.insert(n.as_str().into(), ValueId(i as u32));
        }
        f
    }

    /// Names like a compiler's (`conv_12_weight`, `relu_7`, `x_3`) and short random ones.
    fn names(count: usize, seed: u64) -> Vec<String> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let stems = ["conv", "relu", "x", "var", "conv_w", "add", "input"];
        (0..count)
            .map(|i| match next() % 3 {
                0 => format!("{}_{}", stems[next() % stems.len()], next() % (count + 1)),
                1 => format!("{}_{i}_weight", stems[next() % stems.len()]),
                _ => (0..1 + next() % 6)
                    .map(|_| (b'a' + (next() % 4) as u8) as char)
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn the_index_suggests_what_a_scan_of_every_name_suggests() {
        let defined = names(800, 1);
        let mut f = defining(&defined);
        let mut index = NameIndex::of(&f);
        // Names taken away stay in the index but are never suggested; new ones are inserted.
        for gone in defined.iter().step_by(7) {
            f.symbols.remove(gone.as_str());
        }
        for added in names(100, 2) {
            index.insert(&added);
            let id = ValueId(f.symbols.len() as u32);
            f.symbols.insert(added.as_str().into(), id);
        }
        let mut suggested = 0;
        for query in names(200, 3).iter().chain(defined.iter().step_by(4)) {
            for q in [query.clone(), format!("{query}x"), query[1..].to_string()] {
                let expected = suggestion(&f, &q);
                suggested += usize::from(!expected.is_empty());
                assert_eq!(index.suggestion(&f, &q), expected, "for `{q}`");
            }
        }
        assert!(
            suggested > 300,
            "the queries should mostly have a suggestion ({suggested})"
        );
    }
}
