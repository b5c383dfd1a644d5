-- 023: replies by fax (issue 7, "Sending").
--
-- ticketd renders the reply when the operator sends it: the text set on A4
-- by lib/faxrender, then the pages of the chosen TIFF/PDF attachments, each
-- page a single-page TIFF in outbound_fax_page, stored before anything is
-- dialled so that every attempt sends the same pages.  The reply is also a
-- message row (direction 'out') on the ticket's timeline.  ingest-fax owns
-- outbound_fax from then on (ingest/fax/outfax.h): it claims due rows with
-- FOR UPDATE SKIP LOCKED, dials, and records each attempt's result.
--
-- States:
--   awaiting_approval  held for a second person's approval (the ticket's
--              queue requires it, sql/009); never claimed; approved -> queued
--   queued     waiting for not_before (the cancel window, then the backoff)
--   dialling   claimed by an ingest-fax instance until lease_until; a row
--              whose daemon died stays here until its lease runs out, then
--              the next claim takes it again, counting the lost attempt
--   sent       every page went through (pages_sent = pages)
--   failed     out of attempts, or a result that a retry cannot change
--              (number unobtainable, refused); last_* say why
--   cancelled  the operator took it back while it was queued
-- Only ticketd approves (awaiting_approval -> queued, by someone other than
-- the author) and cancels (queued or awaiting_approval -> cancelled);
-- only ingest-fax claims and finishes.  An attempt is finished only by the
-- claim that started it (attempts must match), so a late result from a
-- daemon whose lease ran out is ignored, never counted twice.
--
-- The number dialled and the pages are correspondence (contact detail and
-- reply text): outbound_fax_purge() empties them when the ticket's
-- correspondence is purged (trigger on ticket.purged_at).

CREATE TABLE outbound_fax (
    id              bigserial PRIMARY KEY,
    ticket_id       bigint NOT NULL REFERENCES ticket (id),
    message_id      bigint NOT NULL UNIQUE REFERENCES message (id),
    number          text NOT NULL CHECK (number ~ '^[0-9]{0,20}$'),   -- digits; '' once purged
    confirmed_by    text NOT NULL CHECK (confirmed_by IN ('typed_twice', 'contact')),
    contact_id      bigint,          -- the contact picked; no FK: the contact may be purged first
    CHECK ((confirmed_by = 'contact') = (contact_id IS NOT NULL)),
    pages           int NOT NULL CHECK (pages >= 1),
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('awaiting_approval', 'queued', 'dialling', 'sent', 'failed',
                                     'cancelled')),
    attempts        int NOT NULL DEFAULT 0,
    not_before      timestamptz NOT NULL,
    lease_until     timestamptz,     -- dialling: the claim holds until then
    claimed_by      text,            -- the ingest-fax instance of the last claim
    last_result     text CHECK (last_result IN ('ok', 'busy', 'no_answer', 'no_fax', 'training',
                                                'incomplete', 'unreachable', 'failed', 'lost')),
    last_t30_code   int,
    last_t30_text   text NOT NULL DEFAULT '',
    last_sip_status int,
    last_error      text NOT NULL DEFAULT '',
    pages_sent      int NOT NULL DEFAULT 0,
    fax_call_id     bigint REFERENCES fax_call (id),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    dialled_at      timestamptz,     -- the last claim
    finished_at     timestamptz,     -- sent, failed or cancelled
    cancelled_by    text,
    approval        text CHECK (approval IN ('queue')),   -- why it was held; NULL: it was not
    reviewed_by     text,
    reviewed_at     timestamptz
);
CREATE INDEX outbound_fax_due ON outbound_fax (not_before, id) WHERE state = 'queued';
CREATE INDEX outbound_fax_lease ON outbound_fax (lease_until, id) WHERE state = 'dialling';
CREATE INDEX outbound_fax_ticket ON outbound_fax (ticket_id, id);

CREATE TABLE outbound_fax_page (
    fax_id     bigint NOT NULL REFERENCES outbound_fax (id),
    page_no    int NOT NULL CHECK (page_no >= 1),
    tiff       bytea NOT NULL,      -- a single-page TIFF, T.6, 1728 wide, 204x196 or as attached
    source     text NOT NULL DEFAULT '',   -- '' for the rendered text, else the attachment's file name
    PRIMARY KEY (fax_id, page_no)
);

-- Claim up to p_limit due rows for one attempt each: queued rows whose
-- not_before has passed, and dialling rows whose lease ran out (their
-- daemon died: that attempt is counted as 'lost').  A row out of attempts
-- is failed instead of claimed.  Returns what was claimed.
CREATE FUNCTION outbound_fax_claim(p_by text, p_now timestamptz, p_lease_s int,
                                   p_max_attempts int, p_limit int)
RETURNS TABLE (id bigint, ticket_id bigint, number text, attempts int, pages int)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT o.id, o.state, o.attempts FROM outbound_fax o
              WHERE (o.state = 'queued' AND o.not_before <= p_now)
                 OR (o.state = 'dialling' AND o.lease_until <= p_now)
              ORDER BY o.not_before, o.id
              LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
        IF r.state = 'dialling' THEN
            UPDATE outbound_fax o SET last_result = 'lost',
                   last_error = 'the daemon stopped during attempt ' || r.attempts
             WHERE o.id = r.id;
            IF r.attempts >= p_max_attempts THEN
                PERFORM outbound_fax_close(r.id, 'failed', p_now);
                CONTINUE;
            END IF;
        END IF;
        RETURN QUERY
        UPDATE outbound_fax o SET state = 'dialling', attempts = o.attempts + 1,
               lease_until = p_now + make_interval(secs => p_lease_s), claimed_by = p_by,
               dialled_at = p_now
         WHERE o.id = r.id
        RETURNING o.id, o.ticket_id, o.number, o.attempts, o.pages;
        PERFORM outbound_fax_event(r.id, p_now, 'fax_dialling', NULL);
    END LOOP;
END $$;

-- A line on the timeline, the message's delivery state, the live update
-- (op "fax": the ticket page redraws its timeline, js/ticket.js).
CREATE FUNCTION outbound_fax_event(p_id bigint, p_at timestamptz, p_kind text, p_state text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE o record;
BEGIN
    SELECT * INTO o FROM outbound_fax WHERE outbound_fax.id = p_id;
    INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)
    VALUES (o.ticket_id, p_at, 'ingest-fax', p_kind,
            'outbound_fax ' || p_id || ' attempt ' || o.attempts || ' pages ' || o.pages_sent || '/'
            || o.pages || CASE WHEN o.last_error <> '' THEN ': ' || o.last_error ELSE '' END);
    IF p_state IS NOT NULL THEN
        UPDATE message SET delivery_state = p_state,
               delivery_note = CASE WHEN p_state = 'failed' THEN o.last_error ELSE NULL END
         WHERE message.id = o.message_id;
    END IF;
    UPDATE ticket SET updated_at = p_at WHERE ticket.id = o.ticket_id;
    PERFORM pg_notify('ticket_change', json_build_object('id', o.ticket_id, 'op', 'fax')::text);
END $$;

CREATE FUNCTION outbound_fax_close(p_id bigint, p_state text, p_at timestamptz)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE outbound_fax SET state = p_state, lease_until = NULL, finished_at = p_at
     WHERE id = p_id;
    PERFORM outbound_fax_event(p_id, p_at, 'fax_' || p_state, p_state);
END $$;

-- Record one attempt's result.  p_retry_at NULL: final (sent when p_result
-- is 'ok', else failed); otherwise queued again for then.  Only the claim
-- that made attempt p_attempt may finish it: 1 when recorded, 0 when the
-- row had moved on (a late result after the lease ran out).
CREATE FUNCTION outbound_fax_finish(p_id bigint, p_attempt int, p_now timestamptz, p_result text,
                                    p_t30_code int, p_t30_text text, p_sip_status int,
                                    p_error text, p_pages_sent int, p_fax_call_id bigint,
                                    p_retry_at timestamptz)
RETURNS int LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE outbound_fax SET last_result = p_result, last_t30_code = p_t30_code,
           last_t30_text = coalesce(p_t30_text, ''), last_sip_status = p_sip_status,
           last_error = coalesce(p_error, ''), pages_sent = p_pages_sent,
           fax_call_id = coalesce(p_fax_call_id, fax_call_id)
     WHERE id = p_id AND state = 'dialling' AND attempts = p_attempt;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF p_result = 'ok' THEN
        PERFORM outbound_fax_close(p_id, 'sent', p_now);
    ELSIF p_retry_at IS NULL THEN
        PERFORM outbound_fax_close(p_id, 'failed', p_now);
    ELSE
        UPDATE outbound_fax SET state = 'queued', not_before = p_retry_at, lease_until = NULL
         WHERE id = p_id;
        PERFORM outbound_fax_event(p_id, p_now, 'fax_retry', NULL);
    END IF;
    RETURN 1;
END $$;

-- ticketd: the operator takes a queued fax back.  1 when cancelled, 0 when
-- it was no longer queued (dialling already, or done).
CREATE FUNCTION outbound_fax_cancel(p_id bigint, p_ticket bigint, p_by text, p_at timestamptz)
RETURNS int LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE outbound_fax SET state = 'cancelled', finished_at = p_at, cancelled_by = p_by
     WHERE id = p_id AND ticket_id = p_ticket AND state IN ('queued', 'awaiting_approval');
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    UPDATE message SET delivery_state = 'cancelled'
     WHERE id = (SELECT message_id FROM outbound_fax WHERE id = p_id);
    INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)
    VALUES (p_ticket, p_at, p_by, 'fax_cancelled', 'outbound_fax ' || p_id);
    UPDATE ticket SET updated_at = p_at WHERE id = p_ticket;
    PERFORM pg_notify('ticket_change', json_build_object('id', p_ticket, 'op', 'fax')::text);
    RETURN 1;
END $$;

-- ticketd: a second person approves a held fax; it waits the send delay
-- (the cancel window) like any other.  1 approved, 0 not waiting for
-- approval (or not this ticket's), 2 the caller wrote it (no self-approval).
CREATE FUNCTION outbound_fax_approve(p_id bigint, p_ticket bigint, p_by text, p_at timestamptz,
                                     p_delay_s int)
RETURNS int LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE o record;
BEGIN
    SELECT f.state, f.created_by, f.message_id INTO o FROM outbound_fax f
     WHERE f.id = p_id AND f.ticket_id = p_ticket FOR UPDATE;
    IF NOT FOUND OR o.state <> 'awaiting_approval' THEN
        RETURN 0;
    END IF;
    IF o.created_by = p_by THEN
        RETURN 2;
    END IF;
    UPDATE outbound_fax SET state = 'queued', reviewed_by = p_by, reviewed_at = p_at,
           not_before = p_at + make_interval(secs => p_delay_s)
     WHERE id = p_id;
    UPDATE message SET delivery_state = 'queued' WHERE id = o.message_id;
    INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)
    VALUES (p_ticket, p_at, p_by, 'fax_approved', 'outbound_fax ' || p_id);
    UPDATE ticket SET updated_at = p_at WHERE id = p_ticket;
    PERFORM pg_notify('ticket_change', json_build_object('id', p_ticket, 'op', 'fax')::text);
    PERFORM pg_notify('outbound_fax', p_id::text);
    RETURN 1;
END $$;

-- Purging a ticket's correspondence (sql/017 sets ticket.purged_at) empties
-- its faxes' number and pages; the rows stay for the counts.
CREATE FUNCTION outbound_fax_purge() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    DELETE FROM outbound_fax_page p USING outbound_fax o
     WHERE p.fax_id = o.id AND o.ticket_id = NEW.id;
    UPDATE outbound_fax SET number = '', last_error = '', contact_id = NULL,
           confirmed_by = 'typed_twice'
     WHERE ticket_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER outbound_fax_purge AFTER UPDATE OF purged_at ON ticket
    FOR EACH ROW WHEN (NEW.purged_at IS NOT NULL AND OLD.purged_at IS NULL)
    EXECUTE FUNCTION outbound_fax_purge();

-- A fax reply answers the citizen as a mail reply does (sql/020's
-- responded_at): queued, dialling or sent counts (an approved one from its
-- approval); held, cancelled or failed not.
CREATE OR REPLACE FUNCTION ticket_responded(p_ticket bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE ticket t SET responded_at = r.at
      FROM (SELECT min(at) AS at FROM (
              SELECT CASE WHEN o.approval IS NOT NULL THEN coalesce(o.reviewed_at, o.created_at)
                          ELSE o.created_at END AS at
                FROM outbound_mail o
               WHERE o.ticket_id = p_ticket AND o.kind = 'reply' AND o.state IN ('queued', 'sent')
              UNION ALL
              SELECT coalesce(f.reviewed_at, f.created_at) FROM outbound_fax f
               WHERE f.ticket_id = p_ticket AND f.state IN ('queued', 'dialling', 'sent')) x) r
     WHERE t.id = p_ticket AND t.responded_at IS DISTINCT FROM r.at;
$$;

CREATE FUNCTION outbound_fax_sla() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM ticket_responded(NEW.ticket_id);
    IF TG_OP = 'UPDATE' AND OLD.ticket_id <> NEW.ticket_id THEN
        PERFORM ticket_responded(OLD.ticket_id); -- a merge moved it
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER outbound_fax_sla AFTER INSERT OR UPDATE OF state, ticket_id ON outbound_fax
    FOR EACH ROW EXECUTE FUNCTION outbound_fax_sla();

-- A fax goes where its message goes: merging, splitting and their undoing
-- (ticketd/merge.c, sql/011, sql/015) move messages, and this moves their
-- faxes with them, so a fax's later events land on the ticket that shows it.
CREATE FUNCTION outbound_fax_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE outbound_fax SET ticket_id = NEW.ticket_id WHERE message_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER outbound_fax_follow AFTER UPDATE OF ticket_id ON message
    FOR EACH ROW WHEN (NEW.ticket_id <> OLD.ticket_id) EXECUTE FUNCTION outbound_fax_follow();

REVOKE ALL ON FUNCTION outbound_fax_claim(text, timestamptz, int, int, int),
    outbound_fax_event(bigint, timestamptz, text, text),
    outbound_fax_close(bigint, text, timestamptz),
    outbound_fax_finish(bigint, int, timestamptz, text, int, text, int, text, int, bigint, timestamptz),
    outbound_fax_cancel(bigint, bigint, text, timestamptz),
    outbound_fax_approve(bigint, bigint, text, timestamptz, int),
    outbound_fax_purge(), outbound_fax_sla(), outbound_fax_follow() FROM PUBLIC;

-- ticketd: writes the reply and its pages, reads the state, cancels.
GRANT SELECT, INSERT ON outbound_fax, outbound_fax_page TO madoguchi_ticketd;
GRANT UPDATE (state, finished_at, cancelled_by, not_before, reviewed_by, reviewed_at)
    ON outbound_fax TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE outbound_fax_id_seq TO madoguchi_ticketd;
GRANT EXECUTE ON FUNCTION outbound_fax_cancel(bigint, bigint, text, timestamptz),
    outbound_fax_approve(bigint, bigint, text, timestamptz, int) TO madoguchi_ticketd;

-- ingest-fax: claims, reads the pages, records results and the timeline.
GRANT SELECT ON outbound_fax, outbound_fax_page TO madoguchi_fax;
GRANT UPDATE (state, attempts, not_before, lease_until, claimed_by, last_result, last_t30_code,
              last_t30_text, last_sip_status, last_error, pages_sent, fax_call_id, dialled_at,
              finished_at)
    ON outbound_fax TO madoguchi_fax;
GRANT SELECT (id, ticket_id), UPDATE (delivery_state, delivery_note) ON message TO madoguchi_fax;
GRANT SELECT (id), UPDATE (updated_at) ON ticket TO madoguchi_fax;
GRANT INSERT ON ticket_event TO madoguchi_fax;
GRANT USAGE ON SEQUENCE ticket_event_id_seq TO madoguchi_fax;
GRANT EXECUTE ON FUNCTION outbound_fax_claim(text, timestamptz, int, int, int),
    outbound_fax_event(bigint, timestamptz, text, text),
    outbound_fax_close(bigint, text, timestamptz),
    outbound_fax_finish(bigint, int, timestamptz, text, int, text, int, text, int, bigint, timestamptz)
    TO madoguchi_fax;
