//! A Parquet file of the fixed schema back to event lines (row form: `unmapped` flat).

use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{arrays, schema, ColumnarError};

/// The rows of `file` as JSON lines, in file order. A file of another schema is refused, and
/// a malformed file is an error even where the parquet crate would panic.
pub fn read_lines(file: Bytes) -> Result<Vec<Vec<u8>>, ColumnarError> {
    std::panic::catch_unwind(move || read(file)).unwrap_or_else(|_| Err(ColumnarError::Malformed))
}

fn read(file: Bytes) -> Result<Vec<Vec<u8>>, ColumnarError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let expected = schema::schema();
    if builder.schema().fields() != expected.fields() {
        let found = builder.schema().fields().clone();
        let differs = expected
            .fields()
            .iter()
            .find(|f| found.find(f.name()).is_none_or(|(_, g)| g != *f))
            .map(|f| f.name().clone())
            .or_else(|| found.iter().find(|g| expected.fields().find(g.name()).is_none()).map(|g| g.name().clone()));
        return Err(ColumnarError::Schema(format!("column {}", differs.unwrap_or_else(|| "order".into()))));
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
