-- Access tokens of `roteiro serve`: who may do what. The secret itself is
-- never stored, only a salted SHA-256 of it; `id` is the token's public
-- part, shown by `roteiro token list` and written into the log as who.
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    salt       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
