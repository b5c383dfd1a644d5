// 内線の割り当て (#/admin/extensions, admins): which operator answers on which
// extension of which PBX (call_extension, sql/027; ticketd/cti_api.c).  The
// screen pop goes to the operator of the extension that answered, and the
// AMI client pauses that operator's queue member (the キューメンバー column,
// e.g. PJSIP/101) for after-call work.  A form adds or changes a mapping
// (PUT /api/admin/cti/extensions: PBX and extension are the key); each row
// has a delete button.  After each change the list is read again.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, tokyoTime } from './format.js';
import { announce, showError, errorText } from './ui.js';
import { box, title, focusTitle, refused, clearFieldErrors, fieldError } from './admin_form.js';

const state = { gen: 0, loaded: false, rows: [], users: [] };

export async function show(focus) {
  const gen = ++state.gen;
  if (!state.loaded) box().replaceChildren(el('p', null, t('loading')));
  if (!(await load(gen))) return;
  render();
  if (focus) focusTitle();
}

export function clear() {
  state.gen += 1;
  state.loaded = false;
  state.rows = [];
}

async function load(gen) {
  try {
    const [rows, users] = await Promise.all([api.ctiExtensions(), api.users()]);
    if (gen !== state.gen) return false;
    state.rows = Array.isArray(rows && rows.extensions) ? rows.extensions : [];
    state.users = ((users && users.users) || []).filter((u) => u.role === 'operator' || u.role === 'supervisor');
    state.loaded = true;
    return true;
  } catch (e) {
    if (gen === state.gen && e.status !== 401) refused('ext_title', e);
    return false;
  }
}

export function render() {
  if (!state.loaded) return;
  document.title = `${t('ext_title')} – 窓口`;
  box().replaceChildren(title('ext_title'), el('p', { class: 'adm-intro' }, t('ext_intro')),
    state.rows.length ? table() : el('p', { class: 'empty' }, t('ext_empty')), form());
}

function table() {
  const head = el('tr', null, ...['ext_col_pbx', 'ext_col_ext', 'ext_col_user', 'ext_col_iface', 'ext_col_updated', 'ext_col_action']
    .map((k) => el('th', { scope: 'col' }, t(k))));
  const body = el('tbody', { id: 'ext-body' });
  for (const r of state.rows) body.append(row(r));
  return el('div', { class: 'table-wrap' }, el('table', { class: 'adm-table', id: 'ext-table' },
    el('caption', { class: 'visually-hidden' }, t('ext_caption', { n: state.rows.length })),
    el('thead', null, head), body));
}

function row(r) {
  const del = el('button', { type: 'button', class: 'btn', 'aria-label': t('ext_delete_label', { ext: r.extension, pbx: r.pbx }) },
    t('ext_delete'));
  del.addEventListener('click', () => remove(r, del));
  return el('tr', { 'data-id': r.id },
    el('td', null, r.pbx), el('th', { scope: 'row' }, r.extension),
    el('td', null, `${r.display_name || r.login} (${r.login})`), el('td', null, r.interface || '—'),
    el('td', { class: 'adm-meta' }, t('ext_updated', { at: tokyoTime(r.updated_at), by: String(r.updated_by || '') })),
    el('td', null, del));
}

function field(id, key, input) {
  return el('p', null, el('label', { for: id }, t(key)), ' ', input);
}

function form() {
  const pbx = el('input', { id: 'ext-pbx', type: 'text', maxlength: 64, autocomplete: 'off', required: true });
  const ext = el('input', { id: 'ext-ext', type: 'text', maxlength: 32, autocomplete: 'off', required: true, inputmode: 'numeric' });
  const user = el('select', { id: 'ext-user', required: true },
    el('option', { value: '' }, t('ext_pick_user')),
    ...state.users.map((u) => el('option', { value: u.id }, `${u.display_name || u.login} (${u.login})`)));
  const iface = el('input', { id: 'ext-iface', type: 'text', maxlength: 128, autocomplete: 'off', placeholder: 'PJSIP/101' });
  if (state.rows.length) pbx.value = state.rows[0].pbx;
  const f = el('form', { id: 'ext-form', 'aria-labelledby': 'ext-form-title', novalidate: true },
    el('h2', { id: 'ext-form-title' }, t('ext_add_title')),
    field('ext-pbx', 'ext_col_pbx', pbx), field('ext-ext', 'ext_col_ext', ext),
    field('ext-user', 'ext_col_user', user), field('ext-iface', 'ext_col_iface', iface),
    el('p', null, el('button', { type: 'submit', class: 'btn btn-primary' }, t('ext_save'))));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save(f, pbx, ext, user, iface);
  });
  return f;
}

async function save(f, pbx, ext, user, iface) {
  clearFieldErrors(f);
  if (!pbx.value.trim()) return fieldError(pbx, t('ext_need_pbx'));
  if (!/^[0-9A-Za-z*#+_.-]{1,32}$/.test(ext.value.trim())) return fieldError(ext, t('ext_need_ext'));
  if (!user.value) return fieldError(user, t('ext_need_user'));
  const body = { pbx: pbx.value.trim(), extension: ext.value.trim(), user_id: Number(user.value),
    interface: iface.value.trim() };
  try {
    await api.ctiExtensionPut(body);
  } catch (e) {
    if (e.status === 400) return fieldError(pbx, errorText(e));
    if (e.status !== 401) showError(errorText(e));
    return undefined;
  }
  announce(t('ext_saved', { ext: body.extension }));
  if (!(await load(state.gen))) return undefined;
  render();
  document.getElementById('ext-ext').focus();
  return undefined;
}

async function remove(r, button) {
  button.disabled = true;
  try {
    await api.ctiExtensionDelete(r.id);
  } catch (e) {
    button.disabled = false;
    if (e.status !== 401) showError(errorText(e));
    return;
  }
  announce(t('ext_deleted', { ext: r.extension }));
  if (!(await load(state.gen))) return;
  render();
  focusTitle();
}
