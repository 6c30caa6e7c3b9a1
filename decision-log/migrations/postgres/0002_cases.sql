-- Cases: a helpdesk ticket's situation as it grows, what happened to it,
-- and what it waits for. Times are RFC 3339 text, as in `decisions`.
CREATE TABLE cases (
    ticket        TEXT    PRIMARY KEY,
    situation     TEXT    NOT NULL,
    version       BIGINT  NOT NULL,
    opened_at     TEXT    NOT NULL,
    opened_by     TEXT    NOT NULL,
    closed_at     TEXT,
    closed_reason TEXT
);
CREATE TABLE case_events (
    id      BIGSERIAL PRIMARY KEY,
    ticket  TEXT NOT NULL REFERENCES cases (ticket),
    at      TEXT NOT NULL,
    by_whom TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX case_events_ticket ON case_events (ticket, id);
CREATE TABLE case_follow_ups (
    ticket        TEXT NOT NULL REFERENCES cases (ticket),
    id            TEXT NOT NULL,
    text          TEXT NOT NULL,
    team          TEXT,
    due           TEXT,
    due_text      TEXT,
    until_text    TEXT,
    rule          TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    closed_at     TEXT,
    closed_reason TEXT,
    PRIMARY KEY (ticket, id)
);
