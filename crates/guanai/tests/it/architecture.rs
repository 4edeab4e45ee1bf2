//! The house rules that the compiler does not check (docs/ARCHITECTURE.md): no two source
//! files import each other, the JSON API imports nothing from the pages, the engine file
//! names no feature, and no source file grows past 600 lines.
//!
//! A file's imports are the `crate::…`, `super::…` and `self::…` paths it names (in `use`
//! trees and inline), each resolved to the deepest module of the same crate that has a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace folder")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/pages/families/mod.rs` → `["pages", "families"]`; `src/lib.rs` → `[]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_owned());
    }
    parts
}

/// The file's code before its unit tests (whose `super::` means the file itself).
fn code_before_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand_use_tree(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').filter(|close| *close > open).unwrap_or(tree.len())];
        let base = join(prefix, head);
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_use_tree(&inner[start..i], &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_use_tree(&inner[start..], &base, out);
    } else if !tree.is_empty() {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        out.push(join(prefix, path));
    }
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (_, true) => prefix.to_owned(),
        _ => format!("{prefix}::{path}"),
    }
}

/// Every module path the code names: `use` trees and inline `crate::`/`super::` paths.
fn named_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let at_line_start = at == 0 || rest[..at].ends_with(['\n', ' ', '(']);
        let statement_end = rest[at..].find(';').map(|e| at + e);
        match statement_end {
            Some(end) if at_line_start => {
                expand_use_tree(&rest[at + 4..end], "", &mut paths);
                rest = &rest[end + 1..];
            }
            _ => rest = &rest[at + 4..],
        }
    }
    for root in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            let preceded_by_ident =
                rest[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let path: String =
                rest[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            if !preceded_by_ident {
                paths.push(path.trim_end_matches(':').to_owned());
            }
            rest = &rest[at + root.len()..];
        }
    }
    paths
}

/// Resolves a path named in `module` to the deepest module with a file of its own.
fn resolve(path: &str, module: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut segments = path.split("::").filter(|s| !s.is_empty());
    let mut absolute: Vec<String> = match segments.next()? {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => module[..module.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    let mut resolved = absolute.clone();
    for segment in segments {
        if segment == "super" {
            absolute.pop();
            resolved = absolute.clone();
            continue;
        }
        absolute.push(segment.to_owned());
        if modules.contains(&absolute) {
            resolved = absolute.clone();
        } else {
            break;
        }
    }
    Some(resolved)
}

struct CrateFiles {
    /// Module path → the file that holds it.
    files: BTreeMap<Vec<String>, PathBuf>,
    /// Module path → the modules its file imports.
    imports: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn read_crate(src: &Path) -> CrateFiles {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    let files: BTreeMap<Vec<String>, PathBuf> = paths.into_iter().map(|p| (module_of(src, &p), p)).collect();
    let modules: BTreeSet<Vec<String>> = files.keys().cloned().collect();
    let imports = files
        .iter()
        .map(|(module, file)| {
            let text = std::fs::read_to_string(file).expect("readable source");
            let named = named_paths(code_before_tests(&text));
            let targets = named
                .iter()
                .filter_map(|path| resolve(path, module, &modules))
                .filter(|target| target != module && !target.is_empty())
                .collect();
            (module.clone(), targets)
        })
        .collect();
    CrateFiles { files, imports }
}

fn crates() -> Vec<(String, PathBuf)> {
    let root = workspace().join("crates");
    let mut crates: Vec<(String, PathBuf)> = std::fs::read_dir(&root)
        .expect("crates folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("src").is_dir())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p.join("src")))
        .collect();
    crates.sort();
    crates
}

#[test]
fn no_two_source_files_import_each_other() {
    let mut circles = Vec::new();
    for (name, src) in crates() {
        let krate = read_crate(&src);
        for (module, targets) in &krate.imports {
            for target in targets {
                let back = krate.imports.get(target).is_some_and(|t| t.contains(module));
                // A parent `mod.rs` declaring its children is not an import; only count a
                // pair once, and only between two files.
                if back && module < target && krate.files.contains_key(target) {
                    circles.push(format!("{name}: {} ↔ {}", module.join("::"), target.join("::")));
                }
            }
        }
    }
    assert!(circles.is_empty(), "files that import each other:\n{}", circles.join("\n"));
}

#[test]
fn the_api_imports_nothing_from_the_pages() {
    let web = read_crate(&workspace().join("crates/web/src"));
    let offenders: Vec<String> = web
        .imports
        .iter()
        .filter(|(module, _)| module.first().is_some_and(|m| m == "api"))
        .flat_map(|(module, targets)| {
            targets
                .iter()
                .filter(|t| t.first().is_some_and(|m| m == "pages"))
                .map(move |t| format!("{} → {}", module.join("::"), t.join("::")))
        })
        .collect();
    assert!(offenders.is_empty(), "the API imports pages:\n{}", offenders.join("\n"));
}

#[test]
fn the_engine_file_names_no_feature() {
    let store = read_crate(&workspace().join("crates/store/src"));
    let connect = &store.imports[&vec!["connect".to_owned()]];
    let features: Vec<String> =
        connect.iter().filter(|m| *m != &vec!["error".to_owned()]).map(|m| m.join("::")).collect();
    assert!(features.is_empty(), "connect.rs imports store modules: {features:?}");
    let text = std::fs::read_to_string(&store.files[&vec!["connect".to_owned()]]).expect("readable source");
    for word in ["polic", "enrol", "famil", "import"] {
        assert!(!text.to_lowercase().contains(word), "connect.rs names “{word}”");
    }
}

#[test]
fn no_source_file_is_longer_than_600_lines() {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).expect("readable source").lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these along their features:\n{}", long.join("\n"));
}

#[test]
fn the_resolver_sees_what_a_file_imports() {
    let modules: BTreeSet<Vec<String>> =
        [vec![], vec!["pages".into()], vec!["pages".into(), "forms".into()], vec!["state".into()]]
            .into_iter()
            .collect();
    let here = vec!["pages".to_owned(), "users".to_owned()];
    let mut named = Vec::new();
    expand_use_tree("crate::{state::AppState, pages::{forms::{self, number}, require}}", "", &mut named);
    let resolved: BTreeSet<Vec<String>> = named.iter().filter_map(|p| resolve(p, &here, &modules)).collect();
    assert!(resolved.contains(&vec!["state".to_owned()]));
    assert!(resolved.contains(&vec!["pages".to_owned(), "forms".to_owned()]));
    assert!(resolved.contains(&vec!["pages".to_owned()]));
    assert_eq!(resolve("super::forms::number", &here, &modules), Some(vec!["pages".into(), "forms".into()]));
    assert!(named_paths("fn f() { crate::state::x(); }").contains(&"crate::state::x".to_owned()));
}
