-- 002: what issue 4 (Japanese mail read and written right) needs: routing
-- rules, threading keys, automatic-mail classes, forwarded-mail origin,
-- delivery state of outgoing mail.

-- Routing: ordered rules, edited by an admin in the web UI without a
-- restart (ticketd rereads them on NOTIFY route_change).  A rule matches
-- when every condition it sets matches; the first match (in position order)
-- sets what it sets; with "continue_matching" later rules may add more.
CREATE TABLE route_rule (
    id                 serial PRIMARY KEY,
    position           int NOT NULL,
    name               text NOT NULL,
    enabled            boolean NOT NULL DEFAULT true,
    match_recipient    text,          -- substring of To, Cc, Delivered-To, X-Original-To (case-insensitive)
    match_sender       text,          -- substring of the sender address
    match_subject      text,          -- substring, or an ICU regular expression when subject_regex
    subject_regex      boolean NOT NULL DEFAULT false,
    match_did          text,          -- the fax number dialled (exact, digits only)
    match_origin       text,          -- substring of the original sender of a forwarded item
    set_queue          text,
    set_category       text,
    set_priority       int,
    set_tags           text[] NOT NULL DEFAULT '{}',
    continue_matching  boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL,
    updated_by         text NOT NULL DEFAULT ''
);
CREATE INDEX route_rule_position ON route_rule (position, id);

ALTER TABLE ticket
    ADD COLUMN category          text,
    ADD COLUMN priority          int NOT NULL DEFAULT 0,
    ADD COLUMN tags              text[] NOT NULL DEFAULT '{}',
    ADD COLUMN routed_rule_id    int,            -- the first rule that matched (no FK: rules may go)
    ADD COLUMN routed_rule_name  text,           -- its name then, for the ticket page
    ADD COLUMN correspondent     text,           -- lowercased address replies must come from to thread by tag
    ADD COLUMN has_new_reply     boolean NOT NULL DEFAULT false;

ALTER TABLE message
    ADD COLUMN auto_kind        text CHECK (auto_kind IN ('auto_reply', 'bulk', 'list', 'dsn', 'loop')),
    ADD COLUMN orig_from        text,           -- forwarded item: the original sender
    ADD COLUMN orig_to          text,
    ADD COLUMN orig_subject     text,
    ADD COLUMN orig_date        timestamptz,
    ADD COLUMN forward_kind     text,           -- 'rfc822', 'resent', 'inline'
    ADD COLUMN delivery_state   text CHECK (delivery_state IN ('queued', 'sent', 'failed')),
    ADD COLUMN delivery_note    text,
    ADD COLUMN dsn_for          bigint REFERENCES message (id);

CREATE INDEX message_message_id ON message (message_id_hdr) WHERE message_id_hdr IS NOT NULL;
CREATE INDEX message_sender_time ON message (lower(from_addr), created_at) WHERE direction = 'in';

GRANT SELECT, INSERT, UPDATE, DELETE ON route_rule TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE route_rule_id_seq TO madoguchi_ticketd;
