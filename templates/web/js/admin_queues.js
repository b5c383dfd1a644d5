// 承認設定（キュー別）(#/admin/queues, admins): approval before sending,
// switched per queue (ticketd/approval.h).  The queues are those
// GET /api/admin/queues knows (tickets, routing rules, earlier settings);
// each row has one checkbox, saved at once with
// PUT /api/admin/queues/NAME/settings, then the list is read again so the
// page shows what is stored (who changed it, when).

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime } from './format.js';
import { announce, showError, errorText } from './ui.js';
import { box, title, focusTitle, refused } from './admin_form.js';

const state = { gen: 0, loaded: false, queues: [] };

export async function show(focus) {
  const gen = ++state.gen;
  if (!state.loaded) box().replaceChildren(el('p', null, t('loading')));
  if (!(await load(gen))) return;
  render();
  if (focus) focusTitle();
}

export function clear() {
  state.gen += 1;
  state.loaded = false;
  state.queues = [];
}

async function load(gen) {
  try {
    const data = await api.adminQueues();
    if (gen !== state.gen) return false;
    state.queues = Array.isArray(data && data.queues) ? data.queues : [];
    state.loaded = true;
    return true;
  } catch (e) {
    if (gen === state.gen && e.status !== 401) refused('q_title', e);
    return false;
  }
}

export function render() {
  if (!state.loaded) return;
  document.title = `${t('q_title')} – 窓口`;
  box().replaceChildren(title('q_title'), el('p', { class: 'adm-intro' }, t('q_intro')),
    state.queues.length ? table() : el('p', { class: 'empty' }, t('q_empty')));
}

function table() {
  const head = el('tr', null, ...['q_col_queue', 'q_col_approval', 'q_col_updated', 'q_col_source']
    .map((k) => el('th', { scope: 'col' }, t(k))));
  const body = el('tbody', { id: 'queues-body' });
  state.queues.forEach((q, i) => body.append(row(q, i)));
  return el('div', { class: 'table-wrap' }, el('table', { class: 'adm-table', id: 'queues-table' },
    el('caption', { class: 'visually-hidden' }, t('q_caption', { n: state.queues.length })),
    el('thead', null, head), body));
}

function row(q, i) {
  const name = String(q.queue);
  const id = `queue-${i}-approval`;
  const box1 = el('input', { type: 'checkbox', id, class: 'queue-approval', checked: !!q.approval_required });
  box1.addEventListener('change', () => save(name, box1.checked, box1));
  const src = [];
  if (q.in_tickets) src.push(t('q_src_tickets'));
  if (q.in_rules) src.push(t('q_src_rules'));
  return el('tr', { 'data-queue': name },
    el('th', { scope: 'row' }, name),
    el('td', null, el('label', { for: id, class: 'check' }, box1, ' ', t('q_required'),
      el('span', { class: 'visually-hidden' }, `: ${name}`))),
    el('td', { class: 'adm-meta' }, q.updated_at ? t('q_updated', { at: tokyoTime(q.updated_at), by: String(q.updated_by || '') }) : t('q_never')),
    el('td', null, src.length ? src.join('、') : t('q_src_setting')));
}

async function save(name, on, control) {
  control.disabled = true;
  try {
    await api.setQueueApproval(name, on);
    announce(t(on ? 'q_saved_on' : 'q_saved_off', { queue: name }));
  } catch (e) {
    if (e.status === 401) return;
    showError(errorText(e));
  }
  const gen = state.gen;
  if (!(await load(gen))) return;
  render();
  const tr = Array.from(document.querySelectorAll('#queues-body tr')).find((x) => x.dataset.queue === name);
  const again = tr && tr.querySelector('.queue-approval');
  if (again) again.focus();
}
