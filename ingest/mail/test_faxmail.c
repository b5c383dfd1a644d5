/* faxmail: which mails are fax senders' (address, domain, subdomain, case,
 * folded From), the DID from the header or the subject pattern, and a mail
 * with a good TIFF and a broken one converted (pages kept, the failure
 * named).  Patterns are checked like the settings check them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "faxmail.h"
#include "faxtiff.h"
#include "settings.h"
#include "testlib.h"

static struct settings set_of(const char *senders, const char *hdr, const char *subj)
{
	struct settings s;

	memset(&s, 0, sizeof(s));
	s.fax_senders = senders;
	s.fax_did_header = hdr;
	s.fax_did_subject = subj;
	s.fax_max_pages = 5;
	return s;
}

static int wants(struct faxmail *fm, const char *mail)
{
	return faxmail_wants(fm, mail, strlen(mail));
}

static void test_senders(void)
{
	struct settings s = set_of(" fax.example.net, Scanner@City.example.lg.jp ", "", "");
	struct faxmail *fm = faxmail_new(&s);
	struct settings off = set_of(" , ", "", "");

	CHECK(faxmail_new(&off) == NULL);
	CHECK(fm != NULL);
	CHECK_INT(wants(fm, "From: a@fax.example.net\r\n\r\nbody"), 1);
	CHECK_INT(wants(fm, "Subject: x\r\nFROM: \"FAX\" <a@mx.FAX.example.net>\r\n\r\n"), 1);
	CHECK_INT(wants(fm, "From: scanner@city.example.lg.jp\n\n"), 1);
	CHECK_INT(wants(fm, "From: =?UTF-8?B?5Yy6?=\r\n <scanner@city.example.lg.jp>\r\n\r\n"), 1);
	CHECK_INT(wants(fm, "From: other@city.example.lg.jp\r\n\r\n"), 0);
	CHECK_INT(wants(fm, "From: a@notfax.example.net\r\n\r\n"), 0);
	CHECK_INT(wants(fm, "From: a@fax.example.net.evil.jp\r\n\r\n"), 0);
	CHECK_INT(wants(fm, "Subject: x\r\n\r\nFrom: a@fax.example.net\r\n"), 0); /* in the body */
	CHECK_INT(wants(fm, "From: nobody\r\n\r\n"), 0);
	faxmail_free(fm);
}

static void test_pattern(void)
{
	char err[200] = "";

	CHECK_INT(faxmail_check_pattern("", err, sizeof(err)), 0);
	CHECK_INT(faxmail_check_pattern("FAX to ([0-9-]+)", err, sizeof(err)), 0);
	CHECK_INT(faxmail_check_pattern("FAX to [0-9-]+", err, sizeof(err)), -1);
	CHECK_STR(err, "ingest_mail.fax_did_subject: needs exactly one group ( ) around the number");
	CHECK_INT(faxmail_check_pattern("FAX ([0-9", err, sizeof(err)), -1);
	CHECK(strncmp(err, "ingest_mail.fax_did_subject: ", 29) == 0);
}

/* a mail with the given attachments (name, bytes) as base64 parts */
static char *mail_with(const char *headers, const char *const *names, const struct faxtiff_page *p,
		       int n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf b;

	buf_init(&b, 1 << 24);
	buf_printf(&b, "%sMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
		       "--B\r\nContent-Type: text/plain\r\n\r\nfax\r\n", headers);
	for (int i = 0; i < n; i++) {
		buf_printf(&b, "--B\r\nContent-Type: image/tiff\r\nContent-Transfer-Encoding: base64\r\n"
			       "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n", names[i]);
		for (size_t j = 0; j < p[i].len; j += 3) {
			uint32_t v = (uint32_t)p[i].tiff[j] << 16;
			size_t k = p[i].len - j;
			char q[4];
			if (k > 1)
				v |= (uint32_t)p[i].tiff[j + 1] << 8;
			if (k > 2)
				v |= p[i].tiff[j + 2];
			q[0] = b64[v >> 18];
			q[1] = b64[(v >> 12) & 63];
			q[2] = k > 1 ? b64[(v >> 6) & 63] : '=';
			q[3] = k > 2 ? b64[v & 63] : '=';
			buf_append(&b, q, 4);
			if (j % 57 == 54)
				buf_append_str(&b, "\r\n");
		}
		buf_append_str(&b, "\r\n");
	}
	buf_append_str(&b, "--B--\r\n");
	return buf_steal(&b, NULL);
}

static void test_convert(void)
{
	struct settings s = set_of("fax.example.net", "X-Fax-DID", "FAX to ([0-9-]+)");
	struct faxmail *fm = faxmail_new(&s);
	struct faxtiff_bitmap bm = { 0 };
	struct faxtiff_page p[2];
	struct faxmail_item it;
	const char *names[2] = { "good.tif", "bad.tif" };
	char err[128], *mail;

	bm.width = 64;
	bm.height = 10;
	bm.stride = 8;
	bm.x_dpi = 204;
	bm.y_dpi = 98;
	bm.bits = calloc(8, 10);
	bm.bits[5] = 0xff;
	CHECK_INT(faxtiff_encode_g4(&bm, &p[0], err, sizeof(err)), 0);
	p[1].tiff = (uint8_t *)"II*\0broken!";
	p[1].len = 11;
	mail = mail_with("From: f@fax.example.net\r\nSubject: FAX to 03-5555-0000\r\n"
			 "X-Fax-DID: 06 (1234) 5678\r\n", names, p, 2);
	CHECK_INT(faxmail_convert(fm, mail, strlen(mail), &it), 0);
	CHECK_STR(it.did, "0612345678"); /* the header before the subject */
	CHECK_INT(it.npages, 1);
	CHECK_INT(it.candidates, 2);
	CHECK_INT(it.complete, 0);
	CHECK(strncmp(it.result_text, "good.tif: 1 page; bad.tif: ", 27) == 0);
	CHECK(strstr(it.result_text, "(0 pages kept)") != NULL);
	CHECK_STR(it.source[0], "good.tif");
	CHECK_INT(it.pages[0].height, 10);
	CHECK_INT(it.pages[0].y_dpi, 98);
	faxmail_item_free(&it);
	free(mail);
	mail = mail_with("From: f@fax.example.net\r\nSubject: FAX to 03-5555-0000\r\n", names, p, 1);
	CHECK_INT(faxmail_convert(fm, mail, strlen(mail), &it), 0);
	CHECK_STR(it.did, "0355550000"); /* from the subject */
	CHECK_INT(it.complete, 1);
	CHECK_STR(it.result_text, "good.tif: 1 page");
	faxmail_item_free(&it);
	free(mail);
	mail = mail_with("From: f@fax.example.net\r\nSubject: nothing\r\n", names, p, 0);
	CHECK_INT(faxmail_convert(fm, mail, strlen(mail), &it), 0);
	CHECK_INT(it.npages, 0);
	CHECK_STR(it.did, "");
	CHECK_STR(it.result_text, "no TIFF or PDF attachment");
	faxmail_item_free(&it);
	free(mail);
	free(p[0].tiff);
	faxtiff_bitmap_free(&bm);
	faxmail_free(fm);
}

int main(void)
{
	RUN(test_senders);
	RUN(test_pattern);
	RUN(test_convert);
	return TEST_END();
}
