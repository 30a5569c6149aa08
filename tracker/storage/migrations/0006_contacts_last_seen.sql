-- The contact list pages by when a person was last seen (their last decision's
-- ts, else when they were created), newest first, without reading everyone:
-- a column kept by triggers, so every path that saves (a transaction, the
-- TinyDB copy) keeps it, and an index to page through it.
ALTER TABLE contacts ADD COLUMN last_seen text COLLATE "C";

UPDATE contacts c SET last_seen = coalesce(
    (SELECT d.doc ->> 'ts' FROM decisions d WHERE d.contact = c.id
     ORDER BY d.seq DESC LIMIT 1),
    c.doc ->> 'created');

CREATE INDEX contacts_last_seen ON contacts (last_seen DESC, seq);

CREATE FUNCTION contacts_seen_at_insert() RETURNS trigger AS $$
BEGIN
    NEW.last_seen := coalesce(
        (SELECT d.doc ->> 'ts' FROM decisions d WHERE d.contact = NEW.id
         ORDER BY d.seq DESC LIMIT 1),
        NEW.doc ->> 'created');
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_seen BEFORE INSERT ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_seen_at_insert();

CREATE FUNCTION contacts_seen_by_decisions() RETURNS trigger AS $$
BEGIN
    UPDATE contacts c SET last_seen = n.ts
    FROM (SELECT DISTINCT ON (contact) contact, doc ->> 'ts' AS ts
          FROM new_decisions ORDER BY contact, seq DESC) n
    WHERE c.id = n.contact;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER decisions_seen AFTER INSERT ON decisions
    REFERENCING NEW TABLE AS new_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_seen_by_decisions();
