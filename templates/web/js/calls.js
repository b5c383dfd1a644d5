// 電話の状況 (#/calls): the phone figures the tenders ask for (issue 9;
// GET /api/cti/stats): 着信数, 応答数, 目標内応答 (answered within 15 s) and
// its rate, 放棄呼数 and 放棄呼率 (abandoned ÷ offered), average wait, talk
// (平均通話時間), after-call work and handling time (平均処理時間 = talk +
// 後処理), hold, transfers and callbacks; for a period (today by default)
// and by day, by hour and by weekday.  No call identifies anyone here: the
// figures are case history.  Supervisors and admins have the link; anyone
// logged in may read the page (the API allows every role).

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce, errorText } from './ui.js';

const ROLES = ['supervisor', 'admin'];
const COLS = ['offered', 'answered', 'answered_15s', 'answered_15s_rate', 'abandoned', 'abandon_rate',
  'avg_wait_seconds', 'avg_talk_seconds', 'avg_acw_seconds', 'avg_handling_seconds', 'avg_hold_seconds',
  'transfers'];
let data = null;
let error = '';
let gen = 0;

export function start(userRole) {
  const a = document.getElementById('nav-calls');
  if (a) a.hidden = !ROLES.includes(userRole || '');
}

export function stop() {
  start('');
  data = null;
  error = '';
}

export async function show(focus) {
  const box = document.getElementById('calls-content');
  if (!document.getElementById('calls-form')) box.replaceChildren(title(), form(), el('div', { id: 'calls-figures' }));
  document.title = `${t('calls_title')} – 窓口`;
  if (!data) await load(null, null);
  else draw();
  if (focus) document.getElementById('calls-title').focus();
}

export function render() {
  const box = document.getElementById('calls-content');
  if (!box || !document.getElementById('calls-form')) return;
  box.replaceChildren(title(), form(), el('div', { id: 'calls-figures' }));
  draw();
}

function title() {
  return el('h1', { id: 'calls-title', tabindex: '-1' }, t('calls_title'));
}

function form() {
  const f = el('form', { id: 'calls-form', class: 'filters', novalidate: true, 'aria-labelledby': 'calls-legend' },
    el('p', { id: 'calls-legend', class: 'sla-legend' }, t('calls_period')),
    el('div', { class: 'field' }, el('label', { for: 'calls-from' }, t('sla_period_from')),
      el('input', { id: 'calls-from', name: 'from', type: 'date', required: true, value: data ? data.from : '' })),
    el('div', { class: 'field' }, el('label', { for: 'calls-to' }, t('sla_period_to')),
      el('input', { id: 'calls-to', name: 'to', type: 'date', required: true, value: data ? data.to : '' })),
    el('div', { class: 'filter-actions' }, el('button', { type: 'submit', class: 'btn' }, t('sla_period_submit'))),
    el('p', { id: 'calls-status', role: 'status', class: 'filter-state' }));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const from = f.elements.namedItem('from').value;
    const to = f.elements.namedItem('to').value;
    if (!from || !to || from > to) {
      document.getElementById('calls-status').textContent = t('sla_period_bad');
      f.elements.namedItem(from ? 'to' : 'from').focus();
      return;
    }
    load(from, to);
  });
  return f;
}

async function load(from, to) {
  const mine = ++gen;
  const status = document.getElementById('calls-status');
  if (status) status.textContent = t('loading');
  try {
    const d = await api.ctiStats(from, to);
    if (mine !== gen) return;
    data = d;
    error = '';
  } catch (e) {
    if (mine !== gen) return;
    data = null;
    error = errorText(e);
  }
  if (status) status.textContent = data ? t('sla_period_done', { from: data.from, to: data.to }) : error;
  if (data && from) announce(t('sla_period_done', { from: data.from, to: data.to }));
  if (data) {
    document.getElementById('calls-from').value = data.from;
    document.getElementById('calls-to').value = data.to;
  }
  draw();
}

// a figure in words: rates as percent, seconds as "1分30秒", missing as —
function fmt(key, v) {
  if (v === null || v === undefined) return '—';
  if (key.endsWith('_rate')) return `${(Number(v) * 100).toFixed(1)}%`;
  if (key.endsWith('_seconds')) {
    const s = Math.round(Number(v));
    return s >= 60 ? t('calls_min_sec', { m: Math.floor(s / 60), s: s % 60 }) : t('calls_sec', { s });
  }
  return String(v);
}

function table(id, caption, firstKey, rows, first) {
  const head = el('tr', null, el('th', { scope: 'col' }, t(firstKey)),
    ...COLS.map((k) => el('th', { scope: 'col' }, t(`calls_${k}`))));
  const body = el('tbody', null, ...rows.map((r) => el('tr', null, el('th', { scope: 'row' }, first(r)),
    ...COLS.map((k) => el('td', { 'data-key': k }, fmt(k, r[k]))))));
  // 12 columns scroll on a narrow screen: the wrapper takes the focus so the
  // keyboard can scroll it (axe: scrollable-region-focusable)
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'group', 'aria-label': caption },
    el('table', { class: 'adm-table', id },
    el('caption', null, caption), el('thead', null, head), body));
}

function draw() {
  const box = document.getElementById('calls-figures');
  if (!box) return;
  if (!data) {
    box.replaceChildren(error ? el('p', { class: 'form-error' }, error) : el('p', null, t('loading')));
    return;
  }
  const total = Object.assign({}, data.total);
  box.replaceChildren(
    table('calls-total', t('calls_total_caption', { from: data.from, to: data.to }), 'calls_period_col', [total],
      () => `${data.from} – ${data.to}`),
    el('p', { id: 'calls-callbacks' }, t('calls_callbacks', { n: data.callbacks })),
    table('calls-by-day', t('calls_by_day'), 'calls_day', data.by_day || [], (r) => r.day),
    table('calls-by-hour', t('calls_by_hour'), 'calls_hour', data.by_hour || [], (r) => t('calls_hour_fmt', { h: r.hour })),
    table('calls-by-weekday', t('calls_by_weekday'), 'calls_weekday', data.by_weekday || [],
      (r) => t(`calls_dow_${r.isodow}`)));
}
