-- What is read often without an owner: the runs and jobs every node polls, the campaigns of
-- the last days (the gap between campaigns), and a plugin's grants (a job's targets). Indexes on
-- expressions of the `json` values as in V4 (or on a column V1 keeps), so no row is rewritten
-- and every existing row is indexed when the index is built.
-- The running jobs (`Store::running_jobs`): a partial index, which a job leaves when its
-- status is updated to anything else.
CREATE INDEX jobs_running ON jobs (id) WHERE (value->'status'->>'state') = 'running';
-- Jobs by creation time (`Store::jobs_since`).
CREATE INDEX jobs_created ON jobs (((value->>'created_ms')::bigint), id);
-- A plugin's grants not revoked (`Store::unrevoked_grants`), which a grant leaves when it is
-- revoked (or its person erased).
CREATE INDEX grants_plugin_unrevoked ON grants ((value->>'plugin_digest'), id)
    WHERE (value->>'revoked_ms') IS NULL;
-- The runs stored as running (`Store::running_runs`): the sweep for the runs of a dead node.
-- A run leaves the index when it is finished (its row is written again with `running` false).
CREATE INDEX runs_running ON runs (id) WHERE running;
