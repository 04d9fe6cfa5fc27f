-- Installed components by digest (the hex SHA-256 of their bytes): every node reads a plugin's
-- component from here and keeps only its compiled code on its own disk.
CREATE TABLE components (digest text PRIMARY KEY, bytes bytea NOT NULL);

-- Jobs' work queues: a member's run waits here until a node claims it (until `lease_until`,
-- by the store's clock, in milliseconds); it leaves when the member's result is recorded.
-- A cross-person table, like jobs: Citus keeps it on the coordinator or distributes it by job.
CREATE TABLE job_queues (job bigint PRIMARY KEY, tasks bigint NOT NULL);
CREATE TABLE job_tasks (job bigint NOT NULL, run bigint NOT NULL, person bigint NOT NULL,
    grant_id bigint NOT NULL, node text NOT NULL DEFAULT '', lease_until bigint NOT NULL DEFAULT 0,
    attempt integer NOT NULL DEFAULT 0, PRIMARY KEY (job, run));
