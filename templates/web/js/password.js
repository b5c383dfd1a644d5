// パスワード変更: the header's button opens a modal dialog asking for the
// current password and the new one twice.  POST /api/me/password
// {current, new}: 204 changed (the server ends the user's other sessions,
// this one stays), 403 the current one is wrong (it counts toward the
// log-in lock, as at log-in), 422 the new one is refused with the reason
// in {"error"}.  That the two new ones match is checked here: the server
// never sees the second.
//
// Each refusal is said in words above the form and on the field it is
// about (aria-describedby, aria-invalid, the .field-invalid marker that
// does not rely on colour), the field is emptied and focused.  Escape or
// キャンセル closes the dialog; the focus goes back to the button.
//
// The module wires itself up on import: the button shows while #logout
// does (app.js shows that one exactly while someone is logged in), so
// app.js needs only the import.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce } from './ui.js';

const OPEN_ID = 'password-open';
const DIALOG_ID = 'password-dialog';
const ERROR_ID = 'pw-error';

// the server's reasons (ticketd/auth.c auth_weak) in the page's language
const REASONS = {
  'the new password is too short': 'pw_too_short',
  'the new password is the same as the current one': 'pw_same',
  'the new password is the login name': 'pw_is_login',
  'the new password is not valid UTF-8': 'pw_bad_text',
};

function field(id, key, autocomplete) {
  return el('div', { class: 'field' },
    el('label', { for: id }, t(key)),
    el('input', { id, type: 'password', autocomplete, maxlength: '1024', required: true }));
}

function build() {
  const form = el('form', { class: 'password-form', novalidate: true },
    el('p', { id: ERROR_ID, class: 'form-error', role: 'alert', hidden: true }),
    field('pw-current', 'pw_current', 'current-password'),
    field('pw-new', 'pw_new', 'new-password'),
    field('pw-again', 'pw_again', 'new-password'),
    el('div', { class: 'password-actions' },
      el('button', { type: 'submit', class: 'btn btn-primary' }, t('pw_submit')),
      el('button', { type: 'button', class: 'btn', 'data-close': '' }, t('pw_cancel'))));
  const dialog = el('dialog', { id: DIALOG_ID, class: 'password-dialog', 'aria-labelledby': 'pw-title',
    'aria-describedby': 'pw-intro' },
  el('h2', { id: 'pw-title' }, t('pw_title')),
  el('p', { id: 'pw-intro' }, t('pw_intro')), form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(dialog, form);
  });
  form.querySelector('[data-close]').addEventListener('click', () => dialog.close());
  // a modal dialog: the page's shortcuts (keys.js) must not act behind it;
  // Escape still closes it (the browser's own cancel, not a listener)
  dialog.addEventListener('keydown', (ev) => ev.stopPropagation());
  dialog.addEventListener('close', () => {
    dialog.remove();
    const b = document.getElementById(OPEN_ID);
    if (b && !b.hidden) b.focus();
  });
  return dialog;
}

function clearMarks(form) {
  const err = form.querySelector(`#${ERROR_ID}`);
  err.textContent = '';
  err.hidden = true;
  for (const f of form.querySelectorAll('.field')) {
    f.classList.remove('field-invalid');
    const input = f.querySelector('input');
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }
}

// say what is wrong, mark the field, empty the ones named and focus the first
function refuse(form, text, focusId, emptyIds) {
  const err = form.querySelector(`#${ERROR_ID}`);
  err.textContent = text;
  err.hidden = false;
  for (const id of emptyIds) form.querySelector(`#${id}`).value = '';
  const input = form.querySelector(`#${focusId}`);
  input.closest('.field').classList.add('field-invalid');
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', ERROR_ID);
  input.focus();
}

// the text and the field for a failed request
function failure(status, body) {
  if (status === 403) return [t('pw_wrong'), 'pw-current', ['pw-current']];
  if (status === 422) {
    const why = body && typeof body.error === 'string' ? body.error : '';
    const text = REASONS[why] ? t(REASONS[why]) : t('pw_refused', { why });
    return [text, 'pw-new', ['pw-new', 'pw-again']];
  }
  if (status === 401) return [t('session_expired'), 'pw-current', []];
  if (status === 0) return [t('network_failed'), 'pw-current', []];
  return [t('load_failed', { status }), 'pw-current', []];
}

// POST /api/me/password through api.js (which holds the CSRF token).
// [status, body]: 204 and null on success, 0 when the server is not reached
async function post(current, next) {
  try {
    await api.changePassword(current, next);
    return [204, null];
  } catch (e) {
    return [e && typeof e.status === 'number' ? e.status : 0, e ? e.body || null : null];
  }
}

async function submit(dialog, form) {
  const cur = form.querySelector('#pw-current');
  const next = form.querySelector('#pw-new');
  const again = form.querySelector('#pw-again');
  clearMarks(form);
  for (const [input, key] of [[cur, 'pw_current'], [next, 'pw_new'], [again, 'pw_again']]) {
    if (!input.value) {
      refuse(form, t('pw_missing', { field: t(key) }), input.id, []);
      return;
    }
  }
  if (next.value !== again.value) {
    refuse(form, t('pw_mismatch'), 'pw-again', ['pw-again']);
    return;
  }
  const btn = form.querySelector('button[type="submit"]');
  btn.disabled = true;
  const [status, body] = await post(cur.value, next.value);
  btn.disabled = false;
  if (status === 204) {
    dialog.close();
    announce(t('pw_done'));
    return;
  }
  const [text, focusId, emptyIds] = failure(status, body);
  refuse(form, text, focusId, emptyIds);
}

export function open() {
  document.getElementById(DIALOG_ID)?.remove(); // rebuilt: the language may have changed
  const dialog = build();
  document.body.append(dialog);
  dialog.showModal();
  dialog.querySelector('#pw-current').focus();
}

function init() {
  const btn = document.getElementById(OPEN_ID);
  const logout = document.getElementById('logout');
  if (!btn || !logout) return;
  btn.addEventListener('click', open);
  const follow = () => {
    btn.hidden = logout.hidden;
    const d = document.getElementById(DIALOG_ID);
    if (logout.hidden && d) d.close(); // logged out (or the session ended) meanwhile
  };
  new MutationObserver(follow).observe(logout, { attributes: true, attributeFilter: ['hidden'] });
  follow();
}

init();
