//! Test-only: the `surreal` command-line server, so integration tests can run Tern
//! against a SurrealDB reached over `ws://`, the way a large deployment would.
//! Usage is that of `surreal start`, e.g.
//! `surreal-test-server start --bind 127.0.0.1:8000 --user root --pass root surrealkv://<dir>`.

fn main() -> std::process::ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
