//! Where the structural units of a text begin. Every list starts with 0 and
//! is strictly increasing.

/// Byte offsets of line starts with the line's text (without its newline).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |line| {
        let start = offset;
        offset += line.len();
        (start, line.trim_end_matches(['\n', '\r']))
    })
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Paragraphs: a new one starts at the first non-blank line after one or
/// more blank lines (the blank lines end the previous paragraph).
pub(crate) fn paragraph_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut after_blank = false;
    for (offset, line) in lines(text) {
        if is_blank(line) {
            after_blank = true;
        } else {
            if after_blank && offset > 0 {
                starts.push(offset);
            }
            after_blank = false;
        }
    }
    starts
}

/// Pages: a new one starts right after each form feed.
pub(crate) fn page_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        text.bytes()
            .enumerate()
            .filter(|(i, b)| *b == b'\x0c' && i + 1 < text.len())
            .map(|(i, _)| i + 1),
    );
    starts
}

/// Lines that close a block in the languages people feed us.
fn is_closer(line: &str) -> bool {
    matches!(
        line.trim(),
        "}" | "};" | "end" | ")" | "];" | "]" | "})" | "});"
    )
}

/// Code items: a new one starts at a non-blank line with no indentation that
/// follows a blank line or a line closing a block, so a function stays with
/// its doc comment, decorators and closing brace.
pub(crate) fn code_item_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut previous_ends_item = false;
    for (offset, line) in lines(text) {
        if is_blank(line) {
            previous_ends_item = true;
            continue;
        }
        let top_level = !line.starts_with([' ', '\t']);
        if top_level && previous_ends_item && offset > 0 && !is_closer(line) {
            starts.push(offset);
        }
        previous_ends_item = top_level && is_closer(line);
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_paragraphs() {
        let text = "one\ntwo\n\n\nthree\n  \nfour";
        assert_eq!(paragraph_starts(text), vec![0, 10, 19]);
    }

    #[test]
    fn finds_code_items() {
        let text = "use x;\n\n/// Doc.\nfn a() {\n    1\n}\nfn b() {}\n\n#[test]\nfn c() {\n}\n";
        let starts = code_item_starts(text);
        let heads: Vec<&str> = starts
            .iter()
            .map(|&s| text[s..].lines().next().unwrap())
            .collect();
        assert_eq!(heads, ["use x;", "/// Doc.", "fn b() {}", "#[test]"]);
        let python = "import os\n\ndef f():\n    return 1\n\nclass C:\n    pass\n";
        assert_eq!(code_item_starts(python).len(), 3);
    }

    #[test]
    fn finds_pages() {
        assert_eq!(page_starts("a\x0cb\x0c"), vec![0, 2]);
    }
}
