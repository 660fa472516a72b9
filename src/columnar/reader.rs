//! A Parquet file of the fixed schema back to event lines (row form: `unmapped` flat).

use arrow_json::writer::LineDelimited;
use arrow_json::WriterBuilder;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{schema, ColumnarError};

/// The rows of `file` as JSON lines, in file order. A file of another schema is refused.
pub fn read_lines(file: Bytes) -> Result<Vec<Vec<u8>>, ColumnarError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let expected = schema::schema();
    if builder.schema().fields() != expected.fields() {
        let found: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
        return Err(ColumnarError::Schema(format!("columns {}", found.join(","))));
    }
    let mut json = WriterBuilder::new().with_explicit_nulls(false).build::<_, LineDelimited>(Vec::new());
    for batch in builder.build()? {
        json.write(&batch?)?;
    }
    json.finish()?;
    let text = json.into_inner();
    Ok(text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect())
}
