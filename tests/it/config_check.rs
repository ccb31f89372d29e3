//! `qrswitch config check FILE`: a configuration with many problems gets every one of them
//! named at once, with exit 1; a good one exits 0 and says so.

use std::process::Command;

/// Problems of every kind: serde-valid values the checks refuse, and settings whose owners
/// refuse them (the calendar, the users' hashes, the session key, the TLS files).
const BAD: &str = r#"
[server]
max_in_flight_requests = 0

[server.tls]
cert_path = "/nonexistent/cert.pem"
key_path = "/nonexistent/key.pem"

[qr]
template_tag = 99
guid = ""

[backoffice]
time_zone = "Mars/Olympus"
cutoff = "25:00"

[security]
console_session_key_path = "/nonexistent/session.key"

[[users]]
name = "a:b"
role = "ops"
password_hash = "plain"

[[partners]]
id = "p1"
name = "Partner"
base_url = "ftp://partner.example"
template_tag = 27
qr_guid = "za.co.p1"
timeout_ms = 0
"#;

fn check(path: &std::path::Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_qrswitch"))
        .args(["config", "check"])
        .arg(path)
        .env_remove("DATABASE_URL")
        .env_remove("QRSWITCH_LISTEN")
        .env_remove("QRSWITCH_LOG_FORMAT")
        .output()
        .expect("qrswitch runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn every_problem_is_named_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, BAD).unwrap();
    let (code, out) = check(&file);
    assert_eq!(code, 1, "{out}");
    for problem in [
        "server.max_in_flight_requests must be positive",
        "qr.template_tag 99 is not within 26-51",
        "qr.guid must be 1 to 32 characters",
        "user \"a:b\" is empty, repeated or contains ':'",
        "partner p1: base_url must be http(s)://",
        "partner p1: timeout_ms must be positive",
        "time_zone \"Mars/Olympus\" is not an IANA zone; cutoff \"25:00\"",
        "users: user a:b password_hash is not an argon2 hash",
        "security: cannot read console_session_key_path /nonexistent/session.key",
        "server.tls:",
    ] {
        assert!(out.contains(problem), "{problem:?} in {out}");
    }
    assert!(out.trim_end().ends_with("10 problems"), "{out}");
    assert!(
        out.contains("warning: payshap.signing is not set"),
        "PayShap without signing is said: {out}"
    );
}

/// PayShap signing without the collection account would answer proxies without the
/// `traditionalIdentifier` Electrum's schema requires: refused.
#[test]
fn signing_without_a_collection_account_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.toml");
    let text = std::fs::read_to_string(&demo)
        .unwrap()
        .replace(
            "collection_account = \"62000000001\"",
            "collection_account = \"\"",
        )
        .replace(
            "\"keys/",
            &format!("\"{}/examples/keys/", env!("CARGO_MANIFEST_DIR")),
        );
    let file = dir.path().join("no-account.toml");
    std::fs::write(&file, text).unwrap();
    let (code, out) = check(&file);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("payshap.collection_account must be set"),
        "{out}"
    );
    assert!(!out.contains("warning: payshap.signing"), "{out}");
}

#[test]
fn a_file_that_does_not_read_or_names_an_unknown_setting_is_one_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[server]\nlisten_adress = \"127.0.0.1:8080\"\n").unwrap();
    let (code, out) = check(&file);
    assert_eq!(code, 1);
    assert!(out.contains("listen_adress"), "{out}");
    let (code, out) = check(&dir.path().join("missing.toml"));
    assert_eq!(code, 1);
    assert!(out.contains("cannot read config file"), "{out}");
}

#[test]
fn the_demo_configuration_is_valid() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.toml");
    let (code, out) = check(&demo);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the configuration is valid"), "{out}");
}
