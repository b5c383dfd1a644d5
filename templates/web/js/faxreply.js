// FAXで返信 on the ticket page (issue 7, ticketd/faxreply.h): the operator
// answers by fax, and follows what became of each fax.
//
// The form: the addressee, the fax number typed twice (誤送信防止: the page
// refuses to send while the two differ, and says so; ticketd checks again),
// or, for roles that may see contact details, the number taken from the
// ticket's contact (the read is audited with the reason "FAXで返信"); the
// text; プレビュー shows every page as it will be sent (the letterhead, the
// text set on A4, page numbers); 送信 queues it.  Below: every fax of the
// ticket in words — 承認待ち, 送信待ち, 送信中, 送信済み n枚, 失敗: reason,
// 取り消し — with 承認 for a held fax (someone other than its author) and
// 取り消す while it waits.  The list is fetched again on every live
// event of the ticket (ingest-fax writes one per attempt).

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime } from './format.js';
import { announce, errorText } from './ui.js';

let st = fresh(null);
let listTimer = 0;
let refreshTicket = null;

function fresh(ticketId) {
  return { ticketId, open: false, recipient: '', number: '', confirm: '', body: '',
    contact: null, previews: null, list: null, listError: null, busy: false };
}

function role() {
  return document.body.dataset.role || '';
}

function canSend() {
  return role() === 'operator' || role() === 'supervisor';
}

export function section(x, refresh) {
  if (!canSend() && role() !== 'admin') return '';
  if (st.ticketId !== x.id) st = fresh(x.id);
  refreshTicket = refresh;
  const sec = el('section', { class: 'faxreply', id: 'faxr-panel', 'aria-labelledby': 'faxr-title' },
    el('h2', { id: 'faxr-title' }, t('faxr_title')));
  if (canSend() && !x.merged_into && !x.purged_at) sec.append(el('div', { id: 'faxr-form-box' }, ...formParts()));
  sec.append(el('div', { id: 'faxr-list-box' }, ...listParts()));
  loadList();
  return sec;
}

export function changed(ev) {
  if (!ev || ev.id !== st.ticketId) return;
  clearTimeout(listTimer);
  listTimer = setTimeout(() => loadList(), 150);
}

function redrawForm() {
  const box = document.getElementById('faxr-form-box');
  if (box) box.replaceChildren(...formParts());
}

function redrawList() {
  const box = document.getElementById('faxr-list-box');
  if (box) box.replaceChildren(...listParts());
}

function field(id, labelText, input) {
  return el('div', { class: 'field' }, el('label', { for: id }, labelText), input);
}

function textInput(id, key, attrs) {
  const i = el('input', Object.assign({ id, type: 'text', autocomplete: 'off' }, attrs || {}));
  i.value = st[key];
  i.addEventListener('input', () => { st[key] = i.value; });
  return i;
}

// the digits of a typed number, as ticketd reduces it (faxreply_digits)
function digits(s) {
  const w = String(s).replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  return w.replace(/[\s\-()　－‐ー（）−]/g, '');
}

function formParts() {
  if (!st.open) {
    const b = el('button', { type: 'button', id: 'faxr-open' }, t('faxr_open'));
    b.addEventListener('click', () => { st.open = true; redrawForm(); });
    return [b];
  }
  const body = el('textarea', { id: 'faxr-body', rows: '10' });
  body.value = st.body;
  body.addEventListener('input', () => { st.body = body.value; });
  const parts = [
    el('p', { class: 'hint' }, t('faxr_hint')),
    field('faxr-recipient', t('faxr_recipient'), textInput('faxr-recipient', 'recipient')),
  ];
  if (st.contact) {
    parts.push(el('p', { id: 'faxr-contact-number' },
      t('faxr_contact_number', { name: String(st.contact.name || ''), number: String(st.contact.fax || '') })));
  } else {
    parts.push(field('faxr-number', t('faxr_number'), textInput('faxr-number', 'number', { inputmode: 'tel' })),
      field('faxr-number-confirm', t('faxr_number_confirm'),
        textInput('faxr-number-confirm', 'confirm', { inputmode: 'tel' })));
  }
  parts.push(contactButton(), field('faxr-body', t('faxr_body'), body));
  const preview = el('button', { type: 'button', id: 'faxr-preview' }, t('faxr_preview'));
  preview.addEventListener('click', () => doPreview());
  const send = el('button', { type: 'button', id: 'faxr-send', class: 'primary' }, t('faxr_send'));
  send.addEventListener('click', () => doSend());
  const close = el('button', { type: 'button', id: 'faxr-close' }, t('faxr_close'));
  close.addEventListener('click', () => { st.open = false; st.previews = null; redrawForm(); });
  parts.push(el('p', { id: 'faxr-error', class: 'error', role: 'alert' }),
    el('div', { class: 'composer-row' }, preview, send, close));
  if (st.previews) parts.push(previewBox());
  return parts;
}

function contactButton() {
  if (st.contact) {
    const b = el('button', { type: 'button', id: 'faxr-contact-clear' }, t('faxr_contact_clear'));
    b.addEventListener('click', () => { st.contact = null; redrawForm(); });
    return b;
  }
  const b = el('button', { type: 'button', id: 'faxr-contact' }, t('faxr_contact_pick'));
  b.addEventListener('click', async () => {
    try {
      const doc = await api.faxContact(st.ticketId);
      const c = doc && doc.contact;
      if (!c || !digits(c.fax || '')) {
        setError(t('faxr_contact_none'));
        return;
      }
      st.contact = c;
      if (!st.recipient) st.recipient = String(c.name || '');
      redrawForm();
    } catch (e) {
      setError(errorText(e));
    }
  });
  return b;
}

function previewBox() {
  return el('div', { id: 'faxr-previews', class: 'faxr-previews' },
    el('p', null, t('faxr_preview_pages', { n: st.previews.length })),
    ...st.previews.map((src, i) => el('img', { src, class: 'faxr-page',
      alt: t('faxr_preview_alt', { n: i + 1, total: st.previews.length }) })));
}

function setError(text) {
  const p = document.getElementById('faxr-error');
  if (p) p.textContent = text || '';
}

// the number, or an error text for the operator
function numberPart() {
  if (st.contact) return { doc: { contact_id: st.contact.id } };
  const a = digits(st.number), b = digits(st.confirm);
  if (!a || !b) return { error: t('faxr_number_missing') };
  if (a !== b) return { error: t('faxr_number_mismatch') };
  if (!/^0\d{9,10}$/.test(a)) return { error: t('faxr_number_bad') };
  return { doc: { number: st.number, number_confirm: st.confirm } };
}

async function doPreview() {
  setError('');
  try {
    const doc = await api.faxPreview(st.ticketId, { body: st.body, recipient: st.recipient });
    st.previews = (doc && doc.images) || [];
    redrawForm();
  } catch (e) {
    setError(errorText(e));
  }
}

async function doSend() {
  const n = numberPart();
  if (n.error) {
    setError(n.error);
    return;
  }
  if (!st.body.trim()) {
    setError(t('faxr_body_missing'));
    return;
  }
  if (st.busy) return;
  st.busy = true;
  try {
    const doc = await api.faxSend(st.ticketId, Object.assign({ body: st.body, recipient: st.recipient }, n.doc));
    announce(t('faxr_queued', { n: doc.pages }));
    st = Object.assign(fresh(st.ticketId), { list: st.list });
    redrawForm();
    loadList();
    if (refreshTicket) refreshTicket();
  } catch (e) {
    setError(errorText(e));
  } finally {
    st.busy = false;
  }
}

// ---- the list ----

export function stateText(f) {
  switch (f.state) {
    case 'awaiting_approval': return t('faxr_state_held');
    case 'queued': return f.attempts > 0 ? t('faxr_state_retry', { at: tokyoTime(f.not_before) }) : t('faxr_state_queued');
    case 'dialling': return t('faxr_state_dialling');
    case 'sent': return t('faxr_state_sent', { n: f.pages_sent });
    case 'failed': return t('faxr_state_failed', { reason: String(f.last_error || f.last_t30_text || f.last_result || '') });
    case 'cancelled': return t('faxr_state_cancelled');
    default: return String(f.state);
  }
}

// what was stored to be sent, page by page (GET /api/faxes/ID/N.png)
function pageLinks(f) {
  const span = el('span', { class: 'faxr-page-links' }, t('faxr_view_pages'));
  for (let n = 1; n <= Number(f.pages) && n <= 50; n++) {
    span.append(' ', el('a', { href: `/api/faxes/${Number(f.id)}/${n}.png`, target: '_blank', rel: 'noopener',
      'aria-label': t('faxr_preview_alt', { n, total: Number(f.pages) }) }, String(n)));
  }
  return span;
}

function listParts() {
  if (st.listError) return [el('p', { class: 'error' }, st.listError)];
  if (!st.list || !st.list.length) return [];
  return [el('ul', { id: 'faxr-list', class: 'faxr-list' }, ...st.list.map((f) => {
    const li = el('li', { id: `faxr-${Number(f.id)}`, 'data-state': String(f.state) },
      el('span', { class: 'faxr-when' }, tokyoTime(f.created_at)), ' ',
      el('span', { class: 'faxr-number' }, String(f.number)), ' ',
      el('span', { class: 'faxr-pages' }, t('faxr_pages', { n: f.pages })), ' ',
      el('strong', { class: 'faxr-state', id: `faxr-${Number(f.id)}-state` }, stateText(f)));
    li.append(' ', pageLinks(f));
    if (f.can_approve && canSend()) {
      const a = el('button', { type: 'button', id: `faxr-${Number(f.id)}-approve` }, t('faxr_approve'));
      a.addEventListener('click', async () => {
        try {
          await api.faxApprove(st.ticketId, f.id);
          announce(t('faxr_approved'));
          loadList();
        } catch (e) {
          st.listError = errorText(e);
          redrawList();
        }
      });
      li.append(' ', a);
    }
    if (f.can_cancel && canSend()) {
      const b = el('button', { type: 'button', id: `faxr-${Number(f.id)}-cancel` }, t('faxr_cancel'));
      b.addEventListener('click', async () => {
        try {
          await api.faxCancel(st.ticketId, f.id);
          announce(t('faxr_cancelled'));
          loadList();
        } catch (e) {
          st.listError = errorText(e);
          redrawList();
        }
      });
      li.append(' ', b);
    }
    return li;
  }))];
}

async function loadList() {
  const id = st.ticketId;
  try {
    const doc = await api.faxList(id);
    if (st.ticketId !== id) return;
    st.list = (doc && doc.faxes) || [];
    st.listError = null;
  } catch (e) {
    if (st.ticketId !== id) return;
    st.listError = errorText(e);
  }
  redrawList();
}
