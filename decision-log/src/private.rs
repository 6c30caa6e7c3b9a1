//! Files that hold personal data (the log's database, its journal and
//! spill file) are created readable by their owner alone (0600): a log of
//! contacts' names and phones is no business of the machine's other users.

use std::fs::OpenOptions;
use std::path::Path;

/// `options` creating files as 0600 (on Unix; elsewhere as the system
/// does).
pub(crate) fn owner_only(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates `path` empty as 0600 when it does not exist yet, so what opens
/// it next (SQLite, which gives its WAL and shared-memory files the mode
/// of the database) keeps it private. An existing file keeps its mode.
pub(crate) fn create_private(path: &Path) -> std::io::Result<()> {
    match owner_only(OpenOptions::new().write(true).create_new(true)).open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}
