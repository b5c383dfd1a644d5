-- 004: operators work the queue (issue 5): who holds a ticket, how it was
-- resolved, when it is due; internal notes; the indexes of the queue views.
--
-- Only ticketd writes these columns.  Every change of holder, status or
-- resolution is also a ticket_event row naming the actor, and a NOTIFY
-- ticket_change in the same transaction.

-- The resolution types of the KPIs (応対結果).  A table rather than a
-- config key: reports join on the code, the labels are shown in two
-- languages, and an admin may add, rename or retire a type (enabled =
-- false keeps the code valid for old tickets) without a release.
CREATE TABLE resolution_type (
    code      text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    position  int NOT NULL,
    label_ja  text NOT NULL,
    label_en  text NOT NULL,
    enabled   boolean NOT NULL DEFAULT true
);
INSERT INTO resolution_type (code, position, label_ja, label_en) VALUES
    ('answered', 1, 'センター内回答（一次回答）', 'Answered by the centre (first contact)'),
    ('escalated', 2, 'エスカレーション', 'Escalated to a department'),
    ('referred', 3, '取次ぎ', 'Referred to another office'),
    ('info_only', 4, '情報提供のみ', 'Information only'),
    ('out_of_scope', 5, '対象外', 'Out of scope');

-- assignee: the operator holding the ticket (claim, assign; NULL after a
-- release).  due_at: when the ticket must be answered; the SLA issue fills
-- it.  Until then it is NULL and the views fall back to created_at, so the
-- sort key is (coalesce(due_at, 'infinity'), created_at, id): due tickets
-- first, then the rest oldest first.
ALTER TABLE ticket
    ADD COLUMN assignee     int REFERENCES app_user (id),
    ADD COLUMN assigned_at  timestamptz,
    ADD COLUMN resolution   text REFERENCES resolution_type (code),
    ADD COLUMN resolved_at  timestamptz,
    ADD COLUMN due_at       timestamptz,
    ADD CONSTRAINT ticket_assigned_at CHECK ((assignee IS NULL) = (assigned_at IS NULL));

-- Internal notes (内部メモ).  Notes are case history in purpose but are
-- free text typed by operators, and operators do type names and phone
-- numbers into them; so they are kept with the correspondence (read by
-- the roles that read mail, purged with it), apart from ticket_event,
-- which stays free of personal data: the note's event carries only the
-- note's id.  Notes are never edited or deleted by ticketd.
CREATE TABLE ticket_note (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES ticket (id),
    at         timestamptz NOT NULL,
    author_id  int NOT NULL REFERENCES app_user (id),
    author     text NOT NULL,               -- the login at the time
    body       text NOT NULL CHECK (body <> '')
);
CREATE INDEX ticket_note_ticket ON ticket_note (ticket_id, id);

-- The queue views (ticketd/tickets.c): each walks one index in its sort
-- order and stops after a page.
--   要対応 (todo): new or open, held by nobody
CREATE INDEX ticket_todo ON ticket ((coalesce(due_at, 'infinity')), created_at, id)
    WHERE status IN ('new', 'open') AND assignee IS NULL;
--   mine: held by one operator, not done
CREATE INDEX ticket_mine ON ticket (assignee, (coalesce(due_at, 'infinity')), created_at, id)
    WHERE assignee IS NOT NULL AND status NOT IN ('resolved', 'closed');
--   waiting for the citizen, waiting for a department: one status each
CREATE INDEX ticket_status_due ON ticket (status, (coalesce(due_at, 'infinity')), created_at, id);
--   resolved (and closed), newest first
CREATE INDEX ticket_done ON ticket (id) WHERE status IN ('resolved', 'closed');

GRANT SELECT ON resolution_type TO madoguchi_ticketd;
GRANT SELECT, INSERT ON ticket_note TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE ticket_note_id_seq TO madoguchi_ticketd;
