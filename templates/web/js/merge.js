// 統合 and 分割 on the ticket page (issue 5, ticketd/merge.h): merge this
// ticket into another (its mails, notes, replies and contact go there and
// this one is closed), or split a later incoming mail off into a ticket of
// its own.  ticket.js calls section() once per render; the 分割 buttons go
// into the incoming messages' articles of the timeline, which ticket.js
// rebuilds on every live change, so a MutationObserver puts them back
// whenever an article comes without one.
//
// Undo (ticketd/merge.h unmerge, unsplit): a ticket merged into another by
// a recorded merge offers 統合を取り消す under its notice; a ticket made by a
// split, not undone, offers 分割を取り消す.  Both ask for confirmation.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce } from './ui.js';

let shown = null; // {x: the ticket document, reload()}
let observer = null;
let busy = false;

function canWork() {
  const r = document.body.dataset.role || '';
  return r === 'operator' || r === 'supervisor';
}

// The 統合 section of ticket x ('' when there is nothing to show);
// reload() shows the ticket again after a merge.
export function section(x, reload) {
  shown = { x, reload };
  watch();
  if (x.merged_into) {
    const into = Number(x.merged_into);
    const note = el('p', { id: 'merge-merged', class: 'notice' }, t('merge_merged_into', { id: into }), ' ',
      el('a', { href: `#/tickets/${into}`, id: 'merge-target-link' }, t('merge_open_target', { id: into })));
    const undone = canWork() ? lastMerge(x) : null;
    if (!undone) return note;
    const btn = el('button', { type: 'button', class: 'btn', id: 'merge-undo' }, t('unmerge_button'));
    btn.addEventListener('click', () => unmerge(x.id, undone, btn));
    return el('div', { id: 'merge-undo-box' }, note, el('p', { class: 'wf-row' }, btn),
      el('p', { id: 'merge-message', class: 'wf-message', role: 'status' }));
  }
  if (!canWork()) return '';
  const input = el('input', { type: 'number', id: 'merge-into', min: '1', step: '1', inputmode: 'numeric',
    'aria-describedby': 'merge-hint' });
  const go = el('button', { type: 'button', class: 'btn', id: 'merge-submit' }, t('merge_submit'));
  go.addEventListener('click', () => merge(x.id, input));
  input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); merge(x.id, input); } });
  const from = splitFrom(x);
  const panel = el('section', { class: 'merge', id: 'merge-panel', 'aria-labelledby': 'merge-title' },
    el('h2', { id: 'merge-title' }, t('merge_title')),
    el('div', { class: 'wf-row field-inline' }, el('label', { for: 'merge-into' }, t('merge_into_label')), input, go),
    el('p', { id: 'merge-hint', class: 'hint' }, t('merge_hint')),
    el('p', { id: 'merge-message', class: 'wf-message', role: 'status' }));
  if (!from) return panel;
  const frag = document.createDocumentFragment();
  frag.append(unsplitPanel(x.id, from), panel);
  return frag;
}

function say(text, isError) {
  const p = document.getElementById('merge-message');
  if (p) {
    p.textContent = text;
    p.classList.toggle('form-error', !!isError);
  }
  announce(text);
}

// the words for a refusal of ticketd (merge.h)
function refusal(e, into) {
  const b = (e && e.body) || {};
  const why = String(b.error || '');
  if (e.status === 409 && b.holder) {
    return t('merge_refused_held', { id: Number(b.ticket), name: String(b.holder.display_name || b.holder.login) });
  }
  if (e.status === 409 && why === 'the ticket is merged already') return t('merge_refused_merged');
  if (e.status === 409 && why.startsWith('the target ticket')) return t('merge_refused_target', { id: into });
  if (e.status === 409 && why.startsWith('both tickets')) return t('merge_refused_case');
  if (e.status === 404) return t('merge_refused_none', { id: into });
  if (e.status === 400 && why.includes('itself')) return t('merge_refused_self');
  return t('merge_refused_bad', { why: why || `HTTP ${e.status}` });
}

async function merge(id, input) {
  const into = Number(input.value);
  if (!Number.isInteger(into) || into < 1) {
    say(t('merge_need_number'), true);
    input.focus();
    return;
  }
  if (busy || !window.confirm(t('merge_confirm', { from: id, into }))) return;
  busy = true;
  try {
    await api.workflowAction(id, 'merge', { into });
    announce(t('merge_done', { from: id, into }));
    if (shown && shown.x.id === id) shown.reload();
  } catch (e) {
    if (e.status !== 401) say(refusal(e, into), true);
    input.focus();
  } finally {
    busy = false;
  }
}

// ---- 分割 ----

// the incoming messages that may be split off: all but the ticket's first
function splittable(x) {
  const msgs = Array.isArray(x.messages) ? x.messages : [];
  if (!msgs.length) return new Set();
  const first = Math.min(...msgs.map((m) => Number(m.id)));
  return new Set(msgs.filter((m) => m.direction === 'in' && Number(m.id) !== first).map((m) => Number(m.id)));
}

function addButtons() {
  const box = document.getElementById('ticket-content');
  if (!box || !shown || !canWork() || shown.x.merged_into) return;
  const ok = splittable(shown.x);
  for (const art of box.querySelectorAll('article.message-in')) {
    const m = /^msg-(\d+)-title$/.exec(art.getAttribute('aria-labelledby') || '');
    const mid = m ? Number(m[1]) : 0;
    if (!ok.has(mid) || art.querySelector('.split-btn')) continue;
    const title = (document.getElementById(m[0]) || {}).textContent || '';
    const b = el('button', { type: 'button', class: 'btn split-btn', id: `split-${mid}`,
      'aria-label': t('split_label', { title }) }, t('split_button'));
    b.addEventListener('click', () => split(shown.x.id, mid, title, b));
    art.append(el('p', { class: 'split-row' }, b));
  }
}

function watch() {
  const box = document.getElementById('ticket-content');
  if (observer || !box) return;
  observer = new MutationObserver(() => addButtons());
  observer.observe(box, { childList: true, subtree: true });
}

async function split(id, mid, title, btn) {
  if (busy || !window.confirm(t('split_confirm', { title }))) return;
  busy = true;
  try {
    const r = await api.workflowAction(id, 'split', { message_id: mid });
    announce(t('split_done', { title, id: Number(r.id) }));
    window.location.hash = `#/tickets/${Number(r.id)}`;
  } catch (e) {
    if (e.status !== 401) {
      const b = (e && e.body) || {};
      const text = e.status === 409 && b.holder
        ? t('merge_refused_held', { id, name: String(b.holder.display_name || b.holder.login) })
        : t('merge_refused_bad', { why: String(b.error || `HTTP ${e.status}`) });
      btn.parentNode.querySelectorAll('.form-error').forEach((n) => n.remove());
      btn.parentNode.append(el('span', { class: 'form-error', role: 'alert' }, text));
      announce(text);
    }
  } finally {
    busy = false;
  }
}

// ---- undo ----

// the events of kinds, newest last, whose detail starts with "ID -> "
function eventsOf(x, kinds, prefix) {
  return (Array.isArray(x.events) ? x.events : [])
    .filter((e) => e && kinds.includes(e.kind) && (!prefix || String(e.detail || '').startsWith(prefix)));
}

// the ticket x was merged into by its last recorded merge (the event
// 'merged_into' "ID -> T" not followed by 'unmerged'), or null
function lastMerge(x) {
  const evs = eventsOf(x, ['merged_into', 'unmerged'], `${x.id} -> `);
  const last = evs[evs.length - 1];
  const m = last && last.kind === 'merged_into' ? /-> (\d+)$/.exec(String(last.detail)) : null;
  return m ? Number(m[1]) : null;
}

// the ticket x was split off (its 'split_from' event, not undone), or null
function splitFrom(x) {
  if (x.merged_into) return null;
  const evs = eventsOf(x, ['split_from', 'unsplit'], '');
  const last = evs[evs.length - 1];
  return last && last.kind === 'split_from' && /^\d+$/.test(String(last.detail)) ? Number(last.detail) : null;
}

function unsplitPanel(id, from) {
  const btn = el('button', { type: 'button', class: 'btn', id: 'split-undo', 'aria-describedby': 'unsplit-hint' },
    t('unsplit_button'));
  btn.addEventListener('click', () => unsplit(id, from, btn));
  return el('section', { class: 'merge', id: 'unsplit-panel', 'aria-labelledby': 'unsplit-title' },
    el('h2', { id: 'unsplit-title' }, t('unsplit_title')),
    el('p', { id: 'unsplit-hint', class: 'hint' }, t('unsplit_hint', { from })),
    el('p', { class: 'wf-row' }, btn),
    el('p', { id: 'unsplit-message', class: 'wf-message', role: 'status' }));
}

function sayIn(id, text) {
  const p = document.getElementById(id);
  if (p) {
    p.textContent = text;
    p.classList.add('form-error');
  }
  announce(text);
}

// the words for a refusal of an undo (merge.h)
function undoRefusal(e, what) {
  const b = (e && e.body) || {};
  const why = String(b.error || '');
  if (e.status === 409 && b.holder) {
    return t('merge_refused_held', { id: Number(b.ticket), name: String(b.holder.display_name || b.holder.login) });
  }
  if (e.status === 409 && b.undone_by) return t(`${what}_refused_undone`, { name: String(b.undone_by) });
  if (e.status === 409 && b.merged_into) {
    return t('unmerge_refused_moved_on', { id: Number(b.ticket), into: Number(b.merged_into) });
  }
  if (e.status === 409 && (Array.isArray(b.messages) || Array.isArray(b.replies))) {
    const list = [...(b.messages || []).map((n) => t('unsplit_mail_in', { id: Number(n) })),
      ...(b.replies || []).map((n) => t('unsplit_mail_out', { id: Number(n) }))];
    return t('unsplit_refused_mail', { list: list.join('、') });
  }
  if (e.status === 409 && why.startsWith('no merge')) return t('unmerge_refused_unrecorded');
  if (e.status === 409 && why === 'the ticket is not merged') return t('unmerge_refused_not_merged');
  return t('merge_refused_bad', { why: why || `HTTP ${e.status}` });
}

async function unmerge(id, into, btn) {
  if (busy || !window.confirm(t('unmerge_confirm', { from: id, into }))) return;
  busy = true;
  btn.disabled = true;
  try {
    await api.workflowAction(id, 'unmerge', {});
    announce(t('unmerge_done', { from: id }));
    if (shown && shown.x.id === id) shown.reload();
  } catch (e) {
    if (e.status !== 401) sayIn('merge-message', undoRefusal(e, 'unmerge'));
    btn.disabled = false;
    btn.focus();
  } finally {
    busy = false;
  }
}

async function unsplit(id, from, btn) {
  if (busy || !window.confirm(t('unsplit_confirm', { id, from }))) return;
  busy = true;
  btn.disabled = true;
  try {
    await api.workflowAction(id, 'unsplit', {});
    announce(t('unsplit_done', { id }));
    window.location.hash = `#/tickets/${from}`;
  } catch (e) {
    if (e.status !== 401) sayIn('unsplit-message', undoRefusal(e, 'unsplit'));
    btn.disabled = false;
    btn.focus();
  } finally {
    busy = false;
  }
}
