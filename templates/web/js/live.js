// Live updates: one event stream on /api/events for the whole browser.
//
// ticketd sends `event: ticket` with data {"id":N,"op":"created"|...}.  An
// event is only a hint that something changed; the views refetch what they
// show.  Events sent while we were disconnected are lost, so every (re)open
// is reported too and the queue refetches its list then: a dropped
// connection loses nothing.
//
// One stream per browser, not per tab: a browser opens at most six HTTP/1.1
// connections to one host, and a tab holding an EventSource keeps one of
// them for good, so the seventh tab of the app used to hang.  The tabs elect
// one leader with the Web Locks API (the lock is let go when its tab closes
// or crashes, and the next tab waiting takes it over); the leader alone
// holds the EventSource and passes every event to the others over a
// BroadcastChannel.  Without those two APIs each tab has its own stream.
//
// The browser reconnects an EventSource by itself after a network error
// (readyState CONNECTING).  When the server answers with an error status it
// gives up (readyState CLOSED): then we ask /api/me whether the session is
// still there, and either hand over to the log-in or reconnect ourselves
// with a growing delay.

import * as api from './api.js';

const LOCK = 'mdg-events';
const shared = typeof BroadcastChannel === 'function' && !!(navigator.locks && navigator.locks.request);

let source = null;
let handlers = null;
let retryTimer = 0;
let retryDelay = 1000;
const RETRY_MAX = 30000;

let channel = null; // BroadcastChannel to the other tabs
let leading = false; // this tab holds the lock and the EventSource
let releaseLock = null; // resolves the promise that keeps the lock
let connected = false; // the leader's stream is open
let generation = 0; // a lock granted after stop() or a later start() is let go at once
const tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);

// every message is {type, data?, to?}; `to` names one tab, else all
function tell(type, data, to) {
  if (channel) channel.postMessage({ type, data, to });
}

function deliver(type, data) {
  if (!handlers) return;
  if (type === 'ticket') {
    if (data && Number.isSafeInteger(data.id)) handlers.onTicket(data);
  } else if (type === 'presence') {
    window.dispatchEvent(new CustomEvent('mdg:presence', { detail: data }));
  } else if (type === 'call') {
    // the screen pop of a call this user answered (callpop.js)
    window.dispatchEvent(new CustomEvent('mdg:call', { detail: data }));
  } else if (type === 'open') {
    handlers.onState(true);
    handlers.onOpen();
  } else if (type === 'down') {
    handlers.onState(false);
  } else if (type === 'gone') {
    handlers.onGone();
  }
}

// the leader: what happens here happens in every tab
function emit(type, data) {
  deliver(type, data);
  tell(type, data);
}

function connect() {
  const es = new EventSource('/api/events');
  source = es;
  es.addEventListener('open', () => {
    if (source !== es) return;
    retryDelay = 1000;
    connected = true;
    emit('open');
  });
  es.addEventListener('ticket', (ev) => {
    if (source !== es) return;
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    emit('ticket', data);
  });
  // who is typing on which ticket (workflow.js listens for mdg:presence)
  es.addEventListener('presence', (ev) => {
    if (source !== es) return;
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch (e) {
      return; // a broken event is no event
    }
    emit('presence', data);
  });
  // a call answered on this user's extension (ticketd sends it to this user only)
  es.addEventListener('call', (ev) => {
    if (source !== es) return;
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    emit('call', data);
  });
  es.addEventListener('error', () => {
    if (source !== es) return;
    connected = false;
    emit('down');
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      source = null;
      scheduleRetry();
    }
  });
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(async () => {
    retryTimer = 0;
    if (!handlers) return;
    let who = null;
    try {
      who = await api.me();
    } catch (e) {
      // server unreachable or erring: try again later
      retryDelay = Math.min(retryDelay * 2, RETRY_MAX);
      scheduleRetry();
      return;
    }
    if (!handlers) return;
    if (!who) {
      emit('gone');
      return;
    }
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX);
    connect();
  }, retryDelay);
}

function onMessage(ev) {
  const m = ev.data || {};
  if (m.to && m.to !== tabId) return;
  if (m.type === 'hello') {
    // a tab that just started wants to know whether the stream is open
    if (leading && connected) tell('open', undefined, m.from);
    return;
  }
  if (!leading) deliver(m.type, m.data);
}

function lead() {
  const mine = generation;
  // the callback's promise keeps the lock until stop() resolves it
  navigator.locks.request(LOCK, () => {
    if (!handlers || mine !== generation) return undefined;
    leading = true;
    connect();
    return new Promise((resolve) => {
      releaseLock = resolve;
    });
  }).catch(() => {
    // no lock to be had (a sandboxed frame): this tab streams alone
    if (handlers && mine === generation && !leading) {
      leading = true;
      connect();
    }
  });
}

// h: {onTicket(data), onOpen(), onState(connected), onGone()}
export function start(h) {
  stop();
  handlers = h;
  retryDelay = 1000;
  if (!shared) {
    connect();
    return;
  }
  channel = new BroadcastChannel(LOCK);
  channel.onmessage = onMessage;
  channel.postMessage({ type: 'hello', from: tabId });
  lead();
}

export function stop() {
  generation++;
  clearTimeout(retryTimer);
  retryTimer = 0;
  if (source) source.close();
  source = null;
  handlers = null;
  connected = false;
  if (leading) tell('down'); // the next leader's 'open' brings the others back
  leading = false;
  if (releaseLock) releaseLock();
  releaseLock = null;
  if (channel) channel.close();
  channel = null;
}
