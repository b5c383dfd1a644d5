"""mailgen: Japanese test mails written here (no third-party text).

mail(i) returns (raw_bytes, subject, body) for the i-th mail of a set that
rotates through ISO-2022-JP, UTF-8 and Shift_JIS; every third one is
multipart with a small fax-like TIFF attached under a Japanese file name.
The subject carries the number, so a test can check every one arrived once.
"""
import struct
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate

TOPICS = ['住民票の写しの請求について', '国民健康保険の手続き', '粗大ごみの収集日を教えてください',
          '児童手当の申請方法', '道路の陥没の連絡', '保育園の入園申込みについて',
          '税証明書の郵送請求', '転入届に必要な書類']
CHARSETS = ['iso-2022-jp', 'utf-8', 'shift_jis']


def tiff(width=64, height=32):
    """A valid uncompressed 1-bit TIFF with a fax resolution (204x196 dpi)."""
    row = (width + 7) // 8
    pixels = bytes(((x * 7 + y) & 0xff) for y in range(height) for x in range(row))
    entries = []

    def entry(tag, typ, count, value):
        entries.append(struct.pack('<HHII', tag, typ, count, value))
    off_pixels = 8
    off_ifd = off_pixels + len(pixels)
    n = 11
    off_xres = off_ifd + 2 + n * 12 + 4
    off_yres = off_xres + 8
    entry(256, 4, 1, width)         # ImageWidth
    entry(257, 4, 1, height)        # ImageLength
    entry(258, 3, 1, 1)             # BitsPerSample
    entry(259, 3, 1, 1)             # Compression: none
    entry(262, 3, 1, 0)             # Photometric: white is zero
    entry(273, 4, 1, off_pixels)    # StripOffsets
    entry(277, 3, 1, 1)             # SamplesPerPixel
    entry(278, 4, 1, height)        # RowsPerStrip
    entry(279, 4, 1, len(pixels))   # StripByteCounts
    entry(282, 5, 1, off_xres)      # XResolution
    entry(283, 5, 1, off_yres)      # YResolution
    ifd = struct.pack('<H', n) + b''.join(entries) + struct.pack('<I', 0)
    return (b'II*\x00' + struct.pack('<I', off_ifd) + pixels + ifd +
            struct.pack('<II', 204, 1) + struct.pack('<II', 196, 1))


def subject_of(i):
    return f'【問合せ{i:05d}】{TOPICS[i % len(TOPICS)]}'


def body_of(i):
    return (f'区役所 ご担当者様\n\nいつもお世話になっております。\n{TOPICS[i % len(TOPICS)]}'
            f'について教えてください。\n受付確認番号 {i:05d}\n\nよろしくお願いいたします。\n')


def mail(i, charset=None, attach=None, message_id=None):
    cs = charset or CHARSETS[i % 3]
    subject, body = subject_of(i), body_of(i)
    text = MIMEText(body, 'plain', cs)
    if attach if attach is not None else i % 3 == 2:
        m = MIMEMultipart()
        m.attach(text)
        a = MIMEApplication(tiff(), 'tiff')
        a.add_header('Content-Disposition', 'attachment', filename=('utf-8', '', f'申請書{i:05d}.tif'))
        m.attach(a)
    else:
        m = text
    m['Subject'] = Header(subject, cs)
    m['From'] = formataddr(('区民 太郎', f'citizen{i}@example.jp'), cs)
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Date'] = formatdate(1795000000 + i * 60, localtime=False)
    m['Message-ID'] = message_id or f'<test-{i}@example.jp>'
    raw = m.as_bytes().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    return raw, subject, body
