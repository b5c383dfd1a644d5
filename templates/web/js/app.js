// The operators' page: start-up, the log-in, the router and the header.
//
// One page, three views, picked by the URL fragment:
//   #/            the queue (要対応リスト: tickets still needing work)
//   #/all         every ticket
//   #/tickets/N   one ticket
//   #/admin/rules the routing rules (admins; linked from the header)
//   #/admin/...   the admin pages of the 管理メニュー (admin_menu.js)
//   #/search?q=   the tickets whose mail holds the words (search.js)
//   #/sla         SLA状況, the supervisors' board (sla.js; viewers are told it is not theirs)
// Whatever the fragment, a browser without a session sees the log-in form
// first and lands on the fragment's view after logging in.

import * as api from './api.js';
import * as live from './live.js';
import * as queue from './queue.js';
import * as ticket from './ticket.js';
import * as rules from './admin_rules.js';
import * as cases from './cases.js';
import * as approvals from './approvals.js'; // 承認待ち, 送信失敗
import * as search from './search.js'; // 検索
import './password.js'; // パスワード変更: wires its header button by itself
import * as admin from './admin_menu.js'; // 管理メニュー: templates, approval, categories, access log
import * as sla from './sla.js'; // SLA状況
import * as slaalert from './slaalert.js'; // SLA警告 on every page
import * as callpop from './callpop.js'; // 電話着信: the screen pop of a call
import * as calls from './calls.js'; // 電話の状況: the phone figures
import { t, lang, setLang, applyStatic } from './i18n.js';
import { clearError, showError, errorText } from './ui.js';

const VIEWS = ['loading', 'login', 'queue', 'ticket', 'rules', 'cases', 'approvals', 'dead', 'search', 'admin', 'sla',
  'calls'];
let session = null;       // {user, csrf} while logged in
let lastTicket = null;    // to put the focus back on its row
let firstRoute = true;

function showView(name) {
  for (const v of VIEWS) document.getElementById(`view-${v}`).hidden = v !== name;
}

function parseRoute() {
  const h = window.location.hash;
  const m = /^#\/tickets\/([1-9][0-9]{0,17})$/.exec(h);
  if (m) return { view: 'ticket', id: Number(m[1]) };
  if (h === '#/admin/rules') return { view: 'rules' };
  if (h === '#/sla') return { view: 'sla' }; // sla.js
  if (h === '#/calls') return { view: 'calls' }; // calls.js
  const ap = admin.pageOf(h); // admin_menu.js
  if (ap && !(session && session.user && session.user.role === 'viewer')) return { view: 'admin', page: ap };
  const sq = search.queryOf(h); // #/search?q=... (search.js)
  if (sq !== null && !(session && session.user && session.user.role === 'viewer')) return { view: 'search', q: sq };
  // ward viewers read the case history, not the queue (correspondence)
  if (h === '#/cases' || (session && session.user && session.user.role === 'viewer')) return { view: 'cases' };
  if (h === '#/approvals') return { view: 'approvals' }; // approvals.js
  if (h === '#/outbound/dead') return { view: 'dead' };
  const qv = /^#\/view\/([a-z_]{1,20})$/.exec(h); // the queue's other views (queue.js)
  if (qv) return { view: 'queue', queue: qv[1] };
  if (h === '#/all') return { view: 'queue', queue: 'all' };
  return { view: 'queue', queue: 'open' };
}

function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function route() {
  if (!session) return;
  const r = parseRoute();
  const focus = !firstRoute;
  firstRoute = false;
  if (r.view !== 'sla') sla.clear(); // its timers stop with the page (sla.js)
  if (r.view === 'ticket') {
    showView('ticket');
    const back = document.getElementById('ticket-back');
    back.href = queue.viewHash(); // back to the view the ticket was opened from (queue.js)
    back.textContent = queue.backLabel();
    lastTicket = r.id;
    ticket.show(r.id);
    return;
  }
  ticket.clear();
  if (r.view === 'approvals' || r.view === 'dead') { // approvals.js
    showView(r.view);
    approvals.show(r.view, focus);
    return;
  }
  approvals.clear();
  if (r.view === 'admin') { // admin_menu.js
    showView('admin');
    admin.show(r.page, focus);
    return;
  }
  admin.clear();
  if (r.view === 'calls') { // calls.js
    showView('calls');
    calls.show(focus);
    return;
  }
  if (r.view === 'sla') { // sla.js
    showView('sla');
    sla.show(focus);
    return;
  }
  if (r.view === 'search') {
    showView('search');
    search.show(r.q).then(() => { if (focus) document.getElementById('search-title').focus(); });
    return;
  }
  if (r.view === 'rules') {
    showView('rules');
    rules.show();
    return;
  }
  if (r.view === 'cases') {
    showView('cases');
    cases.show().then(() => { if (focus) document.getElementById('cases-title')?.focus(); });
    return;
  }
  showView('queue');
  queue.show(r.queue);
  document.title = `${queue.title()} – 窓口`;
  if (focus && !(lastTicket !== null && queue.focusRow(lastTicket))) {
    document.getElementById('queue-title').focus();
  }
  lastTicket = null;
}

// ---- session ----

function startSession(data) {
  session = data;
  const name = document.getElementById('user-name');
  const u = (data && data.user) || {};
  name.textContent = u.display_name || u.login || '';
  name.hidden = false;
  document.getElementById('logout').hidden = false;
  document.getElementById('nav-rules').hidden = u.role !== 'admin';
  document.getElementById('nav-cases').hidden = false;
  approvals.start(u.role); // its nav links
  admin.start(u.role); // the admin menu's entries for the role
  sla.start(u.role); // its nav link
  slaalert.start(u.role); // SLA警告 notices on every page
  if (u.role !== 'viewer') callpop.start(u.role); // 電話着信 (calls are correspondence)
  calls.start(u.role); // its nav link
  search.showForm(u.role !== 'viewer'); // search reads correspondence
  document.body.dataset.role = u.role || ''; // which panels the ticket page offers (case.js, contact.js)
  document.body.dataset.login = u.login || ''; // whose tickets are "mine" (queue.js, workflow.js)
  // viewers have no queue (correspondence): the case list is their page
  const refreshQueue = u.role === 'viewer' ? () => {} : () => queue.refresh();
  live.start({
    onTicket: (ev) => {
      // a category renamed (category.h, id 0): whoever keeps the category paths drops them
      if (ev.op === 'category_renamed') window.dispatchEvent(new CustomEvent('mdg:categories-changed'));
      refreshQueue();
      if (ticket.currentId() === ev.id) ticket.changed(ev);
      approvals.changed(ev);
      sla.changed(ev);
      slaalert.changed(ev);
      callpop.changed(ev);
    },
    onOpen: () => { refreshQueue(); sla.changed(); },
    onState: setLiveState,
    onGone: () => endSession(t('session_expired')),
  });
  route();
}

function endSession(message) {
  live.stop();
  callpop.stop();
  calls.stop();
  session = null;
  queue.reset('open');
  ticket.clear();
  rules.clear();
  cases.clear();
  approvals.stop();
  admin.stop();
  sla.stop();
  slaalert.stop();
  search.showForm(false);
  delete document.body.dataset.role;
  delete document.body.dataset.login;
  document.getElementById('nav-cases').hidden = true;
  document.getElementById('nav-rules').hidden = true;
  document.getElementById('user-name').hidden = true;
  document.getElementById('logout').hidden = true;
  document.getElementById('live-state').hidden = true;
  clearError();
  showLogin(message);
}

function showLogin(message) {
  showView('login');
  document.title = `${t('login_title')} – 窓口`;
  const err = document.getElementById('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  document.getElementById('login-password').value = '';
  document.getElementById('login-id').focus();
}

function setLiveState(connected) {
  const s = document.getElementById('live-state');
  s.hidden = false;
  s.dataset.state = connected ? 'on' : 'off';
  s.textContent = t(connected ? 'live_on' : 'live_off');
}

async function onLoginSubmit(ev) {
  ev.preventDefault();
  const id = document.getElementById('login-id');
  const pw = document.getElementById('login-password');
  const err = document.getElementById('login-error');
  const btn = ev.target.querySelector('button[type="submit"]');
  if (!id.value || !pw.value) {
    err.textContent = t('login_missing');
    err.hidden = false;
    (id.value ? pw : id).focus();
    return;
  }
  btn.disabled = true;
  try {
    const data = await api.login(id.value, pw.value);
    err.hidden = true;
    pw.value = '';
    firstRoute = false;
    startSession(data);
    if (parseRoute().view === 'queue') document.getElementById('queue-title').focus();
  } catch (e) {
    if (e.status === 401 || e.status === 403) err.textContent = t('login_failed');
    else if (e.status === 423 || e.status === 429) err.textContent = t('login_locked');
    else err.textContent = errorText(e);
    err.hidden = false;
    pw.value = '';
    pw.focus();
  } finally {
    btn.disabled = false;
  }
}

async function onLogout() {
  try {
    await api.logout();
  } catch (e) {
    // the server may already have dropped the session; log out here anyway
  }
  window.location.hash = '#/';
  endSession('');
}

// ---- language ----

function applyLanguage() {
  applyStatic(document);
  const toggle = document.getElementById('lang-toggle');
  toggle.textContent = t('lang_other');
  toggle.lang = lang() === 'ja' ? 'en' : 'ja';
  const s = document.getElementById('live-state');
  if (!s.hidden) s.textContent = t(s.dataset.state === 'on' ? 'live_on' : 'live_off');
}

function onLangToggle() {
  setLang(lang() === 'ja' ? 'en' : 'ja');
  applyLanguage();
  if (!session) {
    document.title = `${t('login_title')} – 窓口`;
    return;
  }
  queue.render();
  if (parseRoute().view === 'ticket') ticket.render();
  else if (parseRoute().view === 'rules') rules.render();
  else if (parseRoute().view === 'cases') cases.render();
  else if (['approvals', 'dead'].includes(parseRoute().view)) approvals.render();
  else if (parseRoute().view === 'admin') admin.render();
  else if (parseRoute().view === 'sla') sla.render();
  else if (parseRoute().view === 'calls') calls.render();
  else if (parseRoute().view === 'search') search.show(parseRoute().q);
  else document.title = `${queue.title()} – 窓口`;
}

// ---- start ----

async function boot() {
  applyLanguage();
  api.onUnauthorized(() => {
    if (session) endSession(t('session_expired'));
  });
  queue.init(go);
  search.init(go);
  document.getElementById('login-form').addEventListener('submit', onLoginSubmit);
  document.getElementById('logout').addEventListener('click', onLogout);
  document.getElementById('lang-toggle').addEventListener('click', onLangToggle);
  window.addEventListener('hashchange', route);
  let data = null;
  try {
    data = await api.me();
  } catch (e) {
    showView('login');
    showError(errorText(e));
    return;
  }
  if (data) startSession(data);
  else showLogin('');
}

boot();
