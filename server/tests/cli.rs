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

#[test]
fn a_bad_admin_password_exits_non_zero_with_one_line_that_does_not_repeat_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .env("TERN_ADMIN_EMAIL", "head@unit.test")
        .env("TERN_ADMIN_PASSWORD", "tooshort")
        .output()
        .expect("run tern");
    assert_one_line_failure(&output, "TERN_ADMIN_PASSWORD is not acceptable");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("tooshort"));
}

#[test]
fn help_names_the_admin_password_variable_and_the_insecure_cookie_flag() {
    let output = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--help")
        .output()
        .expect("run tern");
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--admin-email",
        "TERN_ADMIN_PASSWORD",
        "--insecure-cookies",
        "--public-origin",
        "--session-idle-secs",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
    assert!(!help.contains("--admin-password"), "{help}");
}

/// Starts `tern` (with `admin_email`, no password) until it listens, stops it,
/// and returns its log up to then and its stderr.
fn start_once(data: &std::path::Path, admin_email: Option<&str>) -> (String, String) {
    use std::io::{BufRead, BufReader, Read};
    let mut command = Command::new(env!("CARGO_BIN_EXE_tern"));
    command
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .arg("--site-dir")
        .arg(data.join("no-site"))
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env_remove("TERN_ADMIN_EMAIL")
        .env_remove("TERN_ADMIN_PASSWORD")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(email) = admin_email {
        command.env("TERN_ADMIN_EMAIL", email);
    }
    let mut child = command.spawn().expect("tern starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut log = String::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening on http://") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    (log, stderr)
}

#[test]
fn without_a_password_the_first_secretariat_gets_one_printed_once() {
    let data = tempfile::tempdir().expect("temp dir");
    let (_, first) = start_once(data.path(), Some("head@unit.test"));
    assert!(first.contains("Tern: first sign-in"), "{first}");
    assert!(first.contains("email:    head@unit.test"), "{first}");
    let password = first
        .lines()
        .find_map(|line| line.strip_prefix("password: "))
        .expect("a password line")
        .trim()
        .to_owned();
    assert_eq!(password.chars().count(), 20, "{password}");
    assert!(first.contains("Change it in Settings"), "{first}");
    // The account exists now: a second start prints nothing of it.
    let (_, second) = start_once(data.path(), Some("head@unit.test"));
    assert!(!second.contains("first sign-in"), "{second}");
    assert!(!second.contains(&password), "{second}");
}

#[test]
fn without_accounts_or_an_admin_email_the_log_says_how_to_create_one() {
    let data = tempfile::tempdir().expect("temp dir");
    let (log, stderr) = start_once(data.path(), None);
    assert!(log.contains("TERN_ADMIN_EMAIL=you@example.org"), "{log}");
    assert!(!stderr.contains("first sign-in"), "{stderr}");
}
