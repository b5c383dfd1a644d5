// 電話着信: the screen pop of a call (issue 9).  When the operator's
// extension answers, ticketd sends `event: call` with {call, ticket,
// user_id, ...} to that operator's event streams only (ticketd/cti.c,
// sse_send_user).  The page then opens the call's ticket at once and shows
// above it what the call brought: the IVR menu choice, the number dialled
// (代表 or a dedicated line), the phone state (after-call work: no new call
// until the case record is saved), and, for roles that may read contact
// details, the caller's earlier tickets with a button to put this call on
// one of them instead.  The caller's number itself is never shown here: it
// is in the contact panel, read with its audit row.
//
// Keyboard: the panel takes the focus when it opens (its heading); Escape
// on it or its 閉じる button closes it and gives the focus to the ticket.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime } from './format.js';
import { announce } from './ui.js';

let role = '';
let current = null; // the call shown

export function start(userRole) {
  role = userRole || '';
  window.addEventListener('mdg:call', onCall);
  refreshState();
}

export function stop() {
  role = '';
  current = null;
  window.removeEventListener('mdg:call', onCall);
  const box = document.getElementById('call-pop');
  if (box) {
    box.replaceChildren();
    box.hidden = true;
  }
  delete document.body.dataset.phone;
}

// a ticket event: a saved case record may end the after-call work
export function changed(ev) {
  if (!role || !ev || ev.op !== 'case') return;
  refreshState();
  if (current && current.ticket_id === ev.id) reload();
}

async function refreshState() {
  let me = null;
  try {
    me = await api.ctiMe();
  } catch (e) {
    return;
  }
  const state = (me && me.state) || 'idle';
  document.body.dataset.phone = state;
  const s = document.getElementById('phone-state');
  if (s) {
    s.hidden = state === 'idle';
    s.textContent = t(`phone_${state}`);
  }
}

function onCall(e) {
  const d = e.detail || {};
  const ticket = Number(d.ticket);
  const call = Number(d.call);
  if (!Number.isSafeInteger(ticket) || ticket <= 0 || !Number.isSafeInteger(call) || call <= 0) return;
  if (d.op === 'state') {
    // hold, hang-up, the end of after-call work: the badge and the panel follow
    refreshState();
    if (current && current.id === call) reload();
    return;
  }
  // the ticket first: it is what the operator works on
  window.location.hash = `#/tickets/${ticket}`;
  current = { id: call, ticket_id: ticket };
  renderShell(call, ticket);
  reload();
  refreshState();
}

async function reload() {
  if (!current) return;
  const id = current.id;
  let c;
  try {
    c = await api.ctiCall(id);
  } catch (e) {
    return; // the shell stays: the ticket is open anyway
  }
  if (!current || current.id !== id) return;
  current = c;
  render(c);
}

function closeBox() {
  const box = document.getElementById('call-pop');
  box.hidden = true;
  box.replaceChildren();
  current = null;
  document.getElementById('main').focus();
}

function header(ticket) {
  const close = el('button', { type: 'button', class: 'btn', id: 'call-pop-close' }, t('call_close'));
  close.addEventListener('click', closeBox);
  return el('div', { class: 'call-pop-head' },
    el('h2', { id: 'call-pop-title', tabindex: '-1' }, t('call_title', { id: ticket })), ' ', close);
}

// what can be shown before the call's details arrive: opened at once
function renderShell(call, ticket) {
  const box = document.getElementById('call-pop');
  box.replaceChildren(header(ticket), el('p', null, t('loading')));
  box.dataset.call = String(call);
  box.hidden = false;
  box.dataset.shownAt = String(Date.now());
  box.onkeydown = (ev) => { if (ev.key === 'Escape') closeBox(); };
  document.getElementById('call-pop-title').focus();
  announce(t('call_announce', { id: ticket }));
}

function fact(key, value, id) {
  return [el('dt', null, t(key)), el('dd', { id }, value || t('call_none'))];
}

function render(c) {
  const box = document.getElementById('call-pop');
  const ivr = c.ivr_label ? `${c.ivr_label} (${c.ivr_choice})` : c.ivr_choice;
  const dl = el('dl', { class: 'call-pop-facts' },
    ...fact('call_ivr', ivr, 'call-pop-ivr'),
    ...fact('call_dnis', c.dnis, 'call-pop-dnis'),
    ...fact('call_ext', c.extension, 'call-pop-ext'),
    ...fact('call_state', t(`phone_${c.state === 'ringing' ? 'talking' : c.state}`), 'call-pop-state'),
    ...fact('call_answered', c.answered_at ? tokyoTime(c.answered_at) : '', 'call-pop-answered'));
  const parts = [header(c.ticket_id), dl];
  if (c.state === 'acw') parts.push(el('p', { class: 'call-pop-acw' }, t('call_acw_note')));
  if (role !== 'viewer' && Array.isArray(c.caller_tickets)) parts.push(history(c));
  box.replaceChildren(...parts);
  box.dataset.call = String(c.id);
  box.dataset.state = c.state;
}

function history(c) {
  const others = c.caller_tickets.filter((x) => x.id !== c.ticket_id);
  const list = el('ul', { id: 'call-pop-history' });
  for (const x of others) {
    const li = el('li', null, el('a', { href: `#/tickets/${x.id}` }, `${x.id} ${x.subject}`), ' ',
      `(${t(`status_${x.status}`)}, ${tokyoTime(x.created_at)})`);
    if (['new', 'open', 'waiting_citizen', 'escalated'].includes(x.status)) {
      const b = el('button', { type: 'button', class: 'btn', 'data-ticket': x.id }, t('call_join'));
      b.addEventListener('click', () => join(c.id, x.id, b));
      li.append(' ', b);
    }
    list.append(li);
  }
  return el('section', { 'aria-labelledby': 'call-pop-hist-title' },
    el('h3', { id: 'call-pop-hist-title' }, t('call_history')),
    others.length ? list : el('p', { id: 'call-pop-history' }, t('call_history_none')));
}

async function join(callId, ticketId, button) {
  button.disabled = true;
  try {
    await api.ctiPick(callId, ticketId);
  } catch (e) {
    button.disabled = false;
    announce(t('call_join_failed'));
    return;
  }
  announce(t('call_joined', { id: ticketId }));
  current = { id: callId, ticket_id: ticketId };
  window.location.hash = `#/tickets/${ticketId}`;
  reload();
}
