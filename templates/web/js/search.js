// Search (検索): the form in the header and the results view.
//
// #/search?q=... shows the tickets whose mail holds every word of the
// query (two-character Japanese words and full-width/half-width forms
// work: the server folds both sides, see ticketd/search.h), newest first,
// each with the words around the first match.  The query lives in the URL,
// so Back returns to it and a result can be shared between operators.

import * as api from './api.js';
import { t } from './i18n.js';
import { tokyoTime, label, el } from './format.js';
import { announce, showError, clearError, errorText } from './ui.js';

let generation = 0;

// the query in a #/search?q=... fragment, or null for another page
export function queryOf(hash) {
  const m = /^#\/search\?(.*)$/.exec(hash);
  if (!m) return null;
  return new URLSearchParams(m[1]).get('q') || '';
}

export function hashFor(q) {
  return `#/search?${new URLSearchParams({ q })}`;
}

// the header form: submitting goes to the results
export function init(go) {
  const form = document.getElementById('search-form');
  const input = document.getElementById('search-q');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = input.value.trim();
    if (q) go(hashFor(q));
  });
}

export function showForm(on) {
  document.getElementById('search-form').hidden = !on;
}

function resultItem(hit) {
  const link = el('a', { href: `#/tickets/${hit.ticket_id}`, class: 'search-subject' },
    hit.subject || t('no_subject'));
  return el('li', { class: 'search-hit' },
    el('p', { class: 'search-head' }, link, ' ',
      el('span', { class: 'search-meta' },
        `#${hit.ticket_id} · ${label('status', hit.status)} · ${tokyoTime(hit.updated_at)}`)),
    el('p', { class: 'search-snippet' }, `…${hit.snippet}…`));
}

// run the query and show the results
export async function show(q) {
  const mine = ++generation;
  const input = document.getElementById('search-q');
  const list = document.getElementById('search-results');
  const status = document.getElementById('search-status');
  input.value = q;
  document.getElementById('search-title').textContent = t('search_title', { q });
  document.title = `${t('search_title', { q })} – 窓口`;
  list.replaceChildren();
  status.textContent = t('loading');
  clearError();
  let res;
  try {
    res = await api.search(q);
  } catch (err) {
    if (mine !== generation) return;
    status.textContent = '';
    if (err.status === 400 && err.body && err.body.error) showError(t('search_bad', { why: err.body.error }));
    else showError(errorText(err));
    return;
  }
  if (mine !== generation) return;
  for (const hit of res.tickets) list.append(resultItem(hit));
  const n = res.tickets.length;
  status.textContent = n === 0 ? t('search_none') : res.more ? t('search_more', { n }) : t('search_count', { n });
  announce(status.textContent);
}
