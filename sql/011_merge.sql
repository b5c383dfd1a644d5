-- 011: merge two tickets, split an item off into its own ticket (issue 5,
-- ticketd/merge.c).
--
-- A merged ticket is closed and names the ticket it went into; its
-- correspondence, notes, outgoing mail, search rows and contact links move
-- there.  The ticket row itself stays (its number was told to the citizen in
-- the subject tag [受付番号:N]): intake follows merged_into, so a later
-- reply carrying the old tag lands on the ticket it was merged into.
-- merged_into always names a ticket that is not merged itself: merging into
-- a merged ticket is refused, and merging a ticket that others were merged
-- into moves their merged_into along.
ALTER TABLE ticket
    ADD COLUMN merged_into bigint REFERENCES ticket (id),
    ADD CONSTRAINT ticket_merged_not_self CHECK (merged_into <> id);
CREATE INDEX ticket_merged_into ON ticket (merged_into) WHERE merged_into IS NOT NULL;

-- notes follow their ticket on a merge (ticketd otherwise only inserts them)
GRANT UPDATE (ticket_id) ON ticket_note TO madoguchi_ticketd;

-- The contact links of p_from move to p_into, each role the target does not
-- have yet (a link the target has for that role wins; the other stays on the
-- closed ticket and is still found through it).  ticketd reaches the contact
-- store only through functions like this one, which write contact_access in
-- the same statement: one 'update' row per link moved.  Returns the number
-- of links moved.
CREATE FUNCTION contact_merge(p_from bigint, p_into bigint, p_user int, p_login text,
                              p_remote text, p_at timestamptz)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r text := contact_caller(p_user, true, p_at);
        n int;
BEGIN
    WITH moved AS (
        UPDATE ticket_contact l SET ticket_id = p_into
         WHERE l.ticket_id = p_from
           AND NOT EXISTS (SELECT 1 FROM ticket_contact o WHERE o.ticket_id = p_into
                            AND o.role = l.role)
        RETURNING l.contact_id
    ), logged AS (
        INSERT INTO contact_access (at, user_id, login, role, action, contact_id, ticket_id,
                                    reason, remote_addr)
        SELECT p_at, p_user, p_login, r, 'update', m.contact_id, p_into,
               'merge ' || p_from || ' into ' || p_into, coalesce(p_remote, '')
          FROM moved m
        RETURNING 1
    )
    SELECT count(*) INTO n FROM logged;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION contact_merge(bigint, bigint, int, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION contact_merge(bigint, bigint, int, text, text, timestamptz)
    TO madoguchi_ticketd;
