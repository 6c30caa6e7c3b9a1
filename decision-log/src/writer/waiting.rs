//! What the writer's thread holds between the queue and the database:
//! rows with their acknowledgements and journal numbers, and the flushes
//! waiting for them.

use std::collections::VecDeque;

use super::{Ack, Entry};
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

    /// A row read back from the journal: nobody waits on it.
    pub(super) fn push_loaded(&mut self, seq: u64, row: Row) {
        self.rows.push_back(row);
        self.acks.push_back(None);
        self.seqs.push_back(Some(seq));
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether an answer waits on one of these rows (no journal held it).
    pub(super) fn answers_wait(&self) -> bool {
        self.acks.iter().any(Option::is_some)
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

    /// The highest journal number held.
    pub(super) fn last_seq(&self) -> Option<u64> {
        self.seqs.iter().rev().flatten().next().copied()
    }

    /// Takes out those from `from` on, each with its acknowledgement and
    /// journal number.
    pub(super) fn split_off(&mut self, from: usize) -> Vec<(Row, Option<Ack>, Option<u64>)> {
        let from = from.min(self.rows.len());
        self.rows
            .drain(from..)
            .zip(self.acks.drain(from..))
            .zip(self.seqs.drain(from..))
            .map(|((row, ack), seq)| (row, ack, seq))
            .collect()
    }
}
