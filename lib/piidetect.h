/* piidetect: find what looks like a citizen's contact detail in free text.
 *
 * The case history (応対履歴) must carry no identifiers (ARCHITECTURE.md,
 * "Two kinds of record"), so what an operator types into a summary is
 * scanned before it is stored, and each finding is shown back so the
 * operator can take it out.  This is a net for accidents, not a proof:
 * a name alone ("山田さん") has no shape and is not found.
 *
 * Shapes (after NFKC, so full-width digits, ＠ and half-width kana count
 * as their ordinary forms; the dashes ー－‐―− count as '-'):
 *   phone        Japanese numbers: 0 then a non-zero digit, 10 or 11
 *                digits in all, bare or grouped by '-', '.', a space or
 *                parentheses (03-1234-5678, 090-1234-5678, 0312345678,
 *                (03)1234-5678, 03(1234)5678); or +81 and 9 or 10 digits
 *                (+81 3-1234-5678, +81 (0)3 1234 5678)
 *   email        local@domain.tld, also written with (at) or [at]
 *   postal_code  〒 or 郵便番号 then 7 digits (〒123-4567, 〒1234567), or
 *                a bare 123-4567
 *   address      a block and lot (丁目, 番地, N番N, N-N-N) after a place
 *                name: 東京都千代田区霞が関1-2-3, 霞が関一丁目2番3号,
 *                5番地の1; a prefecture in the place name also admits
 *                N-N and a bare N丁目
 * Dates (2026-11-22), times (10:30), amounts (1,000円), ticket numbers,
 * "1番窓口", "3号館" and "一番多い" are not findings.
 *
 * Findings never overlap, come in order of start, and carry the span in
 * the caller's bytes and in UTF-16 code units (a browser's string and
 * textarea offsets), so the page can select exactly what was typed.
 * Work is linear in the text: every scanner looks a bounded distance. */
#ifndef MDG_PIIDETECT_H
#define MDG_PIIDETECT_H
#include <stddef.h>

struct pool;

enum piidetect_kind {
	PIIDETECT_PHONE,
	PIIDETECT_EMAIL,
	PIIDETECT_POSTAL_CODE,
	PIIDETECT_ADDRESS,
};

struct piidetect_finding {
	enum piidetect_kind kind;
	size_t start, end;         /* bytes of the text given, [start, end) */
	size_t u16_start, u16_end; /* the same span in UTF-16 code units */
};

/* Scan len bytes of UTF-8 text; the working memory comes from p.  Writes
 * at most max findings and returns how many there are in all (which may
 * be more than max), or -1 when the text is not valid UTF-8 (or holds
 * NUL) or the pool refuses memory. */
int piidetect_scan(struct pool *p, const char *text, size_t len, struct piidetect_finding *out,
		   size_t max);

/* "phone", "email", "postal_code", "address" */
const char *piidetect_kind_name(enum piidetect_kind k);

#endif
