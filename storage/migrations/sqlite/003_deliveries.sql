-- Scheduled exports and deadline reminders: one row per recipient, district and format of a run.
-- stream: 'export:<user_id>' (an officer's [[schedules]] table) or 'reminders'.
-- due_at: the run's scheduled time (UTC); a restart compares the latest one with the timetable.
-- district: a district code, or '*' for a reminder (all the moderator's districts).
-- format: csv | xlsx | docx, or 'reminder'.
-- outcome: sent | empty (nothing new) | forbidden (no export duty then) | failed (after retries).
-- as_of: when the rows were read; the next run sends only what changed since the last 'sent'.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    stream      TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    user_id     INTEGER NOT NULL,
    district    TEXT NOT NULL,
    format      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    rows        INTEGER NOT NULL DEFAULT 0,
    as_of       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    recorded_at TEXT NOT NULL,
    UNIQUE (stream, due_at, user_id, district, format)
);
CREATE INDEX deliveries_by_stream ON deliveries (stream, due_at);
CREATE INDEX deliveries_sent ON deliveries (user_id, district, format, as_of)
    WHERE outcome = 'sent';
