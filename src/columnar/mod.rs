//! Apache Parquet output (`S3_FORMAT=parquet`, `compact`): NDJSON event lines in, one
//! zstd-compressed Parquet file of the fixed schema out, rows sorted by `time` then
//! `metadata.uid`; and Parquet files back to lines.

pub(crate) mod arrays;
pub(crate) mod reader;
pub(crate) mod rows;
pub mod schema;
pub(crate) mod writer;

pub use reader::read_lines;
pub use rows::key;
pub use writer::{write, StreamWriter, WriteOptions};

/// Why lines could not become Parquet or Parquet could not become lines.
#[derive(Debug, thiserror::Error)]
pub enum ColumnarError {
    #[error("event line: {0}")]
    Line(String),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// The reader panicked on the file (caught): malformed beyond what it reports as an error.
    #[error("parquet: malformed file (the reader gave up)")]
    Malformed,
    #[error("parquet schema differs from the fixed one: {0}")]
    Schema(String),
}
