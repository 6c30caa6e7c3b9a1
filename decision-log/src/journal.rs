//! The log's journal, its one crash-recovery file. In commit mode a row
//! is appended to it before its decision is answered, and the writer
//! thread takes rows to the database in large batches, as buffered mode
//! does. In every mode, rows that memory and a down database cannot hold
//! wait in it (synced), and are read back when the database returns. A
//! crash of the process (SIGKILL, OOM, a deploy that does not wait) loses
//! nothing the journal holds: the next writer on the same log replays what
//! the database does not hold yet.
//!
//! Why not answer after a database commit of its own: four clients give
//! commits of one to four rows, and a SQLite commit rewrites whole pages
//! (tens of kilobytes, checksummed) and takes a writer thread's wake-up
//! and an answer's wake-up back; that cost 45-65% of the throughput
//! (docs/performance.md). A journal line is one `write` of the row's own
//! bytes on the request's thread.
//!
//! Files, beside the SQLite file (in the working folder for PostgreSQL):
//! `<base>.lock`, held with an exclusive lock by the live writer (the
//! kernel releases it when the process dies, however it dies), and
//! segments `<base>-<journal>-<n>` of JSON lines, each a row and its
//! number. A writer that cannot take the lock (another process writes the
//! same log) goes without a journal. Each batch the writer commits
//! records, in the same transaction, the highest number it holds (table
//! `log_journals`); numbers reach the database in order, so a replay skips
//! what is in and writes nothing twice.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{LogError, Row, Store};

/// A segment is closed past this size, and deleted once committed.
const SEGMENT_BYTES: u64 = 8 * 1024 * 1024;
/// Most bytes of live segments: past it a row is refused (its answer then
/// waits for the database, and with the database down it is lost, counted).
const JOURNAL_BYTES: u64 = 512 * 1024 * 1024;
/// Most bytes read from one leftover segment (a segment is closed at
/// [`SEGMENT_BYTES`]; its last line may pass it).
const READ_BYTES: u64 = 64 * 1024 * 1024;
/// Most leftover files looked at in the journal's folder.
const LEFTOVER_FILES: usize = 10_000;
/// Rows per transaction when a leftover journal is replayed.
const REPLAY_BATCH: usize = 1000;

/// A row as a journal line holds it.
#[derive(Serialize)]
struct LineOut<'a> {
    seq: u64,
    text: &'a str,
    ends: &'a [usize; 12],
    analyst: Option<&'a str>,
    latency_us: i64,
}

#[derive(Deserialize)]
struct LineIn {
    seq: u64,
    text: String,
    ends: [usize; 12],
    analyst: Option<String>,
    latency_us: i64,
}

impl LineIn {
    /// The row, when its column ends fit its text (a torn or edited line
    /// must not become a row that slices out of bounds).
    fn row(self) -> Option<(u64, Row)> {
        let mut start = 0;
        for &end in &self.ends {
            if end < start || !self.text.is_char_boundary(end) {
                return None;
            }
            start = end;
        }
        Some((
            self.seq,
            Row {
                text: self.text,
                ends: self.ends,
                analyst: self.analyst,
                latency_us: self.latency_us,
            },
        ))
    }
}

/// The journal a writer appends to.
pub(crate) struct Journal {
    base: PathBuf,
    id: String,
    /// Held for the writer's life; its lock is the kernel's.
    _lock: File,
    segment: u64,
    file: File,
    bytes: u64,
    /// The number the next row takes; every number below it was written
    /// (or its write failed: a number is never given twice).
    next: u64,
    /// Closed segments: the last number and the bytes each holds.
    closed: Vec<(PathBuf, u64, u64)>,
    /// A write failed part way: the segment may end in half a line, which
    /// would swallow the next one, so the next goes to a new segment.
    torn: bool,
}

/// The journal base of the log at `address`: beside a SQLite file; in the
/// working folder for a server, named for its address, so a journal is
/// only ever replayed into the database it was written for.
pub(crate) fn base_path(address: &str) -> PathBuf {
    crate::beside_log(address, ".journal", || {
        // FNV-1a: the same name from every build, unlike std's hasher.
        let hash = address.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("roteiro-log-{hash:016x}.journal")
    })
}

/// A row as one journal line, ending in a newline.
fn line(seq: u64, row: &Row) -> std::io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(&LineOut {
        seq,
        text: &row.text,
        ends: &row.ends,
        analyst: row.analyst.as_deref(),
        latency_us: row.latency_us,
    })
    .map_err(std::io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

impl Journal {
    /// Takes the journal at `base`, first replaying into `store` what
    /// dead writers left; `None` when another live process holds it.
    pub(crate) fn open(base: &Path, store: &mut dyn Store) -> std::io::Result<Option<Self>> {
        let lock = crate::private::owner_only(&mut OpenOptions::new())
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(base))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(err)) => return Err(err),
        }
        replay_leftovers(base, store);
        let id = fresh_id();
        let segment = 1;
        let file = create_segment(base, &id, segment)?;
        Ok(Some(Self {
            base: base.to_path_buf(),
            id,
            _lock: lock,
            segment,
            file,
            bytes: 0,
            next: 1,
            closed: Vec::new(),
            torn: false,
        }))
    }

    /// This journal's name in the database's marks.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The number the next row takes.
    pub(crate) fn next(&self) -> u64 {
        self.next
    }

    /// Appends `row` in one `write`, its number when written (no fsync: a
    /// crash of the process keeps what the kernel has; a power cut may
    /// not).
    pub(crate) fn append(&mut self, row: &Row) -> std::io::Result<u64> {
        let seq = self.next;
        let line = line(seq, row)?;
        self.make_room(line.len() as u64)?;
        self.next += 1;
        self.write_out(&line)?;
        Ok(seq)
    }

    /// Appends `rows` and syncs them to the disk (they are kept for the
    /// database, not answered ahead of it: they must outlive a power
    /// cut). How many of the first are synced: all, or, when a write,
    /// sync or new segment failed part way, those in the segments synced
    /// before it, with the error.
    pub(crate) fn append_synced(&mut self, rows: &[Row]) -> (usize, std::io::Result<()>) {
        let lines = match rows
            .iter()
            .zip(self.next..)
            .map(|(row, seq)| line(seq, row))
            .collect::<std::io::Result<Vec<_>>>()
        {
            Ok(lines) => lines,
            Err(err) => return (0, Err(err)),
        };
        if let Err(err) = self.make_room(lines.iter().map(|line| line.len() as u64).sum()) {
            return (0, Err(err));
        }
        let (mut synced, mut pending, mut pending_rows) = (0, Vec::new(), 0);
        for line in lines {
            if self.bytes + pending.len() as u64 >= SEGMENT_BYTES {
                if let Err(err) = self.write_synced(&pending) {
                    return (synced, Err(err));
                }
                synced += pending_rows;
                (pending_rows, pending) = (0, Vec::new());
                if let Err(err) = self.rotate() {
                    return (synced, Err(err));
                }
            }
            pending.extend_from_slice(&line);
            pending_rows += 1;
            self.next += 1;
        }
        match self.write_synced(&pending) {
            Ok(()) => (rows.len(), Ok(())),
            Err(err) => (synced, Err(err)),
        }
    }

    fn write_synced(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write_out(bytes)?;
        self.file.sync_data()
    }

    /// Refuses `bytes` more past [`JOURNAL_BYTES`]; after a torn write,
    /// starts a new segment.
    fn make_room(&mut self, bytes: u64) -> std::io::Result<()> {
        let live = self.bytes + self.closed.iter().map(|(_, _, bytes)| bytes).sum::<u64>();
        if live + bytes > JOURNAL_BYTES {
            return Err(std::io::Error::other(format!(
                "o diário do log passou de {} MiB",
                JOURNAL_BYTES / 1024 / 1024
            )));
        }
        if self.bytes >= SEGMENT_BYTES || self.torn {
            self.rotate()?;
        }
        Ok(())
    }

    fn write_out(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let written = self.file.write_all(bytes);
        self.torn = written.is_err();
        self.bytes += bytes.len() as u64;
        written
    }

    /// Closes the current segment, whose last number is the one before
    /// `next`, and starts the next.
    fn rotate(&mut self) -> std::io::Result<()> {
        let file = create_segment(&self.base, &self.id, self.segment + 1)?;
        let path = segment_path(&self.base, &self.id, self.segment);
        self.closed.push((path, self.next - 1, self.bytes));
        self.segment += 1;
        self.file = file;
        self.bytes = 0;
        self.torn = false;
        Ok(())
    }

    /// The rows numbered past `after`, at most `count`, read back from the
    /// segments, and the last number they reach (a number whose write
    /// failed is passed over).
    pub(crate) fn read_back(&self, after: u64, count: usize) -> (Vec<(u64, Row)>, u64) {
        let upto = (self.next - 1).min(after.saturating_add(count as u64));
        let current = (segment_path(&self.base, &self.id, self.segment), self.next - 1);
        let segments = self.closed.iter().map(|(path, last, _)| (path.clone(), *last));
        let mut rows = Vec::new();
        for (path, last) in segments.chain(std::iter::once(current)) {
            if last <= after {
                continue;
            }
            rows.extend(
                read_segment(&path)
                    .into_iter()
                    .filter(|(seq, _)| (after + 1..=upto).contains(seq)),
            );
            if last >= upto {
                break;
            }
        }
        (rows, upto.max(after))
    }

    /// Makes the next write fail as a full disk does (a test's way to a
    /// journal that cannot take a row).
    #[cfg(test)]
    pub(crate) fn fail_next_write(&mut self) -> std::io::Result<()> {
        self.file = OpenOptions::new().write(true).open("/dev/full")?;
        Ok(())
    }

    /// Deletes the closed segments the database now holds in full.
    pub(crate) fn committed(&mut self, through: u64) {
        self.closed.retain(|(path, last, _)| {
            if *last > through {
                return true;
            }
            remove(path);
            false
        });
    }

    /// Whether every row written is in the database once `through` is.
    pub(crate) fn drained_by(&self, through: u64) -> bool {
        through + 1 >= self.next
    }

    /// Deletes every segment (all committed) and the lock file; the
    /// journal takes no row after it.
    pub(crate) fn finish(&mut self) {
        self.committed(u64::MAX);
        remove(&segment_path(&self.base, &self.id, self.segment));
        remove(&lock_path(&self.base));
    }
}

fn lock_path(base: &Path) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn segment_path(base: &Path, id: &str, segment: u64) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(format!("-{id}-{segment:06}"));
    PathBuf::from(name)
}

fn create_segment(base: &Path, id: &str, segment: u64) -> std::io::Result<File> {
    crate::private::owner_only(&mut OpenOptions::new())
        .create_new(true)
        .append(true)
        .open(segment_path(base, id, segment))
}

fn remove(path: &Path) {
    if let Err(err) = std::fs::remove_file(path) {
        if err.kind() != std::io::ErrorKind::NotFound {
            tracing::error!("não foi possível remover o diário do log {}: {err}", path.display());
        }
    }
}

/// A name no other journal of this log had: the process and the moment.
fn fresh_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("{:x}{nanos:x}", std::process::id())
}

/// The leftover segments at `base`, by journal, in segment order.
fn leftovers(base: &Path) -> Vec<(String, Vec<PathBuf>)> {
    let folder = match base.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(prefix) = base.file_name().map(|name| format!("{}-", name.to_string_lossy())) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut found: Vec<(String, u64, PathBuf)> = Vec::new();
    for entry in entries.flatten().take(LEFTOVER_FILES) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((id, segment)) = name.strip_prefix(&prefix).and_then(|rest| rest.rsplit_once('-')) else {
            continue;
        };
        let (Ok(segment), false) = (segment.parse::<u64>(), id.is_empty()) else {
            continue;
        };
        found.push((id.to_string(), segment, entry.path()));
    }
    found.sort();
    let mut journals: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for (id, _, path) in found {
        match journals.last_mut() {
            Some((last, paths)) if *last == id => paths.push(path),
            _ => journals.push((id, vec![path])),
        }
    }
    journals
}

/// Replays into `store` the rows dead writers journaled and the database
/// does not hold, then deletes their files. A journal that cannot be
/// replayed now stays for the next writer.
fn replay_leftovers(base: &Path, store: &mut dyn Store) {
    for (id, paths) in leftovers(base) {
        match replay(&id, &paths, store) {
            Ok(count) => {
                for path in &paths {
                    remove(path);
                }
                if let Err(err) = store.forget_journal(&id) {
                    tracing::warn!("marca do diário {id} não removida: {err}");
                }
                if count > 0 {
                    tracing::info!("{count} decisões do diário do log voltam ao banco");
                }
            }
            Err(err) => tracing::error!("o diário {id} do log fica para depois: {err}"),
        }
    }
}

/// Appends the journal's rows past its mark; how many.
fn replay(id: &str, paths: &[PathBuf], store: &mut dyn Store) -> Result<usize, LogError> {
    let mark = store.journal_mark(id)?;
    let mut count = 0;
    for path in paths {
        let rows = read_segment(path);
        let fresh: Vec<(u64, Row)> = rows.into_iter().filter(|(seq, _)| *seq > mark).collect();
        for batch in fresh.chunks(REPLAY_BATCH) {
            let through = batch.iter().map(|(seq, _)| *seq).max().unwrap_or(mark);
            let rows: Vec<Row> = batch.iter().map(|(_, row)| row.clone()).collect();
            store.append_marked(&rows, Some((id, through)))?;
            count += rows.len();
        }
    }
    Ok(count)
}

/// The rows of one segment; a line that is not one (torn by the crash)
/// is skipped.
fn read_segment(path: &Path) -> Vec<(u64, Row)> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for line in BufReader::new(file.take(READ_BYTES)).split(b'\n').map_while(Result::ok) {
        match serde_json::from_slice::<LineIn>(&line).ok().and_then(LineIn::row) {
            Some(row) => rows.push(row),
            None => tracing::warn!("linha ilegível no diário do log {} ignorada", path.display()),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Filter;

    /// A fresh folder holding a SQLite log: the folder, the journal's
    /// base and the log.
    fn fresh(name: &str) -> (PathBuf, PathBuf, Box<dyn Store>) {
        let folder = std::env::temp_dir().join(format!("roteiro-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let store = crate::open(folder.join("log.db").to_str().unwrap()).unwrap();
        (folder.clone(), folder.join("log.db.journal"), store)
    }

    fn latencies(store: &mut dyn Store) -> Vec<i64> {
        let mut seen: Vec<i64> = store
            .read(&Filter::default())
            .unwrap()
            .iter()
            .map(|r| r.latency_us)
            .collect();
        seen.sort_unstable();
        seen
    }

    #[test]
    fn a_dead_writers_journal_is_replayed_once_past_its_mark() {
        let (folder, base, mut store) = fresh("replay");
        let mut journal = Journal::open(&base, &mut *store).unwrap().unwrap();
        // Rows 1-3 committed with their mark, 4-5 only journaled: then
        // the process dies (its files stay, the kernel drops its lock).
        for latency in 1..=5 {
            journal.append(&crate::tests::row(latency)).unwrap();
        }
        let committed: Vec<Row> = (1..=3).map(crate::tests::row).collect();
        store.append_marked(&committed, Some((journal.id(), 3))).unwrap();
        let id = journal.id().to_string();
        drop(journal);
        // The line the crash tore, and one edited to slice out of bounds.
        let segment = segment_path(&base, &id, 1);
        let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
        file.write_all(b"{\"seq\":6,\"text\":\"ab\",\"ends\":[9,9,9,9,9,9,9,9,9,9,9,9],\"analyst\":null,\"latency_us\":6}\n{\"seq\":7,\"te")
            .unwrap();
        drop(file);

        let mut next = Journal::open(&base, &mut *store).unwrap().unwrap();
        assert_eq!(
            latencies(&mut *store),
            vec![1, 2, 3, 4, 5],
            "4 and 5 replayed, nothing twice"
        );
        assert!(!segment.exists(), "the replayed journal is deleted");
        assert_eq!(store.journal_mark(&id).unwrap(), 0, "and its mark forgotten");
        next.finish();
        assert_eq!(
            std::fs::read_dir(&folder).unwrap().count(),
            3,
            "the log, its WAL and shared memory"
        );
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn after_a_write_failed_part_way_the_next_row_starts_a_new_segment() {
        let (folder, base, mut store) = fresh("torn");
        let mut journal = Journal::open(&base, &mut *store).unwrap().unwrap();
        journal.append(&crate::tests::row(1)).unwrap();
        // What a write cut short by a full disk leaves: half a line.
        let segment = segment_path(&base, journal.id(), 1);
        OpenOptions::new()
            .append(true)
            .open(&segment)
            .unwrap()
            .write_all(b"{\"seq\":2,\"te")
            .unwrap();
        journal.torn = true;
        journal.next += 1;
        journal.append(&crate::tests::row(3)).unwrap();
        let id = journal.id().to_string();
        drop(journal);
        let rows: Vec<i64> = [1, 2]
            .iter()
            .flat_map(|segment| read_segment(&segment_path(&base, &id, *segment)))
            .map(|(_, row)| row.latency_us)
            .collect();
        assert_eq!(rows, vec![1, 3], "the row after the torn one is whole");
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn rows_synced_before_a_segment_failed_are_told_apart_from_the_rest() {
        let (folder, base, mut store) = fresh("partly");
        let mut journal = Journal::open(&base, &mut *store).unwrap().unwrap();
        // The second segment cannot be made: its name is taken.
        std::fs::create_dir(segment_path(&base, journal.id(), 2)).unwrap();
        let row = crate::tests::row(0);
        let one = line(1, &row).unwrap().len();
        let rows = vec![row; 2 * usize::try_from(SEGMENT_BYTES).unwrap() / one];
        let (synced, written) = journal.append_synced(&rows);
        assert!(written.is_err(), "the rest had nowhere to go");
        assert!(0 < synced && synced < rows.len(), "{synced} of {}", rows.len());
        let on_disk = read_segment(&segment_path(&base, journal.id(), 1)).len();
        assert_eq!(on_disk, synced, "what it says synced is what the segment holds");
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn a_second_writer_of_the_same_log_goes_without_the_journal() {
        let (folder, base, mut store) = fresh("lock");
        let first = Journal::open(&base, &mut *store).unwrap();
        assert!(first.is_some());
        assert!(Journal::open(&base, &mut *store).unwrap().is_none(), "the lock is held");
        drop(first);
        assert!(
            Journal::open(&base, &mut *store).unwrap().is_some(),
            "released with its holder"
        );
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn committed_segments_are_deleted_and_the_rest_kept() {
        let (folder, base, mut store) = fresh("segments");
        let mut journal = Journal::open(&base, &mut *store).unwrap().unwrap();
        let row = crate::tests::row(0);
        let mut last = 0;
        // Bounded: a segment closes at its size, so 2 closed in far fewer.
        while journal.segment < 3 && last < 1_000_000 {
            last = journal.append(&row).unwrap();
        }
        let size = std::fs::metadata(segment_path(&base, journal.id(), 1)).unwrap().len();
        assert!(
            (SEGMENT_BYTES..SEGMENT_BYTES + 1024).contains(&size),
            "closed at its size: {size}"
        );
        let first_last = journal.closed[0].1;
        // Read back across the closed segments and the current one.
        let (rows, upto) = journal.read_back(first_last - 2, 4);
        let seqs: Vec<u64> = rows.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (first_last - 1..=first_last + 2).collect::<Vec<_>>());
        assert_eq!(upto, first_last + 2);
        let (rows, upto) = journal.read_back(last - 1, 10);
        assert_eq!((rows.len(), upto), (1, last), "no further than the last written");
        assert!(journal.closed.len() == 2 && first_last < journal.closed[1].1);
        journal.committed(first_last);
        assert!(!segment_path(&base, journal.id(), 1).exists());
        assert!(segment_path(&base, journal.id(), 2).exists());
        assert!(!journal.drained_by(first_last));
        assert!(journal.drained_by(last));
        journal.finish();
        std::fs::remove_dir_all(folder).unwrap();
    }
}
