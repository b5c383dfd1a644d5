-- Department escalation (issue 6): the department directory, and each
-- escalation of a ticket to a ward department (所管課) by mail.
--
-- An escalation is an outgoing mail (outbound_mail kind 'escalation') from
-- the centre's liaison address with its own token in the subject,
-- "[#E-2026-00123#]", so that the department's answer threads back from any
-- mail client, and through 無害化 (LGWAN sanitising, which drops
-- attachments, HTML and often the In-Reply-To header).  The answer is taken
-- in by ticketd's intake (ticketd/intake.c), in the statement that stores
-- the mail: the escalation is closed in the same transaction, so nothing
-- that reads escalation (the reminders of escalationd) sees an answered
-- escalation as open.

CREATE TABLE department (
    id          serial PRIMARY KEY,
    name        text NOT NULL CHECK (name <> '' AND length(name) <= 100),      -- 課
    section     text NOT NULL DEFAULT '' CHECK (length(section) <= 100),      -- 係 ('' = the 課 itself)
    mail        text[] NOT NULL CHECK (cardinality(mail) BETWEEN 1 AND 10),  -- liaison addresses
    head_mail   text,                       -- the head of section: reminders' last resort copy
    phone       text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    calendar_id int,                        -- its business hours (NULL: the ward's)
    enabled     boolean NOT NULL DEFAULT true,
    position    int NOT NULL DEFAULT 0,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (name, section)
);

-- Tokens are numbered per year (Tokyo): E-2026-00001, ...
CREATE TABLE escalation_counter (
    year  int PRIMARY KEY,
    last  int NOT NULL
);

CREATE TABLE escalation (
    id                 bigserial PRIMARY KEY,
    token              text NOT NULL UNIQUE CHECK (token ~ '^E-[0-9]{4}-[0-9]{5,}$'),
    ticket_id          bigint NOT NULL REFERENCES ticket (id),
    department_id      int NOT NULL REFERENCES department (id),
    message_id         bigint NOT NULL REFERENCES message (id),   -- the mail sent
    state              text NOT NULL DEFAULT 'open'
                       CHECK (state IN ('open', 'answered', 'department_contacts', 'cancelled')),
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL,
    closed_at          timestamptz,
    closed_by          text,                -- a login, or 'department' for an answer by mail
    answer_message_id  bigint REFERENCES message (id),
    reminders          int NOT NULL DEFAULT 0,
    next_reminder_at   timestamptz,         -- escalationd's; NULL: none due (closed, or not planned yet)
    last_reminder_at   timestamptz,
    head_copied_at     timestamptz,
    CHECK ((state = 'open') = (closed_at IS NULL))
);
CREATE INDEX escalation_ticket ON escalation (ticket_id, id);
CREATE INDEX escalation_open ON escalation (next_reminder_at, id) WHERE state = 'open';
CREATE INDEX escalation_message ON escalation (message_id);

-- which department answer a message is (the timeline says so)
ALTER TABLE message ADD COLUMN escalation_id bigint REFERENCES escalation (id);

-- The next token of the year p_year: one row lock on the counter, held to
-- the end of the caller's transaction, so numbers are never given twice.
CREATE FUNCTION escalation_next_token(p_year int) RETURNS text
LANGUAGE sql AS $$
    INSERT INTO escalation_counter AS c (year, last) VALUES (p_year, 1)
    ON CONFLICT (year) DO UPDATE SET last = c.last + 1
    RETURNING 'E-' || p_year || '-' || lpad(last::text, 5, '0');
$$;

GRANT SELECT, INSERT, UPDATE ON department TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE department_id_seq, escalation_id_seq TO madoguchi_ticketd;
GRANT SELECT, INSERT, UPDATE ON escalation, escalation_counter TO madoguchi_ticketd;
GRANT EXECUTE ON FUNCTION escalation_next_token(int) TO madoguchi_ticketd;
GRANT SELECT ON department TO madoguchi_escalation;
GRANT SELECT, UPDATE (reminders, next_reminder_at, last_reminder_at, head_copied_at)
    ON escalation TO madoguchi_escalation;
