//! Stamps the binary with the git commit it was built from (`LOCOLAB_COMMIT`), so every
//! finished run's `result.json` says which code trained it. Outside a git checkout: "unknown".
use std::process::Command;

fn main() {
    let git = |args: &[&str]| Command::new("git").args(args).output().ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    // Uncommitted changes to tracked source files make the stamp say so.
    let dirty = git(&["status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml", "Cargo.lock"]).is_some_and(|s| !s.is_empty());
    println!("cargo:rustc-env=LOCOLAB_COMMIT={commit}{}", if dirty { "+dirty" } else { "" });
    for path in [".git/HEAD", ".git/index"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=src");
}
