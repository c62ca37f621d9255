//! `cargo xtask tidy`: keeps what docs/architecture.md says about the code
//! true, by checking the claims that can be read off the sources:
//!
//! - no import circle between the modules of a crate (`use crate::a` in
//!   `b.rs` and `use crate::b` in `a.rs`, or longer rings);
//! - no front end builds a `ContextDocument` from a loaded file's text
//!   itself: they convert with `ContextDocument::from`;
//! - no crate outside a provider names that provider's wire types (the
//!   `wire` modules are private; this keeps anyone from making them public
//!   again to reach in);
//! - the front ends run through `minions::Engine`: none calls the protocol
//!   entry point, prices a spec or tells the run observer itself;
//! - no function of product code is longer than [`MAX_FN_LINES`] lines;
//! - an OpenAI-compatible preset is one entry in `minions-core`'s
//!   `presets.rs`: no other product file lists preset names (the price
//!   table aside, which prices models, not providers).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level module a file of `src/` belongs to (`None` for the crate
/// root and binaries, which only wire modules together).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    if matches!(first, "lib.rs" | "main.rs" | "bin") {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without `#[cfg(test)]` modules at the end of a file (tests
/// may import anything) and without comment lines.
fn product_code(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate's top-level modules that `code` names with `crate::`.
fn imported_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        // `use crate::{a, b::c}` names several.
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if name.chars().next().is_some_and(char::is_lowercase) {
                    found.insert(name);
                }
            }
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // Only modules: `crate::Type` names an item of the root.
        if rest[name.len()..].starts_with("::")
            && name.chars().next().is_some_and(char::is_lowercase)
        {
            found.insert(name);
        }
    }
    found
}

/// Every ring of modules that import each other, in one crate.
fn circles(src: &Path) -> Vec<Vec<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let targets = edges.entry(module.clone()).or_default();
        for target in imported_modules(&product_code(&text)) {
            if target != module {
                targets.insert(target);
            }
        }
    }
    // A circle is a path back to where it started; report each ring once,
    // from its smallest module.
    let mut rings = BTreeSet::new();
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, path)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    let mut ring = path.clone();
                    let smallest = ring
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, m)| *m)
                        .map_or(0, |(i, _)| i);
                    ring.rotate_left(smallest);
                    rings.insert(ring);
                } else if !path.contains(next) && next > start && path.len() < 6 {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    rings.into_iter().collect()
}

/// Lines where a front end builds a `ContextDocument` from loaded text.
fn hand_conversions(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for front_end in [
        "minions-cli",
        "minions-server",
        "minions-mcp",
        "minions-bench",
    ] {
        let mut files = Vec::new();
        rust_files(&root.join("crates").join(front_end).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            for (n, line) in lines.iter().enumerate() {
                if line.contains("ContextDocument {")
                    && lines[n..lines.len().min(n + 5)]
                        .iter()
                        .any(|l| l.contains("text: document.text"))
                {
                    found.push(format!("{}:{}", file.display(), n + 1));
                }
            }
        }
    }
    found
}

/// Lines outside a provider crate that name its wire module.
fn wire_reaches(root: &Path) -> Vec<String> {
    let providers = ["openai", "anthropic", "ollama"];
    let mut found = Vec::new();
    let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
        return found;
    };
    for dir in crates.filter_map(Result::ok).map(|e| e.path()) {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                for provider in providers {
                    let own = name == format!("minions-{provider}");
                    if !own
                        && (line.contains(&format!("minions_{provider}::wire"))
                            || line.contains(&format!("{provider}::wire::")))
                    {
                        found.push(format!("{}:{}", file.display(), n + 1));
                    }
                }
            }
        }
    }
    found
}

/// The HTTP provider crates, whose models are `minions_http::ProviderModel`.
const HTTP_PROVIDERS: &[&str] = &["minions-openai", "minions-anthropic", "minions-ollama"];

/// Lines of an HTTP provider crate that implement `ChatModel` or
/// `Embedder` by hand instead of through `ProviderModel` and its hooks.
fn hand_written_models(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for krate in HTTP_PROVIDERS {
        let mut files = Vec::new();
        rust_files(&root.join("crates").join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for (n, line) in product_code_lines(&text).iter().enumerate() {
                if line.contains("impl ChatModel for") || line.contains("impl Embedder for") {
                    found.push(format!("{}:{}", file.display(), n + 1));
                }
            }
        }
    }
    found
}

/// The front ends' sources that must run through `minions::Engine`
/// (the bench's overhead and prefix suites measure the protocol itself
/// and call it directly, as a library user would).
const FRONT_ENDS: &[&str] = &[
    "crates/minions-cli/src",
    "crates/minions-server/src",
    "crates/minions-mcp/src",
    "crates/minions-py/src",
    "crates/minions-bench/src/runner.rs",
];

/// What only the engine does.
const ENGINE_ONLY: &[&str] = &[
    "minions::run(",
    "minions_protocol::run(",
    "protocol::run(",
    "tell_observer(",
    ".with_pricing(",
];

/// Lines of the front ends that do the engine's work themselves.
fn engine_bypasses(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for place in FRONT_ENDS {
        let path = root.join(place);
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for (n, line) in product_code_lines(&text).iter().enumerate() {
                if let Some(call) = ENGINE_ONLY.iter().find(|c| line.contains(**c)) {
                    found.push(format!("{}:{}: {call}", file.display(), n + 1));
                }
            }
        }
    }
    found
}

/// Every crate's `src/` files, sorted.
fn crate_sources(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(crates) = std::fs::read_dir(root.join("crates")) {
        for dir in crates.filter_map(Result::ok) {
            rust_files(&dir.path().join("src"), &mut files);
        }
    }
    files.sort();
    files
}

/// The longest a function of product code may be, in lines.
pub(crate) const MAX_FN_LINES: usize = 100;

/// A file's lines before its `#[cfg(test)]` module (line numbers kept).
fn product_code_lines(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|line| !line.starts_with("#[cfg(test)]"))
        .collect()
}

/// `line` without string and character literals and without its `//`
/// comment, so that only the code's own braces are left.
fn code_only(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => break,
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '\'' if chars.get(i + 2) == Some(&'\'') => i += 2,
            '\'' if chars.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Whether a line opens a function (`pub async fn name(`...).
fn opens_function(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    for word in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(word).unwrap_or(rest);
    }
    let name = rest.strip_prefix("fn ")?;
    let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(&name[..end])
}

/// The functions of `text` longer than `limit` lines: (first line, name,
/// lines). A function's lines run from its `fn` to its closing brace.
fn long_functions_in(text: &str, limit: usize) -> Vec<(usize, String, usize)> {
    let lines = product_code_lines(text);
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = opens_function(line) else {
            continue;
        };
        let mut depth = 0i64;
        let mut opened = false;
        for (offset, later) in lines[start..].iter().enumerate() {
            let code = code_only(later);
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if !opened && code.trim_end().ends_with(';') {
                break; // a declaration without a body
            }
            if opened && depth <= 0 {
                if offset + 1 > limit {
                    found.push((start + 1, name.to_string(), offset + 1));
                }
                break;
            }
        }
    }
    found
}

/// Functions of product code (every crate's `src/` and the xtask) over
/// [`MAX_FN_LINES`].
fn long_functions(root: &Path) -> Vec<String> {
    let mut files = crate_sources(root);
    rust_files(&root.join("xtask").join("src"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (line, name, length) in long_functions_in(&text, MAX_FN_LINES) {
            found.push(format!(
                "{}:{line}: fn {name} is {length} lines",
                file.display()
            ));
        }
    }
    found
}

/// The file that lists the presets, and the one other file allowed to
/// name several of them.
const PRESETS_FILE: &str = "crates/minions-core/src/presets.rs";
const PRICES_FILE: &str = "crates/minions-core/src/pricing.rs";

/// The presets' names, read from their file (`name: "groq",`). `openai`
/// and `azure` are left out: they name more than a preset (the provider
/// crate, the pricing's families).
fn preset_names(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join(PRESETS_FILE)).unwrap_or_default();
    product_code_lines(&text)
        .iter()
        .filter_map(|line| line.trim().strip_prefix("name: \""))
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| !matches!(*name, "openai" | "azure" | ""))
        .map(str::to_string)
        .collect()
}

/// Product files other than the presets' own that spell out three or more
/// preset names: a second list to keep in step.
fn preset_lists(root: &Path) -> Vec<String> {
    let names = preset_names(root);
    let mut found = Vec::new();
    for file in crate_sources(root) {
        if file.ends_with(PRESETS_FILE) || file.ends_with(PRICES_FILE) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let code = product_code_lines(&text).join("\n");
        let named: Vec<&str> = names
            .iter()
            .filter(|name| code.contains(&format!("\"{name}\"")))
            .map(String::as_str)
            .collect();
        if named.len() >= 3 {
            found.push(format!(
                "{}: names the presets {}",
                file.display(),
                named.join(", ")
            ));
        }
    }
    found
}

/// The registry, whose `native_providers!` block lists each native provider
/// on one line: `"feature": "name" => minions_crate::DESCRIPTOR;`.
const REGISTRY_FILE: &str = "crates/minions/src/registry.rs";

/// Each native provider's name and its crate's directory, read from the
/// registry's block.
fn native_providers(root: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root.join(REGISTRY_FILE)).unwrap_or_default();
    product_code_lines(&text)
        .iter()
        .filter_map(|line| {
            let (head, descriptor) = line.trim().split_once(" => ")?;
            let name = head.rsplit_once(": ")?.1.trim_matches('"');
            let krate = descriptor.strip_suffix("::DESCRIPTOR;")?;
            Some((
                name.to_string(),
                format!("crates/{}", krate.replace('_', "-")),
            ))
        })
        .collect()
}

/// Product code outside the registry, the price table and a provider's own
/// crate that compares with or matches on a native provider's name: a
/// second place a new native provider would have to be added.
fn native_name_branches(root: &Path) -> Vec<String> {
    let natives = native_providers(root);
    let mut found = Vec::new();
    for file in crate_sources(root) {
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        if shown == REGISTRY_FILE || shown == PRICES_FILE {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (number, line) in product_code_lines(&text).iter().enumerate() {
            for (name, home) in &natives {
                let literal = format!("\"{name}\"");
                let branches = line.contains(&format!("== {literal}"))
                    || line.contains(&format!("{literal} =>"));
                if branches && !shown.starts_with(home.as_str()) {
                    found.push(format!("{shown}:{}: branches on `{name}`", number + 1));
                }
            }
        }
    }
    found
}

/// Runs the checks; the error lists every broken claim.
pub(crate) fn check(root: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
        return Err("no crates/ directory".into());
    };
    let mut names: Vec<PathBuf> = crates.filter_map(Result::ok).map(|e| e.path()).collect();
    names.sort();
    for dir in names {
        for ring in circles(&dir.join("src")) {
            problems.push(format!(
                "{}: modules import each other in a circle: {} -> {}",
                dir.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                ring.join(" -> "),
                ring[0]
            ));
        }
    }
    for place in hand_conversions(root) {
        problems.push(format!(
            "{place}: builds a ContextDocument from a document's text by hand; use ContextDocument::from"
        ));
    }
    for place in wire_reaches(root) {
        problems.push(format!(
            "{place}: names a provider's wire types; use what the provider crate exports"
        ));
    }
    for place in hand_written_models(root) {
        problems.push(format!(
            "{place}: a provider implements ChatModel or Embedder by hand; implement minions_http::ModelHooks (and EmbeddingHooks) for its adapter and name its model ProviderModel<Adapter>"
        ));
    }
    for place in engine_bypasses(root) {
        problems.push(format!(
            "{place}: a front end doing the engine's work; build a minions::Engine and call its spec and run"
        ));
    }
    for place in long_functions(root) {
        problems.push(format!(
            "{place}, over {MAX_FN_LINES}: split it into functions named for their steps"
        ));
    }
    if preset_names(root).len() < 10 {
        problems.push(format!("{PRESETS_FILE}: the presets could not be read"));
    }
    for place in preset_lists(root) {
        problems.push(format!(
            "{place}; a preset is one entry in {PRESETS_FILE}: read the names from minions_core::presets::PRESETS"
        ));
    }
    if native_providers(root).len() < 2 {
        problems.push(format!(
            "{REGISTRY_FILE}: the native_providers! block could not be read"
        ));
    }
    for place in native_name_branches(root) {
        problems.push(format!(
            "{place}; a native provider is one line in {REGISTRY_FILE}'s native_providers!: ask its descriptor (minions::native_provider)"
        ));
    }
    if problems.is_empty() {
        println!(
            "tidy: no import circles in any crate; no front end converts documents by hand or runs without the engine; no crate reaches into a provider's wire types; no provider writes its own ChatModel; no function over {MAX_FN_LINES} lines; the presets are listed once; no code outside the registry branches on a native provider's name"
        );
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read_from_paths_and_groups() {
        let code = "use crate::ledger::{Ledger, Outcome};\nuse crate::{ProtocolError, prompts, input::RunInput};\nlet x = crate::telemetry::chat(a);\nlet t = crate::Event::X;";
        let found: Vec<String> = imported_modules(code).into_iter().collect();
        assert_eq!(found, ["input", "ledger", "prompts", "telemetry"]);
    }

    #[test]
    fn long_functions_are_measured_by_their_own_braces() {
        let mut text = String::from("pub async fn short() -> u8 {\n    1\n}\n\nfn long(x: u8) {\n");
        for n in 0..99 {
            text.push_str(&format!("    let s{n} = \"}}{{ {{\"; let c = '}}';\n"));
        }
        text.push_str("}\n\nfn declared(&self);\n#[cfg(test)]\nmod tests {\n");
        text.push_str("fn t() {\n");
        text.push_str(&"    x();\n".repeat(200));
        text.push_str("}\n}\n");
        assert_eq!(
            long_functions_in(&text, 100),
            [(5, "long".to_string(), 101)]
        );
        assert!(long_functions_in(&text, 101).is_empty());
    }

    #[test]
    fn a_ring_of_imports_is_found_and_tests_do_not_count() {
        let src = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&src);
        std::fs::create_dir_all(src.join("c")).unwrap_or_default();
        let write =
            |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap_or_default();
        write("lib.rs", "mod a; mod b; mod c; use crate::a::A;");
        write("a.rs", "use crate::b::B;\npub struct A;");
        write(
            "b.rs",
            "use crate::c::C;\npub struct B;\n#[cfg(test)]\nmod tests { use crate::a::A; }",
        );
        write("c/mod.rs", "pub struct C;");
        write("c/deep.rs", "use crate::a::A;");
        let rings = circles(&src);
        let _ = std::fs::remove_dir_all(&src);
        assert_eq!(rings, [vec!["a".to_string(), "b".into(), "c".into()]]);
    }
}
