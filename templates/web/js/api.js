// The JSON API client.  The session is a cookie the browser sends by itself
// (same origin); the CSRF token comes from /api/login or /api/me and goes
// with every POST as X-CSRF-Token.  A 401 from any call means the session is
// gone: the app is told once through onUnauthorized and shows the log-in.

export class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let csrf = '';
let unauthorizedHandler = null;

export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export function setCsrf(token) {
  csrf = typeof token === 'string' ? token : '';
}

// body: an object sent as JSON, or a File/Blob sent as it is (with the
// headers in extra)
async function call(method, path, body, quiet401, extra) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = csrf;
    if (body instanceof Blob) {
      Object.assign(headers, extra);
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, null);
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !quiet401 && unauthorizedHandler) unauthorizedHandler();
    throw new ApiError(res.status, data);
  }
  return data;
}

// GET /api/me: {user, csrf}, or null when not logged in.
export async function me() {
  try {
    const data = await call('GET', '/api/me', undefined, true);
    setCsrf(data && data.csrf);
    return data;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function login(loginId, password) {
  const data = await call('POST', '/api/login', { login: loginId, password }, true);
  setCsrf(data && data.csrf);
  return data;
}

export async function logout() {
  try {
    await call('POST', '/api/logout', undefined, true);
  } finally {
    setCsrf('');
  }
}

export function tickets(view, limit, beforeId) {
  const q = new URLSearchParams({ status: view, limit: String(limit) });
  if (beforeId) q.set('before_id', String(beforeId));
  return call('GET', `/api/tickets?${q}`);
}

export function ticket(id) {
  return call('GET', `/api/tickets/${encodeURIComponent(id)}`);
}

// routing rules (admins only)
export function rules() {
  return call('GET', '/api/admin/rules');
}

export function createRule(rule) {
  return call('POST', '/api/admin/rules', rule);
}

export function updateRule(id, fields) {
  return call('PUT', `/api/admin/rules/${encodeURIComponent(id)}`, fields);
}

export function deleteRule(id) {
  return call('DELETE', `/api/admin/rules/${encodeURIComponent(id)}`);
}

export function orderRules(ids) {
  return call('POST', '/api/admin/rules/order', { ids });
}

// case history and contact store (case.js, cases.js, contact.js)
export function caseGet(id) {
  return call('GET', `/api/tickets/${encodeURIComponent(id)}/case`);
}

export function casePut(id, fields) {
  return call('PUT', `/api/tickets/${encodeURIComponent(id)}/case`, fields);
}

export function caseList(params) {
  return call('GET', `/api/cases?${new URLSearchParams(params)}`);
}

export function caseResolutions() {
  return call('GET', '/api/resolutions');
}

export function contactGet(id, reason) {
  return call('GET', `/api/tickets/${encodeURIComponent(id)}/contact?${new URLSearchParams({ reason })}`);
}

export function contactPut(id, fields) {
  return call('PUT', `/api/tickets/${encodeURIComponent(id)}/contact`, fields);
}

export function contactSearch(q, reason) {
  return call('GET', `/api/contacts/search?${new URLSearchParams({ q, reason })}`);
}
// end case history and contact store

// replies (composer.js; ticketd/reply.h)
export function templates() {
  return call('GET', '/api/templates');
}

export function renderReply(ticketId, body) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/reply/render`, body);
}

export function previewReply(ticketId, draft) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/reply/preview`, draft);
}

export function sendReply(ticketId, draft) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/reply`, draft);
}

export function cancelOutbound(outboundId) {
  return call('POST', `/api/outbound/${encodeURIComponent(outboundId)}/cancel`);
}
// end replies

// approval before sending and dead mail (approvals.js, composer.js; ticketd/approval.h)
export function approvals() {
  return call('GET', '/api/approvals');
}

export function outbound(outboundId) {
  return call('GET', `/api/outbound/${encodeURIComponent(outboundId)}`);
}

export function approveOutbound(outboundId, body) {
  return call('POST', `/api/outbound/${encodeURIComponent(outboundId)}/approve`, body || {});
}

export function editApproveOutbound(outboundId, body) {
  return call('POST', `/api/outbound/${encodeURIComponent(outboundId)}/edit-approve`, body);
}

export function returnOutbound(outboundId, body) {
  return call('POST', `/api/outbound/${encodeURIComponent(outboundId)}/return`, body);
}

export function deadMail() {
  return call('GET', '/api/outbound?state=dead');
}

export function requeueOutbound(outboundId) {
  return call('POST', `/api/outbound/${encodeURIComponent(outboundId)}/requeue`);
}
// end approval

// department escalation (escalation.js, admin_departments.js; ticketd/escalate.h, department.h)
export function departments() {
  return call('GET', '/api/departments');
}

export function escalations(ticketId) {
  return call('GET', `/api/tickets/${encodeURIComponent(ticketId)}/escalations`);
}

export function escalateRender(ticketId, body) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/escalate/render`, body);
}

export function escalate(ticketId, body) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/escalate`, body);
}

export function closeEscalation(id, outcome) {
  return call('POST', `/api/escalations/${encodeURIComponent(id)}/close`, { outcome });
}

export function createDepartment(fields) {
  return call('POST', '/api/admin/departments', fields);
}

export function updateDepartment(id, fields) {
  return call('PUT', `/api/admin/departments/${encodeURIComponent(id)}`, fields);
}

// the CSV goes as it is (text/csv), not as JSON: call() sends JSON only
export async function importDepartments(csvText) {
  let res;
  try {
    res = await fetch('/api/admin/departments/import', { method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json', 'Content-Type': 'text/csv; charset=utf-8', 'X-CSRF-Token': csrf }, body: csvText });
  } catch (e) {
    throw new ApiError(0, null);
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && unauthorizedHandler) unauthorizedHandler();
    throw new ApiError(res.status, data);
  }
  return data;
}
// end department escalation

// working the queue (queue.js, workflow.js; ticketd/workflow.h)
// params: {view, limit, after, channel, queue, category, tag, from, to}; empty values are left out
export function queueList(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  return call('GET', `/api/tickets?${q}`);
}

export function workflow(id) {
  return call('GET', `/api/tickets/${encodeURIComponent(id)}/workflow`);
}

// action: claim, release, assign, status, notes, presence
export function workflowAction(id, action, body) {
  return call('POST', `/api/tickets/${encodeURIComponent(id)}/${action}`, body || {});
}

export function users() {
  return call('GET', '/api/users');
}

export function resolutions() {
  return call('GET', '/api/resolutions');
}
// end working the queue

// GET /api/search: {tickets: [{ticket_id, subject, status, queue, updated_at,
// found_in, source_id, snippet}], more, limit} (search.js)
export function search(q, limit = 50) {
  return call('GET', `/api/search?${new URLSearchParams({ q, limit: String(limit) })}`);
}

// POST /api/me/password: 204; 403 wrong current, 422 too weak (password.js)
export function changePassword(current, next) {
  return call('POST', '/api/me/password', { current, new: next });
}

// the admin pages (admin_*.js): templates, queue approval, categories, the contact access log
export function adminTemplates() {
  return call('GET', '/api/templates');
}

export function adminTemplate(name) {
  return call('GET', `/api/templates/${encodeURIComponent(name)}`);
}

export function saveTemplate(name, body) {
  return call('PUT', `/api/admin/templates/${encodeURIComponent(name)}`, body);
}

export function adminQueues() {
  return call('GET', '/api/admin/queues');
}

export function setQueueApproval(queue, on) {
  return call('PUT', `/api/admin/queues/${encodeURIComponent(queue)}/settings`, { approval_required: !!on });
}

export function categories() {
  return call('GET', '/api/categories');
}

export function createCategory(body) {
  return call('POST', '/api/admin/categories', body);
}

export function updateCategory(id, body) {
  return call('PUT', `/api/admin/categories/${encodeURIComponent(id)}`, body);
}

// params: {before, contact, ticket, limit}; empty values are left out
export function contactAccess(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  return call('GET', `/api/admin/contact-access?${q}`);
}
// end admin pages
// files uploaded in the reply composer (composer.js): the file itself as
// the body, its name percent-encoded in X-Filename
export function uploadFile(ticketId, file) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/uploads`, file, false, {
    'Content-Type': file.type || 'application/octet-stream',
    'X-Filename': encodeURIComponent(file.name),
  });
}

export function deleteUpload(ticketId, uploadId) {
  return call('DELETE', `/api/tickets/${encodeURIComponent(ticketId)}/uploads/${encodeURIComponent(uploadId)}`);
}

// the SLA board (sla.js; ticketd/sla.h)
export function slaBoard() {
  return call('GET', '/api/sla');
}

// from, to: YYYY-MM-DD (Tokyo days of receipt)
export function slaStats(from, to) {
  return call('GET', `/api/sla/stats?${new URLSearchParams({ from, to })}`);
}

export function slaCrisisOn(reason) {
  return call('POST', '/api/sla/crisis', { reason });
}

export function slaCrisisOff() {
  return call('POST', '/api/sla/crisis/end');
}
// end SLA

// business calendars and SLA policies (admin_calendar.js, admin_sla.js; ticketd/admin_calendar.h)
export function adminCalendars() {
  return call('GET', '/api/admin/calendars');
}

// a department's calendar: id null creates it
export function saveCalendar(id, name) {
  return id == null ? call('POST', '/api/admin/calendars', { name })
    : call('PUT', `/api/admin/calendars/${encodeURIComponent(id)}`, { name });
}

export function deleteCalendar(id) {
  return call('DELETE', `/api/admin/calendars/${encodeURIComponent(id)}`);
}

export function setCalendarDepartments(calendarId, ids) {
  return call('PUT', `/api/admin/calendars/${encodeURIComponent(calendarId)}/departments`, { department_ids: ids });
}

export function setCalendarHours(calendarId, hours) {
  return call('PUT', `/api/admin/calendars/${encodeURIComponent(calendarId)}/hours`, { hours });
}

export function setCalendarOpenings(calendarId, openings) {
  return call('PUT', `/api/admin/calendars/${encodeURIComponent(calendarId)}/openings`, { openings });
}

// kind: 'annual-closures' or 'closures'; id null creates
export function saveClosure(kind, id, fields) {
  return id == null ? call('POST', `/api/admin/${kind}`, fields)
    : call('PUT', `/api/admin/${kind}/${encodeURIComponent(id)}`, fields);
}

export function deleteClosure(kind, id) {
  return call('DELETE', `/api/admin/${kind}/${encodeURIComponent(id)}`);
}

export function adminHolidays(year) {
  return call('GET', `/api/admin/holidays?year=${encodeURIComponent(year)}`);
}

export function addHoliday(day, name) {
  return call('POST', '/api/admin/holidays', { day, name });
}

export function removeHoliday(day) {
  return call('DELETE', `/api/admin/holidays/${encodeURIComponent(day)}`);
}

// the Cabinet Office CSV as its bytes (CP932 or UTF-8)
export function importHolidays(file) {
  return call('POST', '/api/admin/holidays/import', file, false, { 'Content-Type': 'text/csv' });
}

export function slaPolicies() {
  return call('GET', '/api/admin/sla-policies');
}

export function saveSlaPolicy(id, fields) {
  return id == null ? call('POST', '/api/admin/sla-policies', fields)
    : call('PUT', `/api/admin/sla-policies/${encodeURIComponent(id)}`, fields);
}

export function deleteSlaPolicy(id) {
  return call('DELETE', `/api/admin/sla-policies/${encodeURIComponent(id)}`);
}

// body: {received: 'YYYY-MM-DD HH:MM', id} or {received, policy: {...}}
export function slaPreview(body) {
  return call('POST', '/api/admin/sla-policies/preview', body);
}
// end calendars

// the OCR of a fax message (ticketd/faxocr.h)
export function faxOcr(messageId) {
  return call('GET', `/api/messages/${encodeURIComponent(messageId)}/ocr`);
}

export function faxOcrReread(messageId, page) {
  return call('POST', `/api/messages/${encodeURIComponent(messageId)}/ocr/${encodeURIComponent(page)}/reread`);
}

export function faxCandidateAccept(id) {
  return call('POST', `/api/fax-candidates/${encodeURIComponent(id)}/accept`);
}

// replies by fax (faxreply.js; ticketd/faxreply.h)
export function faxPreview(ticketId, draft) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/fax-reply/preview`, draft);
}

export function faxSend(ticketId, draft) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/fax-reply`, draft);
}

export function faxList(ticketId) {
  return call('GET', `/api/tickets/${encodeURIComponent(ticketId)}/faxes`);
}

export function faxCancel(ticketId, faxId) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/faxes/${encodeURIComponent(faxId)}/cancel`);
}

export function faxApprove(ticketId, faxId) {
  return call('POST', `/api/tickets/${encodeURIComponent(ticketId)}/faxes/${encodeURIComponent(faxId)}/approve`);
}

// the ticket's contact, read (and audited) for a fax's number
export function faxContact(ticketId) {
  const q = new URLSearchParams({ reason: 'FAXで返信' });
  return call('GET', `/api/tickets/${encodeURIComponent(ticketId)}/contact?${q}`);
}

// calls (ticketd/cti_api.c): the phone state, a call for the screen pop,
// putting a call on another ticket
export function ctiMe() {
  return call('GET', '/api/cti/me');
}

export function ctiCall(id) {
  return call('GET', `/api/cti/calls/${Number(id)}`);
}

export function ctiPick(callId, ticketId) {
  return call('POST', `/api/cti/calls/${Number(callId)}/ticket`, { ticket_id: Number(ticketId) });
}

// the operator <-> extension mapping (admins)
export function ctiExtensions() {
  return call('GET', '/api/admin/cti/extensions');
}

export function ctiExtensionPut(body) {
  return call('PUT', '/api/admin/cti/extensions', body);
}

export function ctiExtensionDelete(id) {
  return call('DELETE', `/api/admin/cti/extensions/${Number(id)}`);
}

// 折り返し: the callbacks of a ticket (callback.js)
export function callbacks(ticketId) {
  return call('GET', `/api/tickets/${Number(ticketId)}/callbacks`);
}

export function callbackAdd(ticketId, body) {
  return call('POST', `/api/tickets/${Number(ticketId)}/callbacks`, body);
}

export function callbackDone(id, outcome) {
  return call('POST', `/api/callbacks/${Number(id)}`, { outcome });
}

// 電話の状況: the phone figures of a period (today when from and to are null)
export function ctiStats(from, to) {
  const q = from && to ? `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}` : '';
  return call('GET', `/api/cti/stats${q}`);
}
