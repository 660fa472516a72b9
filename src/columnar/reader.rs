//! A Parquet file of the fixed schema back to event lines (row form: `unmapped` flat).

use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{arrays, schema, ColumnarError};

/// The rows of `file` as JSON lines, in file order. A file of another schema is refused.
pub fn read_lines(file: Bytes) -> Result<Vec<Vec<u8>>, ColumnarError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let expected = schema::schema();
    if builder.schema().fields() != expected.fields() {
        let found: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
        return Err(ColumnarError::Schema(format!("columns {}", found.join(","))));
    }
    let mut lines = Vec::new();
    for batch in builder.build()? {
        let batch = batch?;
        for i in 0..batch.num_rows() {
            lines.push(serde_json::to_vec(&arrays::row(&batch, i)).map_err(|e| ColumnarError::Line(e.to_string()))?);
        }
    }
    Ok(lines)
}
