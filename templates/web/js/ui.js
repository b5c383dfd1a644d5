// Page-wide messages: the aria-live announcer and the error banner.

import { t } from './i18n.js';

const KEEP = 5;

// Read out text to screen-reader users without moving focus.  Each
// announcement is a new child of the polite live region (a changed text
// node in an existing child is not reliably read twice); old ones are
// trimmed.
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  const p = document.createElement('p');
  p.textContent = text;
  region.append(p);
  while (region.childElementCount > KEEP) region.firstElementChild.remove();
}

export function showError(text) {
  const box = document.getElementById('error');
  box.textContent = text;
  box.hidden = false;
}

export function clearError() {
  const box = document.getElementById('error');
  box.textContent = '';
  box.hidden = true;
}

// The text for a failed API call.
export function errorText(err) {
  if (!err || err.status === undefined) return t('network_failed');
  if (err.status === 0) return t('network_failed');
  if (err.status === 403) return t('forbidden');
  return t('load_failed', { status: err.status });
}
