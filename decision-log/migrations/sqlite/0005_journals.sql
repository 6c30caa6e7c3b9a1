-- How far each commit-mode journal (writer.rs, journal.rs) is in the log:
-- the highest sequence number committed, written in the same transaction
-- as the rows, so replaying a journal after a crash skips what is in.
CREATE TABLE log_journals (
    journal TEXT    PRIMARY KEY,
    through INTEGER NOT NULL
);
