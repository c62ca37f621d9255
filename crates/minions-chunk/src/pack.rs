//! The two cutting strategies everything else is built on: character
//! windows, and packing whole units.

use std::ops::Range;

/// The byte offset `count` characters after `from` (or `limit`, if the text
/// ends first).
fn advance_chars(text: &str, from: usize, count: usize, limit: usize, ascii: bool) -> usize {
    if ascii {
        return from.saturating_add(count).min(limit);
    }
    text[from..limit]
        .char_indices()
        .nth(count)
        .map_or(limit, |(offset, _)| from + offset)
}

/// The byte offset `count` characters before `to` (not before `floor`).
fn retreat_chars(text: &str, to: usize, count: usize, floor: usize, ascii: bool) -> usize {
    if count == 0 {
        return to;
    }
    if ascii {
        return to.saturating_sub(count).max(floor);
    }
    text[floor..to]
        .char_indices()
        .rev()
        .nth(count - 1)
        .map_or(floor, |(offset, _)| floor + offset)
}

/// Windows of at most `size` characters over `text[from..to]`, each starting
/// `overlap` characters before the previous one ended (moved forward to the
/// next word by at most a fifth of the overlap when that lands mid-word). A
/// window ends just after the last whitespace in its final fifth when there
/// is one, so that words stay whole; otherwise at exactly `size` characters.
///
/// `overlap` must be at most `size / 2` ([`crate::ChunkSpec::validate`]),
/// which guarantees progress: a window is at least four fifths of `size`.
pub(crate) fn char_windows(
    text: &str,
    from: usize,
    to: usize,
    size: usize,
    overlap: usize,
) -> Vec<Range<usize>> {
    let ascii = text.as_bytes()[from..to].is_ascii();
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    let mut start = from;
    while start < to {
        let hard_end = advance_chars(text, start, size, to, ascii);
        if hard_end == to {
            ranges.push(start..to);
            break;
        }
        let soft_floor = advance_chars(text, start, size - size / 5, to, ascii);
        // ASCII whitespace bytes never occur inside a multi-byte character,
        // so the byte after one is always a character boundary.
        let end = bytes[soft_floor..hard_end]
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(hard_end, |offset| soft_floor + offset + 1);
        ranges.push(start..end);
        let mut next = retreat_chars(text, end, overlap, start, ascii);
        // Start the overlap at a word boundary when one is close: a chunk
        // that begins mid-word gives the model (and BM25) a broken word.
        // Moving forward by at most a fifth keeps the overlap between four
        // fifths of what was asked and exactly that.
        if next > start
            && !bytes[next - 1].is_ascii_whitespace()
            && !bytes[next].is_ascii_whitespace()
        {
            let reach = advance_chars(text, next, overlap / 5, end, ascii);
            if let Some(offset) = bytes[next..reach].iter().position(u8::is_ascii_whitespace) {
                next += offset + 1;
            }
        }
        start = if next > start { next } else { end };
    }
    ranges
}

/// Packs whole units (starting at the byte offsets in `starts`, which begins
/// with 0) into chunks of at most `size` characters. A unit longer than
/// `size` is cut into character windows on its own. After each chunk, the
/// trailing units that fit in `overlap` characters start the next one.
pub(crate) fn pack_units(
    text: &str,
    starts: &[usize],
    size: usize,
    overlap: usize,
) -> Vec<Range<usize>> {
    let bounds: Vec<usize> = starts
        .iter()
        .copied()
        .chain(std::iter::once(text.len()))
        .collect();
    let lengths: Vec<usize> = bounds
        .windows(2)
        .map(|w| {
            let unit = &text[w[0]..w[1]];
            if unit.is_ascii() {
                unit.len()
            } else {
                unit.chars().count()
            }
        })
        .collect();
    pack_weighted(&bounds, &lengths, size, overlap, |from, to| {
        char_windows(text, from, to, size, overlap)
    })
}

/// Packs units with the given weights (characters or tokens) up to `size`;
/// `split` cuts a unit heavier than `size` on its own.
pub(crate) fn pack_weighted(
    bounds: &[usize],
    weights: &[usize],
    size: usize,
    overlap: usize,
    mut split: impl FnMut(usize, usize) -> Vec<Range<usize>>,
) -> Vec<Range<usize>> {
    let units = weights.len();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < units {
        let mut j = i;
        let mut total = 0;
        while j < units && total + weights[j] <= size {
            total += weights[j];
            j += 1;
        }
        if j == i {
            ranges.extend(split(bounds[i], bounds[i + 1]));
            i += 1;
            continue;
        }
        ranges.push(bounds[i]..bounds[j]);
        if j == units {
            break;
        }
        let mut k = j;
        let mut repeated = 0;
        while k - 1 > i && repeated + weights[k - 1] <= overlap {
            k -= 1;
            repeated += weights[k];
        }
        i = k;
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_prefer_whitespace_and_overlap_exactly() {
        let text = "alpha beta gamma delta epsilon zeta eta theta";
        let ranges = char_windows(text, 0, text.len(), 12, 3);
        let pieces: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(pieces[0], "alpha beta ");
        assert!(pieces[1].starts_with("ta "), "{pieces:?}");
        assert_eq!(ranges.last().unwrap().end, text.len());
    }

    #[test]
    fn overlap_moves_to_a_nearby_word_start() {
        let text = "aaaa bbbbbbbbbb ccccccccc dddddddddd eeeeeeeee";
        let ranges = char_windows(text, 0, text.len(), 20, 10);
        // The first window has no whitespace in its last fifth, so it ends
        // at 20 characters; 10 back is mid-word and the next word is more
        // than 2 characters away, so the overlap stays exact.
        assert_eq!(&text[ranges[1].start..ranges[0].end], "bbbbb cccc");
        // With words of at most five letters and a reach of six characters,
        // every overlap starts on a word.
        let text = "one two three four five six seven eight nine ten ".repeat(5);
        let ranges = char_windows(&text, 0, text.len(), 60, 30);
        assert!(ranges.len() > 3);
        for pair in ranges.windows(2) {
            let next = pair[1].start;
            let bytes = text.as_bytes();
            assert!(
                bytes[next - 1] == b' ' || bytes[next] == b' ',
                "{:?}",
                &text[next..]
            );
        }
    }

    #[test]
    fn windows_never_split_characters() {
        let text = "\u{1F600}\u{e9}\u{4e2d}".repeat(50);
        for size in 1..20 {
            for range in char_windows(&text, 0, text.len(), size, size / 2) {
                assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
                assert!(text[range].chars().count() <= size);
            }
        }
    }

    #[test]
    fn packing_keeps_units_whole_and_splits_giants() {
        let text = "aaa\n\nbbb\n\ncccccccccccccccccccc\n\nddd";
        let starts = [0, 5, 10, 32];
        let ranges = pack_units(text, &starts, 10, 0);
        let pieces: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(pieces[0], "aaa\n\nbbb\n\n");
        assert!(
            pieces[1..pieces.len() - 1]
                .iter()
                .all(|p| p.chars().count() <= 10)
        );
        assert_eq!(*pieces.last().unwrap(), "ddd");
    }

    #[test]
    fn packing_repeats_trailing_units_as_overlap() {
        let text = "aa bb cc dd ee ";
        let starts = [0, 3, 6, 9, 12];
        let ranges = pack_units(text, &starts, 9, 3);
        let pieces: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(pieces, ["aa bb cc ", "cc dd ee "]);
    }
}
