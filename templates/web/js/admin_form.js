// What the admin pages (admin_*.js) share: the page heading, the refusal
// of a page, and an error put beside the field at fault (marked
// aria-invalid, described by the message, focused), as admin_rules.js does.

import { t } from './i18n.js';
import { el } from './format.js';
import { errorText } from './ui.js';

export const box = () => document.getElementById('admin-content');

export function title(key) {
  return el('h1', { id: 'admin-title', tabindex: '-1' }, t(key));
}

export function focusTitle() {
  const h = document.getElementById('admin-title');
  if (h) h.focus();
}

// The page could not be loaded (403 for a role without it, network...).
export function refused(key, e) {
  document.title = `${t(key)} – 窓口`;
  box().replaceChildren(title(key), el('p', { class: 'form-error' }, errorText(e)));
}

export function clearFieldErrors(form) {
  if (!form) return;
  for (const p of form.querySelectorAll('.field-error')) p.remove();
  for (const input of form.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
    const d = (input.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
    if (d.length) input.setAttribute('aria-describedby', d.join(' '));
    else input.removeAttribute('aria-describedby');
  }
}

// text right under input; focus on it unless told not to
export function fieldError(input, text, focus = true) {
  const old = document.getElementById(`${input.id}-error`);
  if (old) old.remove();
  const p = el('p', { id: `${input.id}-error`, class: 'field-error' }, text);
  input.after(p);
  input.setAttribute('aria-invalid', 'true');
  const d = (input.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
  input.setAttribute('aria-describedby', [...d, p.id].join(' '));
  if (focus) input.focus();
}
