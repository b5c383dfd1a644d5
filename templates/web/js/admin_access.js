// 連絡先閲覧記録 (#/admin/contact-access, supervisors and admins): the
// audit log of the contact store (sql/006's contact_access, written in
// the same statement as every read), newest first, from
// GET /api/admin/contact-access: who (login and role), when, which record
// (the contact, the ticket, or the contacts a search returned), the
// action and the reason given.  Filters by contact id and ticket number;
// older entries page in with before= (the id of the last row shown).
// Nothing here reads a contact: the log holds ids only.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime, isoOrEmpty, label } from './format.js';
import { announce, errorText } from './ui.js';
import { box, title, focusTitle, refused, clearFieldErrors, fieldError } from './admin_form.js';

const PAGE = 50;
const state = { gen: 0, loaded: false, entries: [], more: false, filter: { contact: '', ticket: '' } };

export async function show(focus) {
  const gen = ++state.gen;
  if (!state.loaded) box().replaceChildren(el('p', null, t('loading')));
  if (!(await load(gen, false))) return;
  render();
  if (focus) focusTitle();
}

export function clear() {
  state.gen += 1;
  state.loaded = false;
  state.entries = [];
  state.more = false;
  state.filter = { contact: '', ticket: '' };
}

// the first page (older: the page after the last row)
async function load(gen, older) {
  const last = state.entries[state.entries.length - 1];
  const params = { limit: PAGE, contact: state.filter.contact, ticket: state.filter.ticket, before: older && last ? last.id : '' };
  try {
    const data = await api.contactAccess(params);
    if (gen !== state.gen) return false;
    const got = Array.isArray(data && data.entries) ? data.entries : [];
    state.entries = older ? state.entries.concat(got) : got;
    state.more = got.length === PAGE;
    state.loaded = true;
    return true;
  } catch (e) {
    if (gen === state.gen && e.status !== 401) refused('acc_title', e);
    return false;
  }
}

export function render() {
  if (!state.loaded) return;
  document.title = `${t('acc_title')} – 窓口`;
  const more = el('button', { type: 'button', class: 'btn', id: 'acc-more', hidden: !state.more }, t('acc_more'));
  more.addEventListener('click', onMore);
  box().replaceChildren(title('acc_title'), el('p', { class: 'adm-intro' }, t('acc_intro')), filters(),
    state.entries.length ? table() : el('p', { class: 'empty', id: 'acc-empty' }, t('acc_empty')),
    el('p', { class: 'more' }, more));
}

function filters() {
  const f = el('form', { id: 'acc-filters', class: 'acc-filters', role: 'search', 'aria-label': t('acc_filters'), novalidate: true });
  for (const [key, lab] of [['contact', 'acc_f_contact'], ['ticket', 'acc_f_ticket']]) {
    const id = `acc-f-${key}`;
    f.append(el('div', { class: 'field' }, el('label', { for: id }, t(lab)),
      el('input', { type: 'text', id, name: key, inputmode: 'numeric', autocomplete: 'off', value: state.filter[key] })));
  }
  const clear1 = el('button', { type: 'button', class: 'btn', id: 'acc-clear' }, t('acc_clear'));
  clear1.addEventListener('click', () => apply({ contact: '', ticket: '' }, 'acc-clear'));
  f.append(el('div', { class: 'filter-actions' }, el('button', { type: 'submit', class: 'btn', id: 'acc-apply' }, t('acc_apply')), ' ', clear1));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearFieldErrors(f);
    const v = {};
    for (const key of ['contact', 'ticket']) {
      const input = f.elements.namedItem(key);
      v[key] = input.value.trim();
      if (v[key] !== '' && !/^[1-9][0-9]{0,17}$/.test(v[key])) {
        fieldError(input, t('acc_bad_number'));
        return;
      }
    }
    apply(v, 'acc-apply');
  });
  return f;
}

async function apply(filter, focusId) {
  const gen = ++state.gen;
  state.filter = filter;
  state.entries = [];
  if (!(await load(gen, false))) return;
  render();
  announce(t('acc_loaded', { n: state.entries.length }));
  document.getElementById(focusId).focus();
}

async function onMore() {
  const gen = state.gen;
  const n = state.entries.length;
  if (!(await load(gen, true))) return;
  render();
  announce(t('acc_loaded', { n: state.entries.length }));
  // on to the first row that came in, else back to the button
  const first = document.querySelector(`#acc-body tr:nth-child(${n + 1}) th`);
  if (first) first.focus();
  else document.getElementById('acc-more').focus();
}

function table() {
  const head = el('tr', null, ...['acc_col_at', 'acc_col_who', 'acc_col_record', 'acc_col_action', 'acc_col_reason']
    .map((k) => el('th', { scope: 'col' }, t(k))));
  const body = el('tbody', { id: 'acc-body' });
  for (const e of state.entries) body.append(row(e));
  return el('div', { class: 'table-wrap' }, el('table', { class: 'adm-table', id: 'acc-table' },
    el('caption', { class: 'visually-hidden' }, t('acc_caption', { n: state.entries.length })),
    el('thead', null, head), body));
}

function record(e) {
  const parts = [];
  if (e.contact_id !== null && e.contact_id !== undefined) parts.push(t('acc_contact', { id: Number(e.contact_id) }));
  else if (Array.isArray(e.contact_ids) && e.contact_ids.length) parts.push(t('acc_contacts', { ids: e.contact_ids.map(Number).join(', ') }));
  else if (e.action === 'read') parts.push(t('acc_no_contact'));
  const out = [parts.join(' ')];
  if (e.ticket_id !== null && e.ticket_id !== undefined) {
    const id = Number(e.ticket_id);
    if (out[0]) out.push(' / ');
    out.push(el('a', { href: `#/tickets/${id}` }, t('acc_ticket', { id })));
  }
  return out;
}

function row(e) {
  return el('tr', { 'data-id': String(e.id) },
    el('th', { scope: 'row', class: 'c-num', tabindex: '-1' }, el('time', { datetime: isoOrEmpty(e.at) }, tokyoTime(e.at))),
    el('td', null, String(e.login || ''), el('span', { class: 'adm-meta' }, `（${label('role', e.role)}）`)),
    el('td', null, ...record(e)),
    el('td', null, label('acc_action', e.action)),
    el('td', null, String(e.reason || '')));
}
