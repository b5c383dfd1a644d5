// The queue view (要対応リスト / すべて): a table of tickets kept current by
// live events.
//
// Every change, whether announced by an event or found after a reconnect,
// is handled the same way: refetch the list, diff it against what is shown
// (by id and by content), and patch the table in place.  New and changed
// rows are marked with a text badge and a short highlight, and announced
// through the live region.  Refetches never overlap: a request that comes in
// while one is running sets `again`, and one more fetch follows.
//
// Rows are patched, not rebuilt, so the keyboard focus stays on the row the
// operator was on while others arrive around it.

import * as api from './api.js';
import { t } from './i18n.js';
import { tokyoTime, isoOrEmpty, label, el } from './format.js';
import { announce, showError, clearError, errorText } from './ui.js';

const PAGE = 50;
const FRESH_MS = 10000;

const state = {
  view: 'open',
  tickets: [],          // in server order
  sig: new Map(),       // id -> JSON of the row as last shown
  fresh: new Map(),     // id -> {kind: 'new'|'updated', timer}
  counts: null,
  loaded: false,        // first fetch for this view done (no badges before it)
  more: false,
  busy: false,
  again: false,
  generation: 0,        // bumped on view switch: late answers are dropped
};

const tbody = () => document.getElementById('queue-body');

export function currentView() {
  return state.view;
}

// Show `view` ('open' or 'all'); fetches unless it is already loaded.
export function show(view) {
  if (view !== state.view || !state.loaded) {
    if (view !== state.view) reset(view);
    refresh();
  }
  render();
}

// Forget everything (log-out, view switch).
export function reset(view) {
  state.generation += 1;
  state.view = view || 'open';
  state.tickets = [];
  state.sig.clear();
  for (const f of state.fresh.values()) clearTimeout(f.timer);
  state.fresh.clear();
  state.counts = null;
  state.loaded = false;
  state.more = false;
  state.again = false;
  const body = tbody();
  if (body) body.replaceChildren();
}

// Refetch the shown list now (or right after the running fetch).
export async function refresh() {
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  try {
    do {
      state.again = false;
      await fetchOnce();
    } while (state.again);
  } finally {
    state.busy = false;
  }
}

async function fetchOnce() {
  const gen = state.generation;
  // the server allows at most 500 per page; beyond that the oldest drop off
  const limit = Math.min(500, Math.max(PAGE, state.tickets.length));
  let data;
  try {
    data = await api.tickets(state.view, limit);
  } catch (e) {
    if (e.status !== 401) showError(errorText(e));
    return;
  }
  if (gen !== state.generation) return;
  clearError();
  const list = Array.isArray(data && data.tickets) ? data.tickets : [];
  state.more = list.length >= limit;
  state.counts = (data && data.counts) || null;
  merge(list, state.loaded);
  state.tickets = list;
  state.loaded = true;
  render();
}

// Next page: tickets older than the last one shown.
async function loadMore() {
  if (!state.tickets.length) return;
  const gen = state.generation;
  const last = state.tickets[state.tickets.length - 1].id;
  let data;
  try {
    data = await api.tickets(state.view, PAGE, last);
  } catch (e) {
    if (e.status !== 401) showError(errorText(e));
    return;
  }
  if (gen !== state.generation) return;
  const list = Array.isArray(data && data.tickets) ? data.tickets : [];
  const seen = new Set(state.tickets.map((x) => x.id));
  const add = list.filter((x) => !seen.has(x.id));
  for (const x of add) state.sig.set(x.id, JSON.stringify(x));
  state.tickets = state.tickets.concat(add);
  state.more = list.length >= PAGE;
  if (data && data.counts) state.counts = data.counts;
  render();
}

// Compare the new list with what is shown; mark and announce differences.
function merge(list, mark) {
  const lines = [];
  for (const x of list) {
    const sig = JSON.stringify(x);
    const old = state.sig.get(x.id);
    state.sig.set(x.id, sig);
    if (!mark || old === sig) continue;
    const kind = old === undefined ? 'new' : 'updated';
    markFresh(x.id, kind);
    const subject = x.subject || t('no_subject');
    lines.push(t(kind === 'new' ? 'announce_new' : 'announce_updated', { id: x.id, subject }));
  }
  const ids = new Set(list.map((x) => x.id));
  for (const id of state.sig.keys()) if (!ids.has(id)) state.sig.delete(id);
  // A burst (a reconnect after an outage) is summarised, not read out in full.
  for (const line of lines.slice(0, 3)) announce(line);
  if (lines.length > 3) announce(t('announce_more', { n: lines.length - 3 }));
}

function markFresh(id, kind) {
  const prev = state.fresh.get(id);
  if (prev) clearTimeout(prev.timer);
  const timer = setTimeout(() => {
    state.fresh.delete(id);
    const row = findRow(id);
    if (row) patchRow(row, state.tickets.find((x) => x.id === id));
  }, FRESH_MS);
  state.fresh.set(id, { kind: prev && prev.kind === 'new' ? 'new' : kind, timer });
}

function findRow(id) {
  return tbody().querySelector(`tr[data-id="${Number(id)}"]`);
}

// ---- rendering ----

export function render() {
  renderCounts();
  const body = tbody();
  const focusedId = focusedRowId();
  const wanted = new Map(state.tickets.map((x) => [x.id, x]));
  for (const row of Array.from(body.rows)) {
    if (!wanted.has(Number(row.dataset.id))) row.remove();
  }
  let ref = body.firstElementChild;
  for (const x of state.tickets) {
    let row = findRow(x.id);
    if (!row) row = el('tr', { 'data-id': x.id });
    patchRow(row, x);
    if (row === ref) ref = ref.nextElementSibling;
    else body.insertBefore(row, ref);
  }
  if (focusedId !== null && !body.contains(document.activeElement)) {
    const row = findRow(focusedId);
    if (row) row.querySelector('a').focus();
  }
  const empty = document.getElementById('queue-empty');
  empty.textContent = t(state.view === 'all' ? 'all_empty' : 'queue_empty');
  empty.hidden = !(state.loaded && state.tickets.length === 0);
  document.getElementById('queue-more').hidden = !state.more;
  document.getElementById('queue-caption').textContent = t('queue_caption', {
    view: t(state.view === 'all' ? 'view_all' : 'view_open'),
    shown: state.tickets.length,
  });
}

function focusedRowId() {
  const a = document.activeElement;
  const row = a && a.closest ? a.closest('#queue-body tr') : null;
  return row ? Number(row.dataset.id) : null;
}

function renderCounts() {
  const c = state.counts || {};
  for (const node of document.querySelectorAll('[data-count]')) {
    const v = c[node.dataset.count];
    node.textContent = Number.isSafeInteger(v) ? String(v) : '–';
  }
  for (const b of document.querySelectorAll('.view-btn')) {
    b.setAttribute('aria-pressed', String(b.dataset.view === state.view));
  }
  document.getElementById('queue-title').textContent =
    t(state.view === 'all' ? 'all_title' : 'queue_title');
}

// (Re)build one row's cells if what it shows changed.
function patchRow(row, x) {
  if (!x) return;
  const fresh = state.fresh.get(x.id);
  const key = JSON.stringify([x, fresh ? fresh.kind : '', document.documentElement.lang]);
  if (row.dataset.key === key) return;
  const hadFocus = row.contains(document.activeElement);
  row.dataset.key = key;
  row.className = fresh ? `fresh fresh-${fresh.kind}` : '';
  row.replaceChildren(
    el('td', { class: 'c-id' }, String(x.id)),
    subjectCell(x, fresh),
    fromCell(x),
    el('td', { class: 'c-date' }, el('time', { datetime: isoOrEmpty(x.arrived_at || x.created_at) },
      tokyoTime(x.arrived_at || x.created_at))),
    el('td', { class: 'c-status' }, statusBadge(x.status)),
    el('td', { class: 'c-channel' }, channelLabel(x.channel)),
    el('td', { class: 'c-flags' }, ...flagBadges(x.flags)),
    attachmentCell(x.attachments),
  );
  if (hadFocus) row.querySelector('a').focus();
}

function subjectCell(x, fresh) {
  const link = el('a', { href: `#/tickets/${Number(x.id)}`, class: 'row-link' }, x.subject || t('no_subject'));
  const td = el('td', { class: 'c-subject' });
  if (fresh) td.append(el('span', { class: `badge badge-${fresh.kind}` }, t(fresh.kind === 'new' ? 'fresh' : 'updated')), ' ');
  td.append(link);
  return td;
}

function fromCell(x) {
  const td = el('td', { class: 'c-from' });
  if (x.from_name) td.append(el('span', { class: 'from-name' }, x.from_name));
  if (x.from_addr) td.append(el('span', { class: 'from-addr' }, x.from_addr));
  if (!x.from_name && !x.from_addr) td.append(t('none'));
  return td;
}

function attachmentCell(n) {
  const count = Number.isSafeInteger(n) ? n : Array.isArray(n) ? n.length : 0;
  if (count === 0) return el('td', { class: 'c-att' });
  return el('td', { class: 'c-att' },
    el('img', { src: 'icons/clip.svg', alt: '', class: 'icon', width: 16, height: 16 }),
    el('span', { class: 'visually-hidden' }, t('attachments_label', { n: count })),
    el('span', { 'aria-hidden': 'true' }, t('attachments_n', { n: count })));
}

export function statusBadge(status) {
  return el('span', { class: `status status-${String(status).replace(/[^a-z_]/g, '')}` }, label('status', status));
}

const CHANNEL_ICONS = new Set(['mail', 'fax', 'call', 'form']);

export function channelLabel(channel) {
  const span = el('span', { class: 'channel' });
  if (CHANNEL_ICONS.has(channel)) {
    span.append(el('img', { src: `icons/${channel}.svg`, alt: '', class: 'icon', width: 16, height: 16 }));
  }
  span.append(label('channel', channel));
  return span;
}

export function flagBadges(flags) {
  if (!Array.isArray(flags)) return [];
  return flags.map((f) => el('span', { class: 'badge badge-flag' }, label('flag', f)));
}

// ---- wiring, once ----

export function init(go) {
  const body = tbody();
  // A click anywhere on a row opens it, like the link in it does.
  body.addEventListener('click', (ev) => {
    if (ev.target.closest('a')) return;
    const row = ev.target.closest('tr[data-id]');
    if (!row) return;
    const sel = window.getSelection();
    if (sel && sel.toString()) return;   // selecting text to copy is not a click
    go(`#/tickets/${Number(row.dataset.id)}`);
  });
  // Up/Down move between rows; Enter opens (native on the link).
  body.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    const row = ev.target.closest('tr[data-id]');
    if (!row) return;
    const next = ev.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
    if (!next) return;
    ev.preventDefault();
    next.querySelector('a').focus();
  });
  for (const b of document.querySelectorAll('.view-btn')) {
    b.addEventListener('click', () => go(b.dataset.view === 'all' ? '#/all' : '#/'));
  }
  document.getElementById('queue-more').addEventListener('click', loadMore);
}

// Focus the row of ticket `id` if it is shown (coming back from it).
export function focusRow(id) {
  const row = findRow(id);
  if (!row) return false;
  row.querySelector('a').focus();
  return true;
}
