"""Citizens' letters for the OCR tests and benchmark (issue 8), written here,
and the measures they are read by.

letter(i)    a letter with its own phone, fax and mobile numbers, postal code
             and mail address (valid Japanese numbers for any i): the text,
             the numbers expected (kind, value) and the address
norm(s)      NFKC, white space removed
cer(t, s)    character error rate: edit distance over code points / len(t)
page(...)    set a letter on A4 (tests/tools/faxpage, through the fax line's
             loopback), read it with madoguchi-ocr-page; the figures
"""
import json
import os
import subprocess
import unicodedata

FONTS = ['IPAGothic', 'IPAMincho', 'Noto Sans CJK JP']
SIZES = [10.5, 12]
TOWNS = [('新宿区西新宿二丁目八番一号', '160-0023'), ('港区芝公園四丁目二番八号', '105-0011'),
         ('世田谷区世田谷四丁目二十一番二十七号', '154-8504'), ('練馬区豊玉北六丁目十二番一号', '176-8501'),
         ('足立区中央本町一丁目十七番一号', '120-8510'), ('江東区東陽四丁目十一番二十八号', '135-8383')]
TOPICS = [('粗大ごみの収集', '申し込んだ日に収集車が来なかったため、次の収集日を教えてください'),
          ('住民票の写しの郵送請求', '返信用封筒を同封しましたが、手数料の納め方がわかりません'),
          ('保育園の入園申込', '必要な書類と締切日、それから説明会の日程を教えてください'),
          ('道路の陥没', '自宅前の道路に穴が空いていて危ないので、早めに見に来てください')]


def letter(i):
    town, postal = TOWNS[i % len(TOWNS)]
    topic, ask = TOPICS[i % len(TOPICS)]
    phone = f'03-{5100 + 37 * i:04d}-{1000 + 271 * i % 9000:04d}'
    fax = f'03-{5200 + 53 * i:04d}-{2000 + 113 * i:04d}'
    mobile = f'090-{2400 + 19 * i:04d}-{1300 + 97 * i:04d}'
    mail = f'citizen{i}.yamada@example.jp'
    text = (f'窓口センター　御中\n\n{topic}についての問い合わせ\n\n'
            f'いつもお世話になっております。{ask}。'
            f'平日の午前中であれば在宅しております。お手数ですが、下記の電話番号かファクス番号までご連絡ください。\n\n'
            f'住所　〒{postal} 東京都{town}\n電話　{phone}\nFAX　{fax}\n携帯　{mobile}\n'
            f'メール　{mail}\n\nよろしくお願い申し上げます。\n')
    want = sorted([('phone', phone), ('fax', fax), ('phone', mobile), ('postal', '〒' + postal)])
    return text, want, mail


def norm(s):
    return ''.join(c for c in unicodedata.normalize('NFKC', s) if not c.isspace())


def cer(truth, text):
    prev = list(range(len(text) + 1))
    for i, a in enumerate(truth, 1):
        cur = [i] + [0] * len(text)
        for j, b in enumerate(text, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b))
        prev = cur
    return prev[-1] / len(truth)


def page(faxpage, ocrpage, tmp, n, font, pt, res):
    text, want, mail_want = letter(n)
    src = os.path.join(tmp, f'p{n}.txt')
    with open(src, 'w', encoding='utf-8') as f:
        f.write(text)
    out = os.path.join(tmp, f'p{n}.tif')
    subprocess.run([faxpage, '--text', src, '--font', font, '--pt', str(pt), '--res', res, '--loopback',
                    '--out', out], check=True)
    r = subprocess.run([ocrpage, out], stdout=subprocess.PIPE, text=True, check=True,
                       env=dict(os.environ, OMP_THREAD_LIMIT='1'))
    d = json.loads(r.stdout)
    got = sorted((c['kind'], c['value']) for c in d['candidates'] if c['kind'] != 'mail')
    mail = [c['value'] for c in d['candidates'] if c['kind'] == 'mail']
    return (n, font, pt, res, cer(norm(text + '1/1'), norm(d['text'])), got, want, d['ms'],
            mail == [mail_want])
