-- The aggregates' fold remembers the snapshot it folded at (which transactions
-- had ended), not only the oldest one still running: a long transaction
-- anywhere on the server (a COPY into another database) no longer holds every
-- database's dashboard back (see tracker/storage/postgres/aggregates.py).
-- Folded up to xid f becomes the snapshot "f:f:" (every xid below f ended);
-- xids start at 3, so a fresh '0' becomes "1:1:".
ALTER TABLE aggregate_state ALTER COLUMN folded TYPE pg_snapshot
    USING (greatest(folded, '1')::text || ':' || greatest(folded, '1')::text || ':')
        ::pg_snapshot;
