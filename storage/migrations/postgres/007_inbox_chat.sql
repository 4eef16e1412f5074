-- The chat an update came from: with several workers sharing the database, a worker handles a
-- chat's earlier updates still waiting in the inbox (received by another worker) before its own,
-- so that one chat's updates are applied in order.
ALTER TABLE inbox ADD COLUMN chat_id BIGINT;
CREATE INDEX inbox_chat_pending ON inbox (chat_id, update_id) WHERE done_at IS NULL;
