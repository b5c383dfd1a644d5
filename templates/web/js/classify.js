// 分類 on the ticket page (issue 5, ticketd/category.h): the category, a
// path of the tree (課 > 係) chosen from a select, and free tags for hot
// topics and events (選挙, 大量通知送付), written by operators and
// supervisors; other roles see the block read-only (the summary shows
// both).  ticket.js calls section() once per render.
//
// Live: when another operator classifies the ticket (op 'classified' over
// the event stream), ticket.js fetches it again and calls update().  A form
// the operator has not touched is redrawn with the new values; a form they
// have edited keeps their edits and says who changed the ticket and to
// what, so they can decide before saving over it.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce } from './ui.js';

let paths = null; // the usable category paths, loaded once per page
let form = null; // {id, sel, input, base: {category, tags}}: the form shown and the values it was drawn with
let users = null; // login -> display name, for the "changed by" notice
// an admin renamed a category (app.js): the paths are read again when next needed
window.addEventListener('mdg:categories-changed', () => { paths = null; });

function canWork() {
  const r = document.body.dataset.role || '';
  return r === 'operator' || r === 'supervisor';
}

// GET /api/categories (no CSRF token needed for a GET)
async function loadPaths() {
  if (paths) return paths;
  const res = await fetch('/api/categories', { credentials: 'same-origin', cache: 'no-store',
    headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(String(res.status));
  const doc = await res.json();
  paths = (doc.categories || []).filter((c) => c.usable).map((c) => String(c.path));
  return paths;
}

function say(text, isError) {
  const p = document.getElementById('classify-message');
  if (p) {
    p.textContent = text;
    p.classList.toggle('form-error', !!isError);
  }
  announce(text);
}

// "選挙, 大量通知送付" (also 、 and ，) -> ['選挙', '大量通知送付']
function splitTags(text) {
  return text.split(/[,、，]/).map((s) => s.trim()).filter((s) => s !== '');
}

function fillSelect(sel, current) {
  const list = paths || [];
  sel.replaceChildren(el('option', { value: '' }, t('classify_none')));
  // a path set by a routing rule outside the tree stays choosable as it is
  if (current && !list.includes(current)) sel.append(el('option', { value: current }, current));
  for (const p of list) sel.append(el('option', { value: p }, p));
  sel.value = current || '';
}

async function save(x, sel, input, btn, reload) {
  const body = { category: sel.value, tags: splitTags(input.value) };
  btn.disabled = true;
  try {
    await api.workflowAction(x.id, 'classify', body);
    say(t('classify_saved'), false);
    reload();
  } catch (e) {
    const why = e && e.body && e.body.error ? String(e.body.error) : String(e.status || '');
    say(e.status === 422 ? t('classify_bad_category') : e.status === 400 ? t('classify_bad_tags')
      : t('classify_failed', { why }), true);
  } finally {
    btn.disabled = false;
  }
}

// The 分類 section of ticket x ('' for roles that cannot change it);
// reload() shows the ticket again after saving.
export function section(x, reload) {
  form = null;
  if (!canWork()) return '';
  const sel = el('select', { id: 'classify-category' });
  fillSelect(sel, x.category || '');
  if (!paths) {
    loadPaths().then(() => fillSelect(sel, sel.value || x.category || ''))
      .catch(() => say(t('classify_load_failed'), true));
  }
  const input = el('input', { type: 'text', id: 'classify-tags', maxlength: '400',
    value: Array.isArray(x.tags) ? x.tags.join(', ') : '', 'aria-describedby': 'classify-hint' });
  const btn = el('button', { type: 'button', class: 'btn', id: 'classify-save' }, t('classify_save'));
  btn.addEventListener('click', () => save(x, sel, input, btn, reload));
  form = { id: x.id, sel, input, base: valuesOf(x) };
  return el('section', { class: 'classify', id: 'classify-panel', 'aria-labelledby': 'classify-title' },
    el('h2', { id: 'classify-title' }, t('classify_title')),
    el('div', { class: 'wf-row field-inline' },
      el('label', { for: 'classify-category' }, t('classify_category')), sel),
    el('div', { class: 'wf-row field-inline' },
      el('label', { for: 'classify-tags' }, t('classify_tags')), input, btn),
    el('p', { id: 'classify-hint', class: 'hint' }, t('classify_hint')),
    el('p', { id: 'classify-message', class: 'wf-message', role: 'status' }));
}

// ---- live ----

// the category and the tags as the form shows them
function valuesOf(x) {
  return { category: x.category ? String(x.category) : '', tags: Array.isArray(x.tags) ? x.tags.join(', ') : '' };
}

function same(a, b) {
  return a.category === b.category && a.tags === b.tags;
}

async function nameOf(login) {
  if (!users) {
    try {
      const d = await api.users();
      users = new Map((Array.isArray(d && d.users) ? d.users : []).map((u) => [u.login, u.display_name || u.login]));
    } catch (e) {
      users = new Map();
    }
  }
  return String(users.get(login) || login);
}

// x: the ticket as fetched again after a live change
export async function update(x) {
  const f = form;
  if (!f || !x || f.id !== x.id || !f.sel.isConnected) return;
  const now = valuesOf(x);
  const shown = { category: f.sel.value, tags: f.input.value };
  if (same(now, f.base)) return; // not a change of the classification
  const untouched = same(shown, f.base);
  f.base = now;
  if (same(shown, now)) return; // the form says so already
  if (untouched) {
    fillSelect(f.sel, now.category);
    f.input.value = now.tags;
    return;
  }
  const evs = (Array.isArray(x.events) ? x.events : []).filter((e) => e && e.kind === 'classified');
  const who = evs.length ? await nameOf(String(evs[evs.length - 1].actor)) : '';
  if (form !== f) return;
  const text = t('classify_changed_by', { name: who, category: now.category || t('classify_none'),
    tags: now.tags || t('none') });
  let note = document.getElementById('classify-changed');
  if (!note) {
    note = el('p', { id: 'classify-changed', class: 'notice', role: 'status' });
    document.getElementById('classify-title').after(note);
  }
  note.textContent = text;
}
