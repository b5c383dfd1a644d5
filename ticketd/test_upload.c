/* upload.c's checks: encrypted zips (PPAP), file names, content types. */
#include <string.h>

#include "pool.h"
#include "testlib.h"
#include "upload.h"

struct zipw {
	unsigned char b[4096];
	size_t n;
	size_t local[4]; /* offset of each local header */
	int nent;
};

static void put16(struct zipw *z, unsigned v)
{
	z->b[z->n++] = (unsigned char)(v & 0xff);
	z->b[z->n++] = (unsigned char)(v >> 8);
}

static void put32(struct zipw *z, unsigned long v)
{
	put16(z, (unsigned)(v & 0xffff));
	put16(z, (unsigned)(v >> 16));
}

static void putb(struct zipw *z, const void *s, size_t n)
{
	memcpy(z->b + z->n, s, n);
	z->n += n;
}

/* one stored entry; flags go into the local header (bit 3: the sizes
 * stay 0 there and a data descriptor follows the data) */
static void zip_entry(struct zipw *z, const char *name, const char *data, unsigned flags)
{
	size_t dn = strlen(data);
	int desc = (flags & 8u) != 0;

	z->local[z->nent++] = z->n;
	putb(z, "PK\3\4", 4);
	put16(z, 20);
	put16(z, flags);
	put16(z, 0); /* stored */
	put32(z, 0); /* time, date */
	put32(z, 0); /* crc (not checked) */
	put32(z, desc ? 0 : dn);
	put32(z, desc ? 0 : dn);
	put16(z, (unsigned)strlen(name));
	put16(z, 0);
	putb(z, name, strlen(name));
	putb(z, data, dn);
	if (desc) {
		putb(z, "PK\7\10", 4);
		put32(z, 0);
		put32(z, dn);
		put32(z, dn);
	}
}

/* the central directory of the entries, cflags[i] as their flags, and
 * the end record */
static void zip_end(struct zipw *z, const char *const *names, const unsigned *cflags)
{
	size_t cd = z->n, cdlen;

	for (int i = 0; i < z->nent; i++) {
		putb(z, "PK\1\2", 4);
		put16(z, 20);
		put16(z, 20);
		put16(z, cflags[i]);
		put16(z, 0);
		put32(z, 0);
		put32(z, 0);
		put32(z, 0);
		put32(z, 0);
		put16(z, (unsigned)strlen(names[i]));
		put16(z, 0);
		put16(z, 0);
		put16(z, 0);
		put16(z, 0);
		put32(z, 0);
		put32(z, z->local[i]);
		putb(z, names[i], strlen(names[i]));
	}
	cdlen = z->n - cd;
	putb(z, "PK\5\6", 4);
	put16(z, 0);
	put16(z, 0);
	put16(z, (unsigned)z->nent);
	put16(z, (unsigned)z->nent);
	put32(z, cdlen);
	put32(z, cd);
	put16(z, 0);
}

static int zip_case(unsigned f1, unsigned f2, unsigned c1, unsigned c2, size_t prefix)
{
	static const char *const names[2] = { "a.txt", "申請書.pdf" };
	const unsigned cflags[2] = { c1, c2 };
	struct zipw z;

	memset(&z, 0, sizeof(z));
	/* a self-extracting stub before the archive: no local header at 0 */
	for (size_t i = 0; i < prefix; i++)
		z.b[z.n++] = 'M';
	zip_entry(&z, names[0], "hello", f1);
	zip_entry(&z, names[1], "%PDF-1.4 PK\3\4\x14\0\1\0 inside", f2);
	zip_end(&z, names, cflags);
	return upload_zip_encrypted(z.b, z.n);
}

static void test_zip(void)
{
	CHECK_INT(zip_case(0, 0, 0, 0, 0), 0);
	CHECK_INT(zip_case(1, 0, 1, 0, 0), 1);
	/* the second entry only */
	CHECK_INT(zip_case(0, 1, 0, 1, 0), 1);
	/* only the local header says so */
	CHECK_INT(zip_case(0, 1, 0, 0, 0), 1);
	/* only the central directory says so */
	CHECK_INT(zip_case(0, 0, 0, 1, 0), 1);
	/* data descriptors: the walk stops, the central directory goes on */
	CHECK_INT(zip_case(8, 9, 8, 9, 0), 1);
	CHECK_INT(zip_case(8, 8, 8, 8, 0), 0);
	CHECK_INT(zip_case(8, 1 | 8, 8, 8, 0), 1); /* reached from the central entry */
	/* behind a stub (self-extracting archive) */
	CHECK_INT(zip_case(0, 0, 0, 0, 100), 0);
	CHECK_INT(zip_case(0, 1, 0, 0, 100), 1);
	CHECK_INT(zip_case(0, 0, 1, 0, 100), 1);
}

static void test_not_zip(void)
{
	static const unsigned char text[] = "a letter that says PK\3\4\x14\0\1\0 in the middle";
	static const unsigned char shortzip[] = "PK\3\4\x14\0";
	static const unsigned char eocd_only[] = "PK\5\6\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
	unsigned char bad_cd[64];

	CHECK_INT(upload_zip_encrypted(text, sizeof(text) - 1), 0);
	CHECK_INT(upload_zip_encrypted(shortzip, sizeof(shortzip) - 1), 0);
	CHECK_INT(upload_zip_encrypted((const unsigned char *)"", 0), 0);
	CHECK_INT(upload_zip_encrypted(eocd_only, 22), 0);
	/* an end record pointing far outside the file: nothing read past it */
	memset(bad_cd, 0, sizeof(bad_cd));
	memcpy(bad_cd + 30, "PK\5\6", 4);
	memset(bad_cd + 30 + 10, 0xff, 10);
	CHECK_INT(upload_zip_encrypted(bad_cd, 52), 0);
}

static void test_filename(void)
{
	struct pool *p = pool_create(0);
	const char *err = NULL;

	CHECK_STR(upload_filename(p, "report.pdf", &err), "report.pdf");
	CHECK_STR(upload_filename(p, "%E7%94%B3%E8%AB%8B%E6%9B%B8%20(1).pdf", &err),
		  "申請書 (1).pdf");
	CHECK_STR(upload_filename(p, "C%3A%5CUsers%5Cme%5C%E5%9C%B0%E5%9B%B3.png", &err), "地図.png");
	CHECK_STR(upload_filename(p, "..%2F..%2Fetc%2Fpasswd", &err), "passwd");
	CHECK_STR(upload_filename(p, "a%25b.txt", &err), "a%b.txt");
	CHECK(upload_filename(p, "dir/", &err) == NULL);
	CHECK(upload_filename(p, "..", &err) == NULL);
	CHECK(upload_filename(p, "", &err) == NULL);
	CHECK(upload_filename(p, NULL, &err) == NULL);
	CHECK(upload_filename(p, "a%0Ab.txt", &err) == NULL);
	CHECK_STR(err, "X-Filename: the name is not UTF-8 or holds a control character");
	CHECK(upload_filename(p, "a%7Fb", &err) == NULL);
	CHECK(upload_filename(p, "%C2%85x", &err) == NULL);           /* C1 NEL */
	CHECK(upload_filename(p, "invoice%E2%80%AEfdp.exe", &err) == NULL); /* RLO */
	CHECK(upload_filename(p, "%E2%81%A6x", &err) == NULL);        /* LRI */
	CHECK(upload_filename(p, "%FF%FE.txt", &err) == NULL);
	CHECK(upload_filename(p, "a%2", &err) == NULL);
	CHECK_STR(err, "X-Filename: a bad percent escape");
	CHECK(upload_filename(p, "a%zzb", &err) == NULL);
	pool_destroy(p);
}

static void test_name_length(void)
{
	struct pool *p = pool_create(0);
	const char *err = NULL;
	char name[300];

	memset(name, 'x', 255);
	name[255] = '\0';
	CHECK_INT(strlen(upload_filename(p, name, &err)), 255);
	name[255] = 'y';
	name[256] = '\0';
	CHECK(upload_filename(p, name, &err) == NULL);
	pool_destroy(p);
}

static void test_content_type(void)
{
	struct pool *p = pool_create(0);

	CHECK_STR(upload_content_type(p, "application/pdf"), "application/pdf");
	CHECK_STR(upload_content_type(p, "Image/PNG; name=x"), "image/png");
	CHECK_STR(upload_content_type(p, "text/plain;charset=utf-8"), "text/plain");
	CHECK_STR(upload_content_type(p, NULL), "application/octet-stream");
	CHECK_STR(upload_content_type(p, ""), "application/octet-stream");
	CHECK_STR(upload_content_type(p, "pdf"), "application/octet-stream");
	CHECK_STR(upload_content_type(p, "a/b/c"), "application/octet-stream");
	CHECK_STR(upload_content_type(p, "text/\"x\""), "application/octet-stream");
	pool_destroy(p);
}

int main(void)
{
	RUN(test_zip);
	RUN(test_not_zip);
	RUN(test_filename);
	RUN(test_name_length);
	RUN(test_content_type);
	return TEST_END();
}
