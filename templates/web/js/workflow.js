// Working a ticket on its page (issue 5): who holds it and who is typing,
// claim / take over / release / assign, status and resolution, internal
// notes (内部メモ), and the pieces of the one timeline (notes and events;
// ticket.js puts the messages among them).
//
// The server decides: every button sends its request and the page shows
// what came back - the new workflow document, or the refusal (409 names
// the holder, 400 names the field) in a status line that screen readers
// hear.  Another operator's change arrives as a live event; ticket.js then
// fetches the ticket and its workflow again and redraws these parts only,
// so a half-written note or reply is never lost.
//
// Presence: typing in any text box of the page (a note, the reply
// composer) sends {"typing": true} at most every 4 s, and false after 6 s
// without a key; others' typing arrives as 'mdg:presence' (live.js) and is
// shown for at most 10 s after the last word from them.

import * as api from './api.js';
import { t, lang } from './i18n.js';
import { tokyoTime, isoOrEmpty, label, el } from './format.js';
import { announce } from './ui.js';
import { holderText } from './queue.js';

const SETTABLE = ['open', 'waiting_citizen', 'escalated', 'resolved', 'closed'];
const TYPING_EVERY_MS = 4000;
const TYPING_IDLE_MS = 6000;
const TYPING_SHOWN_MS = 10000;

const cache = { users: null, resolutions: null };
const typing = new Map(); // login -> {name, timer}
let sent = { at: 0, idle: 0, id: null }; // our own typing reports
let ctx = null; // {id, wf, reload(), busy}

function role() {
  return document.body.dataset.role || '';
}

function me() {
  return document.body.dataset.login || '';
}

export function canWork() {
  return role() === 'operator' || role() === 'supervisor';
}

// The users (for the assign menu) and the resolution types, once a session.
export async function loadLists() {
  const jobs = [];
  if (!cache.users && role() !== 'viewer') {
    jobs.push(api.users().then((d) => { cache.users = Array.isArray(d && d.users) ? d.users : []; }, () => {}));
  }
  if (!cache.resolutions) {
    jobs.push(api.resolutions().then((d) => {
      cache.resolutions = Array.isArray(d && d.resolutions) ? d.resolutions : [];
    }, () => {}));
  }
  await Promise.all(jobs);
}

export function forget() {
  cache.users = null;
  cache.resolutions = null;
  stopPresence();
  ctx = null;
}

export function resolutionLabel(code) {
  const r = (cache.resolutions || []).find((x) => x.code === code);
  if (!r) return code ? String(code) : t('none');
  return lang() === 'en' ? String(r.label_en) : String(r.label_ja);
}

function nameOf(login) {
  const u = (cache.users || []).find((x) => x.login === login);
  return u && u.display_name ? String(u.display_name) : String(login);
}

// ---- the panel ----

// The 対応状況 section for ticket id with workflow document wf; reload()
// fetches and redraws after a change.
export function panel(id, wf, reload) {
  if (!ctx || ctx.id !== id) stopPresence();
  ctx = { id, wf, reload, busy: false };
  const sec = el('section', { class: 'workflow', id: 'wf-panel', 'aria-labelledby': 'wf-title' },
    el('h2', { id: 'wf-title' }, t('wf_title')));
  const held = wf.assignee && wf.assignee.login !== me();
  sec.append(el('p', { id: 'wf-holder', class: 'wf-holder' }, el('strong', null, t('wf_holder')), ' ',
    wf.assignee ? holderText(wf.assignee) : t('wf_nobody')));
  if (held) sec.append(el('p', { id: 'wf-held', class: 'notice notice-held' }, t('wf_held_by', { name: holderText(wf.assignee) })));
  if (wf.resolution) sec.append(el('p', { id: 'wf-resolution' }, el('strong', null, t('wf_resolution')), ' ', resolutionLabel(wf.resolution)));
  sec.append(el('p', { id: 'wf-typing', class: 'wf-typing', 'aria-live': 'polite' }, typingText()));
  sec.append(el('p', { id: 'wf-message', class: 'wf-message', role: 'status' }));
  if (canWork()) {
    sec.append(holderControls(wf), assignControl(wf), statusControl(wf));
  }
  return sec;
}

function button(id, text, fn) {
  const b = el('button', { type: 'button', class: 'btn', id }, text);
  b.addEventListener('click', fn);
  return b;
}

function holderControls(wf) {
  const box = el('div', { class: 'wf-row' });
  const mine = wf.assignee && wf.assignee.login === me();
  const other = wf.assignee && !mine;
  if (!mine) box.append(button('wf-claim', t('wf_claim'), () => claim()));
  if (other && role() === 'supervisor') box.append(button('wf-takeover', t('wf_takeover'), () => claim(true)));
  if (mine) box.append(button('wf-release', t('wf_release'), () => act('release', {}, 'wf_released')));
  else if (other && role() === 'supervisor') {
    box.append(button('wf-release', t('wf_release_other'), () => act('release', { take_over: true }, 'wf_released')));
  }
  return box;
}

function assignControl(wf) {
  const users = (cache.users || []).filter((u) => (role() === 'supervisor' || u.role === 'operator') &&
    !(wf.assignee && wf.assignee.login === u.login));
  const sel = el('select', { id: 'wf-assignee' }, el('option', { value: '' }, t('wf_choose')),
    ...users.map((u) => el('option', { value: String(u.id) }, `${u.display_name || u.login} (${u.login})`)));
  const go = button('wf-assign', t('wf_assign'), () => {
    if (!sel.value) {
      say(t('wf_choose_first'), true);
      sel.focus();
      return;
    }
    const body = { user_id: Number(sel.value) };
    if (role() === 'supervisor' && wf.assignee && wf.assignee.login !== me()) body.take_over = true;
    act('assign', body, 'wf_assigned');
  });
  return el('div', { class: 'wf-row field-inline' }, el('label', { for: 'wf-assignee' }, t('wf_assign_label')), sel, go);
}

function statusControl(wf) {
  const st = el('select', { id: 'wf-status' },
    ...SETTABLE.map((s) => el('option', { value: s, selected: s === wf.status }, label('status', s))));
  if (!SETTABLE.includes(wf.status)) st.prepend(el('option', { value: '', selected: true }, label('status', wf.status)));
  const res = el('select', { id: 'wf-resolution-select', 'aria-describedby': 'wf-resolution-hint' },
    el('option', { value: '' }, t('wf_choose')),
    ...(cache.resolutions || []).map((r) => el('option', { value: r.code, selected: r.code === wf.resolution },
      lang() === 'en' ? String(r.label_en) : String(r.label_ja))));
  const resField = el('span', { class: 'wf-res-field' }, el('label', { for: 'wf-resolution-select' }, t('wf_resolution_label')), res,
    el('span', { id: 'wf-resolution-hint', class: 'hint' }, t('wf_resolution_hint')));
  const showRes = () => { resField.hidden = st.value !== 'resolved' && st.value !== 'closed'; };
  st.addEventListener('change', showRes);
  showRes();
  const save = button('wf-status-save', t('wf_status_save'), () => {
    if (!st.value) return;
    const body = { status: st.value };
    if (!resField.hidden && res.value) body.resolution = res.value;
    act('status', body, 'wf_status_done');
  });
  return el('div', { class: 'wf-row field-inline' }, el('label', { for: 'wf-status' }, t('wf_status_label')), st, resField, save);
}

// The note box: notes go to the timeline at once.
export function noteBox(id) {
  const area = el('textarea', { id: 'wf-note', rows: 3, maxlength: 5000, 'aria-describedby': 'wf-note-hint' });
  const add = button('wf-note-add', t('wf_note_add'), async () => {
    if (!area.value.trim()) {
      say(t('wf_note_empty'), true);
      area.focus();
      return;
    }
    if (await act('notes', { text: area.value }, 'wf_note_added')) area.value = '';
  });
  return el('section', { class: 'wf-notes', id: 'wf-notes', 'aria-labelledby': 'wf-notes-title' },
    el('h2', { id: 'wf-notes-title' }, t('wf_notes_title')),
    el('label', { for: 'wf-note' }, t('wf_note_label')), area,
    el('p', { id: 'wf-note-hint', class: 'hint' }, t('wf_note_hint')), add);
}

// A line under the panel; errors also go to the announcer.
function say(text, error) {
  const p = document.getElementById('wf-message');
  if (p) {
    p.textContent = text;
    p.classList.toggle('form-error', !!error);
  }
  announce(text);
}

async function claim(takeOver) {
  return act('claim', takeOver ? { take_over: true } : {}, 'wf_claimed');
}

// Send action; true when it went through.  The page is redrawn from the
// server's state either way (a refusal may mean someone else changed it).
async function act(action, body, done) {
  if (!ctx || ctx.busy) return false;
  const c = ctx;
  c.busy = true;
  let ok = false;
  let msg = '';
  let error = false;
  try {
    await api.workflowAction(c.id, action, body);
    ok = true;
    msg = t(done);
  } catch (e) {
    error = true;
    if (e.status === 409 && e.body && e.body.holder) {
      msg = t(action === 'claim' ? 'wf_claim_refused' : 'wf_refused_held', { name: holderText(e.body.holder) });
    }
    else if (e.status === 400 && e.body && e.body.error) msg = t('wf_refused_bad', { why: String(e.body.error) });
    else if (e.status === 403) msg = t('forbidden');
    else msg = t('load_failed', { status: e.status });
  } finally {
    c.busy = false;
  }
  if (ctx === c) await c.reload();
  say(msg, error);
  return ok;
}

// keys.js: c, e
export function keyClaim() {
  const b = document.getElementById('wf-claim');
  if (b) claim();
  else if (ctx && ctx.wf.assignee && ctx.wf.assignee.login === me()) say(t('wf_already_mine'));
}

export function keyResolve() {
  const st = document.getElementById('wf-status');
  if (!st) return;
  st.value = 'resolved';
  st.dispatchEvent(new Event('change'));
  const res = document.getElementById('wf-resolution-select');
  (res || st).focus();
}

// ---- the timeline's notes and events ----

// {at, order, node} items for ticket.js to merge with the messages
export function timelineItems(wf, events) {
  const items = [];
  (Array.isArray(wf && wf.notes) ? wf.notes : []).forEach((n, i) => {
    const hid = `note-${Number(n.id)}-title`;
    items.push({ at: n.at, order: 2, idx: i, node: el('article', { class: 'note', 'aria-labelledby': hid },
      el('h3', { id: hid }, t('wf_note_title', { name: n.author_name || n.author }), ' ',
        el('time', { datetime: isoOrEmpty(n.at) }, tokyoTime(n.at))),
      el('p', { class: 'note-body' }, String(n.text || ''))) });
  });
  (Array.isArray(events) ? events : []).forEach((e, i) => {
    if (!e || e.kind === 'note') return; // the note itself is on the timeline
    items.push({ at: e.at, order: 1, idx: i, node: el('p', { class: `event event-${String(e.kind).replace(/[^a-z_]/g, '')}` },
      el('time', { datetime: isoOrEmpty(e.at) }, tokyoTime(e.at)), ' ', eventText(e)) });
  });
  return items;
}

const STATUS_DETAIL = /^([a-z_]+) -> ([a-z_]+)(?: \(([a-z0-9_]+)\))?$/;
const ASSIGN_DETAIL = /^(?:(\S+) -> )?(\S+)$/;
const ESC_DETAIL = /^(E-\d{4}-\d+) ([a-z_]+)$/;

function eventText(e) {
  const who = e.actor && e.actor !== 'system' ? nameOf(e.actor) : '';
  const kind = label('event', e.kind);
  const d = e.detail ? String(e.detail) : '';
  let what = d;
  let m;
  if (e.kind === 'status' && (m = STATUS_DETAIL.exec(d))) {
    what = `${label('status', m[1])} → ${label('status', m[2])}`;
    if (m[3]) what += t('wf_event_resolution', { name: resolutionLabel(m[3]) });
  } else if (e.kind === 'assigned' && (m = ASSIGN_DETAIL.exec(d))) {
    what = m[1] ? `${nameOf(m[1])} → ${nameOf(m[2])}` : nameOf(m[2]);
  } else if ((e.kind === 'taken_over' || e.kind === 'released') && d) {
    what = t('wf_event_from', { name: nameOf(d) });
  } else if ((e.kind === 'department_in' || e.kind === 'escalation_closed') && (m = ESC_DETAIL.exec(d))) {
    what = `${m[1]} ${label('esc_state', m[2])}`; // "E-2026-00001 answered"
  }
  return `${kind}${who ? `（${who}）` : ''}${what ? `: ${what}` : ''}`;
}

// ---- presence ----

function typingText() {
  const names = Array.from(typing.values()).map((x) => x.name);
  return names.length ? t('wf_typing', { names: names.join('、') }) : '';
}

function showTyping() {
  const p = document.getElementById('wf-typing');
  if (p) p.textContent = typingText();
}

window.addEventListener('mdg:presence', (ev) => {
  const d = ev.detail || {};
  if (!ctx || d.id !== ctx.id || !d.login || d.login === me()) return;
  const old = typing.get(d.login);
  if (old) clearTimeout(old.timer);
  typing.delete(d.login);
  if (d.typing === true) {
    const timer = setTimeout(() => { typing.delete(d.login); showTyping(); }, TYPING_SHOWN_MS);
    typing.set(d.login, { name: String(d.display_name || d.login), timer });
  }
  showTyping();
});

function report(id, on) {
  api.workflowAction(id, 'presence', { typing: on }).catch(() => {});
}

function stopPresence() {
  if (sent.id !== null && sent.at) report(sent.id, false);
  clearTimeout(sent.idle);
  sent = { at: 0, idle: 0, id: null };
  for (const x of typing.values()) clearTimeout(x.timer);
  typing.clear();
}

// typing anywhere in the ticket's text boxes (delegated from ticket.js)
export function onInput(ev) {
  if (!ctx || !canWork() || !(ev.target instanceof Element) || !ev.target.matches('textarea, input[type="text"], input:not([type])')) return;
  const now = Date.now();
  if (sent.id !== ctx.id || now - sent.at > TYPING_EVERY_MS) {
    sent.id = ctx.id;
    sent.at = now;
    report(ctx.id, true);
  }
  clearTimeout(sent.idle);
  const id = ctx.id;
  sent.idle = setTimeout(() => {
    if (sent.id === id) {
      report(id, false);
      sent.at = 0;
    }
  }, TYPING_IDLE_MS);
}

export function leave() {
  stopPresence();
  ctx = null;
}
