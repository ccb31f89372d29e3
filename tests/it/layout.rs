//! The layers point one way: in `src/`, `aggregates/` and `projections/`, no module imports,
//! through any chain of imports, a module that imports it back (docs/architecture.md).
//!
//! Read from the source text: every `crate::…`, `super::…` and `self::…` path, and paths
//! that start at a child module, outside comments and outside `#[cfg(test)]` code (tests
//! may reach anywhere). A path counts for the deepest module file it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`a::b`, the crate root is empty) → its source file.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            // A binary's root is a crate of its own: it names the library, not `crate::`.
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("main.rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            found.insert(parts.join("::"), path);
        }
    }
    found
}

/// The code of a file without comments and without its `#[cfg(test)]` items.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path in `code` that starts with one of `starts` (followed by `::`), expanded over
/// `{…}` groups, as lists of segments after the start.
fn paths(code: &str, start: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let needle = format!("{start}::");
    let mut from = 0;
    while let Some(at) = code[from..].find(&needle) {
        let begin = from + at;
        from = begin + needle.len();
        let before = code[..begin].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        expand(&code[from..], Vec::new(), &mut out);
    }
    out
}

/// Reads one path tree at the start of `rest` (segments, `::`, `{a, b::c}`), pushing every
/// full path with `prefix` in front.
fn expand(rest: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut path = prefix;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'{' {
            i += 1;
            loop {
                i += expand(&rest[i..], path.clone(), out);
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return i + 1;
                }
            }
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if start == i {
            break;
        }
        path.push(rest[start..i].to_owned());
        if rest[i..].starts_with("::") {
            i += 2;
        } else {
            break;
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
    i
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_owned())
}

fn join(base: &str, segments: &[String]) -> String {
    let mut all: Vec<&str> = if base.is_empty() { vec![] } else { vec![base] };
    all.extend(segments.iter().map(String::as_str));
    all.join("::")
}

/// The deepest module of `known` that `base` + `segments` names, if any.
fn resolve(known: &BTreeMap<String, PathBuf>, base: &str, segments: &[String]) -> Option<String> {
    (0..=segments.len())
        .rev()
        .map(|n| join(base, &segments[..n]))
        .find(|candidate| known.contains_key(candidate))
}

/// Module → the modules it imports.
fn imports(known: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, file) in known {
        let code = code(file);
        let mut targets = BTreeSet::new();
        let mut add = |base: &str, found: Vec<Vec<String>>| {
            for segments in found {
                if let Some(target) = resolve(known, base, &segments) {
                    targets.insert(target);
                }
            }
        };
        add("", paths(&code, "crate"));
        add(&parent(module), paths(&code, "super"));
        add(module, paths(&code, "self"));
        // `use child::…` from a module that declares `mod child;`.
        for child in known
            .keys()
            .filter(|k| parent(k) == *module && *k != module)
        {
            let name = child.rsplit("::").next().unwrap_or_default();
            add(
                module,
                paths(&code, name)
                    .into_iter()
                    .map(|mut p| {
                        p.insert(0, name.to_owned());
                        p
                    })
                    .collect(),
            );
        }
        targets.remove(module);
        graph.insert(module.clone(), targets);
    }
    graph
}

/// Groups of modules that reach each other (Tarjan's strongly connected components).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a str) {
            let at = self.index.len();
            self.index.insert(node, at);
            self.low.insert(node, at);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    group.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.found
}

fn assert_no_circles(crate_dir: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(crate_dir)
        .join("src");
    let known = modules(&src);
    assert!(
        known.len() > 5,
        "{} modules under {}",
        known.len(),
        src.display()
    );
    let graph = imports(&known);
    let found = circles(&graph);
    let described: Vec<String> = found
        .iter()
        .map(|group| {
            let edges: Vec<String> = group
                .iter()
                .flat_map(|m| {
                    graph[m]
                        .iter()
                        .filter(|t| group.contains(t))
                        .map(move |t| format!("{m} -> {t}"))
                })
                .collect();
            edges.join(", ")
        })
        .collect();
    assert!(
        found.is_empty(),
        "import circles in {crate_dir}/src:\n{}",
        described.join("\n")
    );
}

#[test]
fn the_switch_has_no_import_circle() {
    assert_no_circles("");
}

#[test]
fn the_aggregates_have_no_import_circle() {
    assert_no_circles("aggregates");
}

#[test]
fn the_read_models_have_no_import_circle() {
    assert_no_circles("projections");
}

#[test]
fn a_circle_is_found_where_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, ts)| (m.to_owned(), ts.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
    let code = "use crate::{app::App, config::{A, B}};\nlet x = super::calendar::X;";
    assert_eq!(
        paths(code, "crate"),
        vec![vec!["app", "App"], vec!["config", "A"], vec!["config", "B"]]
    );
    assert_eq!(paths(code, "super"), vec![vec!["calendar", "X"]]);
}
