-- One row per decision. Times are RFC 3339 text in UTC, so both databases
-- sort and compare them the same way.
CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    logged_at      TEXT    NOT NULL,
    decided_as_of  TEXT    NOT NULL,
    origin         TEXT    NOT NULL,
    bundle_name    TEXT    NOT NULL,
    bundle_version TEXT    NOT NULL,
    bundle_digest  TEXT    NOT NULL,
    situation      TEXT    NOT NULL,
    outputs        TEXT    NOT NULL,
    route          TEXT,
    fired          TEXT    NOT NULL,
    missing        TEXT    NOT NULL,
    documents      TEXT    NOT NULL,
    analyst        TEXT,
    latency_us     INTEGER NOT NULL
);
CREATE INDEX decisions_logged_at ON decisions (logged_at);
