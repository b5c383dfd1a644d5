// The case history list (#/cases, 応対履歴一覧): what ward staff read.
// Read-only, for every role.  It shows the case records only (channel,
// times, category, the summaries, resolution): no subject, no sender,
// nothing of the correspondence, which viewers may not read.
// Filters: received from/to (Asia/Tokyo days) and category; newest first,
// a page at a time.

import * as api from './api.js';
import { t, lang } from './i18n.js';
import { tokyoTime, isoOrEmpty, label, el } from './format.js';
import { errorText } from './ui.js';

const PAGE = 50;
let rows = [];
let more = false;
let filters = { from: '', to: '', category: '' };
let resolutions = [];
let generation = 0;

export async function show() {
  const gen = ++generation;
  const box = document.getElementById('cases-content');
  document.title = `${t('cases_title')} – 窓口`;
  if (!box.firstChild) render();
  try {
    const r = await api.caseResolutions().catch(() => null);
    if (r && Array.isArray(r.resolutions)) resolutions = r.resolutions;
    await load(false, gen);
  } catch (e) {
    if (gen === generation) setStatus(errorText(e));
  }
}

export function clear() {
  generation += 1;
  rows = [];
  more = false;
  const box = document.getElementById('cases-content');
  if (box) box.replaceChildren();
}

async function load(append, gen) {
  const params = { limit: String(PAGE) };
  for (const [k, v] of Object.entries(filters)) if (v) params[k] = v;
  if (append && rows.length) params.before = String(rows[rows.length - 1].ticket_id);
  const data = await api.caseList(params);
  if (gen !== generation) return;
  const got = Array.isArray(data.cases) ? data.cases : [];
  rows = append ? rows.concat(got) : got;
  more = got.length === PAGE;
  renderTable();
  setStatus(t('cases_count', { n: rows.length }));
}

function setStatus(text) {
  const s = document.getElementById('cases-status');
  if (s) s.textContent = text;
}

// The whole view (after a language switch too); the filters keep their values.
export function render() {
  const box = document.getElementById('cases-content');
  if (!box) return;
  document.title = `${t('cases_title')} – 窓口`;
  const form = el('form', { id: 'cases-filter', class: 'cases-filter', role: 'search', 'aria-label': t('cases_filter') });
  const input = (id, key, type, labelKey) => el('div', { class: 'field' },
    el('label', { for: id }, t(labelKey)), el('input', { id, name: key, type, value: filters[key], maxlength: 200 }));
  form.append(input('cases-from', 'from', 'date', 'cases_from'), input('cases-to', 'to', 'date', 'cases_to'),
    input('cases-category', 'category', 'text', 'case_category'),
    el('p', null, el('button', { type: 'submit', class: 'btn' }, t('cases_apply'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    filters = {
      from: document.getElementById('cases-from').value,
      to: document.getElementById('cases-to').value,
      category: document.getElementById('cases-category').value.trim(),
    };
    load(false, ++generation).catch((e) => setStatus(errorText(e)));
  });
  box.replaceChildren(el('h1', { id: 'cases-title', tabindex: '-1' }, t('cases_title')),
    el('p', { class: 'hint' }, t('cases_note')), form,
    el('p', { id: 'cases-status', class: 'cases-status', role: 'status' }),
    el('div', { id: 'cases-table', class: 'table-wrap' }));
  renderTable();
}

function resolutionLabel(code) {
  if (!code) return t('none');
  const r = resolutions.find((x) => x.code === code);
  if (r) return String(lang() === 'en' ? r.label_en || r.label_ja : r.label_ja);
  return label('resolution', code);
}

function renderTable() {
  const wrap = document.getElementById('cases-table');
  if (!wrap) return;
  if (!rows.length) {
    wrap.replaceChildren(el('p', { class: 'empty' }, t('cases_empty')));
    return;
  }
  const head = el('tr', null, ...['col_id', 'case_channel', 'case_received', 'case_category', 'case_inquiry',
    'case_answer', 'case_resolution', 'case_recorder'].map((k) => el('th', { scope: 'col' }, t(k))));
  const body = el('tbody');
  for (const c of rows) {
    body.append(el('tr', null,
      el('td', null, String(c.ticket_id)),
      el('td', null, label('channel', c.channel)),
      el('td', null, el('time', { datetime: isoOrEmpty(c.received_at) }, tokyoTime(c.received_at))),
      el('td', null, c.category ? String(c.category) : t('none')),
      el('td', { class: 'case-text' }, c.inquiry_summary ? String(c.inquiry_summary) : t('none')),
      el('td', { class: 'case-text' }, c.answer_summary ? String(c.answer_summary) : t('none')),
      el('td', null, resolutionLabel(c.resolution)),
      el('td', null, String(c.updated_by || c.recorded_by || ''))));
  }
  const table = el('table', { class: 'queue cases', id: 'cases-list' },
    el('caption', { class: 'visually-hidden' }, t('cases_caption', { n: rows.length })), el('thead', null, head), body);
  const nodes = [table];
  if (more) {
    const btn = el('button', { type: 'button', class: 'btn', id: 'cases-more' }, t('more'));
    btn.addEventListener('click', () => load(true, generation).catch((e) => setStatus(errorText(e))));
    nodes.push(el('p', { class: 'more' }, btn));
  }
  wrap.replaceChildren(...nodes);
}
