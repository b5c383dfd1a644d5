-- 027: phone calls as tickets through a CTI hook (issue 9).
--
-- A PBX tells ticketd about its calls: Zammad's generic CTI webhook, our own
-- JSON events, or ticketd's AMI client for Asterisk.  Each event is stored as
-- received (call_event, the raw input of ARCHITECTURE.md's bus rules) in the
-- same transaction as what it changes in the call row, so replaying the
-- events rebuilds the calls, and a repeated event (same idem_key) is
-- accepted once and ignored after.
--
-- call is correspondence: the calling and called numbers are contact
-- details, purged with the ticket's correspondence.  The case history never
-- holds them: an answered call's ticket gets a subject without the number,
-- and the number goes to the contact store through cti_contact_link(), which
-- writes its contact_access row like sql/006's functions.
--
-- States of a call: ringing (offered, not answered), talking, hold, acw
-- (hung up, the operator's case record not yet saved), done, abandoned (the
-- caller hung up before anyone answered), missed (an outbound call nobody
-- took), orphan (a hangup for a call we never heard of: kept for the audit).

CREATE TABLE call_pbx (
    name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    secret      text NOT NULL CHECK (length(secret) >= 16),   -- shared with the PBX
    enabled     boolean NOT NULL DEFAULT true,
    note        text NOT NULL DEFAULT ''
);

CREATE TABLE call (
    id              bigserial PRIMARY KEY,
    pbx             text NOT NULL REFERENCES call_pbx (name),
    call_id         text NOT NULL CHECK (length(call_id) BETWEEN 1 AND 250),
    direction       text NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out')),
    from_number     text NOT NULL DEFAULT '',    -- contact detail
    to_number       text NOT NULL DEFAULT '',    -- contact detail on outbound calls
    dnis            text NOT NULL DEFAULT '',    -- the number dialled (代表 or a dedicated line)
    ivr_choice      text NOT NULL DEFAULT '',
    queue           text NOT NULL DEFAULT '',
    extension       text NOT NULL DEFAULT '',    -- the answering extension
    user_id         int REFERENCES app_user (id),
    offered_at      timestamptz,
    answered_at     timestamptz,
    ended_at        timestamptz,
    acw_end_at      timestamptz,
    hold_started_at timestamptz,
    hold_seconds    double precision NOT NULL DEFAULT 0,
    state           text NOT NULL DEFAULT 'ringing'
                    CHECK (state IN ('ringing', 'talking', 'hold', 'acw', 'done', 'abandoned',
                                     'missed', 'orphan')),
    cause           text NOT NULL DEFAULT '',
    transfers       int NOT NULL DEFAULT 0,
    transferred_to  text NOT NULL DEFAULT '',    -- the last target (department extension or number)
    recording_ref   text NOT NULL DEFAULT '',
    ticket_id       bigint REFERENCES ticket (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (pbx, call_id)
);
CREATE INDEX call_offered ON call (offered_at) WHERE direction = 'in';
CREATE INDEX call_user_busy ON call (user_id) WHERE state IN ('talking', 'hold', 'acw');
CREATE INDEX call_ticket ON call (ticket_id) WHERE ticket_id IS NOT NULL;

-- Every event as received (form fields or JSON as a JSON object), before
-- anything is derived from it.  idem_key: the event's kind and, for kinds
-- that can repeat within a call (hold, transfer), its own id or time.
CREATE TABLE call_event (
    id          bigserial PRIMARY KEY,
    pbx         text NOT NULL,
    call_id     text NOT NULL,
    idem_key    text NOT NULL,
    kind        text NOT NULL,
    source      text NOT NULL CHECK (source IN ('zammad', 'json', 'ami')),
    raw         jsonb NOT NULL,
    received_at timestamptz NOT NULL,
    UNIQUE (pbx, call_id, idem_key)
);

-- Operator <-> extension, edited by admins.  interface: the AMI queue
-- member (PJSIP/1001) paused for after-call work.
CREATE TABLE call_extension (
    id          serial PRIMARY KEY,
    pbx         text NOT NULL REFERENCES call_pbx (name),
    extension   text NOT NULL CHECK (extension ~ '^[0-9A-Za-z*#+_.-]{1,32}$'),
    user_id     int NOT NULL REFERENCES app_user (id),
    interface   text NOT NULL DEFAULT '',
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (pbx, extension)
);

-- IVR menu choice -> queue and category of the call's ticket, and the
-- words the screen pop shows.
CREATE TABLE call_ivr (
    pbx         text NOT NULL REFERENCES call_pbx (name),
    choice      text NOT NULL,
    label       text NOT NULL,
    queue       text,
    category    text,
    PRIMARY KEY (pbx, choice)
);

-- 折り返し: a callback promised on a ticket, with its own due time and
-- outcome.  The number to call is the ticket's contact, not stored here.
CREATE TABLE call_callback (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES ticket (id),
    call_row    bigint REFERENCES call (id),
    due_at      timestamptz NOT NULL,
    note        text NOT NULL DEFAULT '',
    outcome     text CHECK (outcome IN ('reached', 'no_answer', 'wrong_number', 'cancelled')),
    done_at     timestamptz,
    done_by     text,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX call_callback_open ON call_callback (due_at) WHERE done_at IS NULL;
CREATE INDEX call_callback_ticket ON call_callback (ticket_id, id);

-- After-call work ends when the operator saves the case record (応対履歴)
-- of the call's ticket after the hang-up (seed requirement 2.1.4).  A
-- trigger, so that every path that saves a case record ends it, and in the
-- save's transaction.  NOTIFY cti_acw tells the AMI client to unpause.
CREATE FUNCTION call_case_saved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN UPDATE call SET state = 'done', acw_end_at = NEW.updated_at, updated_at = NEW.updated_at
              WHERE ticket_id = NEW.ticket_id AND state = 'acw'
              RETURNING id, pbx, user_id, extension LOOP
        PERFORM pg_notify('cti_call', json_build_object('op', 'state', 'call', r.id, 'ticket',
                                                        NEW.ticket_id, 'user_id', r.user_id,
                                                        'state', 'done')::text);
        -- unpaused when the operator has no other call on hand
        PERFORM pg_notify('cti_acw', json_build_object('call', r.id, 'pbx', r.pbx,
                    'user_id', r.user_id, 'extension', r.extension, 'paused', false,
                    'interface', (SELECT e.interface FROM call_extension e
                                   WHERE e.pbx = r.pbx AND e.extension = r.extension))::text)
         WHERE NOT EXISTS (SELECT 1 FROM call o WHERE o.user_id = r.user_id
                            AND o.state IN ('talking', 'hold', 'acw'));
    END LOOP;
    RETURN NULL;
END $$;
-- a save sets updated_at; a category rename or a merge's move does not
CREATE TRIGGER call_case_saved AFTER INSERT ON case_record
    FOR EACH ROW EXECUTE FUNCTION call_case_saved();
CREATE TRIGGER call_case_resaved AFTER UPDATE ON case_record
    FOR EACH ROW WHEN (NEW.updated_at IS DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION call_case_saved();

-- The caller's number into the contact store for a call's ticket: linked to
-- the newest contact with that phone number, or a new contact; one
-- contact_access row (actor: the PBX, reason 'call').  Does nothing for an
-- empty or anonymous number, or when the ticket has a citizen contact.
CREATE FUNCTION cti_contact_link(p_ticket bigint, p_phone text, p_pbx text, p_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE digits text := regexp_replace(normalize(coalesce(p_phone, ''), NFKC), '[^0-9]', '', 'g');
        cid bigint;
        act text := 'update';
BEGIN
    IF length(digits) < 3 OR EXISTS (SELECT 1 FROM ticket_contact tc
                                      WHERE tc.ticket_id = p_ticket AND tc.role = 'citizen') THEN
        RETURN NULL;
    END IF;
    SELECT c.id INTO cid FROM contact c
     WHERE regexp_replace(normalize(c.phone, NFKC), '[^0-9]', '', 'g') = digits
     ORDER BY c.updated_at DESC, c.id DESC LIMIT 1;
    IF cid IS NULL THEN
        INSERT INTO contact (phone, created_at, created_by, updated_at, updated_by)
        VALUES (p_phone, p_at, 'cti:' || p_pbx, p_at, 'cti:' || p_pbx) RETURNING id INTO cid;
        act := 'create';
    END IF;
    INSERT INTO ticket_contact (ticket_id, contact_id, role, linked_at)
    VALUES (p_ticket, cid, 'citizen', p_at);
    INSERT INTO contact_access (at, user_id, login, role, action, contact_id, ticket_id, reason)
    VALUES (p_at, NULL, 'cti:' || p_pbx, 'system', act, cid, p_ticket, 'call');
    RETURN cid;
END $$;

-- The caller's earlier tickets for the screen pop: the tickets of every
-- contact with the number of call p_call, newest first, for a user allowed
-- to read contacts (sql/006's contact_caller), with a 'search' row naming
-- the contacts found.  The number itself is not returned.
CREATE FUNCTION cti_caller_tickets(p_call bigint, p_user int, p_login text, p_remote text,
                                   p_at timestamptz)
RETURNS TABLE (ticket_id bigint, subject text, status text, channel text, created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r text := contact_caller(p_user, false, p_at);
        digits text;
        ids bigint[];
BEGIN
    SELECT regexp_replace(normalize(c.from_number, NFKC), '[^0-9]', '', 'g') INTO digits
      FROM call c WHERE c.id = p_call;
    IF digits IS NULL OR length(digits) < 3 THEN
        ids := '{}';
    ELSE
        SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}') INTO ids FROM contact c
         WHERE regexp_replace(normalize(c.phone, NFKC), '[^0-9]', '', 'g') = digits;
    END IF;
    INSERT INTO contact_access (at, user_id, login, role, action, contact_ids, reason, remote_addr)
    VALUES (p_at, p_user, p_login, r, 'search', ids, 'screen pop', coalesce(p_remote, ''));
    RETURN QUERY
    SELECT DISTINCT ON (t.created_at, t.id) t.id, t.subject, t.status, t.channel, t.created_at
      FROM ticket_contact tc JOIN ticket t ON t.id = tc.ticket_id
     WHERE tc.contact_id = ANY (ids) AND t.merged_into IS NULL
     ORDER BY t.created_at DESC, t.id DESC LIMIT 20;
END $$;

-- Retention (sql/017): the numbers of a call are correspondence.  When the
-- purge marks a ticket purged, its calls lose their numbers and recording
-- reference and their raw events are emptied (kinds and times stay for the
-- figures); calls without a ticket (abandoned, orphans) are purged by age
-- with call_purge_unticketed(), for madoguchi-admin's purge run.
CREATE FUNCTION call_ticket_purged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH c AS (UPDATE call SET from_number = '', to_number = '', recording_ref = ''
                WHERE ticket_id = NEW.id RETURNING pbx, call_id)
    UPDATE call_event e SET raw = '{"purged": true}'::jsonb
      FROM c WHERE e.pbx = c.pbx AND e.call_id = c.call_id;
    RETURN NULL;
END $$;
CREATE TRIGGER call_ticket_purged AFTER UPDATE OF purged_at ON ticket
    FOR EACH ROW WHEN (OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL)
    EXECUTE FUNCTION call_ticket_purged();

CREATE FUNCTION call_purge_unticketed(p_cutoff timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    WITH c AS (UPDATE call SET from_number = '', to_number = '', recording_ref = ''
                WHERE ticket_id IS NULL AND coalesce(ended_at, updated_at) < p_cutoff
                  AND (from_number <> '' OR to_number <> '' OR recording_ref <> '')
               RETURNING pbx, call_id),
         e AS (UPDATE call_event e SET raw = '{"purged": true}'::jsonb
                 FROM c WHERE e.pbx = c.pbx AND e.call_id = c.call_id)
    SELECT count(*) INTO n FROM c;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION cti_contact_link(bigint, text, text, timestamptz),
    cti_caller_tickets(bigint, int, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cti_contact_link(bigint, text, text, timestamptz),
    cti_caller_tickets(bigint, int, text, text, timestamptz) TO madoguchi_ticketd;

GRANT SELECT ON call_pbx, call_ivr TO madoguchi_ticketd;
GRANT SELECT, INSERT, UPDATE ON call, call_event, call_callback TO madoguchi_ticketd;
GRANT SELECT, INSERT, UPDATE, DELETE ON call_extension TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE call_id_seq, call_event_id_seq, call_extension_id_seq,
    call_callback_id_seq TO madoguchi_ticketd;
