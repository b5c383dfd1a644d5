-- 009: approval before sending (承認・ダブルチェック) and the supervisors'
-- dead-letter list (issue 5).  (008 is intake's lease.)
--
-- A reply needs approval when its ticket's queue says so (queue_setting)
-- or when the template it was written from says "Approval: required" in
-- its header (templates/reply).  Such a reply is stored like any other
-- (message, attachments, outbound_mail with the bytes built), but in the
-- state 'awaiting_approval', which escalationd never claims (it takes
-- only 'queued').  Then, by someone other than its author:
--
--   awaiting_approval --approve--------> queued (not_before = now + the
--                     --edit and approve->        send delay; the bytes
--                                                  rebuilt when edited)
--                     --return----------> returned (kept for the record;
--                                                  the author writes anew)
--                     --cancel----------> cancelled
--
-- message.delivery_state follows: 'awaiting_approval', 'returned',
-- 'cancelled' (until now a cancelled reply was 'failed' with a note).
-- Every step is a ticket_event naming the actor.  Only ticketd makes
-- these moves, under the row lock of outbound_mail.

-- Per-queue settings, written by admins through ticketd.  A queue with
-- no row has the defaults (no approval).
CREATE TABLE queue_setting (
    queue              text PRIMARY KEY CHECK (queue <> '' AND length(queue) <= 100),
    approval_required  boolean NOT NULL DEFAULT false,
    updated_by         text NOT NULL,
    updated_at         timestamptz NOT NULL
);

ALTER TABLE outbound_mail DROP CONSTRAINT outbound_mail_state_check;
ALTER TABLE outbound_mail ADD CONSTRAINT outbound_mail_state_check
    CHECK (state IN ('queued', 'sent', 'dead', 'cancelled', 'awaiting_approval', 'returned'));

ALTER TABLE message DROP CONSTRAINT message_delivery_state_check;
ALTER TABLE message ADD CONSTRAINT message_delivery_state_check
    CHECK (delivery_state IN ('queued', 'sent', 'failed', 'awaiting_approval', 'returned',
                              'cancelled'));
UPDATE message m SET delivery_state = 'cancelled'
  FROM outbound_mail o
 WHERE o.message_id = m.id AND o.state = 'cancelled' AND m.delivery_state = 'failed';

-- approval: why the reply was held ('queue' or 'template'), NULL when it
-- was not.  template: the template the composer said it used.  draft:
-- what was composed (recipients after the Bcc rule, the subject as given,
-- body, attachments, the message answered), so an approver's edit is
-- rebuilt by the same code and a returned reply can be opened again by
-- its author; correspondence, like raw.  review*: the last decision.
ALTER TABLE outbound_mail
    ADD COLUMN approval        text CHECK (approval IN ('queue', 'template')),
    ADD COLUMN template        text,
    ADD COLUMN draft           jsonb,
    ADD COLUMN review          text CHECK (review IN ('approved', 'edited', 'returned')),
    ADD COLUMN reviewed_by     text,
    ADD COLUMN reviewed_at     timestamptz,
    ADD COLUMN review_comment  text;
CREATE INDEX outbound_mail_awaiting ON outbound_mail (created_at, id)
    WHERE state = 'awaiting_approval';

-- A dead mail sent again: by madoguchi-admin outbound-requeue and by a
-- supervisor in the web (POST /api/outbound/ID/requeue), one definition
-- for both.  Runs with the caller's rights.  The ticket id, or NULL when
-- p_id is not a dead mail (nothing changed then).
CREATE FUNCTION outbound_requeue(p_id bigint, p_by text, p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE tid bigint;
        mid bigint;
BEGIN
    UPDATE outbound_mail SET state = 'queued', attempts = 0, not_before = p_at,
           requeued_by = p_by, requeued_at = p_at
     WHERE id = p_id AND state = 'dead'
    RETURNING ticket_id, message_id INTO tid, mid;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    UPDATE message SET delivery_state = 'queued', delivery_note = NULL WHERE id = mid;
    INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)
    VALUES (tid, p_at, p_by, 'mail_requeued', 'outbound_mail ' || p_id);
    UPDATE ticket SET updated_at = p_at WHERE id = tid;
    PERFORM pg_notify('ticket_change', json_build_object('id', tid, 'op', 'update')::text);
    PERFORM pg_notify('outbound', p_id::text);
    RETURN tid;
END $$;

REVOKE ALL ON FUNCTION outbound_requeue(bigint, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbound_requeue(bigint, text, timestamptz) TO madoguchi_ticketd;
GRANT SELECT, INSERT, UPDATE ON queue_setting TO madoguchi_ticketd;
