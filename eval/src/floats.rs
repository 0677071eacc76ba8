//! The storage of an `fp32` tensor: a vector the interpreter owns, or the bytes of a weight file
//! read in place from its memory mapping, so that a model's weights are neither copied nor held
//! twice (the page cache holds them once, shared by every run).

use memmap2::Mmap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// `f32` elements, owned or borrowed from a mapped weight file.
#[derive(Clone)]
pub enum Floats {
    /// Computed values.
    Owned(Vec<f32>),
    /// `len` values at byte `start` of a mapping (aligned to 4 bytes, little-endian).
    Mapped {
        /// The mapping, kept alive while a tensor reads it.
        map: Arc<Mmap>,
        /// Where the values start, in bytes.
        start: usize,
        /// How many values there are.
        len: usize,
    },
}

impl Floats {
    /// The `len` values at byte `start` of `map`, when they lie inside it and can be read in place
    /// (4-byte aligned on a little-endian machine); `None` otherwise, for the caller to decode them.
    pub fn mapped(map: &Arc<Mmap>, start: usize, len: usize) -> Option<Floats> {
        let end = start.checked_add(len.checked_mul(4)?)?;
        let aligned = (map.as_ptr() as usize + start).is_multiple_of(std::mem::align_of::<f32>());
        (cfg!(target_endian = "little") && aligned && end <= map.len()).then(|| Floats::Mapped {
            map: map.clone(),
            start,
            len,
        })
    }

    /// Where mapped values lie (the mapping's address and their byte offset), which names them
    /// for as long as the mapping lives; `None` for owned values.
    pub fn mapped_at(&self) -> Option<(usize, usize)> {
        match self {
            Floats::Owned(_) => None,
            Floats::Mapped { map, start, .. } => Some((map.as_ptr() as usize, *start)),
        }
    }

    /// Lets the system drop the resident pages of mapped values (and the rest of their first and
    /// last pages): they no longer count in the process's memory, and are read again from the
    /// file if used again. Nothing for owned values.
    pub fn release(&self) {
        if let Floats::Mapped { map, start, len } = self {
            // SAFETY: the mapping is read-only and private and never written, so its pages hold
            // the file's bytes: a page dropped here reads back the same values when touched
            // again, and no slice borrowed from it sees a change.
            let _ =
                unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, *start, len * 4) };
        }
    }

    /// The values as a vector, copied when they are mapped.
    pub fn into_vec(self) -> Vec<f32> {
        match self {
            Floats::Owned(v) => v,
            mapped => mapped.to_vec(),
        }
    }
}

impl Deref for Floats {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match self {
            Floats::Owned(v) => v,
            // SAFETY: `mapped` checked that the range lies inside the mapping and is aligned for
            // f32, every bit pattern is an f32, and the Arc keeps the read-only mapping alive.
            Floats::Mapped { map, start, len } => unsafe {
                std::slice::from_raw_parts(map.as_ptr().add(*start).cast::<f32>(), *len)
            },
        }
    }
}

impl From<Vec<f32>> for Floats {
    fn from(v: Vec<f32>) -> Floats {
        Floats::Owned(v)
    }
}

impl PartialEq for Floats {
    fn eq(&self, other: &Floats) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Floats {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl FromIterator<f32> for Floats {
    fn from_iter<I: IntoIterator<Item = f32>>(iter: I) -> Floats {
        Floats::Owned(iter.into_iter().collect())
    }
}
