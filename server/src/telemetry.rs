//! Structured logs through `tracing`, filtered by `RUST_LOG` (default `info`),
//! and panics as log lines.

use clap::ValueEnum;
use std::panic::PanicHookInfo;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines with key=value fields.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber and the panic hook; a second call (as in
/// tests) leaves the subscriber as it was.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::env::var_os("NO_COLOR").is_none());
    let _already_set = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    std::panic::set_hook(Box::new(log_panic));
}

/// Every panic is one log line, never a backtrace on stderr: a client must not
/// be able to fill the log, and an operator reads one line per event.
///
/// A panic inside `tern_domain::record::contain` comes from a client's bytes
/// that yrs could not merge; it is caught, the op is refused and the document
/// dropped, so it is a warning about the input. Any other panic is a bug.
fn log_panic(info: &PanicHookInfo<'_>) {
    let location = info
        .location()
        .map(|at| format!("{}:{}", at.file(), at.line()))
        .unwrap_or_default();
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    if tern_domain::record::containing_panic() {
        tracing::warn!(
            target: "untrusted_input",
            %location,
            %message,
            "a client's update could not be merged (contained; the op was refused and the document rebuilt)"
        );
    } else {
        tracing::error!(%location, %message, "panicked (a bug: please report it)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Log output kept in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn a_panic_is_one_log_line_and_one_on_a_clients_bytes_is_a_warning() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(log_panic));
        tracing::subscriber::with_default(subscriber, || {
            let contained = tern_domain::record::contain(|| -> u8 { panic!("hostile bytes") });
            assert_eq!(contained, None);
            let bug = std::panic::catch_unwind(|| -> u8 { panic!("a bug") });
            assert!(bug.is_err());
        });
        std::panic::set_hook(previous);

        let text =
            String::from_utf8(captured.0.lock().expect("log buffer").clone()).expect("UTF-8 log");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains("WARN")
                && lines[0].contains("hostile bytes")
                && !lines[0].contains("panicked"),
            "{text}"
        );
        assert!(
            lines[1].contains("ERROR")
                && lines[1].contains("a bug")
                && lines[1].contains("panicked"),
            "{text}"
        );
    }
}
