-- What replicas of `roteiro serve` share through this database, so no
-- replica keeps anything a user depends on.
--
-- Page sessions: the cookie's id is stored only as its SHA-256 (a read of
-- the table opens no session); the anti-CSRF value is checked against
-- the row. A session ends everywhere when its row goes (logout) or its
-- token is revoked.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    token_id   TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_of_token ON sessions (token_id, started_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- A push is tried by the replica holding its claim until `claimed_until`;
-- only that claim may record the try's outcome.
ALTER TABLE pushes ADD COLUMN claim TEXT;
ALTER TABLE pushes ADD COLUMN claimed_until TEXT;

-- One live push per marker: pushes queued twice by replicas racing
-- before this constraint keep the oldest, the others marked failed.
UPDATE pushes SET state = 'falhou', result = 'repetido: o mesmo texto já estava na fila'
 WHERE state <> 'falhou'
   AND id NOT IN (SELECT MIN(id) FROM pushes WHERE state <> 'falhou' GROUP BY marker);
CREATE UNIQUE INDEX pushes_one_per_marker ON pushes (marker) WHERE state <> 'falhou';

-- The helpdesk account's request budget, shared by every process that
-- calls it: one row per request granted, and until when the helpdesk
-- asked everyone to wait. `account` is a SHA-256 of the account's
-- address and token, never the token.
CREATE TABLE helpdesk_accounts (
    account       TEXT PRIMARY KEY,
    blocked_until TEXT
);
CREATE TABLE helpdesk_requests (
    account TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX helpdesk_requests_at ON helpdesk_requests (account, at);
