-- The listings of proposals (`CodesignStore::proposals_page`), each from its own index, as V6:
-- on expressions of the `json` values, so no row is rewritten and every existing row is
-- indexed when the index is built. A proposal moves between them when its row is written
-- again (reviewed, approved, settled). The statuses of `Proposal::is_public` are named here
-- and in `codesign.rs`; the conformance suite checks every listing against the model's rule.
-- `IF NOT EXISTS`: a store whose history lost this step (a test rebuilds an older schema) takes
-- it again without harm.
CREATE INDEX IF NOT EXISTS proposals_organisation ON proposals (organisation, id);
CREATE INDEX IF NOT EXISTS proposals_status ON proposals ((value->>'status'), id);
CREATE INDEX IF NOT EXISTS proposals_public ON proposals (id)
    WHERE (value->>'status') IN ('public', 'funded', 'unfunded');
CREATE INDEX IF NOT EXISTS proposals_contest ON proposals ((value->>'contest'), id)
    WHERE (value->>'contest') IS NOT NULL;
CREATE INDEX IF NOT EXISTS proposals_unsettled ON proposals (id) WHERE (value->>'settlement') IS NULL;
