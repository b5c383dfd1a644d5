// 分類の管理 (#/admin/categories, admins): the category tree (課 > 係,
// ticketd/category.h) as nested lists, each category with its switch
// (有効), 名前を変更, 下位を追加, 上へ and 下へ; 課を追加 at the top.
//
// A rename (PUT /api/admin/categories/ID {"name"}) rewrites the category
// of every ticket, case record and routing rule filed at or below the old
// path in the same transaction; the page says how many.  A move renumbers
// the positions of the siblings (1, 2, ...) in their new order, so equal
// old positions cannot block it.  After each change the tree is read
// again, so what is shown is what is stored; the focus goes back to the
// same control of the same category.  One small form at a time, opened
// under its category; the server's refusal (409 a sibling of that name)
// goes beside its field.

import * as api from './api.js';
import { t } from './i18n.js';
import { el } from './format.js';
import { announce, showError, errorText } from './ui.js';
import { box, title, focusTitle, refused, clearFieldErrors, fieldError } from './admin_form.js';

const NAME_CHARS = 60; // CATEGORY_NAME_CHARS

const state = { gen: 0, loaded: false, cats: [], form: null /* {kind: rename|child|top, id} */ };

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
  state.cats = [];
  state.form = null;
}

async function load(gen) {
  try {
    const data = await api.categories();
    if (gen !== state.gen) return false;
    state.cats = Array.isArray(data && data.categories) ? data.categories : [];
    state.loaded = true;
    return true;
  } catch (e) {
    if (gen === state.gen && e.status !== 401) refused('cat_title', e);
    return false;
  }
}

const byId = (id) => state.cats.find((c) => c.id === id);
const children = (parentId) => state.cats.filter((c) => (c.parent_id ?? null) === parentId);

// ---- the page ----

export function render() {
  if (!state.loaded) return;
  const keep = document.getElementById('cat-f-name');
  const kept = keep && state.form && keep.closest('form').dataset.for === formKey() ? keep.value : null;
  document.title = `${t('cat_title')} – 窓口`;
  const add = el('button', { type: 'button', class: 'btn btn-primary', id: 'cat-add-top' }, t('cat_add_top'));
  add.addEventListener('click', () => openForm({ kind: 'top', id: null }));
  const tops = children(null);
  box().replaceChildren(title('cat_title'), el('p', { class: 'adm-intro' }, t('cat_intro')), el('p', null, add),
    state.form && state.form.kind === 'top' ? form() : '',
    tops.length ? el('ul', { class: 'cat-tree', id: 'cat-tree', 'aria-label': t('cat_tree_label') }, ...tops.map(item))
      : el('p', { class: 'empty' }, t('cat_empty')));
  if (kept !== null) document.getElementById('cat-f-name').value = kept;
}

function item(c) {
  const name = String(c.name);
  const sibs = children(c.parent_id ?? null);
  const i = sibs.indexOf(c);
  const sw = el('input', { type: 'checkbox', id: `cat-${c.id}-enabled`, class: 'cat-enabled', checked: !!c.enabled });
  sw.addEventListener('change', () => change(c, { enabled: sw.checked }, 'cat-enabled',
    t('cat_switched', { name, state: t(sw.checked ? 'cat_on' : 'cat_off_word') })));
  const mk = (cls, key, fn, disabled) => {
    const b = el('button', { type: 'button', class: `btn btn-small ${cls}`, 'aria-label': t(`${key}_label`, { name }), disabled }, t(key));
    b.addEventListener('click', fn);
    return b;
  };
  const state1 = !c.enabled ? t('cat_off') : !c.usable ? t('cat_hidden') : '';
  const li = el('li', { 'data-id': String(c.id) },
    el('div', { class: `cat-row${c.enabled ? '' : ' cat-off'}` },
      el('span', { class: 'cat-name', id: `cat-${c.id}-name` }, name),
      state1 ? el('span', { class: 'cat-state' }, state1) : '',
      el('span', { class: 'cat-actions' },
        el('label', { for: sw.id, class: 'check' }, sw, ' ', t('cat_enabled'), el('span', { class: 'visually-hidden' }, `: ${name}`)),
        mk('cat-rename', 'cat_rename', () => openForm({ kind: 'rename', id: c.id })),
        mk('cat-add-child', 'cat_add_child', () => openForm({ kind: 'child', id: c.id })),
        mk('cat-up', 'cat_up', () => move(c, -1, 'cat-up'), i === 0),
        mk('cat-down', 'cat_down', () => move(c, 1, 'cat-down'), i === sibs.length - 1))));
  if (state.form && state.form.id === c.id) li.append(form());
  const kids = children(c.id);
  if (kids.length) li.append(el('ul', null, ...kids.map(item)));
  return li;
}

// ---- the one small form ----

const formKey = () => (state.form ? `${state.form.kind}-${state.form.id}` : '');

function openForm(f) {
  state.form = f;
  render();
  const input = document.getElementById('cat-f-name');
  input.focus();
  input.select();
}

function closeForm(focusCls) {
  const f = state.form;
  state.form = null;
  render();
  focusOn(f && f.id, focusCls || (f && f.kind === 'child' ? 'cat-add-child' : 'cat-rename'));
}

function focusOn(id, cls) {
  const li = id !== null && id !== undefined ? document.querySelector(`#cat-tree li[data-id="${Number(id)}"]`) : null;
  let target = li && li.querySelector(`:scope > .cat-row .${cls}:not([disabled])`);
  if (li && !target) target = li.querySelector(':scope > .cat-row .cat-rename');
  (target || document.getElementById('cat-add-top')).focus();
}

function form() {
  const f = state.form;
  const c = f.id !== null ? byId(f.id) : null;
  const name = c ? String(c.name) : '';
  const head = f.kind === 'rename' ? t('cat_rename_title', { name }) : f.kind === 'child'
    ? t('cat_new_child_title', { name }) : t('cat_new_top_title');
  const input = el('input', { type: 'text', id: 'cat-f-name', name: 'name', autocomplete: 'off', required: true,
    value: f.kind === 'rename' ? name : '', 'aria-describedby': 'cat-f-name-help' });
  const save = el('button', { type: 'submit', class: 'btn btn-primary', id: 'cat-save' }, t(f.kind === 'rename' ? 'cat_save' : 'cat_add_save'));
  const cancel = el('button', { type: 'button', class: 'btn', id: 'cat-cancel' }, t('adm_cancel'));
  cancel.addEventListener('click', () => closeForm());
  const node = el('form', { id: 'cat-form', class: 'cat-form', novalidate: true, 'aria-labelledby': 'cat-form-title', 'data-for': formKey() },
    el('h3', { id: 'cat-form-title' }, head),
    el('div', { class: 'field' }, el('label', { for: 'cat-f-name' }, t(f.kind === 'rename' ? 'cat_f_new_name' : 'cat_f_name')), input,
      el('p', { id: 'cat-f-name-help', class: 'help' }, t('cat_h_name'))),
    el('p', { class: 'form-buttons' }, save, ' ', cancel));
  node.addEventListener('submit', onSubmit);
  node.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      closeForm();
    }
  });
  return node;
}

// as category.c's cat_name_bad()
export function nameOk(name) {
  return name.length > 0 && Array.from(name).length <= NAME_CHARS && !name.includes(' > ')
    && !name.startsWith(' ') && !name.endsWith(' ') && !/[\u0000-\u001f\u007f]/.test(name);
}

async function onSubmit(ev) {
  ev.preventDefault();
  const formEl = ev.target;
  const input = formEl.elements.namedItem('name');
  clearFieldErrors(formEl);
  const name = input.value;
  if (!nameOk(name)) {
    fieldError(input, `${t('cat_f_name')}: ${t('cat_e_name')}`);
    return;
  }
  const f = state.form;
  const gen = state.gen;
  try {
    let focusId = f.id;
    if (f.kind === 'rename') {
      const r = await api.updateCategory(f.id, { name });
      announce(t('cat_renamed', { old: String(r.old_path), path: String(r.path), tickets: r.tickets, cases: r.cases, rules: r.rules }));
    } else {
      const sibs = children(f.kind === 'child' ? f.id : null);
      const position = sibs.reduce((m, s) => Math.max(m, Number(s.position) || 0), 0) + 1;
      const r = await api.createCategory({ name, parent_id: f.kind === 'child' ? f.id : null, position });
      announce(t('cat_added', { name }));
      focusId = r.id;
    }
    if (gen !== state.gen) return;
    state.form = null;
    if (await load(gen)) render();
    focusOn(focusId, f.kind === 'rename' ? 'cat-rename' : 'cat-add-child');
  } catch (e) {
    if (e.status === 401 || gen !== state.gen) return;
    const text = e.status === 409 ? t('cat_e_taken') : e.status === 400 ? t('cat_e_name')
      : e.status === 404 || e.status === 422 ? t('cat_e_gone') : errorText(e);
    fieldError(input, `${t('cat_f_name')}: ${text}`);
  }
}

// ---- the switch and the moves ----

async function change(c, body, cls, done) {
  const gen = state.gen;
  try {
    await api.updateCategory(c.id, body);
    announce(done);
  } catch (e) {
    if (e.status === 401) return;
    showError(errorText(e));
  }
  if (gen !== state.gen || !(await load(gen))) return;
  render();
  focusOn(c.id, cls);
}

async function move(c, step, cls) {
  const sibs = children(c.parent_id ?? null);
  const i = sibs.indexOf(c);
  const j = i + step;
  if (i < 0 || j < 0 || j >= sibs.length) return;
  [sibs[i], sibs[j]] = [sibs[j], sibs[i]];
  const gen = state.gen;
  try {
    for (let k = 0; k < sibs.length; k++) {
      if (Number(sibs[k].position) !== k + 1) await api.updateCategory(sibs[k].id, { position: k + 1 });
    }
    announce(t('cat_moved', { name: String(c.name) }));
  } catch (e) {
    if (e.status === 401) return;
    showError(errorText(e));
  }
  if (gen !== state.gen || !(await load(gen))) return;
  render();
  focusOn(c.id, cls);
}
