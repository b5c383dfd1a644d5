#!/usr/bin/python3
"""Outgoing mail (lib/mailout, driven through tests/tools/mailout-cli) read
back by another reader: Debian's Python email package, policy=default.  For
UTF-8 and ISO-2022-JP, with characters ISO-2022-JP cannot carry (fallback to
UTF-8), long subjects, a 2 000-line body, CRLF and lone CR in the input and
Japanese attachment names, the decoded subject, From, To, Cc, body and
attachment bytes must equal the input exactly.  Every message is also
checked line by line: 7-bit, CRLF only, header lines within 78 characters,
every line within 998 octets, each encoded word within 75 characters and
decoding to whole characters on its own."""
import base64
import email
import email.header
import email.policy
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('mailout_parse')
CLI = os.path.join(mdg.BUILD, 'tests', 'tools', 'mailout-cli')
TMP = tempfile.mkdtemp(prefix='mdg-mailout-')
DATE_US = 1795320600000000  # 2026-11-22 04:10:00 UTC = 13:10 in Tokyo, a Sunday
EW = re.compile(rb'=\?([^?]+)\?([BbQq])\?([^?]*)\?=')
# every character Python's (and glibc's) JIS X 0208 table has, less the six
# cells Windows tables read otherwise (0x2141 0x2142 0x215D 0x2171 0x2172 0x224C)
AMBIGUOUS = {(0x21, 0x41), (0x21, 0x42), (0x21, 0x5D), (0x21, 0x71), (0x21, 0x72), (0x22, 0x4C)}


def jis0208_chars():
    out = []
    for a in list(range(0x21, 0x29)) + list(range(0x30, 0x75)):
        for b in range(0x21, 0x7F):
            if (a, b) in AMBIGUOUS:
                continue
            try:
                out.append((b'\x1b$B' + bytes([a, b]) + b'\x1b(B').decode('iso2022_jp'))
            except UnicodeDecodeError:
                pass
    return ''.join(out)


def build(args, body=None, atts=(), jis=False, expect_fail=False):
    """Run the CLI; (raw bytes, msgid) or (None, stderr) when it failed."""
    argv = [CLI, '--from-addr', 'center@city.test', '--date-us', str(DATE_US)]
    if jis:
        argv.append('--jis')
    if body is not None:
        path = os.path.join(TMP, 'body')
        with open(path, 'wb') as f:
            f.write(body.encode('utf-8') if isinstance(body, str) else body)
        argv += ['--body-file', path]
    for i, (name, ctype, data) in enumerate(atts):
        path = os.path.join(TMP, f'att{i}')
        with open(path, 'wb') as f:
            f.write(data)
        argv += ['--att', path]
        if name is not None:
            argv += ['--att-name', name]
        if ctype is not None:
            argv += ['--att-type', ctype]
    argv += [a.encode('utf-8') if isinstance(a, str) else a for a in args]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        if not expect_fail:
            t.fail('mailout-cli ran', r.stderr.decode('utf-8', 'replace'))
        return None, r.stderr.decode('utf-8', 'replace')
    m = re.search(rb'msgid=(\S+)', r.stderr)
    return r.stdout, m.group(1).decode() if m else None


def normal_body(s):
    s = s.replace('\r\n', '\n').replace('\r', '\n')
    return s + '\n' if s and not s.endswith('\n') else s


def header_blocks(raw):
    """The header block of the message and of each MIME part, as lists of lines."""
    blocks, lines = [], raw.split(b'\r\n')
    i = 0
    blocks.append([])
    while i < len(lines) and lines[i] != b'':
        blocks[-1].append(lines[i])
        i += 1
    for j, line in enumerate(lines):
        if line.startswith(b'--=_mdg_') and not line.endswith(b'--'):
            block, k = [], j + 1
            while k < len(lines) and lines[k] != b'':
                block.append(lines[k])
                k += 1
            blocks.append(block)
    return blocks


def word_ok(charset, text):
    """An encoded word decodes on its own to whole characters."""
    data = base64.b64decode(text, validate=True)
    if charset.lower() == b'utf-8':
        data.decode('utf-8')
        return True
    if charset.lower() == b'iso-2022-jp':
        data.decode('iso2022_jp')
        escs = re.findall(rb'\x1b[($][@-Z]', data)
        return not escs or escs[-1] == b'\x1b(B'
    return False


def check_lines(name, raw, header_width=78):
    """7-bit, CRLF only, header lines within header_width, all lines within 998, words within 75."""
    why = []
    if b'\x00' in raw:
        why.append('NUL')
    if any(b >= 0x80 for b in raw):
        why.append('8-bit octet')
    if re.search(rb'(?<!\r)\n', raw) or re.search(rb'\r(?!\n)', raw):
        why.append('bare LF or CR')
    if not raw.endswith(b'\r\n'):
        why.append('no CRLF at the end')
    long = [len(x) for x in raw.split(b'\r\n') if len(x) > 998]
    if long:
        why.append(f'line of {long[0]} octets')
    for block in header_blocks(raw):
        for line in block:
            if len(line) > header_width:
                why.append(f'header line of {len(line)}: {line[:40]!r}')
            for m in EW.finditer(line):
                if len(m.group(0)) > 75:
                    why.append(f'encoded word of {len(m.group(0))}')
                try:
                    if not word_ok(m.group(1), m.group(3)):
                        why.append(f'word not back in ASCII: {m.group(0)!r}')
                except (UnicodeDecodeError, ValueError) as e:
                    why.append(f'word {m.group(0)!r} alone does not decode: {e}')
    t.check(f'{name}: 7-bit, CRLF, lines within {header_width}/998, words within 75, whole characters',
            not why, '; '.join(why[:4]))


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def raw_header(raw, name):
    """The unfolded value of a top-level header, as bytes."""
    head = raw.split(b'\r\n\r\n', 1)[0]
    m = re.search(rb'(?im)^' + name.encode() + rb':([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)', head)
    return re.sub(rb'\r\n', b'', m.group(1)).strip() if m else None


def word_charsets(raw, name):
    v = raw_header(raw, name) or b''
    return sorted({m.group(1).decode().upper() for m in EW.finditer(v)})


def addresses(msg, name):
    h = msg[name]
    return [(a.display_name, a.addr_spec) for a in h.addresses] if h is not None else []


def text_part(msg):
    part = msg.get_body(('plain',))
    return part, part.get_content() if part is not None else None


def check_roundtrip(name, raw, subject=None, from_=None, to=None, cc=None, body=None, atts=None,
                    charset=None, cte=None):
    msg = parse(raw)
    if subject is not None:
        t.equal(f'{name}: subject', str(msg['subject']), subject)
    if from_ is not None:
        t.equal(f'{name}: from', addresses(msg, 'from'), [from_])
    if to is not None:
        t.equal(f'{name}: to', addresses(msg, 'to'), to)
    if cc is not None:
        t.equal(f'{name}: cc', addresses(msg, 'cc'), cc)
    part, text = text_part(msg)
    if body is not None:
        t.equal(f'{name}: body', text.replace('\r\n', '\n') if text is not None else None,
                normal_body(body))
    if charset is not None:
        t.equal(f'{name}: body charset', part.get_content_charset(), charset)
    if cte is not None:
        t.equal(f'{name}: body transfer encoding', part.get('content-transfer-encoding'), cte)
    if atts is not None:
        got = [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True))
               for a in msg.iter_attachments()]
        want = [(n, c or 'application/octet-stream', d) for n, c, d in atts]
        bad = [f'{w[0]!r}: got {g[0]!r} {g[1]} {len(g[2])} bytes' for g, w in zip(got, want) if g != w]
        t.check(f'{name}: attachments (file name, type, bytes)', got == want,
                f'{len(got)} of {len(want)}; ' + '; '.join(bad[:3]))
        names = [a['content-type'].params.get('name') for a in msg.iter_attachments()]
        t.equal(f'{name}: attachments name= (RFC 2047)', names, [n for n, _, _ in atts])
    return msg


# ---------------------------------------------------------------------------

def case_utf8_basic():
    body = '拝啓\n住民票の件です。\r\nよろしく\rお願いします\n\n敬具'
    raw, msgid = build(['--from-name', '横浜市中区役所 コールセンター',
                        '--to', 'Yamada, Taro <taro@example.jp>, 佐藤花子 <hanako@example.jp>, plain@example.jp',
                        '--cc', '"Dr. Who" <who@x.test>, "Back\\\\slash \\"Q\\"" <q@x.test>',
                        '--reply-to', '窓口 <reply@city.test>',
                        '--subject', 'Re: 住民票の写しの交付について',
                        '--in-reply-to', 'abc.123@mail.example.jp',
                        '--references', 'first@x.example  second@y.example'], body)
    check_lines('utf8', raw)
    msg = check_roundtrip('utf8', raw, subject='Re: 住民票の写しの交付について',
                          from_=('横浜市中区役所 コールセンター', 'center@city.test'),
                          to=[('Yamada, Taro', 'taro@example.jp'), ('佐藤花子', 'hanako@example.jp'),
                              ('', 'plain@example.jp')],
                          cc=[('Dr. Who', 'who@x.test'), ('Back\\slash "Q"', 'q@x.test')],
                          body=body, charset='utf-8', cte='base64')
    t.equal('utf8: reply-to', addresses(msg, 'reply-to'), [('窓口', 'reply@city.test')])
    t.equal('utf8: Date, pinned, in +0900', raw_header(raw, 'Date'), b'Sun, 22 Nov 2026 13:10:00 +0900')
    t.equal('utf8: Date read back', msg['date'].datetime.isoformat(), '2026-11-22T13:10:00+09:00')
    t.check('utf8: Message-ID <32 hex@domain> and the id handed back',
            re.fullmatch(rb'<[0-9a-f]{32}@madoguchi\.test>', raw_header(raw, 'Message-ID') or b'')
            and raw_header(raw, 'Message-ID') == f'<{msgid}>'.encode(), raw_header(raw, 'Message-ID'))
    t.equal('utf8: In-Reply-To', raw_header(raw, 'In-Reply-To'), b'<abc.123@mail.example.jp>')
    t.equal('utf8: References end with the parent',
            raw_header(raw, 'References'), b'<first@x.example> <second@y.example> <abc.123@mail.example.jp>')
    t.equal('utf8: MIME-Version', raw_header(raw, 'MIME-Version'), b'1.0')
    t.equal('utf8: "Re:" stays raw ASCII before the encoded words', raw_header(raw, 'Subject')[:4], b'Re: ')
    raw2, msgid2 = build(['--to', 'a@b.test', '--subject', 'x'], 'x')
    t.check('utf8: a second mail has another Message-ID', msgid2 != msgid and len(msgid2) == len(msgid))


def case_ascii():
    raw, _ = build(['--from-name', 'City Hall', '--to', 'John Smith <john@example.com>',
                    '--subject', 'Re: Your request #42 (garbage collection)'],
                   'Dear John,\n\nThank you.\n')
    check_lines('ascii', raw)
    t.equal('ascii: subject stays raw', raw_header(raw, 'Subject'), b'Re: Your request #42 (garbage collection)')
    t.equal('ascii: From raw atoms', raw_header(raw, 'From'), b'City Hall <center@city.test>')
    check_roundtrip('ascii', raw, subject='Re: Your request #42 (garbage collection)',
                    body='Dear John,\n\nThank you.\n', charset='utf-8', cte='7bit')
    long_line = 'x' * 1500
    raw, _ = build(['--to', 'a@b.test', '--subject', 'long line'], long_line)
    check_lines('ascii long line', raw)
    check_roundtrip('ascii long line', raw, body=long_line, cte='base64')
    raw, _ = build(['--to', 'a@b.test', '--subject', 'no end'], 'no newline at the end')
    check_roundtrip('ascii without last newline', raw, body='no newline at the end', cte='7bit')
    raw, _ = build(['--to', 'a@b.test', '--subject', 'empty'], '')
    check_lines('empty body', raw)
    check_roundtrip('empty body', raw, body='')


def case_jis_basic():
    body = '拝啓\n住民票の写しの交付についてお問い合わせいただきありがとうございます。\n' \
           'ＡＢＣ abc 123 ￥１，０００円 ― 〒231-0021\n敬具\n'
    subject = 'Re: 住民票の写しの交付について（再送）'
    raw, _ = build(['--from-name', '横浜市 コールセンター', '--to', '山田 太郎 <taro@example.jp>',
                    '--subject', subject], body, jis=True)
    check_lines('jis', raw)
    check_roundtrip('jis', raw, subject=subject, from_=('横浜市 コールセンター', 'center@city.test'),
                    to=[('山田 太郎', 'taro@example.jp')], body=body, charset='iso-2022-jp', cte='7bit')
    t.equal('jis: subject words in ISO-2022-JP', word_charsets(raw, 'Subject'), ['ISO-2022-JP'])
    t.equal('jis: From word in ISO-2022-JP', word_charsets(raw, 'From'), ['ISO-2022-JP'])
    text = raw.split(b'\r\n\r\n', 1)[1]
    bad = [ln for ln in text.split(b'\r\n') if re.findall(rb'\x1b[($][@-Z]', ln)
           and re.findall(rb'\x1b[($][@-Z]', ln)[-1] != b'\x1b(B']
    t.check('jis: every body line ends in ASCII mode', not bad, repr(bad[:2]))


def case_jis_fallback():
    body = '株式会社の表記：㈱\n番号：①②③\n髙橋様、﨑山様\n絵文字 😀 も\n'
    raw, _ = build(['--from-name', '横浜市 コールセンター',
                    '--to', '㈱髙﨑商事 <t@x.jp>, 山田 太郎 <taro@example.jp>',
                    '--subject', 'Re: 住民票 ① の件 😀'], body, jis=True)
    check_lines('jis fallback', raw)
    check_roundtrip('jis fallback', raw, subject='Re: 住民票 ① の件 😀',
                    from_=('横浜市 コールセンター', 'center@city.test'),
                    to=[('㈱髙﨑商事', 't@x.jp'), ('山田 太郎', 'taro@example.jp')],
                    body=body, charset='utf-8', cte='base64')
    t.equal('jis fallback: subject with ① and emoji in UTF-8 words', word_charsets(raw, 'Subject'), ['UTF-8'])
    t.equal('jis fallback: From still ISO-2022-JP', word_charsets(raw, 'From'), ['ISO-2022-JP'])
    t.equal('jis fallback: To: ㈱髙﨑 name UTF-8, the other ISO-2022-JP',
            word_charsets(raw, 'To'), ['ISO-2022-JP', 'UTF-8'])
    t.check('jis fallback: no "?" in any decoded word', '?' not in ''.join(
        base64.b64decode(m.group(3)).decode(m.group(1).decode().lower().replace('-', '_')
                                            .replace('iso_2022_jp', 'iso2022_jp'))
        for m in EW.finditer(raw)))
    # one character at a time: each forces UTF-8 and survives
    for ch in ['①', '㈱', '髙', '﨑', '😀', '～', '－', '∥', '￢', 'ｱ', '〜', 'Ⅰ', '№', '\x1b(B']:
        s = f'件名{ch}です'
        raw, _ = build(['--to', 'a@b.test', '--subject', s], f'本文{ch}\n', jis=True)
        msg = parse(raw)
        _, text = text_part(msg)
        t.check(f'jis fallback {ch!r}: subject and body exact, in UTF-8',
                str(msg['subject']) == s and text.replace('\r\n', '\n') == f'本文{ch}\n'
                and word_charsets(raw, 'Subject') == ['UTF-8'] and msg.get_content_charset() == 'utf-8',
                f'{str(msg["subject"])!r} {text!r} {word_charsets(raw, "Subject")}')


def case_jis_table():
    chars = jis0208_chars()
    lines = [chars[i:i + 40] for i in range(0, len(chars), 40)]
    body = '\n'.join(lines) + '\n'
    raw, _ = build(['--to', 'a@b.test', '--subject', chars[:200]], body, jis=True)
    check_lines('jis table', raw)
    check_roundtrip('jis table', raw, subject=chars[:200], body=body, charset='iso-2022-jp', cte='7bit')
    t.equal(f'jis table: all {len(chars)} JIS X 0208 characters stay ISO-2022-JP (body; subject words)',
            word_charsets(raw, 'Subject'), ['ISO-2022-JP'])


def case_long_subjects():
    cases = {
        'japanese 60': '住民票の写しの交付申請に関するお問い合わせについて、担当課からの回答をお送りします。ご確認ください',
        'japanese 300': ''.join(random.Random(4).choice('あいうえお漢字住民票申請書類確認窓口区役所') for _ in range(300)),
        'mixed': 'Re: Fwd: [受付番号:12345] 住民票 request from Mr. Smith について (2nd) ' * 4,
        'long ascii word': 'see https://www.city.example.jp/' + 'a' * 120 + ' please',
        'blanks': '  leading and  double\tand tab and trailing  ',
        'encoded-looking': 'what =?UTF-8?B?5bGx?= is this ?= and =?',
        'many blanks': 'a' + ' ' * 40 + 'b',
        'emoji': '😀' * 40,
    }
    for jis in (False, True):
        for k, s in cases.items():
            name = f'subject {k}{" jis" if jis else ""}'
            raw, _ = build(['--to', 'a@b.test', '--subject', s], 'x', jis=jis)
            check_lines(name, raw)
            t.equal(f'{name}: decoded', str(parse(raw)['subject']), s)
    s = cases['japanese 60']
    raw, _ = build(['--to', 'a@b.test', '--subject', s], 'x')
    words = EW.findall(raw_header(raw, 'Subject'))
    t.check('subject japanese 60: several words, each whole characters',
            len(words) >= 3 and ''.join(base64.b64decode(w[2]).decode('utf-8') for w in words) == s,
            f'{len(words)} words')


def case_big_body():
    lines = [f'{i:04d} 行目：住民票の写しの交付申請について、必要書類をご案内します。' for i in range(2000)]
    body = '\n'.join(lines) + '\n'
    for jis in (False, True):
        name = 'body 2000 lines' + (' jis' if jis else '')
        raw, _ = build(['--to', 'a@b.test', '--subject', '長い本文'], body, jis=jis)
        check_lines(name, raw)
        check_roundtrip(name, raw, body=body, charset='iso-2022-jp' if jis else 'utf-8',
                        cte='7bit' if jis else 'base64')
    long_jis = '長' * 600  # 1 206 octets in ISO-2022-JP: no 7bit line can hold it
    raw, _ = build(['--to', 'a@b.test', '--subject', 'x'], long_jis, jis=True)
    check_lines('jis long line', raw)
    check_roundtrip('jis long line', raw, body=long_jis, charset='iso-2022-jp', cte='base64')
    mixed = 'CRLF\r\nlone CR\rLF\nCR CR\r\rend'
    for jis in (False, True):
        raw, _ = build(['--to', 'a@b.test', '--subject', 'x'], mixed, jis=jis)
        check_lines('line ends' + (' jis' if jis else ''), raw)
        check_roundtrip('line ends' + (' jis' if jis else ''), raw, body=mixed)


def case_attachments():
    rnd = random.Random(7)
    atts = [
        ('申請書（記入例）.pdf', 'application/pdf', bytes(rnd.getrandbits(8) for _ in range(100000))),
        ('令和八年度_住民票の写し等の交付請求書_記入例と注意事項の一覧（最新版）.xlsx',
         'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', b'PK\x03\x04' + bytes(range(256))),
        ('plain.txt', 'text/plain', 'テキスト\r\nそのまま\n'.encode('utf-8')),
        ('quote "x"; y.csv', 'text/csv', b'a,b\r\n1,2\r\n'),
        ('①㈱髙﨑😀.png', 'image/png', b'\x89PNG\r\n\x1a\n\x00'),
        ('empty.bin', None, b''),
    ]
    for jis in (False, True):
        name = 'attachments' + (' jis' if jis else '')
        raw, _ = build(['--to', 'a@b.test', '--subject', '添付ファイルの送付'], '添付します。\n', atts, jis=jis)
        check_lines(name, raw)
        check_roundtrip(name, raw, subject='添付ファイルの送付', body='添付します。\n', atts=atts,
                        charset='iso-2022-jp' if jis else 'utf-8')
        cd = re.findall(rb'Content-Disposition: attachment;\r\n (filename\*?0?\*?=\S*)', raw)
        t.check(f'{name}: Japanese names as RFC 2231 filename*', all(x.startswith(b"filename*") for x in
                [cd[0], cd[1]]) and b"UTF-8''" in cd[0], repr(cd[:2]))
        b64 = [ln for ln in raw.split(b'\r\n') if re.fullmatch(rb'[A-Za-z0-9+/=]{20,}', ln)]
        t.check(f'{name}: base64 lines of 76', b64 and max(map(len, b64)) == 76)


def case_long_names():
    long_name = '横浜市中区役所区政推進課広聴相談係コールセンター'  # 24 characters: two words
    raw, _ = build(['--from-name', long_name, '--to', 'a@b.test', '--subject', 'x'], 'x')
    check_lines('long display name', raw)
    phrase = raw_header(raw, 'From').rsplit(b' <', 1)[0]
    words = EW.findall(phrase)
    rfc = ''.join(b.decode(c or 'ascii') for b, c in email.header.decode_header(phrase.decode()))
    t.check('long display name: RFC 2047 decoding gives it back (Python 3.11 itself puts a space '
            'between the words: cpython gh-128110)', len(words) == 2 and rfc == long_name, rfc)
    addr = 'very.long.local.part.' * 4 + '@' + 'sub.' * 10 + 'example.jp'
    raw, _ = build(['--to', f'窓口 <{addr}>', '--subject', 'x'], 'x')
    check_lines('long address', raw, header_width=998)
    t.equal('long address: read back', addresses(parse(raw), 'to'), [('窓口', addr)])


def case_tags():
    for fmt in ['[受付番号:%d]', '[#T-%d#]', '(%d)', 'Ticket %d:', '%%%d%%', '[*.+?^$|\\%d]', '{%d}']:
        for jis in (False, True):
            raw, _ = build(['--to', 'a@b.test', '--subject', 'Re: 住民票の件', '--tag-format', fmt,
                            '--tag-id', '12345'], 'x', jis=jis)
            subj = str(parse(raw)['subject'])
            tag = fmt.replace('%d', '12345').replace('%%', '%')
            r = subprocess.run([CLI, 'find-tag', fmt, 'Re: ' + subj], stdout=subprocess.PIPE)
            t.check(f'tag {fmt!r}{" jis" if jis else ""}: written, read back by Python, found again',
                    subj == f'{tag} Re: 住民票の件' and r.stdout == b'12345\n', f'{subj!r} {r.stdout!r}')


def case_errors():
    for what, args in [('bad address', ['--to', 'Taro <not an address>', '--subject', 'x']),
                       ('no recipient', ['--to', ' , ', '--subject', 'x']),
                       ('invalid UTF-8 subject', ['--to', 'a@b.test', '--subject', b'\xff\xfe']),
                       ('quoted local part', ['--to', '"a b"@c.test', '--subject', 'x'])]:
        raw, err = build(args, 'x', expect_fail=True)
        t.check(f'refused: {what}', raw is None and err.startswith('mailout-cli: '), err)
    raw, _ = build(['--to', 'a@b.test', '--subject', 'x', '--in-reply-to', 'bad id@x',
                    '--references', 'ok@x b<a>d@y ' + 'z' * 300 + '@w'], 'x')
    t.equal('malformed foreign ids left out', (raw_header(raw, 'In-Reply-To'), raw_header(raw, 'References')),
            (None, b'<ok@x>'))


def main():
    r = subprocess.run(['make', '-s', '-C', mdg.BUILD, 'tests/tools/mailout-cli'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if not t.check('mailout-cli builds', r.returncode == 0 and os.access(CLI, os.X_OK),
                   r.stdout.decode('utf-8', 'replace')[-500:]):
        t.done()
    for case in (case_utf8_basic, case_ascii, case_jis_basic, case_jis_fallback, case_jis_table,
                 case_long_subjects, case_big_body, case_attachments, case_long_names, case_tags,
                 case_errors):
        try:
            case()
        except Exception as e:  # a crash in one case is a failure, not the end
            t.fail(case.__name__, f'{type(e).__name__}: {e}')
    t.done()


if __name__ == '__main__':
    main()
