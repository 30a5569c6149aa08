-- What `polku audiences` reads of each contact (tracker.journey.members.READS:
-- what the lists' rules and files use), kept beside it as a small document.
-- Taking those fields out of a million whole documents cost the database
-- about 20 s each run (`json` is parsed again at every read); here each is
-- parsed once per save. Kept by a trigger, as contact_visitors, so every
-- write keeps it; filled here for the contacts saved before.
CREATE TABLE contact_fields (
    seq bigint PRIMARY KEY, -- the contact's first-saved order
    id text NOT NULL,
    doc json NOT NULL
);

CREATE FUNCTION polku_list_fields(doc json) RETURNS json
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'email', x.email, 'first_name', x.first_name, 'last_name', x.last_name,
        'phone', x.phone, 'city', x.city, 'state', x.state, 'zip', x.zip,
        'country', x.country, 'consent', x.consent, 'erased', x.erased,
        'suppressed', x.suppressed, 'status', x.status, 'feedback', x.feedback,
        'lead_at', x.lead_at, 'customer_at', x.customer_at,
        'advocate_at', x.advocate_at, 'created', x.created)
    FROM json_to_record(doc) AS x(
        email json, first_name json, last_name json, phone json, city json,
        state json, zip json, country json, consent json, erased json,
        suppressed json, status json, feedback json, lead_at json,
        customer_at json, advocate_at json, created json)
$$;

CREATE FUNCTION polku_keep_fields() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM contact_fields WHERE seq = OLD.seq;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO contact_fields (seq, id, doc)
            VALUES (NEW.seq, NEW.id, polku_list_fields(NEW.doc));
    END IF;
    RETURN NULL;
END
$$;

-- Only a write of the document moves either copy: filling a contact's facts
-- (a million rows at an upgrade) leaves them be.
CREATE TRIGGER contacts_keep_fields
    AFTER INSERT OR UPDATE OF id, seq, doc OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION polku_keep_fields();
DROP TRIGGER contacts_keep_visitors ON contacts;
CREATE TRIGGER contacts_keep_visitors
    AFTER INSERT OR UPDATE OF id, seq, doc OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION polku_keep_visitors();

INSERT INTO contact_fields (seq, id, doc)
    SELECT seq, id, polku_list_fields(doc) FROM contacts;
ANALYZE contact_fields;
