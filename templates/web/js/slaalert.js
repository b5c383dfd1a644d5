// SLA警告 on every page (issue 6: "an alert on screen ... when an item
// crosses the warning threshold").  ticketd sends a ticket_change event
// with op 'sla_warning' once per ticket when it passes its warning time
// (ticketd/sla.c; the same moment the notice mail to sla.alert_addr is
// queued).  Supervisors and admins get a notice in the corner of whatever
// page they are on, with a link to the ticket, until they dismiss it; it is
// announced to screen readers politely.  At most MAX notices stay; a newer
// one for the same ticket replaces the older.  Operators see the warnings
// on the queue's 回答期限 column and the SLA page instead.

import { t } from './i18n.js';
import { el } from './format.js';
import { announce } from './ui.js';

const ROLES = ['supervisor', 'admin'];
const MAX = 5;

let role = '';

export function start(userRole) {
  role = userRole || '';
}

export function stop() {
  role = '';
  const box = document.getElementById('sla-alerts');
  if (box) box.replaceChildren();
}

export function changed(ev) {
  if (!ev || ev.op !== 'sla_warning' || !ROLES.includes(role)) return;
  const id = Number(ev.id);
  if (!Number.isSafeInteger(id) || id <= 0) return;
  const box = document.getElementById('sla-alerts');
  if (!box) return;
  const old = box.querySelector(`[data-id="${id}"]`);
  if (old) old.remove();
  const close = el('button', { type: 'button', class: 'btn', 'aria-label': t('sla_alert_close', { id }) },
    t('sla_alert_dismiss'));
  const note = el('div', { class: 'sla-alert', 'data-id': id, role: 'group', 'aria-label': t('sla_alert_title') },
    el('span', { class: 'sla-shape', 'aria-hidden': 'true' }, '●'), ' ',
    el('strong', null, t('sla_alert_title')), ' ',
    el('a', { href: `#/tickets/${id}` }, t('sla_alert_text', { id })), ' ',
    close);
  close.addEventListener('click', () => {
    const next = note.nextElementSibling || note.previousElementSibling;
    note.remove();
    if (next) next.querySelector('button').focus();
    else document.getElementById('main').focus();
  });
  box.prepend(note);
  while (box.childElementCount > MAX) box.lastElementChild.remove();
  announce(t('sla_alert_announce', { id }));
}
