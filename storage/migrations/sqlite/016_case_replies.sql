-- A child answers the staff who wrote to them from a case (↩️ under the staff's message): their
-- words are kept with the case, marked as theirs.
ALTER TABLE case_messages ADD COLUMN from_child INTEGER NOT NULL DEFAULT 0;
