// The admin pages and their header menu (管理メニュー):
//   #/admin/templates       定型文 (admin_templates.js), admins
//   #/admin/queues          承認設定（キュー別）(admin_queues.js), admins
//   #/admin/categories      分類の管理 (admin_categories.js), admins
//   #/admin/contact-access  連絡先閲覧記録 (admin_access.js), supervisors and admins
//   #/admin/departments     所管課の管理 (admin_departments.js), admins
//   #/admin/calendars       営業日カレンダー (admin_calendar.js), admins edit, supervisors read
//   #/admin/sla-policies    SLAポリシー (admin_sla.js), admins edit, supervisors read
//   #/admin/extensions      内線の割り当て (admin_extensions.js), admins
// The menu is a disclosure: a button (aria-expanded) opening a list of
// links; Escape closes it and gives the focus back to the button, as does
// following a link.  It offers only the pages the role may use; a page
// reached by URL without the role says so (the API answers 403).
// All the pages draw into #admin-content of the one section #view-admin.

import * as templates from './admin_templates.js';
import * as queues from './admin_queues.js';
import * as categories from './admin_categories.js';
import * as access from './admin_access.js';
import * as departments from './admin_departments.js'; // issue 6
import * as calendars from './admin_calendar.js'; // issue 6: business calendars
import * as slaPolicies from './admin_sla.js'; // issue 6: SLA policies
import * as extensions from './admin_extensions.js'; // issue 9
import { refused } from './admin_form.js';

// roles: who may use the page (the API decides; operators may read the
// templates for replying, but this page is for changing them)
const PAGES = {
  templates: { hash: '#/admin/templates', mod: templates, roles: ['admin'], title: 'tpl_title' },
  queues: { hash: '#/admin/queues', mod: queues, roles: ['admin'], title: 'q_title' },
  categories: { hash: '#/admin/categories', mod: categories, roles: ['admin'], title: 'cat_title' },
  access: { hash: '#/admin/contact-access', mod: access, roles: ['admin', 'supervisor'], title: 'acc_title' },
  departments: { hash: '#/admin/departments', mod: departments, roles: ['admin'], title: 'dep_title' },
  calendars: { hash: '#/admin/calendars', mod: calendars, roles: ['admin', 'supervisor'], title: 'cal_title' },
  slaPolicies: { hash: '#/admin/sla-policies', mod: slaPolicies, roles: ['admin', 'supervisor'], title: 'slp_title' },
  extensions: { hash: '#/admin/extensions', mod: extensions, roles: ['admin'], title: 'ext_title' },
};
let current = null; // the page shown, or null
let role = '';

// The page named by a URL fragment, or null.
export function pageOf(hash) {
  for (const [name, p] of Object.entries(PAGES)) if (hash === p.hash) return name;
  return null;
}

// After log-in: the menu with the entries of the role, or none.
export function start(userRole) {
  role = userRole || '';
  const menu = document.getElementById('admin-menu');
  let any = false;
  for (const li of menu.querySelectorAll('li[data-roles]')) {
    li.hidden = !li.dataset.roles.split(' ').includes(role);
    any = any || !li.hidden;
  }
  menu.hidden = !any;
  setOpen(false);
}

export function stop() {
  start('');
  clear();
}

// Show a page; focus its heading when asked (a route change).
export async function show(name, focus) {
  if (current !== name) clear();
  current = name;
  for (const [n, p] of Object.entries(PAGES)) {
    const a = document.querySelector(`#admin-menu-list a[href="${p.hash}"]`);
    if (n === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!PAGES[name].roles.includes(role)) {
    refused(PAGES[name].title, { status: 403 });
    return;
  }
  await PAGES[name].mod.show(focus, role); // the role: pages that supervisors only read
}

// Leaving the admin pages (or switching between them).
export function clear() {
  if (current) PAGES[current].mod.clear();
  current = null;
  for (const a of document.querySelectorAll('#admin-menu-list a')) a.removeAttribute('aria-current');
  const box = document.getElementById('admin-content');
  if (box) box.replaceChildren();
}

// The language changed.
export function render() {
  if (current && !PAGES[current].roles.includes(role)) refused(PAGES[current].title, { status: 403 });
  else if (current) PAGES[current].mod.render();
}

function setOpen(open) {
  const button = document.getElementById('admin-menu-button');
  button.setAttribute('aria-expanded', open ? 'true' : 'false');
  document.getElementById('admin-menu-list').hidden = !open;
}

function init() {
  const menu = document.getElementById('admin-menu');
  const button = document.getElementById('admin-menu-button');
  if (!menu || !button) return;
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    setOpen(open);
    if (open) menu.querySelector('li:not([hidden]) a').focus();
  });
  menu.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || button.getAttribute('aria-expanded') !== 'true') return;
    ev.preventDefault();
    setOpen(false);
    button.focus();
  });
  menu.addEventListener('click', (ev) => {
    if (ev.target.closest('a')) setOpen(false);
  });
  // a click or the focus going elsewhere closes it
  document.addEventListener('click', (ev) => {
    if (!menu.contains(ev.target)) setOpen(false);
  });
  menu.addEventListener('focusout', (ev) => {
    if (ev.relatedTarget && !menu.contains(ev.relatedTarget)) setOpen(false);
  });
}

init();
