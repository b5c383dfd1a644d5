// The reply composer on the ticket page, and the delivery state of the
// replies on its timeline.
//
// What the operator writes goes out only after they have looked at it:
//   1. 返信を作成 opens the form with what ticketd proposes (render): the
//      citizen's Reply-To or From, "Re: [受付番号:N] <subject>", no body;
//      a template (定型文) fills subject and body for this ticket.
//   2. Recipients (To, Cc, Bcc) are edited as text; each address gets a tick
//      box, and so does each attachment chosen from the ticket's own files
//      and each file uploaded here (a file input, or dropped on its box:
//      sent as it is to /api/tickets/ID/uploads, removable until sent).
//   3. プレビュー shows what the citizen will receive, read back by ticketd
//      from the very bytes it built (headers decoded, body, attachments,
//      charset, addresses moved to Bcc), and warns when another reply was
//      queued meanwhile.
//   4. 送信 stays disabled until every address and attachment is ticked and
//      the preview shows the draft as it is now; then the reply waits for the
//      send delay with a countdown and a 送信を取り消す button.
//
// The draft lives in this module (per ticket), so a re-render of the page
// (language switch, live update) keeps it.  Text from mail and from the
// server only ever goes into the page as textContent.

import * as api from './api.js';
import { t } from './i18n.js';
import { el, fileSize, tokyoTime, isoOrEmpty } from './format.js';
import { announce, errorText } from './ui.js';

let st = fresh(null);

// r (keys.js, via ticket.js's 'mdg:reply'): open the composer of the ticket
// on screen, or go to its text when it is open already
document.addEventListener('mdg:reply', (ev) => {
  if (!ev.detail || ev.detail.id !== st.ticketId) return;
  if (!st.open) {
    if (!document.getElementById('composer-open')) return;
    ev.preventDefault();
    openComposer({ id: st.ticketId });
    return;
  }
  const f = document.getElementById('composer-body');
  if (!f) return;
  ev.preventDefault();
  f.focus();
});

function fresh(ticketId) {
  return {
    ticketId,
    open: false,
    loaded: false,
    templates: [],
    template: '',
    appliedTemplate: null,    // the template the text came from: it may require approval
    to: '', cc: '', bcc: '',
    subject: '', body: '',
    replyingTo: null,
    attachments: [],          // the ticket's files [{message_id, idx, filename, size}]
    chosen: new Set(),        // "mid:idx" of those to attach
    uploads: [],              // files uploaded for this reply [{upload_id, filename, size}]: all attached
    uploading: 0,             // uploads on their way
    limits: {},               // {upload_max_bytes, attachments_max_bytes} from render
    ticks: new Set(),         // "r:<addr lowercased>", "a:mid:idx" and "u:<upload_id>"
    keepVisible: false,
    preview: null,
    previewKey: null,
    conflict: null,
    message: null,            // {kind: 'error'|'info', text}
    busy: false,
    sent: null,               // {outboundId, sendAt (ms), done, cancelled, held}
  };
}

let timer = null;
let els = {};                 // live elements of the open form
let reloadTicket = null;

// ---- addresses ----

// Split "Name <a@b>, c@d" as ticketd does: a comma ends an entry once the
// entry has an address.  Japanese commas and new lines separate too.
export function splitAddresses(text) {
  const out = [];
  let cur = '';
  let q = false;
  let angle = false;
  let addr = false;
  for (const ch of String(text)) {
    if (ch === '"') q = !q;
    else if (!q && ch === '<') angle = true;
    else if (!q && ch === '>' && angle) { angle = false; addr = true; } else if (!q && ch === '@') addr = true;
    if (!q && !angle && addr && (ch === ',' || ch === '、' || ch === '\n')) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      addr = false;
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export function addrOf(entry) {
  const m = /<([^<>]*)>\s*$/.exec(entry);
  return (m ? m[1] : entry).trim();
}

function recipients() {
  const list = [];
  for (const [field, text] of [['to', st.to], ['cc', st.cc], ['bcc', st.bcc]]) {
    for (const e of splitAddresses(text)) list.push({ field, entry: e, addr: addrOf(e) });
  }
  return list;
}

function chosenAttachments() {
  return st.attachments.filter((a) => st.chosen.has(`${a.message_id}:${a.idx}`));
}

function draft(extra) {
  const rc = recipients();
  const att = chosenAttachments().map((a) => ({ message_id: a.message_id, idx: a.idx }));
  const up = st.uploads.map((u) => ({ upload_id: u.upload_id }));
  return {
    to: rc.filter((r) => r.field === 'to').map((r) => r.entry),
    cc: rc.filter((r) => r.field === 'cc').map((r) => r.entry),
    bcc: rc.filter((r) => r.field === 'bcc').map((r) => r.entry),
    subject: st.subject,
    body: st.body,
    attachments: [...att, ...up],
    replying_to: st.replyingTo,
    keep_visible: st.keepVisible,
    template: st.appliedTemplate,
    confirmed_recipients: rc.filter((r) => st.ticks.has(`r:${r.addr.toLowerCase()}`)).map((r) => r.addr),
    confirmed_attachments: [...att.filter((a) => st.ticks.has(`a:${a.message_id}:${a.idx}`)),
      ...up.filter((u) => st.ticks.has(`u:${u.upload_id}`))],
    ...extra,
  };
}

// what the preview was made of: a changed draft needs a new preview
function draftKey() {
  const d = draft();
  delete d.confirmed_recipients;
  delete d.confirmed_attachments;
  return JSON.stringify(d);
}

// ---- the section on the ticket page ----

// The composer for ticket x; reload() shows the ticket again (after a send).
export function section(x, reload) {
  if (st.ticketId !== x.id) {
    stopTimer();
    st = fresh(x.id);
  }
  reloadTicket = reload;
  const sec = el('section', { class: 'composer', 'aria-labelledby': 'composer-title' },
    el('h2', { id: 'composer-title' }, t('composer_title')));
  forgetDecided(x);
  if (st.sent) sec.append(sentPanel());
  const back = st.open ? null : returnedReply(x);
  if (back) sec.append(returnedPanel(x, back));
  if (!st.open) {
    const btn = el('button', { type: 'button', class: 'btn btn-primary', id: 'composer-open', 'aria-expanded': 'false', 'aria-controls': 'composer-form' }, t('composer_open'));
    btn.addEventListener('click', () => openComposer(x));
    sec.append(btn);
    return sec;
  }
  sec.append(form(x));
  return sec;
}

function deliveries(x) {
  return (Array.isArray(x.messages) ? x.messages : []).map((m) => m.delivery).filter((d) => d && d.outbound_id);
}

// A held reply decided on meanwhile (approved, returned, withdrawn): its
// "waiting for approval" panel is stale; the timeline tells what became of it.
function forgetDecided(x) {
  if (!st.sent || !st.sent.held || !Array.isArray(x.messages)) return;
  const d = deliveries(x).find((v) => v.outbound_id === st.sent.outboundId);
  if (d && d.outbound_state !== 'awaiting_approval') st.sent = null;
}

// The newest reply of the ticket when it was returned by an approver: its
// author (or a colleague) may open it again, corrected, as a new reply.
function returnedReply(x) {
  const outs = deliveries(x);
  const last = outs[outs.length - 1];
  return last && last.outbound_state === 'returned' ? last : null;
}

function returnedPanel(x, d) {
  const a = d.approval || {};
  const box = el('div', { class: 'notice notice-warn composer-returned', id: 'composer-returned' },
    el('p', null, el('strong', null, t('composer_returned', { by: String(a.reviewed_by || ''), at: tokyoTime(a.reviewed_at), comment: String(a.comment || '') }))));
  const btn = el('button', { type: 'button', class: 'btn', id: 'composer-reopen' }, t('composer_returned_open'));
  btn.addEventListener('click', () => reopen(x, d.outbound_id));
  box.append(btn);
  return box;
}

// the returned reply's draft into the form: the same recipients, files and
// message answered; a new preview and new ticks are needed as for any reply
async function reopen(x, outboundId) {
  st.busy = true;
  try {
    const [list, o] = await Promise.all([api.templates(), api.outbound(outboundId)]);
    const d = (o && o.draft) || {};
    st.templates = Array.isArray(list && list.templates) ? list.templates : [];
    const proposal = await api.renderReply(x.id, { replying_to: d.replying_to || null });
    applyProposal(proposal, true);
    st.to = (d.to || []).join(', ');
    st.cc = (d.cc || []).join(', ');
    st.bcc = (d.bcc || []).join(', ');
    st.subject = String(d.subject || proposal.subject || '');
    st.body = String(d.body || '');
    st.replyingTo = d.replying_to || st.replyingTo;
    st.appliedTemplate = d.template || null;
    st.template = d.template || '';
    st.chosen = new Set((d.attachments || []).map((a) => `${a.message_id}:${a.idx}`));
    st.loaded = true;
    st.open = true;
    st.message = null;
  } catch (e) {
    st.message = { kind: 'error', text: errorText(e) };
    st.open = true;
  } finally {
    st.busy = false;
  }
  rerender();
  const f = document.getElementById('composer-body');
  if (f) f.focus();
}

async function openComposer(x) {
  st.open = true;
  rerender();
  if (!st.loaded) await load(x);
  const f = document.getElementById('composer-template');
  if (f) f.focus();
}

function rerender() {
  const old = document.querySelector('section.composer');
  if (!old || st.ticketId === null) return;
  const focusId = document.activeElement && document.activeElement.id;
  old.replaceWith(section({ id: st.ticketId }, reloadTicket));
  const again = focusId && document.getElementById(focusId);
  if (again) again.focus();
}

async function load(x) {
  st.busy = true;
  try {
    const [list, proposal] = await Promise.all([api.templates(), api.renderReply(x.id, {})]);
    st.templates = Array.isArray(list && list.templates) ? list.templates : [];
    applyProposal(proposal, true);
    st.loaded = true;
    st.message = null;
  } catch (e) {
    st.message = { kind: 'error', text: errorText(e) };
  } finally {
    st.busy = false;
  }
  rerender();
}

function applyProposal(p, first) {
  if (!p) return;
  if (first) {
    st.to = (p.to || []).join(', ');
    st.cc = (p.cc || []).join(', ');
    st.bcc = (p.bcc || []).join(', ');
    st.attachments = Array.isArray(p.attachments) ? p.attachments : [];
    st.replyingTo = p.replying_to || null;
    st.limits = p.limits || {};
    // files this operator uploaded to the ticket and has not sent (a page
    // load forgot them): listed again, to send or remove
    st.uploads = Array.isArray(p.uploads) ? p.uploads : [];
  }
  st.subject = p.subject || '';
  st.body = p.body || '';
  st.preview = null;
}

function form(x) {
  els = {};
  const f = el('form', { id: 'composer-form', class: 'composer-form', novalidate: true });
  f.addEventListener('submit', (ev) => { ev.preventDefault(); });
  const close = el('button', { type: 'button', class: 'btn', 'aria-expanded': 'true', 'aria-controls': 'composer-form' }, t('composer_close'));
  close.addEventListener('click', () => {
    st.open = false;
    rerender();
    const o = document.getElementById('composer-open');
    if (o) o.focus();
  });
  els.message = el('div', { id: 'composer-message', role: 'alert' });
  showMessage();
  // the preview sits between its button and 送信: one reads it on the way
  f.append(close, els.message, templatePicker(x), addressFields(), subjectBody(), attachmentChooser(),
    uploadBox(), confirmations(), previewAction(), previewPane(), sendAction());
  updateState();
  return f;
}

function showMessage() {
  if (!els.message) return;
  els.message.replaceChildren();
  els.message.className = '';
  if (!st.message) return;
  els.message.className = st.message.kind === 'error' ? 'form-error' : 'notice';
  els.message.append(el('p', null, st.message.text));
  if (st.message.list) {
    els.message.append(el('ul', null, ...st.message.list.map((s) => el('li', null, s))));
  }
  if (st.message.force) els.message.append(st.message.force);
}

function templatePicker(x) {
  const box = el('div', { class: 'field composer-template' });
  const sel = el('select', { id: 'composer-template' },
    el('option', { value: '' }, t('composer_template_none')));
  for (const tp of st.templates) {
    const o = el('option', { value: String(tp.name) }, String(tp.title || tp.name));
    if (tp.name === st.template) o.selected = true;
    sel.append(o);
  }
  sel.addEventListener('change', () => { st.template = sel.value; });
  const apply = el('button', { type: 'button', class: 'btn', id: 'composer-template-apply' }, t('composer_template_apply'));
  apply.addEventListener('click', () => applyTemplate(x));
  box.append(el('label', { for: 'composer-template' }, t('composer_template')),
    el('div', { class: 'composer-row' }, sel, apply),
    el('p', { class: 'hint', id: 'composer-template-hint' }, t('composer_template_hint')));
  sel.setAttribute('aria-describedby', 'composer-template-hint');
  return box;
}

async function applyTemplate(x) {
  if (st.body.trim() && !window.confirm(t('composer_template_replace'))) return;
  try {
    const p = await api.renderReply(x.id, { template: st.template || null, replying_to: st.replyingTo });
    applyProposal(p, false);
    st.appliedTemplate = p.template || null;
    const empty = Array.isArray(p.empty_variables) ? p.empty_variables : [];
    st.message = empty.length ? { kind: 'info', text: t('composer_empty_vars', { names: empty.join(', ') }) } : null;
    announce(t('composer_template_applied'));
  } catch (e) {
    const b = e.body || {};
    if (e.status === 422 && Array.isArray(b.unknown_variables) && b.unknown_variables.length) {
      st.message = { kind: 'error', text: t('composer_unknown_vars', { names: b.unknown_variables.map((n) => `{{${n}}}`).join(', ') }) };
    } else {
      st.message = { kind: 'error', text: b.error ? String(b.error) : errorText(e) };
    }
  }
  rerender();
  if (st.message && st.message.kind === 'error') focusMessage();
}

function focusMessage() {
  const m = document.getElementById('composer-message');
  if (m) {
    m.setAttribute('tabindex', '-1');
    m.focus();
  }
}

function textField(id, key, labelKey, hintKey, multiline) {
  const box = el('div', { class: 'field' });
  const input = multiline
    ? el('textarea', { id, rows: '16', spellcheck: 'false' })
    : el('input', { id, type: 'text', autocomplete: 'off', spellcheck: 'false' });
  input.value = st[key];
  input.addEventListener('input', () => {
    st[key] = input.value;
    updateState();
  });
  box.append(el('label', { for: id }, t(labelKey)));
  if (hintKey) {
    box.append(el('p', { class: 'hint', id: `${id}-hint` }, t(hintKey)));
    input.setAttribute('aria-describedby', `${id}-hint`);
  }
  box.append(input);
  return box;
}

function addressFields() {
  const fs = el('fieldset', { class: 'composer-addresses' }, el('legend', null, t('composer_recipients')));
  fs.append(textField('composer-to', 'to', 'composer_to', 'composer_addr_hint'),
    textField('composer-cc', 'cc', 'composer_cc'),
    textField('composer-bcc', 'bcc', 'composer_bcc'));
  const keep = el('input', { type: 'checkbox', id: 'composer-keep-visible' });
  keep.checked = st.keepVisible;
  keep.addEventListener('change', () => {
    st.keepVisible = keep.checked;
    updateState();
  });
  fs.append(el('div', { class: 'check' }, keep, el('label', { for: 'composer-keep-visible' }, t('composer_keep_visible'))));
  return fs;
}

function subjectBody() {
  return el('div', { class: 'composer-text' },
    textField('composer-subject', 'subject', 'composer_subject', 'composer_subject_hint'),
    textField('composer-body', 'body', 'composer_body', null, true));
}

function attachmentChooser() {
  const fs = el('fieldset', { class: 'composer-attachments' }, el('legend', null, t('composer_attachments')));
  if (!st.attachments.length) {
    fs.append(el('p', null, t('composer_no_attachments')));
    return fs;
  }
  st.attachments.forEach((a, i) => {
    const key = `${a.message_id}:${a.idx}`;
    const id = `composer-att-${i}`;
    const box = el('input', { type: 'checkbox', id });
    box.checked = st.chosen.has(key);
    box.addEventListener('change', () => {
      if (box.checked) st.chosen.add(key);
      else st.chosen.delete(key);
      updateState();
    });
    fs.append(el('div', { class: 'check' }, box, el('label', { for: id },
      t('composer_attach', { name: a.filename ? String(a.filename) : `attachment-${a.idx}`, size: fileSize(a.size) }))));
  });
  return fs;
}

// ---- files uploaded for the reply ----

// A file input (keyboard: Tab to it, Enter or Space opens the chooser) and
// the same box as a drop target; each file goes up as it is and is listed
// with its size and a remove button.  Ticking it happens below, with the rest.
function uploadBox() {
  const fs = el('fieldset', { class: 'composer-uploads', id: 'composer-uploads' },
    el('legend', null, t('composer_uploads')));
  const input = el('input', { type: 'file', id: 'composer-upload-input', multiple: true, 'aria-describedby': 'composer-upload-hint' });
  input.addEventListener('change', () => {
    const files = [...input.files];
    input.value = '';
    uploadFiles(files);
  });
  fs.append(el('label', { for: 'composer-upload-input' }, t('composer_upload_choose')), input,
    el('p', { class: 'hint', id: 'composer-upload-hint' }, t('composer_upload_hint')));
  fs.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    fs.classList.add('drop-over');
  });
  fs.addEventListener('dragleave', () => fs.classList.remove('drop-over'));
  fs.addEventListener('drop', (ev) => {
    ev.preventDefault();
    fs.classList.remove('drop-over');
    uploadFiles([...((ev.dataTransfer && ev.dataTransfer.files) || [])]);
  });
  if (st.uploading) fs.append(el('p', { class: 'hint', id: 'composer-uploading' }, t('composer_uploading', { n: st.uploading })));
  const list = el('ul', { class: 'composer-upload-list', id: 'composer-upload-list' });
  st.uploads.forEach((u, i) => {
    const name = String(u.filename);
    const rm = el('button', { type: 'button', class: 'btn', id: `composer-upload-remove-${i}`, 'aria-label': t('composer_upload_remove_label', { name }) },
      t('composer_upload_remove'));
    rm.addEventListener('click', () => removeUpload(u));
    list.append(el('li', null, el('span', null, t('composer_upload_item', { name, size: fileSize(u.size) })), ' ', rm));
  });
  if (st.uploads.length) fs.append(list);
  return fs;
}

// a file the server would refuse for its size, told before it is sent
function sizeProblem(f) {
  if (f.size === 0) return t('composer_upload_empty', { name: f.name });
  const max = Number(st.limits.upload_max_bytes);
  if (max > 0 && f.size > max) return tooLarge(f.name);
  return null;
}

function tooLarge(name) {
  return t('composer_upload_too_large', { name, max: fileSize(st.limits.upload_max_bytes),
    total: fileSize(st.limits.attachments_max_bytes) });
}

async function uploadFiles(all) {
  if (!all.length || st.ticketId === null) return;
  const id = st.ticketId;
  const problems = all.map(sizeProblem).filter((p) => p);
  const files = all.filter((f) => !sizeProblem(f));
  st.uploading += files.length;
  rerender();
  if (files.length) announce(t('composer_uploading', { n: files.length }));
  for (const f of files) {
    try {
      const u = await api.uploadFile(id, f);
      if (st.ticketId === id) st.uploads.push(u);
    } catch (e) {
      problems.push(uploadProblem(f.name, e));
    }
    if (st.ticketId === id) st.uploading = Math.max(0, st.uploading - 1);
  }
  if (st.ticketId !== id) return;
  st.message = problems.length ? { kind: 'error', text: t('composer_upload_failed'), list: problems } : null;
  rerender();
  if (problems.length) focusMessage();
  else if (files.length) {
    announce(t('composer_uploaded', { n: files.length }));
    const inp = document.getElementById('composer-upload-input');
    if (inp) inp.focus();
  }
}

function uploadProblem(name, e) {
  const b = e.body || {};
  // 413: the file itself (http.c's limit), or the ticket's unsent uploads together
  if (e.status === 413 && /^your unsent uploads/.test(String(b.error || ''))) {
    return t('composer_upload_quota', { name, total: fileSize(st.limits.attachments_max_bytes) });
  }
  if (e.status === 413) return tooLarge(name);
  if (e.status === 422) return t('composer_upload_ppap', { name });
  return t('composer_upload_refused', { name, why: b.error ? String(b.error) : errorText(e) });
}

async function removeUpload(u) {
  try {
    await api.deleteUpload(st.ticketId, u.upload_id);
  } catch (e) {
    // already gone (swept, or sent from another tab): forget it all the same
    if (e.status !== 404) {
      st.message = { kind: 'error', text: t('composer_upload_refused', { name: String(u.filename), why: errorText(e) }) };
      rerender();
      focusMessage();
      return;
    }
  }
  st.uploads = st.uploads.filter((x) => x.upload_id !== u.upload_id);
  st.ticks.delete(`u:${u.upload_id}`);
  announce(t('composer_upload_removed', { name: String(u.filename) }));
  rerender();
  const inp = document.getElementById('composer-upload-input');
  if (inp) inp.focus();
}

// one tick box per recipient, per chosen attachment and per upload
function confirmations() {
  els.confirm = el('fieldset', { class: 'composer-confirm', id: 'composer-confirm' },
    el('legend', null, t('composer_confirm')));
  return els.confirm;
}

function fillConfirmations() {
  const fs = els.confirm;
  fs.replaceChildren(el('legend', null, t('composer_confirm')),
    el('p', { class: 'hint' }, t('composer_confirm_hint')));
  const seen = new Set();
  let i = 0;
  for (const r of recipients()) {
    const key = `r:${r.addr.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fs.append(tick(`composer-ok-r-${i++}`, key, t('composer_confirm_rcpt', { field: t(`composer_field_${r.field}`), who: r.entry })));
  }
  i = 0;
  for (const a of chosenAttachments()) {
    const key = `a:${a.message_id}:${a.idx}`;
    seen.add(key);
    fs.append(tick(`composer-ok-a-${i++}`, key, t('composer_confirm_att', { name: a.filename ? String(a.filename) : `attachment-${a.idx}`, size: fileSize(a.size) })));
  }
  i = 0;
  for (const u of st.uploads) {
    const key = `u:${u.upload_id}`;
    seen.add(key);
    fs.append(tick(`composer-ok-u-${i++}`, key, t('composer_confirm_upload', { name: String(u.filename), size: fileSize(u.size) })));
  }
  // ticks of what is no longer in the draft do not count
  for (const k of [...st.ticks]) if (!seen.has(k)) st.ticks.delete(k);
}

function tick(id, key, text) {
  const box = el('input', { type: 'checkbox', id, 'data-key': key });
  box.checked = st.ticks.has(key);
  box.addEventListener('change', () => {
    if (box.checked) st.ticks.add(key);
    else st.ticks.delete(key);
    updateSend();
  });
  return el('div', { class: 'check' }, box, el('label', { for: id }, text));
}

function previewAction() {
  const prev = el('button', { type: 'button', class: 'btn', id: 'composer-preview' }, t('composer_preview'));
  prev.addEventListener('click', doPreview);
  return el('div', { class: 'composer-row' }, prev);
}

function sendAction() {
  els.send = el('button', { type: 'button', class: 'btn btn-primary', id: 'composer-send', 'aria-describedby': 'composer-send-hint' }, t('composer_send'));
  els.send.addEventListener('click', () => doSend(false));
  els.sendHint = el('p', { class: 'hint', id: 'composer-send-hint' });
  return el('div', { class: 'composer-actions' }, el('div', { class: 'composer-row' }, els.send), els.sendHint);
}

// what still keeps 送信 disabled; [] when it may be pressed
function missing() {
  const out = [];
  const rc = recipients();
  if (!rc.length) out.push(t('composer_need_rcpt'));
  const unticked = rc.filter((r) => !st.ticks.has(`r:${r.addr.toLowerCase()}`)).length +
    chosenAttachments().filter((a) => !st.ticks.has(`a:${a.message_id}:${a.idx}`)).length +
    st.uploads.filter((u) => !st.ticks.has(`u:${u.upload_id}`)).length;
  if (unticked) out.push(t('composer_need_ticks', { n: unticked }));
  if (st.uploading) out.push(t('composer_uploading', { n: st.uploading }));
  if (!st.preview || st.previewKey !== draftKey()) out.push(t('composer_need_preview'));
  return out;
}

function updateSend() {
  if (!els.send) return;
  const why = missing();
  // the reason stays readable beside it (aria-describedby)
  els.send.disabled = why.length > 0 || st.busy || Boolean(st.sent && !st.sent.done && !st.sent.cancelled);
  const held = st.preview && st.preview.approval;
  els.sendHint.textContent = why.length ? t('composer_send_blocked', { why: why.join(' ') })
    : t(held ? 'composer_send_ready_approval' : 'composer_send_ready');
}

function updateState() {
  if (els.confirm) fillConfirmations();
  if (els.previewBox && st.preview && st.previewKey !== draftKey()) {
    els.previewStale.hidden = false;
  }
  updateSend();
}

// ---- preview ----

function previewPane() {
  els.previewBox = el('section', { class: 'composer-preview', id: 'composer-preview-pane', 'aria-labelledby': 'composer-preview-title' },
    el('h3', { id: 'composer-preview-title', tabindex: '-1' }, t('composer_preview_title')));
  els.previewStale = el('p', { class: 'notice notice-warn', hidden: true }, t('composer_preview_stale'));
  els.previewBox.append(els.previewStale);
  if (!st.preview) {
    els.previewBox.append(el('p', { class: 'hint' }, t('composer_preview_none')));
    return els.previewBox;
  }
  const p = st.preview;
  const d = p.decoded || {};
  if (p.conflict) els.previewBox.append(conflictNote(p.conflict));
  if (p.approval) {
    const reason = p.approval === 'template' ? t('approval_reason_template', { name: String(st.appliedTemplate || '') })
      : t('approval_reason_queue_this');
    els.previewBox.append(el('p', { class: 'notice notice-warn', id: 'composer-approval-notice' },
      el('strong', null, t('composer_approval_notice', { reason }))));
  }
  if (Array.isArray(p.moved_to_bcc) && p.moved_to_bcc.length) {
    els.previewBox.append(el('p', { class: 'notice', id: 'composer-bcc-notice' }, t('composer_bcc_notice', { who: p.moved_to_bcc.join(', ') })));
  }
  const dl = el('dl', { class: 'headers' });
  const add = (k, v) => dl.append(el('div', null, el('dt', null, t(k)), el('dd', null, v)));
  add('from', d.from_name ? `${d.from_name} <${d.from_addr}>` : String(d.from_addr || ''));
  add('to', d.to ? String(d.to) : t('none'));
  if (d.cc) add('cc', String(d.cc));
  add('composer_bcc', Array.isArray(p.bcc) && p.bcc.length ? p.bcc.join(', ') : t('none'));
  add('subject', String(d.subject || ''));
  add('date', el('time', { datetime: isoOrEmpty(d.date) }, tokyoTime(d.date)));
  add('composer_charset', p.charset === 'ISO-2022-JP' ? t('composer_charset_jis') : String(p.charset || ''));
  add('attachments', Array.isArray(d.attachments) && d.attachments.length
    ? d.attachments.map((a) => `${a.filename} (${fileSize(a.size)})`).join(', ') : t('none'));
  // a named group: a bare <pre> may not carry aria-label (axe flags it once the body is empty)
  const body = el('pre', { class: 'body', id: 'composer-preview-body', tabindex: '0', role: 'group', 'aria-label': t('composer_preview_body') });
  body.textContent = String(d.body_text || '').replace(/\r\n?/g, '\n');
  const raw = el('pre', { class: 'body composer-raw', tabindex: '0', 'aria-label': t('composer_raw') });
  raw.textContent = String(p.raw || '').replace(/\r\n/g, '\n');
  els.previewBox.append(dl, body, el('details', null, el('summary', null, t('composer_raw')), raw));
  if (st.previewKey !== draftKey()) els.previewStale.hidden = false;
  return els.previewBox;
}

function conflictNote(c) {
  const who = c.kind === 'reply' ? t('composer_conflict_reply', { by: String(c.by || ''), at: tokyoTime(c.at) })
    : t('composer_conflict_mail', { at: tokyoTime(c.at) });
  return el('p', { class: 'notice notice-warn', role: 'note' }, el('strong', null, who));
}

async function doPreview() {
  st.busy = true;
  updateSend();
  try {
    const p = await api.previewReply(st.ticketId, draft());
    st.preview = p;
    st.previewKey = draftKey();
    st.message = null;
    announce(t('composer_preview_done'));
  } catch (e) {
    st.preview = null;
    const b = e.body || {};
    st.message = { kind: 'error', text: b.error ? t('composer_refused', { why: String(b.error) }) : errorText(e) };
  } finally {
    st.busy = false;
  }
  rerender();
  if (st.message) focusMessage();
  else {
    const h = document.getElementById('composer-preview-title');
    if (h) h.focus();
  }
}

// ---- sending and the cancel window ----

async function doSend(force) {
  if (missing().length) return;
  st.busy = true;
  updateSend();
  let res = null;
  try {
    res = await api.sendReply(st.ticketId, draft({ force }));
  } catch (e) {
    st.busy = false;
    failed(e);
    return;
  }
  st.busy = false;
  const id = st.ticketId;
  const keepTemplates = st.templates;
  st = fresh(id);
  st.templates = keepTemplates;
  const held = res.state === 'awaiting_approval';
  st.sent = { outboundId: res.outbound_id, sendAt: held ? null : Date.parse(res.send_at), done: false, cancelled: false, held };
  if (held) announce(t('composer_held'));
  else {
    startTimer();
    announce(t('composer_sent', { time: tokyoTimeSec(res.send_at) }));
  }
  if (reloadTicket) await reloadTicket();
  const c = document.getElementById('composer-cancel');
  if (c) c.focus();
}

function failed(e) {
  const b = e.body || {};
  if (e.status === 422) {
    const list = [...(b.unconfirmed_recipients || []).map(String),
      ...(b.unconfirmed_attachments || []).map((a) => (a.upload_id ? uploadName(a.upload_id)
        : t('composer_att_ref', { m: a.message_id, i: a.idx })))];
    st.message = { kind: 'error', text: t('composer_unconfirmed'), list };
  } else if (e.status === 409 && b.conflict) {
    const force = el('button', { type: 'button', class: 'btn', id: 'composer-force' }, t('composer_force'));
    force.addEventListener('click', () => doSend(true));
    st.message = { kind: 'error', text: t('composer_conflict'), list: [conflictNote(b.conflict).textContent], force };
  } else {
    st.message = { kind: 'error', text: b.error ? t('composer_refused', { why: String(b.error) }) : errorText(e) };
  }
  rerender();
  focusMessage();
}

function uploadName(id) {
  const u = st.uploads.find((x) => x.upload_id === id);
  return t('composer_upload_ref', { name: u ? String(u.filename) : String(id) });
}

function tokyoTimeSec(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat('ja-JP', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(d);
}

function secondsLeft() {
  return st.sent ? Math.max(0, Math.ceil((st.sent.sendAt - Date.now()) / 1000)) : 0;
}

function sentPanel() {
  const s = st.sent;
  const box = el('div', { class: 'composer-sent notice', id: 'composer-sent' });
  let text;
  if (s.cancelled) text = t(s.held ? 'composer_withdrawn' : 'composer_cancelled');
  else if (s.held) text = t('composer_held');
  else if (s.done) text = t('composer_sending');
  else text = t('composer_sent', { time: tokyoTimeSec(new Date(s.sendAt).toISOString()) });
  box.append(el('p', { role: 'status', id: 'composer-sent-status' }, text));
  if (s.held && !s.cancelled) {
    const w = el('button', { type: 'button', class: 'btn', id: 'composer-cancel' }, t('composer_withdraw'));
    w.addEventListener('click', () => cancelOutbound(s.outboundId, true));
    box.append(w);
  } else if (!s.done && !s.cancelled) {
    // the number changes every second: kept out of the live region
    box.append(el('p', { class: 'countdown', id: 'composer-countdown' }, t('composer_countdown', { n: secondsLeft() })));
    const btn = el('button', { type: 'button', class: 'btn', id: 'composer-cancel' }, t('composer_cancel'));
    btn.addEventListener('click', () => cancelOutbound(s.outboundId, true));
    box.append(btn);
  }
  return box;
}

function startTimer() {
  stopTimer();
  timer = window.setInterval(() => {
    if (!st.sent) return stopTimer();
    const n = secondsLeft();
    const c = document.getElementById('composer-countdown');
    if (c) c.textContent = t('composer_countdown', { n });
    if (n <= 0) {
      stopTimer();
      st.sent.done = true;
      const hadFocus = document.activeElement && document.activeElement.id === 'composer-cancel';
      rerender();
      if (hadFocus) document.getElementById('composer-title').setAttribute('tabindex', '-1');
      if (hadFocus) document.getElementById('composer-title').focus();
      if (reloadTicket) reloadTicket();
    }
    return undefined;
  }, 250);
}

function stopTimer() {
  if (timer !== null) window.clearInterval(timer);
  timer = null;
}

async function cancelOutbound(id, fromComposer) {
  try {
    await api.cancelOutbound(id);
    if (fromComposer && st.sent) {
      st.sent.cancelled = true;
      stopTimer();
    }
    announce(t(fromComposer && st.sent && st.sent.held ? 'composer_withdrawn' : 'composer_cancelled'));
  } catch (e) {
    const b = e.body || {};
    announce(t('composer_cancel_failed', { why: b.error ? String(b.error) : errorText(e) }));
    window.alert(t('composer_cancel_failed', { why: b.error ? String(b.error) : errorText(e) }));
  }
  if (reloadTicket) await reloadTicket();
  const h = document.getElementById('composer-title');
  if (h) {
    h.setAttribute('tabindex', '-1');
    h.focus();
  }
}

// ---- the timeline: delivery of one outgoing message ----

// the approver's decision under the delivery state: who, when, the comment
function reviewLine(d) {
  const a = d.approval;
  if (!a || !a.review) return null;
  const p = el('p', { class: `delivery-review review-${String(a.review)}` },
    t(`delivery_review_${a.review}`, { by: String(a.reviewed_by || ''), at: tokyoTime(a.reviewed_at) }));
  if (a.comment) p.append(' ', t('delivery_review_comment', { comment: String(a.comment) }));
  return p;
}

export function deliveryBlock(m) {
  const d = m && m.delivery;
  if (!d) return null;
  let key = `delivery_${d.state || 'unknown'}`;
  if (d.outbound_state === 'cancelled') key = 'delivery_cancelled';
  const p = el('p', { class: `delivery delivery-${d.outbound_state === 'cancelled' ? 'cancelled' : String(d.state)}` },
    el('strong', null, `${t('delivery')}: `), t(key));
  if (d.state === 'awaiting_approval' && ['operator', 'supervisor'].includes(document.body.dataset.role)) {
    p.append(' ', el('a', { href: '#/approvals' }, t('delivery_to_approvals')));
  }
  if (d.state === 'queued' && d.send_at) p.append(' ', t('delivery_send_at', { time: tokyoTimeSec(d.send_at) }));
  if (d.sent_at) p.append(' ', t('delivery_sent_at', { time: tokyoTime(d.sent_at) }));
  if (d.note) p.append(` (${String(d.note)})`);
  else if (d.last_error && d.state !== 'sent') p.append(` (${String(d.last_error)})`);
  if (d.can_cancel && d.outbound_id) {
    const held = d.state === 'awaiting_approval';
    const btn = el('button', { type: 'button', class: 'btn delivery-cancel', 'aria-label': t(held ? 'delivery_withdraw_label' : 'delivery_cancel_label', { n: Number(m.id) }) },
      t(held ? 'composer_withdraw' : 'composer_cancel'));
    btn.addEventListener('click', () => cancelOutbound(d.outbound_id, st.sent && st.sent.outboundId === d.outbound_id));
    p.append(' ', btn);
  }
  const review = reviewLine(d);
  if (!review) return p;
  const box = el('div', { class: 'delivery-box' }, p, review);
  return box;
}

// Forget everything (log-out, another ticket).
export function reset() {
  stopTimer();
  st = fresh(null);
  els = {};
}
