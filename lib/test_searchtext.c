/* Unit tests for searchtext: the grams of documents and of query terms. */
#include <string.h>

#include "pool.h"
#include "searchtext.h"
#include "testlib.h"

static struct pool *tp;

static const char *grams(const char *folded, enum searchtext_mode mode, size_t *n)
{
	char *out = NULL;

	if (searchtext_grams(tp, folded, mode, &out, n) < 0)
		return NULL;
	return out;
}

static void test_document(void)
{
	size_t n = 0;

	/* every character and every pair, each once, in order of appearance */
	CHECK_STR(grams("住民票の住民", SEARCHTEXT_DOCUMENT, &n),
		  "住\n住民\n民\n民票\n票\n票の\nの\nの住");
	CHECK_INT(n, 8);
	/* no pair across a space */
	CHECK_STR(grams("ab cd", SEARCHTEXT_DOCUMENT, &n), "a\nab\nb\nc\ncd\nd");
	CHECK_INT(n, 6);
	CHECK_STR(grams("", SEARCHTEXT_DOCUMENT, &n), "");
	CHECK_INT(n, 0);
	/* four-byte characters (𠮟) are characters too */
	CHECK_STR(grams("𠮟る", SEARCHTEXT_DOCUMENT, &n), "𠮟\n𠮟る\nる");
}

static void test_term(void)
{
	size_t n = 0;

	CHECK_STR(grams("住民", SEARCHTEXT_TERM, &n), "住民");
	CHECK_INT(n, 1);
	CHECK_STR(grams("住民票", SEARCHTEXT_TERM, &n), "住民\n民票");
	CHECK_INT(n, 2);
	CHECK_STR(grams("犬", SEARCHTEXT_TERM, &n), "犬");
	CHECK_INT(n, 1);
	CHECK_STR(grams("ああああ", SEARCHTEXT_TERM, &n), "ああ");
	CHECK_INT(n, 1);
}

static void test_many(void)
{
	/* 20 000 distinct characters: the set grows with the text */
	char *s = pool_alloc(tp, 20000 * 3 + 1), *out = NULL;
	size_t n = 0, k = 0;

	for (unsigned cp = 0x4E00; cp < 0x4E00 + 20000; cp++) {
		s[k++] = (char)(0xE0 | (cp >> 12));
		s[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[k++] = (char)(0x80 | (cp & 0x3F));
	}
	s[k] = '\0';
	CHECK_INT(searchtext_grams(tp, s, SEARCHTEXT_DOCUMENT, &out, &n), 0);
	CHECK_INT(n, 39999);
}

int main(void)
{
	tp = pool_create(0);
	RUN(test_document);
	RUN(test_term);
	RUN(test_many);
	pool_destroy(tp);
	return TEST_END();
}
