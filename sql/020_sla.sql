-- The 24-hour response SLA on the ticket (issue 6): when the clock started,
-- when it is due and when it warns (lib/bizcal on the calendars and
-- policies of sql/016, computed by ticketd/sla.c), and when the first reply
-- stopped it.
--
-- The tenders count 納期率 = replies within target ÷ replies and 未処理 =
-- items with no reply past their due time, on the items the centre itself
-- handles: a ticket is on the centre's clock while it has no reply and is
-- new, open or waiting for the citizen; escalated items are reported apart.
--
-- ticketd recomputes due_at and warn_at for every ticket whose sla_dirty is
-- set.  Triggers set it (and bump sla_gen, so that a recomputation that
-- raced a change does not clear it) whenever what the due time depends on
-- changes: the status (waiting for the citizen pauses the clock), the queue
-- or channel (another policy), the crisis switch, a calendar or a policy.
-- responded_at follows the outgoing replies by trigger, so every path that
-- queues, approves, cancels, requeues or kills a reply keeps it right.

ALTER TABLE ticket
    ADD COLUMN received_at    timestamptz,          -- the SLA clock's start: the first item's arrival
    ADD COLUMN responded_at   timestamptz,          -- the first reply to the citizen queued (or approved)
    ADD COLUMN warn_at        timestamptz,
    ADD COLUMN sla_policy_id  int,
    ADD COLUMN sla_dirty      boolean NOT NULL DEFAULT true,
    ADD COLUMN sla_gen        int NOT NULL DEFAULT 0,
    ADD COLUMN sla_warned_at  timestamptz;          -- the warning alert went out

UPDATE ticket t SET received_at = coalesce((SELECT min(i.arrived_at) FROM message m
    JOIN inbound_item i ON i.id = m.inbound_item_id WHERE m.ticket_id = t.id), t.created_at);
ALTER TABLE ticket ALTER COLUMN received_at SET NOT NULL;

CREATE INDEX ticket_sla_dirty ON ticket (id) WHERE sla_dirty;
-- everything due or at risk (warn_at <= due_at): the board, the sweep and
-- the warnings not yet sent.  One index: each one more on ticket costs
-- intake (tests/bench/ingest) and every recomputation.
CREATE INDEX ticket_sla_warn_open ON ticket (warn_at, due_at, id)
    WHERE responded_at IS NULL AND status IN ('new', 'open', 'waiting_citizen');
-- the attainment figures by the day received: index-only (the board
-- counts a month of tickets on every load)
CREATE INDEX ticket_received ON ticket (received_at)
    INCLUDE (id, status, sla_policy_id, responded_at, due_at, merged_into);

CREATE FUNCTION ticket_sla_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.received_at := coalesce(NEW.received_at, NEW.last_inbound_at, NEW.created_at);
    RETURN NEW; -- sla_dirty defaults to true (a fixture may insert its own due time)
END;
$$;
CREATE TRIGGER ticket_sla_insert BEFORE INSERT ON ticket
    FOR EACH ROW EXECUTE FUNCTION ticket_sla_insert();

CREATE FUNCTION ticket_sla_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status OR NEW.queue IS DISTINCT FROM OLD.queue
       OR NEW.channel IS DISTINCT FROM OLD.channel OR NEW.received_at IS DISTINCT FROM OLD.received_at
       OR NEW.sla_gen > OLD.sla_gen THEN
        NEW.sla_dirty := true;
        NEW.sla_gen := greatest(NEW.sla_gen, OLD.sla_gen + 1);
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER ticket_sla_update BEFORE UPDATE OF status, queue, channel, received_at, sla_gen ON ticket
    FOR EACH ROW EXECUTE FUNCTION ticket_sla_update();

-- The first reply that counts: queued (or approved, then its approval
-- time), or sent; not cancelled, returned, waiting for approval or dead.
CREATE FUNCTION ticket_responded(p_ticket bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE ticket t SET responded_at = r.at
      FROM (SELECT min(CASE WHEN o.approval IS NOT NULL THEN coalesce(o.reviewed_at, o.created_at)
                            ELSE o.created_at END) AS at
              FROM outbound_mail o
             WHERE o.ticket_id = p_ticket AND o.kind = 'reply' AND o.state IN ('queued', 'sent')) r
     WHERE t.id = p_ticket AND t.responded_at IS DISTINCT FROM r.at;
$$;

CREATE FUNCTION outbound_sla() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.kind = 'reply' THEN
        PERFORM ticket_responded(NEW.ticket_id);
        IF TG_OP = 'UPDATE' AND OLD.ticket_id <> NEW.ticket_id THEN
            PERFORM ticket_responded(OLD.ticket_id); -- a merge moved it
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbound_sla AFTER INSERT OR UPDATE OF state, ticket_id, reviewed_at ON outbound_mail
    FOR EACH ROW EXECUTE FUNCTION outbound_sla();

UPDATE ticket t SET responded_at = r.at
  FROM (SELECT o.ticket_id, min(CASE WHEN o.approval IS NOT NULL
                                     THEN coalesce(o.reviewed_at, o.created_at) ELSE o.created_at END) AS at
          FROM outbound_mail o WHERE o.kind = 'reply' AND o.state IN ('queued', 'sent')
         GROUP BY o.ticket_id) r
 WHERE t.id = r.ticket_id;

-- A change of the crisis switch, a calendar or a policy: every ticket on
-- the clock is recomputed, and ticketd rereads its cache (NOTIFY).
CREATE FUNCTION sla_everything_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE ticket SET sla_gen = sla_gen + 1
     WHERE responded_at IS NULL AND status IN ('new', 'open', 'waiting_citizen');
    PERFORM pg_notify('calendar_change', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
CREATE TRIGGER crisis_pause_sla AFTER INSERT OR UPDATE OR DELETE ON crisis_pause
    FOR EACH STATEMENT EXECUTE FUNCTION sla_everything_dirty();
CREATE TRIGGER sla_policy_sla AFTER INSERT OR UPDATE OR DELETE ON sla_policy
    FOR EACH STATEMENT EXECUTE FUNCTION sla_everything_dirty();
CREATE TRIGGER calendar_hours_sla AFTER INSERT OR UPDATE OR DELETE ON calendar_hours
    FOR EACH STATEMENT EXECUTE FUNCTION sla_everything_dirty();
CREATE TRIGGER calendar_closure_sla AFTER INSERT OR UPDATE OR DELETE ON calendar_closure
    FOR EACH STATEMENT EXECUTE FUNCTION sla_everything_dirty();
CREATE TRIGGER calendar_opening_sla AFTER INSERT OR UPDATE OR DELETE ON calendar_opening
    FOR EACH STATEMENT EXECUTE FUNCTION sla_everything_dirty();
CREATE TRIGGER calendar_annual_sla AFTER INSERT OR UPDATE OR DELETE ON calendar_annual_closure
    FOR EACH STATEMENT EXECUTE FUNCTION sla_everything_dirty();
CREATE TRIGGER holiday_sla AFTER INSERT OR UPDATE OR DELETE ON holiday
    FOR EACH STATEMENT EXECUTE FUNCTION sla_everything_dirty();

