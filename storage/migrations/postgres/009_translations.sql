-- A proposal in a language other than the bot's (tagged "other": Bahnar, Jarai...) waits for a
-- translator (role "translator", scoped by area) before moderation. The translation is kept
-- beside the child's own words, field by field; translated_by with no translated_at: a
-- translator is working on it. Exports carry both, marked as such.
ALTER TABLE proposals ADD COLUMN seen_vi TEXT;
ALTER TABLE proposals ADD COLUMN proposal_vi TEXT;
ALTER TABLE proposals ADD COLUMN message_vi TEXT;
ALTER TABLE proposals ADD COLUMN translated_by BIGINT;
ALTER TABLE proposals ADD COLUMN translated_at TEXT;
