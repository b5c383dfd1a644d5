// Display formats shared by the views.  Times are always shown in
// Asia/Tokyo whatever the operator's machine says: the centre, its SLA and
// the citizens all live on Japan time.

import { t, has } from './i18n.js';

const TOKYO = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

// "2026-11-22 13:05" (Asia/Tokyo) from an ISO 8601 string; '—' for none.
export function tokyoTime(iso) {
  if (!iso) return t('none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = {};
  for (const part of TOKYO.formatToParts(d)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

// The machine-readable value for <time datetime>.
export function isoOrEmpty(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function fileSize(n) {
  const bytes = Number(n);
  if (!Number.isFinite(bytes) || bytes < 0) return t('unknown');
  if (bytes < 1024) return t('bytes', { n: bytes });
  if (bytes < 1024 * 1024) return t('kb', { n: (bytes / 1024).toFixed(1) });
  return t('mb', { n: (bytes / (1024 * 1024)).toFixed(1) });
}

// A label for a code from a closed set (status_*, channel_*, flag_*); an
// unknown code is shown as it is rather than hidden.
export function label(prefix, code) {
  const key = `${prefix}_${code}`;
  return has(key) ? t(key) : String(code);
}

// "山田 太郎 <taro@example.jp>", or just one of the two.
export function person(name, addr) {
  const n = name ? String(name) : '';
  const a = addr ? String(addr) : '';
  if (n && a) return `${n} <${a}>`;
  return n || a || t('none');
}

// A link target from the API, accepted only as a path on this server's API:
// whatever a row holds, it never becomes a javascript: or foreign URL.
export function apiUrl(u) {
  return typeof u === 'string' && /^\/api\/[A-Za-z0-9/_.-]*$/.test(u) ? u : null;
}

// Shorthand for building DOM without ever parsing markup.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
