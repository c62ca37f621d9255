//! The headings of a text, so that a chunk cut from the middle of a section
//! can say which section it is from. A changelog chunk that starts below its
//! "What's New in 3.5.0" line holds dates and names that read like answers
//! about any release; with its heading beside it, a small model (and the
//! ranking) can tell which release they belong to.

use crate::units::lines;

/// The longest heading path kept, in characters; outer levels are dropped
/// first. Headings travel in prompts and findings, so they stay short.
const MAX_PATH_CHARS: usize = 160;

/// The most lines an underlined heading may span (a title, a "since" line
/// and a date, as in CPython's IDLE news); a longer block above a rule is a
/// paragraph, not a heading.
const MAX_HEADING_LINES: usize = 3;

/// One heading: where its section starts and the headings it sits under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// Byte offset of the heading's first line.
    pub start: usize,
    /// 1 for a top-level heading (`#`, or underlined with `=`), 2 for `##`
    /// or `-`, and so on.
    pub level: usize,
    /// The heading with its enclosing headings, outermost first, joined
    /// with " › ".
    pub path: String,
}

/// Every heading of a text, in order: Markdown ATX headings (`#` to
/// `######`) and headings underlined with a rule of `=`, `-`, `~`, `^`, `+`
/// or `*` (Markdown setext and reStructuredText), outside fenced code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headings {
    entries: Vec<Heading>,
}

impl Headings {
    /// Finds the headings of `text`.
    pub fn find(text: &str) -> Self {
        let mut entries: Vec<Heading> = Vec::new();
        let mut stack: Vec<(usize, String)> = Vec::new();
        let mut in_fence = false;
        // The current block of non-blank lines: (start offset, text).
        let mut block: Vec<(usize, &str)> = Vec::new();
        for (offset, line) in lines(text) {
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                in_fence = !in_fence;
                block.clear();
                continue;
            }
            if in_fence {
                continue;
            }
            if line.trim().is_empty() {
                block.clear();
                continue;
            }
            let found = if let Some((level, title)) = atx(line) {
                Some((offset, level, title.to_string()))
            } else if let Some(level) = rule_level(line)
                && !block.is_empty()
                && block.len() <= MAX_HEADING_LINES
            {
                let title: Vec<&str> = block.iter().map(|(_, l)| l.trim()).collect();
                Some((block[0].0, level, title.join(" ")))
            } else {
                None
            };
            match found {
                Some((start, level, title)) if !title.is_empty() => {
                    while stack.last().is_some_and(|(l, _)| *l >= level) {
                        stack.pop();
                    }
                    stack.push((level, title));
                    entries.push(Heading {
                        start,
                        level,
                        path: join_path(&stack),
                    });
                    block.clear();
                }
                _ => block.push((offset, line)),
            }
        }
        Self { entries }
    }

    /// The headings, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Heading> {
        self.entries.iter()
    }

    /// The heading path of the section that `offset` lies in, if any
    /// heading comes at or before it.
    pub fn at(&self, offset: usize) -> Option<&str> {
        let after = self.entries.partition_point(|h| h.start <= offset);
        after.checked_sub(1).map(|i| self.entries[i].path.as_str())
    }
}

/// Sections: a new one starts at each heading that [`Headings`] finds
/// (Markdown's `#` and underlined headings, reStructuredText's), except
/// inside fenced code blocks.
pub(crate) fn section_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        Headings::find(text)
            .iter()
            .map(|h| h.start)
            .filter(|&s| s > 0),
    );
    starts
}

/// An ATX heading's level and title.
fn atx(line: &str) -> Option<(usize, &str)> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    let rest = line.get(hashes..)?;
    if !(1..=6).contains(&hashes) || !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some((hashes, rest.trim().trim_end_matches('#').trim_end()))
}

/// The level a rule line gives the block above it: at least three of one
/// rule character and nothing else (a rule with gaps is a table border).
fn rule_level(line: &str) -> Option<usize> {
    let rule = line.trim_end();
    let first = rule.chars().next()?;
    let level = match first {
        '=' => 1,
        '-' => 2,
        '~' | '^' | '+' | '*' => 3,
        _ => return None,
    };
    (rule.len() >= 3 && rule.chars().all(|c| c == first)).then_some(level)
}

/// The stack of headings as one path, outer levels dropped to fit.
fn join_path(stack: &[(usize, String)]) -> String {
    let mut parts: Vec<&str> = stack.iter().map(|(_, t)| t.as_str()).collect();
    loop {
        let path = parts.join(" › ");
        if parts.len() == 1 || path.chars().count() <= MAX_PATH_CHARS {
            return shorten(&path);
        }
        parts.remove(0);
    }
}

/// A single over-long heading, cut at a character boundary.
fn shorten(path: &str) -> String {
    match path.char_indices().nth(MAX_PATH_CHARS) {
        Some((cut, _)) => format!("{}…", &path[..cut]),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sections_outside_fences() {
        let text = "intro\n# A\ntext\n```\n# not a heading\n```\n## B\n#hashtag\n";
        let starts = section_starts(text);
        let heads: Vec<&str> = starts.iter().map(|&s| &text[s..s + 4]).collect();
        assert_eq!(heads, ["intr", "# A\n", "## B"]);
    }

    #[test]
    fn underlined_blocks_of_up_to_three_lines_are_headings() {
        let text = "What's New in IDLE 3.13.0\n(since 3.12.0)\nReleased on 2024-10-xx\n=========\n\n\
gh-1: a fix.\nPatch by A.\n\nWhat's New in IDLE 3.12.0\n(since 3.11.0)\nReleased on 2023-10-02\n=====\n\nbpo-2: another.\n";
        let headings = Headings::find(text);
        let paths: Vec<&str> = headings.iter().map(|h| h.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "What's New in IDLE 3.13.0 (since 3.12.0) Released on 2024-10-xx",
                "What's New in IDLE 3.12.0 (since 3.11.0) Released on 2023-10-02"
            ]
        );
        let later = text.find("bpo-2").unwrap();
        assert_eq!(headings.at(later), Some(paths[1]));
        // A chunk that starts inside the heading's own lines is in it.
        assert_eq!(
            headings.at(text.find("(since 3.11").unwrap()),
            Some(paths[1])
        );
        assert_eq!(headings.at(text.find("gh-1").unwrap()), Some(paths[0]));
    }

    #[test]
    fn nested_markdown_headings_make_a_path() {
        let text = "# pyenv\nintro\n## Install\n### On macOS\nbrew\n## Usage\n```\n# not a heading\n```\ntext\nSub\n---\nmore\n";
        let headings = Headings::find(text);
        let paths: Vec<&str> = headings.iter().map(|h| h.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "pyenv",
                "pyenv › Install",
                "pyenv › Install › On macOS",
                "pyenv › Usage",
                "pyenv › text Sub",
            ]
        );
        assert_eq!(headings.at(text.find("brew").unwrap()), Some(paths[2]));
        assert_eq!(headings.at(0), Some("pyenv"));
    }

    #[test]
    fn rules_that_are_not_headings() {
        // Too long a block, a bordered table, a rule after a blank line, a
        // hashtag, and text before any heading.
        let text = "one\ntwo\nthree\nfour\n-----\n\n==== ====\n\n----\n#hashtag\n";
        let headings = Headings::find(text);
        assert_eq!(headings.iter().count(), 0);
        assert_eq!(headings.at(5), None);
    }

    #[test]
    fn long_paths_drop_their_outer_levels() {
        let outer = "O".repeat(100);
        let inner = "I".repeat(100);
        let text = format!("# {outer}\n## {inner}\n");
        let headings = Headings::find(&text);
        assert_eq!(headings.at(text.len() - 1), Some(inner.as_str()));
        let huge = format!("# {}\n", "H".repeat(400));
        let path = Headings::find(&huge).at(0).unwrap().to_string();
        assert_eq!(path.chars().count(), MAX_PATH_CHARS + 1);
    }
}
