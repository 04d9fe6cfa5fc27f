-- Co-design: proposals, members' contributions and votes, released tallies, and pledges held
-- in escrow. Cross-person tables, like the jobs': a proposal gathers many members. A
-- member's rows are indexed on the person (their pledges page, erasure).
CREATE TABLE proposals (id bigint PRIMARY KEY, organisation text NOT NULL, value json NOT NULL);
CREATE TABLE contributions (proposal bigint NOT NULL, id bigint NOT NULL,
    person bigint NOT NULL, value json NOT NULL, PRIMARY KEY (proposal, id));
CREATE INDEX contributions_person ON contributions (person, id);
CREATE TABLE votes (ballot text NOT NULL, person bigint NOT NULL, value json NOT NULL,
    PRIMARY KEY (ballot, person));
CREATE INDEX votes_person ON votes (person);
CREATE TABLE tallies (ballot text PRIMARY KEY, value json NOT NULL);
CREATE TABLE pledges (proposal bigint NOT NULL, id bigint NOT NULL, person bigint NOT NULL,
    value json NOT NULL, PRIMARY KEY (proposal, id));
CREATE UNIQUE INDEX pledges_id ON pledges (id);
CREATE INDEX pledges_person ON pledges (person, id);
