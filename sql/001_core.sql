-- 001: the intake bus, tickets and their correspondence, users and sessions.
--
-- inbound_item is the bus between the ingest daemons and ticketd: a row is
-- the message, NOTIFY inbound only wakes ticketd.  The raw bytes are stored
-- first; every other row here is derived from them and can be rebuilt.
-- (source, source_key) makes intake exactly-once: an IMAP message is
-- "<mailbox>/<uidvalidity>/<uid>", a Maildir file its unique name.  Two
-- different mails with the same Message-ID are two rows: we never
-- deduplicate on Message-ID.

CREATE TABLE inbound_item (
    id          bigserial PRIMARY KEY,
    channel     text NOT NULL CHECK (channel IN ('mail', 'fax', 'call', 'form')),
    source      text NOT NULL,             -- account name from the config
    source_key  text NOT NULL,
    raw         bytea NOT NULL,
    raw_size    bigint NOT NULL,
    raw_sha256  bytea NOT NULL,
    flags       text[] NOT NULL DEFAULT '{}',   -- 'oversize', ...
    arrived_at  timestamptz NOT NULL,       -- at the mail server (IMAP INTERNALDATE, file time)
    stored_at   timestamptz NOT NULL,       -- committed here
    state       text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'done', 'dead')),
    attempts    int NOT NULL DEFAULT 0,
    not_before  timestamptz NOT NULL DEFAULT '-infinity',
    last_error  text,
    ticket_id   bigint,
    done_at     timestamptz,
    UNIQUE (source, source_key)
);
CREATE INDEX inbound_item_todo ON inbound_item (id) WHERE state = 'new';
CREATE INDEX inbound_item_dead ON inbound_item (id) WHERE state = 'dead';
CREATE INDEX inbound_item_hash ON inbound_item (source, raw_sha256);

-- Where ingest-mail stands in each mailbox.  Updated in the same
-- transaction as the inbound_item rows it covers.
CREATE TABLE mailbox_state (
    source       text NOT NULL,
    mailbox      text NOT NULL,
    uidvalidity  bigint NOT NULL,
    last_uid     bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (source, mailbox)
);

CREATE TABLE ticket (
    id              bigserial PRIMARY KEY,
    channel         text NOT NULL CHECK (channel IN ('mail', 'fax', 'call', 'form')),
    status          text NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'open', 'waiting_citizen', 'escalated', 'resolved', 'closed')),
    queue           text NOT NULL DEFAULT 'general',
    subject         text NOT NULL DEFAULT '',
    flags           text[] NOT NULL DEFAULT '{}',   -- 'unparsed', 'oversize', 'undecodable'
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_inbound_at timestamptz
);
CREATE INDEX ticket_status_updated ON ticket (status, updated_at DESC, id DESC);
CREATE INDEX ticket_updated ON ticket (updated_at DESC, id DESC);

-- Correspondence: one row per mail in or out.  body_html is the HTML part as
-- received, decoded to UTF-8; it is only ever served under a CSP that
-- forbids scripts, into a sandboxed frame.
CREATE TABLE message (
    id              bigserial PRIMARY KEY,
    ticket_id       bigint NOT NULL REFERENCES ticket (id),
    inbound_item_id bigint UNIQUE REFERENCES inbound_item (id),
    direction       text NOT NULL CHECK (direction IN ('in', 'out')),
    subject         text NOT NULL DEFAULT '',
    from_name       text NOT NULL DEFAULT '',
    from_addr       text NOT NULL DEFAULT '',
    to_list         text NOT NULL DEFAULT '',
    cc_list         text NOT NULL DEFAULT '',
    date_header     timestamptz,
    message_id_hdr  text,
    in_reply_to     text,
    references_hdr  text,
    body_text       text NOT NULL DEFAULT '',
    body_html       text,
    parse_state     text NOT NULL CHECK (parse_state IN ('ok', 'partial', 'unparsed', 'oversize')),
    parse_notes     text,
    created_at      timestamptz NOT NULL
);
CREATE INDEX message_ticket ON message (ticket_id, id);

-- Attachment bytes stored once, by hash.
CREATE TABLE blob (
    sha256  bytea PRIMARY KEY,
    size    bigint NOT NULL,
    data    bytea NOT NULL
);

CREATE TABLE attachment (
    message_id    bigint NOT NULL REFERENCES message (id),
    idx           int NOT NULL,
    filename      text NOT NULL,
    content_type  text NOT NULL,
    size          bigint NOT NULL,
    sha256        bytea NOT NULL REFERENCES blob (sha256),
    content_id    text,
    PRIMARY KEY (message_id, idx)
);

-- The timeline of a ticket.
CREATE TABLE ticket_event (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES ticket (id),
    at         timestamptz NOT NULL,
    actor      text NOT NULL DEFAULT 'system',
    kind       text NOT NULL,      -- 'created', 'message_in', ...
    detail     text
);
CREATE INDEX ticket_event_ticket ON ticket_event (ticket_id, id);

CREATE TABLE app_user (
    id             serial PRIMARY KEY,
    login          text NOT NULL UNIQUE,
    display_name   text NOT NULL DEFAULT '',
    role           text NOT NULL CHECK (role IN ('operator', 'supervisor', 'viewer', 'admin')),
    pw_hash        text NOT NULL,
    disabled       boolean NOT NULL DEFAULT false,
    failed_logins  int NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL,
    pw_changed_at  timestamptz
);

-- The cookie carries a random token; only its SHA-256 is stored.
CREATE TABLE web_session (
    token_sha256  bytea PRIMARY KEY,
    user_id       int NOT NULL REFERENCES app_user (id),
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    remote_addr   text NOT NULL DEFAULT ''
);

CREATE TABLE auth_event (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL,
    event        text NOT NULL CHECK (event IN ('login', 'logout', 'login_failed', 'locked',
                                                 'session_expired', 'password_changed')),
    login        text NOT NULL,
    user_id      int,
    remote_addr  text NOT NULL DEFAULT '',
    detail       text
);

GRANT SELECT (id, source, source_key, raw_sha256), INSERT ON inbound_item TO madoguchi_ingest;
GRANT USAGE ON SEQUENCE inbound_item_id_seq TO madoguchi_ingest;
GRANT SELECT, INSERT, UPDATE ON mailbox_state TO madoguchi_ingest;

GRANT SELECT, UPDATE ON inbound_item TO madoguchi_ticketd;
GRANT SELECT ON mailbox_state TO madoguchi_ticketd;
GRANT SELECT, INSERT, UPDATE ON ticket, message, attachment, ticket_event TO madoguchi_ticketd;
GRANT SELECT, INSERT ON blob TO madoguchi_ticketd;
GRANT SELECT, UPDATE (failed_logins, locked_until, pw_hash, pw_changed_at) ON app_user TO madoguchi_ticketd;
GRANT SELECT, INSERT, UPDATE, DELETE ON web_session TO madoguchi_ticketd;
GRANT SELECT, INSERT ON auth_event TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE ticket_id_seq, message_id_seq, ticket_event_id_seq, auth_event_id_seq
    TO madoguchi_ticketd;
