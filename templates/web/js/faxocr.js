// OCR of a fax beside its page (issue 8; GET /api/messages/ID/ocr): the text
// read on the page shown, how it was read (縦書き, turned, confidence), or
// why it was not (白紙, 読み取り中, 時間切れ, 失敗), and the numbers and
// addresses found, each with its region of the page cut out of the page
// image, so the operator checks the digits against the fax itself before
// putting one into the contact with one click (POST
// /api/fax-candidates/ID/accept; operators and supervisors).  読み直し asks
// for a page to be read again.  fax.js calls page(n) when it shows page n.

import { t } from './i18n.js';
import { el } from './format.js';
import { announce } from './ui.js';
import * as api from './api.js';

const CROP_MAX_WIDTH = 360; // px: a region is shown at most this wide

// the call as {status, body}: the panel says what went wrong in its own words
async function request(fn) {
  try {
    return { status: 200, body: await fn() };
  } catch (e) {
    return { status: e instanceof api.ApiError ? e.status : 0, body: null };
  }
}

// The panel of message id; page(n) shows page n's reading.
export function panel(id, img) {
  const pid = `fax-${id}-ocr`;
  const node = el('section', { class: 'fax-ocr', id: pid, 'aria-labelledby': `${pid}-title` },
    el('h5', { id: `${pid}-title` }, t('faxocr_title')), el('p', null, t('loading')));
  const st = { pages: null, n: 1, error: '' };
  const draw = () => render(node, pid, id, img, st, load);
  const load = async () => {
    const r = await request(() => api.faxOcr(id));
    if (r.status === 200 && r.body && Array.isArray(r.body.pages)) {
      st.pages = r.body.pages;
      st.error = '';
    } else {
      st.error = t('faxocr_load_failed');
    }
    draw();
  };
  load();
  img.addEventListener('load', () => { if (st.pages) draw(); });
  return { node, page: (n) => { st.n = n; if (st.pages || st.error) draw(); } };
}

function stateText(p) {
  if (p.state === 'done') {
    const how = [p.vertical ? t('faxocr_vertical') : t('faxocr_horizontal')];
    if (p.rotation) how.push(t('faxocr_turned', { deg: p.rotation }));
    how.push(t('faxocr_confidence', { n: p.confidence }));
    return t('faxocr_state_done', { how: how.join('、') });
  }
  if (p.state === 'failed' || p.state === 'timeout') {
    return t(`faxocr_state_${p.state}`, { why: p.error || '' });
  }
  return t(`faxocr_state_${p.state}`);
}

function render(node, pid, id, img, st, reload) {
  const head = el('h5', { id: `${pid}-title` }, t('faxocr_title'));
  if (st.error) {
    node.replaceChildren(head, el('p', { class: 'form-error' }, st.error));
    return;
  }
  const p = st.pages.find((x) => Number(x.page) === st.n);
  if (!p) {
    node.replaceChildren(head, el('p', null, t('faxocr_none')));
    return;
  }
  const parts = [head, el('p', { class: 'fax-ocr-state', id: `${pid}-state` }, stateText(p))];
  if (p.state === 'done' && p.text) {
    parts.push(el('div', { class: 'fax-ocr-text', id: `${pid}-text`, tabindex: '0', role: 'region',
      'aria-label': t('faxocr_text_label', { n: st.n }), lang: 'ja' }, String(p.text)));
  } else if (p.state === 'done') {
    parts.push(el('p', null, t('faxocr_no_text')));
  }
  const cands = Array.isArray(p.candidates) ? p.candidates : [];
  if (cands.length) parts.push(candidates(pid, img, p, cands, reload));
  if (p.state !== 'pending') parts.push(rereadButton(pid, id, p, reload));
  node.replaceChildren(...parts);
}

// the region of the page as a cut-out of the page image (its PNG doubles
// the rows of a standard-resolution page: the scale comes from its size)
function crop(img, p, box) {
  const [x, y, w, h] = box.map(Number);
  if (!img.naturalWidth || !p.width || !p.height || !(w > 0 && h > 0)) return null;
  const sx = img.naturalWidth / p.width;
  const sy = img.naturalHeight / p.height;
  const k = Math.min(1, CROP_MAX_WIDTH / (w * sx));
  // set through the CSSOM: the page's CSP refuses style attributes
  const span = el('span', { class: 'fax-ocr-crop', 'aria-hidden': 'true' });
  span.style.width = `${Math.round(w * sx * k)}px`;
  span.style.height = `${Math.round(h * sy * k)}px`;
  span.style.backgroundImage = `url("${img.currentSrc || img.src}")`;
  span.style.backgroundSize = `${Math.round(img.naturalWidth * k)}px ${Math.round(img.naturalHeight * k)}px`;
  span.style.backgroundPosition = `-${Math.round(x * sx * k)}px -${Math.round(y * sy * k)}px`;
  return span;
}

function candidates(pid, img, p, cands, reload) {
  const canWrite = ['operator', 'supervisor'].includes(document.body.dataset.role);
  const list = el('ul', { class: 'fax-ocr-cands', id: `${pid}-cands` });
  for (const c of cands) {
    const item = el('li', { 'data-candidate': Number(c.id) },
      el('span', { class: 'fax-ocr-kind' }, t(`faxocr_kind_${c.kind}`)), ' ',
      el('strong', { class: 'fax-ocr-value' }, String(c.value)));
    const cut = crop(img, p, c.box || []);
    if (cut) item.append(el('br'), cut);
    if (c.accepted_at) {
      item.append(el('br'), el('span', { class: 'fax-ocr-accepted' },
        t('faxocr_accepted', { who: c.accepted_by || '' })));
    } else if (canWrite) {
      const b = el('button', { type: 'button', class: 'btn', id: `${pid}-accept-${Number(c.id)}` },
        t('faxocr_accept', { kind: t(`faxocr_kind_${c.kind}`) }));
      b.addEventListener('click', async () => {
        b.disabled = true;
        const r = await request(() => api.faxCandidateAccept(Number(c.id)));
        if (r.status === 200) {
          announce(t('faxocr_accepted_said', { kind: t(`faxocr_kind_${c.kind}`), value: c.value }));
          window.dispatchEvent(new CustomEvent('mdg:contact-changed'));
          reload();
        } else {
          b.disabled = false;
          item.append(el('span', { class: 'form-error', role: 'alert' }, t('faxocr_accept_failed')));
        }
      });
      item.append(el('br'), b);
    }
    list.append(item);
  }
  return el('div', null, el('p', { class: 'hint' }, t('faxocr_cands_hint')), list);
}

function rereadButton(pid, id, p, reload) {
  const b = el('button', { type: 'button', class: 'btn', id: `${pid}-reread` }, t('faxocr_reread'));
  b.addEventListener('click', async () => {
    b.disabled = true;
    const r = await request(() => api.faxOcrReread(id, Number(p.page)));
    announce(r.status === 200 ? t('faxocr_reread_said', { n: p.page }) : t('faxocr_reread_failed'));
    reload();
  });
  return b;
}
