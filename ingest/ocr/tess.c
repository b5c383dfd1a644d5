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
/* a mail address as citizens write it (lower case: the first pass read @
 * as Q and p as D) */
#define TESS_MAILCHARS "abcdefghijklmnopqrstuvwxyz0123456789.-_@+"
/* a run of Latin symbols this long or longer on a line may be an address */
#define TESS_MAIL_MIN 6
/* the mail pass's voters: four read @ as a letter on one test page, eight
 * read a 1 as l on another */
#define TESS_MAIL_VOTERS 6

struct tess {
	TessBaseAPI *jpn, *vert, *osd, *digits, *jdigits, *mail, *jmail;
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
	    (t->digits = tess_engine(datapath, "eng", OEM_LSTM_ONLY, err, errlen)) == NULL ||
	    (t->jdigits = tess_engine(datapath, "jpn", OEM_LSTM_ONLY, err, errlen)) == NULL ||
	    (t->mail = tess_engine(datapath, "eng", OEM_LSTM_ONLY, err, errlen)) == NULL ||
	    (t->jmail = tess_engine(datapath, "jpn", OEM_LSTM_ONLY, err, errlen)) == NULL) {
		tess_free(t);
		return NULL;
	}
	TessBaseAPISetVariable(t->digits, "tessedit_char_whitelist", TESS_DIGITS);
	TessBaseAPISetPageSegMode(t->digits, PSM_SINGLE_LINE);
	TessBaseAPISetVariable(t->jdigits, "tessedit_char_whitelist", TESS_DIGITS);
	TessBaseAPISetPageSegMode(t->jdigits, PSM_SINGLE_LINE);
	TessBaseAPISetVariable(t->mail, "tessedit_char_whitelist", TESS_MAILCHARS);
	TessBaseAPISetPageSegMode(t->mail, PSM_SINGLE_LINE);
	TessBaseAPISetVariable(t->jmail, "tessedit_char_whitelist", TESS_MAILCHARS);
	TessBaseAPISetPageSegMode(t->jmail, PSM_SINGLE_LINE);
	return t;
}

void tess_free(struct tess *t)
{
	TessBaseAPI *all[7];

	if (t == NULL)
		return;
	all[0] = t->jpn, all[1] = t->vert, all[2] = t->osd, all[3] = t->digits, all[4] = t->jdigits;
	all[5] = t->mail, all[6] = t->jmail;
	for (int i = 0; i < 7; i++)
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

/* The page as Tesseract reads it: grey, smoothed by a 3x3 mean (the
 * stair steps of a fax's 1-bit strokes read as strokes of their own:
 * IPAMincho 10.5 pt standard read at 3.3-4.9 % character error unsmoothed,
 * 0.8-1.2 % smoothed; fine pages from 0.4-1.3 % to 0-0.4 %, on three
 * letters each), a standard page's rows doubled first. */
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
	if ((p->blank = tess_blank(one)) != 0) { /* not read: as it is */
		p->pix = one;
		return 0;
	}
	if (xres > 0 && yres > 0 && yres * 3 < xres * 2) {
		/* standard: rows doubled, in grey with linear interpolation, so
		 * strokes do not step (Tesseract binarises it again) */
		PIX *gray = pixConvert1To8(NULL, one, 255, 0), *dbl;

		p->sy = (float)xres / (float)yres;
		dbl = gray ? pixScaleGrayLI(gray, 1.0f, p->sy) : NULL;
		p->pix = dbl ? pixBlockconvGray(dbl, NULL, 1, 1) : NULL;
		pixDestroy(&dbl);
		pixDestroy(&gray);
		pixDestroy(&one);
		if (p->pix == NULL) {
			snprintf(err, errlen, "the page cannot be scaled to square pixels");
			return -1;
		}
	} else {
		PIX *gray = pixConvert1To8(NULL, one, 255, 0);

		p->pix = gray ? pixBlockconvGray(gray, NULL, 1, 1) : NULL;
		pixDestroy(&gray);
		pixDestroy(&one);
		if (p->pix == NULL) {
			snprintf(err, errlen, "the page cannot be made grey");
			return -1;
		}
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
	/* a horizontal page keeps the layout jpn just found (Recognize reuses
	 * it: the same text, 40-120 ms less a page) */
	if (*vertical) {
		TessBaseAPISetImage2(a, p->pix);
		TessBaseAPISetSourceResolution(a, p->xres);
		TessBaseAPISetPageSegMode(a, PSM_AUTO);
	}
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
	int prev_r; /* the right edge of the symbol before the span, -1 at a line's start */
	int l, t, r, b;
	char first[96];
	size_t flen;
	/* the first symbol bridged (tess_numbers): where, and at what offset
	 * of first, for reading the two sides apart when the whole is no number */
	int bridged, bridge_l, bridge_r;
	size_t bridge_at, bridge_len;
};

static int tess_count_digits(const char *s, size_t n)
{
	int d = 0;

	for (size_t i = 0; i < n; i++)
		d += (s[i] >= '0' && s[i] <= '9') ||
		     (i + 2 < n && (unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBC &&
		      (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99);
	return d;
}

static void tess_span_add(struct tess_span *s, const char *sym, uint32_t cp, int l, int t, int r,
			  int b, int prev_r)
{
	size_t n = strlen(sym);

	if (!s->on) {
		memset(s, 0, sizeof(*s));
		s->on = 1;
		s->prev_r = prev_r;
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
	/* the longest run of Latin symbols (a mail address?), as read, with
	 * the first pass's spaces between its words */
	struct tess_run {
		char text[128];
		char held[16]; /* a symbol that is not Latin, after the run */
		size_t len;
		int n, l, r, at;
	} run, best;
};

/* a region cut out of the page with a white border around it, read alone
 * by the digit engine: no piece of a neighbouring
 * kanji is taken for a digit, and the first and last characters do not
 * touch the edge (they were dropped when they did) */
/* one reading of a cut: its characters (ASCII, white space left out) and
 * the engine's confidence in each */
struct tess_reading {
	char text[128];
	float conf[128];
};

static void tess_symbols(TessBaseAPI *e, struct tess_reading *out)
{
	TessResultIterator *ri = TessBaseAPIGetIterator(e);
	size_t o = 0;

	if (ri == NULL)
		return;
	do {
		char *sym = TessResultIteratorGetUTF8Text(ri, RIL_SYMBOL);

		if (sym != NULL && sym[0] != '\0' && sym[1] == '\0' && sym[0] != ' ' &&
		    o + 1 < sizeof(out->text)) {
			out->conf[o] = TessResultIteratorConfidence(ri, RIL_SYMBOL);
			out->text[o++] = sym[0];
		}
		if (sym != NULL)
			TessDeleteText(sym);
	} while (TessResultIteratorNext(ri, RIL_SYMBOL));
	out->text[o] = '\0';
	TessResultIteratorDelete(ri);
}

static void tess_cut_read(TessBaseAPI *e, const struct tess_page *p, int x, int y, int w, int h,
			  float scale, struct tess_reading *out)
{
	BOX *box = boxCreate(x, y, w, h);
	PIX *cut = box ? pixClipRectangle(p->pix, box, NULL) : NULL, *framed;

	memset(out, 0, sizeof(*out));
	boxDestroy(&box);
	if (cut == NULL)
		return;
	if (scale != 1.0f) { /* grey, smoothly scaled */
		PIX *gray = pixGetDepth(cut) == 8 ? pixClone(cut) : pixConvert1To8(NULL, cut, 255, 0);
		PIX *big = gray ? pixScaleGrayLI(gray, scale, scale) : NULL;

		pixDestroy(&gray);
		pixDestroy(&cut);
		if ((cut = big) == NULL)
			return;
	}
	framed = pixAddBorder(cut, h / 2 + TESS_PAD, pixGetDepth(cut) == 1 ? 0 : 255);
	pixDestroy(&cut);
	if (framed == NULL)
		return;
	TessBaseAPISetImage2(e, framed);
	TessBaseAPISetSourceResolution(e, p->xres);
	if (TessBaseAPIRecognize(e, NULL) == 0)
		tess_symbols(e, out);
	TessBaseAPIClear(e);
	pixDestroy(&framed);
}

/* The number pass on a span: read by two engines (eng and jpn, each
 * restricted to digits and separators) at several scales.  Their errors
 * differ (measured on the test pages): eng reads a 5 as 6, 3 or 8 at some
 * scales, jpn a slashed 0 or a 3 as 9; seldom both the same digit.  The
 * readings of the commonest shape (length, and for numbers where the
 * separators are) vote character by character, the engines' confidence
 * breaking a tie.  Eight voters found every number on the twelve test
 * pages exactly; six missed one, ten were no better and 100 ms slower a
 * page.  A standard page is read at larger scales, its rows being half as
 * many.  The caller frees with free(). */
#define TESS_VOTERS 8
/* the first this many readings (eng and jpn at two scales) alike end the
 * vote: their errors differ, so alike they are taken as right (the same
 * candidates on the twelve test pages as with all eight; it ends most mail
 * passes, few number passes, jpn reading slashed 0s as 9) */
#define TESS_AGREE 4
struct tess_voter {
	int jpn;
	float scale;
};

static const struct tess_voter tess_fine[TESS_VOTERS] = {
	{ 0, 1.0f }, { 1, 1.0f }, { 0, 1.5f }, { 1, 1.5f }, { 0, 2.0f }, { 1, 2.0f },
	{ 0, 1.25f }, { 1, 1.25f }
};
static const struct tess_voter tess_standard[TESS_VOTERS] = {
	{ 0, 2.0f }, { 1, 2.0f }, { 0, 1.5f }, { 1, 1.5f }, { 0, 2.5f }, { 1, 2.5f },
	{ 0, 1.75f }, { 1, 1.75f }
};

static int tess_same_shape(const char *a, const char *b, int digits)
{
	size_t n = strlen(a);

	if (a[0] == '\0' || strlen(b) != n)
		return 0;
	for (size_t k = 0; digits && k < n; k++)
		if ((a[k] >= '0' && a[k] <= '9') != (b[k] >= '0' && b[k] <= '9'))
			return 0;
	return 1;
}

static char *tess_vote(struct tess *t, const struct tess_page *p, int x, int y, int w, int h,
		       int nvoters, int digits)
{
	const struct tess_voter *v = p->sy > 1.0f ? tess_standard : tess_fine;
	struct tess_reading rd[TESS_VOTERS];
	char got[TESS_VOTERS][128], out[128];
	int best = -1, bestn = 0, at = -1;

	for (int i = 0; i < nvoters; i++) {
		TessBaseAPI *e = digits ? (v[i].jpn ? t->jdigits : t->digits)
					: (v[i].jpn ? t->jmail : t->mail);
		tess_cut_read(e, p, x, y, w, h, v[i].scale, &rd[i]);
		memcpy(got[i], rd[i].text, sizeof(got[i]));
		if (i + 1 == TESS_AGREE) { /* both engines at two scales agree: done */
			int j = 1;

			while (j <= i && got[0][0] != '\0' && strcmp(got[j], got[0]) == 0)
				j++;
			if (j > i) {
				nvoters = i + 1;
				break;
			}
		}
	}
	for (int i = 0; i < nvoters; i++) {
		int same = 0;

		for (int j = 0; j < nvoters; j++)
			same += tess_same_shape(got[i], got[j], digits);
		if (same > bestn)
			best = i, bestn = same;
	}
	if (best < 0)
		return strdup("");
	memcpy(out, got[best], sizeof(out));
	/* an address has one @: where most readings put it */
	for (size_t k = 0, most = 0; !digits && out[k] != '\0'; k++) {
		size_t n = 0;

		for (int j = 0; j < nvoters; j++)
			n += tess_same_shape(out, got[j], 0) && got[j][k] == '@';
		if (n > most)
			most = n, at = (int)k;
	}
	for (size_t k = 0; out[k] != '\0'; k++) {
		float votes[128] = { 0 }, top = 0;

		/* a vote each; jpn's 9 half a vote, being how it reads a slashed 0
		 * (at every scale, where eng read the 0 right at three of four);
		 * the engines' confidence breaks a tie */
		for (int j = 0; j < nvoters; j++) {
			unsigned char c = (unsigned char)got[j][k];

			if (tess_same_shape(out, got[j], digits) && c < 128)
				votes[c] += (v[j].jpn && c == '9' ? 0.5f : 1.0f) + rd[j].conf[k] / 1e4f;
		}
		if (!digits && (int)k != at)
			votes['@'] = 0;
		for (int j = 0; j < nvoters; j++) {
			unsigned char c = (unsigned char)got[j][k];

			if (tess_same_shape(out, got[j], digits) && c < 128 && votes[c] > top)
				top = votes[c], out[k] = (char)c;
		}
	}
	return strdup(out);
}

/* read the span again with the digit engine and offer what it reads */
static void tess_span_close(struct tess *t, const struct tess_page *p, struct tess_span *s,
			    const struct tess_line *ln, struct tess_result *res, int digit_pass,
			    int next_l)
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
	/* short of the symbol before (a 〒 touching the digits was read as 7) */
	x = s->l - TESS_PAD < 0 ? 0 : s->l - TESS_PAD;
	if (s->prev_r >= 0 && x <= s->prev_r)
		x = s->prev_r + 1 < s->l ? s->prev_r + 1 : s->l;
	y = (ln->t < s->t ? ln->t : s->t) - TESS_PAD;
	y = y < 0 ? 0 : y;
	h = (ln->b > s->b ? ln->b : s->b) + TESS_PAD - y;
	/* to the right a third of the line's height more, short of the next
	 * symbol: the first pass's box of the last digit may fall short of it
	 * (the right of a 3 cut off was read as 2 by eng at every scale) */
	w = s->r + TESS_PAD + h / 3;
	if (next_l >= 0 && w > next_l - 1)
		w = next_l - 1 > s->r + TESS_PAD ? next_l - 1 : s->r + TESS_PAD;
	if (w > pixGetWidth(p->pix))
		w = pixGetWidth(p->pix);
	w -= x;
	if (digit_pass)
		digits = tess_vote(t, p, x, y, w, h, TESS_VOTERS, 1);
	tess_unmap(p, &x, &y, &w, &h);
	if (numbers_add(&res->found, before, s->first, digits, x, y, w, h) == 0 && s->bridged) {
		/* two numbers with one symbol between (03-5321-1111、03-5388-1234):
		 * each side on its own */
		struct tess_span a = *s, b = *s;

		a.on = b.on = 1;
		a.bridged = b.bridged = 0;
		a.r = s->bridge_l - 1;
		a.flen = s->bridge_at;
		a.first[a.flen] = '\0';
		a.digits = tess_count_digits(a.first, a.flen);
		b.l = s->bridge_r + 1;
		b.prev_r = s->bridge_r;
		b.flen = s->flen - s->bridge_at - s->bridge_len;
		memmove(b.first, s->first + s->bridge_at + s->bridge_len, b.flen + 1);
		b.digits = tess_count_digits(b.first, b.flen);
		tess_span_close(t, p, &a, ln, res, digit_pass, s->bridge_l);
		tess_span_close(t, p, &b, ln, res, digit_pass, next_l);
	}
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

static int tess_latin(uint32_t cp)
{
	return (cp > 0x20 && cp < 0x7F) || (cp >= 0xFF01 && cp <= 0xFF5E);
}

/* the line's run of Latin symbols ends: the longest is kept */
static void tess_run_end(struct tess_line *ln)
{
	if (ln->run.n > ln->best.n)
		ln->best = ln->run;
	memset(&ln->run, 0, sizeof(ln->run));
}

/* a symbol of the line into its Latin run: a gap wider than the line is
 * high ends a run; one symbol that is not Latin between two that are (an @
 * read as の) is held and bridged */
static void tess_run_add(struct tess_line *ln, const char *sym, uint32_t cp, int l, int r,
			 int word)
{
	struct tess_run *u = &ln->run;
	size_t n = strlen(sym);

	if (u->n > 0 && l - u->r > ln->b - ln->t) {
		u->held[0] = '\0';
		tess_run_end(ln);
	}
	if (!tess_latin(cp)) {
		if (u->n > 0 && u->held[0] == '\0' && n < sizeof(u->held)) {
			memcpy(u->held, sym, n + 1);
			return;
		}
		u->held[0] = '\0';
		tess_run_end(ln);
		return;
	}
	if (u->n == 0)
		u->l = l;
	else if (word && u->held[0] == '\0' && u->len + 1 < sizeof(u->text))
		u->text[u->len++] = ' '; /* as tess_squeeze keeps it: between Latin */
	if (u->held[0] != '\0') {
		size_t hn = strlen(u->held);

		if (u->len + hn < sizeof(u->text)) {
			memcpy(u->text + u->len, u->held, hn + 1);
			u->len += hn;
		}
		u->held[0] = '\0';
	}
	if (u->len + n < sizeof(u->text)) {
		memcpy(u->text + u->len, sym, n + 1);
		u->len += n;
	}
	u->r = r;
	u->n++;
	u->at |= cp == '@' || cp == 0xFF20;
}

/* 1 when the line (words parted by spaces) holds メール or mail */
static int tess_mail_label(const char *text)
{
	char flat[TESS_LINE_MAX];
	size_t o = 0;

	for (; *text != '\0' && o + 1 < sizeof(flat); text++)
		if (*text != ' ')
			flat[o++] = *text;
	flat[o] = '\0';
	return strstr(flat, "メール") != NULL || strstr(flat, "mail") != NULL ||
	       strstr(flat, "Mail") != NULL || strstr(flat, "MAIL") != NULL;
}

/* The mail address of a line.  The first pass reads an address's @ as Q,
 * p as D and . as , (measured on the test pages): a run of Latin symbols
 * on a line labelled メール or mail, or holding an @, is read again by
 * eng and jpn restricted to the characters of an address, at three scales
 * each, and the readings vote (one @, where most readings put it).  When
 * that reading is no address, the first pass's line is searched as it
 * stands. */
static void tess_line_end(struct tess *t, struct tess_line *ln, const struct tess_page *p,
			  struct tess_result *res, int mail_pass)
{
	int x = ln->l, y = ln->t, w = ln->r - ln->l, h = ln->b - ln->t, found = 0;

	tess_run_end(ln);
	if (ln->len == 0)
		goto done;
	if (mail_pass && ln->best.n >= TESS_MAIL_MIN &&
	    (ln->best.at || tess_mail_label(ln->text))) {
		int mx = ln->best.l - TESS_PAD < 0 ? 0 : ln->best.l - TESS_PAD;
		int my = ln->t - TESS_PAD < 0 ? 0 : ln->t - TESS_PAD;
		int mw = ln->best.r + TESS_PAD - mx, mh = ln->b + TESS_PAD - my;
		char *read = tess_vote(t, p, mx, my, mw, mh, TESS_MAIL_VOTERS, 0);
		int before = res->found.n;

		tess_unmap(p, &mx, &my, &mw, &mh);
		if (read != NULL && numbers_mail(&res->found, read, mx, my, mw, mh) == 1 &&
		    res->found.n == before + 1) {
			struct numbers_cand *c = &res->found.c[before];
			size_t n = strlen(ln->best.text);

			if (n < sizeof(c->first)) /* else the text keeps the first reading */
				memcpy(c->first, ln->best.text, n + 1);
			found = 1;
		}
		free(read);
	}
	if (!found) {
		tess_unmap(p, &x, &y, &w, &h);
		numbers_mail(&res->found, ln->text, x, y, w, h);
	}
done:
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
	int last_r = 0, word_line = 0; /* word_line: a symbol before on this line */
	struct {
		int on, l, t, r, b;
		char sym[16];
	} held = { 0 };

	if (ri == NULL)
		return;
	pi = TessResultIteratorGetPageIterator(ri);
	do {
		char *sym = TessResultIteratorGetUTF8Text(ri, RIL_SYMBOL);
		int l, tp, r, b, gap, word = 0;
		uint32_t cp = 0;

		if (sym == NULL || !TessPageIteratorBoundingBox(pi, RIL_SYMBOL, &l, &tp, &r, &b)) {
			if (sym != NULL)
				TessDeleteText(sym);
			continue;
		}
		if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) {
			tess_span_close(t, p, &span, &line, res, digit_pass, held.on ? held.l : -1);
			held.on = 0;
			tess_line_end(t, &line, p, res, digit_pass);
			TessPageIteratorBoundingBox(pi, RIL_TEXTLINE, &line.l, &line.t, &line.r,
						    &line.b);
			word = 0;
			word_line = 0;
		} else if ((word = TessPageIteratorIsAtBeginningOf(pi, RIL_WORD)) != 0) {
			tess_line_put(&line, " ");
		}
		utf8_decode(sym, strlen(sym), &cp);
		gap = l - last_r;
		/* a gap wider than the line is high ends a number: the next is another */
		if (span.on && gap > line.b - line.t) {
			tess_span_close(t, p, &span, &line, res, digit_pass, l);
			held.on = 0;
		}
		if (span.on && !numbers_digitlike(cp) && !numbers_onelike(cp)) {
			/* one symbol that is no digit inside a number (a 7 read as
			 * 人 on a standard page) is held: a digit after it bridges it */
			if (held.on) {
				tess_span_close(t, p, &span, &line, res, digit_pass,
						held.on ? held.l : l);
				held.on = 0;
			} else {
				held.on = 1;
				held.l = l, held.t = tp, held.r = r, held.b = b;
				snprintf(held.sym, sizeof(held.sym), "%s", sym);
			}
		} else if (numbers_digitlike(cp) || (span.on && numbers_onelike(cp))) {
			if (held.on && !span.bridged) {
				span.bridged = 1;
				span.bridge_l = held.l, span.bridge_r = held.r;
				span.bridge_at = span.flen;
				span.bridge_len = strlen(held.sym);
			}
			if (held.on)
				tess_span_add(&span, held.sym, 0, held.l, held.t, held.r, held.b, -1);
			held.on = 0;
			tess_span_add(&span, sym, cp, l, tp, r, b, word_line ? last_r : -1);
		}
		tess_line_put(&line, sym);
		tess_run_add(&line, sym, cp, l, r, word);
		last_r = r;
		word_line = 1;
		TessDeleteText(sym);
	} while (TessResultIteratorNext(ri, RIL_SYMBOL));
	tess_span_close(t, p, &span, &line, res, digit_pass, held.on ? held.l : -1);
	tess_line_end(t, &line, p, res, digit_pass);
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
 * 0 read as 9 by the first pass is the commonest error on a fax page; and
 * the addresses the mail pass read */
static void tess_correct(struct tess_result *res)
{
	for (int i = 0; i < res->found.n; i++) {
		const struct numbers_cand *c = &res->found.c[i];
		const char *v = c->value;

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
	if (res->text != NULL && !res->vertical)
		numbers_mend_kuchi(res->text);
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
