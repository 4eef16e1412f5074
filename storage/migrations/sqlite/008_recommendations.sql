-- Compiling: proposals that ask for the same thing gathered into one recommendation (one
-- district, topic and forum year), as the forum's report lists them. Grouped automatically,
-- then reviewed by an officer: merged, split, moved, named (title: the recommendation's words).
CREATE TABLE recommendations (
    id          INTEGER PRIMARY KEY,
    forum_year  INTEGER NOT NULL,
    district    TEXT NOT NULL,
    topic       TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    named_by    INTEGER,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX recommendations_by_area ON recommendations (forum_year, district, topic);

ALTER TABLE proposals ADD COLUMN recommendation_id INTEGER;
CREATE INDEX proposals_by_recommendation ON proposals (recommendation_id);
