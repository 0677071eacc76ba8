//! `weight.bin`: Core ML's blob storage, version 2 (see docs/package-format.md).
//!
//! A 64-byte file header (`u32` blob count, `u32` version 2, zeros) is followed by blobs. Each blob is
//! a 64-byte metadata record at a 64-aligned offset (the offset a `BlobFileValue` names), then its
//! payload; the gap before the next record is zero-filled and nothing follows the last payload.
//! All numbers are little-endian.
//!
//! [`BlobReader`] validates what it reads against the file's length before trusting it, and reads
//! payloads through [`Read`] + [`Seek`] so a file never needs to be in memory. [`BlobWriter`] streams
//! blobs out in the same layout coremltools writes.

use mil_ir::DType;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Size of the file header.
pub const HEADER_SIZE: u64 = 64;
/// Size of a blob's metadata record.
pub const RECORD_SIZE: u64 = 64;
/// Records start at multiples of this.
pub const ALIGNMENT: u64 = 64;
/// The first four bytes of every metadata record.
pub const SENTINEL: u32 = 0xDEAD_BEEF;
/// The storage version this module reads and writes.
pub const STORAGE_VERSION: u32 = 2;

/// Blob dtype codes and the dtypes they stand for; the only dtypes a weight file can hold.
const DTYPE_CODES: [(u32, DType); 17] = [
    (1, DType::Fp16),
    (2, DType::Fp32),
    (3, DType::UInt8),
    (4, DType::Int8),
    (5, DType::Bf16),
    (6, DType::Int16),
    (7, DType::UInt16),
    (8, DType::Int4),
    (9, DType::UInt1),
    (10, DType::UInt2),
    (11, DType::UInt4),
    (12, DType::UInt3),
    (13, DType::UInt6),
    (14, DType::Int32),
    (15, DType::UInt32),
    (16, DType::Fp8E4M3Fn),
    (17, DType::Fp8E5M2),
];

/// The dtype a record's dtype code stands for.
pub fn dtype_from_code(code: u32) -> Option<DType> {
    DTYPE_CODES.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

/// The record dtype code of `dtype`, if a weight file can hold it.
pub fn dtype_code(dtype: DType) -> Option<u32> {
    DTYPE_CODES.iter().find(|(_, d)| *d == dtype).map(|(c, _)| *c)
}

pub use mil_ir::weights::payload_size;

/// A blob's metadata record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobRecord {
    /// Where the record is in the file (what `BlobFileValue.offset` names).
    pub offset: u64,
    /// The element type.
    pub dtype: DType,
    /// Payload size in bytes.
    pub size: u64,
    /// Absolute offset of the payload (the record's offset + 64 in files Core ML writes).
    pub data_offset: u64,
    /// Unused bits in the payload's last byte (sub-byte types; 0 otherwise).
    pub padding_bits: u64,
}

/// What can be wrong with a weight file or a request to one.
#[derive(Debug)]
pub enum BlobError {
    /// Reading or writing failed.
    Io(io::Error),
    /// The file is shorter than its header.
    FileTooShort {
        /// The file's length.
        len: u64,
    },
    /// The header names a storage version other than 2.
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// A record offset that is not a multiple of 64.
    Unaligned {
        /// The offset.
        offset: u64,
    },
    /// A record that does not fit in the file.
    OffsetPastEnd {
        /// The record's offset.
        offset: u64,
        /// The file's length.
        file_len: u64,
    },
    /// A record that does not start with 0xDEADBEEF.
    BadSentinel {
        /// The record's offset.
        offset: u64,
        /// The four bytes found instead.
        found: u32,
    },
    /// A record whose dtype code is not one of the blob dtypes.
    UnknownDType {
        /// The record's offset.
        offset: u64,
        /// The code found.
        code: u32,
    },
    /// A record whose payload does not fit in the file.
    PayloadPastEnd {
        /// The record's offset.
        offset: u64,
        /// Where the record says the payload starts.
        data_offset: u64,
        /// The payload size the record claims.
        size: u64,
        /// The file's length.
        file_len: u64,
    },
    /// A dtype a weight file cannot hold (bool, string, fp64, 64-bit integers).
    UnsupportedDType(DType),
    /// More elements than a payload size can count.
    TooManyElements {
        /// The element count.
        elements: u64,
    },
    /// A payload whose length differs from what its dtype and element count need.
    PayloadSize {
        /// The bytes needed.
        expected: u64,
        /// The bytes given.
        found: u64,
    },
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobError::Io(e) => write!(f, "{e}"),
            BlobError::FileTooShort { len } => {
                write!(
                    f,
                    "the file is {len} bytes long, shorter than its {HEADER_SIZE}-byte header"
                )
            }
            BlobError::UnsupportedVersion { version } => {
                write!(f, "storage version {version}, expected {STORAGE_VERSION}")
            }
            BlobError::Unaligned { offset } => {
                write!(f, "offset {offset} is not a multiple of {ALIGNMENT}")
            }
            BlobError::OffsetPastEnd { offset, file_len } => write!(
                f,
                "a {RECORD_SIZE}-byte record at offset {offset} does not fit in the {file_len}-byte file"
            ),
            BlobError::BadSentinel { offset, found } => write!(
                f,
                "no blob record at offset {offset}: expected sentinel 0x{SENTINEL:08X}, found 0x{found:08X}"
            ),
            BlobError::UnknownDType { offset, code } => {
                write!(
                    f,
                    "the blob record at offset {offset} has unknown dtype code {code}"
                )
            }
            BlobError::PayloadPastEnd {
                offset,
                data_offset,
                size,
                file_len,
            } => write!(
                f,
                "the blob record at offset {offset} claims {size} bytes at offset {data_offset}, past the end \
                 of the {file_len}-byte file"
            ),
            BlobError::UnsupportedDType(dtype) => write!(f, "a weight file cannot hold {dtype} data"),
            BlobError::TooManyElements { elements } => {
                write!(f, "{elements} elements are too many for a blob")
            }
            BlobError::PayloadSize { expected, found } => {
                write!(f, "payload of {found} bytes, expected {expected}")
            }
        }
    }
}

impl std::error::Error for BlobError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BlobError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for BlobError {
    fn from(e: io::Error) -> BlobError {
        BlobError::Io(e)
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads a weight file: its header on opening, then records and payloads on demand.
#[derive(Debug)]
pub struct BlobReader<R> {
    inner: R,
    len: u64,
    count: u32,
}

impl BlobReader<File> {
    /// Opens the weight file at `path`. Reads go straight to the file, so reading a record reads
    /// 64 bytes.
    pub fn open(path: &Path) -> Result<BlobReader<File>, BlobError> {
        BlobReader::new(File::open(path)?)
    }
}

impl<R: Read + Seek> BlobReader<R> {
    /// Reads and validates the header of the weight file `inner`.
    pub fn new(mut inner: R) -> Result<BlobReader<R>, BlobError> {
        let len = inner.seek(SeekFrom::End(0))?;
        if len < HEADER_SIZE {
            return Err(BlobError::FileTooShort { len });
        }
        let mut header = [0u8; HEADER_SIZE as usize];
        inner.seek(SeekFrom::Start(0))?;
        inner.read_exact(&mut header)?;
        let version = u32_at(&header, 4);
        if version != STORAGE_VERSION {
            return Err(BlobError::UnsupportedVersion { version });
        }
        Ok(BlobReader {
            inner,
            len,
            count: u32_at(&header, 0),
        })
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    /// The blob count the header claims.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Reads and validates the metadata record at `offset`: it must be 64-aligned, lie inside the
    /// file, start with the sentinel, name a known dtype, and describe a payload inside the file.
    pub fn record(&mut self, offset: u64) -> Result<BlobRecord, BlobError> {
        if !offset.is_multiple_of(ALIGNMENT) {
            return Err(BlobError::Unaligned { offset });
        }
        if offset.checked_add(RECORD_SIZE).is_none_or(|end| end > self.len) {
            return Err(BlobError::OffsetPastEnd {
                offset,
                file_len: self.len,
            });
        }
        let mut bytes = [0u8; RECORD_SIZE as usize];
        self.inner.seek(SeekFrom::Start(offset))?;
        self.inner.read_exact(&mut bytes)?;
        let sentinel = u32_at(&bytes, 0);
        if sentinel != SENTINEL {
            return Err(BlobError::BadSentinel {
                offset,
                found: sentinel,
            });
        }
        let code = u32_at(&bytes, 4);
        let dtype = dtype_from_code(code).ok_or(BlobError::UnknownDType { offset, code })?;
        let (size, data_offset) = (u64_at(&bytes, 8), u64_at(&bytes, 16));
        if data_offset.checked_add(size).is_none_or(|end| end > self.len) {
            return Err(BlobError::PayloadPastEnd {
                offset,
                data_offset,
                size,
                file_len: self.len,
            });
        }
        Ok(BlobRecord {
            offset,
            dtype,
            size,
            data_offset,
            padding_bits: u64_at(&bytes, 24),
        })
    }

    /// A reader of the payload of `record` (a record this reader returned), positioned at its start.
    pub fn payload(&mut self, record: &BlobRecord) -> io::Result<io::Take<&mut R>> {
        self.inner.seek(SeekFrom::Start(record.data_offset))?;
        Ok(self.inner.by_ref().take(record.size))
    }

    /// The payload of `record` read into memory. Its size was checked against the file's length
    /// when the record was read.
    pub fn read_payload(&mut self, record: &BlobRecord) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(record.size as usize);
        self.payload(record)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// Writes a weight file blob by blob, without holding payloads in memory.
///
/// The output must be positioned at its start; [`BlobWriter::finish`] writes the final blob count
/// into the header.
#[derive(Debug)]
pub struct BlobWriter<W: Write + Seek> {
    out: W,
    count: u32,
    end: u64,
}

impl<W: Write + Seek> BlobWriter<W> {
    /// Starts a weight file in `out` with a header that counts no blobs yet.
    pub fn new(mut out: W) -> io::Result<BlobWriter<W>> {
        out.write_all(&header(0))?;
        Ok(BlobWriter {
            out,
            count: 0,
            end: HEADER_SIZE,
        })
    }

    /// Appends a blob of `elements` values of `dtype` whose packed little-endian bytes `payload`
    /// yields (exactly [`payload_size`] of them), and returns the offset of its record. After an
    /// error the file is incomplete.
    pub fn append(&mut self, dtype: DType, elements: u64, payload: impl Read) -> Result<u64, BlobError> {
        let code = dtype_code(dtype).ok_or(BlobError::UnsupportedDType(dtype))?;
        let bits = u64::from(dtype.bits().expect("blob dtypes have a width"));
        let total_bits = elements
            .checked_mul(bits)
            .ok_or(BlobError::TooManyElements { elements })?;
        let size = total_bits.div_ceil(8);
        let offset = self.end.next_multiple_of(ALIGNMENT);
        let gap = offset - self.end;
        self.out.write_all(&[0u8; ALIGNMENT as usize][..gap as usize])?;
        let mut record = [0u8; RECORD_SIZE as usize];
        record[0..4].copy_from_slice(&SENTINEL.to_le_bytes());
        record[4..8].copy_from_slice(&code.to_le_bytes());
        record[8..16].copy_from_slice(&size.to_le_bytes());
        record[16..24].copy_from_slice(&(offset + RECORD_SIZE).to_le_bytes());
        record[24..32].copy_from_slice(&((8 - total_bits % 8) % 8).to_le_bytes());
        self.out.write_all(&record)?;
        let copied = copy_buffered(payload.take(size), &mut self.out)?;
        self.end = offset + RECORD_SIZE + copied;
        if copied != size {
            return Err(BlobError::PayloadSize {
                expected: size,
                found: copied,
            });
        }
        self.count += 1;
        Ok(offset)
    }

    /// Appends a blob whose payload is in memory; `payload` must be exactly [`payload_size`] bytes.
    pub fn append_bytes(&mut self, dtype: DType, elements: u64, payload: &[u8]) -> Result<u64, BlobError> {
        if let Some(expected) = payload_size(dtype, elements)
            && expected != payload.len() as u64
        {
            return Err(BlobError::PayloadSize {
                expected,
                found: payload.len() as u64,
            });
        }
        self.append(dtype, elements, payload)
    }

    /// The number of blobs written so far.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Writes the blob count into the header, flushes, and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&header(self.count))?;
        self.out.seek(SeekFrom::Start(self.end))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Copies `from` into `to` through a buffer. Unlike `io::copy`, which turns a file-to-`BufWriter<File>`
/// copy into a flush and a `copy_file_range` per call, the output stays buffered: copying thousands of
/// small blobs takes a few large writes.
fn copy_buffered(mut from: impl Read, to: &mut impl Write) -> io::Result<u64> {
    let mut buffer = [0u8; 16 * 1024];
    let mut copied = 0;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buffer[..n])?;
        copied += n as u64;
    }
}

fn header(count: u32) -> [u8; HEADER_SIZE as usize] {
    let mut bytes = [0u8; HEADER_SIZE as usize];
    bytes[0..4].copy_from_slice(&count.to_le_bytes());
    bytes[4..8].copy_from_slice(&STORAGE_VERSION.to_le_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Writes blobs of the given dtypes and element counts, each payload a distinct byte pattern.
    fn write(blobs: &[(DType, u64)]) -> (Vec<u8>, Vec<u64>, Vec<Vec<u8>>) {
        let mut writer = BlobWriter::new(Cursor::new(Vec::new())).unwrap();
        let mut offsets = Vec::new();
        let mut payloads = Vec::new();
        for (i, &(dtype, n)) in blobs.iter().enumerate() {
            let size = payload_size(dtype, n).unwrap() as usize;
            let payload: Vec<u8> = (0..size).map(|j| (i * 31 + j * 7 + 1) as u8).collect();
            offsets.push(writer.append_bytes(dtype, n, &payload).unwrap());
            payloads.push(payload);
        }
        (writer.finish().unwrap().into_inner(), offsets, payloads)
    }

    fn reader(bytes: &[u8]) -> Result<BlobReader<Cursor<&[u8]>>, BlobError> {
        BlobReader::new(Cursor::new(bytes))
    }

    #[test]
    fn every_blob_dtype_round_trips() {
        let blobs: Vec<(DType, u64)> = DTYPE_CODES.iter().map(|&(_, d)| (d, 13)).collect();
        let (bytes, offsets, payloads) = write(&blobs);
        let mut r = reader(&bytes).unwrap();
        assert_eq!(r.count(), 17);
        for ((&(dtype, n), &offset), payload) in blobs.iter().zip(&offsets).zip(&payloads) {
            let record = r.record(offset).unwrap();
            let bits = u64::from(dtype.bits().unwrap());
            assert_eq!(record.dtype, dtype);
            assert_eq!(record.size, (n * bits).div_ceil(8));
            assert_eq!(record.data_offset, offset + RECORD_SIZE);
            assert_eq!(record.padding_bits, record.size * 8 - n * bits, "{dtype}");
            assert_eq!(&r.read_payload(&record).unwrap(), payload);
        }
    }

    #[test]
    fn layout_is_aligned_zero_filled_and_unpadded_at_the_end() {
        let (bytes, offsets, _) = write(&[(DType::Fp16, 3), (DType::UInt4, 3), (DType::Fp32, 16)]);
        assert_eq!(offsets, [64, 192, 320]);
        assert_eq!(&bytes[0..8], &[3, 0, 0, 0, 2, 0, 0, 0]);
        assert!(bytes[8..64].iter().all(|&b| b == 0));
        // fp16 x3 = 6 payload bytes at 128..134, then zeros up to the next record.
        assert!(bytes[134..192].iter().all(|&b| b == 0));
        assert_eq!(&bytes[192..196], &SENTINEL.to_le_bytes());
        assert_eq!(
            u64_at(&bytes, 192 + 24),
            4,
            "3 uint4 values leave 4 bits of the last byte"
        );
        assert_eq!(bytes.len(), 320 + 64 + 64);
    }

    #[test]
    fn empty_weight_file_has_only_a_header() {
        let (bytes, _, _) = write(&[]);
        assert_eq!(bytes.len(), 64);
        assert_eq!(reader(&bytes).unwrap().count(), 0);
    }

    #[test]
    fn header_errors() {
        assert!(matches!(
            reader(&[0; 63]),
            Err(BlobError::FileTooShort { len: 63 })
        ));
        let mut bytes = write(&[]).0;
        bytes[4] = 3;
        assert!(matches!(
            reader(&bytes),
            Err(BlobError::UnsupportedVersion { version: 3 })
        ));
    }

    #[test]
    fn record_errors() {
        let (bytes, offsets, _) = write(&[(DType::Fp32, 4), (DType::Int8, 1)]);
        let mut r = reader(&bytes).unwrap();
        assert!(matches!(r.record(100), Err(BlobError::Unaligned { offset: 100 })));
        assert!(matches!(
            r.record(0),
            Err(BlobError::BadSentinel { offset: 0, found: 2 })
        ));
        assert!(matches!(
            r.record(128),
            Err(BlobError::BadSentinel { offset: 128, .. })
        ));
        let len = bytes.len() as u64;
        let past = len.next_multiple_of(64);
        assert!(
            matches!(r.record(past), Err(BlobError::OffsetPastEnd { offset, file_len }) if offset == past && file_len == len)
        );
        // The last record starts at 192 and its 1-byte payload ends the file at 257: a record at 256
        // would not fit.
        assert!(matches!(r.record(256), Err(BlobError::OffsetPastEnd { .. })));
        let huge = u64::MAX - 63;
        assert!(matches!(r.record(huge), Err(BlobError::OffsetPastEnd { .. })));

        let mut patched = bytes.clone();
        patched[offsets[1] as usize + 4] = 99;
        assert!(matches!(
            reader(&patched).unwrap().record(offsets[1]),
            Err(BlobError::UnknownDType { code: 99, .. })
        ));
    }

    #[test]
    fn payload_claims_are_checked_against_the_file_length() {
        let (bytes, offsets, _) = write(&[(DType::Fp32, 4), (DType::Int8, 1)]);
        for (size, data_offset) in [(2, 256), (u64::MAX, 256), (1, u64::MAX)] {
            let mut patched = bytes.clone();
            let at = offsets[1] as usize;
            patched[at + 8..at + 16].copy_from_slice(&u64::to_le_bytes(size));
            patched[at + 16..at + 24].copy_from_slice(&u64::to_le_bytes(data_offset));
            let err = reader(&patched).unwrap().record(offsets[1]).unwrap_err();
            assert!(
                matches!(err, BlobError::PayloadPastEnd { size: s, data_offset: d, file_len: 257, .. } if s == size && d == data_offset),
                "{err:?}"
            );
        }
    }

    #[test]
    fn payloads_stream_from_a_reader() {
        let (bytes, offsets, payloads) = write(&[(DType::UInt8, 100), (DType::Fp16, 5)]);
        let mut r = reader(&bytes).unwrap();
        let record = r.record(offsets[0]).unwrap();
        let mut copy = BlobWriter::new(Cursor::new(Vec::new())).unwrap();
        let offset = copy
            .append(DType::UInt8, 100, r.payload(&record).unwrap())
            .unwrap();
        let copied = copy.finish().unwrap().into_inner();
        let mut r2 = reader(&copied).unwrap();
        let record2 = r2.record(offset).unwrap();
        assert_eq!(r2.read_payload(&record2).unwrap(), payloads[0]);
    }

    #[test]
    fn writer_errors() {
        let mut w = BlobWriter::new(Cursor::new(Vec::new())).unwrap();
        assert!(matches!(
            w.append_bytes(DType::Fp64, 1, &[0; 8]),
            Err(BlobError::UnsupportedDType(DType::Fp64))
        ));
        assert!(matches!(
            w.append_bytes(DType::Int64, 1, &[0; 8]),
            Err(BlobError::UnsupportedDType(DType::Int64))
        ));
        assert!(matches!(
            w.append_bytes(DType::Fp16, 3, &[0; 5]),
            Err(BlobError::PayloadSize {
                expected: 6,
                found: 5
            })
        ));
        assert!(matches!(
            w.append(DType::UInt3, 5, &[0u8; 1][..]),
            Err(BlobError::PayloadSize {
                expected: 2,
                found: 1
            })
        ));
        assert!(matches!(
            w.append(DType::Fp32, u64::MAX / 4, &[][..]),
            Err(BlobError::TooManyElements { .. })
        ));
    }

    #[test]
    fn dtype_codes_cover_exactly_the_blob_dtypes() {
        for dtype in DType::ALL {
            let blobbable = !matches!(
                dtype,
                DType::Bool | DType::String | DType::Fp64 | DType::Int64 | DType::UInt64
            );
            assert_eq!(dtype_code(dtype).is_some(), blobbable, "{dtype}");
            if let Some(code) = dtype_code(dtype) {
                assert_eq!(dtype_from_code(code), Some(dtype));
            }
        }
        assert_eq!(dtype_from_code(0), None);
        assert_eq!(dtype_from_code(18), None);
    }
}
