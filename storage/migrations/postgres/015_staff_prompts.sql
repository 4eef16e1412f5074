-- What a staff member was asked to type next (a reject reason, an answer's text, a message to a
-- child from a case, a translation), by their chat: with several workers, the press that asks
-- and the text that answers may reach different processes (bot/staff/prompts.py).
CREATE TABLE staff_prompts (
    chat_id    BIGINT PRIMARY KEY,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
