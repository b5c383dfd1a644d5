/* tess: the Tesseract and Leptonica adapter; the design is in tess.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include "tess.h"
#include "utf8.h"

/* a page read with less mean confidence than this is shown to osd */
#define TESS_OSD_BELOW 60
/* osd's orientation confidence it takes to turn a page */
#define TESS_OSD_SURE 2.0f
/* a page with fewer black pixels than this share of its area (and than
 * TESS_INK_MIN) has no ink worth reading: a 10 pt line at fine resolution
 * is about 6 000 */
#define TESS_INK_MIN 800
#define TESS_INK_AREA 2500
/* the number pass looks at spans with this many digits or more */
#define TESS_SPAN_DIGITS 5
#define TESS_PAD 4
#define TESS_LINE_MAX 1024
#define TESS_DIGITS "0123456789-()"

struct tess {
	TessBaseAPI *jpn, *vert, *osd, *digits;
};

static TessBaseAPI *tess_engine(const char *datapath, const char *lang, TessOcrEngineMode oem,
				char *err, size_t errlen)
{
	TessBaseAPI *a = TessBaseAPICreate();

	if (a == NULL || TessBaseAPIInit2(a, datapath, lang, oem) != 0) {
		snprintf(err, errlen, "the Tesseract model \"%s\" cannot be loaded (tessdata %s)", lang,
			 datapath ? datapath : "of Debian");
		if (a != NULL)
			TessBaseAPIDelete(a);
		return NULL;
	}
	/* a second reading of every page as white on black: fax pages are
	 * never inverted, and it doubled the time of a dim page */
	TessBaseAPISetVariable(a, "tessedit_do_invert", "0");
	TessBaseAPISetVariable(a, "debug_file", "/dev/null");
	return a;
}

struct tess *tess_new(const char *datapath, char *err, size_t errlen)
{
	struct tess *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((t->jpn = tess_engine(datapath, "jpn", OEM_LSTM_ONLY, err, errlen)) == NULL ||
	    (t->vert = tess_engine(datapath, "jpn_vert", OEM_LSTM_ONLY, err, errlen)) == NULL ||
	    (t->osd = tess_engine(datapath, "osd", OEM_TESSERACT_ONLY, err, errlen)) == NULL ||
	    (t->digits = tess_engine(datapath, "eng", OEM_LSTM_ONLY, err, errlen)) == NULL) {
		tess_free(t);
		return NULL;
	}
	TessBaseAPISetVariable(t->digits, "tessedit_char_whitelist", TESS_DIGITS);
	TessBaseAPISetPageSegMode(t->digits, PSM_SINGLE_LINE);
	return t;
}

void tess_free(struct tess *t)
{
	TessBaseAPI *all[4];

	if (t == NULL)
		return;
	all[0] = t->jpn, all[1] = t->vert, all[2] = t->osd, all[3] = t->digits;
	for (int i = 0; i < 4; i++)
		if (all[i] != NULL) {
			TessBaseAPIEnd(all[i]);
			TessBaseAPIDelete(all[i]);
		}
	free(t);
}

void tess_result_free(struct tess_result *r)
{
	free(r->text);
	numbers_free(&r->found);
	memset(r, 0, sizeof(*r));
}

/* ---- text ---- */

static int tess_ascii_at(const char *s, size_t i, int before)
{
	if (before)
		return i > 0 && (unsigned char)s[i - 1] < 0x80 && s[i - 1] != '\n';
	return (unsigned char)s[i] < 0x80 && s[i] != '\n' && s[i] != '\0';
}

/* Tesseract's text without the spaces it sets between Japanese characters
 * (a space stays only between two Latin characters), trimmed lines, no
 * empty lines; malloc'd */
static char *tess_squeeze(const char *in)
{
	size_t n = strlen(in), o = 0;
	char *out = malloc(n + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == ' ' && (!tess_ascii_at(in, i, 1) || !tess_ascii_at(in, i + 1, 0) ||
				 in[i + 1] == ' ' || o == 0 || out[o - 1] == '\n'))
			continue;
		if (c == '\n' && (o == 0 || out[o - 1] == '\n'))
			continue;
		out[o++] = c;
	}
	while (o > 0 && (out[o - 1] == '\n' || out[o - 1] == ' '))
		o--;
	out[o] = '\0';
	return out;
}

/* ---- the page ---- */

struct tess_page {
	PIX *pix;      /* square pixels, turned as read */
	int w0, h0;    /* the page as stored */
	float sy;      /* rows of pix per stored row (2 for standard resolution) */
	float sx;      /* columns of pix per stored column */
	int quads;     /* turned clockwise by quads * 90 degrees */
	int xres;
	int blank;     /* no ink (counted on the page as stored) */
};

/* a box of the read image back onto the page as stored */
static void tess_unmap(const struct tess_page *p, int *x, int *y, int *w, int *h)
{
	int W = pixGetWidth(p->pix), H = pixGetHeight(p->pix), X = *x, Y = *y, bw = *w, bh = *h;

	if (p->quads == 1) /* turned 90 clockwise: W, H are the turned sizes */
		*x = Y, *y = W - X - bw, *w = bh, *h = bw;
	else if (p->quads == 2)
		*x = W - X - bw, *y = H - Y - bh;
	else if (p->quads == 3)
		*x = H - Y - bh, *y = X, *w = bh, *h = bw;
	*x = (int)((float)*x / p->sx + 0.5f);
	*w = (int)((float)*w / p->sx + 0.5f);
	*y = (int)((float)*y / p->sy + 0.5f);
	*h = (int)((float)*h / p->sy + 0.5f);
}

static int tess_blank(PIX *pix)
{
	l_int32 black = 0;
	int area = pixGetWidth(pix) * pixGetHeight(pix);
	int min = area / TESS_INK_AREA > TESS_INK_MIN ? area / TESS_INK_AREA : TESS_INK_MIN;

	return pixCountPixels(pix, &black, NULL) == 0 && black < min;
}

static int tess_load(const uint8_t *tiff, size_t len, struct tess_page *p, char *err,
		     size_t errlen)
{
	PIX *pix = pixReadMemTiff(tiff, len, 0), *one;
	int xres, yres;

	if (pix == NULL) {
		snprintf(err, errlen, "the page is not a TIFF Leptonica can decode");
		return -1;
	}
	one = pixGetDepth(pix) == 1 ? pix : pixConvertTo1(pix, 128);
	if (one != pix)
		pixDestroy(&pix);
	if (one == NULL) {
		snprintf(err, errlen, "the page cannot be made black and white");
		return -1;
	}
	p->w0 = pixGetWidth(one);
	p->h0 = pixGetHeight(one);
	xres = pixGetXRes(one);
	yres = pixGetYRes(one);
	p->xres = xres > 0 ? xres : 204;
	p->sy = 1.0f;
	p->sx = 1.0f;
	if (xres > 0 && yres > 0 && yres * 3 < xres * 2) {
		/* standard: rows doubled, in grey with linear interpolation, so
		 * strokes do not step (Tesseract binarises it again) */
		PIX *gray = pixConvert1To8(NULL, one, 255, 0);

		p->sy = (float)xres / (float)yres;
		p->blank = tess_blank(one);
		p->pix = gray ? pixScaleGrayLI(gray, 1.0f, p->sy) : NULL;
		pixDestroy(&gray);
		pixDestroy(&one);
		if (p->pix == NULL) {
			snprintf(err, errlen, "the page cannot be scaled to square pixels");
			return -1;
		}
	} else {
		p->pix = one;
		p->blank = tess_blank(one);
	}
	return 0;
}


/* 1 when most of the text (by line area) runs top to bottom */
static int tess_vertical(struct tess *t, const struct tess_page *p)
{
	TessPageIterator *it;
	long long down = 0, across = 0;

	TessBaseAPISetImage2(t->jpn, p->pix);
	TessBaseAPISetSourceResolution(t->jpn, p->xres);
	TessBaseAPISetPageSegMode(t->jpn, PSM_AUTO);
	if ((it = TessBaseAPIAnalyseLayout(t->jpn)) == NULL)
		return 0;
	do {
		TessOrientation o;
		TessWritingDirection wd;
		TessTextlineOrder order;
		float deskew;
		int l, tp, r, b;

		if (!TessPageIteratorBoundingBox(it, RIL_TEXTLINE, &l, &tp, &r, &b))
			continue;
		TessPageIteratorOrientation(it, &o, &wd, &order, &deskew);
		if (wd == WRITING_DIRECTION_TOP_TO_BOTTOM)
			down += (long long)(r - l) * (b - tp);
		else
			across += (long long)(r - l) * (b - tp);
	} while (TessPageIteratorNext(it, RIL_TEXTLINE));
	TessPageIteratorDelete(it);
	return down > across;
}

/* recognise p with the engine its layout calls for; the engine used */
static TessBaseAPI *tess_recognise(struct tess *t, const struct tess_page *p, int *vertical)
{
	TessBaseAPI *a;

	*vertical = tess_vertical(t, p);
	a = *vertical ? t->vert : t->jpn;
	TessBaseAPISetImage2(a, p->pix);
	TessBaseAPISetSourceResolution(a, p->xres);
	TessBaseAPISetPageSegMode(a, PSM_AUTO);
	return TessBaseAPIRecognize(a, NULL) == 0 ? a : NULL;
}

/* osd's turn for p, clockwise quarter turns (0 when unsure) */
static int tess_osd_quads(struct tess *t, const struct tess_page *p)
{
	int deg = 0;
	float oconf = 0, sconf = 0;
	const char *script = NULL;
	int ok;

	TessBaseAPISetImage2(t->osd, p->pix);
	TessBaseAPISetSourceResolution(t->osd, p->xres);
	TessBaseAPISetPageSegMode(t->osd, PSM_OSD_ONLY);
	ok = TessBaseAPIDetectOrientationScript(t->osd, &deg, &oconf, &script, &sconf);
	TessBaseAPIClear(t->osd);
	if (!ok || oconf < TESS_OSD_SURE || deg % 90 != 0)
		return 0;
	return ((360 - deg) % 360) / 90;
}

/* ---- the number pass ---- */

struct tess_span {
	int on, digits;
	int l, t, r, b;
	char first[96];
	size_t flen;
};

static void tess_span_add(struct tess_span *s, const char *sym, uint32_t cp, int l, int t, int r,
			  int b)
{
	size_t n = strlen(sym);

	if (!s->on) {
		memset(s, 0, sizeof(*s));
		s->on = 1;
		s->l = l, s->t = t, s->r = r, s->b = b;
	}
	s->l = l < s->l ? l : s->l;
	s->t = t < s->t ? t : s->t;
	s->r = r > s->r ? r : s->r;
	s->b = b > s->b ? b : s->b;
	if (s->flen + n < sizeof(s->first)) {
		memcpy(s->first + s->flen, sym, n + 1);
		s->flen += n;
	}
	s->digits += (cp >= '0' && cp <= '9') || (cp >= 0xFF10 && cp <= 0xFF19);
}

struct tess_line {
	char text[TESS_LINE_MAX];
	size_t len;
	int l, t, r, b;
};

/* a region cut out of the page with a white border around it, read alone
 * by the digit engine: no piece of a neighbouring
 * kanji is taken for a digit, and the first and last characters do not
 * touch the edge (they were dropped when they did) */
static char *tess_cut_read(struct tess *t, const struct tess_page *p, int x, int y, int w, int h,
			   float scale)
{
	BOX *box = boxCreate(x, y, w, h);
	PIX *cut = box ? pixClipRectangle(p->pix, box, NULL) : NULL, *framed;
	char *text = NULL;

	boxDestroy(&box);
	if (cut == NULL)
		return NULL;
	if (scale != 1.0f) { /* grey, smoothly scaled */
		PIX *gray = pixGetDepth(cut) == 8 ? pixClone(cut) : pixConvert1To8(NULL, cut, 255, 0);
		PIX *big = gray ? pixScaleGrayLI(gray, scale, scale) : NULL;

		pixDestroy(&gray);
		pixDestroy(&cut);
		if ((cut = big) == NULL)
			return NULL;
	}
	framed = pixAddBorder(cut, h / 2 + TESS_PAD, pixGetDepth(cut) == 1 ? 0 : 255);
	pixDestroy(&cut);
	if (framed == NULL)
		return NULL;
	TessBaseAPISetImage2(t->digits, framed);
	TessBaseAPISetSourceResolution(t->digits, p->xres);
	if (TessBaseAPIRecognize(t->digits, NULL) == 0)
		text = TessBaseAPIGetUTF8Text(t->digits);
	TessBaseAPIClear(t->digits);
	pixDestroy(&framed);
	return text;
}

/* what the digit engine read, without white space, in out */
static void tess_digits_trim(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; in != NULL && *in != '\0' && o + 1 < len; in++)
		if (*in != ' ' && *in != '\n')
			out[o++] = *in;
	out[o] = '\0';
}

/* The number pass on a span.  On a fine page one reading at the page's own
 * size.  A standard page's digits read differently at each scale (one
 * scale got one page's number wrong, another another's: measured on the
 * test pages), so it is read at three and the reading two agree on wins;
 * with no two alike, the middle scale's.  The caller frees with free(). */
static char *tess_digits_vote(struct tess *t, const struct tess_page *p, int x, int y, int w, int h)
{
	static const float scales[3] = { 2.0f, 1.5f, 2.5f };
	char got[3][80];
	char *r;
	int n = p->sy > 1.0f ? 3 : 1;

	for (int i = 0; i < n; i++) {
		r = tess_cut_read(t, p, x, y, w, h, n == 1 ? 1.0f : scales[i]);
		tess_digits_trim(r, got[i], sizeof(got[i]));
		if (r != NULL)
			TessDeleteText(r);
	}
	for (int i = 1; i < n; i++)
		for (int j = 0; j < i; j++)
			if (got[i][0] != '\0' && strcmp(got[i], got[j]) == 0)
				return strdup(got[i]);
	return strdup(got[0]);
}

/* read the span again with the digit engine and offer what it reads */
static void tess_span_close(struct tess *t, const struct tess_page *p, struct tess_span *s,
			    const struct tess_line *ln, struct tess_result *res, int digit_pass)
{
	const char *before = ln->text;
	char *digits = NULL;
	int x, y, w, h;

	if (!s->on)
		return;
	s->on = 0;
	if (s->digits < TESS_SPAN_DIGITS)
		return;
	/* the line's whole height: cut to the digits alone, the engine's
	 * scaling of a line went wrong (a slashed 0 read as 9 again) */
	x = s->l - TESS_PAD < 0 ? 0 : s->l - TESS_PAD;
	y = (ln->t < s->t ? ln->t : s->t) - TESS_PAD;
	y = y < 0 ? 0 : y;
	w = s->r + TESS_PAD - x;
	h = (ln->b > s->b ? ln->b : s->b) + TESS_PAD - y;
	if (digit_pass)
		digits = tess_digits_vote(t, p, x, y, w, h);
	tess_unmap(p, &x, &y, &w, &h);
	numbers_add(&res->found, before, s->first, digits, x, y, w, h);
	free(digits);
}


static void tess_line_put(struct tess_line *ln, const char *s)
{
	size_t n = strlen(s);

	if (ln->len + n < sizeof(ln->text)) {
		memcpy(ln->text + ln->len, s, n + 1);
		ln->len += n;
	}
}

/* the mail addresses of a line (the first pass's reading: eng read the
 * letters worse than jpn, measured on the test pages) */
static void tess_line_end(struct tess_line *ln, const struct tess_page *p, struct tess_result *res)
{
	int x = ln->l, y = ln->t, w = ln->r - ln->l, h = ln->b - ln->t;

	if (ln->len > 0) {
		tess_unmap(p, &x, &y, &w, &h);
		numbers_mail(&res->found, ln->text, x, y, w, h);
	}
	memset(ln, 0, sizeof(*ln));
}

/* the symbols of the first pass, line by line: spans of digit-like
 * symbols go to the number pass, lines to the mail address search */
static void tess_numbers(struct tess *t, TessBaseAPI *a, const struct tess_page *p,
			 struct tess_result *res, int digit_pass)
{
	TessResultIterator *ri = TessBaseAPIGetIterator(a);
	TessPageIterator *pi;
	struct tess_span span = { 0 };
	struct tess_line line = { 0 };
	int last_r = 0;

	if (ri == NULL)
		return;
	pi = TessResultIteratorGetPageIterator(ri);
	do {
		char *sym = TessResultIteratorGetUTF8Text(ri, RIL_SYMBOL);
		int l, tp, r, b, gap;
		uint32_t cp = 0;

		if (sym == NULL || !TessPageIteratorBoundingBox(pi, RIL_SYMBOL, &l, &tp, &r, &b)) {
			if (sym != NULL)
				TessDeleteText(sym);
			continue;
		}
		if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) {
			tess_span_close(t, p, &span, &line, res, digit_pass);
			tess_line_end(&line, p, res);
			TessPageIteratorBoundingBox(pi, RIL_TEXTLINE, &line.l, &line.t, &line.r,
						    &line.b);
		} else if (TessPageIteratorIsAtBeginningOf(pi, RIL_WORD)) {
			tess_line_put(&line, " ");
		}
		utf8_decode(sym, strlen(sym), &cp);
		gap = l - last_r;
		/* a gap wider than the line is high ends a number: the next is another */
		if (span.on && (!numbers_digitlike(cp) || gap > line.b - line.t))
			tess_span_close(t, p, &span, &line, res, digit_pass);
		if (numbers_digitlike(cp))
			tess_span_add(&span, sym, cp, l, tp, r, b);
		tess_line_put(&line, sym);
		last_r = r;
		TessDeleteText(sym);
	} while (TessResultIteratorNext(ri, RIL_SYMBOL));
	tess_span_close(t, p, &span, &line, res, digit_pass);
	tess_line_end(&line, p, res);
	TessResultIteratorDelete(ri);
}

/* *text with the first from replaced by to (in place when it fits, else
 * a new allocation); nothing when from is not there */
static void tess_replace_once(char **text, const char *from, const char *to)
{
	char *at = from[0] ? strstr(*text, from) : NULL, *out;
	size_t lf = strlen(from), lt = strlen(to), n = strlen(*text);

	if (at == NULL || (out = malloc(n - lf + lt + 1)) == NULL)
		return;
	memcpy(out, *text, (size_t)(at - *text));
	memcpy(out + (at - *text), to, lt);
	memcpy(out + (at - *text) + lt, at + lf, n - (size_t)(at - *text) - lf + 1);
	free(*text);
	*text = out;
}

/* the numbers the number pass read right, right in the text too: a slashed
 * 0 read as 9 by the first pass is the commonest error on a fax page */
static void tess_correct(struct tess_result *res)
{
	for (int i = 0; i < res->found.n; i++) {
		const struct numbers_cand *c = &res->found.c[i];
		const char *v = c->value;

		if (c->kind == NUMBERS_MAIL)
			continue;
		if (c->kind == NUMBERS_POSTAL && strncmp(v, "〒", 3) == 0)
			v += 3;
		if (strcmp(c->first, v) != 0)
			tess_replace_once(&res->text, c->first, v);
	}
}

/* read p as it is now: text, confidence and numbers into res */
static int tess_read_as(struct tess *t, struct tess_page *p, struct tess_result *res)
{
	TessBaseAPI *a = tess_recognise(t, p, &res->vertical);
	char *raw;

	if (a == NULL)
		return -1;
	raw = TessBaseAPIGetUTF8Text(a);
	free(res->text);
	res->text = tess_squeeze(raw ? raw : "");
	if (raw != NULL)
		TessDeleteText(raw);
	res->confidence = TessBaseAPIMeanTextConf(a);
	res->rotation = p->quads * 90;
	numbers_free(&res->found);
	/* a number in tategaki is read as it stands: the digit engine reads
	 * across */
	tess_numbers(t, a, p, res, !res->vertical);
	TessBaseAPIClear(a);
	if (res->text != NULL)
		tess_correct(res);
	return res->text != NULL ? 0 : -1;
}

/* turn the page as osd says and read it again; the better reading stays */
static void tess_turn(struct tess *t, struct tess_page *p, struct tess_result *res)
{
	int quads = tess_osd_quads(t, p);
	struct tess_result again;
	PIX *turned;

	if (quads == 0 || (turned = pixRotateOrth(p->pix, quads)) == NULL)
		return;
	memset(&again, 0, sizeof(again));
	pixDestroy(&p->pix);
	p->pix = turned;
	p->quads = quads;
	if (tess_read_as(t, p, &again) == 0 && again.confidence > res->confidence) {
		again.width = res->width, again.height = res->height;
		tess_result_free(res);
		*res = again;
		return;
	}
	tess_result_free(&again);
}

int tess_read(struct tess *t, const uint8_t *tiff, size_t len, struct tess_result *r, char *err,
	      size_t errlen)
{
	struct tess_page p;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	if (tess_load(tiff, len, &p, err, errlen) < 0)
		return -1;
	r->width = p.w0;
	r->height = p.h0;
	if (p.blank) {
		r->blank = 1;
		r->text = strdup("");
	} else if (tess_read_as(t, &p, r) < 0) {
		snprintf(err, errlen, "Tesseract could not read the page");
		rc = -1;
	} else if (r->confidence < TESS_OSD_BELOW) {
		tess_turn(t, &p, r);
	}
	pixDestroy(&p.pix);
	if (rc == 0 && r->text == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc < 0)
		tess_result_free(r);
	return rc;
}
