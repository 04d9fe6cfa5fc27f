-- Per-person audit chains. Each person's entries form their own hash chain, and entries about
-- no person the operator's (kind 1, person 0; a person's chain is kind 2). The single chain of
-- V1 (`audit`) stays as the frozen legacy chain; every new chain starts from its last hash.
-- An append locks only its chain's head row, so appends for different people never wait for
-- each other; a transaction that appends to several chains locks their heads in key order
-- (kind, person), so two nodes cannot deadlock. The person leads both keys (Citus).
CREATE TABLE audit_chain_heads (
    person bigint NOT NULL,
    kind smallint NOT NULL,
    seq bigint NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (person, kind)
);
CREATE TABLE audit_entries (
    person bigint NOT NULL,
    kind smallint NOT NULL,
    seq bigint NOT NULL,
    entry json NOT NULL,
    PRIMARY KEY (person, kind, seq)
);
-- Checkpoints: operator-wide, signed Merkle roots over every chain's head.
CREATE TABLE audit_checkpoints (number bigint PRIMARY KEY, value json NOT NULL);
