//! The server's modules form layers: `db` knows only the domain, provider clients know no
//! service, services call both, and nothing below calls back up. A cycle among the modules of
//! `src/server` fails a test that names the modules on it, with the lines that close it; so does
//! a database module reaching above its layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path below `crate::server`: `["db", "accounts"]`; the root is `[]`.
type Module = Vec<String>;

/// The modules of `src/server`: their files, their code, and what each re-exports.
struct Server {
    modules: BTreeMap<Module, PathBuf>,
    sources: BTreeMap<Module, String>,
    reexports: BTreeMap<Module, BTreeMap<String, Module>>,
}

fn server() -> Server {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server");
    let modules = modules_under(&root);
    let sources: BTreeMap<Module, String> =
        modules.iter().map(|(m, file)| (m.clone(), code_of(&std::fs::read_to_string(file).unwrap()))).collect();
    let reexports = sources.iter().map(|(m, code)| (m.clone(), reexports_of(m, code, &modules))).collect();
    Server { modules, sources, reexports }
}

#[test]
fn the_server_modules_import_each_other_without_a_cycle() {
    let Server { modules, sources, reexports } = server();
    let mut edges: BTreeMap<Module, BTreeMap<Module, String>> = BTreeMap::new();
    for (module, code) in &sources {
        for path in paths_in(code) {
            if let Some(target) = resolve(module, &path, &modules, &reexports) {
                if &target != module && !module.is_empty() {
                    edges.entry(module.clone()).or_default().entry(target).or_insert(path.join("::"));
                }
            }
        }
    }
    let cycles = cycles(&modules.keys().cloned().collect(), &edges);
    let report: Vec<String> = cycles
        .iter()
        .map(|cycle| {
            let names: Vec<String> = cycle.iter().map(|m| name(m)).collect();
            let closing: Vec<String> = cycle
                .iter()
                .zip(cycle.iter().cycle().skip(1))
                .map(|(a, b)| format!("    {} uses {} ({})", name(a), name(b), edges[a][b]))
                .collect();
            format!("{}\n{}", names.join(" → "), closing.join("\n"))
        })
        .collect();
    assert!(report.is_empty(), "import cycles in src/server:\n{}", report.join("\n"));
}

/// The modules of the server `db` may use besides its own: what it is configured with and how it
/// seals what it stores. Services, provider clients, the API and the pages are above it.
const BELOW_THE_DATABASE: [&str; 4] = ["config", "keys", "sealing", "secret"];

#[test]
fn the_database_layer_knows_only_the_domain_and_what_it_stores_with() {
    let Server { modules, sources, reexports } = server();
    let reached = above_the_database(&sources, &modules, &reexports);
    assert!(reached.is_empty(), "the database layer reaches above itself:\n{}", reached.join("\n"));
}

/// Each use, by a module of `db`, of a module above the database layer.
fn above_the_database(
    sources: &BTreeMap<Module, String>,
    modules: &BTreeMap<Module, PathBuf>,
    reexports: &BTreeMap<Module, BTreeMap<String, Module>>,
) -> Vec<String> {
    let mut reached = Vec::new();
    for (module, code) in sources.iter().filter(|(m, _)| m.first().is_some_and(|first| first == "db")) {
        for layer in ["crate::api", "crate::app", "crate::components"] {
            if code.contains(layer) {
                reached.push(format!("    {} uses {layer}", name(module)));
            }
        }
        for path in paths_in(code) {
            let Some(target) = resolve(module, &path, modules, reexports) else { continue };
            let below = target.first().is_some_and(|t| t == "db" || BELOW_THE_DATABASE.contains(&t.as_str()));
            if !below {
                reached.push(format!("    {} uses {} ({})", name(module), name(&target), path.join("::")));
            }
        }
    }
    reached
}

#[test]
fn a_database_module_using_a_service_or_the_api_is_named() {
    let modules: BTreeMap<Module, PathBuf> =
        [vec![], vec!["db".to_string()], vec!["db".to_string(), "teams".to_string()]]
            .into_iter()
            .chain([vec!["sealing".to_string()], vec!["onboarding".to_string()]])
            .map(|m| (m, PathBuf::new()))
            .collect();
    let sources: BTreeMap<Module, String> = [
        (
            vec!["db".to_string(), "teams".to_string()],
            code_of("use super::Db;\nuse crate::server::sealing::ServerKey;\nuse crate::api::onboarding::types::Row;\nfn f() { crate::server::onboarding::plan(); }"),
        ),
        (vec!["db".to_string()], code_of("pub mod teams;")),
    ]
    .into_iter()
    .collect();
    let reexports: BTreeMap<Module, BTreeMap<String, Module>> = BTreeMap::new();
    let reached = above_the_database(&sources, &modules, &reexports);
    assert_eq!(reached.len(), 2, "{reached:?}");
    assert!(reached[0].contains("db::teams uses crate::api"), "{reached:?}");
    assert!(reached[1].contains("db::teams uses onboarding"), "{reached:?}");
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "server".into()
    } else {
        module.join("::")
    }
}

/// Every module file below `root`: `x.rs` is `x`, `x/mod.rs` is `x`.
fn modules_under(root: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut module: Module = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if module.last().is_some_and(|last| last == "mod") {
                module.pop();
            }
            found.insert(module, path);
        }
    }
    found
}

/// The code without comments, string and character literals, and `#[cfg(test)]` modules (whose
/// `super` is the module itself), so only real paths remain.
fn code_of(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod ") {
        Some(tests) => &source[..tests],
        None => source,
    };
    let chars: Vec<char> = source.chars().collect();
    let mut code = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let at = |i: usize, n: usize| chars.get(i + n).copied().unwrap_or('\0');
        match chars[i] {
            '/' if at(i, 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i, 1) == '*' => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && at(i, 1) == '/') {
                    i += 1;
                }
                i += 2;
            }
            'r' if (at(i, 1) == '"' || at(i, 1) == '#') && !chars[i.saturating_sub(1)].is_alphanumeric() => {
                let mut hashes = 0;
                let mut j = i + 1;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    code.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                code.push_str("\"\"");
                i = j;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                code.push_str("\"\"");
            }
            // A character literal ('x', '\n', '\''), not a lifetime ('a).
            '\'' if at(i, 2) == '\'' || (at(i, 1) == '\\' && (at(i, 3) == '\'' || at(i, 1) == '\\')) => {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                code.push_str("' '");
            }
            c => {
                code.push(c);
                i += 1;
            }
        }
    }
    code
}

/// Every path the code names that may lead to another module: each leaf of each `use` tree,
/// and each `super::…` or `crate::server::…` path written inline.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let after = &rest[at + 3..];
        let end = after.find(';').unwrap_or(after.len());
        paths.extend(expand_use_tree(&after[..end]));
        rest = &after[end..];
    }
    let tokens = tokens(code);
    let mut i = 0;
    while i < tokens.len() {
        let starts = tokens[i] == "super" || (tokens[i] == "crate" && tokens.get(i + 2).is_some_and(|t| t == "server"));
        let after_separator = i >= 1 && tokens[i - 1] == "::";
        // `pub(super)` is a visibility, not a path.
        let visibility = i >= 2 && tokens[i - 1] == "(" && tokens[i - 2] == "pub";
        if starts && !after_separator && !visibility {
            let mut path = vec![tokens[i].clone()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| t == "::") && tokens.get(j + 1).is_some_and(|t| is_ident(t)) {
                path.push(tokens[j + 1].clone());
                j += 2;
            }
            paths.push(path);
            i = j;
        } else {
            i += 1;
        }
    }
    paths
}

/// The start of `word` in `text` as a whole word.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = at.checked_sub(1).map(|b| bytes[b]);
        let after = bytes.get(at + word.len()).copied();
        let word_char = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
        if !word_char(before) && !word_char(after) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

fn is_ident(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::`, and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".into());
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
            i += 1;
        }
    }
    tokens
}

/// `a::{b, c::{d, e as f}}` as `[a, b]`, `[a, c, d]`, `[a, c, e]`.
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or_default();
        return vec![path.split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()];
    };
    let prefix: Vec<String> =
        tree[..open].split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|item| !item.trim().is_empty())
        .flat_map(|item| {
            expand_use_tree(item).into_iter().map(|tail| {
                let tail: Vec<String> = tail.into_iter().filter(|s| s != "self").collect();
                prefix.iter().cloned().chain(tail).collect()
            })
        })
        .collect()
}

/// The names a module re-exports with `pub use`, and the module each comes from.
fn reexports_of(module: &Module, code: &str, modules: &BTreeMap<Module, PathBuf>) -> BTreeMap<String, Module> {
    let mut found = BTreeMap::new();
    let mut rest = code;
    while let Some(at) = rest.find("pub use ") {
        let after = &rest[at + 8..];
        let end = after.find(';').unwrap_or(after.len());
        for path in expand_use_tree(&after[..end]) {
            let Some(last) = path.last().cloned() else { continue };
            let mut relative: Vec<String> = vec!["self".into()];
            relative.extend(path);
            if let Some(target) = resolve(module, &relative, modules, &BTreeMap::new()) {
                found.insert(last, target);
            }
        }
        rest = &after[end..];
    }
    found
}

/// The module of `crate::server` a path from `module` leads into, if any.
fn resolve(
    module: &Module,
    path: &[String],
    modules: &BTreeMap<Module, PathBuf>,
    reexports: &BTreeMap<Module, BTreeMap<String, Module>>,
) -> Option<Module> {
    let (mut base, mut rest): (Module, &[String]) = match path.first().map(String::as_str) {
        Some("crate") if path.get(1).is_some_and(|s| s == "server") => (vec![], &path[2..]),
        Some("super") | Some("self") => (module.clone(), path),
        // A child module named without `self::`, as `use` allows since the 2018 edition.
        Some(first) if modules.contains_key(&[module.clone(), vec![first.to_string()]].concat()) => {
            (module.clone(), path)
        }
        _ => return None,
    };
    while let Some(first) = rest.first() {
        match first.as_str() {
            "super" => {
                base.pop()?;
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    let mut target = base;
    for segment in rest {
        let mut deeper = target.clone();
        deeper.push(segment.clone());
        if modules.contains_key(&deeper) {
            target = deeper;
        } else {
            if let Some(origin) = reexports.get(&target).and_then(|names| names.get(segment)) {
                return Some(origin.clone());
            }
            break;
        }
    }
    Some(target)
}

/// The strongly connected components with more than one module (Tarjan's algorithm), each as
/// one cycle through all its modules where one exists, else its modules in order.
fn cycles(modules: &BTreeSet<Module>, edges: &BTreeMap<Module, BTreeMap<Module, String>>) -> Vec<Vec<Module>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<Module, BTreeMap<Module, String>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        components: Vec<Vec<Module>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: &Module) {
            let n = self.index.len();
            self.index.insert(v.clone(), n);
            self.low.insert(v.clone(), n);
            self.stack.push(v.clone());
            let edges = self.edges;
            for w in edges.get(v).into_iter().flat_map(|e| e.keys()) {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    let done = &w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.components.push(component);
                }
            }
        }
    }
    let mut tarjan =
        Tarjan { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), components: Vec::new() };
    for module in modules {
        if !tarjan.index.contains_key(module) {
            tarjan.visit(module);
        }
    }
    tarjan.components.into_iter().map(|component| shortest_cycle(&component, edges)).collect()
}

/// A shortest cycle through the first module of a strongly connected component.
fn shortest_cycle(component: &[Module], edges: &BTreeMap<Module, BTreeMap<Module, String>>) -> Vec<Module> {
    let inside: BTreeSet<&Module> = component.iter().collect();
    let start = &component[0];
    let mut came_from: BTreeMap<&Module, &Module> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in edges.get(v).into_iter().flat_map(|e| e.keys()).filter(|w| inside.contains(w)) {
            if w == start {
                let mut cycle = vec![v.clone()];
                let mut at = v;
                while at != start {
                    at = came_from[at];
                    cycle.push(at.clone());
                }
                cycle.reverse();
                return cycle;
            }
            if !came_from.contains_key(w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    component.to_vec()
}

#[test]
fn a_cycle_is_found_and_named() {
    let modules: BTreeMap<Module, PathBuf> =
        [vec![], vec!["a".to_string()], vec!["b".to_string()], vec!["c".to_string()]]
            .into_iter()
            .map(|m| (m, PathBuf::new()))
            .collect();
    let code_a =
        code_of("use super::b::{Thing, other::{self as o}};\n// use super::c;\nfn f() { let s = \"super::c::x\"; }");
    let code_b = code_of("fn g() { crate::server::c::run(); }");
    let code_c = code_of("use super::{a::Item, AppState};\n#[cfg(test)]\nmod tests { use super::super::b; }");
    let reexports: BTreeMap<Module, BTreeMap<String, Module>> = BTreeMap::new();
    let mut edges: BTreeMap<Module, BTreeMap<Module, String>> = BTreeMap::new();
    for (module, code) in [("a", &code_a), ("b", &code_b), ("c", &code_c)] {
        let module = vec![module.to_string()];
        for path in paths_in(code) {
            if let Some(target) = resolve(&module, &path, &modules, &reexports) {
                if target != module && !target.is_empty() {
                    edges.entry(module.clone()).or_default().insert(target, path.join("::"));
                }
            }
        }
    }
    let found = cycles(&modules.keys().cloned().collect(), &edges);
    assert_eq!(found.len(), 1, "{edges:?}");
    let mut names: Vec<String> = found[0].iter().map(name).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);
    // Comments, strings, test modules and visibilities lead nowhere.
    assert!(paths_in(&code_of("pub(super) fn f() {}")).is_empty());
    assert_eq!(edges[&vec!["a".to_string()]].len(), 1);
    assert_eq!(edges[&vec!["c".to_string()]].len(), 1);
}
