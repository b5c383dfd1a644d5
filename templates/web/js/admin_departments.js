// 所管課の管理 (#/admin/departments), for administrators: the department
// directory escalations go to (issue 6, ticketd/department.h).
//
// The list in the directory's order, a form to add or edit one department
// (課, 係, liaison addresses one per line, the head of section's address,
// phone, enabled, order), and the import of a whole CSV chosen with a file
// input: its bytes go to ticketd as they are (text/csv), which stores every
// line or none and answers how many were added and updated, or the line at
// fault.  After every change the list is fetched again, so what is shown is
// what is stored.  Native controls only; the focus goes to the form when it
// opens, back to the button that opened it when it closes, and to the field
// a 400 names; results are announced.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce, errorText } from './ui.js';
import { box, title, focusTitle } from './admin_form.js';

// the form: [key, id, label key, kind]
const FIELDS = [
  ['name', 'dep-f-name', 'dep_f_name', 'text'],
  ['section', 'dep-f-section', 'dep_f_section', 'text'],
  ['mail', 'dep-f-mail', 'dep_f_mail', 'lines'],
  ['head_mail', 'dep-f-head', 'dep_f_head', 'text'],
  ['phone', 'dep-f-phone', 'dep_f_phone', 'text'],
  ['position', 'dep-f-position', 'dep_f_position', 'number'],
  ['enabled', 'dep-f-enabled', 'dep_f_enabled', 'check'],
];

const state = {
  list: null,
  error: null,
  editing: null,    // null, 'new' or a department id
  formError: null,  // {field, text}
  typed: null,      // the form's values while it is shown again after a refusal
  opener: null,     // the id of the button that opened the form
  importResult: null, // {kind, text}
  gen: 0,          // a load for a page since left is dropped
};

// admin_menu.js shows the page (admins only; it says so to other roles)
export async function show(focus) {
  state.editing = null;
  state.formError = null;
  state.importResult = null;
  state.gen += 1;
  render();
  await load(state.gen);
  if (focus) focusTitle();
}

export function clear() {
  state.gen += 1;
  state.list = null;
  state.editing = null;
}

async function load(gen) {
  try {
    const d = await api.departments();
    if (gen !== state.gen) return;
    state.list = Array.isArray(d && d.departments) ? d.departments : [];
    state.error = null;
  } catch (e) {
    if (gen !== state.gen) return;
    if (e.status === 401) return;
    state.error = errorText(e);
  }
  render();
}

// Draw the page (again: a language switch, a change); the focus stays on
// the control that had it when it is still there.
export function render() {
  const b = box();
  if (!b) return;
  document.title = `${t('dep_title')} – 窓口`;
  const focusId = document.activeElement && b.contains(document.activeElement) ? document.activeElement.id : null;
  const add = el('button', { type: 'button', class: 'btn', id: 'dep-add', 'aria-expanded': state.editing === 'new' ? 'true' : 'false' }, t('dep_add'));
  add.addEventListener('click', () => openForm('new', 'dep-add'));
  b.replaceChildren(
    title('dep_title'),
    el('p', { class: 'rules-intro' }, t('dep_intro')),
    importBlock(),
    el('h2', { id: 'dep-list-title' }, t('dep_list_title')),
    el('p', null, add),
    state.editing === 'new' ? form(null) : '',
    listBlock());
  const again = focusId && document.getElementById(focusId);
  if (again) again.focus();
}

// ---- CSV import ----

function importBlock() {
  const file = el('input', { type: 'file', id: 'dep-csv', accept: '.csv,text/csv', 'aria-describedby': 'dep-csv-hint' });
  const btn = el('button', { type: 'button', class: 'btn', id: 'dep-import' }, t('dep_import'));
  btn.addEventListener('click', () => importCsv(file, btn));
  const r = state.importResult;
  const result = el('p', { id: 'dep-import-result', role: r && r.kind === 'error' ? 'alert' : 'status',
    class: r && r.kind === 'error' ? 'form-error' : 'dep-result' });
  if (r) result.textContent = r.text;
  else result.hidden = true;
  return el('section', { class: 'dep-import', 'aria-labelledby': 'dep-import-title' },
    el('h2', { id: 'dep-import-title' }, t('dep_import_title')),
    el('div', { class: 'field' }, el('label', { for: 'dep-csv' }, t('dep_csv')),
      el('p', { class: 'hint', id: 'dep-csv-hint' }, t('dep_csv_hint')), file),
    el('p', null, btn), result);
}

async function importCsv(input, btn) {
  const f = input.files && input.files[0];
  if (!f) {
    state.importResult = { kind: 'error', text: t('dep_csv_none') };
    render();
    document.getElementById('dep-csv').focus();
    return;
  }
  btn.disabled = true;
  try {
    const r = await api.importDepartments(f);
    state.importResult = { kind: 'info', text: t('dep_imported', { added: Number(r.added) || 0, updated: Number(r.updated) || 0 }) };
    announce(state.importResult.text);
    await load(state.gen);
  } catch (e) {
    const b = (e && e.body) || {};
    let text = errorText(e);
    if (e.status === 400 && b.error) text = b.line ? t('dep_import_line', { line: Number(b.line), why: String(b.error) }) : t('dep_import_bad', { why: String(b.error) });
    else if (e.status === 415) text = t('dep_import_type');
    state.importResult = { kind: 'error', text };
    render();
  } finally {
    btn.disabled = false;
  }
  const r = document.getElementById('dep-import-result');
  if (r) {
    r.setAttribute('tabindex', '-1');
    r.focus();
  }
}

// ---- the list ----

function listBlock() {
  if (state.error) return el('p', { class: 'form-error' }, state.error);
  if (!state.list) return el('p', null, t('loading'));
  if (!state.list.length) return el('p', { id: 'dep-empty', class: 'empty' }, t('dep_empty'));
  const head = ['dep_f_name', 'dep_f_section', 'dep_f_mail', 'dep_f_head', 'dep_f_phone', 'dep_col_state', 'dep_f_position', 'dep_col_action'];
  const tb = el('tbody');
  for (const d of state.list) {
    const id = Number(d.id);
    const edit = el('button', { type: 'button', class: 'btn btn-small', id: `dep-edit-${id}`,
      'aria-expanded': state.editing === id ? 'true' : 'false' }, t('dep_edit'), el('span', { class: 'visually-hidden' }, ` ${String(d.path)}`));
    edit.addEventListener('click', () => openForm(id, `dep-edit-${id}`));
    tb.append(el('tr', { 'data-id': String(id), class: d.enabled ? '' : 'rule-off' },
      el('th', { scope: 'row' }, String(d.name)),
      el('td', null, d.section ? String(d.section) : t('none')),
      el('td', { class: 'dep-mail' }, el('ul', { class: 'dep-addr-list' }, ...(Array.isArray(d.mail) ? d.mail : []).map((m) => el('li', null, String(m))))),
      el('td', null, d.head_mail ? String(d.head_mail) : t('none')),
      el('td', null, d.phone ? String(d.phone) : t('none')),
      el('td', null, t(d.enabled ? 'dep_enabled' : 'dep_disabled')),
      el('td', null, String(Number(d.position) || 0)),
      el('td', null, edit)));
    if (state.editing === id) tb.append(el('tr', null, el('td', { colspan: String(head.length) }, form(d))));
  }
  return el('div', { class: 'table-wrap' }, el('table', { class: 'rules dep-list', id: 'dep-table', 'aria-labelledby': 'dep-list-title' },
    el('thead', null, el('tr', null, ...head.map((k) => el('th', { scope: 'col' }, t(k))))), tb));
}

// ---- the form ----

function openForm(which, opener) {
  state.editing = which;
  state.formError = null;
  state.typed = null;
  state.opener = opener;
  render();
  const f = document.getElementById('dep-f-name');
  if (f) f.focus();
}

function closeForm() {
  state.editing = null;
  state.formError = null;
  state.typed = null;
  render();
  const o = state.opener && document.getElementById(state.opener);
  if (o) o.focus();
}

function control(key, id, kind, d) {
  if (kind === 'check') {
    const c = el('input', { type: 'checkbox', id, name: key });
    c.checked = d ? !!d.enabled : true;
    return c;
  }
  if (kind === 'lines') {
    const c = el('textarea', { id, name: key, rows: '3', spellcheck: 'false', 'aria-describedby': `${id}-hint` });
    c.value = d && Array.isArray(d.mail) ? d.mail.join('\n') : '';
    return c;
  }
  const c = el('input', { id, name: key, type: kind === 'number' ? 'number' : 'text', autocomplete: 'off', spellcheck: 'false' });
  if (kind === 'number') c.step = '1';
  const v = d ? d[key] : (key === 'position' ? 0 : '');
  c.value = v === null || v === undefined ? '' : String(v);
  return c;
}

function form(stored) {
  const d = state.typed || stored; // a refused form keeps what was typed
  const f = el('form', { id: 'dep-form', class: 'rule-form', novalidate: true, 'aria-labelledby': 'dep-form-title' },
    el('h2', { id: 'dep-form-title' }, stored ? t('dep_form_edit', { path: String(stored.path) }) : t('dep_form_new')));
  for (const [key, id, lk, kind] of FIELDS) {
    const c = control(key, id, kind, d);
    const err = state.formError && state.formError.field === key ? state.formError.text : null;
    const wrap = el('div', { class: kind === 'check' ? 'field-check' : 'field', 'data-field': key });
    if (kind === 'check') wrap.append(c, ' ', el('label', { for: id }, t(lk)));
    else wrap.append(el('label', { for: id }, t(lk)));
    if (kind === 'lines') wrap.append(el('p', { class: 'hint', id: `${id}-hint` }, t('dep_h_mail')));
    if (err) {
      wrap.classList.add('field-invalid');
      c.setAttribute('aria-invalid', 'true');
      const eid = `${id}-error`;
      wrap.append(el('p', { class: 'form-error', id: eid }, err));
      c.setAttribute('aria-describedby', `${c.getAttribute('aria-describedby') || ''} ${eid}`.trim());
    }
    if (kind !== 'check') wrap.append(c);
    f.append(wrap);
  }
  const general = state.formError && !state.formError.field ? state.formError.text : null;
  f.append(el('p', { id: 'dep-form-error', class: 'form-error', role: 'alert', hidden: !general }, general || ''));
  const save = el('button', { type: 'submit', class: 'btn btn-primary', id: 'dep-save' }, t('dep_save'));
  const cancel = el('button', { type: 'button', class: 'btn', id: 'dep-cancel' }, t('dep_cancel'));
  cancel.addEventListener('click', closeForm);
  f.append(el('p', { class: 'rule-actions' }, save, ' ', cancel));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(stored, save);
  });
  return f;
}

function values() {
  const v = (id) => document.getElementById(id).value;
  return {
    name: v('dep-f-name').trim(),
    section: v('dep-f-section').trim(),
    mail: v('dep-f-mail').split(/[\n,;]/).map((s) => s.trim()).filter((s) => s !== ''),
    head_mail: v('dep-f-head').trim() || null,
    phone: v('dep-f-phone').trim(),
    position: Number(v('dep-f-position')) || 0,
    enabled: document.getElementById('dep-f-enabled').checked,
  };
}

async function submit(d, btn) {
  const fields = values();
  btn.disabled = true;
  try {
    if (d) await api.updateDepartment(d.id, fields);
    else await api.createDepartment(fields);
    announce(t('dep_saved', { name: fields.section ? `${fields.name} > ${fields.section}` : fields.name }));
    state.editing = null;
    state.formError = null;
    state.typed = null;
    await load(state.gen);
    const o = (d && document.getElementById(`dep-edit-${Number(d.id)}`)) || document.getElementById('dep-add');
    if (o) o.focus();
  } catch (e) {
    btn.disabled = false;
    formFailed(e);
  }
}

// "mail: ..." names the field at fault: its message goes beside it, with the focus
function formFailed(e) {
  state.typed = values();
  const b = (e && e.body) || {};
  const why = b.error ? String(b.error) : '';
  const m = /^([a-z_]+): (.*)$/.exec(why);
  const keys = FIELDS.map((f) => f[0]);
  if (e.status === 400 && m && keys.includes(m[1])) state.formError = { field: m[1], text: m[2] };
  else if (e.status === 409) state.formError = { field: null, text: t('dep_conflict') };
  else state.formError = { field: null, text: why ? t('dep_refused', { why }) : errorText(e) };
  render();
  const f = state.formError.field ? FIELDS.find((x) => x[0] === state.formError.field) : null;
  const target = document.getElementById(f ? f[1] : 'dep-form-error');
  if (target) {
    if (!f) target.setAttribute('tabindex', '-1');
    target.focus();
  }
  announce(state.formError.text);
}
