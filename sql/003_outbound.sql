-- 003: the outgoing mail queue (issue 5: operators answer by mail).
--
-- ticketd writes a reply: the exact RFC 5322 bytes are built once, by
-- lib/mailout, at the moment the operator sends (so the preview is what
-- the citizen receives), and stored with a 'message' row (direction 'out')
-- on the ticket's timeline.  escalationd owns outbound_mail from then on:
-- it claims due rows (FOR UPDATE SKIP LOCKED), hands the bytes to the SMTP
-- relay, and records the outcome.  NOTIFY outbound is only a wake-up.
--
-- States:
--   queued     waiting for not_before: the cancel window after "send"
--              (ticketd.send_delay), then the retry backoff
--   sent       the relay accepted it for every recipient (smtp_reply)
--   dead       refused for good (5xx) or out of attempts/time; a
--              supervisor may requeue it (back to queued, attempts 0)
--   cancelled  the operator took it back inside the cancel window
-- Only ticketd moves queued -> cancelled, and only while not_before is in
-- the future; escalationd claims only rows whose not_before has passed,
-- so the two never race for one row (both take the row lock).

CREATE TABLE outbound_mail (
    id           bigserial PRIMARY KEY,
    message_id   bigint NOT NULL UNIQUE REFERENCES message (id),
    ticket_id    bigint NOT NULL REFERENCES ticket (id),
    kind         text NOT NULL DEFAULT 'reply'
                 CHECK (kind IN ('reply', 'escalation', 'reminder', 'notice')),
    env_from     text NOT NULL,                -- envelope sender (bounces come back here)
    rcpt         text[] NOT NULL,              -- envelope recipients: To, Cc and Bcc
    raw          bytea NOT NULL,               -- the message as built, CRLF, no Bcc header
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'sent', 'dead', 'cancelled')),
    attempts     int NOT NULL DEFAULT 0,
    not_before   timestamptz NOT NULL,
    last_error   text,                         -- the relay's last refusal or the network error
    smtp_reply   text,                         -- the relay's answer to the final dot when sent
    created_by   text NOT NULL DEFAULT 'system',
    created_at   timestamptz NOT NULL,
    sent_at      timestamptz,
    requeued_by  text,
    requeued_at  timestamptz
);
CREATE INDEX outbound_mail_due ON outbound_mail (not_before, id) WHERE state = 'queued';
CREATE INDEX outbound_mail_dead ON outbound_mail (id) WHERE state = 'dead';
CREATE INDEX outbound_mail_ticket ON outbound_mail (ticket_id, id);

GRANT SELECT, INSERT, UPDATE ON outbound_mail TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE outbound_mail_id_seq TO madoguchi_ticketd;

-- escalationd: the queue, the delivery state shown on the message, and a
-- line on the timeline for each outcome.
GRANT SELECT, UPDATE (state, attempts, not_before, last_error, smtp_reply, sent_at)
    ON outbound_mail TO madoguchi_escalation;
GRANT SELECT (id, ticket_id, delivery_state, delivery_note), UPDATE (delivery_state, delivery_note)
    ON message TO madoguchi_escalation;
GRANT SELECT (id), UPDATE (updated_at) ON ticket TO madoguchi_escalation;
GRANT INSERT ON ticket_event TO madoguchi_escalation;
GRANT USAGE ON SEQUENCE ticket_event_id_seq TO madoguchi_escalation;
