#!/usr/bin/python3
"""Files uploaded in the reply composer, in a real browser (composer.js,
ticketd/upload.c).

Private PostgreSQL, ingest-mail (Maildir), ticketd, escalationd and
postfix's smtp-sink; headless Chromium.  An operator opens the composer,
chooses a file with a Japanese name through the file input (send_keys, as
the chooser would), sees it listed with its size and a 削除 button (listed
again after a page load), and an unticked confirmation box for it; a second
file is uploaded and removed again (its row gone); a password zip is refused with the PPAP message, a
file over ticketd.upload_max_bytes and an empty one before they are sent.
送信 stays disabled until the upload is ticked and previewed; the preview
lists it; axe-core finds no WCAG 2.1 AA violation on the composer with an
upload and its preview (of an empty body, which once drew one).  Sent, escalationd delivers it and the sink's mail
carries the exact bytes under the exact name; the timeline lists the file
on the reply.  No script errors, no CSP violations.  Screenshots:
tests/artefacts/browser-upload-*.png.
"""
import io
import os
import struct
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
import test_a11y  # noqa: E402
import test_reply as rp  # noqa: E402
import test_sender as ts  # noqa: E402

LOGIN, PASSWORD, DISPLAY = 'op-upload', 'upload view password 1', '添付 担当'
NAME = '回答資料 令和8年度.pdf'
DATA = b'%PDF-1.4\n' + bytes((i * 13 + 5) % 256 for i in range(880)) + b'\n%%EOF\n'  # 896 bytes
OTHER = '不要なメモ.txt'
MAX_FILE = 100000  # ticketd.upload_max_bytes


def login(t, b, base):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(LOGIN)
    b.find('#login-password').send_keys(PASSWORD + Keys.ENTER)
    t.check('logged in', bool(b.wait(lambda: b.visible('#view-queue'), 10)))


def press(b, css, key=Keys.ENTER):
    """focus an element and press a key on it, as a keyboard user does"""
    b.js('arguments[0].focus()', b.find(css))
    b.driver.switch_to.active_element.send_keys(key)


def send_disabled(b):
    return b.js("return document.getElementById('composer-send').disabled")


def listed(b):
    """read in one script: the list is redrawn as uploads finish (no stale elements)"""
    return b.js("return Array.from(document.querySelectorAll('#composer-upload-list li')).map(li => li.innerText)")


def text(b, css):
    return b.js('const e = document.querySelector(arguments[0]); return e ? e.innerText : ""', css)


def write(env, name, data):
    folder = os.path.join(env.root, 'files')
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def ppap_zip():
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z:
        z.writestr('a.txt', b'secret\n')
    data = bytearray(b.getvalue())
    for sig, off in ((b'PK\x03\x04', 6), (b'PK\x01\x02', 8)):
        at = data.index(sig)
        struct.pack_into('<H', data, at + off, struct.unpack_from('<H', data, at + off)[0] | 1)
    return bytes(data)


def upload_rows(env, tid):
    return env.sql(f"SELECT filename, size, coalesce(used_by_message_id::text, '-') FROM reply_upload"
                   f" WHERE ticket_id = {tid} ORDER BY id")


def choose(t, b, env, tid):
    press(b, '#composer-open')
    t.check('composer open', bool(b.wait(lambda: b.visible('#composer-upload-input'), 10)))
    b.find('#composer-body').send_keys('資料を添付します。')
    b.find('#composer-upload-input').send_keys(write(env, NAME, DATA))
    t.check('the chosen file is listed with its size and a remove button', bool(b.wait(
        lambda: listed(b) == [f'{NAME}（{len(DATA)} バイト） 削除'], 10)), str(listed(b)))
    t.equal('its row: name, size, unused', upload_rows(env, tid), [[NAME, str(len(DATA)), '-']])
    t.equal('the remove button names the file',
            b.find('#composer-upload-remove-0').get_attribute('aria-label'), f'{NAME} を添付から削除')
    b.find('#composer-upload-input').send_keys(write(env, OTHER, 'いらないメモ\n'.encode('utf-8')))
    t.check('a second file listed', bool(b.wait(lambda: len(listed(b)) == 2, 10)), str(listed(b)))
    press(b, '#composer-upload-remove-1')
    t.check('removed: one file listed again, focus back on the file input', bool(b.wait(
        lambda: len(listed(b)) == 1 and b.js('return document.activeElement.id') == 'composer-upload-input', 10)))
    t.equal('its row deleted', upload_rows(env, tid), [[NAME, str(len(DATA)), '-']])
    b.find('#composer-upload-input').send_keys(write(env, '書類.zip', ppap_zip()))
    t.check('a password zip: refused with the PPAP message', bool(b.wait(
        lambda: 'パスワード付き（暗号化）zipは送れません' in text(b, '#composer-message'), 10)),
        text(b, '#composer-message'))
    t.equal('nothing stored for it', len(upload_rows(env, tid)), 1)
    b.find('#composer-upload-input').send_keys(write(env, '大きな地図.png', b'\x89PNG' + b'x' * MAX_FILE))
    t.check('a file over ticketd.upload_max_bytes: told before sending, with both limits', bool(b.wait(
        lambda: text(b, '#composer-message').endswith(
            '大きな地図.png: ファイルが大きすぎます。1ファイル 97.7 KB まで、添付は合計 10.0 MB までです。'), 10)),
        text(b, '#composer-message'))
    b.find('#composer-upload-input').send_keys(write(env, '空.txt', b''))
    t.check('an empty file: told', bool(b.wait(
        lambda: '空.txt: 空のファイルは添付できません。' in text(b, '#composer-message'), 10)),
        text(b, '#composer-message'))
    t.equal('neither stored', len(upload_rows(env, tid)), 1)


def confirm_and_preview(t, b, tid):
    boxes = b.wait(lambda: len(b.finds('#composer-confirm input[type=checkbox]')) == 2 and
                   b.finds('#composer-confirm input[type=checkbox]'), 5)
    labels = [b.js('return document.querySelector(`label[for="${arguments[0]}"]`).textContent',
                   x.get_attribute('id')) for x in (boxes or [])]
    t.equal('a tick box for the recipient and one for the upload', labels,
            [f'宛先 (To): {rp.CITIZEN[0]} <{rp.CITIZEN[1]}> に送ることを確認しました',
             f'アップロードしたファイル {NAME}（{len(DATA)} バイト）を送ることを確認しました'])
    press(b, '#composer-ok-r-0', Keys.SPACE)
    press(b, '#composer-preview')
    t.check('preview shown', bool(b.wait(lambda: b.js("return document.activeElement.id") == 'composer-preview-title', 10)))
    t.check('the upload unticked: send disabled', send_disabled(b) is True)
    press(b, '#composer-ok-u-0', Keys.SPACE)
    pairs = dict(b.js("return Array.from(document.querySelectorAll('#composer-preview-pane dl.headers > div'))"
                      ".map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])"))
    t.equal('preview: the upload as the citizen gets it', pairs.get('添付ファイル'), f'{NAME} ({len(DATA)} バイト)')
    t.check('ticked and previewed: send enabled', bool(b.wait(lambda: send_disabled(b) is False, 5)))


def send(t, b, env, sink, tid):
    press(b, '#composer-send')
    t.check('sent: the status shown', bool(b.wait(lambda: b.visible('#composer-sent-status'), 10)))
    rows = env.sql(f'SELECT id, message_id FROM outbound_mail WHERE ticket_id = {tid}')
    if not rows:
        t.fail('an outbound_mail row', 'none')
        return
    oid, mid = rows[0]
    t.equal('the upload is attachment 0 of the reply, and used',
            (env.sql(f'SELECT idx, filename, size FROM attachment WHERE message_id = {mid}'), upload_rows(env, tid)),
            ([['0', NAME, str(len(DATA))]], [[NAME, str(len(DATA)), mid]]))
    t.check('escalationd sent it', mdg.wait_for(lambda: env.sql(
        f'SELECT state FROM outbound_mail WHERE id = {oid}') == [['sent']], 20, 0.1))
    raw = rp.raw_of(env, oid)
    mdg.wait_for(lambda: any(ts.lf(raw) in m[2] for m in ts.sink_mails(sink)), 10, 0.2)
    got = [m for m in ts.sink_mails(sink) if ts.lf(raw) in m[2]]
    t.equal('the sink got it once', len(got), 1)
    m = rp.parse(got[0][2] if got else raw)
    t.equal('at the sink: the exact name and bytes',
            [(p.get_filename(), p.get_payload(decode=True)) for p in m.iter_attachments()], [(NAME, DATA)])
    t.check('timeline: the reply lists the file', bool(b.wait(
        lambda: NAME in ' '.join(x.text for x in b.finds('article.message-out')), 15)))
    b.screenshot('3-sent')


def main():
    t = mdg.Checks('browser-upload')
    with open(test_a11y.AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-upload') as env:
        env.start_db()
        sink = mdg.SmtpSink(env).start()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': rp.FROM_ADDR,
                            'mail.from_name': rp.FROM_NAME, 'ticketd.send_delay_seconds': '1',
                            'ticketd.upload_max_bytes': str(MAX_FILE)})
        ts.sender_config(env, sink.port)
        env.add_user(LOGIN, 'operator', PASSWORD, DISPLAY)
        env.start('ingest-mail')
        tick = env.start('ticketd')
        esc = env.start('escalationd')
        env.maildir_drop(rp.citizen_mail('browser-upload-1@example.jp', pdf=False))
        tid, _ = rp.wait_ticket(env, 'browser-upload-1@example.jp')
        t.check('mail became a ticket', tid is not None)
        if tid is not None:
            base = f'http://127.0.0.1:{port}'
            try:
                with Browser(mdg.ARTEFACTS, 'browser-upload') as b:
                    login(t, b, base)
                    b.get(f'{base}/#/tickets/{tid}')
                    t.check('ticket shown', bool(b.wait(lambda: b.visible('#composer-open'), 10)))
                    choose(t, b, env, tid)
                    b.screenshot('1-uploaded')
                    b.driver.refresh()
                    t.check('reloaded', bool(b.wait(lambda: b.visible('#composer-open'), 10)))
                    press(b, '#composer-open')
                    t.check('after a page load the composer lists the unsent upload again', bool(b.wait(
                        lambda: b.visible('#composer-upload-list') and listed(b) == [f'{NAME}（{len(DATA)} バイト） 削除'],
                        10)), str(b.visible('#composer-upload-list') and listed(b)))
                    confirm_and_preview(t, b, tid)
                    b.driver.set_script_timeout(30)
                    b.screenshot('2-preview')
                    t.equal('composer with an upload and its preview: no WCAG 2.1 AA violation',
                            test_a11y.axe(b, axe_src), [])
                    send(t, b, env, sink, tid)
                    errors = [m for m in b.read_console() + b.console
                              if 'Uncaught' in m or 'Content Security Policy' in m]
                    t.equal('no script errors or CSP violations', sorted(set(errors)), [])
            except Exception as e:  # a crash is a failure with its reason, then the summary
                t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
                print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
        t.check('ticketd alive, no errors logged', tick.alive() and '] error:' not in tick.log_text(),
                tick.log_text()[-1500:])
        t.check('escalationd alive', esc.alive())
    t.done()


if __name__ == '__main__':
    main()
