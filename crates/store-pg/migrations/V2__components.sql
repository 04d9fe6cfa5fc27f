-- Installed components by digest (the hex SHA-256 of their bytes): every node reads a plugin's
-- component from here and keeps only its compiled code on its own disk.
CREATE TABLE components (digest text PRIMARY KEY, bytes bytea NOT NULL);
