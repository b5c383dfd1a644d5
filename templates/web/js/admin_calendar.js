// 営業日カレンダー (#/admin/calendars): the business calendars the SLA
// clocks count on (issue 6, ticketd/admin_calendar.h).  Admins edit;
// supervisors read (the controls are read-only for them) and use the
// preview.
//
// One calendar at a time (センター, 区役所 開庁日, each department's): its
// weekly hours, one text field a weekday ("08:30-12:00, 13:00-17:15";
// empty: closed), its extra openings (a date with its own hours), then the
// annual closures (年末年始) and one-off closures that hold for it (those
// for every calendar included), and the national holidays of a year with
// their source, a local holiday added or removed, and the upload of the
// Cabinet Office CSV.  Every value is checked here first, with a Japanese
// message beside the field at fault (the server's refusal goes there too);
// after every change the calendars are read again, so what is shown is what
// is stored, and the preview (admin_sla.js) is computed again when it was
// shown, so the effect of an edit on a due time shows at once.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce, errorText } from './ui.js';
import { box, title, focusTitle, refused, fieldError, clearFieldErrors } from './admin_form.js';
import { previewBlock, runPreview } from './admin_sla.js';

const WEEK = [1, 2, 3, 4, 5, 6, 0]; // 月 .. 日

const state = {
  gen: 0, role: '', loaded: false, doc: null, policies: [], departments: [], calId: null,
  year: null, holidays: null, holError: '', importResult: null,
  annualEditing: null, // null or an annual closure's id
};

export async function show(focus, role) {
  state.role = role || state.role;
  const gen = ++state.gen;
  if (!state.loaded) box().replaceChildren(el('p', null, t('loading')));
  if (!(await load(gen))) return;
  render();
  if (focus) focusTitle();
}

export function clear() {
  state.gen += 1;
  state.loaded = false;
  state.annualEditing = null;
  state.importResult = null;
}

async function load(gen) {
  try {
    if (state.year === null) state.year = new Date().getFullYear();
    const [doc, pol, hol, dep] = await Promise.all([api.adminCalendars(), api.slaPolicies(), api.adminHolidays(state.year),
      api.departments()]);
    if (gen !== state.gen) return false;
    state.doc = doc;
    state.departments = Array.isArray(dep && dep.departments) ? dep.departments : [];
    state.policies = Array.isArray(pol && pol.policies) ? pol.policies : [];
    state.holidays = Array.isArray(hol && hol.holidays) ? hol.holidays : [];
    const cals = state.doc.calendars || [];
    if (!cals.some((c) => c.id === state.calId)) state.calId = cals.length ? cals[0].id : null;
    state.loaded = true;
    return true;
  } catch (e) {
    if (gen === state.gen && e.status !== 401) refused('cal_title', e);
    return false;
  }
}

const isAdmin = () => state.role === 'admin';
const cal = () => (state.doc.calendars || []).find((c) => c.id === state.calId);
const forCal = (x) => x.calendar_id === null || x.calendar_id === state.calId;

export function render() {
  if (!state.loaded) return;
  document.title = `${t('cal_title')} – 窓口`;
  const b = box();
  const focusId = document.activeElement && b.contains(document.activeElement) ? document.activeElement.id : null;
  const c = cal();
  b.replaceChildren(title('cal_title'), el('p', { class: 'adm-intro' }, t(isAdmin() ? 'cal_intro' : 'cal_intro_read')),
    chooser(), isAdmin() ? manageBlock(c) : '', c && c.kind === 'department' ? departmentsBlock(c) : '',
    c ? hoursBlock(c) : '', c ? openingsBlock(c) : '', annualBlock(), closuresBlock(), holidaysBlock(),
    previewBlock('cal', state.policies, null));
  const again = focusId && document.getElementById(focusId);
  if (again) again.focus();
}

// after a change: read again, draw, focus, announce, preview again
async function reloaded(text, focusId) {
  announce(text);
  if (!(await load(state.gen))) return;
  render();
  const f = focusId && document.getElementById(focusId);
  if (f) f.focus();
  await runPreview('cal', null, false);
}

// a refusal of the server: beside the field, or in the block's message
function failed(e, input, fallbackId) {
  if (e.status === 401) return;
  const why = e && e.body && e.body.error ? String(e.body.error) : '';
  const text = e.status === 409 && why ? t('cal_conflict', { why }) : why ? t('cal_refused', { why }) : errorText(e);
  const target = input || document.getElementById(fallbackId);
  if (target) fieldError(target, text);
  announce(text);
}

function chooser() {
  const s = el('select', { id: 'cal-select' });
  for (const c of state.doc.calendars || []) {
    const o = el('option', { value: String(c.id) }, `${c.name}（${t(`cal_kind_${c.kind}`)}）`);
    if (c.id === state.calId) o.selected = true;
    s.append(o);
  }
  s.addEventListener('change', () => {
    state.calId = Number(s.value);
    state.annualEditing = null;
    render();
  });
  return el('div', { class: 'field' }, el('label', { for: 'cal-select' }, t('cal_select')), s);
}

function input(id, value, attrs) {
  const i = el('input', Object.assign({ id, type: 'text', autocomplete: 'off', spellcheck: 'false' }, attrs || {}));
  i.value = value == null ? '' : String(value);
  if (!isAdmin()) i.readOnly = true;
  return i;
}

function button(id, key, fn, extra) {
  const bt = el('button', { type: 'button', class: 'btn', id }, t(key), extra ? el('span', { class: 'visually-hidden' }, ` ${extra}`) : '');
  bt.addEventListener('click', fn);
  return bt;
}

function section(id, key, ...children) {
  return el('section', { class: 'cal-block', 'aria-labelledby': id }, el('h2', { id }, t(key)), ...children);
}

// ---- checking values ----

const TIME_RX = /^(\d{2}):(\d{2})\s*[-–〜~]\s*(\d{2}):(\d{2})$/;

function minutes(h, m) {
  const hh = Number(h);
  const mm = Number(m);
  return hh > 24 || mm > 59 || (hh === 24 && mm > 0) ? -1 : hh * 60 + mm;
}

// "08:30-12:00, 13:00-17:15" into [{opens, closes}], or {error}
export function parseIntervals(text) {
  const out = [];
  for (const part of text.split(/[,、，]/).map((s) => s.trim()).filter((s) => s !== '')) {
    const m = TIME_RX.exec(part);
    const a = m ? minutes(m[1], m[2]) : -1;
    const z = m ? minutes(m[3], m[4]) : -1;
    if (a < 0 || z < 0 || a === 1440) return { error: t('cal_e_time', { text: part }) };
    if (z <= a) return { error: t('cal_e_order', { text: part }) };
    out.push({ opens: `${m[1]}:${m[2]}`, closes: `${m[3]}:${m[4]}`, a, z, text: part });
  }
  out.sort((x, y) => x.a - y.a);
  for (let i = 1; i < out.length; i++) {
    if (out[i].a < out[i - 1].z) return { error: t('cal_e_overlap', { a: out[i - 1].text, b: out[i].text }) };
  }
  if (out.length > 8) return { error: t('cal_e_many') };
  return { list: out.map(({ opens, closes }) => ({ opens, closes })) };
}

function realDate(y, m, d) {
  const x = new Date(Date.UTC(y, m - 1, d));
  return x.getUTCFullYear() === y && x.getUTCMonth() === m - 1 && x.getUTCDate() === d;
}

export function dateOk(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return !!m && Number(m[1]) >= 2000 && realDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

function monthDayOk(s) {
  const m = /^(\d{2})-(\d{2})$/.exec(s);
  return !!m && realDate(2000, Number(m[1]), Number(m[2]));
}

function value(id) {
  return document.getElementById(id).value.trim();
}

// the first field at fault marked; true when all are fine
function check(form, rules) {
  clearFieldErrors(form);
  for (const [id, ok, key, params] of rules) {
    if (!ok) {
      fieldError(document.getElementById(id), t(key, params));
      announce(t(key, params));
      return false;
    }
  }
  return true;
}

// ---- the calendars: a department's added, renamed, removed; its departments ----

function manageBlock(c) {
  const parts = [];
  if (c) {
    const f = el('form', { id: 'cal-name-form', class: 'rule-form', novalidate: true, 'aria-label': t('cal_rename') },
      field('cal-name', 'cal_f_cal_name', input('cal-name', c.name)),
      el('p', null, el('button', { type: 'submit', class: 'btn', id: 'cal-rename' }, t('cal_rename')), ' ',
        c.kind === 'department' ? button('cal-remove', 'cal_remove', () => removeCalendar(c)) : ''));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      nameCalendar(f, c, 'cal-name', 'cal-rename');
    });
    parts.push(f);
  }
  const g = el('form', { id: 'cal-new-form', class: 'rule-form', novalidate: true, 'aria-label': t('cal_new') },
    field('cal-new-name', 'cal_f_new_name', input('cal-new-name', ''), 'cal_h_new'),
    el('p', null, el('button', { type: 'submit', class: 'btn', id: 'cal-new-add' }, t('cal_new'))));
  g.addEventListener('submit', (ev) => {
    ev.preventDefault();
    nameCalendar(g, null, 'cal-new-name', 'cal-select');
  });
  parts.push(g);
  return section('cal-manage-title', 'cal_manage_title', ...parts);
}

async function nameCalendar(f, c, inputId, focusId) {
  const name = value(inputId);
  if (!check(f, [[inputId, name !== '' && name.length <= 60, 'cal_e_cal_name']])) return;
  try {
    const saved = await api.saveCalendar(c ? c.id : null, name);
    state.calId = saved.id;
    await reloaded(t(c ? 'cal_renamed' : 'cal_added', { name }), focusId);
  } catch (e) {
    failed(e, document.getElementById(inputId), inputId);
  }
}

async function removeCalendar(c) {
  if (!window.confirm(t('cal_confirm_remove', { name: c.name }))) return;
  try {
    await api.deleteCalendar(c.id);
    state.calId = null;
    await reloaded(t('cal_removed', { name: c.name }), 'cal-select');
  } catch (e) {
    failed(e, document.getElementById('cal-name'), 'cal-name');
  }
}

function departmentsBlock(c) {
  const mine = new Set((c.departments || []).map((d) => d.id));
  const list = state.departments || [];
  const boxes = list.map((d) => {
    const x = el('input', { type: 'checkbox', id: `cal-dep-${d.id}`, value: String(d.id) });
    x.checked = mine.has(d.id);
    if (!isAdmin()) x.disabled = true;
    return el('li', { class: 'field-check' }, x, ' ', el('label', { for: `cal-dep-${d.id}` }, String(d.path || d.name)));
  });
  const parts = [el('p', { class: 'hint' }, t('cal_dep_hint')),
    boxes.length ? el('ul', { class: 'cal-dep-list' }, ...boxes) : el('p', { class: 'empty' }, t('cal_dep_none'))];
  if (isAdmin() && boxes.length) {
    parts.push(el('p', null, button('cal-dep-save', 'cal_dep_save', async () => {
      const ids = list.filter((d) => document.getElementById(`cal-dep-${d.id}`).checked).map((d) => d.id);
      try {
        await api.setCalendarDepartments(c.id, ids);
        await reloaded(t('cal_dep_saved', { name: c.name }), 'cal-dep-save');
      } catch (e) {
        failed(e, null, 'cal-dep-save');
      }
    })));
  }
  return section('cal-dep-title', 'cal_dep_title', ...parts);
}

// ---- weekly hours ----

const fmt = (list) => list.map((h) => `${h.opens}-${h.closes}`).join(', ');

function hoursBlock(c) {
  const f = el('form', { id: 'cal-hours-form', novalidate: true });
  f.append(el('p', { class: 'hint', id: 'cal-hours-hint' }, t('cal_hours_hint')));
  for (const w of WEEK) {
    const id = `cal-h-${w}`;
    f.append(el('div', { class: 'field cal-day' }, el('label', { for: id }, t(`cal_wd_${w}`)),
      input(id, fmt(c.hours.filter((h) => h.weekday === w)), { 'aria-describedby': 'cal-hours-hint', placeholder: t('cal_closed') })));
  }
  if (isAdmin()) {
    f.append(el('p', null, el('button', { type: 'submit', class: 'btn btn-primary', id: 'cal-hours-save' }, t('cal_hours_save'))));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      saveHours(c, f);
    });
  }
  return section('cal-hours-title', 'cal_hours_title', f);
}

async function saveHours(c, f) {
  clearFieldErrors(f);
  const hours = [];
  for (const w of WEEK) {
    const r = parseIntervals(value(`cal-h-${w}`));
    if (r.error) {
      fieldError(document.getElementById(`cal-h-${w}`), r.error);
      announce(r.error);
      return;
    }
    for (const h of r.list) hours.push({ weekday: w, opens: h.opens, closes: h.closes });
  }
  try {
    await api.setCalendarHours(c.id, hours);
    await reloaded(t('cal_hours_saved', { name: c.name }), 'cal-hours-save');
  } catch (e) {
    failed(e, null, 'cal-h-1');
  }
}

// ---- extra openings ----

function openingsBlock(c) {
  const rows = c.openings.map((o, i) => el('tr', null, el('th', { scope: 'row' }, o.day), el('td', null, `${o.opens}-${o.closes}`),
    el('td', null, o.reason || t('none')),
    isAdmin() ? el('td', null, button(`cal-op-del-${i}`, 'cal_delete', () => saveOpenings(c, c.openings.filter((x, j) => j !== i), null, t('cal_op_deleted', { day: o.day })), o.day)) : ''));
  const parts = [rows.length ? table('cal-op-table', 'cal-op-title', ['cal_col_day', 'cal_col_time', 'cal_col_reason'], rows)
    : el('p', { class: 'empty' }, t('cal_op_empty'))];
  if (isAdmin()) {
    const f = el('form', { id: 'cal-op-form', class: 'rule-form', novalidate: true, 'aria-label': t('cal_op_add') },
      field('cal-op-day', 'cal_f_day', input('cal-op-day', '', { placeholder: '2026-12-26' })),
      field('cal-op-time', 'cal_f_time', input('cal-op-time', '', { placeholder: '09:00-12:00' })),
      field('cal-op-reason', 'cal_f_reason', input('cal-op-reason', '')),
      el('p', null, el('button', { type: 'submit', class: 'btn', id: 'cal-op-add' }, t('cal_op_add'))));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      addOpening(c, f);
    });
    parts.push(f);
  }
  return section('cal-op-title', 'cal_op_title', ...parts);
}

function addOpening(c, f) {
  const r = parseIntervals(value('cal-op-time'));
  if (!check(f, [['cal-op-day', dateOk(value('cal-op-day')), 'cal_e_date'],
    ['cal-op-time', !r.error && r.list.length === 1, r.error ? 'cal_e_plain' : 'cal_e_one', { text: r.error || '' }]])) return;
  const o = { day: value('cal-op-day'), opens: r.list[0].opens, closes: r.list[0].closes, reason: value('cal-op-reason') };
  saveOpenings(c, [...c.openings, o], 'cal-op-day', t('cal_op_added', { day: o.day }));
}

async function saveOpenings(c, list, errorField, text) {
  try {
    await api.setCalendarOpenings(c.id, list.map(({ day, opens, closes, reason }) => ({ day, opens, closes, reason })));
    await reloaded(text, 'cal-op-add');
  } catch (e) {
    failed(e, errorField && document.getElementById(errorField), 'cal-op-day');
  }
}

// ---- tables and fields ----

function table(id, labelledby, heads, rows) {
  const h = heads.map((k) => el('th', { scope: 'col' }, t(k)));
  if (isAdmin()) h.push(el('th', { scope: 'col' }, t('cal_col_action')));
  return el('div', { class: 'table-wrap' }, el('table', { class: 'adm-table', id, 'aria-labelledby': labelledby },
    el('thead', null, el('tr', null, ...h)), el('tbody', null, ...rows)));
}

function field(id, key, control, hintKey) {
  const w = el('div', { class: 'field' }, el('label', { for: id }, t(key)));
  if (hintKey) {
    w.append(el('p', { class: 'hint', id: `${id}-hint` }, t(hintKey)));
    control.setAttribute('aria-describedby', `${id}-hint`);
  }
  w.append(control);
  return w;
}

function allBox(id, checked) {
  const x = el('input', { type: 'checkbox', id });
  x.checked = checked;
  return el('div', { class: 'field-check' }, x, ' ', el('label', { for: id }, t('cal_f_all')));
}

const scope = (x) => (x.calendar_id === null ? t('cal_scope_all') : t('cal_scope_this'));

// ---- annual closures ----

function annualBlock() {
  const list = (state.doc.annual_closures || []).filter(forCal);
  const rows = list.map((a) => el('tr', { 'data-id': String(a.id) }, el('th', { scope: 'row' }, t('cal_range', { from: a.from, to: a.to })),
    el('td', null, scope(a)), el('td', null, a.reason),
    isAdmin() ? el('td', null, button(`cal-an-edit-${a.id}`, 'cal_edit', () => editAnnual(a.id), a.reason), ' ',
      button(`cal-an-del-${a.id}`, 'cal_delete', () => removeRow('annual-closures', a.id, t('cal_an_deleted', { reason: a.reason })), a.reason)) : ''));
  const parts = [rows.length ? table('cal-an-table', 'cal-an-title', ['cal_col_range', 'cal_col_scope', 'cal_col_reason'], rows)
    : el('p', { class: 'empty' }, t('cal_an_empty'))];
  if (isAdmin()) parts.push(annualForm(list.find((a) => a.id === state.annualEditing)));
  return section('cal-an-title', 'cal_an_title', ...parts);
}

function editAnnual(id) {
  state.annualEditing = id;
  render();
  document.getElementById('cal-an-from').focus();
}

function annualForm(a) {
  const f = el('form', { id: 'cal-an-form', class: 'rule-form', novalidate: true, 'aria-label': t(a ? 'cal_an_edit' : 'cal_an_add') },
    el('h3', null, a ? t('cal_an_editing', { reason: a.reason }) : t('cal_an_add')),
    field('cal-an-from', 'cal_f_from_md', input('cal-an-from', a ? a.from : '', { placeholder: '12-29' }), 'cal_h_md'),
    field('cal-an-to', 'cal_f_to_md', input('cal-an-to', a ? a.to : '', { placeholder: '01-03' })),
    field('cal-an-reason', 'cal_f_reason', input('cal-an-reason', a ? a.reason : '')),
    allBox('cal-an-all', a ? a.calendar_id === null : false),
    el('p', null, el('button', { type: 'submit', class: 'btn', id: 'cal-an-save' }, t(a ? 'cal_save' : 'cal_an_add')),
      a ? ' ' : '', a ? button('cal-an-cancel', 'cal_cancel', () => { state.annualEditing = null; render(); }) : ''));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!check(f, [['cal-an-from', monthDayOk(value('cal-an-from')), 'cal_e_md'], ['cal-an-to', monthDayOk(value('cal-an-to')), 'cal_e_md'],
      ['cal-an-reason', value('cal-an-reason') !== '', 'cal_e_reason']])) return;
    const fields = { calendar_id: document.getElementById('cal-an-all').checked ? null : state.calId,
      from: value('cal-an-from'), to: value('cal-an-to'), reason: value('cal-an-reason') };
    try {
      await api.saveClosure('annual-closures', a ? a.id : null, fields);
      state.annualEditing = null;
      await reloaded(t('cal_an_saved', { reason: fields.reason }), 'cal-an-save');
    } catch (e) {
      failed(e, null, 'cal-an-from');
    }
  });
  return f;
}

async function removeRow(kind, id, text) {
  if (!window.confirm(t('cal_confirm_delete'))) return;
  try {
    await api.deleteClosure(kind, id);
    await reloaded(text, kind === 'closures' ? 'cal-cl-add' : 'cal-an-save');
  } catch (e) {
    failed(e, null, kind === 'closures' ? 'cal-cl-from' : 'cal-an-from');
  }
}

// ---- one-off closures ----

function closuresBlock() {
  const list = (state.doc.closures || []).filter(forCal);
  const rows = list.map((x) => el('tr', { 'data-id': String(x.id) },
    el('th', { scope: 'row' }, x.whole_days ? (x.from_day === x.to_day ? x.from_day : t('cal_range', { from: x.from_day, to: x.to_day }))
      : t('cal_range', { from: x.starts_at, to: x.ends_at })),
    el('td', null, scope(x)), el('td', null, x.reason),
    isAdmin() ? el('td', null, button(`cal-cl-del-${x.id}`, 'cal_delete', () => removeRow('closures', x.id, t('cal_cl_deleted', { reason: x.reason })), x.reason)) : ''));
  const parts = [rows.length ? table('cal-cl-table', 'cal-cl-title', ['cal_col_range', 'cal_col_scope', 'cal_col_reason'], rows)
    : el('p', { class: 'empty' }, t('cal_cl_empty'))];
  if (isAdmin()) {
    const f = el('form', { id: 'cal-cl-form', class: 'rule-form', novalidate: true, 'aria-label': t('cal_cl_add') },
      field('cal-cl-from', 'cal_f_from_day', input('cal-cl-from', '', { placeholder: '2026-12-28' }), 'cal_h_days'),
      field('cal-cl-to', 'cal_f_to_day', input('cal-cl-to', '', { placeholder: '2026-12-28' })),
      field('cal-cl-reason', 'cal_f_reason', input('cal-cl-reason', '')),
      allBox('cal-cl-all', false),
      el('p', null, el('button', { type: 'submit', class: 'btn', id: 'cal-cl-add' }, t('cal_cl_add'))));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      addClosure(f);
    });
    parts.push(f);
  }
  return section('cal-cl-title', 'cal_cl_title', ...parts);
}

async function addClosure(f) {
  const from = value('cal-cl-from');
  const to = value('cal-cl-to') || from;
  if (!check(f, [['cal-cl-from', dateOk(from), 'cal_e_date'], ['cal-cl-to', dateOk(to), 'cal_e_date'],
    ['cal-cl-to', to >= from, 'cal_e_range'], ['cal-cl-reason', value('cal-cl-reason') !== '', 'cal_e_reason']])) return;
  const fields = { calendar_id: document.getElementById('cal-cl-all').checked ? null : state.calId, from, to, reason: value('cal-cl-reason') };
  try {
    await api.saveClosure('closures', null, fields);
    await reloaded(t('cal_cl_added', { reason: fields.reason }), 'cal-cl-add');
  } catch (e) {
    failed(e, null, 'cal-cl-from');
  }
}

// ---- holidays ----

function holidaysBlock() {
  const year = input('cal-hol-year', state.year, { inputmode: 'numeric' });
  year.readOnly = false;
  const show1 = button('cal-hol-show', 'cal_hol_show', () => showYear(year));
  year.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      showYear(year);
    }
  });
  const rows = (state.holidays || []).map((h) => el('tr', null, el('th', { scope: 'row' }, h.day), el('td', null, h.name),
    el('td', null, t(`cal_src_${h.source}`)),
    isAdmin() ? el('td', null, h.source === 'local' ? button(`cal-hol-del-${h.day}`, 'cal_delete', () => removeHoliday(h), h.day) : '') : ''));
  const parts = [el('div', { class: 'field' }, el('label', { for: 'cal-hol-year' }, t('cal_hol_year')), year, ' ', show1),
    state.holError ? el('p', { class: 'form-error', role: 'alert' }, state.holError) : '',
    rows.length ? table('cal-hol-table', 'cal-hol-title', ['cal_col_day', 'cal_col_name', 'cal_col_source'], rows)
      : el('p', { class: 'empty' }, t('cal_hol_empty'))];
  if (isAdmin()) parts.push(holidayForm(), importForm());
  return section('cal-hol-title', 'cal_hol_title', el('p', { class: 'hint' }, t('cal_hol_intro')), ...parts);
}

async function showYear(input1) {
  const y = Number(input1.value.trim());
  clearFieldErrors(input1.parentElement);
  if (!Number.isInteger(y) || y < 1948 || y > 2200) {
    fieldError(input1, t('cal_e_year'));
    return;
  }
  state.year = y;
  if (!(await load(state.gen))) return;
  render();
  document.getElementById('cal-hol-year').focus();
}

function holidayForm() {
  const f = el('form', { id: 'cal-hol-form', class: 'rule-form', novalidate: true, 'aria-label': t('cal_hol_add') },
    el('h3', null, t('cal_hol_add')),
    field('cal-hol-day', 'cal_f_day', input('cal-hol-day', '', { placeholder: '2027-06-23' })),
    field('cal-hol-name', 'cal_f_name', input('cal-hol-name', '')),
    el('p', null, el('button', { type: 'submit', class: 'btn', id: 'cal-hol-add' }, t('cal_hol_add'))));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!check(f, [['cal-hol-day', dateOk(value('cal-hol-day')), 'cal_e_date'], ['cal-hol-name', value('cal-hol-name') !== '', 'cal_e_name']])) return;
    try {
      await api.addHoliday(value('cal-hol-day'), value('cal-hol-name'));
      state.year = Number(value('cal-hol-day').slice(0, 4));
      await reloaded(t('cal_hol_added', { day: value('cal-hol-day') }), 'cal-hol-add');
    } catch (e) {
      failed(e, document.getElementById('cal-hol-day'), 'cal-hol-day');
    }
  });
  return f;
}

async function removeHoliday(h) {
  if (!window.confirm(t('cal_confirm_delete'))) return;
  try {
    await api.removeHoliday(h.day);
    await reloaded(t('cal_hol_removed', { day: h.day }), 'cal-hol-add');
  } catch (e) {
    failed(e, null, 'cal-hol-day');
  }
}

function importForm() {
  const file = el('input', { type: 'file', id: 'cal-hol-file', accept: '.csv,text/csv', 'aria-describedby': 'cal-hol-file-hint' });
  const go = button('cal-hol-import', 'cal_hol_import', () => importCsv(file, go));
  const r = state.importResult;
  const result = el('div', { id: 'cal-hol-result', role: r && r.error ? 'alert' : 'status', class: r && r.error ? 'form-error' : 'dep-result', tabindex: '-1' });
  if (r) result.append(el('p', null, r.text), r.lines && r.lines.length ? el('ul', null, ...r.lines.map((x) => el('li', null, x))) : '');
  else result.hidden = true;
  return el('div', { class: 'cal-import' }, el('h3', null, t('cal_hol_import_title')),
    el('div', { class: 'field' }, el('label', { for: 'cal-hol-file' }, t('cal_hol_file')),
      el('p', { class: 'hint', id: 'cal-hol-file-hint' }, t('cal_hol_file_hint')), file), el('p', null, go), result);
}

async function importCsv(file, btn) {
  const f = file.files && file.files[0];
  if (!f) {
    state.importResult = { error: true, text: t('cal_hol_none') };
  } else {
    btn.disabled = true;
    try {
      const r = await api.importHolidays(f);
      state.importResult = { error: false, text: t('cal_hol_imported', r) };
    } catch (e) {
      const b = (e && e.body) || {};
      state.importResult = { error: true, text: b.error ? t('cal_hol_refused', { why: String(b.error) }) : errorText(e),
        lines: Array.isArray(b.bad) ? b.bad.map((x) => (x.line ? t('cal_hol_line', { line: x.line, why: x.why }) : String(x.why))) : [] };
    }
    btn.disabled = false;
  }
  announce(state.importResult.text);
  if (!state.importResult.error) {
    await reloaded(state.importResult.text, 'cal-hol-import');
  } else {
    render();
  }
  const out = document.getElementById('cal-hol-result');
  if (out) out.focus();
}
