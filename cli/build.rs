//! Embeds the shipped policy bundle, so the binary decides even where no
//! `policies/` folder exists, with each file also converted to JSON so a
//! cold start reads no YAML. The list is generated, so a new policy file
//! needs no Rust change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, out);
        } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, path));
        }
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let policies = manifest_dir.join("../policies");
    println!("cargo:rerun-if-changed={}", policies.display());
    let mut files = Vec::new();
    collect(&policies, &policies, &mut files);
    files.sort();
    let mut code = String::from(
        "/// The shipped bundle: (path inside the bundle, contents).\npub const FILES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let absolute = path.canonicalize().unwrap_or(path.clone());
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            absolute.display().to_string()
        );
    }
    code.push_str("];\n");
    // The same files as JSON, read without libyaml at start-up (half of a
    // cold `roteiro decide`). A file that does not convert is left out and
    // read from its YAML; the loader falls back the same way.
    code.push_str("/// The files of `FILES` as JSON, by path.\npub const PREPARED: &[(&str, &str)] = &[\n");
    for (name, path) in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(json) = serde_yaml::from_str::<serde_json::Value>(&text).map(|value| value.to_string()) else {
            continue;
        };
        let _ = writeln!(code, "    ({name:?}, {json:?}),");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("embedded.rs");
    if let Err(err) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {err}", out.display());
    }
}
