//! The `tern` binary as an operator meets it: a bad configuration ends start-up
//! with one readable line and a non-zero exit, never a panic.

use std::process::Command;

fn tern(args: &[&str]) -> std::process::Output {
    let data = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run tern")
}

fn assert_one_line_failure(output: &std::process::Output, expected: &str) {
    assert!(!output.status.success(), "exit status {:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<_> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_nonsense_database_url_exits_non_zero_with_one_line() {
    let output = tern(&["--db", "nonsense://x"]);
    assert_one_line_failure(&output, "unsupported database URL `nonsense://x`");
}

#[test]
fn an_unwritable_data_dir_exits_non_zero_with_one_line() {
    let parent = tempfile::tempdir().expect("temp dir");
    let file = parent.path().join("file");
    std::fs::write(&file, b"x").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(file.join("data"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run tern");
    assert_one_line_failure(&output, "is not usable");
}
