// The 応対履歴 (case history) panel of the ticket page.
//
// The case record is what ward staff read and what reports count, so it
// must hold nothing that identifies the citizen.  ticketd scans every
// free-text field and refuses a save that holds something shaped like a
// phone number, mail address, postal code or address (422 with the
// findings).  This panel then lists each finding as text (field, kind and
// the words themselves), marks the field as invalid, and offers to select
// the span in the field so the operator can delete or rewrite it.  Nothing
// here relies on colour.
//
// Operators and supervisors edit; other roles see the record read-only.

import * as api from './api.js';
import { t, lang } from './i18n.js';
import { tokyoTime, isoOrEmpty, label, el } from './format.js';
import { announce, errorText } from './ui.js';
import * as contact from './contact.js';

const FIELDS = [
  { key: 'category', id: 'case-category', label: 'case_category', kind: 'input', max: 200 },
  { key: 'inquiry_summary', id: 'case-inquiry', label: 'case_inquiry', kind: 'textarea', max: 8000 },
  { key: 'answer_summary', id: 'case-answer', label: 'case_answer', kind: 'textarea', max: 8000 },
  { key: 'resolution', id: 'case-resolution', label: 'case_resolution', kind: 'select' },
  { key: 'escalated_to', id: 'case-escalated', label: 'case_escalated', kind: 'input', max: 200 },
];

let state = null; // {id, doc, resolutions, box}
let generation = 0;

function canWrite() {
  const role = document.body.dataset.role;
  return role === 'operator' || role === 'supervisor';
}

// The ticket page's hook: the case panel and the contact panel for ticket
// `id`, in an element to append to the page.  Called on every render of
// the ticket (a language switch too): what is being typed in the case form
// is kept, the contact details are hidden again until a reason is given.
export function panels(id) {
  const caseBox = el('div', { id: 'case-box' });
  const contactBox = el('div', { id: 'contact-box' });
  mount(caseBox, id);
  contact.mount(contactBox, id);
  return el('div', { class: 'privacy-panels' }, caseBox, contactBox);
}

// Put the panel for ticket `id` into `box`.
export async function mount(box, id) {
  const gen = ++generation;
  const typed = state && state.id === id && canWrite() && document.getElementById('case-form') ? currentValues() : null;
  state = null;
  box.replaceChildren(el('p', null, t('loading')));
  let doc;
  let resolutions = [];
  try {
    doc = await api.caseGet(id);
    const r = await api.caseResolutions().catch(() => null);
    if (r && Array.isArray(r.resolutions)) resolutions = r.resolutions;
  } catch (e) {
    if (gen !== generation) return;
    box.replaceChildren(el('h2', null, t('case_title')), el('p', { class: 'form-error' }, errorText(e)));
    return;
  }
  if (gen !== generation) return;
  state = { id, doc, resolutions, box };
  render(typed);
}

// Draw the panel; typed: field values to show instead of the stored ones.
function render(typed) {
  if (!state) return;
  const sec = el('section', { class: 'case-panel', 'aria-labelledby': 'case-title' },
    el('h2', { id: 'case-title' }, t('case_title')), stateLine(state.doc));
  sec.append(canWrite() ? form(state.doc, typed) : readOnly(state.doc));
  state.box.replaceChildren(sec);
}

function stateLine(d) {
  if (!d.recorded) return el('p', { class: 'case-state' }, t('case_not_recorded'));
  return el('p', { class: 'case-state' }, t('case_recorded_by', { who: String(d.updated_by || d.recorded_by || '') }), ' ',
    el('time', { datetime: isoOrEmpty(d.updated_at) }, tokyoTime(d.updated_at)));
}

function resolutionLabel(code) {
  if (!code) return t('none');
  const r = state.resolutions.find((x) => x.code === code);
  if (r) return String(lang() === 'en' ? r.label_en || r.label_ja : r.label_ja);
  return label('resolution', code);
}

function readOnly(d) {
  const dl = el('dl', { class: 'meta case-meta' });
  const add = (k, v) => dl.append(el('div', null, el('dt', null, t(k)), el('dd', null, v)));
  add('case_channel', label('channel', d.channel));
  add('case_received', el('time', { datetime: isoOrEmpty(d.received_at) }, tokyoTime(d.received_at)));
  add('case_first_response', el('time', { datetime: isoOrEmpty(d.first_response_at) }, tokyoTime(d.first_response_at)));
  add('case_resolved', el('time', { datetime: isoOrEmpty(d.resolved_at) }, tokyoTime(d.resolved_at)));
  add('case_category', d.category ? String(d.category) : t('none'));
  add('case_inquiry', el('span', { class: 'case-text' }, d.inquiry_summary ? String(d.inquiry_summary) : t('none')));
  add('case_answer', el('span', { class: 'case-text' }, d.answer_summary ? String(d.answer_summary) : t('none')));
  add('case_resolution', resolutionLabel(d.resolution));
  add('case_escalated', d.escalated_to ? String(d.escalated_to) : t('none'));
  return dl;
}

function control(f, value) {
  let c;
  if (f.kind === 'select') {
    c = el('select', { id: f.id, name: f.key });
    c.append(el('option', { value: '' }, t('case_resolution_none')));
    const codes = state.resolutions.map((r) => r.code);
    if (value && !codes.includes(value)) codes.push(value);
    for (const code of codes) c.append(el('option', { value: code }, resolutionLabel(code)));
    c.value = value || '';
  } else {
    c = el(f.kind, { id: f.id, name: f.key, maxlength: f.max, autocomplete: 'off', spellcheck: 'false' });
    if (f.kind === 'textarea') c.rows = 4;
    c.value = value || '';
  }
  c.setAttribute('aria-describedby', 'case-hint');
  return c;
}

function form(d, typed) {
  const f = el('form', { id: 'case-form', class: 'case-form', novalidate: true });
  f.append(el('p', { id: 'case-hint', class: 'hint' }, t('case_hint')));
  f.append(el('div', { id: 'case-findings', class: 'case-findings', role: 'alert', tabindex: '-1', hidden: true }));
  for (const fd of FIELDS) {
    const value = typed ? typed[fd.key] : d[fd.key];
    f.append(el('div', { class: 'field', 'data-field': fd.key },
      el('label', { for: fd.id }, t(fd.label)), control(fd, value)));
  }
  const btn = el('button', { type: 'submit', class: 'btn btn-primary' }, t('case_save'));
  f.append(el('p', { class: 'case-actions' }, btn), el('p', { id: 'case-status', class: 'case-status', role: 'status' }));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save(btn);
  });
  return f;
}

function currentValues() {
  const out = {};
  for (const f of FIELDS) {
    const c = document.getElementById(f.id);
    out[f.key] = c ? c.value : (state.doc[f.key] || '');
  }
  return out;
}

async function save(btn) {
  const values = currentValues();
  const body = {};
  for (const f of FIELDS) body[f.key] = f.kind === 'textarea' ? values[f.key] : (values[f.key] || null);
  const status = document.getElementById('case-status');
  btn.disabled = true;
  clearFindings();
  status.textContent = t('case_saving');
  try {
    const doc = await api.casePut(state.id, body);
    state.doc = doc;
    render(null);
    const s = document.getElementById('case-status');
    if (s) s.textContent = t('case_saved');
    announce(t('case_saved'));
  } catch (e) {
    status.textContent = '';
    if (e.status === 422 && e.body && Array.isArray(e.body.findings)) showFindings(e.body.findings);
    else status.textContent = e.status === 400 && e.body && e.body.error ? t('case_bad', { why: String(e.body.error) }) : errorText(e);
  } finally {
    btn.disabled = false;
  }
}

function clearFindings() {
  const box = document.getElementById('case-findings');
  if (box) {
    box.replaceChildren();
    box.hidden = true;
  }
  for (const f of FIELDS) {
    const c = document.getElementById(f.id);
    if (c) c.removeAttribute('aria-invalid');
    const wrap = document.querySelector(`#case-form [data-field="${f.key}"]`);
    if (wrap) wrap.classList.remove('field-invalid');
  }
}

// One list item per finding: which field, what kind, the words as typed,
// and a button that selects them in the field.
function showFindings(findings) {
  const box = document.getElementById('case-findings');
  const ul = el('ul');
  for (const x of findings) {
    const f = FIELDS.find((fd) => fd.key === x.field);
    if (!f) continue;
    const c = document.getElementById(f.id);
    if (c) c.setAttribute('aria-invalid', 'true');
    const wrap = document.querySelector(`#case-form [data-field="${f.key}"]`);
    if (wrap) wrap.classList.add('field-invalid');
    const pick = el('button', { type: 'button', class: 'btn btn-small' }, t('case_finding_select'));
    pick.addEventListener('click', () => selectSpan(c, Number(x.start), Number(x.end)));
    ul.append(el('li', { class: 'case-finding' },
      el('strong', null, t(f.label)), ': ', label('pii', x.kind), ' ',
      el('q', { class: 'case-finding-text' }, String(x.text)), ' ', pick));
  }
  box.replaceChildren(el('p', null, el('strong', null, t('case_findings_title'))),
    el('p', null, t('case_findings_help')), ul);
  box.hidden = false;
  box.focus();
  announce(t('case_findings_n', { n: findings.length }));
}

// start/end are UTF-16 offsets into the field's value, as the server
// counted them: exactly what setSelectionRange takes.
function selectSpan(c, start, end) {
  if (!c) return;
  c.focus();
  if (typeof c.setSelectionRange === 'function' && Number.isFinite(start) && Number.isFinite(end)) {
    c.setSelectionRange(start, end);
  }
}
