-- Safeguarding cases, worked by people: new -> acknowledged -> referred -> closed. A case comes
-- from the detector (tier 1: the child got the hotline reply; tier 2: needs a look), from /sos or
-- the 🆘 button, from "yes, it is happening" on a review screen, or from a moderator's flag.
-- The child's words (text) go when the case has been closed for [safeguarding] purge_days, or
-- at once when the child erases their data (chat_id then goes too; the record stays).
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER,
    district        TEXT,
    source          TEXT NOT NULL,
    tier            INTEGER NOT NULL,
    kind            TEXT NOT NULL DEFAULT '',
    text            TEXT NOT NULL DEFAULT '',
    weighed         TEXT NOT NULL DEFAULT '',
    proposal_id     INTEGER,
    wants_contact   INTEGER,
    state           TEXT NOT NULL DEFAULT 'new',
    version         INTEGER NOT NULL DEFAULT 0,
    acknowledged_by INTEGER,
    acknowledged_at TEXT,
    referred_to     TEXT,
    referral_note   TEXT,
    referred_by     INTEGER,
    referred_at     TEXT,
    closed_by       INTEGER,
    closed_at       TEXT,
    outcome         TEXT,
    close_note      TEXT,
    escalated_at    TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX cases_open ON cases (state, created_at);
CREATE INDEX cases_by_chat ON cases (chat_id);

-- What staff wrote to the child from a case (the only way staff reach a child's chat).
CREATE TABLE case_messages (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    by_user_id INTEGER NOT NULL,
    text       TEXT NOT NULL,
    at         TEXT NOT NULL
);

-- A proposal whose text a tier-2 case holds: never approved or exported until the case clears it.
ALTER TABLE proposals ADD COLUMN held_by_case INTEGER;

-- The flags of earlier versions become cases (handled flags: closed cases).
INSERT INTO cases (chat_id, district, source, tier, kind, text, weighed, proposal_id, state,
                   closed_by, closed_at, outcome, close_note, created_at)
SELECT NULLIF(chat_id, 0), district,
       CASE WHEN proposal_id IS NULL THEN 'detector' ELSE 'moderator' END,
       1, category, text, matched, proposal_id,
       CASE WHEN handled_at IS NULL THEN 'new' ELSE 'closed' END,
       handled_by, handled_at, CASE WHEN handled_at IS NULL THEN NULL ELSE 'handled' END, note,
       created_at
FROM safeguarding_flags ORDER BY id;
DROP TABLE safeguarding_flags;
