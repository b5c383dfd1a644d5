/* libFuzzer target for piidetect_scan: no crash, no leak, linear time,
 * and the contract of piidetect.h on every input: -1 exactly when the
 * bytes are not UTF-8 (or hold NUL); otherwise findings in order, not
 * overlapping, inside the text, cut at character boundaries, with UTF-16
 * offsets that match the byte offsets, and no more written than room. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "piidetect.h"
#include "pool.h"
#include "utf8.h"

#define FZ_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_boundary(const uint8_t *s, size_t len, size_t at)
{
	return at == len || (at < len && (s[at] & 0xC0) != 0x80);
}

static size_t fz_u16(const uint8_t *s, size_t byte)
{
	size_t n = 0;

	for (size_t i = 0; i < byte; i++)
		n += ((s[i] & 0xC0) != 0x80) + (s[i] >= 0xF0);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piidetect_finding f[FZ_MAX];
	struct pool *p = pool_create(64u << 20);
	int n = piidetect_scan(p, (const char *)data, size, f, FZ_MAX);
	size_t prev_end = 0;

	if ((n < 0) != !utf8_valid((const char *)data, size))
		abort();
	for (int i = 0; i < n && i < FZ_MAX; i++) {
		if (f[i].start >= f[i].end || f[i].end > size || f[i].start < prev_end ||
		    !fz_boundary(data, size, f[i].start) || !fz_boundary(data, size, f[i].end) ||
		    f[i].u16_start != fz_u16(data, f[i].start) || f[i].u16_end != fz_u16(data, f[i].end) ||
		    f[i].kind > PIIDETECT_ADDRESS)
			abort();
		prev_end = f[i].end;
	}
	pool_destroy(p);
	return 0;
}
