-- 019: reminders (催促) to departments that do not answer an escalation
-- (issue 6), sent by escalationd (escalation/remind.c).
--
-- escalationd plans each new escalation once (reminder_planned: the first
-- reminder on the department's calendar), then, when next_reminder_at has
-- come, stores the reminder mail (message + outbound_mail kind 'reminder'),
-- moves the escalation on (reminders, last_reminder_at, next_reminder_at,
-- head_copied_at) and writes a ticket_event 'reminder_queued', all in one
-- transaction that holds the escalation row FOR UPDATE SKIP LOCKED: a kill
-- at any point leaves either all of it or none, and two escalationd never
-- remind twice.  The answer closes the escalation and clears
-- next_reminder_at in intake's statement (sql/018), so a reminder is never
-- stored after it.

ALTER TABLE escalation ADD COLUMN reminder_planned boolean NOT NULL DEFAULT false;
-- the open escalations the sweep has yet to plan (few: new ones only)
CREATE INDEX escalation_unplanned ON escalation (id) WHERE state = 'open' AND NOT reminder_planned;

GRANT UPDATE (reminder_planned) ON escalation TO madoguchi_escalation;
-- the escalation mail a reminder follows (its subject, sender and Message-ID)
GRANT SELECT (subject, from_name, from_addr, message_id_hdr) ON message TO madoguchi_escalation;
GRANT INSERT (ticket_id, direction, subject, from_name, from_addr, to_list, cc_list, date_header,
              message_id_hdr, in_reply_to, references_hdr, body_text, parse_state, created_at,
              delivery_state)
    ON message TO madoguchi_escalation;
GRANT USAGE ON SEQUENCE message_id_seq TO madoguchi_escalation;
GRANT INSERT (message_id, ticket_id, kind, env_from, rcpt, raw, not_before, created_by, created_at)
    ON outbound_mail TO madoguchi_escalation;
GRANT USAGE ON SEQUENCE outbound_mail_id_seq TO madoguchi_escalation;
