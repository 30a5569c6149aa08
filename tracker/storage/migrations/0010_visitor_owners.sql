-- A browser's owner (the contact who last proved a visitor id theirs) is a key
-- like a ref_code, so GET /api/next finds it by one index look-up instead of
-- reading every contact: the saves write it from now on; here, those before
-- (a visitor id two contacts hold goes to the newer).
INSERT INTO contact_keys (field, value, contact)
    SELECT DISTINCT ON (v) 'visitor', v, c.id
    FROM contacts c, json_array_elements_text(c.doc -> 'visitors') v
    ORDER BY v, c.seq DESC
    ON CONFLICT (field, value) DO UPDATE SET contact = excluded.contact;
