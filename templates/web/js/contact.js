// The contact panel of the ticket page: the citizen's name, address, phone,
// fax and mail address, kept apart from the case history.
//
// Every read is written to the access log with a reason, so the panel
// shows nothing until the operator has said why (a reason from the list,
// or their own words), and hides the details again on request.  It is not
// shown at all to roles that may not read contacts.  When the ticket has no
// contact yet, ticketd suggests the sender of the first mail; the
// suggestion only fills the form, and nothing is stored until 保存.  A
// search finds a contact saved before (the same citizen writing again).

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce, errorText } from './ui.js';

const REASONS = ['reply', 'callback', 'escalation', 'verify', 'other'];
const FIELDS = [
  { key: 'name', max: 100, auto: 'off' },
  { key: 'name_kana', max: 100, auto: 'off' },
  { key: 'postal_code', max: 20, auto: 'off' },
  { key: 'address', max: 300, auto: 'off' },
  { key: 'phone', max: 30, auto: 'off', type: 'tel' },
  { key: 'fax', max: 30, auto: 'off', type: 'tel' },
  { key: 'email', max: 254, auto: 'off', type: 'email' },
  { key: 'note', max: 1000, auto: 'off', area: true },
];

let state = null; // {id, box, reason, data, linkId}
let generation = 0;

function role() {
  return document.body.dataset.role || '';
}

function canRead() {
  return ['operator', 'supervisor', 'admin'].includes(role());
}

function canWrite() {
  return role() === 'operator' || role() === 'supervisor';
}

// Put the panel for ticket `id` into `box`; roles without the right get nothing.
export function mount(box, id) {
  generation += 1;
  state = null;
  if (!canRead()) {
    box.replaceChildren();
    box.hidden = true;
    return;
  }
  box.hidden = false;
  state = { id, box, reason: '', data: null, linkId: null };
  render();
}

export function unmount() {
  generation += 1;
  state = null;
}

export function render() {
  if (!state) return;
  const sec = el('section', { class: 'contact-panel', 'aria-labelledby': 'contact-title' },
    el('h2', { id: 'contact-title', tabindex: '-1' }, t('contact_title')));
  if (!state.data) sec.append(reasonForm());
  else sec.append(...details());
  state.box.replaceChildren(sec);
}

// ---- asking why ----

function reasonText() {
  const sel = document.getElementById('contact-reason');
  if (!sel || !sel.value) return '';
  if (sel.value !== 'other') return sel.value;
  const other = document.getElementById('contact-reason-other');
  const s = other ? other.value.trim() : '';
  return s ? `other: ${s}` : '';
}

function reasonForm() {
  const f = el('form', { id: 'contact-reason-form', class: 'contact-reason', novalidate: true });
  const sel = el('select', { id: 'contact-reason', name: 'reason', 'aria-describedby': 'contact-audit-note' },
    el('option', { value: '' }, t('contact_reason_pick')));
  for (const r of REASONS) sel.append(el('option', { value: r }, t(`contact_reason_${r}`)));
  const other = el('input', { id: 'contact-reason-other', name: 'reason_other', maxlength: 150, autocomplete: 'off' });
  const otherWrap = el('div', { class: 'field', hidden: true },
    el('label', { for: 'contact-reason-other' }, t('contact_reason_other_label')), other);
  sel.addEventListener('change', () => { otherWrap.hidden = sel.value !== 'other'; });
  const err = el('p', { id: 'contact-reason-error', class: 'form-error', role: 'alert', hidden: true });
  const btn = el('button', { type: 'submit', class: 'btn' }, t('contact_show'));
  f.append(el('p', { id: 'contact-audit-note', class: 'hint' }, t('contact_audit_note')), err,
    el('div', { class: 'field' }, el('label', { for: 'contact-reason' }, t('contact_reason_label')), sel),
    otherWrap, el('p', null, btn));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const reason = reasonText();
    if (!reason) {
      err.textContent = t('contact_reason_missing');
      err.hidden = false;
      (sel.value === 'other' ? other : sel).focus();
      return;
    }
    load(reason, btn);
  });
  return f;
}

async function load(reason, btn) {
  const gen = generation;
  btn.disabled = true;
  try {
    const data = await api.contactGet(state.id, reason);
    if (gen !== generation || !state) return;
    state.reason = reason;
    state.data = data;
    state.linkId = null;
    render();
    document.getElementById('contact-title').focus();
  } catch (e) {
    if (gen !== generation) return;
    const err = document.getElementById('contact-reason-error');
    if (err) {
      err.textContent = errorText(e);
      err.hidden = false;
    }
  } finally {
    btn.disabled = false;
  }
}

// ---- the details ----

function details() {
  const out = [];
  const c = state.data.contact || {};
  const sugg = state.data.suggestion;
  if (!state.data.contact) {
    out.push(el('p', { class: 'contact-none' }, t('contact_none')));
    if (sugg && (sugg.name || sugg.email) && canWrite()) out.push(suggestion(sugg));
  }
  out.push(contactForm(c));
  if (canWrite()) out.push(searchBlock());
  const hide = el('button', { type: 'button', class: 'btn' }, t('contact_hide'));
  hide.addEventListener('click', () => {
    state.data = null;
    render();
    announce(t('contact_hidden'));
  });
  out.push(el('p', { class: 'contact-actions' }, hide));
  return out;
}

function suggestion(s) {
  const who = [s.name, s.email ? `<${s.email}>` : ''].filter(Boolean).join(' ');
  const btn = el('button', { type: 'button', class: 'btn' }, t('contact_use_sender'));
  btn.addEventListener('click', () => {
    fill({ name: s.name || '', email: s.email || '' });
    announce(t('contact_filled'));
  });
  return el('div', { class: 'notice', role: 'note' },
    el('p', null, t('contact_suggestion'), ' ', el('q', null, who)), el('p', null, t('contact_suggestion_note'), ' ', btn));
}

function fill(values) {
  for (const f of FIELDS) {
    const c = document.getElementById(`contact-${f.key}`);
    if (c && Object.prototype.hasOwnProperty.call(values, f.key)) c.value = values[f.key] || '';
  }
}

function contactForm(c) {
  const f = el('form', { id: 'contact-form', class: 'contact-form', novalidate: true });
  const readOnly = !canWrite();
  for (const fd of FIELDS) {
    const id = `contact-${fd.key}`;
    const input = fd.area
      ? el('textarea', { id, name: fd.key, maxlength: fd.max, rows: 2 })
      : el('input', { id, name: fd.key, maxlength: fd.max, type: fd.type || 'text', autocomplete: fd.auto });
    input.value = c[fd.key] ? String(c[fd.key]) : '';
    if (readOnly) input.readOnly = true;
    f.append(el('div', { class: 'field' }, el('label', { for: id }, t(`contact_${fd.key}`)), input));
  }
  if (readOnly) return f;
  const status = el('p', { id: 'contact-status', class: 'contact-status', role: 'status' });
  const btn = el('button', { type: 'submit', class: 'btn btn-primary' }, t('contact_save'));
  f.append(el('p', null, btn), status);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { reason: state.reason };
    for (const fd of FIELDS) body[fd.key] = document.getElementById(`contact-${fd.key}`).value;
    if (state.linkId) body.contact_id = state.linkId;
    btn.disabled = true;
    status.textContent = t('contact_saving');
    try {
      const r = await api.contactPut(state.id, body);
      state.data = { ticket_id: state.id, contact: r.contact, suggestion: null };
      state.linkId = null;
      render();
      const s = document.getElementById('contact-status');
      if (s) s.textContent = t('contact_saved');
      announce(t('contact_saved'));
    } catch (e) {
      status.textContent = e.status === 400 && e.body && e.body.error
        ? t('contact_bad', { why: String(e.body.error) }) : errorText(e);
    } finally {
      btn.disabled = false;
    }
  });
  return f;
}

// ---- search: the same citizen writing again ----

function searchBlock() {
  const f = el('form', { id: 'contact-search-form', class: 'contact-search', role: 'search', novalidate: true });
  const q = el('input', { id: 'contact-q', name: 'q', type: 'search', maxlength: 100, autocomplete: 'off' });
  const btn = el('button', { type: 'submit', class: 'btn' }, t('contact_search'));
  const results = el('div', { id: 'contact-results', 'aria-live': 'polite' });
  f.append(el('div', { class: 'field' }, el('label', { for: 'contact-q' }, t('contact_search_label')), q),
    el('p', null, btn), results);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (q.value.trim().length < 2) {
      results.replaceChildren(el('p', { class: 'form-error' }, t('contact_search_short')));
      return;
    }
    btn.disabled = true;
    try {
      const r = await api.contactSearch(q.value.trim(), state.reason);
      results.replaceChildren(resultList(r.contacts || []));
    } catch (e) {
      results.replaceChildren(el('p', { class: 'form-error' }, errorText(e)));
    } finally {
      btn.disabled = false;
    }
  });
  return f;
}

function resultList(list) {
  if (!list.length) return el('p', null, t('contact_search_none'));
  const ul = el('ul', { class: 'contact-results' });
  for (const c of list) {
    const use = el('button', { type: 'button', class: 'btn btn-small' }, t('contact_use'));
    use.addEventListener('click', () => {
      const v = {};
      // a search result carries no note: the field keeps what it has
      for (const f of FIELDS) if (c[f.key] !== undefined) v[f.key] = c[f.key] || '';
      fill(v);
      state.linkId = c.id;
      announce(t('contact_linked', { id: c.id }));
    });
    const tickets = Array.isArray(c.tickets) ? c.tickets.join(', ') : '';
    ul.append(el('li', null, `${c.name || t('none')} ${c.phone || ''} ${c.email || ''}`.trim(), ' ',
      el('span', { class: 'contact-tickets' }, t('contact_tickets', { ids: tickets })), ' ', use));
  }
  return ul;
}
