-- /stats counts proposals by language (translated, waiting) and what /queue holds: from this
-- covering index, not the table.
CREATE INDEX proposals_languages ON proposals
    (district, lang, status, needs_translation, translated_at, held_by_case);
