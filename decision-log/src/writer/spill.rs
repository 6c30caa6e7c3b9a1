//! The spill file: rows the database cannot take now (it is down past the
//! memory bound, or the writer closes while it is down), as JSON lines the
//! next writer on the same log replays first.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::sync::atomic::Ordering;

use super::{WriterCounts, SPILL_BYTES};
use crate::{Record, Row};

/// Appends `records` to the spill file, or counts them dropped when there
/// is none, it is full, or it cannot be written; whether they are on disk.
pub(super) fn spill_or_drop(spill: Option<&Path>, records: &[Row], counts: &WriterCounts) -> bool {
    if records.is_empty() {
        return true;
    }
    match spill.map(|path| append_spill(path, records)) {
        Some(Ok(())) => {
            counts.spilled.fetch_add(records.len() as u64, Ordering::Relaxed);
            tracing::warn!("{} decisões guardadas no arquivo de espera do log", records.len());
            true
        }
        failed => {
            counts.dropped.fetch_add(records.len() as u64, Ordering::Relaxed);
            let why = match failed {
                Some(Err(err)) => err.to_string(),
                _ => "sem arquivo de espera".to_string(),
            };
            tracing::error!("{} decisões não gravadas no log: {why}", records.len());
            false
        }
    }
}

/// Spilled rows are written as the records they read back as (JSON lines),
/// a format that does not change with the columns.
fn append_spill(path: &Path, records: &[Row]) -> std::io::Result<()> {
    let size = std::fs::metadata(path).map_or(0, |meta| meta.len());
    if size >= SPILL_BYTES {
        return Err(std::io::Error::other(format!(
            "o arquivo de espera {} passou de {SPILL_BYTES} bytes",
            path.display()
        )));
    }
    let mut file = crate::private::owner_only(&mut std::fs::OpenOptions::new())
        .create(true)
        .append(true)
        .open(path)?;
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(&record.record()).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

/// The records of the spill file, which is then removed; a line that is
/// not a record (a torn last write) is counted dropped and skipped.
pub(super) fn take_spilled(path: &Path, counts: &WriterCounts) -> Vec<Row> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut records = Vec::new();
    // Bounded by SPILL_BYTES when written; read no more than that.
    let reader = std::io::BufReader::new(file.take(SPILL_BYTES + 1024 * 1024));
    for line in reader.lines() {
        match line.map(|line| serde_json::from_str::<Record>(&line)) {
            Ok(Ok(record)) => records.push(Row::from_record(&record)),
            _ => {
                counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if let Err(err) = std::fs::remove_file(path) {
        tracing::error!("não foi possível remover o arquivo de espera {}: {err}", path.display());
    } else if !records.is_empty() {
        tracing::info!("{} decisões do arquivo de espera voltam ao log", records.len());
    }
    records
}
