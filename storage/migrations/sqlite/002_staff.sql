-- Staff side: roles granted by command, facilitators' invites, moderation and an append-only audit.

-- Roles granted with /grant (config.toml roles are not stored here). A revocation keeps the row.
-- districts: '*' for the whole province, or a comma-separated list of district codes.
CREATE TABLE staff_grants (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    role        TEXT NOT NULL,
    districts   TEXT NOT NULL,
    granted_by  INTEGER NOT NULL,
    granted_at  TEXT NOT NULL,
    revoked_by  INTEGER,
    revoked_at  TEXT
);
CREATE INDEX staff_grants_active ON staff_grants (user_id, role) WHERE revoked_at IS NULL;

-- Invite codes a moderator creates so that a facilitator can join for one district.
CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    district    TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    max_uses    INTEGER NOT NULL CHECK (max_uses > 0),
    uses        INTEGER NOT NULL DEFAULT 0
);

-- Facilitators (adults who record group proposals), one row per chat and district.
CREATE TABLE facilitators (
    chat_id     INTEGER NOT NULL,
    district    TEXT NOT NULL,
    invite_code TEXT NOT NULL,
    joined_at   TEXT NOT NULL,
    PRIMARY KEY (chat_id, district)
);

-- Who did what, to which item, when. Append-only: the triggers below refuse UPDATE and DELETE.
-- It never holds a child's words or chat id (a child's erasure must not need to touch it):
-- items are named by proposal id and ref; an edit's before/after text is in moderation_edits.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_user_id INTEGER NOT NULL,
    action        TEXT NOT NULL,
    item_type     TEXT NOT NULL,
    item_id       INTEGER,
    district      TEXT,
    detail        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_item ON audit_log (item_type, item_id, id);
CREATE INDEX audit_by_district ON audit_log (district, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The before/after text of a moderator's edit, referenced from the audit row (detail.edit_id).
-- It may hold personal data the edit removed, so it goes with the proposal on the child's erasure.
CREATE TABLE moderation_edits (
    id          INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    field       TEXT NOT NULL,
    before_text TEXT NOT NULL,
    after_text  TEXT NOT NULL,
    edited_by   INTEGER NOT NULL,
    edited_at   TEXT NOT NULL
);
CREATE INDEX moderation_edits_by_proposal ON moderation_edits (proposal_id, id);

-- Moderation state on proposals; version moves on every staff action (optimistic concurrency).
ALTER TABLE proposals ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE proposals ADD COLUMN moderated_by INTEGER;
ALTER TABLE proposals ADD COLUMN moderated_at TEXT;
ALTER TABLE proposals ADD COLUMN reject_reason TEXT;
ALTER TABLE proposals ADD COLUMN reject_note TEXT;

-- Group proposals recorded by a facilitator on behalf of a discussion group.
ALTER TABLE proposals ADD COLUMN is_group INTEGER NOT NULL DEFAULT 0;
ALTER TABLE proposals ADD COLUMN group_size INTEGER;
ALTER TABLE proposals ADD COLUMN group_age_range TEXT;
ALTER TABLE proposals ADD COLUMN school TEXT;
ALTER TABLE proposals ADD COLUMN commune TEXT;
ALTER TABLE proposals ADD COLUMN facilitator_chat_id INTEGER;

-- /queue for a province-wide moderator: the oldest pending proposal without a district filter.
CREATE INDEX proposals_pending ON proposals (status, id);
-- /stats: one covering index, so the GROUP BY reads the index and never the proposals' text.
CREATE INDEX proposals_stats ON proposals (district, topic, status, age_band, gender, is_group);

-- Flags raised by a moderator from the queue point at the proposal (NULL: raised by the detector).
ALTER TABLE safeguarding_flags ADD COLUMN proposal_id INTEGER;
ALTER TABLE safeguarding_flags ADD COLUMN flagged_by INTEGER;
