//! The folders of `src-tauri/` are layers, each depending only on those
//! before it (see the README's architecture): this test reads every source
//! file and fails on a path that goes up a layer, on a path that does not
//! name its layer, and on a cycle between the modules of one layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first.
const LAYERS: &[&str] = &["protocol", "core", "ipc", "desktop", "tray_process"];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|known| *known == layer)
}

fn sources(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("read folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().and_then(|ext| ext.to_str()) == Some("rs") {
            found.push(path);
        }
    }
}

/// A file's whole module path (`desktop::tray::linux` for
/// `desktop/tray/linux.rs`, `desktop::tray` for its `mod.rs`).
fn full_module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().map(String::as_str) == Some("mod") {
        parts.pop();
    }
    parts
}

/// A file's module as `layer::module` (`core::store` for
/// `core/store.rs`, `desktop::tray` for `desktop/tray/linux.rs`), or the
/// layer alone for its `mod.rs`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts = full_module_of(relative);
    parts.truncate(2);
    parts
}

/// The `super::…` paths of a file at `module`, each as the first two
/// segments of the module it reaches (so `super::notifier` in
/// `desktop/notification_service/mod.rs` is `desktop::notifier`).
fn super_paths(text: &str, module: &[String]) -> Vec<(String, Option<String>)> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("super::") {
        let before = &rest[..at];
        rest = &rest[at..];
        if before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        {
            rest = &rest["super::".len()..];
            continue;
        }
        let mut reached: Vec<String> = module.to_vec();
        while let Some(after) = rest.strip_prefix("super::") {
            reached.pop();
            rest = after;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            reached.push(name);
        }
        if let Some(first) = reached.first() {
            paths.push((first.clone(), reached.get(1).cloned()));
        }
    }
    paths
}

/// The `crate::…` paths a text names, each as its first two segments.
fn crate_paths(text: &str) -> Vec<(String, Option<String>)> {
    let mut paths = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        // Not `ssetray_crate::` or the like.
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        let mut segments = rest.split("::").map(|segment| {
            segment
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        });
        let first = segments.next().unwrap_or_default();
        let second = segments.next().filter(|segment| !segment.is_empty());
        paths.push((first, second));
    }
    paths
}

/// Text without comments (a doc comment may name any path).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_import_names_its_layer_and_goes_down_never_up() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri");
    let mut files = Vec::new();
    for layer in LAYERS {
        sources(&root.join(layer), &mut files);
    }
    assert!(files.len() > 30, "found only {} source files", files.len());
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("inside");
        let module = module_of(relative);
        let own_rank = rank(&module[0]).expect("a layer");
        let text = std::fs::read_to_string(file).expect("read");
        let code = code_of(&text);
        // Inside a module's own tests, `super::*` is the module itself.
        let code = match code.find("#[cfg(test)]\nmod tests {") {
            Some(at) => code[..at].to_string(),
            None => code,
        };
        let full = full_module_of(relative);
        let mut paths = crate_paths(&code);
        paths.extend(super_paths(&code, &full));
        for (first, second) in paths {
            let Some(their_rank) = rank(&first) else {
                problems.push(format!(
                    "{}: `crate::{first}` does not name a layer ({})",
                    relative.display(),
                    LAYERS.join(", ")
                ));
                continue;
            };
            if their_rank > own_rank {
                problems.push(format!(
                    "{}: `crate::{first}` is a layer above {}",
                    relative.display(),
                    module[0]
                ));
            }
            if let (Some(second), true) = (second, module.len() == 2) {
                let target = format!("{first}::{second}");
                let source = module.join("::");
                if first == module[0] && target != source {
                    edges.entry(source).or_default().insert(target);
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // No cycle among the modules of a layer.
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Vec<String>> = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            let last = path.last().expect("non-empty");
            for next in edges.get(last).into_iter().flatten() {
                if next == start {
                    panic!("a cycle in a layer: {} → {start}", path.join(" → "));
                }
                if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
    }
}
