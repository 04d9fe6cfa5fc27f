-- Insitu's store in PostgreSQL: the tables of the redb backend, with the person as the leading
-- key of every personal table (a distributed PostgreSQL such as Citus shards them by person
-- unchanged). Cross-person tables are the job and ledger tables; the rest are global settings.
-- Domain values are `json` (serde's text, kept byte for byte as redb keeps it); record values
-- are `bytea` in the store's codec. Unsigned ids are stored in `bigint` (every id comes from
-- `counters` and stays far below 2^63); a record id is any u64, stored with its top bit
-- flipped so that `bigint` order is the u64 order redb scans in.

-- Ids: one counter per kind, as redb's (1, 2, 3, ...; a rolled-back transaction takes none).
CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL);
-- The store's secrets (the pseudonym key), drawn by the first node that connects.
CREATE TABLE secrets (name text PRIMARY KEY, value bytea NOT NULL);
-- Operator settings (policy, tariff), by name.
CREATE TABLE settings (name text PRIMARY KEY, value json NOT NULL);

-- The audit log: one hash chain. Appends lock the chain's head row first, so two writers (or
-- two nodes) extend it one after the other and never fork it.
CREATE TABLE audit_head (chain text PRIMARY KEY);
INSERT INTO audit_head VALUES ('global');
CREATE TABLE audit (seq bigint PRIMARY KEY, entry json NOT NULL);

-- Personal tables: the person first.
CREATE TABLE people (person bigint PRIMARY KEY, value json NOT NULL);
CREATE TABLE collections (name text PRIMARY KEY, id integer NOT NULL UNIQUE, value json NOT NULL);
CREATE TABLE records (
    person bigint NOT NULL,
    collection integer NOT NULL,
    time bigint NOT NULL,
    id bigint NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (person, collection, time, id)
);
CREATE TABLE sources (person bigint NOT NULL, digest text NOT NULL, name text NOT NULL,
    PRIMARY KEY (person, digest));
CREATE TABLE requests (person bigint NOT NULL, id bigint NOT NULL, value json NOT NULL,
    PRIMARY KEY (person, id));
CREATE INDEX requests_id ON requests (id);
CREATE TABLE grants (person bigint NOT NULL, id bigint NOT NULL, value json NOT NULL,
    PRIMARY KEY (person, id));
CREATE INDEX grants_id ON grants (id);
CREATE TABLE receptions (person bigint NOT NULL, id bigint NOT NULL, value json NOT NULL,
    PRIMARY KEY (person, id));
CREATE INDEX receptions_id ON receptions (id);
CREATE TABLE runs (person bigint NOT NULL, id bigint NOT NULL, started_ms bigint NOT NULL,
    running boolean NOT NULL, value json NOT NULL, PRIMARY KEY (person, id));
CREATE INDEX runs_id ON runs (id);
CREATE INDEX runs_started ON runs (started_ms, id);
CREATE TABLE memberships (person bigint NOT NULL, job bigint NOT NULL, value json NOT NULL,
    PRIMARY KEY (person, job));
CREATE INDEX memberships_job ON memberships (job, person);
CREATE TABLE budgets (person bigint NOT NULL, period text NOT NULL, spent bigint NOT NULL,
    PRIMARY KEY (person, period));
CREATE TABLE reservations (person bigint NOT NULL, job bigint NOT NULL, micro bigint NOT NULL,
    PRIMARY KEY (person, job));
CREATE TABLE offers (person bigint NOT NULL, id bigint NOT NULL, value json NOT NULL,
    PRIMARY KEY (person, id));
CREATE INDEX offers_id ON offers (id);
-- A contact joins two people: keyed by the seeker, found by the mentor too.
CREATE TABLE contacts (person bigint NOT NULL, id bigint NOT NULL, mentor bigint NOT NULL,
    value json NOT NULL, PRIMARY KEY (person, id));
CREATE INDEX contacts_id ON contacts (id);
CREATE INDEX contacts_mentor ON contacts (mentor);

-- Global tables.
CREATE TABLE plugins (digest text PRIMARY KEY, value json NOT NULL);
CREATE TABLE publishers (name text PRIMARY KEY, value json NOT NULL);
CREATE TABLE compiled (key text PRIMARY KEY, hash text NOT NULL);
CREATE TABLE accounts (id bigint PRIMARY KEY, person bigint, value json NOT NULL);
CREATE INDEX accounts_person ON accounts (person);
-- Accounts by name key (`account::name::key`); the exact-name fallback of redb's old stores
-- has no counterpart here: every account is written with its key.
CREATE TABLE account_names (name text PRIMARY KEY, account bigint NOT NULL);
CREATE INDEX account_names_account ON account_names (account);
-- A hash finds its newest token (redb's hash index points at the last token written with it).
CREATE TABLE tokens (id bigint PRIMARY KEY, account bigint NOT NULL, hash text NOT NULL,
    value json NOT NULL);
CREATE INDEX tokens_account ON tokens (account);
CREATE INDEX tokens_hash ON tokens (hash, id);
CREATE TABLE licences (id bigint PRIMARY KEY, value json NOT NULL);

-- Cross-person tables: jobs and the ledger.
CREATE TABLE jobs (id bigint PRIMARY KEY, value json NOT NULL);
CREATE TABLE billing (id bigint PRIMARY KEY, job bigint NOT NULL, value json NOT NULL);
CREATE INDEX billing_job ON billing (job, id);
CREATE TABLE ledger_keys (key text PRIMARY KEY);
CREATE TABLE ledger (id bigint PRIMARY KEY, key text NOT NULL REFERENCES ledger_keys (key),
    value json NOT NULL);
CREATE INDEX ledger_key ON ledger (key, id);
