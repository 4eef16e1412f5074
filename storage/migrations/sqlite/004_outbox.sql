-- Messages out. A row is written in the transaction of the change that caused it (a reply, a
-- notice to a child, a file for an officer) and sent after commit by a paced sender; a row left
-- pending by a crash is sent after the restart. payload and body are dropped once sent (they may
-- quote a child's words).
-- kind: 'reply' (to someone who just wrote: sent at once) or 'notice' (bulk: paced, quiet hours).
-- state: pending | sent | failed (permanent error, or too many attempts) | unreachable (403).
-- dedupe: a key that makes enqueuing the same message twice a no-op (answer notices).
-- claimed_by / claimed_until: the sender holding the row (a lease; free again once it expires).
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL DEFAULT 'telegram',
    chat_id       INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT,
    body          BLOB,
    dedupe        TEXT UNIQUE,
    state         TEXT NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    not_before    TEXT NOT NULL,
    claimed_by    TEXT,
    claimed_until TEXT,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    done_at       TEXT
);
CREATE INDEX outbox_pending ON outbox (not_before, id) WHERE state = 'pending';
CREATE INDEX outbox_by_chat ON outbox (channel, chat_id, id);

-- A child who consented, waiting for the guardian's consent (only the chat id and the time).
CREATE TABLE consent_steps (
    chat_id INTEGER PRIMARY KEY,
    at      TEXT NOT NULL
);

-- One row, rewritten every few seconds by the running bot: proof that writes still work.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT NOT NULL
);
