// The fax viewer (issue 7): on a fax ticket, each incoming message shows its
// pages (GET /api/messages/ID/fax/N.png, decoded by ticketd) fitted to the
// screen, with zoom, rotation, previous/next and the original TIFF for
// download, and the facts of the fax (pages, resolution, DID, call result).
// The caller number and the sender's ID (TSI) are contact details: shown only
// after the operator gives a reason, which ticketd writes to the contact log.
//
// Keys on the page area (it takes the focus): ← → or PageUp/PageDown the
// previous/next page, + and - zoom, 0 fits the page to the screen, R
// rotates.  They stop there, so r does not open the reply composer.

import { t } from './i18n.js';
import { el } from './format.js';
import * as faxocr from './faxocr.js';

const ZOOMS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3];

// The fax block of message m; its content is filled once the facts come.
export function viewer(m) {
  const id = Number(m.id);
  const hid = `fax-${id}-title`;
  const sec = el('section', { class: 'fax', id: `fax-${id}`, 'aria-labelledby': hid },
    el('h4', { id: hid }, t('fax_title')), el('p', null, t('loading')));
  load(sec, id, hid);
  return sec;
}

async function getJson(url) {
  const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

async function load(sec, id, hid) {
  let d;
  try {
    d = await getJson(`/api/messages/${id}/fax`);
  } catch (e) {
    sec.replaceChildren(el('h4', { id: hid }, t('fax_title')), el('p', { class: 'form-error' }, t('fax_load_failed')));
    return;
  }
  const pages = Array.isArray(d.page_list) ? d.page_list : [];
  sec.replaceChildren(el('h4', { id: hid }, t('fax_title_n', { n: pages.length })), facts(d, id),
    pages.length ? pageViewer(id, pages) : el('p', null, t('fax_no_pages')));
}

function resolution(p) {
  if (!p) return '';
  const kind = p.y_dpi < 150 ? t('fax_res_standard') : p.y_dpi < 300 ? t('fax_res_fine') : t('fax_res_super');
  return `${p.x_dpi}×${p.y_dpi} dpi（${kind}）`;
}

function result(d) {
  const c = d.call;
  if (c) {
    const r = t(`fax_result_${c.result}`);
    return c.t30_text ? `${r}（${c.t30_text}）` : r;
  }
  return d.complete ? t('fax_result_ok') : t('fax_result_incomplete');
}

function facts(d, id) {
  const dl = el('dl', { class: 'meta fax-facts', id: `fax-${id}-facts` });
  const add = (k, v, cls) => dl.append(el('div', cls ? { class: cls } : null, el('dt', null, t(k)), el('dd', null, v)));
  const first = Array.isArray(d.page_list) ? d.page_list[0] : null;
  add('fax_pages', t('fax_pages_n', { n: d.pages }));
  add('fax_resolution', resolution(first));
  add('fax_did', d.did ? String(d.did) : t('none'));
  if (d.subaddress) add('fax_sub', String(d.subaddress));
  add('fax_origin', t(d.origin === 'mail' ? 'fax_origin_mail' : 'fax_origin_line'));
  if (d.call) add('fax_transport', d.call.transport === 't38' ? 'T.38' : d.call.transport === 'none' ? t('none') : `G.711 (${d.call.transport})`);
  add('fax_result', result(d), d.complete ? null : 'fax-incomplete');
  if (d.result_text) add('fax_note', String(d.result_text));
  dl.append(contactRow(id));
  return dl;
}

// The caller and TSI, after a reason (the contact log keeps it).
function contactRow(id) {
  const dd = el('dd', { id: `fax-${id}-contact` });
  const open = el('button', { type: 'button', class: 'btn', id: `fax-${id}-contact-open` }, t('fax_contact_show'));
  open.addEventListener('click', () => {
    const reason = el('input', { type: 'text', id: `fax-${id}-reason`, maxlength: '200', 'aria-label': t('fax_contact_reason') });
    const go = el('button', { type: 'button', class: 'btn', id: `fax-${id}-contact-go` }, t('fax_contact_go'));
    const msg = el('span', { role: 'status' });
    const run = async () => {
      const r = reason.value.trim();
      if (!r) { msg.textContent = t('fax_contact_need_reason'); reason.focus(); return; }
      try {
        const d = await getJson(`/api/messages/${id}/fax?reason=${encodeURIComponent(r)}`);
        const c = d.contact || {};
        dd.replaceChildren(el('span', { class: 'fax-caller' }, `${t('fax_caller')}: ${c.caller || t('none')}`), ' / ',
          el('span', { class: 'fax-tsi' }, `TSI: ${c.tsi || t('none')}`));
      } catch (e) {
        msg.textContent = t('fax_contact_denied');
      }
    };
    go.addEventListener('click', run);
    reason.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); run(); } });
    dd.replaceChildren(el('label', { for: `fax-${id}-reason` }, t('fax_contact_reason')), ' ', reason, ' ', go, ' ', msg);
    reason.focus();
  });
  dd.append(open);
  return el('div', null, el('dt', null, t('fax_contact')), dd);
}

function pageViewer(id, pages) {
  const st = { i: 0, zoom: null, rot: 0 }; // zoom null: fitted to the screen
  const pid = `fax-${id}`;
  const img = el('img', { class: 'fax-page', id: `${pid}-img`, alt: '' });
  const stage = el('div', { class: 'fax-stage fax-fit', id: `${pid}-stage`, tabindex: '0', role: 'group',
    'aria-roledescription': t('fax_viewer'), 'aria-keyshortcuts': 'ArrowLeft ArrowRight + - 0 R' }, img);
  const status = el('span', { class: 'fax-status', id: `${pid}-status`, 'aria-live': 'polite' });
  const dl = el('a', { class: 'download', id: `${pid}-download` },
    el('img', { src: 'icons/download.svg', alt: '', class: 'icon', width: 16, height: 16 }), t('fax_download'));
  const btn = (key, label, fn) => {
    const b = el('button', { type: 'button', class: 'btn', id: `${pid}-${key}` }, label);
    b.addEventListener('click', fn);
    return b;
  };
  const show = () => {
    const p = pages[st.i];
    img.src = `/api/messages/${id}/fax/${p.n}.png`;
    img.alt = t('fax_page_alt', { n: p.n, total: pages.length });
    stage.dataset.page = String(p.n);
    stage.dataset.rotate = String(st.rot);
    stage.dataset.zoom = st.zoom === null ? 'fit' : String(st.zoom);
    stage.classList.toggle('fax-fit', st.zoom === null);
    img.style.transform = st.rot ? `rotate(${st.rot}deg)` : '';
    img.style.width = st.zoom === null ? '' : `${Math.round(p.width * st.zoom)}px`;
    status.textContent = t('fax_page_of', { n: st.i + 1, total: pages.length, zoom: st.zoom === null ? t('fax_fit') : `${Math.round(st.zoom * 100)}%` });
    dl.href = `/api/messages/${id}/fax/${p.n}.tif`;
    dl.setAttribute('download', `fax-${id}-${p.n}.tif`);
    prev.disabled = st.i === 0;
    next.disabled = st.i === pages.length - 1;
    ocr.page(p.n);
  };
  const go = (step) => { const j = st.i + step; if (j >= 0 && j < pages.length) { st.i = j; show(); } };
  const zoomBy = (step) => {
    const cur = st.zoom === null ? fittedZoom(stage, pages[st.i]) : st.zoom;
    let k = ZOOMS.findIndex((z) => z >= cur - 1e-6);
    if (k < 0) k = ZOOMS.length - 1;
    if (step > 0 && ZOOMS[k] <= cur + 1e-6) k += 1;
    if (step < 0) k -= 1;
    st.zoom = ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, k))];
    show();
  };
  const fit = () => { st.zoom = null; show(); };
  const rotate = () => { st.rot = (st.rot + 90) % 360; show(); };
  const ocr = faxocr.panel(id, img); // the page's OCR beside it (issue 8)
  const prev = btn('prev', t('fax_prev'), () => go(-1));
  const next = btn('next', t('fax_next'), () => go(1));
  const bar = el('div', { class: 'fax-toolbar', role: 'toolbar', 'aria-label': t('fax_toolbar') },
    prev, status, next,
    btn('zoom-out', t('fax_zoom_out'), () => zoomBy(-1)), btn('zoom-in', t('fax_zoom_in'), () => zoomBy(1)),
    btn('fit', t('fax_fit'), fit), btn('rotate', t('fax_rotate'), rotate), dl);
  stage.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
    const acts = { ArrowRight: () => go(1), PageDown: () => go(1), ArrowLeft: () => go(-1), PageUp: () => go(-1),
      '+': () => zoomBy(1), '=': () => zoomBy(1), '-': () => zoomBy(-1), 0: fit, r: rotate, R: rotate };
    const f = acts[ev.key];
    if (!f) return;
    ev.preventDefault();
    ev.stopPropagation();
    f();
  });
  show();
  return el('div', { class: 'fax-viewer' }, bar, el('div', { class: 'fax-body' }, stage, ocr.node),
    el('p', { class: 'hint' }, t('fax_keys')));
}

// the zoom at which the fitted page is shown now (for a smooth step from "fit")
function fittedZoom(stage, p) {
  const w = stage.clientWidth || p.width;
  return Math.min(1, w / p.width);
}
