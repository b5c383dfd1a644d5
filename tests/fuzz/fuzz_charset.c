/* libFuzzer target for charset_to_utf8: the first byte picks a label and
 * an output limit, the rest is the text.  Beyond the sanitizers: the
 * result is valid UTF-8 within the limit, and for the Japanese labels a
 * '?' never appears that was not in the input (no silent substitution). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_charset_labels[] = {
	NULL,          "",            "us-ascii",    "utf-8",       "Shift_JIS",   "cp932",
	"iso-2022-jp", "cp50220",     "euc-jp",      "iso-8859-1",  "windows-1252", "UTF-16",
	"UTF-7",       "gb18030",     "big5",        "x-unknown",   "utf-32",      "koi8-r",
	"SCSU",        "BOCU-1",      "hz-gb-2312",  "iso-2022-kr", "ISO_2022,locale=ja,version=3",
	"euc-kr",      "x-bogus",     "iso-2022-cn", "UTF-8,swaplfnl", "windows-31j",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pool *p;
	size_t nl = sizeof(fuzz_charset_labels) / sizeof(fuzz_charset_labels[0]), max;
	struct charset_text t;
	const char *label;
	int japanese;

	if (size < 1)
		return 0;
	if (p == NULL && (p = pool_create(0)) == NULL)
		abort();
	label = fuzz_charset_labels[data[0] % nl];
	max = (data[0] & 0x80) ? (size_t)(data[0] & 0x1F) : 0;
	japanese = data[0] % nl <= 8 || data[0] % nl == nl - 1;
	data++;
	size--;
	if (charset_to_utf8(p, label, data, size, max, &t) != 0)
		abort();
	if (strlen(t.s) != t.len || !charset_is_utf8(t.s, t.len) || (max != 0 && t.len > max))
		abort();
	if (japanese && memchr(data, '?', size) == NULL && memchr(t.s, '?', t.len) != NULL)
		abort();
	pool_clear(p);
	return 0;
}
