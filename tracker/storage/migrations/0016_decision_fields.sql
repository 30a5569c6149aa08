-- What `polku audiences` reads of each decision besides its contact and ts
-- (tracker.journey.members.DECISION_READS: type, guide, score), kept beside
-- it: taking them out of 2.2M documents at every run cost the database 5 s at
-- 1M contacts, while the observations were read. The type is text when it is
-- a string (as the reads give it), else JSON. Kept by a trigger, as
-- contact_fields; filled here for the decisions before.
CREATE TABLE decision_fields (
    seq bigint PRIMARY KEY, -- the decision's
    contact text NOT NULL,
    ts text COLLATE "C" NOT NULL,
    type text,
    type_json json,
    guide json,
    score json
);

CREATE FUNCTION polku_keep_decision_fields() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM decision_fields WHERE seq = OLD.seq;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO decision_fields
            SELECT NEW.seq, NEW.contact, NEW.ts,
                CASE WHEN json_typeof(x.type) = 'string' THEN x.type #>> '{}' END,
                CASE WHEN json_typeof(x.type) <> 'string' THEN x.type END,
                x.guide, x.score
            FROM json_to_record(NEW.doc) AS x(type json, guide json, score json);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER decisions_keep_fields
    AFTER INSERT OR UPDATE OF seq, contact, ts, doc OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION polku_keep_decision_fields();

INSERT INTO decision_fields
    SELECT d.seq, d.contact, d.ts,
        CASE WHEN json_typeof(x.type) = 'string' THEN x.type #>> '{}' END,
        CASE WHEN json_typeof(x.type) <> 'string' THEN x.type END,
        x.guide, x.score
    FROM decisions d, json_to_record(d.doc) AS x(type json, guide json, score json);
ANALYZE decision_fields;
