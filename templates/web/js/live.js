// Live updates: one EventSource on /api/events for the whole page.
//
// ticketd sends `event: ticket` with data {"id":N,"op":"created"|...}.  An
// event is only a hint that something changed; the views refetch what they
// show.  Events sent while we were disconnected are lost, so every (re)open
// is reported too and the queue refetches its list then: a dropped
// connection loses nothing.
//
// The browser reconnects an EventSource by itself after a network error
// (readyState CONNECTING).  When the server answers with an error status it
// gives up (readyState CLOSED): then we ask /api/me whether the session is
// still there, and either hand over to the log-in or reconnect ourselves
// with a growing delay.

import * as api from './api.js';

let source = null;
let handlers = null;
let retryTimer = 0;
let retryDelay = 1000;
const RETRY_MAX = 30000;

function connect() {
  const es = new EventSource('/api/events');
  source = es;
  es.addEventListener('open', () => {
    if (source !== es) return;
    retryDelay = 1000;
    handlers.onState(true);
    handlers.onOpen();
  });
  es.addEventListener('ticket', (ev) => {
    if (source !== es) return;
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    if (!data || !Number.isSafeInteger(data.id)) return;
    handlers.onTicket(data);
  });
  // who is typing on which ticket (workflow.js listens for mdg:presence)
  es.addEventListener('presence', (ev) => {
    if (source !== es) return;
    try {
      window.dispatchEvent(new CustomEvent('mdg:presence', { detail: JSON.parse(ev.data) }));
    } catch (e) {
      // a broken event is no event
    }
  });
  es.addEventListener('error', () => {
    if (source !== es) return;
    handlers.onState(false);
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
      handlers.onGone();
      return;
    }
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX);
    connect();
  }, retryDelay);
}

// h: {onTicket(data), onOpen(), onState(connected), onGone()}
export function start(h) {
  stop();
  handlers = h;
  retryDelay = 1000;
  connect();
}

export function stop() {
  clearTimeout(retryTimer);
  retryTimer = 0;
  if (source) source.close();
  source = null;
  handlers = null;
}
