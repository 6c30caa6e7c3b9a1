-- Pushes to the helpdesk: what a case writes into its ticket, queued so a
-- rate limit, an outage or a restart delays it and never loses or
-- repeats it. `marker` ends the written text; a retried push looks for
-- it in the ticket before writing. States: fila, feito, falhou.
CREATE TABLE pushes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket       TEXT    NOT NULL,
    public       INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    marker       TEXT    NOT NULL,
    requested_by TEXT    NOT NULL,
    requested_at TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    next_try_at  TEXT    NOT NULL,
    result       TEXT
);
CREATE INDEX pushes_due ON pushes (state, next_try_at);
CREATE INDEX pushes_marker ON pushes (marker);
