// The queue view: a table of tickets kept current by live events, in six
// views with their counts on the tabs (要対応, 自分の担当, 市民回答待ち,
// 所管課対応中, 解決済み, すべて), a filter bar, and the keyboard.
//
// Every change, whether announced by an event or found after a reconnect,
// is handled the same way: refetch the list (and with it every view's
// count), diff it against what is shown (by id and by content), and patch
// the table in place.  New and changed rows are marked with a text badge
// and a short highlight, and announced through the live region.  Refetches
// never overlap: a request that comes in while one is running sets
// `again`, and one more fetch follows.
//
// Rows are patched, not rebuilt, so the keyboard focus stays on the row the
// operator was on while others arrive around it.
//
// Routes: #/ is 要対応 (todo), #/all every ticket, #/view/NAME the others.

import * as api from './api.js';
import * as keys from './keys.js';
import { t } from './i18n.js';
import { tokyoTime, isoOrEmpty, label, el } from './format.js';
import { announce, showError, clearError, errorText } from './ui.js';

const PAGE = 50;
const FRESH_MS = 10000;
export const VIEWS = ['todo', 'mine', 'waiting_citizen', 'escalated', 'resolved', 'all'];
const FILTERS = ['channel', 'queue', 'category', 'tag', 'from', 'to'];

const state = {
  view: 'todo',
  filters: {},          // name -> value, as applied
  tickets: [],          // in server order
  sig: new Map(),       // id -> JSON of the row as last shown
  fresh: new Map(),     // id -> {kind: 'new'|'updated', timer}
  counts: null,
  next: null,           // the server's cursor after the last row shown
  loaded: false,        // first fetch for this view done (no badges before it)
  busy: false,
  again: false,
  generation: 0,        // bumped on view switch: late answers are dropped
  refocus: null,        // row index to focus once a claimed row has left the view
  skew: 0,              // the server's clock minus this machine's, ms (the server's decides what is late)
};

const tbody = () => document.getElementById('queue-body');

function normalise(view) {
  if (view === 'open') return 'todo'; // #/ (app.js's name for the first view)
  return VIEWS.includes(view) ? view : 'todo';
}

export function currentView() {
  return state.view;
}

// The URL fragment of view (default: the one shown).
export function viewHash(view) {
  const v = normalise(view || state.view);
  if (v === 'todo') return '#/';
  return v === 'all' ? '#/all' : `#/view/${v}`;
}

export function title() {
  return t(`title_${state.view}`);
}

// "← 要対応リストに戻る" and the like, for the ticket page.
export function backLabel() {
  if (state.view === 'todo') return t('back');
  if (state.view === 'all') return t('back_all');
  return t('back_to', { view: t(`view_${state.view}`) });
}

// Show `view`; fetches unless it is already loaded.
export function show(view) {
  const v = normalise(view);
  if (categories === null) loadCategories();
  if (v !== state.view || !state.loaded) {
    if (v !== state.view) reset(v);
    refresh();
  }
  render();
}

// Forget the list (log-out, view switch).  Filters stay for the session.
export function reset(view) {
  state.generation += 1;
  state.view = normalise(view);
  state.tickets = [];
  state.sig.clear();
  for (const f of state.fresh.values()) clearTimeout(f.timer);
  state.fresh.clear();
  state.counts = null;
  state.next = null;
  state.loaded = false;
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

function params(limit, after) {
  return { view: state.view, limit, after, ...state.filters };
}

async function fetchOnce() {
  const gen = state.generation;
  // the server allows at most 500 per page; beyond that the last ones drop off
  const limit = Math.min(500, Math.max(PAGE, state.tickets.length));
  let data;
  try {
    data = await api.queueList(params(limit));
  } catch (e) {
    if (gen === state.generation && e.status !== 401) showError(errorText(e));
    return;
  }
  if (gen !== state.generation) return;
  clearError();
  const list = Array.isArray(data && data.tickets) ? data.tickets : [];
  state.next = (data && typeof data.next === 'string') ? data.next : null;
  state.counts = (data && data.counts) || null;
  const serverNow = Date.parse((data && data.now) || '');
  state.skew = Number.isNaN(serverNow) ? 0 : serverNow - Date.now();
  merge(list, state.loaded);
  state.tickets = list;
  state.loaded = true;
  render();
}

// Next page: the tickets after the last one shown.
async function loadMore() {
  if (!state.tickets.length || !state.next) return;
  const gen = state.generation;
  let data;
  try {
    data = await api.queueList(params(PAGE, state.next));
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
  state.next = (data && typeof data.next === 'string') ? data.next : null;
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
  renderFilters();
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
  // a ticket claimed with c leaves 要対応: the focus goes to the one after it
  if (state.refocus !== null) {
    const links = rowLinks();
    if (links.length && !body.contains(document.activeElement)) links[Math.min(state.refocus, links.length - 1)].focus();
    state.refocus = null;
  }
  const empty = document.getElementById('queue-empty');
  empty.textContent = t(Object.keys(state.filters).length ? 'filter_empty' : `empty_${state.view}`);
  empty.hidden = !(state.loaded && state.tickets.length === 0);
  document.getElementById('queue-more').hidden = !state.next;
  document.getElementById('queue-caption').textContent = t('queue_caption', {
    view: t(`view_${state.view}`),
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
  document.getElementById('queue-title').textContent = title();
}

// The form shows the filters in force; a line says which (or none).
function renderFilters() {
  const form = document.getElementById('queue-filters');
  if (!form) return;
  for (const name of FILTERS) {
    const f = form.elements.namedItem(name);
    if (f && name === 'category' && f.tagName === 'SELECT' && document.activeElement !== f) {
      fillCategories(f, state.filters.category || '');
    }
    if (f && document.activeElement !== f) f.value = state.filters[name] || '';
  }
  const on = FILTERS.filter((n) => state.filters[n]);
  document.getElementById('filter-state').textContent = on.length
    ? t('filter_on', { list: on.map((n) => `${t(`filter_${n}`)}: ${n === 'channel' ? label('channel', state.filters[n]) : state.filters[n]}`).join('、') })
    : '';
}

// ---- the category filter: a select of the category tree ----

let categories = null; // [{path, name, depth, usable}] (GET /api/categories); null: not loaded
let categoriesKey = ''; // what the select's options were built from
// an admin renamed a category (app.js): read the tree again
window.addEventListener('mdg:categories-changed', () => { loadCategories(); });

async function loadCategories() {
  categories = [];
  try {
    const res = await fetch('/api/categories', { credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(String(res.status));
    const doc = await res.json();
    categories = (doc.categories || []).map((c) => ({ path: String(c.path), name: String(c.name),
      depth: String(c.path).split(' > ').length, usable: !!c.usable }));
  } catch (e) {
    categories = null; // tried again on the next show(); the select keeps すべて and the value in force
    return;
  }
  renderFilters();
}

// The options: すべて first, then the tree in order, indented by depth;
// a category that is not usable (disabled, or under a disabled one) is
// marked but stays choosable, since older tickets keep its path; a value
// in force that is not in the tree (set by a routing rule) stays too.
function fillCategories(sel, value) {
  const list = categories || [];
  const key = JSON.stringify([document.documentElement.lang, value, list]);
  if (key === categoriesKey && sel.options.length) return;
  categoriesKey = key;
  const opts = [el('option', { value: '', 'data-i18n': 'f_any' }, t('f_any'))];
  if (value && !list.some((c) => c.path === value)) opts.push(el('option', { value }, value));
  for (const c of list) {
    const name = c.usable ? c.name : t('f_category_disabled', { name: c.name });
    opts.push(el('option', { value: c.path, class: c.usable ? '' : 'category-disabled' },
      '\u3000'.repeat(c.depth - 1) + name));
  }
  sel.replaceChildren(...opts);
}

// (Re)build one row's cells if what it shows changed.
function patchRow(row, x) {
  if (!x) return;
  const fresh = state.fresh.get(x.id);
  const key = JSON.stringify([x, fresh ? fresh.kind : '', document.documentElement.lang, dueState(x)]);
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
    el('td', { class: 'c-channel' }, channelLabel(x.channel), ocrProgress(x.ocr)),
    el('td', { class: 'c-flags' }, ...flagBadges(x.flags)),
    attachmentCell(x.attachments),
    el('td', { class: 'c-holder' }, holderText(x.assignee)),
    dueCell(x),
  );
  if (hadFocus) row.querySelector('a').focus();
}

// The SLA state of a row against the server's now: 'overdue', 'soon',
// 'time' (due later, answered, or off the centre's clock), 'none' (no due
// time).
const ON_CLOCK = new Set(['new', 'open', 'waiting_citizen']);

function dueState(x) {
  const due = Date.parse(x.due_at || '');
  if (Number.isNaN(due)) return 'none';
  if (x.responded_at || !ON_CLOCK.has(x.status)) return 'time';
  const now = Date.now() + state.skew;
  if (due < now) return 'overdue';
  const warn = Date.parse(x.warn_at || '');
  return !Number.isNaN(warn) && warn <= now ? 'soon' : 'time';
}

// Time passes between fetches: once a minute the rows whose state changed
// are patched (patchRow's key holds the state).
setInterval(() => {
  if (!tbody()) return;
  for (const x of state.tickets) {
    const row = findRow(x.id);
    if (row) patchRow(row, x);
  }
}, 60000);

// 回答期限: "▲ 超過" or "● まもなく" above the time, by shape and word
// (never colour alone); "—" without a due time.
function dueCell(x) {
  const st = dueState(x);
  const td = el('td', { class: 'c-due' });
  if (st === 'none') {
    td.append(t('none'));
    return td;
  }
  if (st === 'overdue' || st === 'soon') {
    td.append(el('span', { class: `sla-state sla-${st === 'overdue' ? 'overdue' : 'atrisk'}` },
      el('span', { class: 'sla-shape', 'aria-hidden': 'true' }, st === 'overdue' ? '▲' : '●'), ' ',
      t(st === 'overdue' ? 'due_overdue' : 'due_soon')), ' ');
  }
  td.append(el('time', { datetime: isoOrEmpty(x.due_at) }, tokyoTime(x.due_at)));
  return td;
}

// "佐藤 花子", "佐藤 花子（自分）", or "—"
export function holderText(a) {
  if (!a || !a.login) return t('none');
  const name = a.display_name ? String(a.display_name) : String(a.login);
  return a.login === document.body.dataset.login ? t('holder_me', { name }) : name;
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

// The status by word and by shape (app.css gives each a mark of its own).
export function statusBadge(status) {
  return el('span', { class: `status status-${String(status).replace(/[^a-z_]/g, '')}` }, label('status', status));
}

const CHANNEL_ICONS = new Set(['mail', 'fax', 'call', 'form']);

// a fax's OCR progress under its channel (ingest-ocr, sql/026): "OCR 2/3", or
// "OCR済" once every page is read
function ocrProgress(o) {
  if (!o || !Number.isSafeInteger(o.pages) || o.pages <= 0) return '';
  const done = o.read >= o.pages;
  return el('span', { class: `ocr-progress${done ? ' ocr-done' : ''}` }, el('br'),
    done ? t('ocr_done') : t('ocr_progress', { read: Number(o.read) || 0, pages: o.pages }));
}

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

// ---- the keyboard ----

function rowLinks() {
  return Array.from(tbody().querySelectorAll('tr[data-id] a.row-link'));
}

// j / k: the next or previous row (the first or last when none is focused)
function moveFocus(step) {
  const links = rowLinks();
  if (!links.length) return;
  const at = links.findIndex((a) => a.closest('tr').contains(document.activeElement));
  const to = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
  links[to].focus();
}

// c: claim the focused row's ticket; the answer is announced (or shown)
async function claimFocused() {
  const id = focusedRowId();
  if (id === null) {
    announce(t('keys_no_row'));
    return;
  }
  try {
    await api.workflowAction(id, 'claim');
    clearError();
    state.refocus = rowLinks().findIndex((a) => Number(a.closest('tr').dataset.id) === id);
    announce(t('claimed', { id }));
  } catch (e) {
    if (e.status === 409 && e.body && e.body.holder) showError(t('claim_refused', { id, name: holderText(e.body.holder) }));
    else if (e.status !== 401) showError(errorText(e));
  }
  refresh();
}

// r, e: open the focused row's ticket and leave the action for its page
function openWith(action, go) {
  const id = focusedRowId();
  if (id === null) {
    announce(t('keys_no_row'));
    return;
  }
  keys.setPending(action);
  go(`#/tickets/${id}`);
}

// ---- wiring, once ----

function filtersFromForm(form) {
  const f = {};
  for (const name of FILTERS) {
    const v = form.elements.namedItem(name).value.trim();
    if (v) f[name] = v;
  }
  return f;
}

function applyFilters(filters) {
  state.filters = filters;
  const view = state.view;
  reset(view);
  refresh();
  render();
}

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
  // Up/Down move between rows too; Enter opens (native on the link).
  body.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    if (!ev.target.closest('tr[data-id]')) return;
    ev.preventDefault();
    moveFocus(ev.key === 'ArrowDown' ? 1 : -1);
  });
  for (const b of document.querySelectorAll('.view-btn')) {
    b.addEventListener('click', () => go(viewHash(b.dataset.view)));
  }
  const form = document.getElementById('queue-filters');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters(filtersFromForm(form));
  });
  document.getElementById('f-clear').addEventListener('click', () => {
    form.reset();
    applyFilters({});
  });
  document.getElementById('queue-more').addEventListener('click', loadMore);
  keys.register('view-queue', {
    j: () => moveFocus(1),
    k: () => moveFocus(-1),
    c: claimFocused,
    r: () => openWith('reply', go),
    e: () => openWith('resolve', go),
  });
}

// Focus the row of ticket `id` if it is shown (coming back from it).
export function focusRow(id) {
  const row = findRow(id);
  if (!row) return false;
  row.querySelector('a').focus();
  return true;
}
