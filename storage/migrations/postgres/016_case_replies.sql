-- A child answers the staff who wrote to them from a case: ↩️ under the staff's message, then
-- the child's next text goes to the case (not to their conversation), marked as theirs.
ALTER TABLE case_messages ADD COLUMN from_child BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN child_replying BIGINT NOT NULL DEFAULT 0;
-- Read at every text a child sends (is it a reply to their case?): nearly always nothing.
CREATE INDEX cases_replying ON cases (chat_id) WHERE child_replying = 1;
