// The string table.  Japanese is the product language; English exists for
// staff who read it better and for support.  The choice is a per-browser
// preference kept in localStorage; the server knows nothing about it.
//
// t(key, {name: value}) substitutes {name}.  A missing English string falls
// back to Japanese, a missing key shows the key, so a gap is visible rather
// than blank.

const STRINGS = {
  ja: {
    skip: '本文へ移動',
    brand_sub: '問い合わせ受付',
    logout: 'ログアウト',
    lang_other: 'English',
    loading: '読み込み中…',
    login_title: 'ログイン',
    login_id: 'ログインID',
    password: 'パスワード',
    login_submit: 'ログイン',
    login_failed: 'ログインIDまたはパスワードが正しくありません。',
    login_missing: 'ログインIDとパスワードを入力してください。',
    login_locked: 'ログインが一時的に制限されています。しばらくしてからやり直してください。',
    session_expired: 'セッションの有効期限が切れました。もう一度ログインしてください。',
    queue_title: '要対応リスト',
    all_title: 'すべての受付',
    views_label: '表示の切り替え',
    view_open: '要対応',
    view_all: 'すべて',
    count_new: '新規',
    count_unit: '件',
    queue_caption: '{view}: {shown}件を表示中',
    col_id: '受付番号',
    col_subject: '件名',
    col_from: '差出人',
    col_arrived: '受信日時',
    col_status: '状態',
    col_channel: '受付経路',
    col_flags: '注意',
    col_attachments: '添付',
    queue_empty: '対応が必要な受付はありません。',
    all_empty: '受付はまだありません。',
    more: 'さらに表示',
    no_subject: '(件名なし)',
    attachments_n: '{n}件',
    attachments_label: '添付ファイル {n}件',
    fresh: '新着',
    updated: '更新',
    announce_new: '新着の受付 {id}番: {subject}',
    announce_updated: '受付 {id}番が更新されました: {subject}',
    announce_more: 'ほか{n}件の受付が更新されました。',
    live_on: 'リアルタイム更新中',
    live_off: '再接続中…',
    live_label: '更新状態',
    back: '← 要対応リストに戻る',
    back_all: '← 受付一覧に戻る',
    ticket_no: '受付番号 {id}',
    created_at: '作成日時',
    updated_at: '更新日時',
    queue_name: 'キュー',
    messages: 'やりとり',
    msg_in: '受信 {n}',
    msg_out: '送信 {n}',
    from: '差出人',
    to: '宛先',
    cc: 'CC',
    date: '日時',
    arrived: '受信',
    subject: '件名',
    body: '本文',
    body_empty: '(本文なし)',
    parse_unparsed: 'このメールは解析できませんでした。原文をダウンロードできます。',
    parse_partial: 'このメールの一部を解析できませんでした。原文をダウンロードできます。',
    parse_oversize: 'このメールはサイズの上限を超えたため、本文を取り込んでいません。原文をダウンロードできます。',
    parse_notes: '詳細: {notes}',
    html_notice: 'このメールにはHTML版があります。安全のため、スクリプト・フォーム・外部画像を無効にして表示します。',
    html_show: 'HTMLを表示',
    html_hide: 'HTMLを隠す',
    html_frame: 'HTML版の本文 (受信 {n})',
    attachments: '添付ファイル',
    raw_download: '原文 (.eml) をダウンロード',
    events: '履歴',
    events_empty: '履歴はありません。',
    reload: '最新の内容を表示',
    not_found: '受付番号 {id} は見つかりません。',
    load_failed: '読み込みに失敗しました ({status})。',
    network_failed: 'サーバーに接続できません。',
    forbidden: 'この操作の権限がありません。',
    unknown: '不明',
    none: '—',
    status_new: '新規',
    status_open: '対応中',
    status_waiting_citizen: '市民回答待ち',
    status_escalated: '所管課対応中',
    status_resolved: '解決',
    status_closed: '完了',
    channel_mail: 'メール',
    channel_fax: 'FAX',
    channel_call: '電話',
    channel_form: 'フォーム',
    flag_unparsed: '解析不可',
    flag_oversize: 'サイズ超過',
    flag_undecodable: '文字化けあり',
    event_created: '受付',
    event_message_in: 'メール受信',
    bytes: '{n} バイト',
    kb: '{n} KB',
    mb: '{n} MB',
  },
  en: {
    skip: 'Skip to content',
    brand_sub: 'Contact centre',
    logout: 'Log out',
    lang_other: '日本語',
    loading: 'Loading…',
    login_title: 'Log in',
    login_id: 'Login ID',
    password: 'Password',
    login_submit: 'Log in',
    login_failed: 'The login ID or password is wrong.',
    login_missing: 'Enter your login ID and password.',
    login_locked: 'Logging in is blocked for a while. Try again later.',
    session_expired: 'Your session has expired. Please log in again.',
    queue_title: 'Work queue',
    all_title: 'All tickets',
    views_label: 'Choose view',
    view_open: 'To do',
    view_all: 'All',
    count_new: 'New',
    count_unit: '',
    queue_caption: '{view}: showing {shown}',
    col_id: 'No.',
    col_subject: 'Subject',
    col_from: 'From',
    col_arrived: 'Received',
    col_status: 'Status',
    col_channel: 'Channel',
    col_flags: 'Notes',
    col_attachments: 'Files',
    queue_empty: 'Nothing needs attention.',
    all_empty: 'No tickets yet.',
    more: 'Show more',
    no_subject: '(no subject)',
    attachments_n: '{n}',
    attachments_label: '{n} attachments',
    fresh: 'New',
    updated: 'Updated',
    announce_new: 'New ticket {id}: {subject}',
    announce_updated: 'Ticket {id} updated: {subject}',
    announce_more: '{n} more tickets changed.',
    live_on: 'Live',
    live_off: 'Reconnecting…',
    live_label: 'Update status',
    back: '← Back to the queue',
    back_all: '← Back to all tickets',
    ticket_no: 'Ticket {id}',
    created_at: 'Created',
    updated_at: 'Updated',
    queue_name: 'Queue',
    messages: 'Correspondence',
    msg_in: 'Received {n}',
    msg_out: 'Sent {n}',
    from: 'From',
    to: 'To',
    cc: 'Cc',
    date: 'Date',
    arrived: 'Received',
    subject: 'Subject',
    body: 'Body',
    body_empty: '(no text)',
    parse_unparsed: 'This mail could not be parsed. You can download the original.',
    parse_partial: 'Part of this mail could not be parsed. You can download the original.',
    parse_oversize: 'This mail is over the size limit; its body was not taken in. You can download the original.',
    parse_notes: 'Details: {notes}',
    html_notice: 'This mail has an HTML version. It is shown with scripts, forms and remote images disabled.',
    html_show: 'Show HTML',
    html_hide: 'Hide HTML',
    html_frame: 'HTML body (received {n})',
    attachments: 'Attachments',
    raw_download: 'Download the original (.eml)',
    events: 'History',
    events_empty: 'No history.',
    reload: 'Show the latest',
    not_found: 'Ticket {id} was not found.',
    load_failed: 'Loading failed ({status}).',
    network_failed: 'Cannot reach the server.',
    forbidden: 'You are not allowed to do this.',
    unknown: 'unknown',
    none: '—',
    status_new: 'New',
    status_open: 'Open',
    status_waiting_citizen: 'Waiting for citizen',
    status_escalated: 'With department',
    status_resolved: 'Resolved',
    status_closed: 'Closed',
    channel_mail: 'Mail',
    channel_fax: 'Fax',
    channel_call: 'Phone',
    channel_form: 'Form',
    flag_unparsed: 'Unparsed',
    flag_oversize: 'Oversize',
    flag_undecodable: 'Undecodable text',
    event_created: 'Received',
    event_message_in: 'Mail received',
    bytes: '{n} bytes',
    kb: '{n} KB',
    mb: '{n} MB',
  },
};

const STORE_KEY = 'madoguchi.lang';
let current = 'ja';

try {
  const saved = window.localStorage.getItem(STORE_KEY);
  if (saved && Object.prototype.hasOwnProperty.call(STRINGS, saved)) current = saved;
} catch (e) {
  // storage may be disabled; Japanese it is
}

export function lang() {
  return current;
}

export function setLang(code) {
  if (!Object.prototype.hasOwnProperty.call(STRINGS, code)) return;
  current = code;
  try {
    window.localStorage.setItem(STORE_KEY, code);
  } catch (e) {
    // not kept across reloads then; harmless
  }
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(STRINGS.ja, key);
}

export function t(key, params) {
  let s = STRINGS[current][key];
  if (s === undefined) s = STRINGS.ja[key];
  if (s === undefined) return key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) =>
      (Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m));
  }
  return s;
}

// Re-label the static parts of the page (elements carrying data-i18n or
// data-i18n-aria) and the <html lang>.
export function applyStatic(root) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }
}
