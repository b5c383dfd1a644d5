/* faxrender: reply text on A4 fax pages with pango and cairo (see faxrender.h).
 *
 * Cairo's user space is set to points (cairo_scale by dpi / 72 on each
 * axis), so the page's non-square pixels are handled by cairo and the
 * layout is done in points, the same for both axes.  Pango lays the body
 * out once as one paragraph stream of the text box's width; the lines are
 * then dealt onto pages (pass 1, which also gives the page count "N"),
 * and each page is drawn on one A8 surface, reused, and thresholded into
 * the 1-bit bitmap keeping thin strokes (pass 2; FAXRENDER_THIN).
 * Greyscale antialiasing then thresholding keeps the strokes of small
 * kanji better than drawing with antialiasing off. */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "faxrender.h"
#include "buf.h"

#define RULE_GAP_PT 6.0   /* between the letterhead, its rule and the body */
#define LINE_SPACING 1.5  /* of the font size: a fax blurs lines set closer */

struct line_place {
	PangoLayoutLine *line;
	int page;           /* 0-based */
	double baseline;    /* points from the top of the page's body area */
};

struct render {
	const struct faxrender_opts *o;
	cairo_surface_t *surf;
	cairo_t *cr;
	PangoLayout *head;      /* the letterhead */
	PangoLayout *body;
	struct line_place *lines;
	int nlines;
	int pages;              /* of text */
	double box_x, box_y, box_w, box_h; /* the text box, points */
	double foot_h;          /* the footer band at the box's bottom */
	double head_h;          /* letterhead + rule + gap, on page 1 */
	unsigned char *std;     /* standard: the coverage of a page's rows, 1 per 2 */
};

static void text_box(const struct faxrender_opts *o, int rows, int ydpi, struct faxrender_box *box)
{
	double m = o->margin_mm / 25.4;

	box->x0 = (int)(m * FAXRENDER_XDPI);
	box->y0 = (int)(m * ydpi);
	box->x1 = FAXRENDER_WIDTH - box->x0;
	box->y1 = rows - box->y0;
}

void faxrender_text_box(const struct faxrender_opts *o, struct faxrender_box *box)
{
	if (o->standard)
		text_box(o, FAXRENDER_STD_HEIGHT, FAXRENDER_STD_YDPI, box);
	else
		text_box(o, FAXRENDER_HEIGHT, FAXRENDER_YDPI, box);
}

static int opts_check(const struct faxrender_opts *o, char *err, size_t errlen)
{
	if (o->font == NULL || o->font[0] == '\0' || strlen(o->font) > 100) {
		snprintf(err, errlen, "no font family given");
		return -1;
	}
	if (!(o->font_pt >= 10.5 && o->font_pt <= 12.0)) {
		snprintf(err, errlen, "font size %.1f pt is outside 10.5-12", o->font_pt);
		return -1;
	}
	if (!(o->margin_mm >= 10.0 && o->margin_mm <= 40.0)) {
		snprintf(err, errlen, "margin %.1f mm is outside 10-40", o->margin_mm);
		return -1;
	}
	if (o->max_pages < 1 || o->extra_pages < 0 || o->extra_pages > 1000) {
		snprintf(err, errlen, "bad page limits");
		return -1;
	}
	return 0;
}

static int text_check(const char *what, const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (len > FAXRENDER_MAX_TEXT) {
		snprintf(err, errlen, "%s is longer than %d bytes", what, FAXRENDER_MAX_TEXT);
		return -1;
	}
	if (!g_utf8_validate(s, (gssize)len, NULL)) {
		snprintf(err, errlen, "%s is not valid UTF-8", what);
		return -1;
	}
	return 0;
}

/* Hinting off and unrounded positions: the layout is the same whatever
 * the surface, and the output the same on every run. */
static void context_setup(PangoContext *pc)
{
	cairo_font_options_t *fo = cairo_font_options_create();

	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	pango_cairo_context_set_font_options(pc, fo);
	cairo_font_options_destroy(fo);
	pango_cairo_context_set_resolution(pc, 72.0);
	pango_context_set_round_glyph_positions(pc, FALSE);
}

static PangoLayout *layout_new(struct render *r, const char *text, double size_pt)
{
	PangoLayout *l = pango_cairo_create_layout(r->cr);
	PangoFontDescription *fd = pango_font_description_new();

	context_setup(pango_layout_get_context(l));
	pango_layout_context_changed(l);
	pango_font_description_set_family(fd, r->o->font);
	pango_font_description_set_absolute_size(fd, size_pt * PANGO_SCALE);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	pango_layout_set_width(l, (int)(r->box_w * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_line_spacing(l, LINE_SPACING);
	pango_layout_set_text(l, text, -1);
	return l;
}

static int surface_setup(struct render *r)
{
	r->surf = cairo_image_surface_create(CAIRO_FORMAT_A8, FAXRENDER_WIDTH, FAXRENDER_HEIGHT);
	if (cairo_surface_status(r->surf) != CAIRO_STATUS_SUCCESS)
		return -1;
	r->cr = cairo_create(r->surf);
	if (cairo_status(r->cr) != CAIRO_STATUS_SUCCESS)
		return -1;
	cairo_scale(r->cr, FAXRENDER_XDPI / 72.0, FAXRENDER_YDPI / 72.0);
	if (r->o->standard &&
	    (r->std = malloc((size_t)FAXRENDER_WIDTH * FAXRENDER_STD_HEIGHT)) == NULL)
		return -1;
	return 0;
}

static void geometry(struct render *r)
{
	struct faxrender_box b;

	/* the box in points, from the pixel box, so both agree exactly (set
	 * at fine resolution on both) */
	text_box(r->o, FAXRENDER_HEIGHT, FAXRENDER_YDPI, &b);
	r->box_x = b.x0 * 72.0 / FAXRENDER_XDPI;
	r->box_y = b.y0 * 72.0 / FAXRENDER_YDPI;
	r->box_w = (b.x1 - b.x0) * 72.0 / FAXRENDER_XDPI;
	r->box_h = (b.y1 - b.y0) * 72.0 / FAXRENDER_YDPI;
	r->foot_h = r->o->font_pt * 2.0;
}

/* Pass 1: deal the body's lines onto pages. */
static int place_lines(struct render *r, char *err, size_t errlen)
{
	PangoLayoutIter *it = pango_layout_get_iter(r->body);
	int cap = pango_layout_get_line_count(r->body), page = 0;
	double top = 0;     /* layout y where the current page's area starts */

	r->lines = calloc((size_t)cap + 1, sizeof(*r->lines));
	if (r->lines == NULL) {
		pango_layout_iter_free(it);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	do {
		int y0, y1;
		double area = r->box_h - r->foot_h - (page == 0 ? r->head_h : 0);

		pango_layout_iter_get_line_yrange(it, &y0, &y1);
		if ((double)y1 / PANGO_SCALE - top > area && (double)y0 / PANGO_SCALE > top) {
			page++;
			top = (double)y0 / PANGO_SCALE;
		}
		r->lines[r->nlines].line = pango_layout_iter_get_line_readonly(it);
		r->lines[r->nlines].page = page;
		r->lines[r->nlines].baseline = (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE - top;
		r->nlines++;
	} while (r->nlines < cap && pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	r->pages = page + 1;
	if (r->pages > r->o->max_pages) {
		snprintf(err, errlen, "the text needs %d pages, more than the limit of %d", r->pages,
			 r->o->max_pages);
		return -1;
	}
	return 0;
}

static void draw_footer(struct render *r, int page)
{
	char num[32];
	PangoLayout *l;
	int w, h;

	snprintf(num, sizeof num, "%d/%d", page + 1, r->pages + r->o->extra_pages);
	l = layout_new(r, num, r->o->font_pt);
	pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
	pango_layout_get_size(l, &w, &h);
	cairo_move_to(r->cr, r->box_x, r->box_y + r->box_h - (double)h / PANGO_SCALE);
	pango_cairo_show_layout(r->cr, l);
	g_object_unref(l);
}

static void draw_head(struct render *r)
{
	double y;
	int w, h;

	pango_layout_get_size(r->head, &w, &h);
	cairo_move_to(r->cr, r->box_x, r->box_y);
	pango_cairo_show_layout(r->cr, r->head);
	y = r->box_y + (double)h / PANGO_SCALE + RULE_GAP_PT;
	cairo_set_line_width(r->cr, 0.75);
	cairo_move_to(r->cr, r->box_x, y);
	cairo_line_to(r->cr, r->box_x + r->box_w, y);
	cairo_stroke(r->cr);
}

/* 1 when the pixel of coverage c, between a and b across a possible
 * thin stroke, is that stroke's ink (FAXRENDER_THIN): the darker of the
 * pair (ties go to the later pixel, so only one takes it) */
static int thin_ink(int c, int a, int b)
{
	int other = a > b ? a : b;

	return c >= a && c > b && c + other >= FAXRENDER_THIN;
}

/* Threshold the A8 surface into a bitmap: half coverage or more is ink,
 * and the darker pixel of a thin stroke (FAXRENDER_THIN).  A standard
 * page's row covers two rows of the surface: their mean is its coverage,
 * as a sensor integrating over its line sees it (pango set glyphs at
 * half their size on a surface scaled unevenly, so the page is set at
 * fine resolution and its rows paired). */
static int take_bitmap(struct render *r, struct faxtiff_bitmap *bm)
{
	const unsigned char *src;
	int sstride, x, y;

	cairo_surface_flush(r->surf);
	src = cairo_image_surface_get_data(r->surf);
	sstride = cairo_image_surface_get_stride(r->surf);
	bm->width = FAXRENDER_WIDTH;
	bm->height = r->o->standard ? FAXRENDER_STD_HEIGHT : FAXRENDER_HEIGHT;
	bm->stride = (FAXRENDER_WIDTH + 7) / 8;
	bm->x_dpi = FAXRENDER_XDPI;
	bm->y_dpi = r->o->standard ? FAXRENDER_STD_YDPI : FAXRENDER_YDPI;
	bm->bits = calloc((size_t)bm->stride * (size_t)bm->height, 1);
	if (bm->bits == NULL)
		return -1;
	if (r->o->standard) {
		for (y = 0; y < bm->height; y++) {
			const unsigned char *a = src + (size_t)(2 * y) * (size_t)sstride;
			unsigned char *o = r->std + (size_t)y * FAXRENDER_WIDTH;

			for (x = 0; x < bm->width; x++)
				o[x] = (unsigned char)((a[x] + a[x + sstride] + 1) / 2);
		}
		src = r->std;
		sstride = FAXRENDER_WIDTH;
	}
	for (y = 0; y < bm->height; y++) {
		const unsigned char *row = src + (size_t)y * (size_t)sstride;
		const unsigned char *up = y > 0 ? row - sstride : NULL;
		const unsigned char *down = y + 1 < bm->height ? row + sstride : NULL;
		uint8_t *out = bm->bits + (size_t)y * (size_t)bm->stride;

		for (x = 0; x < bm->width; x++) {
			int c = row[x];

			if (c == 0)
				continue;
			if (c >= 128 ||
			    thin_ink(c, up ? up[x] : 0, down ? down[x] : 0) ||
			    thin_ink(c, x > 0 ? row[x - 1] : 0, x + 1 < bm->width ? row[x + 1] : 0))
				out[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
		}
	}
	return 0;
}

static int draw_page(struct render *r, int page, struct faxtiff_bitmap *bm)
{
	double area_y = r->box_y + (page == 0 ? r->head_h : 0);
	int i;

	cairo_set_operator(r->cr, CAIRO_OPERATOR_CLEAR);
	cairo_paint(r->cr);
	cairo_set_operator(r->cr, CAIRO_OPERATOR_OVER);
	cairo_set_source_rgba(r->cr, 0, 0, 0, 1);
	if (page == 0 && r->head != NULL)
		draw_head(r);
	for (i = 0; i < r->nlines; i++) {
		if (r->lines[i].page != page)
			continue;
		cairo_move_to(r->cr, r->box_x, area_y + r->lines[i].baseline);
		pango_cairo_show_layout_line(r->cr, r->lines[i].line);
	}
	draw_footer(r, page);
	return take_bitmap(r, bm);
}

static void render_done(struct render *r)
{
	if (r->head != NULL)
		g_object_unref(r->head);
	if (r->body != NULL)
		g_object_unref(r->body);
	if (r->cr != NULL)
		cairo_destroy(r->cr);
	if (r->surf != NULL)
		cairo_surface_destroy(r->surf);
	free(r->lines);
	free(r->std);
}

static int layouts(struct render *r, const char *letterhead, const char *body)
{
	int w, h;

	if (letterhead[0] != '\0') {
		r->head = layout_new(r, letterhead, r->o->font_pt);
		pango_layout_get_size(r->head, &w, &h);
		r->head_h = (double)h / PANGO_SCALE + 2 * RULE_GAP_PT;
		if (r->head_h > r->box_h / 2)
			return -1;
	}
	r->body = layout_new(r, body, r->o->font_pt);
	return 0;
}

int faxrender_pages(const struct faxrender_opts *o, const char *letterhead, const char *body,
		    struct faxtiff_bitmap **pages, int *n, char *err, size_t errlen)
{
	struct render r = { .o = o };
	struct faxtiff_bitmap *out = NULL;
	int i, rc = -1;

	*pages = NULL;
	*n = 0;
	if (opts_check(o, err, errlen) < 0 || text_check("letterhead", letterhead, err, errlen) < 0 ||
	    text_check("body", body, err, errlen) < 0)
		return -1;
	geometry(&r);
	if (surface_setup(&r) < 0) {
		snprintf(err, errlen, "cairo could not make a page surface");
		goto done;
	}
	if (layouts(&r, letterhead, body) < 0) {
		snprintf(err, errlen, "the letterhead takes more than half a page");
		goto done;
	}
	if (place_lines(&r, err, errlen) < 0)
		goto done;
	out = calloc((size_t)r.pages, sizeof(*out));
	if (out == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < r.pages; i++) {
		if (draw_page(&r, i, &out[i]) < 0) {
			faxrender_free(out, i);
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	}
	*pages = out;
	*n = r.pages;
	rc = 0;
done:
	render_done(&r);
	return rc;
}

void faxrender_free(struct faxtiff_bitmap *pages, int n)
{
	int i;

	if (pages == NULL)
		return;
	for (i = 0; i < n; i++)
		free(pages[i].bits);
	free(pages);
}

int faxrender_tiff(const struct faxtiff_bitmap *pages, int n, struct faxtiff_page **out,
		   char *err, size_t errlen)
{
	struct faxtiff_page *t = calloc((size_t)(n > 0 ? n : 1), sizeof(*t));
	int i;

	*out = NULL;
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (faxtiff_encode_g4(&pages[i], &t[i], err, errlen) < 0) {
			faxtiff_pages_free(t, i);
			return -1;
		}
	}
	*out = t;
	return 0;
}

/* ---- letterhead variables ---- */

static const char *var_value(const struct faxrender_var *vars, size_t nvars, const char *name,
			     size_t len)
{
	size_t i;

	for (i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
			return vars[i].value;
	return NULL;
}

int faxrender_fill(const char *tmpl, const struct faxrender_var *vars, size_t nvars,
		   struct buf *out, char *err, size_t errlen)
{
	const char *s = tmpl, *open;

	while ((open = strstr(s, "{{")) != NULL) {
		const char *name = open + 2, *close = strstr(name, "}}"), *v;
		size_t len;

		if (close == NULL || memchr(name, '\n', (size_t)(close - name)) != NULL) {
			snprintf(err, errlen, "\"{{\" without \"}}\" near \"%.30s\"", open);
			return -1;
		}
		while (*name == ' ')
			name++;
		len = (size_t)(close - name);
		while (len > 0 && name[len - 1] == ' ')
			len--;
		v = var_value(vars, nvars, name, len);
		if (v == NULL) {
			snprintf(err, errlen, "unknown variable {{%.*s}}", (int)(len > 40 ? 40 : len), name);
			return -1;
		}
		if (buf_append(out, s, (size_t)(open - s)) < 0 || buf_append_str(out, v) < 0) {
			snprintf(err, errlen, "the filled template is too long");
			return -1;
		}
		s = close + 2;
	}
	if (buf_append_str(out, s) < 0) {
		snprintf(err, errlen, "the filled template is too long");
		return -1;
	}
	return 0;
}
