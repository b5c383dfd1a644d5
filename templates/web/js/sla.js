// SLA状況 (#/sla): the supervisors' board of the 24-hour response target
// (ticketd/sla.h, issue 6).  Operators and admins read it too; only
// supervisors get the crisis switch.  Ward viewers have no link and are
// told the page is not theirs.
//
//   期限超過 / まもなく期限   tickets past their due time or their warning
//                            time, most late first, with how late or how
//                            long left in words
//   所管課の回答待ち          open escalations by their department due time
//                            (the department's calendar), late or left in
//                            words, age and reminders; then per department
//   納期率・未処理            today and this month from the board, and any
//                            period through GET /api/sla/stats; the
//                            processing clock (平均処理時間) and the
//                            escalations per department of the period
//   危機管理モード            the crisis switch: who, since, why; on with a
//                            reason, off after a confirmation
//
// The state of a row is said in words and by a shape (▲ overdue, ● at
// risk), never by colour alone.  "Now" is the server's (the board's "now"):
// the daemon's clock, pinned in tests, decides what is late.
//
// The board is fetched again on ticket events (at most once a second) and
// every 30 s anyway, since time passing makes tickets late by itself.  A
// change in the number of overdue tickets is announced politely.  Forms
// are built once per visit and keep what was typed across refreshes; the
// data parts are redrawn in place.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime, isoOrEmpty, label } from './format.js';
import { announce, errorText } from './ui.js';

const ROLES = ['operator', 'supervisor', 'admin'];
const PERIODIC_MS = 30000;
const THROTTLE_MS = 1000;
const RECOMPUTE_MS = 2000;  // ticketd recomputes the due times after a switch by itself

let role = '';
let shown = false;
let board = null;          // the last GET /api/sla
let boardError = '';       // why it could not be loaded, in words
let period = null;         // the last GET /api/sla/stats
let periodError = '';
let crisisNote = null;     // {kind: 'error'|'ok', text}
let confirming = false;    // the "switch off?" question is open
let generation = 0;
let lastLoad = 0;
let pending = 0;           // setTimeout of a throttled reload
let ticker = 0;            // setInterval of the periodic reload
let lastOverdue = null;    // the count announced last

// ---- the hooks app.js calls ----

export function allowed(r) {
  return ROLES.includes(r);
}

// After log-in: the header link for the roles that may use the page.
export function start(userRole) {
  role = userRole || '';
  const a = document.getElementById('nav-sla');
  if (a) a.hidden = !allowed(role);
}

// Log-out: forget everything.
export function stop() {
  start('');
  clear();
  period = null;
  periodError = '';
}

// Leaving the page.
export function clear() {
  generation += 1;
  shown = false;
  board = null;
  boardError = '';
  crisisNote = null;
  confirming = false;
  lastOverdue = null;
  clearTimeout(pending);
  pending = 0;
  clearInterval(ticker);
  ticker = 0;
  const box = document.getElementById('sla-content');
  if (box) box.replaceChildren();
}

// Show the page; focus its heading when asked (a route change).
export async function show(focus) {
  if (!shown) {
    clear();
    shown = true;
    build();
    // back from a ticket: the period counted last stays, with its dates
    if (period) restoreForm({ 'sla-from': period.from, 'sla-to': period.to });
  }
  if (!allowed(role)) {
    if (focus) focusTitle();
    return;
  }
  if (!ticker) ticker = setInterval(() => schedule(), PERIODIC_MS);
  if (focus) focusTitle();
  await load();
}

// The language changed: build again, keeping what was typed.
export function render() {
  if (!shown) return;
  const kept = formValues();
  build();
  restoreForm(kept);
  draw();
}

// A ticket changed somewhere (live event), or the stream reopened.
export function changed() {
  if (shown && allowed(role)) schedule();
}

function focusTitle() {
  const h = document.getElementById('sla-title');
  if (h) h.focus();
}

// at most one reload a second, however many events arrive
function schedule() {
  if (pending) return;
  const wait = Math.max(0, lastLoad + THROTTLE_MS - Date.now());
  pending = setTimeout(() => {
    pending = 0;
    load().catch(() => {});
  }, wait);
}

async function load() {
  const gen = ++generation;
  lastLoad = Date.now();
  try {
    const data = await api.slaBoard();
    if (gen !== generation || !shown) return;
    board = data || {};
    boardError = '';
  } catch (e) {
    if (gen !== generation || !shown) return;
    if (e.status === 401) return;
    boardError = errorText(e);
  }
  announceOverdue();
  draw();
}

function list(name) {
  return board && Array.isArray(board[name]) ? board[name] : [];
}

function announceOverdue() {
  if (!board) return;
  const n = list('overdue').length;
  if (lastOverdue !== null && n !== lastOverdue) announce(t('sla_announce_overdue', { n }));
  lastOverdue = n;
}

// ---- durations in words ----

// 5日2時間, 2時間15分, 45分 (at most two units; under a minute said so)
export function duration(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  if (s < 60) return t('sla_dur_under_minute');
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [];
  if (d) parts.push(t('sla_dur_d', { n: d }));
  if (h) parts.push(t('sla_dur_h', { n: h }));
  if (!d && m) parts.push(t('sla_dur_m', { n: m }));
  return parts.join(t('sla_dur_join'));
}

function secondsBetween(fromIso, toIso) {
  const a = Date.parse(fromIso);
  const b = Date.parse(toIso);
  return Number.isNaN(a) || Number.isNaN(b) ? 0 : Math.round((b - a) / 1000);
}

// The state by shape and word: ▲ 期限超過 / ● 期限間近
export function stateBadge(kind, text) {
  return el('span', { class: `sla-state sla-${kind}` },
    el('span', { class: 'sla-shape', 'aria-hidden': 'true' }, kind === 'overdue' ? '▲' : '●'), ' ', text);
}

// ---- the page ----

function section(id, titleKey, ...content) {
  return el('section', { class: 'sla-part', id, 'aria-labelledby': `${id}-title` },
    el('h2', { id: `${id}-title` }, t(titleKey)), ...content);
}

function build() {
  const box = document.getElementById('sla-content');
  if (!box) return;
  document.title = `${t('sla_title')} – 窓口`;
  const head = el('h1', { id: 'sla-title', tabindex: '-1' }, t('sla_title'));
  if (!allowed(role)) {
    box.replaceChildren(head, el('p', { class: 'form-error', id: 'sla-refused' }, t('sla_not_allowed')));
    return;
  }
  box.replaceChildren(
    head,
    el('p', { class: 'hint' }, t('sla_intro')),
    el('p', { id: 'sla-asof', class: 'sla-asof' }),
    el('p', { id: 'sla-error', class: 'form-error', role: 'alert', hidden: true }),
    section('sla-crisis', 'sla_crisis_title', el('div', { id: 'sla-crisis-state' }), crisisControls()),
    section('sla-overdue', 'sla_overdue_title', el('div', { id: 'sla-overdue-body' })),
    section('sla-atrisk', 'sla_atrisk_title', el('div', { id: 'sla-atrisk-body' })),
    section('sla-esc', 'sla_esc_title', el('div', { id: 'sla-esc-body' }), el('div', { id: 'sla-dept-body' })),
    section('sla-figures', 'sla_figures_title',
      el('p', { class: 'hint', id: 'sla-rate-hint' }, t('sla_rate_hint')),
      el('div', { id: 'sla-figures-body' }),
      periodForm(),
      el('div', { id: 'sla-period-body' })),
  );
}

function draw() {
  if (!shown || !allowed(role) || !document.getElementById('sla-overdue-body')) return;
  const err = document.getElementById('sla-error');
  err.textContent = boardError;
  err.hidden = !boardError;
  document.getElementById('sla-asof').textContent = board && board.now
    ? t('sla_asof', { time: tokyoTime(board.now) }) : (boardError ? '' : t('loading'));
  drawCrisis();
  replace('sla-overdue-body', board ? ticketTable('overdue') : null);
  replace('sla-atrisk-body', board ? ticketTable('at_risk') : null);
  replace('sla-esc-body', board ? escalationTable() : null);
  replace('sla-dept-body', board ? departmentTable() : null);
  replace('sla-figures-body', board ? figuresTable() : null);
  drawPeriod();
}

// swap a part's content; a focused link or scroll box inside keeps its
// focus, the box its sideways scroll
function replace(id, node) {
  const box = document.getElementById(id);
  if (!box) return;
  const active = document.activeElement;
  const inside = active && box.contains(active);
  const href = inside && active.getAttribute('href');
  const old = box.firstElementChild;
  const left = old ? old.scrollLeft : 0;
  box.replaceChildren(...(node ? [node] : []));
  if (node) node.scrollLeft = left;
  if (href) {
    const again = box.querySelector(`a[href="${CSS.escape(href)}"]`);
    if (again) again.focus();
  } else if (inside && active === old && node && node.tabIndex === 0) {
    node.focus();
  }
}

// A table in a box that scrolls sideways on a narrow screen: focusable, so
// the keyboard can scroll it too (WCAG 2.1.1), named by its caption.
function scrollBox(table) {
  const cap = table.querySelector('caption');
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'group',
    'aria-label': cap ? cap.textContent : null }, table);
}

function ticketLink(id) {
  const n = Number(id);
  return el('a', { href: `#/tickets/${n}` }, t('sla_ticket_link', { id: n }));
}

function timeCell(iso) {
  return el('td', { class: 'c-date' }, el('time', { datetime: isoOrEmpty(iso) }, tokyoTime(iso)));
}

function holder(a) {
  if (!a || !a.login) return t('sla_nobody');
  return a.display_name ? String(a.display_name) : String(a.login);
}

function headRow(keys) {
  return el('thead', null, el('tr', null, ...keys.map((k) => el('th', { scope: 'col' }, t(k)))));
}

// 期限超過 (which = 'overdue') or まもなく期限 (which = 'at_risk')
function ticketTable(which) {
  const rows = list(which);
  const kind = which === 'overdue' ? 'overdue' : 'atrisk';
  if (!rows.length) return el('p', { class: 'empty', id: `sla-${kind}-empty` }, t(`sla_${kind}_empty`));
  const body = el('tbody');
  for (const x of rows) {
    const late = which === 'overdue' ? Number(x.late_seconds) : secondsBetween(board.now, x.due_at);
    const words = which === 'overdue' ? t('sla_late', { d: duration(late) }) : t('sla_left', { d: duration(late) });
    body.append(el('tr', { 'data-id': Number(x.id) },
      el('th', { scope: 'row', class: 'c-id' }, ticketLink(x.id)),
      el('td', null, String(x.queue || '')),
      el('td', null, label('channel', x.channel)),
      el('td', null, label('status', x.status)),
      el('td', null, holder(x.assignee)),
      timeCell(x.received_at),
      timeCell(x.due_at),
      el('td', { class: 'c-sla' }, stateBadge(kind, t(`sla_state_${kind}`)), el('br'),
        el('span', { class: 'sla-words' }, words))));
  }
  return scrollBox(el('table', { class: 'queue sla-table', id: `sla-${kind}-table` },
    el('caption', null, t(`sla_${kind}_caption`, { n: rows.length })),
    headRow(['col_id', 'queue_name', 'col_channel', 'col_status', 'col_holder', 'sla_col_received',
      'sla_col_due', 'sla_col_state']),
    body));
}

function escalationTable() {
  const rows = list('escalations');
  if (!rows.length) return el('p', { class: 'empty', id: 'sla-esc-empty' }, t('sla_esc_empty'));
  const body = el('tbody');
  for (const e of rows) {
    body.append(el('tr', { 'data-id': Number(e.ticket_id) },
      el('th', { scope: 'row' }, String(e.token || '')),
      el('td', null, ticketLink(e.ticket_id)),
      el('td', null, String(e.department || '')),
      el('td', null, holder(e.assignee)),
      timeCell(e.created_at),
      el('td', null, duration(e.age_seconds)),
      timeCell(e.due_at),
      escalationState(e),
      el('td', null, t('sla_reminders_n', { n: Number(e.reminders) || 0 }))));
  }
  return scrollBox(el('table', { class: 'queue sla-table', id: 'sla-esc-table' },
    el('caption', null, t('sla_esc_caption', { n: rows.length })),
    headRow(['sla_col_token', 'col_id', 'sla_col_department', 'col_holder', 'sla_col_sent', 'sla_col_age',
      'sla_col_dept_due', 'sla_col_state', 'sla_col_reminders']),
    body));
}

// the department clock of one escalation, in a shape and in words
function escalationState(e) {
  if (!e.due_at) return el('td', { class: 'c-sla' }, t('sla_no_due'));
  const late = Number(e.late_seconds);
  if (late > 0) {
    return el('td', { class: 'c-sla' }, stateBadge('overdue', t('sla_state_overdue')), el('br'),
      el('span', { class: 'sla-words' }, t('sla_late', { d: duration(late) })));
  }
  const risk = e.warn_at && secondsBetween(e.warn_at, board.now) >= 0;
  return el('td', { class: 'c-sla' }, risk ? stateBadge('atrisk', t('sla_state_atrisk')) : '',
    risk ? el('br') : '', el('span', { class: 'sla-words' }, t('sla_left', { d: duration(-late) })));
}

// 所管課ごと: open escalations per department, the overdue first
function departmentTable() {
  const rows = list('departments');
  if (!rows.length) return null;
  const body = el('tbody');
  for (const d of rows) {
    body.append(el('tr', { 'data-department': Number(d.department_id) },
      el('th', { scope: 'row' }, d.section ? `${d.name} > ${d.section}` : String(d.name || '')),
      el('td', null, String(Number(d.open) || 0)),
      el('td', null, String(Number(d.at_risk) || 0)),
      el('td', null, Number(d.overdue) > 0 ? stateBadge('overdue', String(Number(d.overdue))) : '0'),
      timeCell(d.next_due_at)));
  }
  return scrollBox(el('table', { class: 'queue sla-table', id: 'sla-dept-table' },
    el('caption', null, t('sla_dept_caption')),
    headRow(['sla_col_department', 'sla_col_waiting', 'sla_state_atrisk', 'sla_state_overdue', 'sla_col_next_due']),
    body));
}

// ---- figures ----

const FIGURES = ['received', 'with_sla', 'responded', 'within', 'rate', 'unanswered_overdue', 'open_on_time', 'escalated',
  'avg_response_seconds', 'processed', 'processed_within', 'avg_processing_seconds'];
const DURATIONS = new Set(['avg_response_seconds', 'avg_processing_seconds']);

export function rateText(rate) {
  return typeof rate === 'number' && Number.isFinite(rate) ? `${rate.toFixed(1)}%` : t('sla_rate_none');
}

function figureCells(f) {
  return FIGURES.map((k) => el('td', { 'data-k': k },
    k === 'rate' ? rateText(f && f.rate)
      : !(f && Number.isSafeInteger(f[k])) ? t('none')
        : DURATIONS.has(k) ? duration(f[k]) : String(f[k])));
}

// the escalations sent in a period, per department and in all
const ESC_FIGURES = ['sent', 'answered', 'within', 'open_overdue', 'avg_answer_seconds', 'reminders'];

function escFigureCells(f) {
  return ESC_FIGURES.map((k) => el('td', { 'data-k': k },
    !(f && Number.isSafeInteger(f[k])) ? t('none')
      : k === 'avg_answer_seconds' ? duration(f[k]) : String(f[k])));
}

function escFiguresTable(f, id, caption) {
  const e = f && f.escalation;
  if (!e) return null;
  const body = el('tbody');
  for (const d of e.departments || []) {
    body.append(el('tr', null,
      el('th', { scope: 'row' }, d.section ? `${d.name} > ${d.section}` : String(d.name || '')), ...escFigureCells(d)));
  }
  body.append(el('tr', { class: 'sla-total' }, el('th', { scope: 'row' }, t('sla_esc_total')), ...escFigureCells(e)));
  return scrollBox(el('table', { class: 'queue sla-figures', id },
    el('caption', null, caption),
    el('thead', null, el('tr', null, el('th', { scope: 'col' }, t('sla_col_department')),
      ...ESC_FIGURES.map((k) => el('th', { scope: 'col' }, t(`sla_e_${k}`))))),
    body));
}

function figureHead() {
  return el('thead', null, el('tr', null, el('td'),
    ...FIGURES.map((k) => el('th', { scope: 'col' }, t(`sla_f_${k}`)))));
}

function figuresTable() {
  const row = (key, f, id) => el('tr', { id }, el('th', { scope: 'row' }, t(key, { from: f && f.from, to: f && f.to })),
    ...figureCells(f));
  const figures = scrollBox(el('table', { class: 'queue sla-figures', id: 'sla-figures-table' },
    el('caption', null, t('sla_figures_caption')),
    figureHead(),
    el('tbody', null, row('sla_today', board.today, 'sla-today'), row('sla_month', board.month, 'sla-month'))));
  const esc = escFiguresTable(board.month, 'sla-esc-month-table', t('sla_esc_month_caption'));
  return esc ? el('div', null, figures, esc) : figures;
}

function periodForm() {
  const form = el('form', { id: 'sla-period-form', class: 'filters sla-period', novalidate: true,
    'aria-labelledby': 'sla-period-legend' });
  form.append(
    el('p', { id: 'sla-period-legend', class: 'sla-legend' }, t('sla_period_title')),
    el('div', { class: 'field' }, el('label', { for: 'sla-from' }, t('sla_period_from')),
      el('input', { id: 'sla-from', name: 'from', type: 'date', required: true })),
    el('div', { class: 'field' }, el('label', { for: 'sla-to' }, t('sla_period_to')),
      el('input', { id: 'sla-to', name: 'to', type: 'date', required: true })),
    el('div', { class: 'filter-actions' }, el('button', { type: 'submit', class: 'btn' }, t('sla_period_submit'))),
    el('p', { id: 'sla-period-status', role: 'status', class: 'filter-state' }));
  form.addEventListener('submit', onPeriod);
  return form;
}

async function onPeriod(ev) {
  ev.preventDefault();
  const form = ev.target;
  const from = form.elements.namedItem('from').value;
  const to = form.elements.namedItem('to').value;
  const status = document.getElementById('sla-period-status');
  if (!from || !to || from > to) {
    period = null;
    periodError = t('sla_period_bad');
    drawPeriod();
    status.textContent = periodError;
    form.elements.namedItem(from ? 'to' : 'from').focus();
    return;
  }
  status.textContent = t('loading');
  try {
    period = await api.slaStats(from, to);
    periodError = '';
    status.textContent = t('sla_period_done', { from, to });
  } catch (e) {
    period = null;
    periodError = e.status === 400 ? t('sla_period_bad') : errorText(e);
    status.textContent = periodError;
  }
  drawPeriod();
}

function drawPeriod() {
  if (!period) {
    replace('sla-period-body', null);
    return;
  }
  const figures = scrollBox(
    el('table', { class: 'queue sla-figures', id: 'sla-period-table' },
      el('caption', null, t('sla_period_caption', { from: period.from, to: period.to })),
      figureHead(),
      el('tbody', null, el('tr', { id: 'sla-period-row' },
        el('th', { scope: 'row' }, t('sla_period_row', { from: period.from, to: period.to })),
        ...figureCells(period)))));
  const esc = escFiguresTable(period, 'sla-esc-period-table',
    t('sla_esc_period_caption', { from: period.from, to: period.to }));
  replace('sla-period-body', esc ? el('div', null, figures, esc) : figures);
}

// ---- the crisis switch ----

function crisisControls() {
  if (role !== 'supervisor') return el('p', { class: 'hint', id: 'sla-crisis-readonly' }, t('sla_crisis_readonly'));
  const wrap = el('div', { id: 'sla-crisis-controls' });
  wrap.append(el('div', { id: 'sla-crisis-note', role: 'alert' }));
  const fid = 'sla-crisis-reason';
  const area = el('textarea', { id: fid, name: 'reason', rows: '2', maxlength: '1000', required: true,
    'aria-describedby': `${fid}-hint` });
  const on = el('form', { id: 'sla-crisis-on', class: 'sla-crisis-form', novalidate: true },
    el('div', { class: 'field' },
      el('label', { for: fid }, t('sla_crisis_reason')),
      el('p', { class: 'hint', id: `${fid}-hint` }, t('sla_crisis_reason_hint')),
      area),
    el('button', { type: 'submit', class: 'btn btn-primary', id: 'sla-crisis-start' }, t('sla_crisis_start')));
  on.addEventListener('submit', onCrisisOn);
  area.addEventListener('input', () => area.removeAttribute('aria-invalid'));
  const off = el('div', { id: 'sla-crisis-off' },
    el('button', { type: 'button', class: 'btn', id: 'sla-crisis-end' }, t('sla_crisis_end')),
    el('div', { id: 'sla-crisis-confirm', class: 'notice notice-warn', hidden: true },
      el('p', { id: 'sla-crisis-confirm-text' }, t('sla_crisis_confirm')),
      el('button', { type: 'button', class: 'btn btn-primary', id: 'sla-crisis-end-yes' }, t('sla_crisis_end_yes')), ' ',
      el('button', { type: 'button', class: 'btn', id: 'sla-crisis-end-no' }, t('sla_crisis_end_no'))));
  wrap.append(on, off);
  off.querySelector('#sla-crisis-end').addEventListener('click', () => setConfirming(true));
  off.querySelector('#sla-crisis-end-no').addEventListener('click', () => setConfirming(false));
  off.querySelector('#sla-crisis-end-yes').addEventListener('click', onCrisisOff);
  return wrap;
}

function setConfirming(open) {
  confirming = open;
  drawCrisis();
  const target = document.getElementById(open ? 'sla-crisis-end-yes' : 'sla-crisis-end');
  if (target) target.focus();
}

function drawCrisis() {
  const c = board ? board.crisis : null;
  const state = document.getElementById('sla-crisis-state');
  if (state) {
    state.replaceChildren(!board ? '' : c
      ? el('p', { class: 'sla-crisis-on', id: 'sla-crisis-text' },
        el('strong', null, el('span', { 'aria-hidden': 'true' }, '■ '), t('sla_crisis_is_on')), ' ',
        t('sla_crisis_who', { who: String(c.started_by || ''), since: tokyoTime(c.started_at), why: String(c.reason || '') }))
      : el('p', { class: 'sla-crisis-off', id: 'sla-crisis-text' }, t('sla_crisis_is_off')));
  }
  const note = document.getElementById('sla-crisis-note');
  if (note) {
    note.className = crisisNote ? (crisisNote.kind === 'error' ? 'form-error' : 'notice') : '';
    note.textContent = crisisNote ? crisisNote.text : '';
  }
  const on = document.getElementById('sla-crisis-on');
  const off = document.getElementById('sla-crisis-off');
  if (on) on.hidden = !board || !!c;
  if (off) off.hidden = !board || !c;
  const ask = document.getElementById('sla-crisis-confirm');
  if (ask) ask.hidden = !confirming;
  const end = document.getElementById('sla-crisis-end');
  if (end) end.hidden = confirming;
}

function crisisError(e) {
  if (e.status === 409) return t('sla_crisis_conflict');
  if (e.status === 400) return t('sla_crisis_reason_missing');
  return errorText(e);
}

async function onCrisisOn(ev) {
  ev.preventDefault();
  const area = document.getElementById('sla-crisis-reason');
  const reason = area.value.trim();
  if (!reason) {
    crisisNote = { kind: 'error', text: t('sla_crisis_reason_missing') };
    drawCrisis();
    area.setAttribute('aria-invalid', 'true');
    area.focus();
    return;
  }
  const btn = document.getElementById('sla-crisis-start');
  btn.disabled = true;
  try {
    await api.slaCrisisOn(reason);
    area.value = '';
    crisisNote = { kind: 'ok', text: t('sla_crisis_started') };
    setTimeout(changed, RECOMPUTE_MS);
  } catch (e) {
    crisisNote = { kind: 'error', text: crisisError(e) };
  } finally {
    btn.disabled = false;
  }
  await load();
  const end = document.getElementById(board && board.crisis ? 'sla-crisis-end' : 'sla-crisis-reason');
  if (end) end.focus();
}

async function onCrisisOff() {
  confirming = false;
  try {
    await api.slaCrisisOff();
    crisisNote = { kind: 'ok', text: t('sla_crisis_ended') };
    setTimeout(changed, RECOMPUTE_MS);
  } catch (e) {
    crisisNote = { kind: 'error', text: crisisError(e) };
  }
  await load();
  const next = document.getElementById(board && board.crisis ? 'sla-crisis-end' : 'sla-crisis-reason');
  if (next) next.focus();
}

// ---- keeping what was typed across a rebuild ----

function formValues() {
  const v = {};
  for (const id of ['sla-from', 'sla-to', 'sla-crisis-reason']) {
    const f = document.getElementById(id);
    if (f) v[id] = f.value;
  }
  return v;
}

function restoreForm(v) {
  for (const [id, value] of Object.entries(v)) {
    const f = document.getElementById(id);
    if (f) f.value = value;
  }
}
