//! Which directories a client may have read: the `--allow-dir` directories
//! and the roots the client declares. A path is read only when, with every
//! symbolic link resolved, it lies under one of them.

use std::path::{Path, PathBuf};

/// Directories under which documents may be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedRoots {
    dirs: Vec<PathBuf>,
}

impl AllowedRoots {
    /// The directories, resolved now; one that does not exist is an error
    /// naming it, so a typo in `--allow-dir` shows at start-up.
    pub fn new(dirs: &[PathBuf]) -> Result<Self, String> {
        let mut resolved = Vec::new();
        for dir in dirs {
            let real = dir.canonicalize().map_err(|e| {
                format!(
                    "--allow-dir {}: {e}; give a directory that exists",
                    dir.display()
                )
            })?;
            if !real.is_dir() {
                return Err(format!("--allow-dir {}: not a directory", dir.display()));
            }
            resolved.push(real);
        }
        Ok(Self { dirs: resolved })
    }

    /// These roots plus the client's (its `file://` URIs; others are
    /// skipped, as are roots that don't exist on this machine).
    pub fn with_client_roots<'a>(&self, uris: impl IntoIterator<Item = &'a str>) -> Self {
        let mut dirs = self.dirs.clone();
        for uri in uris {
            let Some(path) = file_uri_path(uri) else {
                tracing::debug!(uri, "client root skipped: not a file:// URI");
                continue;
            };
            match path.canonicalize() {
                Ok(real) if real.is_dir() => dirs.push(real),
                _ => tracing::debug!(uri, "client root skipped: no such directory here"),
            }
        }
        Self { dirs }
    }

    /// Whether there is no directory at all.
    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
    }

    /// The directories.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The path to read for `input`, or why it may not be read. A relative
    /// path is taken from the first directory.
    pub fn check(&self, input: &str) -> Result<PathBuf, String> {
        let Some(first) = self.dirs.first() else {
            return Err(format!(
                "cannot read `{input}`: no directory is allowed. Start `minions mcp` with --allow-dir DIR, or use a client that declares its roots; documents can also be given inline as text"
            ));
        };
        let given = Path::new(input);
        let path = if given.is_absolute() {
            given.to_path_buf()
        } else {
            first.join(given)
        };
        let real = path
            .canonicalize()
            .map_err(|e| format!("cannot read `{input}`: {e}"))?;
        if self.dirs.iter().any(|dir| real.starts_with(dir)) {
            Ok(real)
        } else {
            Err(format!(
                "`{input}` is outside the allowed directories ({}); it was not read",
                self.describe()
            ))
        }
    }

    /// The directories, for messages.
    pub fn describe(&self) -> String {
        if self.dirs.is_empty() {
            return "none".into();
        }
        self.dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The path of a `file://` URI (percent-escapes decoded), if it is one.
fn file_uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///home/x` has an empty host; `file://localhost/home/x` names it.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    Some(PathBuf::from(percent_decode(rest)?))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("minions-mcp-roots-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("inside")).unwrap();
        std::fs::write(dir.join("inside/doc.txt"), "text").unwrap();
        std::fs::write(dir.join("secret.txt"), "key").unwrap();
        dir
    }

    #[test]
    fn reads_only_under_the_allowed_directories() {
        let dir = scratch("allow");
        let roots = AllowedRoots::new(&[dir.join("inside")]).unwrap();
        assert!(roots.check("doc.txt").is_ok());
        assert!(
            roots
                .check(dir.join("inside/doc.txt").to_str().unwrap())
                .is_ok()
        );
        let outside = roots
            .check(dir.join("secret.txt").to_str().unwrap())
            .unwrap_err();
        assert!(
            outside.contains("outside the allowed directories"),
            "{outside}"
        );
        let escape = roots.check("../secret.txt").unwrap_err();
        assert!(escape.contains("outside"), "{escape}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("secret.txt"), dir.join("inside/link.txt"))
                .unwrap();
            assert!(roots.check("link.txt").unwrap_err().contains("outside"));
        }
        let none = AllowedRoots::default().check("doc.txt").unwrap_err();
        assert!(none.contains("--allow-dir"), "{none}");
        assert!(AllowedRoots::new(&[dir.join("missing")]).is_err());
    }

    #[test]
    fn client_roots_are_file_uris() {
        let dir = scratch("client");
        let uri = format!("file://{}", dir.join("inside").display()).replace(' ', "%20");
        let roots = AllowedRoots::default().with_client_roots([
            uri.as_str(),
            "https://x/y",
            "file:///no/such/dir",
        ]);
        assert_eq!(roots.dirs().len(), 1);
        assert!(roots.check("doc.txt").is_ok());
        assert_eq!(
            file_uri_path("file:///a%20b/c").unwrap(),
            PathBuf::from("/a b/c")
        );
    }
}
