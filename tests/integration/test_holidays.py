#!/usr/bin/python3
"""Holidays, calendars and SLA policies of sql/016 (issue 6) against a real
PostgreSQL: the seeded holidays against the corpus list for 2024-2031
(per-year counts, every date and name), the seeded calendars and policy, the
grants; "madoguchi-admin holidays-load" with the Cabinet Office CSV of the
corpus (rows changed, missing, extra and local before it), with a newer
list for 2028 written here, and with malformed files (every bad line named
by number, nothing loaded); "madoguchi-admin sla-due" computing due times
through lib/bizcal_db from the tables (holidays, 年末年始, Saturday hours,
an extra opening, closures, the crisis switch).

The corpus checks are skipped, each saying so, when ../shared/corpus is absent.

Run: /usr/bin/python3 tests/integration/test_holidays.py
"""
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('holidays')
CORPUS = os.path.join(mdg.SHARED, 'corpus', 'holidays')
CAO_CSV = os.path.join(CORPUS, 'cao-syukujitsu', 'syukujitsu.csv')
LIST_CSV = os.path.join(CORPUS, 'jp_holidays_2024_2031.csv')
HEADER = '国民の祝日・休日月日,国民の祝日・休日名称'
# SOURCE.txt of the corpus: holidays per year 2024-2031
PER_YEAR = [['2024', '21'], ['2025', '19'], ['2026', '18'], ['2027', '17'], ['2028', '16'],
            ['2029', '19'], ['2030', '19'], ['2031', '19']]


def sql(env, q, user='madoguchi_owner'):
    return env.pg.psql(q, user=user)


def refused(env, q, user):
    try:
        env.pg.psql(q, user=user)
        return False
    except subprocess.CalledProcessError as e:
        return 'permission denied' in e.stderr


def write(env, name, data):
    path = os.path.join(env.root, name)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def fails(env, q, user='madoguchi_owner'):
    try:
        env.pg.psql(q, user=user)
        return False
    except subprocess.CalledProcessError:
        return True


def table_dump(env):
    return sql(env, "SELECT md5(string_agg(day || name || source, ',' ORDER BY day)), count(*)"
                    " FROM holiday")


def seeded(env):
    t.equal('seeded holidays per year 2024-2031 (SOURCE.txt)',
            sql(env, "SELECT extract(year FROM day)::int, count(*) FROM holiday"
                     " WHERE day BETWEEN '2024-01-01' AND '2031-12-31' GROUP BY 1 ORDER BY 1"),
            PER_YEAR)
    t.equal('seeded: a few dates',
            sql(env, "SELECT day, name, source FROM holiday WHERE day IN ('2026-11-23',"
                     " '2027-01-11', '2027-03-22', '2028-03-20', '2031-11-24') ORDER BY day"),
            [['2026-11-23', '勤労感謝の日', 'cabinet-office'],
             ['2027-01-11', '成人の日', 'cabinet-office'],
             ['2027-03-22', '休日', 'cabinet-office'],
             ['2028-03-20', '春分の日', 'holiday_jp-computed'],
             ['2031-11-24', '勤労感謝の日 振替休日', 'holiday_jp-computed']])
    t.equal('seeded: the whole Cabinet Office list, 1955-01-01 .. 2027-11-23',
            sql(env, "SELECT count(*), min(day), max(day) FROM holiday"
                     " WHERE source = 'cabinet-office'"),
            [['1067', '1955-01-01', '2027-11-23']])
    if not os.path.exists(LIST_CSV):
        print(f'skip seeded against {LIST_CSV}: absent', flush=True)
        return
    with open(LIST_CSV, encoding='utf-8') as f:
        want = [[r['date'], r['name_cabinet_office'] or r['name_holiday_jp'], r['source']]
                for r in csv.DictReader(f)]
    t.equal('corpus list 2024-2031: 148 rows', len(want), 148)
    t.equal('seeded 2024-2031 = the corpus list, date by date with names and sources',
            sql(env, "SELECT day, name, source FROM holiday"
                     " WHERE day BETWEEN '2024-01-01' AND '2031-12-31' ORDER BY day"), want)


def seeds_and_grants(env):
    t.equal('seeded calendars', sql(env, 'SELECT id, name, kind FROM calendar ORDER BY id'),
            [['1', 'センター', 'centre'], ['2', '区役所 開庁日', 'ward']])
    t.equal('seeded hours: centre Mon-Sat, ward Mon-Fri, 08:30-17:15',
            sql(env, "SELECT calendar_id, string_agg(weekday::text, '' ORDER BY weekday),"
                     " min(opens), max(closes) FROM calendar_hours GROUP BY 1 ORDER BY 1"),
            [['1', '123456', '08:30:00', '17:15:00'], ['2', '12345', '08:30:00', '17:15:00']])
    t.equal('seeded 年末年始 for every calendar',
            sql(env, "SELECT coalesce(calendar_id, 0), from_month, from_day, to_month, to_day,"
                     " reason FROM calendar_annual_closure"),
            [['0', '12', '29', '1', '3', '年末年始']])
    t.equal('seeded policies: 24 wall-clock hours for mail and fax, processing 6 h (sql/025), departments 2 business days',
            sql(env, "SELECT id, coalesce(queue, '*'), channel, clock, mode, target_seconds,"
                     " warning_seconds, pause_when_waiting_citizen FROM sla_policy ORDER BY id"),
            [['1', '*', 'mail', 'response', 'wall_clock_hours', '86400', '21600', 't'],
             ['2', '*', 'fax', 'response', 'wall_clock_hours', '86400', '21600', 't'],
             ['3', '*', 'mail', 'processing', 'wall_clock_hours', '21600', '0', 't'],
             ['4', '*', 'fax', 'processing', 'wall_clock_hours', '21600', '0', 't'],
             ['5', '*', '', 'department', 'business_hours', '63000', '31500', 'f']])
    for role in ('madoguchi_ticketd', 'madoguchi_escalation'):
        t.equal(f'{role} reads holiday and sla_policy',
                sql(env, 'SELECT (SELECT count(*) > 1000 FROM holiday),'
                         ' (SELECT count(*) FROM sla_policy)', user=role), [['t', '5']])
        t.check(f'{role} may not write holiday', refused(
            env, "INSERT INTO holiday VALUES ('2040-01-01', 'x', 'local')", role))
        t.check(f'{role} may not write sla_policy', refused(
            env, 'UPDATE sla_policy SET target_seconds = 1', role))
    t.check('escalationd may not throw the crisis switch', refused(
        env, "INSERT INTO crisis_pause (started_at, reason, started_by) VALUES (now(), 'x', 'y')",
        'madoguchi_escalation'))
    t.check('ticketd may not rewrite why a crisis pause began', refused(
        env, "UPDATE crisis_pause SET reason = 'x'", 'madoguchi_ticketd'))


def load(env, path):
    r = env.admin('holidays-load', path)
    return r.returncode, r.stdout.strip(), r.stderr


def load_corpus(env):
    if not os.path.exists(CAO_CSV):
        print(f'skip holidays-load of {CAO_CSV}: absent', flush=True)
        return
    rc, out, err = load(env, CAO_CSV)
    t.equal('corpus CSV onto the seed: nothing to change', (rc, out),
            (0, 'holidays: 1067 rows (1955-01-01 .. 2027-11-23): 0 added, 0 changed,'
                ' 1067 unchanged, 0 removed'))
    sql(env, "DELETE FROM holiday WHERE day = '2026-11-23';"
             " UPDATE holiday SET name = '成人式' WHERE day = '2027-01-11';"
             " UPDATE holiday SET source = 'holiday_jp-computed' WHERE day = '2027-03-22';"
             " INSERT INTO holiday VALUES ('2027-06-01', '架空の日', 'cabinet-office'),"
             " ('2027-06-23', '慰霊の日', 'local')")
    rc, out, err = load(env, CAO_CSV)
    t.equal('corpus CSV: one added, two changed, one removed', (rc, out),
            (0, 'holidays: 1067 rows (1955-01-01 .. 2027-11-23): 1 added, 2 changed,'
                ' 1064 unchanged, 1 removed'))
    t.equal('corpus CSV: the rows put right, the local one kept',
            sql(env, "SELECT day, name, source FROM holiday WHERE day IN ('2026-11-23',"
                     " '2027-01-11', '2027-03-22', '2027-06-01', '2027-06-23') ORDER BY day"),
            [['2026-11-23', '勤労感謝の日', 'cabinet-office'],
             ['2027-01-11', '成人の日', 'cabinet-office'],
             ['2027-03-22', '休日', 'cabinet-office'],
             ['2027-06-23', '慰霊の日', 'local']])
    t.equal('corpus CSV: the computed years after it untouched',
            sql(env, "SELECT count(*) FROM holiday WHERE day >= '2028-01-01'"
                     " AND source = 'holiday_jp-computed'"), [['73']])
    sql(env, "DELETE FROM holiday WHERE day = '2027-06-23'")


ROWS_2028 = ['2028/1/1,元日', '2028/1/10,成人の日', '2028/2/11,建国記念の日', '2028/2/23,天皇誕生日',
            '2028/3/21,春分の日', '2028/4/29,昭和の日', '2028/5/3,憲法記念日', '2028/5/4,みどりの日',
            '2028/5/5,こどもの日', '2028/7/17,海の日', '2028/8/11,山の日', '2028/9/18,敬老の日',
            '2028/9/22,秋分の日', '2028/10/9,スポーツの日', '2028/11/3,文化の日',
            '2028/11/23,勤労感謝の日']


def load_newer(env):
    rows = ROWS_2028
    path = write(env, 'newer.csv', ('\r\n'.join([HEADER] + rows) + '\r\n').encode('cp932'))
    rc, out, err = load(env, path)
    t.equal('a newer list for 2028 (春分の日 moved a day)', (rc, out),
            (0, 'holidays: 16 rows (2028-01-01 .. 2028-11-23): 1 added, 15 changed,'
                ' 0 unchanged, 1 removed'))
    t.equal('2028 is official now, 春分の日 on 3/21',
            sql(env, "SELECT count(*), count(*) FILTER (WHERE source = 'cabinet-office'),"
                     " bool_or(day = '2028-03-21'), bool_or(day = '2028-03-20') FROM holiday"
                     " WHERE extract(year FROM day) = 2028"), [['16', '16', 't', 'f']])
    t.equal('2029 still computed', sql(env, "SELECT count(*), min(source) FROM holiday"
                                            " WHERE extract(year FROM day) = 2029"),
            [['19', 'holiday_jp-computed']])


def load_malformed(env):
    before = table_dump(env)
    lines = [HEADER.encode('cp932'),
             '2040/1/1,元日'.encode('cp932'),               # 2: good, but not loaded
             '2026/2/30,架空の日'.encode('cp932'),          # 3: no such date
             'abc,名前'.encode('cp932'),                    # 4: not a date
             b'2040/1/2,',                                  # 5: no name
             '2040/1/3,名前,余分'.encode('cp932'),          # 6: three fields
             b'2040/1/4,\x82\xff',                          # 7: not CP932
             '2040/1/1,重複'.encode('cp932'),               # 8: 2040/1/1 twice
             b'',                                           # 9: blank, allowed
             '2040/13/1,十三月'.encode('cp932'),            # 10: month 13
             '２０４０/1/5,全角'.encode('cp932')]           # 11: full-width digits
    rc, out, err = load(env, write(env, 'bad.csv', b'\r\n'.join(lines) + b'\r\n'))
    t.equal('malformed: exit 1, nothing printed on stdout', (rc, out), (1, ''))
    named = [n for n in range(1, 13) if f'line {n}: ' in err]
    t.equal('malformed: every bad line named by number', named, [3, 4, 5, 6, 7, 8, 10, 11])
    t.check('malformed: "the same date as line 2" for line 8',
            'line 8: the same date as line 2' in err, err)
    t.check('malformed: says nothing was loaded', '8 bad lines' in err and
            'nothing was loaded' in err, err)
    t.equal('malformed: the table is as it was', table_dump(env), before)
    part = write(env, 'part.csv', '\r\n'.join([HEADER] + ROWS_2028[:3] + [
        '2029/1/1,元日']).encode('cp932'))
    rc, out, err = load(env, part)
    t.check('a part of a year: refused, each short year named', rc == 1 and
            'year 2028: 3 rows' in err and 'year 2029: 1 row;' in err and
            'not a whole-year list' in err, err)
    mixed = write(env, 'mixed.csv', '\r\n'.join([HEADER] + ROWS_2028[:8]).encode('cp932') +
                  b'\r\n' + '\r\n'.join(ROWS_2028[8:]).encode('utf-8'))
    rc, out, err = load(env, mixed)
    t.check('a CP932 file with UTF-8 lines: each named', rc == 1 and
            [n for n in range(1, 18) if f'line {n}: ' in err] == list(range(10, 18)) and
            'line 11: half-width katakana in the name' in err, err)
    t.equal('after the refusals the table is as it was', table_dump(env), before)
    utf8 = write(env, 'utf8.csv', b'\xef\xbb\xbf' + '\n'.join([HEADER] + ROWS_2028).encode('utf-8'))
    rc, out, err = load(env, utf8)
    t.equal('the list re-saved as UTF-8 (with a BOM) reads the same', (rc, out),
            (0, 'holidays: 16 rows (2028-01-01 .. 2028-11-23): 0 added, 0 changed,'
                ' 16 unchanged, 0 removed'))
    rc, out, err = load(env, write(env, 'empty.csv', HEADER.encode('cp932') + b'\r\n'))
    t.check('only a header: refused', rc == 1 and 'no holidays' in err, err)
    rc, out, err = load(env, os.path.join(env.root, 'absent.csv'))
    t.check('a missing file: exit 1', rc == 1 and 'could not open' in err, err)
    t.equal('after the refusals the table is as it was', table_dump(env), before)


def due(env, policy, when):
    r = env.admin('sla-due', str(policy), when)
    if r.returncode != 0:
        return f'exit {r.returncode}: {r.stderr.strip()}'
    lines = dict(line.split(None, 1) for line in r.stdout.splitlines()[1:])
    return lines['due'].replace(' (Tokyo)', '') + ' / ' + lines['warning'].replace(' (Tokyo)', '')


def sla_due(env):
    sql(env, "INSERT INTO calendar (name, kind) VALUES ('住民記録係', 'department');"
             " INSERT INTO calendar_hours SELECT 3, w, '08:30', '17:15'"
             "   FROM generate_series(1, 5) w;"
             " INSERT INTO calendar_opening VALUES (3, '2026-11-21', '09:00', '12:00', '土曜開庁');"
             " INSERT INTO sla_policy (queue, channel, mode, target_seconds, warning_seconds,"
             "   calendar_id) VALUES ('ward', 'mail', 'next_business_day_end', 0, 7200, 2),"
             "   ('ward', 'fax', 'business_hours', 28800, 7200, 2),"
             "   ('dept', 'mail', 'next_business_day_end', 0, 7200, 3),"
             "   ('centre', 'mail', 'next_business_day_end', 0, 7200, 1)")
    t.equal('wall clock: Fri 2026-12-25 17:20', due(env, 1, '2026-12-25 17:20'),
            '2026-12-26 17:20:00 / 2026-12-26 11:20:00')
    t.equal('next business day, ward: Mon 12/28 16:00 is due 1/4',
            due(env, 6, '2026-12-28 16:00'), '2027-01-04 17:15:00 / 2027-01-04 15:15:00')
    t.equal('next business day, ward: 12/29 counts as 1/4',
            due(env, 6, '2026-12-29T09:00'), '2027-01-04 17:15:00 / 2027-01-04 15:15:00')
    t.equal('next business day, ward: Sat 1/9, Mon 1/11 成人の日 from the table',
            due(env, 6, '2027-01-09 10:00'), '2027-01-12 17:15:00 / 2027-01-12 15:15:00')
    t.equal('business hours, ward: Sat 11/21 10:00, Mon 11/23 勤労感謝の日',
            due(env, 7, '2026-11-21 10:00'), '2026-11-24 16:30:00 / 2026-11-24 14:30:00')
    t.equal('department with a Saturday opening: Fri 11/20 17:20 due Sat 12:00',
            due(env, 8, '2026-11-20 17:20:00'), '2026-11-21 12:00:00 / 2026-11-21 10:00:00')
    t.equal('centre open on Saturdays: Fri 12/25 17:20 due Sat 12/26',
            due(env, 9, '2026-12-25 17:20'), '2026-12-26 17:15:00 / 2026-12-26 15:15:00')
    sql(env, "INSERT INTO calendar_closure (calendar_id, starts_at, ends_at, reason) VALUES"
             " (NULL, '2026-12-10 13:00+09', '2026-12-10 17:15+09', '停電'),"
             " (2, '2026-12-11 00:00+09', '2026-12-12 00:00+09', '庁舎点検')")
    t.equal('closure of an afternoon: due at its start',
            due(env, 6, '2026-12-09 10:00'), '2026-12-10 13:00:00 / 2026-12-10 11:00:00')
    t.equal('closure of a whole day: skipped',
            due(env, 6, '2026-12-10 10:00'), '2026-12-14 17:15:00 / 2026-12-14 15:15:00')
    sql(env, "INSERT INTO crisis_pause (started_at, ended_at, reason, started_by) VALUES"
             " ('2026-12-07 13:00+09', '2026-12-08 10:00+09', '大雨', 'sv1')",
        user='madoguchi_ticketd')
    t.equal('crisis pause, business hours: 4 h before, 4 h after',
            due(env, 7, '2026-12-07 09:00'), '2026-12-08 14:00:00 / 2026-12-08 12:00:00')
    t.equal('crisis pause, wall clock: 21 h later',
            due(env, 1, '2026-12-07 09:00'), '2026-12-09 06:00:00 / 2026-12-09 00:00:00')
    sql(env, "INSERT INTO crisis_pause (started_at, reason, started_by) VALUES"
             " ('2026-12-15 10:00+09', '地震', 'sv1')", user='madoguchi_ticketd')
    t.equal('crisis switch on: no due time', due(env, 7, '2026-12-15 09:00'),
            'never (a pause has not ended) / never (a pause has not ended)')
    t.check('a second crisis switch while one is on: refused', fails(
        env, "INSERT INTO crisis_pause (started_at, reason, started_by)"
             " VALUES ('2026-12-15 11:00+09', 'x', 'sv2')", 'madoguchi_ticketd')
        and sql(env, 'SELECT count(*) FROM crisis_pause') == [['2']])
    sql(env, "UPDATE crisis_pause SET ended_at = '2026-12-15 12:00+09', ended_by = 'sv1'"
             " WHERE ended_at IS NULL", user='madoguchi_ticketd')
    t.equal('crisis switch off at 12:00: 1 h + 5:15 on Tue, 1:45 on Wed',
            due(env, 7, '2026-12-15 09:00'), '2026-12-16 10:15:00 / 2026-12-15 17:00:00')
    t.check('sla-due: unknown policy', due(env, 99, '2026-12-15 09:00').startswith('exit 1')
            and 'no such SLA policy' in due(env, 99, '2026-12-15 09:00'))
    t.check('sla-due: 2/30 is a usage error',
            due(env, 1, '2026-02-30 09:00').startswith('exit 2'))


def constraints(env):
    t.check('a business-hours policy needs a calendar', fails(
        env, "INSERT INTO sla_policy (queue, mode, target_seconds) VALUES"
             " ('x', 'business_hours', 3600)"))
    t.check('one policy per queue, channel and clock', fails(
        env, "INSERT INTO sla_policy (channel, mode, target_seconds) VALUES"
             " ('mail', 'wall_clock_hours', 3600)"))
    t.check('an annual closure on 4/31', fails(
        env, "INSERT INTO calendar_annual_closure (from_month, from_day, to_month, to_day, reason)"
             " VALUES (4, 31, 5, 1, 'x')"))
    t.check('hours that close before they open', fails(
        env, "INSERT INTO calendar_hours VALUES (1, 0, '17:00', '09:00')"))


def main():
    with mdg.Env('holidays') as env:
        env.start_db()
        seeded(env)
        seeds_and_grants(env)
        load_corpus(env)
        load_newer(env)
        load_malformed(env)
        sla_due(env)
        constraints(env)
    t.done()


main()
