-- Retention: correspondence is purged when its ticket has been finished for
-- longer than the retention period; the case history stays whole.
--
-- shared/ARCHITECTURE.md, "Two kinds of record": correspondence (the raw
-- mail, bodies, attachments, replies, internal notes, the contact details)
-- is personal data, purged on a retention schedule with a deletion report;
-- the case history (case_record, category, resolution, times, the timeline's
-- kinds) is kept for the reports.  The tenders ask for a record of each
-- deletion (date, person, what: 001 L949) and an E-mail/FAX deletion report
-- (000 L2136).
--
-- madoguchi-admin purge runs correspondence_purge_batch() batch by batch,
-- each batch one transaction, all under one purge_run.  A purged ticket
-- keeps its row, its events and its case record; its messages keep their
-- rows (direction, dates, parse state) with every text emptied, so the
-- timeline still shows that a mail came in or went out and when.

CREATE TABLE purge_run (
    id           bigserial PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    by_login     text NOT NULL CHECK (by_login <> ''),
    reason       text NOT NULL CHECK (reason <> ''),
    cutoff       timestamptz NOT NULL,     -- tickets finished before this
    tickets      int NOT NULL DEFAULT 0,
    messages     int NOT NULL DEFAULT 0,
    attachments  int NOT NULL DEFAULT 0,
    blobs        int NOT NULL DEFAULT 0,   -- attachment bodies no other ticket shares
    blob_bytes   bigint NOT NULL DEFAULT 0,
    raw_items    int NOT NULL DEFAULT 0,   -- inbound_item raw bytes
    outbound     int NOT NULL DEFAULT 0,   -- outgoing mail as built
    notes        int NOT NULL DEFAULT 0,
    uploads      int NOT NULL DEFAULT 0,   -- files uploaded for replies (sql/014)
    contacts     int NOT NULL DEFAULT 0    -- contact rows deleted (links: purge_ticket)
);

-- The deletion report: one row per purged ticket, ids and counts only.
CREATE TABLE purge_ticket (
    run_id       bigint NOT NULL REFERENCES purge_run (id),
    ticket_id    bigint NOT NULL REFERENCES ticket (id),
    channel      text NOT NULL,
    finished_at  timestamptz NOT NULL,
    messages     int NOT NULL,
    attachments  int NOT NULL,
    notes        int NOT NULL,
    contact_ids  bigint[] NOT NULL,        -- the contacts it was linked to
    PRIMARY KEY (run_id, ticket_id)
);

ALTER TABLE ticket
    ADD COLUMN purged_at     timestamptz,
    ADD COLUMN purge_run_id  bigint REFERENCES purge_run (id);

-- The tickets a purge looks at: finished, not purged, oldest first.
CREATE INDEX ticket_purge_todo ON ticket (coalesce(resolved_at, updated_at), id)
    WHERE purged_at IS NULL AND status IN ('resolved', 'closed');

-- Up to p_limit tickets finished before p_cutoff, purged under run p_run at
-- p_at; returns how many.  A ticket with mail still waiting to go out
-- (queued, awaiting approval) is skipped: its reply is not history yet.
CREATE FUNCTION correspondence_purge_batch(p_run bigint, p_cutoff timestamptz, p_at timestamptz,
                                           p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    shas bytea[];
    cids bigint[];
    n_msg int; n_att int; n_blob int; n_bytes bigint; n_raw int; n_out int; n_note int; n_con int;
    n_up int;
    v_by text;
BEGIN
    SELECT by_login INTO v_by FROM purge_run WHERE id = p_run AND finished_at IS NULL;
    IF v_by IS NULL THEN
        RAISE EXCEPTION 'purge run % is not open', p_run;
    END IF;
    SELECT array_agg(id ORDER BY id) INTO ids FROM (
        SELECT t.id FROM ticket t
         WHERE t.purged_at IS NULL AND t.status IN ('resolved', 'closed')
           AND coalesce(t.resolved_at, t.updated_at) < p_cutoff
           AND NOT EXISTS (SELECT 1 FROM outbound_mail o WHERE o.ticket_id = t.id
                            AND o.state IN ('queued', 'awaiting_approval'))
         ORDER BY coalesce(t.resolved_at, t.updated_at), t.id
         LIMIT p_limit FOR UPDATE OF t SKIP LOCKED) s;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;

    INSERT INTO purge_ticket (run_id, ticket_id, channel, finished_at, messages, attachments, notes,
                              contact_ids)
    SELECT p_run, t.id, t.channel, coalesce(t.resolved_at, t.updated_at),
           (SELECT count(*) FROM message m WHERE m.ticket_id = t.id),
           (SELECT count(*) FROM attachment a JOIN message m ON m.id = a.message_id
             WHERE m.ticket_id = t.id),
           (SELECT count(*) FROM ticket_note n WHERE n.ticket_id = t.id),
           coalesce((SELECT array_agg(c.contact_id ORDER BY c.contact_id) FROM ticket_contact c
                      WHERE c.ticket_id = t.id), '{}')
      FROM ticket t WHERE t.id = ANY (ids);

    WITH d AS (DELETE FROM attachment a USING message m
                WHERE m.id = a.message_id AND m.ticket_id = ANY (ids) RETURNING a.sha256)
    SELECT count(*), array_agg(DISTINCT sha256) INTO n_att, shas FROM d;
    WITH d AS (DELETE FROM blob b WHERE b.sha256 = ANY (coalesce(shas, '{}'))
                 AND NOT EXISTS (SELECT 1 FROM attachment a WHERE a.sha256 = b.sha256)
               RETURNING b.size)
    SELECT count(*), coalesce(sum(size), 0) INTO n_blob, n_bytes FROM d;

    UPDATE inbound_item i SET raw = '', flags = array_append(i.flags, 'purged')
      FROM message m
     WHERE m.inbound_item_id = i.id AND m.ticket_id = ANY (ids) AND NOT 'purged' = ANY (i.flags);
    GET DIAGNOSTICS n_raw = ROW_COUNT;
    UPDATE message SET subject = '', from_name = '', from_addr = '', to_list = '', cc_list = '',
           message_id_hdr = NULL, in_reply_to = NULL, references_hdr = NULL, body_text = '',
           body_html = NULL, parse_notes = NULL, orig_from = NULL, orig_to = NULL,
           orig_subject = NULL, delivery_note = NULL
     WHERE ticket_id = ANY (ids);
    GET DIAGNOSTICS n_msg = ROW_COUNT;
    UPDATE outbound_mail SET raw = '', rcpt = '{}', draft = NULL, review_comment = NULL,
           last_error = NULL, smtp_reply = NULL
     WHERE ticket_id = ANY (ids);
    GET DIAGNOSTICS n_out = ROW_COUNT;
    DELETE FROM ticket_note WHERE ticket_id = ANY (ids);
    GET DIAGNOSTICS n_note = ROW_COUNT;
    DELETE FROM search_doc WHERE ticket_id = ANY (ids);
    DELETE FROM reply_upload WHERE ticket_id = ANY (ids);
    GET DIAGNOSTICS n_up = ROW_COUNT;

    -- contacts: the links go; a contact no other ticket links to goes too.
    -- contact_access keeps its rows (ids only, no foreign key).
    WITH d AS (DELETE FROM ticket_contact WHERE ticket_id = ANY (ids) RETURNING contact_id)
    SELECT array_agg(DISTINCT contact_id) INTO cids FROM d;
    WITH d AS (DELETE FROM contact c WHERE c.id = ANY (coalesce(cids, '{}'))
                 AND NOT EXISTS (SELECT 1 FROM ticket_contact l WHERE l.contact_id = c.id)
               RETURNING 1)
    SELECT count(*) INTO n_con FROM d;

    UPDATE ticket SET subject = '', correspondent = NULL, has_new_reply = false,
           purged_at = p_at, purge_run_id = p_run
     WHERE id = ANY (ids);
    INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)
    SELECT id, p_at, v_by, 'purged', 'run ' || p_run FROM unnest(ids) AS u(id);

    UPDATE purge_run SET tickets = tickets + cardinality(ids), messages = messages + n_msg,
           attachments = attachments + n_att, blobs = blobs + n_blob,
           blob_bytes = blob_bytes + n_bytes, raw_items = raw_items + n_raw,
           outbound = outbound + n_out, notes = notes + n_note, uploads = uploads + n_up,
           contacts = contacts + n_con
     WHERE id = p_run;
    RETURN cardinality(ids);
END;
$$;

-- Contacts that no ticket links to (left by an unlink or a merge) and that
-- nobody has touched since the cutoff: purged in the same run.
CREATE FUNCTION contact_purge_orphans(p_run bigint, p_cutoff timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    n int;
BEGIN
    DELETE FROM contact c WHERE c.updated_at < p_cutoff
       AND NOT EXISTS (SELECT 1 FROM ticket_contact l WHERE l.contact_id = c.id);
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE purge_run SET contacts = contacts + n WHERE id = p_run;
    RETURN n;
END;
$$;

GRANT SELECT ON purge_run TO madoguchi_ticketd;
