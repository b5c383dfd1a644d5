/* htmlsan: an allow-list sanitiser for the HTML part of a received mail.
 *
 * The input is tokenised by our own HTML tokenizer (the states of the
 * HTML5 tokenizer that matter for mail: tags and attributes with their
 * quoting rules, comments, bogus comments, raw-text elements) and the
 * output is written anew from the tokens: only elements and attributes on
 * the lists in htmlsan.c, every attribute value decoded, checked and
 * re-escaped inside double quotes, every text escaped, every element
 * closed.  So where our tokenizer and a browser's disagree on hostile
 * input, the difference can only change what text is shown, never turn
 * text into markup: the browser parses our output, not the input.
 *
 * Dropped: script, style, iframe, object, embed, form controls, svg, math
 * and the like (those that hold code or raw text, with their contents),
 * comments (conditional ones too), CDATA, every on* attribute, every URL
 * but http/https/mailto links and cid:/data:image (png, gif, jpeg, webp)
 * or, when asked, http/https images; CSS but a small set of properties
 * without url(), functions (but rgb/hsl colours), comments or escapes.
 *
 * One pass over the input, forward only, with no backtracking: the time
 * is linear in the input whatever it holds (an unterminated comment or
 * script ends the document, as in a browser).  The output is bounded by
 * the maximum of the caller's buffer; past it the document is cut at a
 * token boundary, every open element is closed and truncated is set. */
#ifndef MDG_HTMLSAN_H
#define MDG_HTMLSAN_H
#include <stddef.h>

struct buf;
struct pool;

struct htmlsan_opts {
	/* keep http/https image sources; else each becomes a visible
	 * placeholder (remote images tell the sender the mail was read) */
	int remote_images;
	/* the placeholder's text; NULL = "[remote image]" */
	const char *remote_label;
	/* For <img src="cid:ID">: write the URL to use for content-id id
	 * (percent-decoded, len bytes, not NUL-terminated) to out and return
	 * 1, or return 0 when there is no such image (the img is dropped), -1
	 * on error (the same).  The URL must need no escaping inside a
	 * double-quoted attribute (no '"', '<', '>', '&', blanks or controls;
	 * what does not qualify is removed again).  NULL: cid images dropped. */
	int (*cid)(void *arg, const char *id, size_t len, struct buf *out);
	void *cid_arg;
	size_t max_elements; /* elements kept; 0 = 100 000 */
	size_t max_depth;    /* elements open at once; 0 = 200 */
};

struct htmlsan_stats {
	size_t elements;         /* elements written */
	size_t dropped_elements; /* start tags not written (not allowed or past a limit) */
	size_t dropped_attrs;    /* attributes not written (not allowed or a bad value) */
	size_t remote_images;    /* http(s) images seen (kept or replaced) */
	size_t cid_images;       /* cid: images the callback resolved */
	int truncated;           /* the output limit cut the document */
};

/* Sanitise html[0..n) (UTF-8; invalid bytes and NUL become U+FFFD, using
 * pool p for the copy) and append the result to out, whose maximum bounds
 * it.  opts and stats may be NULL.  0, or -1 when memory ran out (out then
 * holds a well-formed prefix). */
int htmlsan_clean(struct pool *p, const char *html, size_t n, const struct htmlsan_opts *opts,
		  struct buf *out, struct htmlsan_stats *stats);

/* "image/png", "image/gif", "image/jpeg" or "image/webp" for a stored
 * Content-Type naming one of them (case and parameters ignored), else NULL */
const char *htmlsan_image_type(const char *content_type);
/* append data:<type>;base64,<data>, type being a Content-Type that
 * htmlsan_image_type() accepts (written as it names it); -1 for another
 * type or when out is full */
int htmlsan_data_url(struct buf *out, const char *type, const void *data, size_t n);
/* append s[0..n) %-encoded: all but A-Z a-z 0-9 - . _ ~ @ */
int htmlsan_url_encode(struct buf *out, const char *s, size_t n);

#endif
