-- Updates received from the Bot API, written before they are acted on.
-- The payload is cleared once the update is handled; the id stays to recognise a redelivery.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    payload     TEXT,
    received_at TEXT NOT NULL,
    done_at     TEXT
);
CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;

-- One row per child who consented. chat_id is kept only to reply and to notify.
CREATE TABLE children (
    chat_id      INTEGER PRIMARY KEY,
    consented_at TEXT NOT NULL,
    district     TEXT,
    age_band     TEXT,
    gender       TEXT,
    lang         TEXT NOT NULL DEFAULT 'vi',
    state        TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE proposals (
    id                INTEGER PRIMARY KEY,
    ref               TEXT NOT NULL UNIQUE,
    chat_id           INTEGER REFERENCES children (chat_id) ON DELETE CASCADE,
    forum_year        INTEGER NOT NULL,
    district          TEXT NOT NULL,
    topic             TEXT NOT NULL,
    age_band          TEXT,
    gender            TEXT,
    seen              TEXT NOT NULL DEFAULT '',
    proposal          TEXT NOT NULL DEFAULT '',
    actors            TEXT NOT NULL DEFAULT '',
    message           TEXT NOT NULL DEFAULT '',
    lang              TEXT NOT NULL,
    needs_translation INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL DEFAULT 'pending',
    source_update_id  INTEGER UNIQUE,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX proposals_by_chat ON proposals (chat_id, id);
CREATE INDEX proposals_queue ON proposals (district, status, id);

CREATE TABLE ref_counters (
    district TEXT PRIMARY KEY,
    last     INTEGER NOT NULL
);

-- Messages that looked like a disclosure of harm: for safeguarding staff, never exported.
CREATE TABLE safeguarding_flags (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    district    TEXT,
    category    TEXT NOT NULL,
    matched     TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    handled_at  TEXT,
    handled_by  INTEGER,
    note        TEXT
);
CREATE INDEX safeguarding_open ON safeguarding_flags (handled_at, id);
