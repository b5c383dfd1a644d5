// 折り返し (callbacks) on the ticket page (issue 9; ticketd/cti_api.c): a
// callback promised to the caller is a task of the ticket with its own due
// time and outcome (reached, no answer, wrong number, cancelled).  The
// number to call is the ticket's contact (contact.js, audited), never here.
// Operators and supervisors plan and close them; admins read.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime } from './format.js';
import { announce, showError, errorText } from './ui.js';

const OUTCOMES = ['reached', 'no_answer', 'wrong_number', 'cancelled'];
let ticketId = 0;

function role() {
  return document.body.dataset.role || '';
}

function canWork() {
  return role() === 'operator' || role() === 'supervisor';
}

export function section(x) {
  if (!canWork() && role() !== 'admin') return '';
  ticketId = x.id;
  const sec = el('section', { class: 'callbacks', id: 'cb-panel', 'aria-labelledby': 'cb-title' },
    el('h2', { id: 'cb-title', tabindex: '-1' }, t('cb_title')), el('div', { id: 'cb-list' }, t('loading')));
  if (canWork() && !x.purged_at) sec.append(form());
  load();
  return sec;
}

async function load() {
  const id = ticketId;
  let data;
  try {
    data = await api.callbacks(id);
  } catch (e) {
    return;
  }
  const box = document.getElementById('cb-list');
  if (!box || id !== ticketId) return;
  const list = (data && data.callbacks) || [];
  if (!list.length) {
    box.replaceChildren(el('p', { class: 'empty' }, t('cb_empty')));
    return;
  }
  box.replaceChildren(el('ul', { class: 'cb-items' }, ...list.map(item)));
}

function item(c) {
  const li = el('li', { 'data-id': c.id },
    el('strong', null, t('cb_due', { at: tokyoTime(c.due_at) })), ' ',
    c.note ? `${c.note} ` : '',
    c.done_at ? t('cb_done', { outcome: t(`cb_outcome_${c.outcome}`), at: tokyoTime(c.done_at), by: c.done_by })
      : t('cb_open'));
  if (!c.done_at && canWork()) {
    const sel = el('select', { id: `cb-outcome-${c.id}`, 'aria-label': t('cb_outcome_label', { id: c.id }) },
      ...OUTCOMES.map((o) => el('option', { value: o }, t(`cb_outcome_${o}`))));
    const b = el('button', { type: 'button', class: 'btn', id: `cb-close-${c.id}` }, t('cb_close'));
    b.addEventListener('click', () => close(c.id, sel.value, b));
    li.append(' ', sel, ' ', b);
  }
  return li;
}

function form() {
  const due = el('input', { id: 'cb-due', type: 'datetime-local', required: true });
  const note = el('input', { id: 'cb-note', type: 'text', maxlength: 500, autocomplete: 'off' });
  const f = el('form', { id: 'cb-form', novalidate: true },
    el('p', null, el('label', { for: 'cb-due' }, t('cb_due_label')), ' ', due), ' ',
    el('p', null, el('label', { for: 'cb-note' }, t('cb_note_label')), ' ', note), ' ',
    el('p', null, el('button', { type: 'submit', class: 'btn' }, t('cb_add'))));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const when = new Date(due.value);
    if (!due.value || Number.isNaN(when.getTime())) {
      showError(t('cb_need_due'));
      due.focus();
      return;
    }
    try {
      await api.callbackAdd(ticketId, { due_at: when.toISOString(), note: note.value.trim() });
    } catch (e) {
      if (e.status !== 401) showError(errorText(e));
      return;
    }
    due.value = '';
    note.value = '';
    announce(t('cb_added'));
    await load();
    due.focus();
  });
  return f;
}

async function close(id, outcome, button) {
  button.disabled = true;
  try {
    await api.callbackDone(id, outcome);
  } catch (e) {
    button.disabled = false;
    if (e.status !== 401) showError(errorText(e));
    return;
  }
  announce(t('cb_closed', { outcome: t(`cb_outcome_${outcome}`) }));
  await load();
  document.getElementById('cb-title').focus();
}
