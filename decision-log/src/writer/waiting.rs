//! What the writer's thread holds between the queue and the database:
//! rows with their acknowledgements and journal numbers, and the flushes
//! waiting for them.

use std::collections::VecDeque;
use std::path::Path;

use super::spill::spill_or_drop;
use super::{Ack, Entry, WriterCounts};
use crate::Row;

/// Records waiting to be written, each with its acknowledgement and
/// journal number, and the flushes waiting for them.
#[derive(Default)]
pub(super) struct Waiting {
    pub(super) rows: VecDeque<Row>,
    acks: VecDeque<Option<Ack>>,
    seqs: VecDeque<Option<u64>>,
    flushes: Vec<Ack>,
}

impl Waiting {
    /// Takes one entry; whether it asks for a write now (a flush).
    pub(super) fn push(&mut self, entry: Entry) -> bool {
        match entry {
            Entry::Row { row, ack, seq } => {
                self.rows.push_back(row);
                self.acks.push_back(ack);
                self.seqs.push_back(seq);
                false
            }
            Entry::Flush(ack) => {
                self.flushes.push(ack);
                true
            }
        }
    }

    /// Rows read back from the spill file: nobody waits on them.
    pub(super) fn extend(&mut self, rows: Vec<Row>) {
        self.acks.extend(rows.iter().map(|_| None));
        self.seqs.extend(rows.iter().map(|_| None));
        self.rows.extend(rows);
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many of the first rows the journal's mark `through` covers (the
    /// database holds them already).
    pub(super) fn held_through(&self, through: u64) -> usize {
        self.seqs
            .iter()
            .take_while(|seq| seq.is_some_and(|seq| seq <= through))
            .count()
    }

    /// The highest journal number among the first `count`.
    pub(super) fn mark(&self, count: usize) -> Option<u64> {
        self.seqs.iter().take(count).flatten().max().copied()
    }

    /// Removes the first `count`, telling each acknowledgement `on_disk`.
    pub(super) fn settle(&mut self, count: usize, on_disk: bool) {
        self.rows.drain(..count);
        self.seqs.drain(..count);
        for ack in self.acks.drain(..count).flatten() {
            ack(on_disk);
        }
    }

    /// Tells the flushes whether everything before them is written.
    pub(super) fn settle_flushes(&mut self, done: bool) {
        for ack in self.flushes.drain(..) {
            ack(done);
        }
    }

    /// Moves those from `from` on to the spill file (or drops them), and
    /// tells their acknowledgements how it went. Journaled ones are only
    /// let go: the journal keeps them for the next writer.
    pub(super) fn spill_from(&mut self, from: usize, spill: Option<&Path>, counts: &WriterCounts) {
        let rows: Vec<Row> = self
            .rows
            .drain(from..)
            .zip(self.seqs.drain(from..))
            .filter_map(|(row, seq)| seq.is_none().then_some(row))
            .collect();
        let on_disk = spill_or_drop(spill, &rows, counts);
        for ack in self.acks.drain(from..).flatten() {
            ack(on_disk);
        }
    }
}
