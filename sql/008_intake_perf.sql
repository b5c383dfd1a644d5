-- 008: intake claims a batch of inbound items with one lease row instead of
-- a write to every item.
--
-- A lease lists the items one ticketd took in one batch.  Its owner holds
-- the session advisory lock (4710, id % 2147483647) from the claim until the
-- batch is over, and deletes the lease in the batch's own transaction.  A
-- lease whose lock nobody holds belongs to a ticketd that died (or lost its
-- connection) in the middle: the next claim counts one attempt for each of
-- its items still waiting, just as the per-item write used to before the
-- work, so a mail that crashes the parser is still given up on after
-- ticketd.intake_max_attempts.  Owned by ticketd.
CREATE TABLE intake_lease (
    id        bigserial PRIMARY KEY,
    items     bigint[] NOT NULL,
    taken_at  timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON intake_lease TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE intake_lease_id_seq TO madoguchi_ticketd;
