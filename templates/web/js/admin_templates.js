// 定型文 (#/admin/templates, admins): the reply templates of
// ticketd.reply_templates, edited through /api/templates and
// PUT /api/admin/templates/NAME (ticketd/templates.h).
//
// The list on the left opens one template in the editor: title, subject,
// the "Approval: required" switch and the body.  While the subject or body
// is typed, the variables they use are listed, each marked known or
// unknown (the same scan as templates.c: {{name}} on one line, blanks
// trimmed; an unclosed "{{" stops it), so a typo shows before saving.  A
// new template gets a name checked as templates_name_ok() does, and not one
// already listed (a save would overwrite it).  The server's 400 goes beside
// its field.  The preview fills the saved template from a ticket the admin
// names (POST /api/tickets/ID/reply/render, allowed to admins): exactly
// what an operator starts from.  Template text only ever enters the page
// as textContent or a field's value.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce, errorText } from './ui.js';
import { box, title, focusTitle, refused, clearFieldErrors, fieldError } from './admin_form.js';

// templates.c's templates_vars[], until the server has told us its list
const FALLBACK_VARS = ['ticket.id', 'ticket.subject', 'ticket.received', 'citizen.name',
  'operator.name', 'centre.name', 'centre.signature'];
const VAR_MAX = 64;     // bytes between the braces (templates.c)
const NAME_MAX = 120;   // TEMPLATES_NAME_MAX
const FIELDS = [['title', 'tpl_f_title'], ['subject', 'tpl_f_subject'], ['body', 'tpl_f_body'], ['name', 'tpl_f_name']];

const state = {
  gen: 0,
  loaded: false,
  list: [],
  variables: FALLBACK_VARS,
  open: null,       // null, 'new' or the name of the template in the editor
  doc: null,        // what the server holds for it (GET /api/templates/NAME)
  preview: null,    // {id, data} or {id, error}
  busy: false,
};

const utf8Length = (s) => new TextEncoder().encode(s).length;

export async function show(focus) {
  const gen = ++state.gen;
  if (!state.loaded) box().replaceChildren(el('p', null, t('loading')));
  if (!(await loadList(gen))) return;
  render();
  if (focus) focusTitle();
}

export function clear() {
  state.gen += 1;
  Object.assign(state, { loaded: false, list: [], open: null, doc: null, preview: null, busy: false });
}

async function loadList(gen) {
  try {
    const data = await api.adminTemplates();
    if (gen !== state.gen) return false;
    state.list = Array.isArray(data && data.templates) ? data.templates : [];
    state.loaded = true;
    return true;
  } catch (e) {
    if (gen === state.gen && e.status !== 401) refused('tpl_title', e);
    return false;
  }
}

// ---- the page ----

export function render() {
  if (!state.loaded) return;
  const keep = typed();
  document.title = `${t('tpl_title')} – 窓口`;
  const add = el('button', { type: 'button', id: 'tpl-new', class: 'btn btn-primary' }, t('tpl_new'));
  add.addEventListener('click', () => openNew());
  const side = el('div', { class: 'tpl-side' }, el('p', null, add), listView());
  const main = el('div', { class: 'tpl-main' }, state.open === null ? '' : editor(), state.open === null || state.open === 'new' ? '' : previewView());
  box().replaceChildren(title('tpl_title'), el('p', { class: 'adm-intro' }, t('tpl_intro')),
    el('div', { class: 'tpl-layout' }, side, main));
  if (keep) restore(keep);
  if (state.open !== null) updateVars();
}

function listView() {
  if (!state.list.length) return el('p', { class: 'empty' }, t('tpl_empty'));
  const ul = el('ul', { class: 'tpl-list', id: 'tpl-list', 'aria-label': t('tpl_list_label') });
  for (const d of state.list) {
    const b = el('button', { type: 'button', class: 'btn tpl-open', 'data-name': String(d.name),
      'aria-current': state.open === d.name ? 'true' : null },
    String(d.title), d.approval_required ? `（${t('tpl_needs_approval')}）` : '',
    el('span', { class: 'tpl-name' }, String(d.name)));
    b.addEventListener('click', () => openTemplate(String(d.name)));
    ul.append(el('li', null, b));
  }
  return ul;
}

async function openTemplate(name) {
  const gen = state.gen;
  try {
    const doc = await api.adminTemplate(name);
    if (gen !== state.gen) return;
    state.open = name;
    state.doc = doc;
    state.preview = null;
    if (Array.isArray(doc.variables) && doc.variables.length) state.variables = doc.variables.map(String);
    render();
    document.getElementById('tpl-f-title').focus();
  } catch (e) {
    if (e.status === 401 || gen !== state.gen) return;
    announce(e.status === 404 ? t('tpl_gone') : errorText(e));
    await loadList(gen);
    render();
  }
}

function openNew() {
  state.open = 'new';
  state.doc = { name: '', title: '', subject: '', body: '', approval_required: false, syntax_error: null };
  state.preview = null;
  render();
  document.getElementById('tpl-f-name').focus();
}

function closeEditor() {
  const was = state.open;
  state.open = null;
  state.doc = null;
  state.preview = null;
  render();
  const b = was && was !== 'new' ? document.querySelector(`.tpl-open[data-name="${CSS.escape(was)}"]`) : null;
  (b || document.getElementById('tpl-new')).focus();
}

// ---- the editor ----

function editor() {
  const d = state.doc || {};
  const isNew = state.open === 'new';
  const f = el('form', { id: 'tpl-form', class: 'rule-form tpl-form', novalidate: true, 'aria-labelledby': 'tpl-form-title',
    'data-for': String(state.open) },
  el('h2', { id: 'tpl-form-title' }, isNew ? t('tpl_new_title') : t('tpl_edit_title', { name: String(d.name) })));
  if (isNew) f.append(textField('name', 'tpl_f_name', '', 'tpl_h_name'));
  f.append(textField('title', 'tpl_f_title', d.title, null),
    textField('subject', 'tpl_f_subject', d.subject, 'tpl_h_subject'));
  const ap = el('input', { type: 'checkbox', id: 'tpl-f-approval', name: 'approval_required', checked: !!d.approval_required });
  f.append(el('div', { class: 'field field-check' }, ap, ' ', el('label', { for: 'tpl-f-approval' }, t('tpl_f_approval'))));
  const body = el('textarea', { id: 'tpl-f-body', name: 'body', rows: '16', spellcheck: 'false', 'aria-describedby': 'tpl-vars-title' });
  body.value = String(d.body || '');
  f.append(el('div', { class: 'field' }, el('label', { for: 'tpl-f-body' }, t('tpl_f_body')), body));
  f.append(varsPanel());
  const save = el('button', { type: 'submit', class: 'btn btn-primary', id: 'tpl-save' }, t('tpl_save'));
  const close = el('button', { type: 'button', class: 'btn', id: 'tpl-close' }, t('tpl_close'));
  close.addEventListener('click', closeEditor);
  f.append(el('p', { class: 'form-buttons' }, save, ' ', close));
  f.addEventListener('submit', onSave);
  f.addEventListener('input', (ev) => {
    if (ev.target.name === 'subject' || ev.target.name === 'body') updateVars();
  });
  f.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      closeEditor();
    }
  });
  return f;
}

function textField(key, labelKey, value, helpKey) {
  const id = `tpl-f-${key}`;
  const helpId = helpKey ? `${id}-help` : null;
  const input = el('input', { type: 'text', id, name: key, value: String(value || ''), autocomplete: 'off',
    spellcheck: 'false', 'aria-describedby': helpId, required: key === 'name' || null });
  return el('div', { class: 'field' }, el('label', { for: id }, t(labelKey)), input,
    helpId ? el('p', { id: helpId, class: 'help' }, t(helpKey)) : '');
}

function varsPanel() {
  const insert = el('ul', { class: 'tpl-insert' });
  for (const name of state.variables) {
    const b = el('button', { type: 'button', class: 'btn btn-small tpl-insert-var', 'aria-label': t('tpl_insert_label', { name }) }, `{{${name}}}`);
    b.addEventListener('click', () => insertVar(name));
    insert.append(el('li', null, b));
  }
  return el('section', { class: 'tpl-vars', 'aria-labelledby': 'tpl-vars-title' },
    el('h3', { id: 'tpl-vars-title' }, t('tpl_vars_title')),
    el('ul', { id: 'tpl-vars-used' }),
    el('p', { id: 'tpl-syntax', class: 'form-error', hidden: true }),
    el('h3', null, t('tpl_vars_avail')), insert);
}

function insertVar(name) {
  const body = document.getElementById('tpl-f-body');
  const s = body.selectionStart ?? body.value.length;
  const e = body.selectionEnd ?? s;
  const text = `{{${name}}}`;
  body.setRangeText(text, s, e, 'end');
  body.focus();
  updateVars();
}

// The variables of text as templates.c reads them: names in order (each
// once) into used; the place of an unclosed "{{", or null.
export function scanVars(text, used) {
  let i = 0;
  for (;;) {
    const open = text.indexOf('{{', i);
    if (open < 0) return null;
    const close = text.indexOf('}}', open + 2);
    const inner = close < 0 ? null : text.slice(open + 2, close);
    if (inner === null || inner.includes('\n') || utf8Length(inner) > VAR_MAX) return text.slice(open, open + 30);
    const name = inner.replace(/^[ \t]+|[ \t]+$/g, '');
    if (!used.includes(name)) used.push(name);
    i = close + 2;
  }
}

function updateVars() {
  const f = document.getElementById('tpl-form');
  const list = document.getElementById('tpl-vars-used');
  if (!f || !list) return;
  const used = [];
  const bad = scanVars(f.elements.namedItem('subject').value, used) ?? scanVars(f.elements.namedItem('body').value, used);
  list.replaceChildren(...used.map((name) => {
    const known = state.variables.includes(name);
    return el('li', { class: known ? 'var-known' : 'var-unknown', 'data-var': name },
      el('code', null, `{{${name}}}`), ` — ${t(known ? 'tpl_var_known' : 'tpl_var_unknown')}`);
  }));
  if (!used.length) list.replaceChildren(el('li', null, t('tpl_vars_none')));
  const syn = document.getElementById('tpl-syntax');
  syn.textContent = bad === null ? '' : t('tpl_syntax', { why: t('tpl_unclosed', { near: bad }) });
  syn.hidden = bad === null;
}

// what is typed, when render() rebuilds the same editor (a language switch)
function typed() {
  const f = document.getElementById('tpl-form');
  if (!f || f.dataset.for !== String(state.open)) return null;
  const v = { approval_required: f.elements.namedItem('approval_required').checked };
  for (const [key] of FIELDS) {
    const input = f.elements.namedItem(key);
    if (input) v[key] = input.value;
  }
  const p = document.getElementById('tpl-p-ticket');
  if (p) v.ticket = p.value;
  return v;
}

function restore(v) {
  const f = document.getElementById('tpl-form');
  if (!f) return;
  f.elements.namedItem('approval_required').checked = v.approval_required;
  for (const [key] of FIELDS) {
    const input = f.elements.namedItem(key);
    if (input && v[key] !== undefined) input.value = v[key];
  }
  const p = document.getElementById('tpl-p-ticket');
  if (p && v.ticket !== undefined) p.value = v.ticket;
}

// a problem with a new template's name, as templates_name_ok() sees it
export function nameProblem(name, list) {
  if (!name) return 'tpl_e_name_empty';
  if (utf8Length(name) > NAME_MAX) return 'tpl_e_name_long';
  if (name.startsWith('.') || name.startsWith(' ') || name.endsWith(' ')) return 'tpl_e_name_edge';
  if (/[/\\\u0000-\u001f\u007f]/.test(name)) return 'tpl_e_name_chars';
  if (list.some((d) => d.name === name)) return 'tpl_e_name_taken';
  return null;
}

async function onSave(ev) {
  ev.preventDefault();
  if (state.busy) return;
  const f = ev.target;
  clearFieldErrors(f);
  const isNew = state.open === 'new';
  const name = isNew ? f.elements.namedItem('name').value : state.open;
  const problem = isNew ? nameProblem(name, state.list) : null;
  if (problem) {
    fieldError(f.elements.namedItem('name'), `${t('tpl_f_name')}: ${t(problem)}`);
    return;
  }
  const body = {
    title: f.elements.namedItem('title').value,
    subject: f.elements.namedItem('subject').value,
    body: f.elements.namedItem('body').value,
    approval_required: f.elements.namedItem('approval_required').checked,
  };
  state.busy = true;
  const gen = state.gen;
  try {
    const doc = await api.saveTemplate(name, body);
    if (gen !== state.gen) return;
    state.open = String(doc.name);
    state.doc = doc;
    announce(t('tpl_saved', { name: String(doc.name) }));
    await loadList(gen);
    render();
    document.getElementById('tpl-save').focus();
  } catch (e) {
    if (e.status !== 401 && gen === state.gen) onSaveError(f, e, body);
  } finally {
    state.busy = false;
  }
}

function onSaveError(f, e, sent) {
  const b = e.body || {};
  const msg = typeof b.error === 'string' ? b.error : '';
  if (e.status === 400 && Array.isArray(b.unknown_variables) && b.unknown_variables.length) {
    const names = b.unknown_variables.map(String);
    const inSubject = names.every((n) => sent.subject.includes(n));
    const key = inSubject ? 'subject' : 'body';
    fieldError(f.elements.namedItem(key), `${t(`tpl_f_${key}`)}: ${t('tpl_e_unknown', { names: names.join('、') })}`);
    return;
  }
  if (e.status === 400 && msg.startsWith('"{{"')) {
    const key = scanVars(sent.subject, []) !== null ? 'subject' : 'body';
    fieldError(f.elements.namedItem(key), `${t(`tpl_f_${key}`)}: ${t('tpl_syntax', { why: msg })}`);
    return;
  }
  const m = /^(title|subject|body|name): (.*)$/.exec(msg);
  if (e.status === 400 && m && f.elements.namedItem(m[1])) {
    fieldError(f.elements.namedItem(m[1]), `${t(`tpl_f_${m[1]}`)}: ${reason(m[2])}`);
    return;
  }
  let p = document.getElementById('tpl-form-error');
  if (!p) {
    p = el('p', { id: 'tpl-form-error', class: 'form-error', role: 'alert' });
    f.querySelector('h2').after(p);
  }
  p.textContent = e.status === 400 && msg ? msg : errorText(e);
}

function reason(text) {
  const m = /^must be a string of at most ([0-9]+) bytes( on one line)?$/.exec(text);
  if (m) return t(m[2] ? 'tpl_e_field_line' : 'tpl_e_field', { max: m[1] });
  if (text === 'not a valid template name') return t('tpl_e_name_bad');
  return text;
}

// ---- the preview ----

function previewView() {
  const input = el('input', { type: 'text', id: 'tpl-p-ticket', name: 'ticket', inputmode: 'numeric', autocomplete: 'off',
    size: '10', 'aria-describedby': 'tpl-preview-intro' });
  if (state.preview) input.value = String(state.preview.id);
  const f = el('form', { id: 'tpl-preview-form', novalidate: true },
    el('div', { class: 'field' }, el('label', { for: 'tpl-p-ticket' }, t('tpl_preview_ticket')), input),
    el('button', { type: 'submit', class: 'btn', id: 'tpl-p-run' }, t('tpl_preview_run')));
  f.addEventListener('submit', onPreview);
  return el('section', { class: 'tpl-preview', 'aria-labelledby': 'tpl-preview-title' },
    el('h2', { id: 'tpl-preview-title' }, t('tpl_preview_title')),
    el('p', { id: 'tpl-preview-intro' }, t('tpl_preview_intro'), ' ', t('tpl_preview_unsaved')),
    f, previewOut());
}

function previewOut() {
  const out = el('div', { id: 'tpl-preview-out', class: 'tpl-preview-out' });
  const p = state.preview;
  if (!p) return out;
  if (p.error) {
    out.append(el('p', { class: 'form-error', role: 'alert' }, p.error));
    return out;
  }
  const d = p.data;
  const dl = el('dl', null,
    el('dt', null, t('tpl_preview_to')), el('dd', { id: 'tpl-p-to' }, (d.to || []).map(String).join(', ') || t('adm_none')),
    el('dt', null, t('tpl_preview_subject')), el('dd', { id: 'tpl-p-subject' }, String(d.subject || '')),
    el('dt', null, t('tpl_preview_body')), el('dd', null, el('pre', { id: 'tpl-p-body', class: 'tpl-preview-body' }, String(d.body || ''))));
  out.append(dl);
  if (Array.isArray(d.empty_variables) && d.empty_variables.length) {
    out.append(el('p', { class: 'help' }, t('tpl_preview_empty_vars', { names: d.empty_variables.map(String).join('、') })));
  }
  return out;
}

async function onPreview(ev) {
  ev.preventDefault();
  const input = document.getElementById('tpl-p-ticket');
  clearFieldErrors(ev.target);
  const v = input.value.trim().replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  if (!/^[1-9][0-9]{0,17}$/.test(v)) {
    fieldError(input, t('tpl_preview_bad_ticket'));
    return;
  }
  const gen = state.gen;
  const name = state.open;
  try {
    const data = await api.renderReply(v, { template: name });
    if (gen !== state.gen || name !== state.open) return;
    state.preview = { id: v, data };
    announce(t('tpl_preview_shown', { id: v }));
  } catch (e) {
    if (e.status === 401 || gen !== state.gen) return;
    const b = e.body || {};
    let text = errorText(e);
    if (e.status === 404 && b.error === 'no such ticket') text = t('tpl_preview_no_ticket', { id: v });
    else if (e.status === 404) text = t('tpl_gone');
    else if (e.status === 422 && Array.isArray(b.unknown_variables) && b.unknown_variables.length) {
      text = t('tpl_e_unknown', { names: b.unknown_variables.map(String).join('、') });
    } else if (e.status === 422 && typeof b.error === 'string') text = t('tpl_syntax', { why: b.error });
    state.preview = { id: v, error: text };
  }
  document.getElementById('tpl-preview-out').replaceWith(previewOut());
}
