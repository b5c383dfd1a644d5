/* mime_bench: parse and decode throughput of mime_parse, over generated
 * Japanese mails and over every message of the shared mail corpus.
 *
 *   build: make tests/bench/mime_bench   (an EXTRA program, not in make check)
 *   run:   tests/bench/mime_bench [seconds per set, at least 1, default 2]
 *                                 [corpus folder, default ../shared/corpus/mail]
 *
 * Generated: five kinds of mail as Japanese mailers write them
 * (ISO-2022-JP 7bit, Shift_JIS base64, UTF-8 alternative with
 * quoted-printable HTML, mixed with a 40 KB PDF under an RFC 2231 name,
 * EUC-JP 8bit), 200 of each with 1 to 8 paragraphs.  Corpus: every *.eml
 * under the folder, one set per source (its first-level folders, e.g.
 * imap_tools: well-formed, malformed, bounces, nested and Japanese mail);
 * without the folder that part prints "skipped" and the rest still runs.
 *
 * Each set is parsed round after round for the given time, one pool
 * cleared per mail as ticketd does; prints mails/s and MB/s (wall clock,
 * one core) and cpu%: the share of that wall time this process was on a
 * CPU (below ~95 the machine was busy and the figures are low).  Last,
 * the peak RSS, and how much of it is the mails held in memory.  A
 * generated mail that does not parse OK with text fails the run; corpus
 * mails are counted by parse state (malformed ones are meant to be
 * partial or unparsed). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "mime.h"
#include "pool.h"

#define BENCH_PER_KIND 200

/* one paragraph of a citizen's mail in the four charsets Japanese mail uses */
static const char bench_text_utf8[] =
	"\xe5\x8c\xba\xe5\xbd\xb9\xe6\x89\x80\xe3\x81\xae\xe7\xaa\x93\xe5\x8f\xa3"
	"\xe3\x81\xa7\xe3\x81\xaf\xe3\x80\x81\xe4\xbd\x8f\xe6\xb0\x91\xe7\xa5\xa8"
	"\xe3\x81\xae\xe5\x86\x99\xe3\x81\x97\xe3\x82\x84\xe5\x8d\xb0\xe9\x91\x91"
	"\xe7\x99\xbb\xe9\x8c\xb2\xe8\xa8\xbc\xe6\x98\x8e\xe6\x9b\xb8\xe3\x81\xae"
	"\xe4\xba\xa4\xe4\xbb\x98\xe3\x82\x92\xe8\xa1\x8c\xe3\x81\xa3\xe3\x81\xa6"
	"\xe3\x81\x84\xe3\x81\xbe\xe3\x81\x99\xe3\x80\x82\xe2\x91\xa0\xe7\x94\xb3"
	"\xe8\xab\x8b\xe6\x9b\xb8\xe3\x81\xab\xe5\xbf\x85\xe8\xa6\x81\xe4\xba\x8b"
	"\xe9\xa0\x85\xe3\x82\x92\xe8\xa8\x98\xe5\x85\xa5\xe3\x81\x97\xe3\x80\x81"
	"\xe2\x91\xa1\xe6\x9c\xac\xe4\xba\xba\xe7\xa2\xba\xe8\xaa\x8d\xe6\x9b\xb8"
	"\xe9\xa1\x9e\xe3\x82\x92\xe3\x81\x94\xe6\x8f\x90\xe7\xa4\xba\xe3\x81\x8f"
	"\xe3\x81\xa0\xe3\x81\x95\xe3\x81\x84\xe3\x80\x82\xe3\x88\xb1\xe3\x81\xaa"
	"\xe3\x81\xa9\xe3\x81\xae\xe6\xb3\x95\xe4\xba\xba\xe3\x81\xae\xe5\xa0\xb4"
	"\xe5\x90\x88\xe3\x81\xaf\xe4\xbb\xa3\xe8\xa1\xa8\xe8\x80\x85\xe3\x81\xae"
	"\xe8\xa8\xbc\xe6\x98\x8e\xe3\x81\x8c\xe5\xbf\x85\xe8\xa6\x81\xe3\x81\xa7"
	"\xe3\x81\x99\xe3\x80\x82\xe9\xab\x99\xe6\xa9\x8b\xe6\xa7\x98\xe3\x80\x81"
	"\xef\xa8\x91\xe5\xb1\xb1\xe6\xa7\x98\xe3\x81\xae\xe3\x81\x8a\xe5\x95\x8f"
	"\xe3\x81\x84\xe5\x90\x88\xe3\x82\x8f\xe3\x81\x9b\xe3\x81\xab\xe3\x81\xa4"
	"\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x97\xe3\x81\xa6\xe3\x81\xaf\xe3\x80\x81"
	"\xe6\x8b\x85\xe5\xbd\x93\xe8\xaa\xb2\xe3\x81\x8b\xe3\x82\x89\xe6\x8a\x98"
	"\xe3\x82\x8a\xe8\xbf\x94\xe3\x81\x97\xe3\x81\x94\xe9\x80\xa3\xe7\xb5\xa1"
	"\xe3\x81\x84\xe3\x81\x9f\xe3\x81\x97\xe3\x81\xbe\xe3\x81\x99\xe3\x80\x82"
	"\xe5\x8f\x97\xe4\xbb\x98\xe6\x99\x82\xe9\x96\x93\xe3\x81\xaf\xe5\xb9\xb3"
	"\xe6\x97\xa5\xef\xbc\x98\xe6\x99\x82\xef\xbc\x93\xef\xbc\x90\xe5\x88\x86"
	"\xef\xbd\x9e\xef\xbc\x91\xef\xbc\x97\xe6\x99\x82\xef\xbc\x91\xef\xbc\x95"
	"\xe5\x88\x86\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82";
static const char bench_text_cp932[] =
	"\x8b\xe6\x96\xf0\x8f\x8a\x82\xcc\x91\x8b\x8c\xfb\x82\xc5\x82\xcd\x81"
	"A\x8fZ\x96\xaf\x95[\x82\xcc\x8e\xca\x82\xb5\x82\xe2\x88\xf3\x8a\xd3\x93o"
	"\x98^\x8f\xd8\x96\xbe\x8f\x91\x82\xcc\x8c\xf0\x95t\x82\xf0\x8ds\x82\xc1\x82"
	"\xc4\x82\xa2\x82\xdc\x82\xb7\x81"
	"B\x87@\x90\x5c\x90\xbf\x8f\x91\x82\xc9\x95K\x97v\x8e\x96\x8d\x80\x82\xf0"
	"\x8bL\x93\xfc\x82\xb5\x81"
	"A\x87"
	"A\x96{\x90l\x8am\x94"
	"F\x8f\x91\x97\xde\x82\xf0\x82\xb2\x92\xf1\x8e\xa6\x82\xad\x82\xbe\x82\xb3"
	"\x82\xa2\x81"
	"B\x87\x8a\x82\xc8\x82\xc7\x82\xcc\x96@\x90l\x82\xcc\x8f\xea\x8d\x87\x82\xcd"
	"\x91\xe3\x95\x5c\x8e\xd2\x82\xcc\x8f\xd8\x96\xbe\x82\xaa\x95K\x97v\x82\xc5"
	"\x82\xb7\x81"
	"B\xee\xe0\x8b\xb4\x97l\x81"
	"A\xed\x95\x8eR\x97l\x82\xcc\x82\xa8\x96\xe2\x82\xa2\x8d\x87\x82\xed\x82\xb9"
	"\x82\xc9\x82\xc2\x82\xab\x82\xdc\x82\xb5\x82\xc4\x82\xcd\x81"
	"A\x92S\x93\x96\x89\xdb\x82\xa9\x82\xe7\x90\xdc\x82\xe8\x95\xd4\x82\xb5\x82"
	"\xb2\x98"
	"A\x97\x8d\x82\xa2\x82\xbd\x82\xb5\x82\xdc\x82\xb7\x81"
	"B\x8e\xf3\x95t\x8e\x9e\x8a\xd4\x82\xcd\x95\xbd\x93\xfa\x82W\x8e\x9e\x82R"
	"\x82O\x95\xaa\x81`\x82P\x82V\x8e\x9e\x82P\x82T\x95\xaa\x82\xc5\x82\xb7\x81"
	"B";
static const char bench_text_jis[] =
	"\x1b$B6hLr=j$NAk8}$G$O!\x22=;L1I<$N<L$7$d0u4UEPO\x3f>ZL@=q$N8rIU$r9T$C$F"
	"$$$^$9!#-!\x3f=@A=q$KI,MW;v9`$r5-F~$7!\x22-\x22K\x5c\x3fM3NG'=qN`$r$4Ds<"
	"($/$@$5$$!#-j$J$I$NK!\x3fM$N>l9g$OBeI=<T$N>ZL@$,I,MW$G$9!#9b66MM!\x22:j;"
	"3MM$N$*Ld$$9g$o$;$K$D$-$^$7$F$O!\x22"
	"C4Ev2]$+$i@^$jJV$7$4O\x22Mm$$$\x3f$7$^$9!#<uIU;~4V$OJ\x3f"
	"F|#8;~#3#0J,!A#1#7;~#1#5J,$G$9!#\x1b(B";
static const char bench_text_eucjp[] =
	"\xb6\xe8\xcc\xf2\xbd\xea\xa4\xce\xc1\xeb\xb8\xfd\xa4\xc7\xa4\xcf\xa1\xa2"
	"\xbd\xbb\xcc\xb1\xc9\xbc\xa4\xce\xbc\xcc\xa4\xb7\xa4\xe4\xb0\xf5\xb4\xd5"
	"\xc5\xd0\xcf\xbf\xbe\xda\xcc\xc0\xbd\xf1\xa4\xce\xb8\xf2\xc9\xd5\xa4\xf2"
	"\xb9\xd4\xa4\xc3\xa4\xc6\xa4\xa4\xa4\xde\xa4\xb9\xa1\xa3\xad\xa1\xbf\xbd"
	"\xc0\xc1\xbd\xf1\xa4\xcb\xc9\xac\xcd\xd7\xbb\xf6\xb9\xe0\xa4\xf2\xb5\xad"
	"\xc6\xfe\xa4\xb7\xa1\xa2\xad\xa2\xcb\xdc\xbf\xcd\xb3\xce\xc7\xa7\xbd\xf1"
	"\xce\xe0\xa4\xf2\xa4\xb4\xc4\xf3\xbc\xa8\xa4\xaf\xa4\xc0\xa4\xb5\xa4\xa4"
	"\xa1\xa3\xad\xea\xa4\xca\xa4\xc9\xa4\xce\xcb\xa1\xbf\xcd\xa4\xce\xbe\xec"
	"\xb9\xe7\xa4\xcf\xc2\xe5\xc9\xbd\xbc\xd4\xa4\xce\xbe\xda\xcc\xc0\xa4\xac"
	"\xc9\xac\xcd\xd7\xa4\xc7\xa4\xb9\xa1\xa3\xb9\xe2\xb6\xb6\xcd\xcd\xa1\xa2"
	"\xba\xea\xbb\xb3\xcd\xcd\xa4\xce\xa4\xaa\xcc\xe4\xa4\xa4\xb9\xe7\xa4\xef"
	"\xa4\xbb\xa4\xcb\xa4\xc4\xa4\xad\xa4\xde\xa4\xb7\xa4\xc6\xa4\xcf\xa1\xa2"
	"\xc3\xb4\xc5\xf6\xb2\xdd\xa4\xab\xa4\xe9\xc0\xde\xa4\xea\xca\xd6\xa4\xb7"
	"\xa4\xb4\xcf\xa2\xcd\xed\xa4\xa4\xa4\xbf\xa4\xb7\xa4\xde\xa4\xb9\xa1\xa3"
	"\xbc\xf5\xc9\xd5\xbb\xfe\xb4\xd6\xa4\xcf\xca\xbf\xc6\xfc\xa3\xb8\xbb\xfe"
	"\xa3\xb3\xa3\xb0\xca\xac\xa1\xc1\xa3\xb1\xa3\xb7\xbb\xfe\xa3\xb1\xa3\xb5"
	"\xca\xac\xa4\xc7\xa4\xb9\xa1\xa3";

static const char bench_b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct bench_mail {
	char *data;
	size_t len;
};

/* base64 in 76-column lines */
static void bench_base64(struct buf *b, const unsigned char *s, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? s[i + 2] : 0);
		char q[4] = { bench_b64chars[v >> 18], bench_b64chars[(v >> 12) & 63],
			      i + 1 < n ? bench_b64chars[(v >> 6) & 63] : '=',
			      i + 2 < n ? bench_b64chars[v & 63] : '=' };

		buf_append(b, q, 4);
		if ((col += 4) >= 76) {
			buf_append_str(b, "\r\n");
			col = 0;
		}
	}
	buf_append_str(b, "\r\n");
}

/* quoted-printable: every 8-bit byte as =XX, soft breaks at 73 */
static void bench_qp(struct buf *b, const unsigned char *s, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		if (col >= 73) {
			buf_append_str(b, "=\r\n");
			col = 0;
		}
		if (s[i] == '\n') {
			buf_append_str(b, "\r\n");
			col = 0;
		} else if (s[i] >= 0x80 || s[i] == '=') {
			buf_printf(b, "=%02X", s[i]);
			col += 3;
		} else {
			buf_append(b, &s[i], 1);
			col++;
		}
	}
	buf_append_str(b, "\r\n");
}

static void bench_header(struct buf *b, int i, const char *ctype)
{
	buf_printf(b,
		   "Return-Path: <citizen%d@example.jp>\r\n"
		   "Received: from mx.example.jp (mx.example.jp [192.0.2.1])\r\n"
		   "\tby mail.city.example.lg.jp with ESMTP id %08X\r\n"
		   "\tfor <madoguchi@city.example.lg.jp>; Fri, 5 Jan 2024 10:02:03 +0900 (JST)\r\n"
		   "From: =?ISO-2022-JP?B?GyRCQWs4fRsoQiAbJEIyVjtSGyhC?= <citizen%d@example.jp>\r\n"
		   "To: =?UTF-8?B?5Yy65b255omA?= <madoguchi@city.example.lg.jp>\r\n"
		   "Subject: =?ISO-2022-JP?B?GyRCIVo7ajVeIVs9O0wxSTwkTjxMJDckTjhySVUkSyREJCQkRhsoQg==?=\r\n"
		   "Date: Fri, 5 Jan 2024 10:%02d:03 +0900\r\n"
		   "Message-ID: <%d.bench@example.jp>\r\n"
		   "MIME-Version: 1.0\r\n"
		   "Content-Type: %s\r\n",
		   i, (unsigned)i * 2654435761u, i, i % 60, i, ctype);
}

/* n paragraphs, each followed by an empty line */
static void bench_text(struct buf *t, const char *para, size_t len, int n, const char *nl)
{
	for (int k = 0; k < n; k++) {
		buf_append(t, para, len);
		buf_append_str(t, nl);
		buf_append_str(t, nl);
	}
}

static void bench_jis(struct buf *b, int i, int n)
{
	bench_header(b, i, "text/plain; charset=ISO-2022-JP");
	buf_append_str(b, "Content-Transfer-Encoding: 7bit\r\n\r\n");
	bench_text(b, bench_text_jis, sizeof(bench_text_jis) - 1, n, "\r\n");
}

static void bench_sjis(struct buf *b, int i, int n)
{
	struct buf t;

	buf_init(&t, 1 << 20);
	bench_text(&t, bench_text_cp932, sizeof(bench_text_cp932) - 1, n, "\r\n");
	bench_header(b, i, "text/plain; charset=\"Shift_JIS\"");
	buf_append_str(b, "Content-Transfer-Encoding: base64\r\n\r\n");
	bench_base64(b, (const unsigned char *)t.data, t.len);
	buf_free(&t);
}

static void bench_alt(struct buf *b, int i, int n)
{
	struct buf t, h;

	buf_init(&t, 1 << 20);
	buf_init(&h, 1 << 20);
	bench_text(&t, bench_text_utf8, sizeof(bench_text_utf8) - 1, n, "\r\n");
	buf_append_str(&h, "<html><head><style>p{margin:0}</style></head><body>\n");
	for (int k = 0; k < n; k++)
		buf_printf(&h, "<p>%s<br>\n&nbsp;</p>\n", bench_text_utf8);
	buf_append_str(&h, "</body></html>\n");
	bench_header(b, i, "multipart/alternative; boundary=\"alt-boundary-0123\"");
	buf_append_str(b, "\r\n--alt-boundary-0123\r\nContent-Type: text/plain; charset=UTF-8\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\n");
	bench_base64(b, (const unsigned char *)t.data, t.len);
	buf_append_str(b, "--alt-boundary-0123\r\nContent-Type: text/html; charset=UTF-8\r\n"
			  "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	bench_qp(b, (const unsigned char *)h.data, h.len);
	buf_append_str(b, "--alt-boundary-0123--\r\n");
	buf_free(&t);
	buf_free(&h);
}

static void bench_mixed(struct buf *b, int i, int n)
{
	static unsigned char pdf[40000];

	for (size_t k = 0; k < sizeof(pdf); k++)
		pdf[k] = (unsigned char)(k * 7 + (size_t)i);
	memcpy(pdf, "%PDF-1.4\n", 9);
	bench_header(b, i, "multipart/mixed; boundary=\"----=_Part_0_1234.5678\"");
	buf_append_str(b, "\r\n------=_Part_0_1234.5678\r\n"
			  "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
			  "Content-Transfer-Encoding: 7bit\r\n\r\n");
	bench_text(b, bench_text_jis, sizeof(bench_text_jis) - 1, n, "\r\n");
	buf_append_str(b, "------=_Part_0_1234.5678\r\nContent-Type: application/pdf\r\n"
			  "Content-Disposition: attachment;\r\n"
			  " filename*0*=UTF-8''%E7%94%B3%E8%AB%8B%E6%9B%B8_;\r\n"
			  " filename*1*=%E4%BB%A4%E5%92%8C6%E5%B9%B4%E5%BA%A6.pdf\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\n");
	bench_base64(b, pdf, sizeof(pdf));
	buf_append_str(b, "------=_Part_0_1234.5678--\r\n");
}

static void bench_euc(struct buf *b, int i, int n)
{
	bench_header(b, i, "text/plain; charset=EUC-JP");
	buf_append_str(b, "Content-Transfer-Encoding: 8bit\r\n\r\n");
	bench_text(b, bench_text_eucjp, sizeof(bench_text_eucjp) - 1, n, "\r\n");
}

static const struct {
	const char *name;
	void (*make)(struct buf *b, int i, int n);
} bench_kinds[] = {
	{ "iso-2022-jp 7bit", bench_jis },
	{ "shift_jis base64", bench_sjis },
	{ "utf-8 alt+html qp", bench_alt },
	{ "mixed + 40KB pdf", bench_mixed },
	{ "euc-jp 8bit", bench_euc },
};

#define BENCH_KINDS (sizeof(bench_kinds) / sizeof(bench_kinds[0]))

/* a set of mails timed together */
struct bench_set {
	char name[64];
	struct bench_mail *m;
	size_t n, cap, bytes;
};

/* what one timed set gave */
struct bench_result {
	double mps, bps, cpu;
	size_t states[3]; /* MIME_OK, MIME_PARTIAL, MIME_UNPARSED in the first round */
	size_t no_text;   /* first round: no body text */
	size_t refused;   /* first round: mime_parse said -1 (the pool refused memory) */
};

#define BENCH_MAX_FILE (64u << 20) /* a corpus file above this is left out */
#define BENCH_MAX_MAILS 100000     /* per corpus set */
#define BENCH_MAX_DEPTH 16

static double bench_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_add(struct bench_set *s, char *data, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct bench_mail *m = realloc(s->m, cap * sizeof(*m));

		if (m == NULL)
			return -1;
		s->m = m;
		s->cap = cap;
	}
	s->m[s->n].data = data;
	s->m[s->n].len = len;
	s->n++;
	s->bytes += len;
	return 0;
}

static void bench_set_free(struct bench_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->m[i].data);
	free(s->m);
	memset(s, 0, sizeof(*s));
}

/* parse the set round after round for secs */
static void bench_run(const struct bench_set *s, double secs, struct bench_result *r)
{
	struct pool *p = pool_create(0);
	struct mime_limits lim;
	double t0 = bench_clock(CLOCK_MONOTONIC), c0 = bench_clock(CLOCK_PROCESS_CPUTIME_ID), t;
	size_t done = 0, bytes = 0;

	memset(r, 0, sizeof(*r));
	mime_limits_default(&lim);
	do {
		for (size_t i = 0; i < s->n; i++) {
			struct mime_mail mm;

			int rc = mime_parse(p, s->m[i].data, s->m[i].len, &lim, &mm);

			if (done == 0) {
				r->refused += rc != 0;
				r->states[mm.state <= MIME_UNPARSED ? mm.state : MIME_UNPARSED]++;
				r->no_text += mm.body_text == NULL || mm.body_text[0] == '\0';
			}
			pool_clear(p);
		}
		done += s->n;
		bytes += s->bytes;
		t = bench_clock(CLOCK_MONOTONIC) - t0;
	} while (t < secs);
	r->cpu = (bench_clock(CLOCK_PROCESS_CPUTIME_ID) - c0) / t;
	pool_destroy(p);
	r->mps = (double)done / t;
	r->bps = (double)bytes / t;
}

static void bench_line(const char *name, size_t n, size_t bytes, double mps, double bps,
		       double cpu)
{
	printf("%-22s %6zu %8.1f %10.0f %8.1f %5.0f\n", name, n,
	       n ? (double)bytes / (double)n / 1024 : 0.0, mps, bps / 1e6, cpu * 100);
}

/* the generated set: BENCH_PER_KIND mails of each kind, one set per kind */
static int bench_generate(struct bench_set *sets)
{
	uint32_t seed = 1;

	for (size_t k = 0; k < BENCH_KINDS; k++) {
		snprintf(sets[k].name, sizeof(sets[k].name), "%s", bench_kinds[k].name);
		for (int i = 0; i < BENCH_PER_KIND; i++) {
			struct buf b;
			size_t len;
			char *data;

			seed = seed * 1103515245u + 12345u;
			buf_init(&b, 8u << 20);
			bench_kinds[k].make(&b, i, 1 + (int)((seed >> 16) % 8));
			data = buf_steal(&b, &len);
			if (data == NULL || bench_add(&sets[k], data, len) < 0) {
				free(data);
				return -1;
			}
		}
	}
	return 0;
}

/* the generated kinds one by one, then all of them: 0, or 1 when a mail
 * did not parse OK with text */
static int bench_generated(double secs)
{
	static struct bench_set sets[BENCH_KINDS];
	double all_t = 0, cpu_t = 0;
	size_t all_bytes = 0, all_n = 0, bad = 0;

	if (bench_generate(sets) < 0) {
		fprintf(stderr, "mime_bench: out of memory making the generated set\n");
		return 1;
	}
	for (size_t k = 0; k < BENCH_KINDS; k++) {
		struct bench_result r;

		bench_run(&sets[k], secs, &r);
		bench_line(sets[k].name, sets[k].n, sets[k].bytes, r.mps, r.bps, r.cpu);
		bad += sets[k].n - r.states[MIME_OK] + r.no_text + r.refused;
		all_bytes += sets[k].bytes;
		all_n += sets[k].n;
		all_t += (double)sets[k].n / r.mps;
		cpu_t += (double)sets[k].n / r.mps * r.cpu;
	}
	bench_line("generated (all)", all_n, all_bytes, (double)all_n / all_t,
		   (double)all_bytes / all_t, cpu_t / all_t);
	for (size_t k = 0; k < BENCH_KINDS; k++)
		bench_set_free(&sets[k]);
	if (bad)
		printf("FAIL: %zu generated parses were not OK or had no text\n", bad);
	return bad ? 1 : 0;
}

/* one whole file, at most BENCH_MAX_FILE bytes */
static char *bench_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *data = NULL;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (size_t)st.st_size <= BENCH_MAX_FILE && (data = malloc((size_t)st.st_size)) != NULL &&
	    fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(data);
		data = NULL;
	}
	*len = data ? (size_t)st.st_size : 0;
	fclose(f);
	return data;
}

static int bench_is_eml(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".eml") == 0;
}

/* every *.eml under dir into s */
static void bench_walk(const char *dir, struct bench_set *s, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL || depth > BENCH_MAX_DEPTH) {
		if (d != NULL)
			closedir(d);
		return;
	}
	while ((e = readdir(d)) != NULL && s->n < BENCH_MAX_MAILS) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.' ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
		    stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			bench_walk(path, s, depth + 1);
		} else if (S_ISREG(st.st_mode) && bench_is_eml(e->d_name)) {
			size_t len;
			char *data = bench_read(path, &len);

			if (data != NULL && bench_add(s, data, len) < 0)
				free(data);
		}
	}
	closedir(d);
}

static void bench_corpus_set(const char *root, const char *source, double secs,
			     struct bench_result *all, struct bench_set *sum)
{
	struct bench_set s = { { 0 }, NULL, 0, 0, 0 };
	struct bench_result r;
	char path[4096];

	snprintf(s.name, sizeof(s.name), "corpus %s", source);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, source) >= sizeof(path))
		return;
	bench_walk(path, &s, 0);
	if (s.n == 0) {
		bench_set_free(&s);
		return;
	}
	bench_run(&s, secs, &r);
	bench_line(s.name, s.n, s.bytes, r.mps, r.bps, r.cpu);
	printf("%-22s parse states: %zu ok, %zu partial, %zu unparsed; %zu without text%s\n", "",
	       r.states[MIME_OK], r.states[MIME_PARTIAL], r.states[MIME_UNPARSED], r.no_text,
	       r.refused ? "; MEMORY REFUSED" : "");
	/* for the total: time per mail weighted by the set's size */
	sum->n += s.n;
	sum->bytes += s.bytes;
	all->mps += (double)s.n / r.mps;
	all->cpu += (double)s.n / r.mps * r.cpu;
	bench_set_free(&s);
}

/* one set per source folder of the corpus; 0, or -1 when there is none */
static int bench_corpus(const char *root, double secs)
{
	struct bench_result all = { 0, 0, 0, { 0, 0, 0 }, 0, 0 };
	struct bench_set sum = { "corpus (all)", NULL, 0, 0, 0 };
	DIR *d = opendir(root);
	struct dirent *e;
	int sets = 0;

	if (d == NULL) {
		printf("corpus: %s not found, skipped\n", root);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		bench_corpus_set(root, e->d_name, secs, &all, &sum);
		sets++;
	}
	closedir(d);
	if (sum.n == 0)
		printf("corpus: no *.eml under %s, skipped\n", root);
	else if (sets > 1)
		bench_line(sum.name, sum.n, sum.bytes, (double)sum.n / all.mps,
			   (double)sum.bytes / all.mps, all.cpu / all.mps);
	return sum.n ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 2 ? argv[2] : MDG_SRCDIR "/../shared/corpus/mail";
	double secs = argc > 1 ? strtod(argv[1], NULL) : 2.0;
	struct rusage ru;
	int bad;

	/* at least a second per set: shorter runs are mostly timer noise */
	if (!(secs >= 1.0))
		secs = secs > 0 ? 1.0 : 2.0;
	printf("%-22s %6s %8s %10s %8s %5s\n", "set", "mails", "avg KB", "mails/s", "MB/s", "cpu%");
	bad = bench_generated(secs);
	bench_corpus(corpus, secs);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %.1f MiB (the largest set in memory at once, the parser's pool, the program)\n",
	       (double)ru.ru_maxrss / 1024);
	return bad;
}
