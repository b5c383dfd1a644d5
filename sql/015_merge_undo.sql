-- 015: undoing a merge or a split (issue 5, ticketd/merge.c).
--
-- A merge or a split moves rows from one ticket to another.  To put back
-- exactly what moved, and nothing that arrived later, each move records the
-- ids it moved, per kind, in merge_log:
--   kind 'merge': source_id went into target_id (the source is closed);
--   kind 'split': a message of source_id went into the new ticket target_id.
-- Undoing moves the recorded rows that are still on the target back to the
-- source and sets undone_by/undone_at; rows that came to the target after
-- the move stay there.  The source's previous status, holder and times are
-- kept so that an undone merge reopens it as it was.  Ids only: no text of
-- the citizen's is copied here.
CREATE TABLE merge_log (
    id                 bigserial PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('merge', 'split')),
    source_id          bigint NOT NULL REFERENCES ticket (id),
    target_id          bigint NOT NULL REFERENCES ticket (id),
    message_ids        bigint[] NOT NULL DEFAULT '{}',
    note_ids           bigint[] NOT NULL DEFAULT '{}',
    outbound_ids       bigint[] NOT NULL DEFAULT '{}',
    -- the search_doc rows moved, as pairs (search_kinds[i], search_ids[i])
    search_kinds       text[] NOT NULL DEFAULT '{}',
    search_ids         bigint[] NOT NULL DEFAULT '{}',
    item_ids           bigint[] NOT NULL DEFAULT '{}',
    -- the contact links moved, as pairs (contact_roles[i], contact_ids[i])
    contact_roles      text[] NOT NULL DEFAULT '{}',
    contact_ids        bigint[] NOT NULL DEFAULT '{}',
    case_record        bool NOT NULL DEFAULT false,
    -- tickets merged into the source earlier, which the merge repointed
    repointed_ids      bigint[] NOT NULL DEFAULT '{}',
    -- the source as it was (merge): status, holder, resolved_at, new reply
    prev_status        text NOT NULL,
    prev_assignee      int REFERENCES app_user (id),
    prev_assigned_at   timestamptz,
    prev_resolved_at   timestamptz,
    prev_has_new_reply bool NOT NULL DEFAULT false,
    -- the target's has_new_reply before a merge set it
    target_had_new_reply bool NOT NULL DEFAULT false,
    done_by            text NOT NULL,
    done_at            timestamptz NOT NULL,
    undone_by          text,
    undone_at          timestamptz,
    CHECK ((undone_by IS NULL) = (undone_at IS NULL)),
    CHECK (cardinality(search_kinds) = cardinality(search_ids)),
    CHECK (cardinality(contact_roles) = cardinality(contact_ids))
);
CREATE INDEX merge_log_source ON merge_log (source_id, id);
CREATE INDEX merge_log_target ON merge_log (target_id, id);

GRANT SELECT, INSERT, UPDATE ON merge_log TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE merge_log_id_seq TO madoguchi_ticketd;

-- contact_merge() (011) as a set: the same move and audit rows, returning
-- each link moved (role, contact), which the merge keeps in merge_log.
CREATE FUNCTION contact_merge_links(p_from bigint, p_into bigint, p_user int, p_login text,
                                    p_remote text, p_at timestamptz)
RETURNS TABLE (role text, contact_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE r text := contact_caller(p_user, true, p_at);
BEGIN
    RETURN QUERY
    WITH moved AS (
        UPDATE ticket_contact l SET ticket_id = p_into
         WHERE l.ticket_id = p_from
           AND NOT EXISTS (SELECT 1 FROM ticket_contact o WHERE o.ticket_id = p_into
                            AND o.role = l.role)
        RETURNING l.role, l.contact_id
    ), logged AS (
        INSERT INTO contact_access (at, user_id, login, role, action, contact_id, ticket_id,
                                    reason, remote_addr)
        SELECT p_at, p_user, p_login, r, 'update', m.contact_id, p_into,
               'merge ' || p_from || ' into ' || p_into, coalesce(p_remote, '')
          FROM moved m
        RETURNING 1
    )
    SELECT m.role, m.contact_id FROM moved m;
END $$;

-- The undo: the links (p_roles[i], p_contacts[i]) still on p_from go back to
-- p_into when p_into has no link of that role by now; one audit row each.
-- Returns the number of links moved back.
CREATE FUNCTION contact_unmerge(p_from bigint, p_into bigint, p_roles text[],
                                p_contacts bigint[], p_user int, p_login text,
                                p_remote text, p_at timestamptz)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r text := contact_caller(p_user, true, p_at);
        n int;
BEGIN
    WITH want AS (
        SELECT * FROM unnest(p_roles, p_contacts) AS w (role, contact_id)
    ), moved AS (
        UPDATE ticket_contact l SET ticket_id = p_into
          FROM want w
         WHERE l.ticket_id = p_from AND l.role = w.role AND l.contact_id = w.contact_id
           AND NOT EXISTS (SELECT 1 FROM ticket_contact o WHERE o.ticket_id = p_into
                            AND o.role = l.role)
        RETURNING l.contact_id
    ), logged AS (
        INSERT INTO contact_access (at, user_id, login, role, action, contact_id, ticket_id,
                                    reason, remote_addr)
        SELECT p_at, p_user, p_login, r, 'update', m.contact_id, p_into,
               'unmerge ' || p_into || ' from ' || p_from, coalesce(p_remote, '')
          FROM moved m
        RETURNING 1
    )
    SELECT count(*) INTO n FROM logged;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION contact_merge_links(bigint, bigint, int, text, text, timestamptz),
    contact_unmerge(bigint, bigint, text[], bigint[], int, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION contact_merge_links(bigint, bigint, int, text, text, timestamptz),
    contact_unmerge(bigint, bigint, text[], bigint[], int, text, text, timestamptz)
    TO madoguchi_ticketd;
