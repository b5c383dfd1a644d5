// The ticket view: the subject, the state, and every message with its
// headers, its text body, its attachments and its original.
//
// Mail content is the citizen's (or an attacker's) text: it only ever goes
// into the page as textContent.  The HTML part is never parsed here; on
// request it is loaded from the server into an <iframe sandbox=""> (no
// scripts, no same-origin, no forms, no popups).  ticketd serves it
// sanitised (no script, no handlers, inline cid: images as data:, remote
// images as a placeholder) under its own script-less CSP as well; remote
// images load only when the operator asks (?remote=1), after a warning
// that they can tell the sender the mail was opened.

import * as api from './api.js';
import { t } from './i18n.js';
import { tokyoTime, isoOrEmpty, fileSize, label, person, el, apiUrl } from './format.js';
import { showError, clearError, errorText } from './ui.js';
import { statusBadge, channelLabel, flagBadges } from './queue.js';
import { panels as privacyPanels } from './case.js'; // 応対履歴 and contact panels
import * as composer from './composer.js';
import * as workflow from './workflow.js'; // holder, status, notes, presence (issue 5)
import * as keys from './keys.js';
import * as merge from './merge.js'; // 統合・分割 (issue 5)
import * as classify from './classify.js'; // 分類: category and tags (issue 5)
import * as escalation from './escalation.js'; // 所管課へのエスカレーション (issue 6)
import * as fax from './fax.js'; // FAXのページ表示 (issue 7)
import * as faxreply from './faxreply.js'; // FAXで返信 (issue 7)
import * as callback from './callback.js'; // 折り返し (issue 9)

let shownId = null;
let shownData = null;
let shownWf = null; // the workflow document (workflow.js), null for roles that do not read it
let generation = 0;
const WF_OPS = new Set(['claimed', 'released', 'assigned', 'status', 'note', 'classified']); // classified: classify.js
WF_OPS.add('escalated').add('escalation_closed'); // the status and the timeline change with them (escalation.js)
WF_OPS.add('fax'); // a fax reply's progress is on the timeline (faxreply.js, sql/023)

export function currentId() {
  return shownId;
}

// Load and show ticket `id`; resolves when it is on screen.
export async function show(id) {
  const gen = ++generation;
  shownId = id;
  shownData = null;
  const box = document.getElementById('ticket-content');
  box.replaceChildren(el('p', null, t('loading')));
  let data;
  let wf = null;
  try {
    [data, wf] = await Promise.all([api.ticket(id), loadWorkflow(id), workflow.loadLists()]);
  } catch (e) {
    if (gen !== generation) return;
    if (e.status === 401) return;
    box.replaceChildren(heading(t('ticket_no', { id })),
      el('p', { class: 'form-error' }, e.status === 404 ? t('not_found', { id }) : errorText(e)));
    focusHeading();
    return;
  }
  if (gen !== generation) return;
  clearError();
  shownData = data;
  shownWf = wf;
  render();
  focusHeading();
  const action = keys.takePending(); // r or e pressed on the queue's row
  if (action === 'reply') reply();
  else if (action === 'resolve') workflow.keyResolve();
}

// the workflow document, or null for a role that may not read it
function loadWorkflow(id) {
  if (document.body.dataset.role === 'viewer') return Promise.resolve(null);
  return api.workflow(id);
}

// Re-render what is shown (after a language switch).
export function render() {
  if (!shownData) return;
  const x = shownData;
  const box = document.getElementById('ticket-content');
  const msgs = Array.isArray(x.messages) ? x.messages : [];
  document.title = `${t('ticket_no', { id: x.id })} – 窓口`;
  box.replaceChildren(
    heading(x.subject || t('no_subject')),
    summary(x),
    x.purged_at ? el('p', { id: 'ticket-purged', class: 'notice' },
      t('ticket_purged', { date: tokyoTime(x.purged_at) })) : '',
    merge.section(x, () => show(x.id)), // 統合 and the 分割 buttons (merge.js)
    shownWf ? workflow.panel(x.id, shownWf, refreshWork) : '', // 対応状況 (workflow.js)
    shownWf && workflow.canWork() ? workflow.noteBox(x.id) : '',
    classify.section(x, () => show(x.id)), // 分類 (classify.js)
    timeline(x, msgs),
    x.purged_at ? '' : composer.section(x, () => show(x.id)), // the reply composer (composer.js)
    escalation.section(x, refreshWork), // 所管課へのエスカレーション (escalation.js); a department's answer redraws the timeline
    faxreply.section(x, () => show(x.id)), // FAXで返信 (faxreply.js)
    callback.section(x), // 折り返し (callback.js)
    privacyPanels(x.id),
  );
}

// The one timeline: messages in and out, notes, and the events (status,
// holder, replies...) in time order.  A message without a time of its own
// (an outgoing one before it is sent) keeps its place after the one before.
function timeline(x, msgs) {
  const items = [];
  const arts = messageArticles(msgs, x.subject);
  let last = x.created_at;
  msgs.forEach((m, i) => {
    const d = m.delivery || {};
    const at = m.arrived_at || m.date || d.sent_at || d.send_at || last;
    last = at;
    items.push({ at, order: 0, idx: i, node: arts[i] });
  });
  items.push(...workflow.timelineItems(shownWf, x.events));
  const time = (v) => { const n = Date.parse(v || ''); return Number.isNaN(n) ? 0 : n; };
  items.sort((a, b) => time(a.at) - time(b.at) || a.order - b.order || a.idx - b.idx);
  const sec = el('section', { class: 'timeline', id: 'timeline', 'aria-labelledby': 'timeline-title' },
    el('h2', { id: 'timeline-title' }, t('timeline_title')));
  const ol = el('ol', { class: 'timeline-list' });
  for (const it of items) ol.append(el('li', { class: 'tl-item' }, it.node));
  sec.append(items.length ? ol : el('p', null, t('events_empty')));
  return sec;
}

// After a change of holder, status or notes (ours or another operator's):
// the ticket and its workflow again, and only the summary, the panel and
// the timeline redrawn, so the note box and the composer keep their text.
async function refreshWork() {
  const id = shownId;
  const gen = generation;
  let data;
  let wf;
  try {
    [data, wf] = await Promise.all([api.ticket(id), loadWorkflow(id)]);
  } catch (e) {
    return;
  }
  if (gen !== generation || id !== shownId) return;
  shownData = data;
  shownWf = wf;
  const focusId = document.activeElement && document.activeElement.id;
  const swap = (oldId, node) => { const o = document.getElementById(oldId); if (o && node) o.replaceWith(node); };
  swap('ticket-meta', summary(data));
  if (wf) swap('wf-panel', workflow.panel(data.id, wf, refreshWork));
  swap('timeline', timeline(data, Array.isArray(data.messages) ? data.messages : []));
  classify.update(data); // 分類: redrawn if untouched, else a notice (classify.js)
  const f = focusId && document.getElementById(focusId);
  if (f && f !== document.activeElement && !document.getElementById('ticket-content').contains(document.activeElement)) f.focus();
}

// r: the composer's turn; composer.js listens for 'mdg:reply' (and
// cancels it when it has taken it), else its fields get the focus.
function reply() {
  if (!shownData) return;
  const ev = new CustomEvent('mdg:reply', { detail: { id: shownData.id }, cancelable: true });
  if (!document.dispatchEvent(ev)) return;
  const f = document.getElementById('composer-body') || document.getElementById('composer-open');
  if (f) f.focus();
}

// Called by the app on a live event for the ticket on screen: a change of
// holder, status or notes is redrawn at once; anything else (a new mail)
// is offered with a button, so nothing moves under the operator's eyes.
export function changed(ev) {
  escalation.changed(ev); // its list follows every event of the ticket
  faxreply.changed(ev); // the faxes' states too
  if (shownData && ev && WF_OPS.has(ev.op)) {
    refreshWork();
    return;
  }
  if (!shownData || document.getElementById('ticket-changed')) return;
  const note = el('p', { id: 'ticket-changed', class: 'notice', role: 'status' }, t('announce_updated', {
    id: shownData.id, subject: shownData.subject || t('no_subject'),
  }), ' ');
  const btn = el('button', { type: 'button', class: 'btn' }, t('reload'));
  btn.addEventListener('click', () => show(shownData.id));
  note.append(btn);
  document.getElementById('ticket-content').prepend(note);
}

function heading(text) {
  return el('h1', { id: 'ticket-title', tabindex: '-1' }, text);
}

function focusHeading() {
  const h = document.getElementById('ticket-title');
  if (h) h.focus();
}

function summary(x) {
  const dl = el('dl', { class: 'meta', id: 'ticket-meta' });
  const add = (k, ...v) => dl.append(el('div', null, el('dt', null, t(k)), el('dd', null, ...v)));
  add('col_id', String(x.id));
  add('col_status', statusBadge(x.status));
  add('col_channel', channelLabel(x.channel));
  add('queue_name', x.queue ? String(x.queue) : t('none'));
  if (x.category) add('category', String(x.category));
  if (x.priority) add('priority', String(x.priority));
  if (Array.isArray(x.tags) && x.tags.length) add('tags', ...x.tags.map((g) => el('span', { class: 'badge badge-tag' }, String(g))));
  add('routed_rule', x.routed_rule && x.routed_rule.name ? String(x.routed_rule.name) : t('routed_none'));
  if (Array.isArray(x.flags) && x.flags.length) add('col_flags', ...flagBadges(x.flags));
  add('created_at', timeEl(x.created_at));
  add('updated_at', timeEl(x.updated_at));
  return dl;
}

function timeEl(iso) {
  return el('time', { datetime: isoOrEmpty(iso) }, tokyoTime(iso));
}

function messageArticles(msgs, subject) {
  let nIn = 0;
  let nOut = 0;
  return msgs.map((m) => {
    const n = m.direction === 'out' ? ++nOut : ++nIn;
    return messageArticle(m, escalation.messageTitle(m, m.direction === 'out' ? t('msg_out', { n }) : t('msg_in', { n })), subject);
  });
}

function messageArticle(m, title, subject) {
  const hid = `msg-${Number(m.id)}-title`;
  const art = el('article', { class: `message message-${m.direction === 'out' ? 'out' : 'in'}`, 'aria-labelledby': hid });
  art.append(el('h3', { id: hid }, title));
  art.append(headers(m, subject));
  const delivery = composer.deliveryBlock(m); // outgoing mail: queued / sent / failed
  if (delivery) art.append(delivery);
  if (m.parse_state && m.parse_state !== 'ok') art.append(parseNotice(m));
  art.append(el('h4', { class: 'visually-hidden' }, t('body')));
  const body = el('pre', { class: 'body', tabindex: '0', 'aria-label': `${title} ${t('body')}` });
  // Mail lines end in CRLF on the wire; the page shows (and copies) plain LF.
  body.textContent = m.body_text ? String(m.body_text).replace(/\r\n?/g, '\n') : t('body_empty');
  if (!m.body_text) body.classList.add('body-empty');
  art.append(body);
  if (shownData && shownData.channel === 'fax' && m.direction !== 'out') art.append(fax.viewer(m)); // fax.js
  if (m.has_html && apiUrl(m.html_url)) art.append(htmlBlock(m, title));
  if (Array.isArray(m.attachments)) {
    m.attachments.forEach((a, i) => { if (a && a.nested) art.append(nestedBlock(a, `${hid}-fwd-${i}`)); });
  }
  if (Array.isArray(m.attachments) && m.attachments.length) art.append(attachmentList(m.attachments));
  if (apiUrl(m.raw_url)) {
    art.append(el('p', { class: 'raw' }, el('a', { href: apiUrl(m.raw_url), download: `message-${Number(m.id)}.eml`, class: 'download' },
      el('img', { src: 'icons/download.svg', alt: '', class: 'icon', width: 16, height: 16 }), t('raw_download'))));
  }
  return art;
}

// The message's own subject is shown only where it differs from the
// ticket's (a reply that changed it).
function headers(m, subject) {
  const dl = el('dl', { class: 'headers' });
  const add = (k, v) => dl.append(el('div', null, el('dt', null, t(k)), el('dd', null, v)));
  add('from', person(m.from_name, m.from_addr));
  add('to', m.to ? String(m.to) : t('none'));
  if (m.cc) add('cc', String(m.cc));
  add('date', timeEl(m.date || m.arrived_at));
  if (m.arrived_at && m.date && tokyoTime(m.arrived_at) !== tokyoTime(m.date)) add('arrived', timeEl(m.arrived_at));
  if (m.subject && m.subject !== subject) add('subject', String(m.subject));
  return dl;
}

// A forwarded mail (message/rfc822 attachment) as ticketd parsed it:
// its headers and its text body, as text only, like the message itself.
function nestedBlock(a, id) {
  const n = a.nested;
  const sec = el('section', { class: 'nested', 'aria-labelledby': id });
  sec.append(el('h4', { id }, t('nested_title')));
  if (n.error) {
    sec.append(el('p', { class: 'notice notice-warn', role: 'note' },
      n.error === 'too large' ? t('nested_too_large') : t('nested_error')));
    return sec;
  }
  const dl = el('dl', { class: 'headers' });
  const add = (k, v) => dl.append(el('div', null, el('dt', null, t(k)), el('dd', null, v)));
  add('subject', n.subject ? String(n.subject) : t('no_subject'));
  add('from', person(n.from_name, n.from_addr));
  add('to', n.to ? String(n.to) : t('none'));
  if (n.cc) add('cc', String(n.cc));
  if (n.date) add('date', timeEl(n.date));
  sec.append(dl);
  const body = el('pre', { class: 'body nested-body', tabindex: '0', 'aria-label': `${t('nested_title')} ${t('body')}` });
  body.textContent = n.body_text ? String(n.body_text).replace(/\r\n?/g, '\n') : t('body_empty');
  if (!n.body_text) body.classList.add('body-empty');
  sec.append(body);
  if (n.has_html) sec.append(el('p', { class: 'notice' }, t('nested_has_html')));
  if (Array.isArray(n.attachments) && n.attachments.length) {
    const ul = el('ul', { class: 'nested-attachments', 'aria-label': t('attachments') });
    for (const x of n.attachments) {
      ul.append(el('li', null, x.filename ? String(x.filename) : t('nested_unnamed'), ' ',
        el('span', { class: 'att-meta' }, `(${x.content_type ? String(x.content_type) + ', ' : ''}${fileSize(x.size)})`)));
    }
    sec.append(ul);
  }
  return sec;
}

function parseNotice(m) {
  const key = { unparsed: 'parse_unparsed', partial: 'parse_partial', oversize: 'parse_oversize' }[m.parse_state] || 'parse_partial';
  const box = el('div', { class: 'notice notice-warn', role: 'note' },
    el('p', null, el('strong', null, t(key))));
  if (m.parse_notes) box.append(el('p', null, t('parse_notes', { notes: String(m.parse_notes) })));
  return box;
}

function htmlBlock(m, title) {
  const wrap = el('div', { class: 'html-part' });
  const frameId = `msg-${Number(m.id)}-html`;
  const warnId = `msg-${Number(m.id)}-remote-warn`;
  const url = apiUrl(m.html_url);
  const btn = el('button', { type: 'button', class: 'btn', 'aria-expanded': 'false', 'aria-controls': frameId }, t('html_show'));
  wrap.append(el('p', { class: 'notice' }, t('html_notice')), btn);
  let frame = null;
  let remoteBox = null;
  btn.addEventListener('click', () => {
    if (frame) {
      frame.remove();
      remoteBox.remove();
      frame = null;
      remoteBox = null;
      btn.textContent = t('html_show');
      btn.setAttribute('aria-expanded', 'false');
      return;
    }
    frame = document.createElement('iframe');
    frame.id = frameId;
    // The empty sandbox: the HTML gets a unique origin and may run nothing.
    frame.setAttribute('sandbox', '');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.setAttribute('title', `${title}: HTML`);
    frame.className = 'html-frame';
    frame.src = url;
    remoteBox = remoteImages(frame, url, frameId, warnId);
    wrap.append(remoteBox, frame);
    btn.textContent = t('html_hide');
    btn.setAttribute('aria-expanded', 'true');
  });
  return wrap;
}

// The "show remote images" switch of one HTML frame: the warning stays
// beside it, and loading them is announced.
function remoteImages(frame, url, frameId, warnId) {
  const box = el('div', { class: 'html-remote' });
  const btn = el('button', { type: 'button', class: 'btn', 'aria-pressed': 'false', 'aria-controls': frameId, 'aria-describedby': warnId }, t('html_remote'));
  const status = el('p', { class: 'html-remote-status', role: 'status' });
  box.append(btn, ' ', el('span', { id: warnId, class: 'html-remote-warn' }, t('html_remote_warn')), status);
  btn.addEventListener('click', () => {
    const on = btn.getAttribute('aria-pressed') !== 'true';
    frame.src = on ? `${url}?remote=1` : url;
    btn.setAttribute('aria-pressed', on ? 'true' : 'false');
    btn.textContent = t(on ? 'html_remote_hide' : 'html_remote');
    status.textContent = on ? t('html_remote_on') : '';
  });
  return box;
}

function attachmentList(list) {
  const sec = el('div', { class: 'attachments' }, el('h4', null, t('attachments')));
  const ul = el('ul');
  for (const a of list) {
    const name = a.filename ? String(a.filename) : `attachment-${Number(a.idx)}`;
    const url = apiUrl(a.url);
    const icon = el('img', { src: 'icons/clip.svg', alt: '', class: 'icon', width: 16, height: 16 });
    const link = url ? el('a', { href: url, download: name, class: 'download' }, icon, name) : el('span', null, icon, name);
    ul.append(el('li', null, link, ' ', el('span', { class: 'att-meta' },
      `(${a.content_type ? String(a.content_type) + ', ' : ''}${fileSize(a.size)})`)));
  }
  sec.append(ul);
  return sec;
}

export function clear() {
  composer.reset();
  workflow.leave();
  generation += 1;
  shownId = null;
  shownData = null;
  shownWf = null;
  document.getElementById('ticket-content').replaceChildren();
}

// typing in the note box or the composer tells the others (workflow.js)
document.getElementById('ticket-content').addEventListener('input', workflow.onInput);
keys.register('view-ticket', { c: workflow.keyClaim, r: reply, e: workflow.keyResolve });
