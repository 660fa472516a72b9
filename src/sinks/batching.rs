//! Splitting a sequence of serialized items into requests capped by bytes
//! and by count (shared by the HTTP sinks).

use std::ops::Range;

/// Consecutive ranges of `sizes` of at most `max_bytes` and `max_items`
/// each; an item larger than `max_bytes` goes alone.
pub fn chunks(sizes: &[usize], max_bytes: usize, max_items: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, size) in sizes.iter().enumerate() {
        if i > start && (bytes + size > max_bytes || i - start >= max_items) {
            ranges.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        ranges.push(start..sizes.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::chunks;

    #[test]
    fn by_bytes_and_by_count() {
        let sizes = [40, 40, 40, 150, 10];
        assert_eq!(chunks(&sizes, 100, 10), vec![0..2, 2..3, 3..4, 4..5]);
        assert_eq!(chunks(&sizes, 1000, 2), vec![0..2, 2..4, 4..5]);
        assert!(chunks(&[], 100, 2).is_empty());
    }
}
