// 分類 on the ticket page (issue 5, ticketd/category.h): the category, a
// path of the tree (課 > 係) chosen from a select, and free tags for hot
// topics and events (選挙, 大量通知送付), written by operators and
// supervisors; other roles see the block read-only (the summary shows
// both).  ticket.js calls section() once per render.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce } from './ui.js';

let paths = null; // the usable category paths, loaded once per page

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
  return el('section', { class: 'classify', id: 'classify-panel', 'aria-labelledby': 'classify-title' },
    el('h2', { id: 'classify-title' }, t('classify_title')),
    el('div', { class: 'wf-row field-inline' },
      el('label', { for: 'classify-category' }, t('classify_category')), sel),
    el('div', { class: 'wf-row field-inline' },
      el('label', { for: 'classify-tags' }, t('classify_tags')), input, btn),
    el('p', { id: 'classify-hint', class: 'hint' }, t('classify_hint')),
    el('p', { id: 'classify-message', class: 'wf-message', role: 'status' }));
}
