-- When a child is forgotten (the retention period after their last message), what stays of
-- their answer notices is anonymous: when they were told (kept here, for the follow-up report
-- and /stats, before their outbox rows go) and their 👍/👎; the chat id becomes 0.
ALTER TABLE answer_notices ADD COLUMN told_at TEXT;
