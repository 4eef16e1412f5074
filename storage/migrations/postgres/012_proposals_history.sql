-- Earlier forums' recommendations imported with their answers (a few): /stats leaves them out,
-- counting them by this small covering index.
CREATE INDEX proposals_history ON proposals (district, topic, status, age_band, gender, is_group)
    WHERE origin = 'history';
