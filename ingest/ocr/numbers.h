/* numbers: phone and fax numbers, postal codes and mail addresses found on
 * an OCR'd fax page (issue 8).  Pure code over UTF-8 strings: tess.c feeds
 * it what the two passes read, and the candidates go to the operator, who
 * accepts them into the contact store or not.
 *
 * A number is a span of one text line that the first pass read as digits,
 * hyphens, parentheses or their full-width forms; the number pass reads
 * the span again (digits and separators only) and numbers_add() decides:
 *   10 or 11 digits starting with 0   a phone number, or a fax number when
 *                                     the nearest label before it in the
 *                                     line is FAX, ファクス, ファックス
 *   7 digits as NNN-NNNN, or after 〒  a postal code
 * The value keeps the grouping the page shows (03-5321-1111; 03(5321)1111
 * becomes 03-5321-1111); digits run together are kept as they are. */
#ifndef MDG_NUMBERS_H
#define MDG_NUMBERS_H

#include <stddef.h>

enum numbers_kind { NUMBERS_PHONE, NUMBERS_FAX, NUMBERS_POSTAL, NUMBERS_MAIL };

struct numbers_cand {
	int kind;
	char value[80];
	char first[96];  /* what the first pass read there */
	int x, y, w, h;  /* on the page as stored */
};

struct numbers_found {
	struct numbers_cand *c;
	int n, cap;
};

#define NUMBERS_MAX 64 /* per page: more is noise, not a letter */

const char *numbers_kind_name(int kind);

/* 1 when cp (a Unicode code point) can be part of a number's span in the
 * first pass: digits, full-width digits, hyphens and dashes, parentheses */
int numbers_digitlike(unsigned cp);
/* katakana ロ read for the kanji 口 (the same shape in every font: 窓口
 * was read 窓ロ on 8 of the 12 test pages, and a search for 窓口 missed
 * them), mended in place (both are 3 bytes): ロ beside a kanji with no
 * katakana around it, or after a kanji that 口 follows in words going on
 * in katakana (窓ロセンター); 区役所ロビー and ロシア stay */
void numbers_mend_kuchi(char *text);
/* a 1 as the first pass may read it (】 ] 」 | l I): continues a span */
int numbers_onelike(unsigned cp);

/* one span: before = the line's text before it (for the label), first =
 * what the first pass read, digits = what the number pass read (NULL: use
 * first).  Adds a candidate when it is a number; 1 added, 0 not. */
int numbers_add(struct numbers_found *f, const char *before, const char *first, const char *digits,
		int x, int y, int w, int h);

/* mail addresses in one line of first-pass text; how many were added */
int numbers_mail(struct numbers_found *f, const char *line, int x, int y, int w, int h);

void numbers_free(struct numbers_found *f);

#endif
