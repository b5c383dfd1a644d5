/* charset: bytes in a named charset to UTF-8 (the ICU adapter).
 *
 * ICU sits behind charset.c; nothing else includes its headers.  Japanese
 * labels go to the tables real mail needs (DEPENDENCY-NOTES 4): every
 * Shift_JIS label to a CP932 table, the ISO-2022-JP family to an ICU
 * ISO-2022-JP converter that decodes Outlook's CP50220 extensions
 * (①, ㈱, 髙, 﨑), half-width kana and JIS X 0212.
 *
 * A byte sequence that cannot be decoded becomes U+FFFD and is counted in
 * undecodable: never a silent '?' or SUB.  A NUL byte also becomes U+FFFD
 * (counted), because every result is used as a C string.
 *
 * Unlabelled or unknown-charset text is guessed: 7-bit with JIS escapes
 * is ISO-2022-JP, well-formed UTF-8 is UTF-8, anything else is CP932.
 * "us-ascii" text carrying 8-bit bytes is guessed the same way, and text
 * labelled Shift_JIS or EUC-JP that does not decode as such but is valid
 * UTF-8 is read as UTF-8 (mislabelled mail). */
#ifndef MDG_CHARSET_H
#define MDG_CHARSET_H
#include <stddef.h>

struct pool;

struct charset_text {
	char *s;          /* UTF-8, NUL-terminated, from the pool */
	size_t len;       /* bytes in s, without the NUL */
	size_t undecodable; /* sequences replaced by U+FFFD */
	int truncated;    /* output cut (at a character) to max_out bytes */
	const char *used; /* what decoded it: "UTF-8", "CP932", "ISO-2022-JP", "EUC-JP", "US-ASCII" or the ICU name */
};

/* Decode len bytes labelled name (NULL or "" = unlabelled) into at most
 * max_out bytes of UTF-8 (0 = no limit).  Returns 0, or -1 when the pool
 * refuses memory (out->s is then "" and out->truncated set). */
int charset_to_utf8(struct pool *p, const char *name, const void *in, size_t len, size_t max_out,
		    struct charset_text *out);

/* 1 if the bytes are well-formed UTF-8 (no overlongs, surrogates or
 * code points past U+10FFFF), else 0 */
int charset_is_utf8(const void *in, size_t len);

/* 1 if name is a label charset_to_utf8 decodes with a real table (a known
 * alias or a name ICU knows), 0 if it would fall back to guessing */
int charset_known(const char *name);

/* UTF-8 to ISO-2022-JP as RFC 1468 writes it, for outgoing mail: ASCII,
 * JIS X 0201 Roman and JIS X 0208 only, back in ASCII mode at the end.
 * Refused, so that the caller writes UTF-8 instead (never a '?'): NEC
 * row 13 (①, ㈱, №), the IBM rows (髙, 﨑), half-width kana, JIS X 0212,
 * characters outside the BMP, ESC/SO/SI, and the six JIS cells that
 * Windows and JIS tables read as different characters (～ － ∥ ￠ ￡ ￢,
 * which ICU writes and Python and glibc read back as 〜 − ‖ ¢ £ ¬).
 * Returns 1 with out->s (NUL-terminated) and out->len, 0 if some
 * character cannot be written so, -1 on invalid UTF-8, NUL or no memory. */
int charset_utf8_to_jis(struct pool *p, const char *in, size_t len, struct charset_text *out);

/* The search form of UTF-8 text: NFKC with case folding (全角/半角 and
 * case alike: "ＡＢＣ" and "abc", "ｶﾀｶﾅ" and "カタカナ", "①" and "1"),
 * every run of white space and control characters one space, no space at
 * either end.  At most max_in bytes of in are read (a cut sequence
 * becomes U+FFFD).  The result (NUL-terminated) from the pool, or NULL
 * when the pool refuses memory. */
char *charset_fold(struct pool *p, const char *in, size_t len, size_t max_in);

#endif
