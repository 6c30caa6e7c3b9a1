//! Standard output for every command. A reader that goes away before the
//! output ends (`roteiro check | head -1`) is not an error of roteiro:
//! the process ends quietly with status 141, as a process killed by the
//! broken pipe would (128 + SIGPIPE), instead of the panic `println!`
//! gives.

use std::io::Write as _;

/// `println!` to standard output, ending quietly when the reader is gone.
macro_rules! say {
    () => {
        $crate::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to standard output, ending quietly when the reader is gone.
macro_rules! say_raw {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*))
    };
}

/// The exit status of a process whose output pipe closed (128 + 13).
const BROKEN_PIPE_STATUS: i32 = 141;

/// Writes `text` to standard output.
pub fn write(text: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_fmt(text).and_then(|()| out.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE_STATUS);
        }
        // Another failure (a full disk behind a redirection) is said once
        // on standard error; what could not be written is lost either way.
        eprintln!("roteiro: não foi possível escrever a saída: {err}");
        std::process::exit(1);
    }
}
