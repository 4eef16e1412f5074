-- The last case about a proposal (the moderator's card says why it waited), found by index.
CREATE INDEX cases_by_proposal ON cases (proposal_id);
