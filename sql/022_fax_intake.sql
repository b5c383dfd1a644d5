-- 022: fax items as tickets, and what the contract of 021 needs around them
-- (issue 7).
--
-- The caller number and the remote identity (TSI) of a fax are contact
-- details (021).  ticketd reads and writes contacts only through audited
-- SECURITY DEFINER functions (006), so the same holds here:
--   * ticketd loses SELECT on fax_call.caller/remote_ident and
--     fax_item.caller/remote_ident (column grants instead of table grants);
--   * intake links the caller to the ticket as its citizen contact with
--     fax_contact_link(), which writes its contact_access row ('create',
--     login 'intake');
--   * the fax viewer reads them with fax_contact_read(), which checks the
--     user as contact_read does and writes a 'read' row.
-- The ticket's subject and timeline name only the number dialled (the
-- ward's own DID) and the page count.
--
-- Retention: purging a ticket (017's correspondence_purge_batch sets
-- ticket.purged_at) deletes the fax pages of its messages and empties the
-- caller and remote identity of its fax_item and fax_call rows, from a
-- trigger, so the purge function itself stays as 017 wrote it.

ALTER TABLE purge_run ADD COLUMN fax_pages int NOT NULL DEFAULT 0;

REVOKE SELECT ON fax_call, fax_item FROM madoguchi_ticketd;
GRANT SELECT (id, direction, line, sip_call_id, did, subaddress, transport, ecm, started_at,
              answered_at, ended_at, pages, t30_code, t30_text, result, end_reason,
              inbound_item_id) ON fax_call TO madoguchi_ticketd;
GRANT SELECT (inbound_item_id, origin, fax_call_id, did, subaddress, pages, complete, result_text)
    ON fax_item TO madoguchi_ticketd;

-- The caller of fax item p_item becomes the citizen contact of ticket
-- p_ticket (fax = the calling number, note = the TSI).  Nothing when the
-- item has neither or the ticket has a citizen contact already.  Returns the
-- contact id or NULL.
CREATE FUNCTION fax_contact_link(p_item bigint, p_ticket bigint, p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE f record;
        cid bigint;
BEGIN
    SELECT caller, remote_ident INTO f FROM fax_item WHERE inbound_item_id = p_item;
    IF NOT FOUND OR p_ticket IS NULL OR (f.caller = '' AND f.remote_ident = '')
       OR EXISTS (SELECT 1 FROM ticket_contact WHERE ticket_id = p_ticket AND role = 'citizen') THEN
        RETURN NULL;
    END IF;
    INSERT INTO contact (fax, note, created_at, created_by, updated_at, updated_by)
    VALUES (f.caller, CASE WHEN f.remote_ident <> '' THEN 'TSI: ' || f.remote_ident ELSE '' END,
            p_at, 'intake', p_at, 'intake')
    RETURNING id INTO cid;
    INSERT INTO ticket_contact (ticket_id, contact_id, role, linked_at)
    VALUES (p_ticket, cid, 'citizen', p_at);
    INSERT INTO contact_access (at, user_id, login, role, action, contact_id, ticket_id, reason)
    VALUES (p_at, NULL, 'intake', 'system', 'create', cid, p_ticket, 'fax received');
    RETURN cid;
END $$;

-- The caller and TSI of the fax behind message p_message, for user p_user
-- (checked as contact_read checks), with its 'read' row in contact_access.
CREATE FUNCTION fax_contact_read(p_message bigint, p_user int, p_login text, p_reason text,
                                 p_remote text, p_at timestamptz)
RETURNS TABLE (caller text, remote_ident text, call_caller text, call_remote_ident text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r text := contact_caller(p_user, false, p_at);
        tid bigint;
        cid bigint;
BEGIN
    SELECT m.ticket_id INTO tid FROM message m WHERE m.id = p_message;
    SELECT tc.contact_id INTO cid FROM ticket_contact tc
     WHERE tc.ticket_id = tid AND tc.role = 'citizen';
    INSERT INTO contact_access (at, user_id, login, role, action, contact_id, ticket_id, reason,
                                remote_addr)
    VALUES (p_at, p_user, p_login, r, 'read', cid, tid, contact_reason(p_reason),
            coalesce(p_remote, ''));
    RETURN QUERY SELECT f.caller, f.remote_ident, coalesce(c.caller, ''),
                        coalesce(c.remote_ident, '')
      FROM message m JOIN fax_item f ON f.inbound_item_id = m.inbound_item_id
      LEFT JOIN fax_call c ON c.id = f.fax_call_id
     WHERE m.id = p_message;
END $$;

REVOKE ALL ON FUNCTION fax_contact_link(bigint, bigint, timestamptz),
    fax_contact_read(bigint, int, text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fax_contact_link(bigint, bigint, timestamptz),
    fax_contact_read(bigint, int, text, text, text, timestamptz) TO madoguchi_ticketd;

-- Retention: the pages are correspondence, the caller a contact detail.
CREATE FUNCTION fax_purge_ticket() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE items bigint[];
        n int;
BEGIN
    SELECT array_agg(m.inbound_item_id) INTO items FROM message m
     WHERE m.ticket_id = NEW.id AND m.inbound_item_id IS NOT NULL;
    IF items IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM fax_page WHERE inbound_item_id = ANY (items);
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE fax_item SET caller = '', remote_ident = '' WHERE inbound_item_id = ANY (items);
    UPDATE fax_call SET caller = '', remote_ident = ''
     WHERE inbound_item_id = ANY (items)
        OR id IN (SELECT fax_call_id FROM fax_item WHERE inbound_item_id = ANY (items));
    IF n > 0 AND NEW.purge_run_id IS NOT NULL THEN
        UPDATE purge_run SET fax_pages = fax_pages + n WHERE id = NEW.purge_run_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER fax_purge_ticket AFTER UPDATE OF purged_at ON ticket
    FOR EACH ROW WHEN (OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL)
    EXECUTE FUNCTION fax_purge_ticket();
