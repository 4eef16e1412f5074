-- Moderators sending a proposal back to the translators: counted for every digest and /stats.
CREATE INDEX audit_to_translator ON audit_log (district) WHERE action = 'to_translator';
