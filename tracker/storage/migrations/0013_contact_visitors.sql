-- Every visitor id each contact holds, with the contact's first-saved order,
-- so that the observations of people (`polku audiences`, the digest's
-- interests) join the events to their owners (the first contact saved that
-- holds the browser) without parsing every contact's JSON: that took 14 s of
-- a million contacts' 145 s. Kept by a trigger, so every write keeps it
-- (a save, the copy from TinyDB, an erasure) and no writer can forget it;
-- filled here for the contacts saved before.
CREATE TABLE contact_visitors (
    visitor text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    contact text NOT NULL,
    PRIMARY KEY (visitor, seq)
);
CREATE INDEX contact_visitors_contact ON contact_visitors (contact);

-- A contact's visitor ids as the reads had them: a "visitors" that is not an
-- array holds none.
CREATE FUNCTION polku_visitors(doc json) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT v FROM json_array_elements_text(
        CASE WHEN json_typeof(doc -> 'visitors') = 'array' THEN doc -> 'visitors' END
    ) AS v
$$;

CREATE FUNCTION polku_keep_visitors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq = OLD.seq
            AND (NEW.doc -> 'visitors')::text IS NOT DISTINCT FROM
                (OLD.doc -> 'visitors')::text THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM contact_visitors WHERE contact = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO contact_visitors (visitor, seq, contact)
            SELECT v, NEW.seq, NEW.id FROM polku_visitors(NEW.doc) AS v;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER contacts_keep_visitors
    AFTER INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION polku_keep_visitors();

-- Each visitor id once, with its owner: the first contact saved holding it.
-- A function, so the planner takes it as a few rows (ROWS 100) and hashes it
-- to probe the events: it would rather hash every event, gigabytes at 10M.
CREATE FUNCTION polku_visitor_owners() RETURNS TABLE (visitor text, contact text)
    LANGUAGE plpgsql STABLE ROWS 100 AS $$
BEGIN
    RETURN QUERY SELECT DISTINCT ON (cv.visitor) cv.visitor::text, cv.contact
        FROM contact_visitors cv ORDER BY cv.visitor, cv.seq;
END
$$;

INSERT INTO contact_visitors (visitor, seq, contact)
    SELECT v, c.seq, c.id FROM contacts c, polku_visitors(c.doc) AS v;
ANALYZE contact_visitors;
