-- The authorities' answers to proposals, carried back to the children who sent them.

-- Where a proposal came from: 'bot' (a child or facilitator sent it) or 'history' (a
-- recommendation of an earlier forum, imported from a spreadsheet for the follow-up report).
ALTER TABLE proposals ADD COLUMN origin TEXT NOT NULL DEFAULT 'bot';

-- One row per version of a proposal's answer. The latest version is the answer; a version is a
-- draft until published (published_at). A draft is edited in place (revision moves on each
-- change: optimistic concurrency); a change to a published answer starts a new version. Every
-- change is also in the audit log.
-- state: implemented | in_progress | not_yet | transferred | answered_at_forum.
-- how: 'forum' (answered at the forum) or 'document' (doc_number, doc_date).
CREATE TABLE answers (
    id            INTEGER PRIMARY KEY,
    proposal_id   INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    revision      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL,
    text_vi       TEXT NOT NULL DEFAULT '',
    text_en       TEXT NOT NULL DEFAULT '',
    agency        TEXT NOT NULL DEFAULT '',
    partners      TEXT NOT NULL DEFAULT '',
    due           TEXT NOT NULL DEFAULT '',
    how           TEXT NOT NULL DEFAULT 'document',
    doc_number    TEXT NOT NULL DEFAULT '',
    doc_date      TEXT,
    reason        TEXT NOT NULL DEFAULT '',
    solution      TEXT NOT NULL DEFAULT '',
    answered_by   INTEGER NOT NULL,
    answered_at   TEXT NOT NULL,
    source        TEXT NOT NULL DEFAULT 'chat',
    published_by  INTEGER,
    published_at  TEXT,
    UNIQUE (proposal_id, version)
);
CREATE INDEX answers_drafts ON answers (published_at, proposal_id);

-- Who was told of which published version (the outbox message's dedupe key is
-- 'answer:<answer id>:<chat id>': its state says whether it got through), and what they thought
-- of it (feedback: 'up' | 'down'). Goes with the child on erasure (chat_id).
CREATE TABLE answer_notices (
    answer_id   INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    feedback    TEXT,
    feedback_at TEXT,
    PRIMARY KEY (answer_id, chat_id)
);
CREATE INDEX answer_notices_by_chat ON answer_notices (chat_id);

-- A spreadsheet of answers sent in chat, kept between its dry run and the officer's Confirm.
CREATE TABLE answer_imports (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    filename   TEXT NOT NULL,
    body       BLOB NOT NULL,
    created_at TEXT NOT NULL,
    applied_at TEXT
);
