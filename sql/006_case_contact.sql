-- 006: personal data apart from the case history (issue 5; ARCHITECTURE.md,
-- "Two kinds of record").
--
-- Two stores that a ticket links:
--   contact, ticket_contact   the citizen's contact details (correspondence:
--                             personal data, read only through the audited
--                             functions below)
--   case_record               the case history (応対履歴): what the centre did,
--                             with no field that identifies the citizen; what
--                             ward staff read and what reports count
--
-- The contact store has its own grants.  ticketd has no privilege on contact
-- or ticket_contact at all: it reads and writes them only by calling the
-- SECURITY DEFINER functions contact_read, contact_save and contact_search,
-- each of which writes its contact_access row in the same statement as the
-- read or write.  So no code path of ticketd, buggy or not, can read a
-- contact without leaving the audit row, and ticketd cannot touch the log
-- afterwards: it may only SELECT contact_access (for the supervisors' log
-- page), never INSERT, UPDATE or DELETE it directly.
--
-- Ward viewers read contacts only with a grant: a row in contact_grant
-- (a table rather than a flag on app_user because a grant is itself a fact to
-- audit: who gave it, why, and until when; it can expire on its own; and
-- revoking it is deleting one row without touching the user).  Grants are
-- given by the schema owner (madoguchi-admin or SQL); ticketd only reads them.

CREATE TABLE contact (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL DEFAULT '',
    name_kana    text NOT NULL DEFAULT '',
    postal_code  text NOT NULL DEFAULT '',
    address      text NOT NULL DEFAULT '',
    phone        text NOT NULL DEFAULT '',
    fax          text NOT NULL DEFAULT '',
    email        text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,             -- staff login
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL
);

-- Which contact a ticket is about; one per role and ticket ('citizen': the
-- person who wrote or called; 'proxy': someone acting for them).
CREATE TABLE ticket_contact (
    ticket_id   bigint NOT NULL REFERENCES ticket (id),
    contact_id  bigint NOT NULL REFERENCES contact (id),
    role        text NOT NULL DEFAULT 'citizen' CHECK (role IN ('citizen', 'proxy')),
    linked_at   timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, role)
);
CREATE INDEX ticket_contact_contact ON ticket_contact (contact_id);

CREATE TABLE contact_grant (
    user_id     int PRIMARY KEY REFERENCES app_user (id),
    granted_by  text NOT NULL,
    granted_at  timestamptz NOT NULL,
    expires_at  timestamptz,                 -- NULL: until revoked
    reason      text NOT NULL CHECK (reason <> '')
);

-- The audit log of the contact store: one row per read, search, creation or
-- change, written by the functions below.  contact_id has no foreign key so
-- that the log outlives a purged contact.  A search records the ids it
-- returned, not what was searched for (the query is itself personal data).
CREATE TABLE contact_access (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL,
    user_id      int,
    login        text NOT NULL,
    role         text NOT NULL,
    action       text NOT NULL CHECK (action IN ('read', 'create', 'update', 'search')),
    contact_id   bigint,                     -- read (NULL: the ticket had none), create, update
    ticket_id    bigint,
    contact_ids  bigint[] NOT NULL DEFAULT '{}',   -- search: every id returned
    reason       text NOT NULL CHECK (reason <> ''),
    remote_addr  text NOT NULL DEFAULT ''
);
CREATE INDEX contact_access_contact ON contact_access (contact_id, id);

-- 応対履歴: one per ticket.  Times and channel are copied from the ticket when
-- the record is saved, so purging the correspondence leaves it whole.  The
-- free-text fields are checked by ticketd (lib/piidetect) for phone numbers,
-- mail addresses, postal codes and addresses before they are stored.
-- recorded_by/updated_by are staff logins, never the citizen.
CREATE TABLE case_record (
    ticket_id          bigint PRIMARY KEY REFERENCES ticket (id),
    channel            text NOT NULL CHECK (channel IN ('mail', 'fax', 'call', 'form')),
    received_at        timestamptz NOT NULL,
    first_response_at  timestamptz,
    resolved_at        timestamptz,
    category           text,
    inquiry_summary    text NOT NULL DEFAULT '',
    answer_summary     text NOT NULL DEFAULT '',
    resolution         text REFERENCES resolution_type (code),
    escalated_to       text,                 -- the department (所管課), for escalation
    recorded_by        text NOT NULL,
    recorded_at        timestamptz NOT NULL,
    updated_by         text NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX case_record_received ON case_record (received_at DESC, ticket_id DESC);

-- The caller as the log names it.  Viewers need a live grant; only
-- operators and supervisors write.  The user id comes from ticketd, which
-- authenticated the session; the role is looked up here, not taken on trust.
CREATE FUNCTION contact_caller(p_user int, p_write boolean, p_at timestamptz) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r text;
BEGIN
    SELECT u.role INTO r FROM app_user u WHERE u.id = p_user AND NOT u.disabled;
    IF r IS NULL
       OR (p_write AND r NOT IN ('operator', 'supervisor'))
       OR (r = 'viewer' AND NOT EXISTS (SELECT 1 FROM contact_grant g WHERE g.user_id = p_user
                                         AND (g.expires_at IS NULL OR g.expires_at > p_at))) THEN
        RAISE EXCEPTION 'user % may not use the contact store', p_user USING ERRCODE = '42501';
    END IF;
    RETURN r;
END $$;

CREATE FUNCTION contact_reason(p_reason text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, public AS $$
BEGIN
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a reason is required' USING ERRCODE = '22023';
    END IF;
    RETURN btrim(p_reason);
END $$;

-- The citizen contact of a ticket (no row when there is none), and its
-- 'read' row in contact_access.
CREATE FUNCTION contact_read(p_ticket bigint, p_user int, p_login text, p_reason text,
                             p_remote text, p_at timestamptz)
RETURNS SETOF contact
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r text := contact_caller(p_user, false, p_at);
        cid bigint;
BEGIN
    SELECT tc.contact_id INTO cid FROM ticket_contact tc
     WHERE tc.ticket_id = p_ticket AND tc.role = 'citizen';
    INSERT INTO contact_access (at, user_id, login, role, action, contact_id, ticket_id, reason,
                                remote_addr)
    VALUES (p_at, p_user, p_login, r, 'read', cid, p_ticket, contact_reason(p_reason),
            coalesce(p_remote, ''));
    RETURN QUERY SELECT * FROM contact c WHERE c.id = cid;
END $$;

-- Create or change the citizen contact of a ticket.  p_contact: an existing
-- contact to link (found by contact_search) or NULL for the ticket's own
-- (created when it has none).  Returns the contact id and 'create' or 'update'.
CREATE FUNCTION contact_save(p_ticket bigint, p_contact bigint, p_name text, p_name_kana text,
                             p_postal_code text, p_address text, p_phone text, p_fax text,
                             p_email text, p_note text, p_user int, p_login text, p_reason text,
                             p_remote text, p_at timestamptz)
RETURNS TABLE (contact_id bigint, action text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r text := contact_caller(p_user, true, p_at);
        cid bigint := p_contact;
        act text := 'update';
BEGIN
    IF cid IS NULL THEN
        SELECT tc.contact_id INTO cid FROM ticket_contact tc
         WHERE tc.ticket_id = p_ticket AND tc.role = 'citizen';
    END IF;
    IF cid IS NULL THEN
        INSERT INTO contact (name, name_kana, postal_code, address, phone, fax, email, note,
                             created_at, created_by, updated_at, updated_by)
        VALUES (p_name, p_name_kana, p_postal_code, p_address, p_phone, p_fax, p_email, p_note,
                p_at, p_login, p_at, p_login)
        RETURNING id INTO cid;
        act := 'create';
    ELSE
        UPDATE contact SET name = p_name, name_kana = p_name_kana, postal_code = p_postal_code,
               address = p_address, phone = p_phone, fax = p_fax, email = p_email, note = p_note,
               updated_at = p_at, updated_by = p_login
         WHERE id = cid;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no contact %', cid USING ERRCODE = 'P0002';
        END IF;
    END IF;
    INSERT INTO ticket_contact AS l (ticket_id, contact_id, role, linked_at)
    VALUES (p_ticket, cid, 'citizen', p_at)
    ON CONFLICT ON CONSTRAINT ticket_contact_pkey
    DO UPDATE SET contact_id = EXCLUDED.contact_id, linked_at = EXCLUDED.linked_at;
    INSERT INTO contact_access (at, user_id, login, role, action, contact_id, ticket_id, reason,
                                remote_addr)
    VALUES (p_at, p_user, p_login, r, act, cid, p_ticket,
            coalesce(nullif(btrim(coalesce(p_reason, '')), ''), 'record'), coalesce(p_remote, ''));
    contact_id := cid;
    action := act;
    RETURN NEXT;
END $$;

-- Contacts whose name, kana or mail address holds p_q (NFKC, any case,
-- spaces ignored in names), or
-- whose phone or fax digits hold the digits of p_q (when it has 4 or more), at most
-- p_limit, newest change first; one 'search' row lists the ids returned.
CREATE FUNCTION contact_search(p_q text, p_limit int, p_user int, p_login text,
                               p_reason text, p_remote text, p_at timestamptz)
RETURNS TABLE (id bigint, name text, name_kana text, postal_code text, address text,
               phone text, fax text, email text, updated_at timestamptz, tickets bigint[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r text := contact_caller(p_user, false, p_at);
        why text := contact_reason(p_reason);
        pat text := '%' || replace(replace(replace(replace(lower(normalize(coalesce(p_q, ''), NFKC)),
                                   ' ', ''), '\', '\\'), '%', '\%'), '_', '\_') || '%';
        digits text := regexp_replace(normalize(coalesce(p_q, ''), NFKC), '[^0-9]', '', 'g');
        dpat text := CASE WHEN length(digits) >= 4 THEN '%' || digits || '%' END;
BEGIN
    IF length(coalesce(p_q, '')) < 2 THEN
        RAISE EXCEPTION 'search for 2 characters or more' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH hits AS (
        SELECT c.id, c.name, c.name_kana, c.postal_code, c.address, c.phone, c.fax, c.email,
               c.updated_at,
               ARRAY(SELECT tc.ticket_id FROM ticket_contact tc WHERE tc.contact_id = c.id
                     ORDER BY tc.ticket_id) AS tickets
          FROM contact c
         WHERE replace(lower(normalize(c.name, NFKC)), ' ', '') LIKE pat
            OR replace(lower(normalize(c.name_kana, NFKC)), ' ', '') LIKE pat
            OR lower(normalize(c.email, NFKC)) LIKE pat
            OR regexp_replace(normalize(c.phone, NFKC), '[^0-9]', '', 'g') LIKE dpat
            OR regexp_replace(normalize(c.fax, NFKC), '[^0-9]', '', 'g') LIKE dpat
         ORDER BY c.updated_at DESC, c.id DESC
         LIMIT greatest(1, least(p_limit, 50))
    ), logged AS (
        INSERT INTO contact_access (at, user_id, login, role, action, contact_ids, reason,
                                    remote_addr)
        SELECT p_at, p_user, p_login, r, 'search',
               coalesce((SELECT array_agg(h.id ORDER BY h.id) FROM hits h), '{}'), why,
               coalesce(p_remote, '')
        RETURNING 1
    )
    SELECT h.* FROM hits h ORDER BY h.updated_at DESC, h.id DESC;
END $$;

REVOKE ALL ON FUNCTION contact_caller(int, boolean, timestamptz), contact_reason(text),
    contact_read(bigint, int, text, text, text, timestamptz),
    contact_save(bigint, bigint, text, text, text, text, text, text, text, text, int, text, text,
                 text, timestamptz),
    contact_search(text, int, int, text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION contact_read(bigint, int, text, text, text, timestamptz),
    contact_save(bigint, bigint, text, text, text, text, text, text, text, text, int, text, text,
                 text, timestamptz),
    contact_search(text, int, int, text, text, text, timestamptz) TO madoguchi_ticketd;

GRANT SELECT ON contact_access, contact_grant TO madoguchi_ticketd;
GRANT SELECT, INSERT, UPDATE ON case_record TO madoguchi_ticketd;
