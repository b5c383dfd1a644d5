// 所管課へのエスカレーション on the ticket page (issue 6, ticketd/escalate.h):
// the operator asks a ward department (所管課) by mail, and follows what
// became of each request.
//
// The form: a department from the directory (enabled ones), then the mail
// ticketd proposes for it (render): To as text, subject and body editable.
// The mail reaches ward staff through 無害化 (attachments stripped, HTML made
// text), so the page says it must make sense without attachments and carry
// no contact details; the ticket's files are listed unticked, and ticking one
// puts it in both attachments and confirmed_attachments (ticketd sends only
// what was ticked one by one).  A 422 with findings lists each as text and
// offers to select the words in the field (as the case record does); only
// then is "連絡先を含めて送る" (allow_personal_data) offered.  A 409 names the
// request still open.  Below the form: every request of the ticket, its
// state in words, reminders, who closed it, and 終了 for the open ones.
//
// Operators and supervisors send and close; an admin reads the list; other
// roles get nothing.  The draft lives in this module per ticket, so a
// re-render (language switch, live update) keeps it.  The list is fetched
// again on every live event of the ticket (escalated, escalation_closed, a
// new mail: a department's answer closes its request in the same statement).

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime, isoOrEmpty, fileSize, label } from './format.js';
import { announce, errorText } from './ui.js';

const OUTCOMES = ['answered', 'department_contacts', 'cancelled'];

let st = fresh(null);
let refreshTicket = null;
let listTimer = 0;

function fresh(ticketId) {
  return {
    ticketId,
    departments: null,  // enabled departments [{id, path}]
    deptError: null,
    deptId: '',
    draft: null,        // {to, subject, body, template, templates, attachments}
    loading: false,
    chosen: new Set(),  // "mid:idx" of the ticked files
    findings: null,     // the 422's findings, shown under the form
    allow: false,       // allow_personal_data, offered once findings were shown
    message: null,      // {kind: 'error'|'info', text}
    sent: null,         // {token, path, status}
    busy: false,
    list: null,         // GET /api/tickets/ID/escalations
    listError: null,
    known: new Map(),   // escalation id -> state, to announce a department's answer
  };
}

function role() {
  return document.body.dataset.role || '';
}

function canWork() {
  return role() === 'operator' || role() === 'supervisor';
}

// The section for ticket x ('' for roles without it); refresh() fetches the
// ticket again and redraws its summary and timeline (forms kept), to bring
// in a department's answer as soon as its request shows closed.
export function section(x, refresh) {
  if (!canWork() && role() !== 'admin') return '';
  if (st.ticketId !== x.id) st = fresh(x.id);
  refreshTicket = refresh;
  const sec = el('section', { class: 'escalation', id: 'esc-panel', 'aria-labelledby': 'esc-title' },
    el('h2', { id: 'esc-title' }, t('esc_title')));
  if (canWork() && !x.merged_into && !x.purged_at) {
    sec.append(el('div', { id: 'esc-form-box' }, ...formParts()));
    if (!st.departments && !st.deptError) loadDepartments();
  }
  sec.append(el('div', { id: 'esc-list-box' }, ...listParts()));
  loadList(); // also when the page comes back to this ticket: what is shown is what is stored
  return sec;
}

// A live event of the ticket on screen (ticket.js): the list again, once
// per burst of events.
export function changed(ev) {
  if (!ev || ev.id !== st.ticketId) return;
  clearTimeout(listTimer);
  listTimer = setTimeout(() => loadList(), 150);
}

// The timeline's title of a message: a department's answer says so, and
// so does the mail sent to the department (not a reply to the citizen).
export function messageTitle(m, title) {
  if (m && m.escalation_id) return t('esc_answer_title', { title });
  const x = m && (st.list || []).find((e) => Number(e.message_id) === Number(m.id));
  return x ? t('esc_request_title', { title, token: String(x.token) }) : title;
}

// the timeline drawn before the list came: its request mails marked now
function markTimeline() {
  for (const x of st.list || []) {
    const h = document.getElementById(`msg-${Number(x.message_id)}-title`);
    if (h && !h.textContent.includes(String(x.token))) { // messageTitle() may have marked it
      h.textContent = t('esc_request_title', { title: h.textContent, token: String(x.token) });
    }
  }
}

// ---- redrawing, focus kept ----

function redraw(which) {
  const id = which === 'form' ? 'esc-form-box' : 'esc-list-box';
  const box = document.getElementById(id);
  if (!box) return;
  const focusId = document.activeElement && box.contains(document.activeElement) ? document.activeElement.id : null;
  box.replaceChildren(...(which === 'form' ? formParts() : listParts()));
  const again = focusId && document.getElementById(focusId);
  if (again) again.focus();
}

// ---- loading ----

async function loadDepartments() {
  const id = st.ticketId;
  try {
    const d = await api.departments();
    if (st.ticketId !== id) return;
    st.departments = (Array.isArray(d && d.departments) ? d.departments : [])
      .filter((x) => x.enabled).map((x) => ({ id: Number(x.id), path: String(x.path) }));
  } catch (e) {
    if (st.ticketId !== id) return;
    st.deptError = errorText(e);
  }
  redraw('form');
}

async function loadList() {
  const id = st.ticketId;
  if (id === null) return;
  try {
    const d = await api.escalations(id);
    if (st.ticketId !== id) return;
    st.list = Array.isArray(d && d.escalations) ? d.escalations : [];
    st.listError = null;
  } catch (e) {
    if (st.ticketId !== id) return;
    st.listError = errorText(e);
  }
  const answered = noticeAnswers();
  redraw('list');
  markTimeline();
  const mine = st.sent && st.list && st.list.find((x) => x.token === st.sent.token);
  if (mine && mine.state !== 'open') { // "sent, the ticket escalated" is no longer true
    st.sent = null;
    redraw('form');
  }
  if (answered && refreshTicket) refreshTicket();
}

// a request that went from open to answered (or 直接連絡) by the department
// meanwhile is read out; true when there is one
function noticeAnswers() {
  let any = false;
  for (const x of st.list || []) {
    const before = st.known.get(x.id);
    if (before === 'open' && x.state !== 'open' && x.closed_by === 'department') {
      announce(t('esc_answer_came', { token: String(x.token), state: stateWord(x.state) }));
      any = true;
    }
    st.known.set(x.id, x.state);
  }
  return any;
}

async function loadDraft(template) {
  const deptId = Number(st.deptId);
  st.loading = true;
  st.message = null;
  redraw('form');
  try {
    const body = { department_id: deptId };
    if (template) body.template = template;
    const p = await api.escalateRender(st.ticketId, body);
    if (Number(st.deptId) !== deptId) return;
    st.draft = {
      to: Array.isArray(p.to) ? p.to.map(String) : [],
      subject: String(p.subject || ''),
      body: String(p.body || ''),
      proposed: `${p.subject || ''}\n${p.body || ''}`, // to tell whether the operator edited it
      template: String(p.template || ''),
      templates: Array.isArray(p.templates) ? p.templates : [],
      attachments: Array.isArray(p.attachments) ? p.attachments : [],
    };
    st.chosen = new Set();
    st.findings = null;
    st.allow = false;
  } catch (e) {
    st.draft = null;
    st.message = { kind: 'error', text: refusal(e) };
  } finally {
    st.loading = false;
  }
  redraw('form');
}

function refusal(e) {
  const b = (e && e.body) || {};
  if (e && (e.status === 400 || e.status === 422) && b.error) return t('esc_refused', { why: String(b.error) });
  return errorText(e);
}

// ---- the form ----

function formParts() {
  const parts = [];
  if (st.sent) parts.push(sentNote());
  parts.push(departmentPicker());
  if (st.loading) parts.push(el('p', { role: 'status' }, t('loading')));
  if (st.draft) {
    const f = el('form', { id: 'esc-form', class: 'esc-form', novalidate: true },
      templatePicker(), toLine(), el('p', { id: 'esc-notice', class: 'notice notice-warn' }, el('strong', null, t('esc_notice_title')), ' ', t('esc_notice')),
      textField('esc-subject', 'subject', 'esc_subject', 'esc_subject_hint', false),
      textField('esc-body', 'body', 'esc_body', null, true),
      attachmentChooser(), findingsBox(),
      el('p', { class: 'esc-actions' }, el('button', { type: 'submit', class: 'btn btn-primary', id: 'esc-send' }, t('esc_send'))));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      send();
    });
    parts.push(f);
  }
  parts.push(messageLine());
  return parts;
}

function sentNote() {
  const s = st.sent;
  return el('p', { id: 'esc-sent', class: 'notice', tabindex: '-1' }, t('esc_sent', {
    token: s.token, path: s.path, status: label('status', s.status),
  }));
}

function messageLine() {
  const m = st.message;
  const p = el('p', { id: 'esc-message', role: m && m.kind === 'error' ? 'alert' : 'status',
    class: m && m.kind === 'error' ? 'form-error' : 'esc-message', tabindex: '-1' });
  if (m) p.textContent = m.text;
  else p.hidden = true;
  return p;
}

function departmentPicker() {
  const sel = el('select', { id: 'esc-department', 'aria-describedby': 'esc-department-hint' },
    el('option', { value: '' }, t('esc_department_pick')));
  for (const d of st.departments || []) sel.append(el('option', { value: String(d.id) }, d.path));
  sel.value = st.deptId;
  sel.disabled = !st.departments;
  sel.addEventListener('change', () => {
    if (!mayReplace()) {
      sel.value = st.deptId;
      return;
    }
    st.deptId = sel.value;
    st.sent = null;
    st.draft = null;
    if (st.deptId) loadDraft(null);
    else redraw('form');
  });
  let hint = t('esc_department_hint');
  if (st.deptError) hint = t('esc_departments_failed', { why: st.deptError });
  else if (st.departments && !st.departments.length) hint = t('esc_departments_none');
  return el('div', { class: 'field' }, el('label', { for: 'esc-department' }, t('esc_department')), sel,
    el('p', { class: 'hint', id: 'esc-department-hint' }, hint));
}

// true unless the operator edited the mail and does not want it replaced
function mayReplace() {
  const d = st.draft;
  return !d || `${d.subject}\n${d.body}` === d.proposed || window.confirm(t('esc_replace'));
}

function templatePicker() {
  const names = st.draft.templates.map((x) => (typeof x === 'string' ? x : String(x.name || '')));
  if (names.length < 2) return '';
  const sel = el('select', { id: 'esc-template' });
  st.draft.templates.forEach((x, i) => sel.append(el('option', { value: names[i] }, String((x && x.title) || names[i]))));
  sel.value = st.draft.template;
  sel.addEventListener('change', () => {
    if (mayReplace()) loadDraft(sel.value);
    else sel.value = st.draft.template;
  });
  return el('div', { class: 'field' }, el('label', { for: 'esc-template' }, t('esc_template')), sel);
}

function toLine() {
  return el('dl', { class: 'meta esc-to' }, el('div', null, el('dt', null, t('esc_to')),
    el('dd', { id: 'esc-to' }, st.draft.to.join(', ') || t('none'))));
}

function textField(id, key, labelKey, hintKey, multiline) {
  const input = multiline ? el('textarea', { id, rows: '16', spellcheck: 'false', 'aria-describedby': 'esc-notice' })
    : el('input', { id, type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: '900' });
  input.value = st.draft[key];
  input.addEventListener('input', () => { st.draft[key] = input.value; });
  const box = el('div', { class: 'field', 'data-field': key }, el('label', { for: id }, t(labelKey)));
  if (hintKey) {
    box.append(el('p', { class: 'hint', id: `${id}-hint` }, t(hintKey)));
    input.setAttribute('aria-describedby', `${id}-hint`);
  }
  if (st.findings && st.findings.some((x) => x.field === key)) {
    box.classList.add('field-invalid');
    input.setAttribute('aria-invalid', 'true');
  }
  box.append(input);
  return box;
}

function attachmentChooser() {
  const fs = el('fieldset', { class: 'esc-attachments' }, el('legend', null, t('esc_attachments')));
  if (!st.draft.attachments.length) {
    fs.append(el('p', null, t('esc_no_attachments')));
    return fs;
  }
  fs.append(el('p', { class: 'hint' }, t('esc_attachments_hint')));
  st.draft.attachments.forEach((a, i) => {
    const key = `${a.message_id}:${a.idx}`;
    const id = `esc-att-${i}`;
    const box = el('input', { type: 'checkbox', id });
    box.checked = st.chosen.has(key);
    box.addEventListener('change', () => {
      if (box.checked) st.chosen.add(key);
      else st.chosen.delete(key);
    });
    fs.append(el('div', { class: 'check' }, box, el('label', { for: id },
      t('esc_attach', { name: a.filename ? String(a.filename) : `attachment-${Number(a.idx)}`, size: fileSize(a.size) }))));
  });
  return fs;
}

// the 422's findings: each as text with a button selecting it in its field,
// then the one way past them
function findingsBox() {
  const box = el('div', { id: 'esc-findings', class: 'case-findings', tabindex: '-1' });
  if (!st.findings) {
    box.hidden = true;
    return box;
  }
  const ul = el('ul');
  for (const x of st.findings) {
    const field = x.field === 'subject' ? 'esc-subject' : 'esc-body';
    const pick = el('button', { type: 'button', class: 'btn btn-small' }, t('case_finding_select'));
    pick.addEventListener('click', () => selectSpan(document.getElementById(field), Number(x.start), Number(x.end)));
    ul.append(el('li', { class: 'case-finding' }, el('strong', null, t(x.field === 'subject' ? 'esc_subject' : 'esc_body')),
      ': ', label('pii', x.kind), ' ', el('q', { class: 'case-finding-text' }, String(x.text)), ' ', pick));
  }
  const allow = el('input', { type: 'checkbox', id: 'esc-allow', 'aria-describedby': 'esc-allow-hint' });
  allow.checked = st.allow;
  allow.addEventListener('change', () => { st.allow = allow.checked; });
  box.append(el('p', null, el('strong', null, t('esc_findings_title'))), el('p', null, t('esc_findings_help')), ul,
    el('div', { class: 'check' }, allow, el('label', { for: 'esc-allow' }, t('esc_allow'))),
    el('p', { class: 'hint', id: 'esc-allow-hint' }, t('esc_allow_hint')));
  return box;
}

// start/end: UTF-16 offsets into the field's value as ticketd counted them
function selectSpan(c, start, end) {
  if (!c) return;
  c.focus();
  if (Number.isFinite(start) && Number.isFinite(end)) c.setSelectionRange(start, end);
}

// ---- sending ----

async function send() {
  if (st.busy || !st.draft) return;
  const d = st.draft;
  const att = d.attachments.filter((a) => st.chosen.has(`${a.message_id}:${a.idx}`))
    .map((a) => ({ message_id: a.message_id, idx: a.idx }));
  const body = { department_id: Number(st.deptId), subject: d.subject, body: d.body,
    attachments: att, confirmed_attachments: att };
  if (st.findings && st.allow) body.allow_personal_data = true;
  st.busy = true;
  const btn = document.getElementById('esc-send');
  if (btn) btn.disabled = true;
  try {
    const r = await api.escalate(st.ticketId, body);
    const dept = (st.departments || []).find((x) => x.id === Number(st.deptId));
    st.sent = { token: String(r.token), path: dept ? dept.path : '', status: String(r.ticket_status || '') };
    st.draft = null;
    st.deptId = '';
    st.findings = null;
    st.allow = false;
    st.message = null;
    redraw('form');
    announce(t('esc_sent', { token: st.sent.token, path: st.sent.path, status: label('status', st.sent.status) }));
    const n = document.getElementById('esc-sent');
    if (n) n.focus();
    loadList();
  } catch (e) {
    sendFailed(e);
  } finally {
    st.busy = false;
    const b = document.getElementById('esc-send');
    if (b) b.disabled = false;
  }
}

function sendFailed(e) {
  const b = (e && e.body) || {};
  if (e.status === 422 && Array.isArray(b.findings) && b.findings.length) {
    st.findings = b.findings;
    st.message = null;
    redraw('form');
    const box = document.getElementById('esc-findings');
    if (box) box.focus();
    announce(t('esc_findings_n', { n: b.findings.length }));
    return;
  }
  if (e.status === 409 && b.escalation && b.escalation.token) {
    st.message = { kind: 'error', text: t('esc_open_already', { token: String(b.escalation.token) }) };
  } else if (e.status === 409) {
    st.message = { kind: 'error', text: t('esc_refused', { why: String(b.error || e.status) }) };
  } else {
    st.message = { kind: 'error', text: refusal(e) };
  }
  redraw('form');
  const m = document.getElementById('esc-message');
  if (m) m.focus();
}

// ---- the list ----

function stateWord(s) {
  return label('esc_state', s);
}

function listParts() {
  const parts = [el('h3', { id: 'esc-list-title', tabindex: '-1' }, t('esc_list_title'))];
  if (st.listError) return parts.concat(el('p', { class: 'form-error' }, st.listError));
  if (!st.list) return parts.concat(el('p', null, t('loading')));
  if (!st.list.length) return parts.concat(el('p', { id: 'esc-list-empty' }, t('esc_list_empty')));
  const head = ['esc_col_token', 'esc_col_department', 'esc_col_state', 'esc_col_sent', 'esc_col_reminders', 'esc_col_closed'];
  if (canWork()) head.push('esc_col_action');
  const table = el('table', { class: 'esc-list', id: 'esc-list', 'aria-labelledby': 'esc-list-title' },
    el('thead', null, el('tr', null, ...head.map((k) => el('th', { scope: 'col' }, t(k))))));
  const tb = el('tbody');
  for (const x of st.list) tb.append(listRow(x));
  table.append(tb);
  return parts.concat(el('div', { class: 'table-wrap' }, table), el('p', { id: 'esc-list-message', role: 'status', class: 'esc-message' }));
}

function listRow(x) {
  const id = Number(x.id);
  const dep = x.department || {};
  const closedBy = x.closed_by === 'department' ? t('esc_by_department') : String(x.closed_by || '');
  const tr = el('tr', { 'data-id': String(id), 'data-state': String(x.state) },
    el('th', { scope: 'row', class: 'esc-token' }, String(x.token)),
    el('td', null, String(dep.path || dep.name || '')),
    el('td', { class: `esc-state esc-state-${String(x.state).replace(/[^a-z_]/g, '')}` }, stateWord(x.state)),
    el('td', null, el('time', { datetime: isoOrEmpty(x.created_at) }, tokyoTime(x.created_at))),
    el('td', null, t('esc_reminders_n', { n: Number(x.reminders) || 0 }), x.state === 'open' && x.next_reminder_at
      ? el('span', { class: 'esc-next' }, t('esc_next_reminder', { at: tokyoTime(x.next_reminder_at) })) : ''),
    el('td', null, x.closed_at ? el('span', null, closedBy, ' ', el('time', { datetime: isoOrEmpty(x.closed_at) }, tokyoTime(x.closed_at))) : t('none')));
  if (canWork()) tr.append(el('td', null, x.state === 'open' ? closeControl(x) : answerLink(x)));
  return tr;
}

function closeControl(x) {
  const id = Number(x.id);
  const sel = el('select', { id: `esc-outcome-${id}` });
  for (const o of OUTCOMES) sel.append(el('option', { value: o }, stateWord(o)));
  const btn = el('button', { type: 'button', class: 'btn btn-small', id: `esc-close-${id}` }, t('esc_close'),
    el('span', { class: 'visually-hidden' }, ` ${String(x.token)}`));
  btn.addEventListener('click', () => closeOne(x, sel.value, btn));
  return el('div', { class: 'esc-close' }, el('label', { for: `esc-outcome-${id}`, class: 'visually-hidden' },
    t('esc_outcome', { token: String(x.token) })), sel, btn);
}

// the department's answer on the timeline: go there (the ticket is fetched
// again when it is not on the page yet)
function answerHeading(x) {
  return document.getElementById(`msg-${Number(x.answer_message_id)}-title`);
}

function answerLink(x) {
  if (!x.answer_message_id) return '';
  const btn = el('button', { type: 'button', class: 'btn btn-small', id: `esc-answer-${Number(x.id)}` }, t('esc_show_answer'),
    el('span', { class: 'visually-hidden' }, ` ${String(x.token)}`));
  btn.addEventListener('click', async () => {
    if (!answerHeading(x) && refreshTicket) await refreshTicket();
    const h = answerHeading(x);
    if (!h) return;
    h.setAttribute('tabindex', '-1');
    h.scrollIntoView({ block: 'start' });
    h.focus();
  });
  return btn;
}

async function closeOne(x, outcome, btn) {
  btn.disabled = true;
  const msg = () => document.getElementById('esc-list-message');
  try {
    await api.closeEscalation(x.id, outcome);
    announce(t('esc_closed', { token: String(x.token), state: stateWord(outcome) }));
    await loadList();
    const m = msg();
    if (m) m.textContent = t('esc_closed', { token: String(x.token), state: stateWord(outcome) });
    const h = document.getElementById('esc-list-title'); // the button is gone with its row
    if (h) h.focus();
  } catch (e) {
    btn.disabled = false;
    const b = (e && e.body) || {};
    const m = msg();
    if (m) m.textContent = e.status === 409 ? t('esc_closed_already', { token: String(x.token) }) : (b.error ? t('esc_refused', { why: String(b.error) }) : errorText(e));
    loadList();
  }
}
