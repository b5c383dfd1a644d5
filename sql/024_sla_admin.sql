-- 024: the admin pages of business calendars and SLA policies (issue 6,
-- ticketd/admin_calendar.h).
--
-- ticketd gets no write grant on the calendar tables of sql/016: every
-- change goes through one of the SECURITY DEFINER functions below, which
-- write the change and its audit row (who, when, the rows before and after)
-- in the caller's transaction, so no change is left without its audit row.
-- sql/020's triggers then mark the tickets on the clock dirty and NOTIFY
-- calendar_change; ticketd recomputes them (ticketd/sla.c).  ticketd checks
-- every value first and answers with a message naming the field; the
-- tables' CHECKs stay the last word.

CREATE TABLE calendar_audit (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    -- calendar: a calendar's name; hours, opening, calendar_departments:
    -- a calendar's whole list (entity_id the calendar); annual_closure,
    -- closure, sla_policy: one row (its id); holiday: a date;
    -- holiday_import: a Cabinet Office list (the counts in after)
    entity    text NOT NULL CHECK (entity IN ('calendar', 'hours', 'opening', 'calendar_departments',
                                               'annual_closure', 'closure', 'holiday',
                                               'holiday_import', 'sla_policy')),
    entity_id text NOT NULL,
    action    text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'replace', 'import')),
    before    jsonb NULL,
    after     jsonb NULL
);
CREATE INDEX calendar_audit_at ON calendar_audit (at DESC, id DESC);

-- one audit row: a create (p_new), an update, or a delete (a NULL)
CREATE FUNCTION calendar_audit_row(p_actor text, p_at timestamptz, p_entity text, p_id int,
                                   p_new boolean, b jsonb, a jsonb) RETURNS void
LANGUAGE sql SET search_path = public, pg_temp AS $$
    INSERT INTO calendar_audit (at, actor, entity, entity_id, action, before, after)
    VALUES (p_at, p_actor, p_entity, p_id::text,
            CASE WHEN p_new THEN 'create' WHEN a IS NULL THEN 'delete' ELSE 'update' END, b, a);
$$;

-- a calendar's weekly hours and extra openings as the API shows them
CREATE FUNCTION calendar_hours_json(p_calendar int) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('weekday', weekday,
                'opens', to_char(opens, 'HH24:MI'), 'closes', to_char(closes, 'HH24:MI'))
            ORDER BY weekday, opens), '[]')
      FROM calendar_hours WHERE calendar_id = p_calendar;
$$;

CREATE FUNCTION calendar_openings_json(p_calendar int) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('day', to_char(day, 'YYYY-MM-DD'),
                'opens', to_char(opens, 'HH24:MI'), 'closes', to_char(closes, 'HH24:MI'),
                'reason', reason) ORDER BY day, opens), '[]')
      FROM calendar_opening WHERE calendar_id = p_calendar;
$$;

-- A department's calendar: p_id NULL creates one named p_name (kind
-- 'department', no hours yet); p_name NULL removes one (a department's
-- only, and none an SLA policy counts on; its departments fall back to the
-- ward's); else renames.  The id, or 'none', 'not_department', 'in_use',
-- 'deleted'.
CREATE FUNCTION calendar_admin_calendar(p_actor text, p_at timestamptz, p_id int, p_name text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE b jsonb; v_id int := p_id;
BEGIN
    IF p_id IS NOT NULL THEN
        SELECT to_jsonb(c) INTO b FROM calendar c WHERE id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN 'none';
        END IF;
    END IF;
    IF p_id IS NULL THEN
        INSERT INTO calendar (name, kind) VALUES (p_name, 'department') RETURNING id INTO v_id;
    ELSIF p_name IS NOT NULL THEN
        UPDATE calendar SET name = p_name WHERE id = p_id;
    ELSIF b->>'kind' <> 'department' THEN
        RETURN 'not_department';
    ELSIF EXISTS (SELECT 1 FROM sla_policy WHERE calendar_id = p_id) THEN
        RETURN 'in_use';
    ELSE
        UPDATE department SET calendar_id = NULL WHERE calendar_id = p_id;
        DELETE FROM calendar WHERE id = p_id;
    END IF;
    PERFORM calendar_audit_row(p_actor, p_at, 'calendar', v_id, p_id IS NULL, b,
                               (SELECT to_jsonb(c) FROM calendar c WHERE id = v_id));
    RETURN CASE WHEN p_id IS NOT NULL AND p_name IS NULL THEN 'deleted' ELSE v_id::text END;
END;
$$;

CREATE FUNCTION calendar_departments_json(p_calendar int) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'name', name, 'section', section)
                              ORDER BY position, name, section, id), '[]')
      FROM department WHERE calendar_id = p_calendar;
$$;

-- the departments whose hours are this calendar: exactly p_ids (the others
-- that had it fall back to the ward's).  false: no such calendar, or an id
-- that is no department
CREATE FUNCTION calendar_admin_departments(p_actor text, p_at timestamptz, p_calendar int,
                                           p_ids int[]) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE b jsonb;
BEGIN
    PERFORM 1 FROM calendar WHERE id = p_calendar FOR UPDATE;
    IF NOT FOUND OR (SELECT count(*) FROM department WHERE id = ANY (p_ids))
                    <> cardinality(ARRAY(SELECT DISTINCT unnest(p_ids))) THEN
        RETURN false;
    END IF;
    b := calendar_departments_json(p_calendar);
    UPDATE department SET calendar_id = NULL WHERE calendar_id = p_calendar AND id <> ALL (p_ids);
    UPDATE department SET calendar_id = p_calendar WHERE id = ANY (p_ids)
       AND calendar_id IS DISTINCT FROM p_calendar;
    INSERT INTO calendar_audit (at, actor, entity, entity_id, action, before, after)
    VALUES (p_at, p_actor, 'calendar_departments', p_calendar::text, 'replace', b,
            calendar_departments_json(p_calendar));
    RETURN true;
END;
$$;

-- p_hours: [{"weekday","opens","closes"}] replaces the calendar's hours.
-- false: no such calendar
CREATE FUNCTION calendar_admin_hours(p_actor text, p_at timestamptz, p_calendar int,
                                     p_hours jsonb) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE b jsonb;
BEGIN
    PERFORM 1 FROM calendar WHERE id = p_calendar FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    b := calendar_hours_json(p_calendar);
    DELETE FROM calendar_hours WHERE calendar_id = p_calendar;
    INSERT INTO calendar_hours (calendar_id, weekday, opens, closes)
    SELECT p_calendar, x.weekday, x.opens::time, x.closes::time
      FROM jsonb_to_recordset(p_hours) AS x (weekday smallint, opens text, closes text);
    INSERT INTO calendar_audit (at, actor, entity, entity_id, action, before, after)
    VALUES (p_at, p_actor, 'hours', p_calendar::text, 'replace', b, calendar_hours_json(p_calendar));
    RETURN true;
END;
$$;

-- p_openings: [{"day","opens","closes","reason"}] replaces the calendar's
-- extra openings.  false: no such calendar
CREATE FUNCTION calendar_admin_openings(p_actor text, p_at timestamptz, p_calendar int,
                                        p_openings jsonb) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE b jsonb;
BEGIN
    PERFORM 1 FROM calendar WHERE id = p_calendar FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    b := calendar_openings_json(p_calendar);
    DELETE FROM calendar_opening WHERE calendar_id = p_calendar;
    INSERT INTO calendar_opening (calendar_id, day, opens, closes, reason)
    SELECT p_calendar, x.day::date, x.opens::time, x.closes::time, coalesce(x.reason, '')
      FROM jsonb_to_recordset(p_openings) AS x (day text, opens text, closes text, reason text);
    INSERT INTO calendar_audit (at, actor, entity, entity_id, action, before, after)
    VALUES (p_at, p_actor, 'opening', p_calendar::text, 'replace', b,
            calendar_openings_json(p_calendar));
    RETURN true;
END;
$$;

-- One annual closure: p_id NULL creates, p_row NULL deletes, else updates.
-- p_row {"calendar_id","from_month","from_day","to_month","to_day","reason"}.
-- The row's id, or NULL when p_id names none.
CREATE FUNCTION calendar_admin_annual(p_actor text, p_at timestamptz, p_id int, p_row jsonb)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE b jsonb; a jsonb; v_id int := p_id;
BEGIN
    IF p_id IS NOT NULL THEN
        SELECT to_jsonb(c) INTO b FROM calendar_annual_closure c WHERE id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    IF p_row IS NULL THEN
        DELETE FROM calendar_annual_closure WHERE id = p_id;
    ELSIF p_id IS NULL THEN
        INSERT INTO calendar_annual_closure (calendar_id, from_month, from_day, to_month, to_day, reason)
        SELECT x.calendar_id, x.from_month, x.from_day, x.to_month, x.to_day, x.reason
          FROM jsonb_to_record(p_row) AS x (calendar_id int, from_month smallint, from_day smallint,
                                            to_month smallint, to_day smallint, reason text)
        RETURNING id INTO v_id;
    ELSE
        UPDATE calendar_annual_closure c SET calendar_id = x.calendar_id, from_month = x.from_month,
               from_day = x.from_day, to_month = x.to_month, to_day = x.to_day, reason = x.reason
          FROM jsonb_to_record(p_row) AS x (calendar_id int, from_month smallint, from_day smallint,
                                            to_month smallint, to_day smallint, reason text)
         WHERE c.id = p_id;
    END IF;
    SELECT to_jsonb(c) INTO a FROM calendar_annual_closure c WHERE id = v_id;
    PERFORM calendar_audit_row(p_actor, p_at, 'annual_closure', v_id, p_id IS NULL, b, a);
    RETURN v_id;
END;
$$;

-- One one-off closure, as calendar_admin_annual; p_row {"calendar_id",
-- "starts_at","ends_at","reason"}
CREATE FUNCTION calendar_admin_closure(p_actor text, p_at timestamptz, p_id int, p_row jsonb)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE b jsonb; a jsonb; v_id int := p_id;
BEGIN
    IF p_id IS NOT NULL THEN
        SELECT to_jsonb(c) INTO b FROM calendar_closure c WHERE id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    IF p_row IS NULL THEN
        DELETE FROM calendar_closure WHERE id = p_id;
    ELSIF p_id IS NULL THEN
        INSERT INTO calendar_closure (calendar_id, starts_at, ends_at, reason)
        SELECT x.calendar_id, x.starts_at, x.ends_at, x.reason
          FROM jsonb_to_record(p_row) AS x (calendar_id int, starts_at timestamptz,
                                            ends_at timestamptz, reason text)
        RETURNING id INTO v_id;
    ELSE
        UPDATE calendar_closure c SET calendar_id = x.calendar_id, starts_at = x.starts_at,
               ends_at = x.ends_at, reason = x.reason
          FROM jsonb_to_record(p_row) AS x (calendar_id int, starts_at timestamptz,
                                            ends_at timestamptz, reason text)
         WHERE c.id = p_id;
    END IF;
    SELECT to_jsonb(c) INTO a FROM calendar_closure c WHERE id = v_id;
    PERFORM calendar_audit_row(p_actor, p_at, 'closure', v_id, p_id IS NULL, b, a);
    RETURN v_id;
END;
$$;

-- One SLA policy, as calendar_admin_annual; p_row {"queue","channel",
-- "clock","mode","target_seconds","warning_seconds",
-- "pause_when_waiting_citizen","calendar_id"}
CREATE FUNCTION calendar_admin_policy(p_actor text, p_at timestamptz, p_id int, p_row jsonb)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE b jsonb; a jsonb; v_id int := p_id;
BEGIN
    IF p_id IS NOT NULL THEN
        SELECT to_jsonb(s) INTO b FROM sla_policy s WHERE id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    IF p_row IS NULL THEN
        DELETE FROM sla_policy WHERE id = p_id;
    ELSIF p_id IS NULL THEN
        INSERT INTO sla_policy (queue, channel, clock, mode, target_seconds, warning_seconds,
                                pause_when_waiting_citizen, calendar_id)
        SELECT x.queue, x.channel, x.clock, x.mode, x.target_seconds, x.warning_seconds,
               x.pause_when_waiting_citizen, x.calendar_id
          FROM jsonb_to_record(p_row) AS x (queue text, channel text, clock text, mode text,
               target_seconds int, warning_seconds int, pause_when_waiting_citizen boolean,
               calendar_id int)
        RETURNING id INTO v_id;
    ELSE
        UPDATE sla_policy s SET queue = x.queue, channel = x.channel, clock = x.clock,
               mode = x.mode, target_seconds = x.target_seconds, warning_seconds = x.warning_seconds,
               pause_when_waiting_citizen = x.pause_when_waiting_citizen, calendar_id = x.calendar_id
          FROM jsonb_to_record(p_row) AS x (queue text, channel text, clock text, mode text,
               target_seconds int, warning_seconds int, pause_when_waiting_citizen boolean,
               calendar_id int)
         WHERE s.id = p_id;
    END IF;
    SELECT to_jsonb(s) INTO a FROM sla_policy s WHERE id = v_id;
    PERFORM calendar_audit_row(p_actor, p_at, 'sla_policy', v_id, p_id IS NULL, b, a);
    RETURN v_id;
END;
$$;

-- A municipality's own holiday ('local'): p_name NULL removes it.
-- 'added', 'removed', 'exists' (the date is a holiday already),
-- 'not_local' (a national holiday: holidays-load owns it) or 'none'.
CREATE FUNCTION calendar_admin_holiday(p_actor text, p_at timestamptz, p_day date, p_name text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE b jsonb;
BEGIN
    SELECT to_jsonb(h) INTO b FROM holiday h WHERE day = p_day FOR UPDATE;
    IF p_name IS NOT NULL THEN
        IF b IS NOT NULL THEN
            RETURN 'exists';
        END IF;
        INSERT INTO holiday (day, name, source) VALUES (p_day, p_name, 'local');
    ELSIF b IS NULL THEN
        RETURN 'none';
    ELSIF b->>'source' <> 'local' THEN
        RETURN 'not_local';
    ELSE
        DELETE FROM holiday WHERE day = p_day;
    END IF;
    INSERT INTO calendar_audit (at, actor, entity, entity_id, action, before, after)
    SELECT p_at, p_actor, 'holiday', p_day::text, CASE WHEN p_name IS NULL THEN 'delete' ELSE 'create' END,
           b, (SELECT to_jsonb(h) FROM holiday h WHERE day = p_day);
    RETURN CASE WHEN p_name IS NULL THEN 'removed' ELSE 'added' END;
END;
$$;

-- The Cabinet Office list (lib/holidays.c, for madoguchi-admin
-- holidays-load and ticketd's upload): one row upserted, true added, false
-- changed, NULL unchanged
CREATE FUNCTION holiday_load_row(p_day date, p_name text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO holiday AS h (day, name, source) VALUES (p_day, p_name, 'cabinet-office')
    ON CONFLICT (day) DO UPDATE SET name = EXCLUDED.name, source = EXCLUDED.source
    WHERE h.name IS DISTINCT FROM EXCLUDED.name OR h.source IS DISTINCT FROM EXCLUDED.source
    RETURNING (xmax = 0);
$$;

-- the rows of years y0..y1 the list no longer has (but 'local' ones): how many
CREATE FUNCTION holiday_load_prune(p_y0 int, p_y1 int, p_days date[]) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH d AS (DELETE FROM holiday WHERE day BETWEEN make_date(p_y0, 1, 1) AND make_date(p_y1, 12, 31)
               AND source <> 'local' AND day <> ALL (p_days) RETURNING 1)
    SELECT count(*) FROM d;
$$;

REVOKE ALL ON FUNCTION calendar_admin_calendar(text, timestamptz, int, text),
    calendar_admin_departments(text, timestamptz, int, int[]),
    calendar_admin_hours(text, timestamptz, int, jsonb),
    calendar_admin_openings(text, timestamptz, int, jsonb),
    calendar_admin_annual(text, timestamptz, int, jsonb),
    calendar_admin_closure(text, timestamptz, int, jsonb),
    calendar_admin_policy(text, timestamptz, int, jsonb),
    calendar_admin_holiday(text, timestamptz, date, text),
    holiday_load_row(date, text), holiday_load_prune(int, int, date[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION calendar_admin_calendar(text, timestamptz, int, text),
    calendar_admin_departments(text, timestamptz, int, int[]),
    calendar_admin_hours(text, timestamptz, int, jsonb),
    calendar_admin_openings(text, timestamptz, int, jsonb),
    calendar_admin_annual(text, timestamptz, int, jsonb),
    calendar_admin_closure(text, timestamptz, int, jsonb),
    calendar_admin_policy(text, timestamptz, int, jsonb),
    calendar_admin_holiday(text, timestamptz, date, text),
    holiday_load_row(date, text), holiday_load_prune(int, int, date[]) TO madoguchi_ticketd;
-- the upload's audit row (its counts) is written by ticketd itself
GRANT SELECT, INSERT ON calendar_audit TO madoguchi_ticketd;
GRANT USAGE ON SEQUENCE calendar_audit_id_seq TO madoguchi_ticketd;
