// Two supervisors' pages around outgoing mail (ticketd/approval.h):
//   #/approvals      承認待ち: replies held for a second person's approval,
//                    each with its preview (subject, recipients, body and
//                    files as stored) and the three decisions: 承認,
//                    修正して承認 (the approver fixes subject and body and
//                    ticks every recipient and file again), 差し戻し (a
//                    comment is required; it goes on the timeline, so
//                    ticketd refuses personal data in it with 422)
//   #/outbound/dead  送信失敗: mail the relay refused for good, with 再送
//                    for supervisors
// Operators see the replies of others only: their own wait for someone
// else.  The nav links show for the roles that may use them.  Text from
// mail and from the server only ever goes into the page as textContent.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, fileSize, tokyoTime, isoOrEmpty } from './format.js';
import { announce, errorText } from './ui.js';

let role = '';
let view = null;          // 'approvals' | 'dead' while one of them is shown
let items = [];           // the list shown
let loaded = false;
let generation = 0;
const notes = new Map();  // id -> {kind, text, list} under an item
const comments = new Map(); // id -> comment typed so far
const editing = new Map();  // id -> {subject, body, ticks:Set}

// ---- the hooks app.js calls ----

// After log-in: which links the header offers.
export function start(userRole) {
  role = userRole || '';
  const a = document.getElementById('nav-approvals');
  const d = document.getElementById('nav-dead');
  if (a) a.hidden = !(role === 'operator' || role === 'supervisor');
  if (d) d.hidden = !(role === 'supervisor' || role === 'admin');
}

// Log-out: forget everything.
export function stop() {
  start('');
  clear();
}

export function clear() {
  generation += 1;
  view = null;
  items = [];
  loaded = false;
  notes.clear();
  comments.clear();
  editing.clear();
  for (const id of ['approvals-content', 'dead-content']) {
    const box = document.getElementById(id);
    if (box) box.replaceChildren();
  }
}

// Show one of the two views; focus its heading when asked (route change).
export async function show(which, focus) {
  if (view !== which) {
    clear();
    view = which;
  }
  render();
  await load();
  if (focus) {
    const h = document.getElementById(`${which}-title`);
    if (h) h.focus();
  }
}

// A ticket changed somewhere (live update): a held reply may have come,
// or been decided on by someone else.
export function changed(ev) {
  const shown = view && document.getElementById(`view-${view}`);
  if (!shown || shown.hidden) return;
  const op = ev && typeof ev.op === 'string' ? ev.op : '';
  if (op && !/^(reply_|mail_|update)/.test(op)) return;
  load().catch(() => {});
}

async function load() {
  const gen = ++generation;
  const which = view;
  try {
    const data = which === 'approvals' ? await api.approvals() : await api.deadMail();
    if (gen !== generation || which !== view) return;
    items = Array.isArray(which === 'approvals' ? data.approvals : data.outbound)
      ? (which === 'approvals' ? data.approvals : data.outbound) : [];
    loaded = true;
    render();
  } catch (e) {
    if (gen === generation) setStatus(errorText(e));
  }
}

function setStatus(text) {
  const s = document.getElementById(`${view}-status`);
  if (s) s.textContent = text;
}

// The whole view (also after a language switch); typed comments and edits
// are kept.
export function render() {
  if (view === 'approvals') renderApprovals();
  else if (view === 'dead') renderDead();
}

function keepFocus(fn) {
  const id = document.activeElement && document.activeElement.id;
  fn();
  const again = id && document.getElementById(id);
  if (again) again.focus();
}

// ---- 承認待ち ----

function renderApprovals() {
  const box = document.getElementById('approvals-content');
  if (!box) return;
  document.title = `${t('approvals_title')} – 窓口`;
  keepFocus(() => {
    const list = el('div', { class: 'approvals' });
    for (const x of items) list.append(approvalItem(x));
    box.replaceChildren(
      el('h1', { id: 'approvals-title', tabindex: '-1' }, t('approvals_title')),
      el('p', { class: 'hint' }, t(role === 'supervisor' ? 'approvals_intro_sv' : 'approvals_intro_op')),
      el('p', { id: 'approvals-status', role: 'status' }, loaded ? t('approvals_count', { n: items.length }) : t('loading')),
      loaded && !items.length ? el('p', { class: 'empty' }, t('approvals_empty')) : list);
  });
}

function reasonText(x) {
  if (x.approval === 'template') return t('approval_reason_template', { name: String(x.template || '') });
  return t('approval_reason_queue', { queue: String(x.queue || '') });
}

function headers(x) {
  const dl = el('dl', { class: 'headers' });
  const add = (k, v) => dl.append(el('div', null, el('dt', null, t(k)), el('dd', null, v)));
  add('approval_author', String(x.created_by || ''));
  add('approval_created', el('time', { datetime: isoOrEmpty(x.created_at) }, tokyoTime(x.created_at)));
  add('approval_reason', reasonText(x));
  add('to', x.to ? String(x.to) : t('none'));
  if (x.cc) add('cc', String(x.cc));
  add('composer_bcc', Array.isArray(x.bcc) && x.bcc.length ? x.bcc.map(String).join(', ') : t('none'));
  add('subject', String(x.subject || ''));
  add('attachments', Array.isArray(x.attachments) && x.attachments.length
    ? x.attachments.map((a) => `${a.filename} (${fileSize(a.size)})`).join(', ') : t('none'));
  return dl;
}

function approvalItem(x) {
  const id = Number(x.id);
  const titleId = `approval-${id}-title`;
  const art = el('article', { class: 'approval', id: `approval-${id}`, 'aria-labelledby': titleId });
  art.append(el('h2', { id: titleId },
    el('span', { class: 'state-badge state-awaiting' }, t('delivery_awaiting_approval')), ' ',
    el('a', { href: `#/tickets/${Number(x.ticket_id)}` }, t('approval_item_title', { ticket: Number(x.ticket_id), subject: String(x.ticket_subject || '') }))));
  art.append(headers(x));
  const body = el('pre', { class: 'body', id: `approval-${id}-body`, tabindex: '0', 'aria-label': t('approval_body_label', { n: id }) });
  body.textContent = String(x.body || '');
  art.append(body);
  art.append(noteBox(id));
  if (!x.can_decide) {
    art.append(el('p', { class: 'notice' }, t('approval_own')));
    return art;
  }
  art.append(editing.has(id) ? editForm(x) : decisions(x));
  return art;
}

function noteBox(id) {
  const n = notes.get(id);
  const box = el('div', { id: `approval-${id}-note`, role: 'alert' });
  if (!n) return box;
  box.className = n.kind === 'error' ? 'form-error' : 'notice';
  box.append(el('p', null, n.text));
  if (n.list && n.list.length) box.append(el('ul', null, ...n.list.map((s) => el('li', null, s))));
  return box;
}

function commentField(id) {
  const fid = `approval-${id}-comment`;
  const area = el('textarea', { id: fid, rows: '3', maxlength: '2000', 'aria-describedby': `${fid}-hint` });
  area.value = comments.get(id) || '';
  area.addEventListener('input', () => {
    comments.set(id, area.value);
    area.removeAttribute('aria-invalid');
  });
  return el('div', { class: 'field' },
    el('label', { for: fid }, t('approval_comment')),
    el('p', { class: 'hint', id: `${fid}-hint` }, t('approval_comment_hint')),
    area);
}

function decisions(x) {
  const id = Number(x.id);
  const box = el('div', { class: 'approval-actions' }, commentField(id));
  const approve = el('button', { type: 'button', class: 'btn btn-primary', id: `approval-${id}-approve` }, t('approval_approve'));
  approve.addEventListener('click', () => decide(x, 'approve'));
  const edit = el('button', { type: 'button', class: 'btn', id: `approval-${id}-edit` }, t('approval_edit'));
  edit.addEventListener('click', () => {
    editing.set(id, { subject: String(x.subject || ''), body: String(x.body || ''), ticks: new Set() });
    notes.delete(id);
    render();
    const s = document.getElementById(`approval-${id}-subject`);
    if (s) s.focus();
  });
  const ret = el('button', { type: 'button', class: 'btn', id: `approval-${id}-return` }, t('approval_return'));
  ret.addEventListener('click', () => decide(x, 'return'));
  box.append(el('div', { class: 'composer-row' }, approve, edit, ret));
  return box;
}

function editForm(x) {
  const id = Number(x.id);
  const ed = editing.get(id);
  const f = el('form', { class: 'approval-edit', id: `approval-${id}-form`, novalidate: true });
  f.addEventListener('submit', (ev) => { ev.preventDefault(); decide(x, 'edit'); });
  const subject = el('input', { id: `approval-${id}-subject`, type: 'text', autocomplete: 'off', spellcheck: 'false' });
  subject.value = ed.subject;
  subject.addEventListener('input', () => { ed.subject = subject.value; });
  const body = el('textarea', { id: `approval-${id}-edit-body`, rows: '12', spellcheck: 'false' });
  body.value = ed.body;
  body.addEventListener('input', () => { ed.body = body.value; });
  const ticks = el('fieldset', { class: 'composer-confirm' }, el('legend', null, t('composer_confirm')),
    el('p', { class: 'hint' }, t('composer_confirm_hint')));
  const rcpt = Array.isArray(x.rcpt) ? x.rcpt.map(String) : [];
  rcpt.forEach((addr, i) => ticks.append(tick(ed, `approval-${id}-ok-r-${i}`, `r:${addr.toLowerCase()}`,
    t('approval_confirm_rcpt', { who: addr }))));
  (Array.isArray(x.attachments) ? x.attachments : []).forEach((a, i) => ticks.append(tick(ed, `approval-${id}-ok-a-${i}`,
    `a:${a.message_id}:${a.idx}`, t('composer_confirm_att', { name: String(a.filename || ''), size: fileSize(a.size) }))));
  const save = el('button', { type: 'submit', class: 'btn btn-primary', id: `approval-${id}-edit-save` }, t('approval_edit_save'));
  const cancel = el('button', { type: 'button', class: 'btn', id: `approval-${id}-edit-cancel` }, t('approval_edit_cancel'));
  cancel.addEventListener('click', () => {
    editing.delete(id);
    render();
    const b = document.getElementById(`approval-${id}-edit`);
    if (b) b.focus();
  });
  f.append(el('h3', null, t('approval_edit_title')),
    el('div', { class: 'field' }, el('label', { for: subject.id }, t('composer_subject')), subject),
    el('div', { class: 'field' }, el('label', { for: body.id }, t('composer_body')), body),
    ticks, commentField(id), el('div', { class: 'composer-row' }, save, cancel));
  return f;
}

function tick(ed, id, key, text) {
  const box = el('input', { type: 'checkbox', id });
  box.checked = ed.ticks.has(key);
  box.addEventListener('change', () => {
    if (box.checked) ed.ticks.add(key);
    else ed.ticks.delete(key);
  });
  return el('div', { class: 'check' }, box, el('label', { for: id }, text));
}

function editBody(x) {
  const ed = editing.get(Number(x.id));
  const rcpt = (Array.isArray(x.rcpt) ? x.rcpt : []).map(String).filter((a) => ed.ticks.has(`r:${a.toLowerCase()}`));
  const atts = (Array.isArray(x.attachments) ? x.attachments : []).filter((a) => ed.ticks.has(`a:${a.message_id}:${a.idx}`))
    .map((a) => ({ message_id: a.message_id, idx: a.idx }));
  return { subject: ed.subject, body: ed.body, confirmed_recipients: rcpt, confirmed_attachments: atts };
}

async function decide(x, what) {
  const id = Number(x.id);
  const comment = (comments.get(id) || '').trim();
  if (what === 'return' && !comment) {
    notes.set(id, { kind: 'error', text: t('approval_comment_needed') });
    render();
    const c = document.getElementById(`approval-${id}-comment`);
    if (c) {
      c.setAttribute('aria-invalid', 'true');
      c.focus();
    }
    return;
  }
  const body = what === 'edit' ? editBody(x) : {};
  if (comment) body.comment = comment;
  try {
    if (what === 'approve') await api.approveOutbound(id, body);
    else if (what === 'edit') await api.editApproveOutbound(id, body);
    else await api.returnOutbound(id, body);
  } catch (e) {
    failed(id, e);
    return;
  }
  notes.delete(id);
  comments.delete(id);
  editing.delete(id);
  announce(t(`approval_done_${what}`, { n: id }));
  await load();
  const h = document.getElementById('approvals-status');
  if (h) {
    h.setAttribute('tabindex', '-1');
    h.focus();
  }
}

function failed(id, e) {
  const b = e.body || {};
  let list = [];
  if (Array.isArray(b.findings)) list = b.findings.map((f) => t('approval_finding', { kind: t(`pii_${f.kind}`), text: String(f.text || '') }));
  if (Array.isArray(b.unconfirmed_recipients)) list = list.concat(b.unconfirmed_recipients.map(String));
  notes.set(id, { kind: 'error', text: b.error ? t('approval_refused', { why: String(b.error) }) : errorText(e), list });
  render();
  const n = document.getElementById(`approval-${id}-note`);
  if (n) {
    n.setAttribute('tabindex', '-1');
    n.focus();
  }
  if (e.status === 409) load().catch(() => {});
}

// ---- 送信失敗 ----

function renderDead() {
  const box = document.getElementById('dead-content');
  if (!box) return;
  document.title = `${t('dead_title')} – 窓口`;
  const table = el('table', { class: 'queue dead-table', id: 'dead-table' },
    el('caption', { class: 'visually-hidden' }, t('dead_caption', { n: items.length })));
  const head = el('tr');
  for (const k of ['dead_col_id', 'col_id', 'col_subject', 'dead_col_rcpt', 'dead_col_error', 'dead_col_attempts',
    'dead_col_created', 'dead_col_by', 'dead_col_action']) head.append(el('th', { scope: 'col' }, t(k)));
  const tbody = el('tbody');
  for (const x of items) tbody.append(deadRow(x));
  table.append(el('thead', null, head), tbody);
  keepFocus(() => box.replaceChildren(
    el('h1', { id: 'dead-title', tabindex: '-1' }, t('dead_title')),
    el('p', { class: 'hint' }, t(role === 'supervisor' ? 'dead_intro_sv' : 'dead_intro')),
    el('p', { id: 'dead-status', role: 'status' }, loaded ? t('dead_count', { n: items.length }) : t('loading')),
    loaded && !items.length ? el('p', { class: 'empty' }, t('dead_empty')) : el('div', { class: 'table-wrap' }, table)));
}

function deadRow(x) {
  const id = Number(x.id);
  const action = el('td');
  if (role === 'supervisor') {
    const b = el('button', { type: 'button', class: 'btn', id: `dead-${id}-requeue`, 'aria-label': t('dead_requeue_label', { n: id }) }, t('dead_requeue'));
    b.addEventListener('click', () => requeue(id));
    action.append(b);
  } else action.append(t('none'));
  return el('tr', { id: `dead-${id}` },
    el('td', null, String(id)),
    el('td', null, el('a', { href: `#/tickets/${Number(x.ticket_id)}` }, String(x.ticket_id))),
    el('td', null, String(x.subject || t('no_subject'))),
    el('td', null, Array.isArray(x.rcpt) ? x.rcpt.map(String).join(', ') : ''),
    el('td', { class: 'dead-error' }, el('span', { class: 'state-badge state-dead' }, t('delivery_failed')), ' ', String(x.last_error || '')),
    el('td', null, String(x.attempts)),
    el('td', null, el('time', { datetime: isoOrEmpty(x.created_at) }, tokyoTime(x.created_at))),
    el('td', null, String(x.created_by || '')),
    action);
}

async function requeue(id) {
  try {
    await api.requeueOutbound(id);
    announce(t('dead_requeued', { n: id }));
  } catch (e) {
    const b = e.body || {};
    announce(t('dead_requeue_failed', { why: b.error ? String(b.error) : errorText(e) }));
    setStatus(t('dead_requeue_failed', { why: b.error ? String(b.error) : errorText(e) }));
  }
  await load();
  const h = document.getElementById('dead-title');
  if (h) h.focus();
}
