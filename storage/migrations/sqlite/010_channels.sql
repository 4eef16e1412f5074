-- Channels besides Telegram (Zalo). Everything is keyed by one chat id, as before: a Telegram
-- chat's own id, or, for another channel, an id from that channel's range (bot/transport/
-- channels.py) given here to its address: the channel and the channel's own id, as text
-- (Zalo's ids are 80-bit hex strings). A child's erasure marks it erased: the goodbye still
-- goes out, then the row goes (bot/transport/channels.py, the sweep).
CREATE TABLE chat_addresses (
    chat_id     INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    erased_at   TEXT
);
CREATE UNIQUE INDEX chat_address_of ON chat_addresses (channel, external_id)
    WHERE erased_at IS NULL;
-- The updates of every channel share the inbox; each channel replays its own after a restart.
ALTER TABLE inbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
-- What a chat on a channel without buttons was last offered, as numbered choices: the reply
-- "2" presses the second. Replaced with each menu sent, erased with the child.
CREATE TABLE chat_menus (
    chat_id   INTEGER PRIMARY KEY,
    buttons   TEXT NOT NULL,
    sent_at   TEXT NOT NULL
);
-- The highest chat id each channel has given: ids are never given twice, erasures included.
CREATE TABLE chat_address_ids (
    channel TEXT PRIMARY KEY,
    chat_id INTEGER NOT NULL
);
