// Keyboard shortcuts for the common path (issue 5).  One listener for the
// whole page; the view on screen decides what a key does:
//   j / k   next / previous ticket in the queue
//   Enter   open it (the row's link does that by itself)
//   c       claim: the focused row's ticket, or the ticket on screen
//   r       reply: the ticket's composer (the event 'mdg:reply', which
//           composer.js listens for)
//   e       resolve: the status form with 解決 chosen, at the resolution
//   ?       the list of shortcuts
// Never while typing: a key pressed in a text field, a text area, a
// select or anything editable belongs to that field, and a key with Ctrl,
// Alt or Meta (or during an IME composition) to the browser.  The queue
// opens a ticket for r and e and leaves the action here for the ticket
// page to take once it is on screen.

import { t } from './i18n.js';
import { el } from './format.js';

const handlers = new Map(); // section id -> {key: function(event)}
let pending = null; // 'reply' | 'resolve', for the next ticket shown

// The keys of the view in section `viewId` (shown when it is not hidden).
export function register(viewId, map) {
  handlers.set(viewId, map);
}

export function setPending(action) {
  pending = action;
}

export function takePending() {
  const p = pending;
  pending = null;
  return p;
}

const TEXT_INPUTS = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', 'date',
  'datetime-local', 'month', 'week', 'time']);

export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && TEXT_INPUTS.has(String(target.type || 'text').toLowerCase());
}

function onKey(ev) {
  if (ev.defaultPrevented || ev.ctrlKey || ev.altKey || ev.metaKey || ev.isComposing) return;
  if (isTyping(ev.target)) return;
  const dialog = document.getElementById('keys-help');
  if (dialog && dialog.open) return;
  if (ev.key === '?') {
    ev.preventDefault();
    openHelp();
    return;
  }
  for (const [viewId, map] of handlers) {
    const sec = document.getElementById(viewId);
    if (!sec || sec.hidden) continue;
    const fn = Object.prototype.hasOwnProperty.call(map, ev.key) ? map[ev.key] : null;
    if (fn) {
      ev.preventDefault();
      fn(ev);
    }
    return;
  }
}

const KEYS = [['j', 'keys_j'], ['k', 'keys_k'], ['Enter', 'keys_enter'], ['c', 'keys_c'],
  ['r', 'keys_r'], ['e', 'keys_e'], ['?', 'keys_help']];

// The list of shortcuts in a modal dialog; Escape or the button closes it
// and the focus goes back where it was.
export function openHelp() {
  let dialog = document.getElementById('keys-help');
  if (dialog) dialog.remove(); // rebuilt: the language may have changed
  dialog = el('dialog', { id: 'keys-help', class: 'keys-help', 'aria-labelledby': 'keys-help-title' });
  const dl = el('dl', { class: 'keys-list' });
  for (const [key, label] of KEYS) dl.append(el('div', null, el('dt', null, el('kbd', null, key)), el('dd', null, t(label))));
  const close = el('button', { type: 'button', class: 'btn' }, t('keys_close'));
  close.addEventListener('click', () => dialog.close());
  dialog.append(el('h2', { id: 'keys-help-title' }, t('keys_title')), el('p', null, t('keys_intro')), dl, close);
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

document.addEventListener('keydown', onKey);
document.addEventListener('click', (ev) => {
  if (ev.target instanceof Element && ev.target.closest('.keys-help-open')) openHelp();
});
