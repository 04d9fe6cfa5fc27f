-- Paged listings, newest first by id (`Store::runs_page` and the others). A person's rows are
-- found by the (person, id) keys of V1; an organisation's by these indexes on the name its
-- rows hold: the requests it made, the grants it obtained, the receptions naming it, and the
-- runs it started outside a campaign or study (a member's run is the member's alone). The
-- values stay `json` (V1): the indexes are on expressions of it, so no row is rewritten.
CREATE INDEX requests_requester ON requests ((value->>'requester'), id);
CREATE INDEX grants_requester ON grants ((value->'origin'->>'requester'), id);
CREATE INDEX receptions_organisation ON receptions ((value->>'organisation'), id);
CREATE INDEX runs_requester ON runs ((value->>'requester'), id) WHERE (value->>'job') IS NULL;
-- A party's ledger entries (a person's earnings, an organisation's invoice, a statement), by
-- either side: `Party` is `{"kind": ..., "name": ...}` (the operator has no name).
CREATE INDEX ledger_debit ON ledger ((value->'debit'->>'kind'),
    (coalesce(value->'debit'->>'name', '')), id);
CREATE INDEX ledger_credit ON ledger ((value->'credit'->>'kind'),
    (coalesce(value->'credit'->>'name', '')), id);
-- An organisation's jobs: those it opened, and the campaigns naming it as the association.
CREATE INDEX jobs_owner ON jobs ((value->>'owner'), id);
CREATE INDEX jobs_association ON jobs ((value->'kind'->>'association'), id);
-- An account's tokens (every sign-in adds one), newest first.
CREATE INDEX tokens_account_id ON tokens (account, id);
