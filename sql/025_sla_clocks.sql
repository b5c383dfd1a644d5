-- 025: the two clocks issue 6 still lacked.
--
-- The processing clock (平均処理時間, the tenders' "6 h from receipt" note):
-- from receipt to the ticket's resolution, on a 'processing' policy; its
-- due time is kept after the resolution so that the reports can say whether
-- the ticket was done in time.
--
-- The department clock: an escalation leaves the centre's SLA and runs on
-- the department's own calendar (its business hours; the ward's 開庁日 when
-- it has none), on a 'department' policy.  ticketd computes due_at/warn_at
-- of open escalations marked sla_dirty, as it does for tickets.

ALTER TABLE sla_policy DROP CONSTRAINT sla_policy_clock_check;
ALTER TABLE sla_policy ADD CONSTRAINT sla_policy_clock_check
    CHECK (clock IN ('response', 'processing', 'department'));

ALTER TABLE ticket ADD COLUMN processing_due_at timestamptz;

ALTER TABLE escalation
    ADD COLUMN due_at     timestamptz,
    ADD COLUMN warn_at    timestamptz,
    ADD COLUMN sla_dirty  boolean NOT NULL DEFAULT true,
    ADD COLUMN sla_gen    int NOT NULL DEFAULT 0;   -- a recomputation stores only over the generation it read
CREATE INDEX escalation_sla_dirty ON escalation (id) WHERE sla_dirty;
CREATE INDEX escalation_due_open ON escalation (due_at, id) WHERE state = 'open';

-- seeds: processing within 6 wall-clock hours of receipt for mail and fax
-- (000 L2043, a note without a level: no warning); a department answers
-- within two of its business days (2 x 8:45), warned when one is left.
INSERT INTO sla_policy (queue, channel, clock, mode, target_seconds, warning_seconds, calendar_id)
SELECT NULL, ch, 'processing', 'wall_clock_hours', 21600, 0, c.id
  FROM calendar c, unnest(ARRAY['mail', 'fax']) ch WHERE c.kind = 'centre';
INSERT INTO sla_policy (queue, channel, clock, mode, target_seconds, warning_seconds,
                        pause_when_waiting_citizen, calendar_id)
SELECT NULL, NULL, 'department', 'business_hours', 63000, 31500, false, c.id
  FROM calendar c WHERE c.kind = 'ward';

-- A calendar, policy or crisis change: tickets on either clock and open
-- escalations are recomputed.
CREATE OR REPLACE FUNCTION sla_everything_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE ticket SET sla_gen = sla_gen + 1
     WHERE status IN ('new', 'open', 'waiting_citizen', 'escalated')
       AND (responded_at IS NULL OR resolved_at IS NULL);
    UPDATE escalation SET sla_dirty = true, sla_gen = sla_gen + 1 WHERE state = 'open';
    PERFORM pg_notify('calendar_change', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

-- a department's calendar changed: its open escalations are recomputed
CREATE FUNCTION department_sla() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.calendar_id IS DISTINCT FROM OLD.calendar_id THEN
        UPDATE escalation SET sla_dirty = true, sla_gen = sla_gen + 1
         WHERE department_id = NEW.id AND state = 'open';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER department_sla AFTER UPDATE OF calendar_id ON department
    FOR EACH ROW EXECUTE FUNCTION department_sla();

-- the attainment figures read the processing clock too: still index-only
DROP INDEX ticket_received;
CREATE INDEX ticket_received ON ticket (received_at)
    INCLUDE (id, status, sla_policy_id, responded_at, due_at, merged_into, resolved_at,
             processing_due_at);

UPDATE ticket SET sla_dirty = true WHERE resolved_at IS NULL OR responded_at IS NULL;

GRANT UPDATE (due_at, warn_at, sla_dirty, sla_gen) ON escalation TO madoguchi_ticketd;
