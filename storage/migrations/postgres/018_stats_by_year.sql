-- /stats counts one forum year's proposals (a commune forum's apart from the 2023 districts'
-- in the same database): the covering indexes of its counts hold the forum year too, after the
-- columns they are searched by (SQLite skips through the few areas and topics); the counts by
-- language have their own, by year (proposals_languages stays as /queue's count needs it).
DROP INDEX proposals_stats;
CREATE INDEX proposals_stats ON proposals
    (district, topic, status, forum_year, age_band, gender, is_group);
DROP INDEX proposals_history;
CREATE INDEX proposals_history ON proposals
    (district, topic, status, forum_year, age_band, gender, is_group) WHERE origin = 'history';
CREATE INDEX proposals_languages_by_year ON proposals
    (forum_year, district, lang, status, needs_translation, translated_at);
