//! Lines to one Parquet file: zstd, data pages of at most about 1 MB, rows sorted by
//! time and flagged so in the row-group metadata.

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::WriterProperties;

use super::{arrays, rows, schema, ColumnarError};

/// Upper bound of a data page (the writer closes a page once it reaches this).
pub const DATA_PAGE_BYTES: usize = 1 << 20;
/// Rows written between two page-size checks: a page overshoots the bound by at most this many values.
const WRITE_BATCH_ROWS: usize = 64;
/// Rows turned into Arrow at a time: what the conversion holds in memory besides the lines.
const CHUNK_ROWS: usize = 4096;
/// A chunk also ends past this many line bytes: a string column's i32 offsets stay far from
/// their 2 GiB limit (a line is at most 1 GiB: `compact::MAX_OBJECT_BYTES`).
const CHUNK_BYTES: usize = 256 << 20;
/// Rows per row group.
const ROW_GROUP_ROWS: usize = 128 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// zstd level, 1-22 (`PARQUET_ZSTD_LEVEL`).
    pub zstd_level: i32,
    /// Keep one row per `metadata.uid` (`compact`: a batch retried with another split wrote
    /// its events twice). The sink keeps every line.
    pub dedupe: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { zstd_level: 3, dedupe: false }
    }
}

/// The writer properties of every file: zstd, bounded pages, sorted by time within a row group.
fn properties(zstd_level: i32) -> Result<WriterProperties, ColumnarError> {
    let level = ZstdLevel::try_new(zstd_level)?;
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_data_page_size_limit(DATA_PAGE_BYTES)
        .set_dictionary_page_size_limit(DATA_PAGE_BYTES)
        .set_write_batch_size(WRITE_BATCH_ROWS)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_sorting_columns(Some(vec![SortingColumn {
            column_idx: schema::time_column() as i32,
            descending: false,
            nulls_first: false,
        }]))
        .set_created_by(format!("das-forwarder {}", env!("CARGO_PKG_VERSION")))
        .build())
}

/// Writes `lines` in the order `order` gives (indices into `lines`), in Arrow chunks.
fn write_rows(
    writer: &mut ArrowWriter<Vec<u8>>,
    lines: &[&[u8]],
    order: impl ExactSizeIterator<Item = usize>,
) -> Result<(), ColumnarError> {
    let total = order.len();
    let mut values = Vec::with_capacity(CHUNK_ROWS.min(total));
    let mut bytes = 0;
    for (n, i) in order.enumerate() {
        values.push(rows::row(lines[i])?);
        bytes += lines[i].len();
        if values.len() == CHUNK_ROWS || bytes >= CHUNK_BYTES || n + 1 == total {
            writer.write(&arrays::to_batch(&values)?)?;
            values.clear();
            bytes = 0;
        }
    }
    Ok(())
}

/// The Parquet file of `lines`, and how many rows it holds.
pub fn write(lines: &[&[u8]], options: WriteOptions) -> Result<(Vec<u8>, usize), ColumnarError> {
    let mut order = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let k = rows::key(line)?;
        order.push((k.time, k.uid, i));
    }
    order.sort_unstable();
    if options.dedupe {
        // The earliest copy of each uid stays; copies need not be adjacent (a time that fell
        // back to the arrival time differs between copies).
        let mut seen = std::collections::HashSet::with_capacity(order.len());
        order.retain(|(_, uid, _)| seen.insert(uid.clone()));
    }
    let mut writer = ArrowWriter::try_new(Vec::new(), schema::schema(), Some(properties(options.zstd_level)?))?;
    write_rows(&mut writer, lines, order.iter().map(|(_, _, i)| *i))?;
    Ok((writer.into_inner()?, order.len()))
}

/// A Parquet file written as its lines come (the S3 sink): lines gather into a row group, which
/// is sorted by (time, uid) and written once it holds `row_group_bytes` of lines; the file's
/// bytes can be taken as they are produced, and the footer comes last.
pub struct StreamWriter {
    writer: ArrowWriter<Vec<u8>>,
    /// The row group being gathered: lines back to back, and where each ends.
    lines: Vec<u8>,
    ends: Vec<usize>,
    row_group_bytes: usize,
    pub rows: usize,
}

impl StreamWriter {
    pub fn new(zstd_level: i32, row_group_bytes: usize) -> Result<StreamWriter, ColumnarError> {
        let writer = ArrowWriter::try_new(Vec::new(), schema::schema(), Some(properties(zstd_level)?))?;
        Ok(StreamWriter { writer, lines: Vec::new(), ends: Vec::new(), row_group_bytes, rows: 0 })
    }

    /// Adds one line; writes the row group when it is full.
    pub fn push(&mut self, line: &[u8]) -> Result<(), ColumnarError> {
        self.lines.extend_from_slice(line);
        self.ends.push(self.lines.len());
        if self.lines.len() >= self.row_group_bytes || self.ends.len() >= ROW_GROUP_ROWS {
            self.write_row_group()?;
        }
        Ok(())
    }

    /// Writes the gathered lines as one row group, sorted by (time, uid).
    pub fn write_row_group(&mut self) -> Result<(), ColumnarError> {
        if self.ends.is_empty() {
            return Ok(());
        }
        let mut start = 0;
        let lines: Vec<&[u8]> = self
            .ends
            .iter()
            .map(|&end| {
                let line = &self.lines[start..end];
                start = end;
                line
            })
            .collect();
        let mut order = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            let k = rows::key(line)?;
            order.push((k.time, k.uid, i));
        }
        order.sort_unstable();
        write_rows(&mut self.writer, &lines, order.iter().map(|(_, _, i)| *i))?;
        self.writer.flush()?;
        self.rows += lines.len();
        self.lines = Vec::new();
        self.ends = Vec::new();
        Ok(())
    }

    /// Bytes held: the lines gathered and the row group being encoded.
    pub fn held(&self) -> usize {
        self.lines.capacity() + self.writer.in_progress_size()
    }

    /// The file's bytes written so far (and not taken yet).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(self.writer.inner_mut())
    }

    /// Writes the last row group and the footer; the rest of the file's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, ColumnarError> {
        self.write_row_group()?;
        self.writer.finish()?;
        Ok(self.take_output())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;

    fn event(time: i64, uid: &str, query: &str) -> Vec<u8> {
        serde_json::json!({
            "category_uid": 6, "category_name": "Application Activity", "class_uid": 6005,
            "class_name": "Datastore Activity", "activity_id": 4, "activity_name": "Query", "type_uid": 600504,
            "type_name": "Datastore Activity: Query", "severity_id": 1, "severity": "Informational",
            "status_id": 1, "status": "Success", "time": time, "time_dt": "t", "timezone_offset": 0,
            "message": "m", "type_id": 1, "type": "Database",
            "metadata": {"version": "1.3.0", "profiles": ["cloud", "datetime"],
                "product": {"name": "p", "vendor_name": "AWS", "feature": {"name": "f"}}, "uid": uid,
                "log_provider": "k"},
            "cloud": {"provider": "AWS"}, "actor": {}, "src_endpoint": {"ip": "10.0.0.1"},
            "database": {"uid": "d", "type_id": 1, "type": "Relational"},
            "query_info": {"uid": "q", "query_string": query},
            "unmapped": {"das": {"pid": 1}}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn sorts_dedupes_and_round_trips() {
        let lines = [event(3, "c", "x"), event(1, "b", "y"), event(1, "a", "z"), event(3, "c", "x")];
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let (file, n) = write(&refs, WriteOptions::default()).unwrap();
        assert_eq!(n, 4);
        let back = crate::columnar::read_lines(Bytes::from(file)).unwrap();
        let times: Vec<(i64, String)> =
            back.iter().map(|l| crate::columnar::key(l).map(|k| (k.time, k.uid)).unwrap()).collect();
        assert_eq!(times, [(1, "a".into()), (1, "b".into()), (3, "c".into()), (3, "c".into())]);
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&back[0]).unwrap()["unmapped"]["das.pid"], "1");
        let (file, n) = write(&refs, WriteOptions { dedupe: true, ..WriteOptions::default() }).unwrap();
        assert_eq!((n, crate::columnar::read_lines(Bytes::from(file)).unwrap().len()), (3, 3));
        // A copy whose time differs (it fell back to another arrival time) is a duplicate too.
        let lines = [event(9, "a", "z"), event(1, "a", "z"), event(5, "b", "y")];
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let (file, n) = write(&refs, WriteOptions { dedupe: true, ..WriteOptions::default() }).unwrap();
        let back = crate::columnar::read_lines(Bytes::from(file)).unwrap();
        let kept: Vec<i64> = back.iter().map(|l| crate::columnar::key(l).unwrap().time).collect();
        assert_eq!((n, kept), (2, vec![1, 5]));
    }

    #[test]
    fn an_unknown_field_is_an_error_not_a_silent_drop() {
        let mut v: serde_json::Value = serde_json::from_slice(&event(1, "a", "q")).unwrap();
        v["new_field"] = serde_json::json!(1);
        let line = v.to_string();
        let e = write(&[line.as_bytes()], WriteOptions::default()).unwrap_err();
        assert!(matches!(&e, ColumnarError::Line(m) if m == "new_field: not in the fixed schema"), "{e}");
        v.as_object_mut().unwrap().remove("new_field");
        v["actor"]["user"] = serde_json::json!({"name": 5});
        let e = write(&[v.to_string().as_bytes()], WriteOptions::default()).unwrap_err();
        assert!(e.to_string().contains("actor.user.name: a JSON number is not a Utf8"), "{e}");
        v["actor"] = serde_json::json!({});
        v["metadata"]["product"]["feature"] = serde_json::json!({});
        let e = write(&[v.to_string().as_bytes()], WriteOptions::default()).unwrap_err();
        assert!(e.to_string().contains("metadata.product.feature.name: missing"), "{e}");
        assert!(matches!(write(&[b"{}"], WriteOptions::default()), Err(ColumnarError::Line(_))));
    }

    #[test]
    fn pages_stay_under_the_bound_and_compression_is_zstd() {
        // 40 MB of barely compressible query text in 4,000 rows.
        let mut seed = 1u64;
        let lines: Vec<Vec<u8>> = (0..4000)
            .map(|i| {
                let text: String = (0..10_000)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        char::from(b'a' + (seed >> 59) as u8)
                    })
                    .collect();
                event(i, &format!("u{i}"), &text)
            })
            .collect();
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let (file, _) = write(&refs, WriteOptions::default()).unwrap();
        let reader = SerializedFileReader::new(Bytes::from(file)).unwrap();
        let mut pages = 0;
        for g in 0..reader.num_row_groups() {
            let group = reader.get_row_group(g).unwrap();
            for c in 0..group.num_columns() {
                assert!(matches!(group.metadata().column(c).compression(), Compression::ZSTD(_)));
                for page in group.get_column_page_reader(c).unwrap() {
                    let page = page.unwrap();
                    assert!(page.buffer().len() <= DATA_PAGE_BYTES + 10_100, "page of {}", page.buffer().len());
                    pages += 1;
                }
            }
            let sorting = group.metadata().sorting_columns().unwrap();
            assert_eq!(sorting[0].column_idx as usize, schema::time_column());
        }
        assert!(pages > 40, "{pages} pages");
    }
}
