// The routing rules page (振り分けルール, #/admin/rules), for administrators.
//
// The rules are tried top to bottom on every new mail or fax; the first that
// matches routes the ticket.  The page lists them in that order and edits
// them through /api/admin/rules: add, edit, delete, move up and down, and an
// enable switch per rule.  Every change is saved at once and ticketd
// rereads the rules, so the next mail meets them; the list is refetched
// after each change so what is shown is what is stored.
//
// Everything is a native control (button, checkbox, input with its label),
// so the page works from the keyboard; focus goes to the form when it
// opens, back to the control that opened it when it closes, and to the
// field the server complained about on a 400.  Results are announced
// through the live region.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime } from './format.js';
import { announce, showError, clearError, errorText } from './ui.js';

// the form, in order: [key, label key, kind, help key]
const FIELDS = [
  ['name', 'rule_f_name', 'text', null],
  ['match_recipient', 'rule_f_recipient', 'text', 'rule_h_recipient'],
  ['match_sender', 'rule_f_sender', 'text', 'rule_h_contains'],
  ['match_subject', 'rule_f_subject', 'text', 'rule_h_subject'],
  ['subject_regex', 'rule_f_regex', 'check', 'rule_h_regex'],
  ['match_did', 'rule_f_did', 'text', 'rule_h_did'],
  ['match_origin', 'rule_f_origin', 'text', 'rule_h_origin'],
  ['set_queue', 'rule_f_queue', 'text', null],
  ['set_category', 'rule_f_category', 'text', null],
  ['set_priority', 'rule_f_priority', 'number', 'rule_h_priority'],
  ['set_tags', 'rule_f_tags', 'text', 'rule_h_tags'],
  ['continue_matching', 'rule_f_continue', 'check', 'rule_h_continue'],
  ['enabled', 'rule_f_enabled', 'check', null],
];
const CONDITIONS = [
  ['match_recipient', 'rule_c_recipient'],
  ['match_sender', 'rule_c_sender'],
  ['match_subject', 'rule_c_subject'],
  ['match_did', 'rule_c_did'],
  ['match_origin', 'rule_c_origin'],
];
// the server's reasons (admin_api.c), shown in the page's language
const REASONS = [
  ['must not be empty', 'rule_e_empty'],
  ['is too long', 'rule_e_long'],
  ['must not contain control characters', 'rule_e_control'],
  ['must be a telephone number', 'rule_e_did'],
  ['must be an integer', 'rule_e_priority'],
  ['must be a list of at most', 'rule_e_tags'],
  ['not a valid regular expression', 'rule_e_regex'],
];

const state = {
  rules: [],
  loaded: false,
  editing: null,      // null, 'new' or a rule id
  formError: null,    // {field, text} after a 400
  busy: false,
  generation: 0,
  opener: null,       // the control that opened the form, for focus on close
};

const box = () => document.getElementById('rules-content');

// Load and show the page; resolves when it is on screen.
export async function show() {
  const gen = ++state.generation;
  if (!state.loaded) box().replaceChildren(el('p', null, t('loading')));
  const ok = await load(gen);
  if (gen !== state.generation || !ok) return;
  render();
  focusTitle();
}

export function clear() {
  state.generation += 1;
  state.rules = [];
  state.loaded = false;
  state.editing = null;
  state.formError = null;
  const b = box();
  if (b) b.replaceChildren();
}

async function load(gen) {
  try {
    const data = await api.rules();
    if (gen !== state.generation) return false;
    state.rules = Array.isArray(data && data.rules) ? data.rules : [];
    state.loaded = true;
    clearError();
    return true;
  } catch (e) {
    if (gen !== state.generation || e.status === 401) return false;
    box().replaceChildren(title(), el('p', { class: 'form-error' }, errorText(e)));
    focusTitle();
    return false;
  }
}

function title() {
  return el('h1', { id: 'rules-title', tabindex: '-1' }, t('rules_title'));
}

function focusTitle() {
  const h = document.getElementById('rules-title');
  if (h) h.focus();
}

// ---- the page ----

export function render() {
  if (!state.loaded) return;
  const keep = typed();
  document.title = `${t('rules_title')} – 窓口`;
  const add = el('button', { type: 'button', id: 'rule-add', class: 'btn btn-primary' }, t('rule_add'));
  add.addEventListener('click', () => openForm('new', add));
  box().replaceChildren(
    title(),
    el('p', { class: 'rules-intro' }, t('rules_intro')),
    el('p', null, add),
    state.editing === null ? '' : form(),
    state.rules.length ? table() : el('p', { class: 'empty' }, t('rules_empty')),
  );
  if (state.editing === null) return;
  if (keep) restore(keep);
  if (state.formError) showFormError(false);
}

// what is typed in the open form, when it is the form render() would
// rebuild (a language switch must not lose it)
function typed() {
  const f = document.getElementById('rule-form');
  if (!f || f.dataset.for !== String(state.editing)) return null;
  const v = {};
  for (const [key, , kind] of FIELDS) {
    const input = f.elements.namedItem(key);
    v[key] = kind === 'check' ? input.checked : input.value;
  }
  return v;
}

function restore(v) {
  const f = document.getElementById('rule-form');
  for (const [key, , kind] of FIELDS) {
    const input = f.elements.namedItem(key);
    if (kind === 'check') input.checked = v[key];
    else input.value = v[key];
  }
}

function table() {
  const head = el('tr', null, ...['rule_col_pos', 'rule_col_name', 'rule_col_when', 'rule_col_then',
    'rule_col_enabled', 'rule_col_actions'].map((k) => el('th', { scope: 'col' }, t(k))));
  const body = el('tbody', { id: 'rules-body' });
  state.rules.forEach((r, i) => body.append(row(r, i)));
  return el('div', { class: 'table-wrap' }, el('table', { class: 'rules', id: 'rules-table' },
    el('caption', { class: 'visually-hidden' }, t('rules_caption', { n: state.rules.length })),
    el('thead', null, head), body));
}

function row(r, i) {
  const nameId = `rule-${Number(r.id)}-name`;
  const tr = el('tr', { 'data-id': String(r.id), class: r.enabled ? '' : 'rule-off' });
  tr.append(el('td', { class: 'c-pos' }, String(i + 1)));
  tr.append(el('th', { scope: 'row', id: nameId, class: 'c-rule-name' }, String(r.name),
    el('span', { class: 'rule-meta' }, t('rule_updated', { at: tokyoTime(r.updated_at), by: String(r.updated_by || '') }))));
  tr.append(el('td', null, conditionText(r)));
  tr.append(el('td', null, settingText(r)));
  tr.append(el('td', null, enableSwitch(r)));
  tr.append(el('td', { class: 'c-actions' }, ...actions(r, i)));
  return tr;
}

function conditionText(r) {
  const parts = [];
  for (const [key, label] of CONDITIONS) {
    if (r[key] === null || r[key] === undefined || r[key] === '') continue;
    const k = key === 'match_subject' && r.subject_regex ? 'rule_c_regex' : label;
    parts.push(t(k, { v: String(r[key]) }));
  }
  return parts.length ? parts.join(t('rule_and')) : t('rule_c_all');
}

function settingText(r) {
  const parts = [];
  if (r.set_queue) parts.push(t('rule_s_queue', { v: String(r.set_queue) }));
  if (r.set_category) parts.push(t('rule_s_category', { v: String(r.set_category) }));
  if (r.set_priority !== null && r.set_priority !== undefined) parts.push(t('rule_s_priority', { v: String(r.set_priority) }));
  if (Array.isArray(r.set_tags) && r.set_tags.length) parts.push(t('rule_s_tags', { v: r.set_tags.map(String).join(', ') }));
  if (r.continue_matching) parts.push(t('rule_s_continue'));
  return parts.length ? parts.join(' / ') : t('rule_s_none');
}

function enableSwitch(r) {
  const id = `rule-${Number(r.id)}-enabled`;
  const box1 = el('input', { type: 'checkbox', id, class: 'rule-enabled', checked: !!r.enabled });
  box1.addEventListener('change', () => save(r.id, { enabled: box1.checked }, box1, 'rule_saved_enabled'));
  return el('label', { for: id, class: 'check' }, box1, ' ', t('rule_enabled'),
    el('span', { class: 'visually-hidden' }, `: ${String(r.name)}`));
}

function actions(r, i) {
  const mk = (cls, key, fn, disabled) => {
    const b = el('button', { type: 'button', class: `btn btn-small ${cls}`, 'aria-label': t(`${key}_label`, { name: String(r.name) }), disabled }, t(key));
    b.addEventListener('click', () => fn(b));
    return b;
  };
  return [
    mk('rule-up', 'rule_up', () => move(r.id, -1, 'rule-up'), i === 0),
    mk('rule-down', 'rule_down', () => move(r.id, 1, 'rule-down'), i === state.rules.length - 1),
    mk('rule-edit', 'rule_edit', (b) => openForm(r.id, b)),
    mk('rule-delete', 'rule_delete', () => remove(r)),
  ];
}

// ---- the form ----

function openForm(which, opener) {
  state.editing = which;
  state.formError = null;
  state.opener = opener ? opener.className.split(' ').find((c) => c.startsWith('rule-')) : null;
  render();
  document.getElementById('rule-f-name').focus();
}

function closeForm(focusId) {
  const opener = state.opener;
  const editing = state.editing;
  state.editing = null;
  state.formError = null;
  render();
  focusAfter(focusId !== undefined ? focusId : editing, opener);
}

// focus the control of rule id (or "add" when none)
function focusAfter(id, cls) {
  const tr = id !== null && id !== 'new' ? document.querySelector(`#rules-body tr[data-id="${Number(id)}"]`) : null;
  let target = tr && tr.querySelector(`.${cls || 'rule-edit'}:not([disabled])`);
  if (tr && !target) target = tr.querySelector('.rule-edit');
  (target || document.getElementById('rule-add')).focus();
}

function current() {
  if (state.editing === 'new') {
    return { name: '', enabled: true, subject_regex: false, continue_matching: false, set_tags: [], set_priority: null };
  }
  return state.rules.find((r) => r.id === state.editing) || {};
}

function form() {
  const r = current();
  const isNew = state.editing === 'new';
  const head = isNew ? t('rule_new_title') : t('rule_edit_title', { name: String(r.name || '') });
  const f = el('form', { id: 'rule-form', class: 'rule-form', novalidate: true, 'aria-labelledby': 'rule-form-title',
    'data-for': String(state.editing) }, el('h2', { id: 'rule-form-title' }, head));
  const when = el('fieldset', null, el('legend', null, t('rule_when')));
  const then = el('fieldset', null, el('legend', null, t('rule_then')));
  for (const spec of FIELDS) {
    const target = spec[0] === 'name' || spec[0] === 'enabled' ? f : (spec[0].startsWith('match_') || spec[0] === 'subject_regex' ? when : then);
    target.append(field(spec, r));
    if (spec[0] === 'name') f.append(when, then);
  }
  const save1 = el('button', { type: 'submit', class: 'btn btn-primary', id: 'rule-save' }, t('rule_save'));
  const cancel = el('button', { type: 'button', class: 'btn', id: 'rule-cancel' }, t('rule_cancel'));
  cancel.addEventListener('click', () => closeForm());
  f.append(el('p', { class: 'form-buttons' }, save1, ' ', cancel));
  f.addEventListener('submit', onSubmit);
  f.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      closeForm();
    }
  });
  return f;
}

function field([key, labelKey, kind, helpKey], r) {
  const id = `rule-f-${key}`;
  const helpId = helpKey ? `${id}-help` : null;
  const attrs = { id, name: key, 'aria-describedby': helpId };
  let input;
  if (kind === 'check') {
    input = el('input', Object.assign(attrs, { type: 'checkbox', checked: !!r[key] }));
    return el('div', { class: 'field field-check' }, input, ' ', el('label', { for: id }, t(labelKey)),
      helpId ? el('p', { id: helpId, class: 'help' }, t(helpKey)) : '');
  }
  let value = r[key];
  if (key === 'set_tags') value = Array.isArray(value) ? value.join(', ') : '';
  if (value === null || value === undefined) value = '';
  Object.assign(attrs, { type: kind === 'number' ? 'number' : 'text', value: String(value), autocomplete: 'off', spellcheck: 'false' });
  if (kind === 'number') Object.assign(attrs, { min: '-9', max: '9', step: '1', inputmode: 'numeric' });
  if (key === 'name') Object.assign(attrs, { required: true, maxlength: '130' });
  input = el('input', attrs);
  return el('div', { class: 'field' }, el('label', { for: id }, t(labelKey)), input,
    helpId ? el('p', { id: helpId, class: 'help' }, t(helpKey)) : '');
}

// the form as the API wants it; null (and the error shown) when not valid here
function collect(f) {
  const out = {};
  for (const [key, , kind] of FIELDS) {
    const input = f.elements.namedItem(key);
    if (kind === 'check') out[key] = input.checked;
    else if (key === 'set_tags') out[key] = input.value.split(/[,、，]/).map((s) => s.trim()).filter(Boolean);
    else if (kind === 'number') {
      const v = input.value.trim();
      if (v !== '' && !/^-?[0-9]$/.test(v)) {
        state.formError = { field: key, text: `${t('rule_f_priority')}: ${t('rule_e_priority')}` };
        return null;
      }
      out[key] = v === '' ? null : Number(v);
    } else out[key] = input.value.trim() === '' ? null : input.value.trim();
  }
  if (!out.name) {
    state.formError = { field: 'name', text: `${t('rule_f_name')}: ${t('rule_e_empty')}` };
    return null;
  }
  return out;
}

async function onSubmit(ev) {
  ev.preventDefault();
  if (state.busy) return;
  const body = collect(ev.target);
  if (!body) {
    showFormError();
    return;
  }
  const editing = state.editing;
  state.busy = true;
  try {
    const saved = editing === 'new' ? await api.createRule(body) : await api.updateRule(editing, body);
    announce(t('rule_saved', { name: String(saved.name) }));
    await load(state.generation);
    closeForm(saved.id);
  } catch (e) {
    onSaveError(e);
  } finally {
    state.busy = false;
  }
}

// keep what was typed: re-rendering the form would lose it, so the error
// is put into the form as it stands
function showFormError(focus = true) {
  const f = document.getElementById('rule-form');
  if (!f) return;
  let p = document.getElementById('rule-form-error');
  if (!p) {
    p = el('p', { id: 'rule-form-error', class: 'form-error', role: 'alert' });
    f.querySelector('h2').after(p);
  }
  p.textContent = state.formError.text;
  for (const input of f.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  for (const old of f.querySelectorAll('.field-error')) old.remove();
  const input = state.formError.field ? f.elements.namedItem(state.formError.field) : null;
  if (!input) {
    if (focus) p.scrollIntoView({ block: 'nearest' });
    return;
  }
  // the message again right under the field, where the eye is
  const inline = el('p', { id: `${input.id}-error`, class: 'field-error' }, state.formError.text);
  input.after(inline);
  input.setAttribute('aria-invalid', 'true');
  const d = (input.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('error'));
  input.setAttribute('aria-describedby', [...d, inline.id].join(' '));
  if (focus) input.focus();
}

function onSaveError(e) {
  if (e.status === 401) return;
  if (e.status === 400 && e.body && typeof e.body.error === 'string') {
    const m = /^([a-z_]+): (.*)$/.exec(e.body.error);
    const spec = m && FIELDS.find((x) => x[0] === m[1]);
    state.formError = { field: spec ? spec[0] : null, text: spec ? `${t(spec[1])}: ${reason(m[2])}` : e.body.error };
  } else if (e.status === 404) {
    state.formError = { field: null, text: t('rule_gone') };
  } else {
    state.formError = { field: null, text: errorText(e) };
  }
  showFormError();
}

function reason(text) {
  for (const [prefix, key] of REASONS) {
    if (text.startsWith(prefix)) {
      const detail = /\((.*)\)$/.exec(text);
      return t(key, { detail: detail ? detail[1] : '' });
    }
  }
  return text;
}

// ---- row actions ----

async function save(id, fields, control, doneKey) {
  const r = state.rules.find((x) => x.id === id);
  control.disabled = true;
  try {
    await api.updateRule(id, fields);
    announce(t(doneKey, { name: String(r ? r.name : id), state: t(fields.enabled ? 'rule_on' : 'rule_off') }));
  } catch (e) {
    if (e.status !== 401) showError(errorText(e));
  }
  await load(state.generation);
  render();
  focusAfter(id, 'rule-enabled');
}

async function move(id, step, cls) {
  const ids = state.rules.map((r) => r.id);
  const i = ids.indexOf(id);
  const j = i + step;
  if (i < 0 || j < 0 || j >= ids.length) return;
  [ids[i], ids[j]] = [ids[j], ids[i]];
  try {
    const data = await api.orderRules(ids);
    state.rules = data.rules;
    const r = state.rules.find((x) => x.id === id);
    announce(t('rule_moved', { name: String(r.name), pos: j + 1 }));
  } catch (e) {
    if (e.status === 401) return;
    showError(e.status === 409 ? t('rules_changed') : errorText(e));
    await load(state.generation);
  }
  render();
  focusAfter(id, cls);
}

async function remove(r) {
  if (!window.confirm(t('rule_delete_confirm', { name: String(r.name) }))) return;
  try {
    await api.deleteRule(r.id);
    announce(t('rule_deleted', { name: String(r.name) }));
  } catch (e) {
    if (e.status === 401) return;
    if (e.status !== 404) showError(errorText(e));
  }
  const i = state.rules.findIndex((x) => x.id === r.id);
  await load(state.generation);
  if (state.editing === r.id) state.editing = null;
  render();
  const next = state.rules[Math.min(i, state.rules.length - 1)];
  focusAfter(next ? next.id : null, 'rule-delete');
}
