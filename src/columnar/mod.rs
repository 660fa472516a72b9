//! Apache Parquet output (`S3_FORMAT=parquet`, `compact`): NDJSON event lines in, one
//! zstd-compressed Parquet file of the fixed schema out, rows sorted by `time` then
//! `metadata.uid`; and Parquet files back to lines.

pub mod arrays;
pub mod reader;
pub mod rows;
pub mod schema;
pub mod writer;

pub use reader::read_lines;
pub use rows::{key, RowKey};
pub use writer::{write, StreamWriter, WriteOptions};

/// Why lines could not become Parquet or Parquet could not become lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnarError {
    #[error("event line: {0}")]
    Line(String),
    #[error("arrow: {0}")]
    Arrow(String),
    #[error("parquet: {0}")]
    Parquet(String),
    #[error("parquet schema differs from the fixed one: {0}")]
    Schema(String),
}

impl From<arrow_schema::ArrowError> for ColumnarError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        ColumnarError::Arrow(e.to_string())
    }
}

impl From<parquet::errors::ParquetError> for ColumnarError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        ColumnarError::Parquet(e.to_string())
    }
}
