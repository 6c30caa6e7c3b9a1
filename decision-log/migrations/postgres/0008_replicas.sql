-- The replicas of `roteiro serve` on this database, each seen every
-- second: a replica's share of a client's budget is the budget divided
-- by the replicas seen in the last seconds.
CREATE TABLE replicas (
    id         TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);
