// SLAポリシー (#/admin/sla-policies): the SLA policies per queue and channel
// (issue 6, ticketd/admin_calendar.h).  Admins add, change and remove them;
// supervisors read them and use the preview.
//
// The list of policies, a form (queue, channel, clock, how the target is
// counted, the target and warning in hours, whether waiting for the citizen
// pauses the clock, the calendar), and the preview: for a received time, the
// due and warning times lib/bizcal gives, computed by ticketd on the stored
// calendars (the form's unsaved values, or a stored policy).  The preview
// block is shared with the calendar page (previewBlock), which runs it again
// after every change so the effect of an edit shows at once.  The form is
// checked here first, with Japanese messages beside the field at fault; a
// refusal of the server goes there too.  Native controls only; the focus
// goes to the form when it opens and back to its opener when it closes.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce, errorText } from './ui.js';
import { box, title, focusTitle, refused, fieldError, clearFieldErrors } from './admin_form.js';

const MODES = ['wall_clock_hours', 'business_hours', 'next_business_day_end'];
const CHANNELS = ['', 'mail', 'fax', 'call', 'form'];
const CLOCKS = ['response', 'processing', 'department'];

const state = {
  gen: 0, role: '', loaded: false, policies: [], calendars: [],
  editing: null, // null, 'new' or a policy id
  opener: null,
  preview: {}, // per block prefix: {policy, received, text, error}
};

export async function show(focus, role) {
  state.role = role || state.role;
  state.editing = null;
  const gen = ++state.gen;
  if (!state.loaded) box().replaceChildren(el('p', null, t('loading')));
  if (!(await load(gen))) return;
  render();
  if (focus) focusTitle();
}

export function clear() {
  state.gen += 1;
  state.loaded = false;
  state.editing = null;
}

async function load(gen) {
  try {
    const [p, c] = await Promise.all([api.slaPolicies(), api.adminCalendars()]);
    if (gen !== state.gen) return false;
    state.policies = Array.isArray(p && p.policies) ? p.policies : [];
    state.calendars = Array.isArray(c && c.calendars) ? c.calendars : [];
    state.loaded = true;
    return true;
  } catch (e) {
    if (gen === state.gen && e.status !== 401) refused('slp_title', e);
    return false;
  }
}

const isAdmin = () => state.role === 'admin';

export function render() {
  if (!state.loaded) return;
  document.title = `${t('slp_title')} – 窓口`;
  const b = box();
  const focusId = document.activeElement && b.contains(document.activeElement) ? document.activeElement.id : null;
  const add = el('button', { type: 'button', class: 'btn', id: 'sla-add', 'aria-expanded': state.editing === 'new' ? 'true' : 'false' }, t('slp_add'));
  add.addEventListener('click', () => openForm('new', 'sla-add'));
  b.replaceChildren(title('slp_title'), el('p', { class: 'adm-intro' }, t('slp_intro')),
    el('h2', { id: 'sla-list-title' }, t('slp_list_title')),
    isAdmin() ? el('p', null, add) : '',
    state.editing === 'new' ? form(null) : '',
    table(),
    previewBlock('sla', state.policies, state.editing !== null ? formPolicy : null));
  const again = focusId && document.getElementById(focusId);
  if (again) again.focus();
}

// ---- describing a policy ----

export function policyName(p) {
  const q = p.queue ? t('slp_queue_named', { queue: String(p.queue) }) : t('slp_queue_any');
  return `${q} / ${t(`slp_ch_${p.channel || 'any'}`)} / ${t(`slp_clock_${p.clock}`)}`;
}

function hours(secs) {
  return String(Math.round((Number(secs) / 3600) * 100) / 100);
}

function target(p) {
  if (p.mode === 'next_business_day_end') return t('slp_mode_next_business_day_end');
  return t(`slp_target_${p.mode}`, { h: hours(p.target_seconds) });
}

function calendarName(id) {
  const c = state.calendars.find((x) => Number(x.id) === Number(id));
  return c ? String(c.name) : t('none');
}

function table() {
  const head = ['slp_col_key', 'slp_col_target', 'slp_col_warning', 'slp_col_pause', 'slp_col_calendar'];
  if (isAdmin()) head.push('slp_col_action');
  const tb = el('tbody', { id: 'sla-body' });
  for (const p of state.policies) {
    const id = Number(p.id);
    const cells = [el('th', { scope: 'row' }, policyName(p)), el('td', null, target(p)),
      el('td', null, Number(p.warning_seconds) ? t('slp_warn_left', { h: hours(p.warning_seconds) }) : t('none')),
      el('td', null, t(p.pause_when_waiting_citizen ? 'slp_pause_yes' : 'slp_pause_no')),
      el('td', null, p.mode === 'wall_clock_hours' ? t('slp_cal_unused') : calendarName(p.calendar_id))];
    if (isAdmin()) {
      const edit = el('button', { type: 'button', class: 'btn btn-small', id: `sla-edit-${id}`, 'aria-expanded': state.editing === id ? 'true' : 'false' },
        t('slp_edit'), el('span', { class: 'visually-hidden' }, ` ${policyName(p)}`));
      edit.addEventListener('click', () => openForm(id, `sla-edit-${id}`));
      const del = el('button', { type: 'button', class: 'btn btn-small', id: `sla-del-${id}` },
        t('slp_delete'), el('span', { class: 'visually-hidden' }, ` ${policyName(p)}`));
      del.addEventListener('click', () => remove(p));
      cells.push(el('td', null, edit, ' ', del));
    }
    tb.append(el('tr', { 'data-id': String(id) }, ...cells));
    if (state.editing === id) tb.append(el('tr', null, el('td', { colspan: String(head.length) }, form(p))));
  }
  return el('div', { class: 'table-wrap' }, el('table', { class: 'adm-table', id: 'sla-table', 'aria-labelledby': 'sla-list-title' },
    el('thead', null, el('tr', null, ...head.map((k) => el('th', { scope: 'col' }, t(k))))), tb));
}

// ---- the form ----

function openForm(which, opener) {
  state.editing = which;
  state.opener = opener;
  render();
  const f = document.getElementById('sla-f-queue');
  if (f) f.focus();
}

function closeForm() {
  state.editing = null;
  render();
  const o = state.opener && document.getElementById(state.opener);
  if (o) o.focus();
}

function select(id, values, labelOf, current) {
  const s = el('select', { id });
  for (const v of values) {
    const o = el('option', { value: v }, labelOf(v));
    if (String(v) === String(current == null ? '' : current)) o.selected = true;
    s.append(o);
  }
  return s;
}

function field(id, labelKey, control, hintKey) {
  const wrap = el('div', { class: 'field' }, el('label', { for: id }, t(labelKey)));
  if (hintKey) {
    wrap.append(el('p', { class: 'hint', id: `${id}-hint` }, t(hintKey)));
    control.setAttribute('aria-describedby', `${id}-hint`);
  }
  wrap.append(control);
  return wrap;
}

function form(p) {
  const d = p || { queue: '', channel: 'mail', clock: 'response', mode: 'wall_clock_hours', target_seconds: 86400, warning_seconds: 21600, pause_when_waiting_citizen: true, calendar_id: state.calendars.length ? state.calendars[0].id : '' };
  const f = el('form', { id: 'sla-form', class: 'rule-form', novalidate: true, 'aria-labelledby': 'sla-form-title' },
    el('h2', { id: 'sla-form-title' }, p ? t('slp_form_edit', { name: policyName(p) }) : t('slp_form_new')));
  const queue = el('input', { id: 'sla-f-queue', type: 'text', autocomplete: 'off', spellcheck: 'false' });
  queue.value = d.queue || '';
  const pause = el('input', { type: 'checkbox', id: 'sla-f-pause' });
  pause.checked = !!d.pause_when_waiting_citizen;
  const tg = el('input', { id: 'sla-f-target', type: 'text', inputmode: 'decimal', autocomplete: 'off' });
  tg.value = d.mode === 'next_business_day_end' ? '' : hours(d.target_seconds);
  const wn = el('input', { id: 'sla-f-warning', type: 'text', inputmode: 'decimal', autocomplete: 'off' });
  wn.value = hours(d.warning_seconds || 0);
  f.append(field('sla-f-queue', 'slp_f_queue', queue, 'slp_h_queue'),
    field('sla-f-channel', 'slp_f_channel', select('sla-f-channel', CHANNELS, (v) => t(`slp_ch_${v || 'any'}`), d.channel || '')),
    field('sla-f-clock', 'slp_f_clock', select('sla-f-clock', CLOCKS, (v) => t(`slp_clock_${v}`), d.clock)),
    field('sla-f-mode', 'slp_f_mode', select('sla-f-mode', MODES, (v) => t(`slp_mode_${v}`), d.mode)),
    field('sla-f-target', 'slp_f_target', tg, 'slp_h_target'),
    field('sla-f-warning', 'slp_f_warning', wn, 'slp_h_warning'),
    field('sla-f-calendar', 'slp_f_calendar', select('sla-f-calendar', ['', ...state.calendars.map((c) => String(c.id))],
      (v) => (v ? calendarName(v) : t('slp_cal_none')), d.calendar_id == null ? '' : d.calendar_id)),
    el('div', { class: 'field-check' }, pause, ' ', el('label', { for: 'sla-f-pause' }, t('slp_f_pause'))),
    el('p', { id: 'sla-form-error', class: 'form-error', role: 'alert', hidden: true }));
  const save = el('button', { type: 'submit', class: 'btn btn-primary', id: 'sla-save' }, t('slp_save'));
  const cancel = el('button', { type: 'button', class: 'btn', id: 'sla-cancel' }, t('slp_cancel'));
  cancel.addEventListener('click', closeForm);
  f.append(el('p', { class: 'rule-actions' }, save, ' ', cancel));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(p, save);
  });
  return f;
}

const HOURS_RX = /^\d{1,4}(\.\d{1,2})?$/;

// the form's values as the API wants them, or null after marking the field at fault
export function formPolicy() {
  const f = document.getElementById('sla-form');
  if (!f) return null;
  clearFieldErrors(f);
  const v = (id) => document.getElementById(id).value.trim();
  const mode = v('sla-f-mode');
  const out = { queue: v('sla-f-queue') || null, channel: v('sla-f-channel') || null, clock: v('sla-f-clock'), mode,
    target_seconds: 0, warning_seconds: 0, pause_when_waiting_citizen: document.getElementById('sla-f-pause').checked,
    calendar_id: v('sla-f-calendar') ? Number(v('sla-f-calendar')) : null };
  if (mode !== 'next_business_day_end') {
    if (!HOURS_RX.test(v('sla-f-target')) || Number(v('sla-f-target')) <= 0) return bad('sla-f-target', 'slp_e_target');
    out.target_seconds = Math.round(Number(v('sla-f-target')) * 3600);
  }
  if (!HOURS_RX.test(v('sla-f-warning') || '0')) return bad('sla-f-warning', 'slp_e_warning');
  out.warning_seconds = Math.round(Number(v('sla-f-warning') || '0') * 3600);
  if (out.target_seconds > 0 && out.warning_seconds >= out.target_seconds) return bad('sla-f-warning', 'slp_e_warning_big');
  if (mode !== 'wall_clock_hours' && out.calendar_id === null) return bad('sla-f-calendar', 'slp_e_calendar');
  return out;
}

function bad(id, key) {
  fieldError(document.getElementById(id), t(key));
  announce(t(key));
  return null;
}

// "field: why" of the server beside that field
const SERVER_FIELDS = { queue: 'sla-f-queue', channel: 'sla-f-channel', clock: 'sla-f-clock', mode: 'sla-f-mode',
  target_seconds: 'sla-f-target', warning_seconds: 'sla-f-warning', calendar_id: 'sla-f-calendar' };

function refusedBy(e) {
  const why = e && e.body && e.body.error ? String(e.body.error) : '';
  const m = /^([a-z_]+): (.*)$/.exec(why);
  const text = e.status === 409 ? t('slp_conflict') : why ? t('slp_refused', { why }) : errorText(e);
  const input = m && SERVER_FIELDS[m[1]] && e.status === 400 ? document.getElementById(SERVER_FIELDS[m[1]]) : null;
  if (input) {
    fieldError(input, text);
  } else {
    const p = document.getElementById('sla-form-error');
    p.textContent = text;
    p.hidden = false;
    p.setAttribute('tabindex', '-1');
    p.focus();
  }
  announce(text);
}

async function submit(p, btn) {
  const fields = formPolicy();
  if (!fields) return;
  btn.disabled = true;
  try {
    const saved = await api.saveSlaPolicy(p ? p.id : null, fields);
    announce(t('slp_saved', { name: policyName(saved) }));
    state.editing = null;
    if (!(await load(state.gen))) return;
    render();
    const o = document.getElementById(`sla-edit-${Number(saved.id)}`);
    if (o) o.focus();
  } catch (e) {
    btn.disabled = false;
    if (e.status !== 401) refusedBy(e);
  }
}

async function remove(p) {
  if (!window.confirm(t('slp_confirm_delete', { name: policyName(p) }))) return;
  try {
    await api.deleteSlaPolicy(p.id);
    announce(t('slp_deleted', { name: policyName(p) }));
    if (!(await load(state.gen))) return;
    render();
    const a = document.getElementById('sla-add');
    if (a) a.focus();
  } catch (e) {
    if (e.status !== 401) announce(errorText(e));
  }
}

// ---- the preview (shared with admin_calendar.js) ----

const RECEIVED_RX = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$/;

// prefix: ids' prefix; policies: the stored ones; unsaved(): the form's
// policy when one is open (then it is offered first), else null
export function previewBlock(prefix, policies, unsaved) {
  const s = state.preview[prefix] || (state.preview[prefix] = { policy: '', received: '', text: '', error: '' });
  const sel = el('select', { id: `${prefix}-pv-policy` });
  if (unsaved) sel.append(el('option', { value: 'form' }, t('slp_pv_form')));
  for (const p of policies) sel.append(el('option', { value: String(p.id) }, policyName(p)));
  if (s.policy && Array.from(sel.options).some((o) => o.value === s.policy)) sel.value = s.policy;
  const rec = el('input', { id: `${prefix}-pv-received`, type: 'text', autocomplete: 'off', placeholder: '2026-12-25 17:20', 'aria-describedby': `${prefix}-pv-hint` });
  rec.value = s.received;
  const run = el('button', { type: 'button', class: 'btn', id: `${prefix}-pv-run` }, t('slp_pv_run'));
  const out = el('p', { id: `${prefix}-pv-result`, role: 'status', class: s.error ? 'form-error' : 'sla-pv-result' }, s.error || s.text);
  run.addEventListener('click', () => runPreview(prefix, unsaved, true));
  rec.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      runPreview(prefix, unsaved, true);
    }
  });
  return el('section', { class: 'sla-preview', 'aria-labelledby': `${prefix}-pv-title` },
    el('h2', { id: `${prefix}-pv-title` }, t('slp_pv_title')),
    el('p', { class: 'hint' }, t('slp_pv_intro')),
    el('div', { class: 'field' }, el('label', { for: `${prefix}-pv-policy` }, t('slp_pv_policy')), sel),
    el('div', { class: 'field' }, el('label', { for: `${prefix}-pv-received` }, t('slp_pv_received')),
      el('p', { class: 'hint', id: `${prefix}-pv-hint` }, t('slp_pv_h_received')), rec),
    el('p', null, run), out);
}

// compute again (after a change of the calendar: only when shown before)
export async function runPreview(prefix, unsaved, asked) {
  const s = state.preview[prefix];
  const sel = document.getElementById(`${prefix}-pv-policy`);
  const rec = document.getElementById(`${prefix}-pv-received`);
  if (!s || !sel || !rec || (!asked && !s.text)) return;
  s.policy = sel.value;
  s.received = rec.value.trim();
  if (asked) clearFieldErrors(rec.parentElement);
  if (!RECEIVED_RX.test(s.received)) {
    if (asked) fieldError(rec, t('slp_pv_e_received'));
    return;
  }
  let body = { received: s.received };
  if (s.policy === 'form') {
    const p = unsaved && unsaved();
    if (!p) return;
    body.policy = p;
  } else {
    body.id = Number(s.policy);
  }
  try {
    const r = await api.slaPreview(body);
    s.error = '';
    s.text = r.due ? t('slp_pv_result', { due: r.due.slice(0, 16), warning: r.warning ? r.warning.slice(0, 16) : t('none') }) : t('slp_pv_never');
  } catch (e) {
    s.text = '';
    s.error = e.body && e.body.error ? t('slp_refused', { why: String(e.body.error) }) : errorText(e);
  }
  const out = document.getElementById(`${prefix}-pv-result`);
  if (out) {
    out.textContent = s.error || s.text;
    out.className = s.error ? 'form-error' : 'sla-pv-result';
  }
  if (asked) announce(s.error || s.text);
}
