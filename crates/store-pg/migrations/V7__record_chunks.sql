-- Records' values in chunks: a scan reads one row per chunk of records (a few dozen, about
-- 7 KiB) instead of one row per record, since PostgreSQL's cost of a scan is per row read.
-- `records` keeps one row per record, its key only, for what a key decides (a duplicate, a
-- record's chunk); the values are in `record_chunks`.
--
-- A chunk holds records of one person's collection in (time, id) order, as the concatenation,
-- per record, of its time and stored id (int8send: 8 bytes each, big-endian), the length of
-- its value (int4send) and the value (the store's codec). Chunks of one collection may
-- overlap in (time, id): a scan merges them. A chunk is written once, never changed; erasure
-- deletes it with the person's records.
CREATE SEQUENCE record_chunk_ids;
CREATE TABLE record_chunks (
    person bigint NOT NULL,
    collection integer NOT NULL,
    chunk bigint NOT NULL,
    first_time bigint NOT NULL,
    first_id bigint NOT NULL,
    last_time bigint NOT NULL,
    last_id bigint NOT NULL,
    n integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (person, collection, chunk)
) WITH (toast_tuple_target = 8160);
-- Chunks are made small enough to stay in their row, uncompressed (toast_tuple_target above).
ALTER TABLE record_chunks ALTER COLUMN data SET STORAGE MAIN;
CREATE INDEX record_chunks_order ON record_chunks (person, collection, first_time, first_id);

-- The records already stored, in chunks of 48 in (time, id) order.
ALTER TABLE records ADD COLUMN chunk bigint;
CREATE TEMP TABLE chunk_of ON COMMIT DROP AS
    SELECT person, collection, time, id,
           (row_number() OVER (PARTITION BY person, collection ORDER BY time, id) - 1) / 48 AS n
    FROM records;
CREATE TEMP TABLE chunk_ids ON COMMIT DROP AS
    SELECT person, collection, n, nextval('record_chunk_ids') AS chunk
    FROM (SELECT DISTINCT person, collection, n FROM chunk_of) g;
INSERT INTO record_chunks (person, collection, chunk, first_time, first_id, last_time, last_id, n, data)
    SELECT r.person, r.collection, i.chunk,
           (min(ARRAY[r.time, r.id]))[1], (min(ARRAY[r.time, r.id]))[2],
           (max(ARRAY[r.time, r.id]))[1], (max(ARRAY[r.time, r.id]))[2],
           count(*),
           string_agg(int8send(r.time) || int8send(r.id) || int4send(length(r.value)) || r.value,
                      ''::bytea ORDER BY r.time, r.id)
    FROM records r
    JOIN chunk_of o USING (person, collection, time, id)
    JOIN chunk_ids i USING (person, collection, n)
    GROUP BY r.person, r.collection, i.chunk;
UPDATE records r SET chunk = i.chunk
    FROM chunk_of o JOIN chunk_ids i USING (person, collection, n)
    WHERE r.person = o.person AND r.collection = o.collection AND r.time = o.time AND r.id = o.id;
ALTER TABLE records ALTER COLUMN chunk SET NOT NULL;
ALTER TABLE records DROP COLUMN value;
