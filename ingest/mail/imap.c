/* imap: intake's IMAP client on libetpan's low-level mailimap API.
 *
 * Memory: a FETCH is read with a message handler
 * (mailimap_set_msg_att_handler), which libetpan calls as soon as one
 * message's attributes are parsed and frees right after, so a batch of
 * 200 messages never sits in memory at once; libetpan reads each literal
 * into a buffer of exactly its size.  The handler only runs when a
 * progress callback is set too (libetpan's parser picks the path with
 * handlers only then), hence imap_noop_progress.
 *
 * Return codes: connect returns MAILIMAP_NO_ERROR_NON_AUTHENTICATED and
 * login may return MAILIMAP_NO_ERROR_AUTHENTICATED; all three NO_ERROR
 * codes are success (DEPENDENCY-NOTES 3.8).
 *
 * IDLE: libetpan drops untagged responses that arrive before the "+" and
 * may hold a notification already read into its buffer, which poll() on
 * the socket cannot see; imap_idle_buffered() covers the second, and the
 * caller wakes up every poll_seconds for the rest. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "imap.h"

struct imap {
	mailimap *s;
	carray *chain; /* the server's certificates, as MMAPStrings */
	const unsigned char **der;
	size_t *derlen;
	char *host;
	struct imap_caps caps;
};

struct imap_fetch_ctx {
	void (*cb)(void *arg, const struct imap_msg *m);
	void *arg;
};

static int imap_ok(int r)
{
	return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
	       r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

/* "<what> failed: <server text or libetpan code>" */
static int imap_fail(const struct imap *im, const char *what, int r, char *err, size_t errlen)
{
	const char *resp = im && im->s ? im->s->imap_response : NULL;

	if (r == MAILIMAP_ERROR_STREAM)
		snprintf(err, errlen, "%s failed: connection lost or timed out", what);
	else if (resp != NULL && resp[0] != '\0')
		snprintf(err, errlen, "%s failed: server said \"%.200s\"", what, resp);
	else
		snprintf(err, errlen, "%s failed: libetpan error %d", what, r);
	return -1;
}

static void imap_sni(struct mailstream_ssl_context *ctx, void *data)
{
	const char *host = data;
	unsigned char addr[16];

	/* SNI carries names only, never address literals (RFC 6066 3) */
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
		mailstream_ssl_set_server_name(ctx, (char *)host);
}

static int imap_open(struct imap *im, int port, enum imap_security sec, char *err, size_t errlen)
{
	int r;

	if (sec == IMAP_TLS)
		r = mailimap_ssl_connect_with_callback(im->s, im->host, (uint16_t)port, imap_sni,
						       im->host);
	else
		r = mailimap_socket_connect(im->s, im->host, (uint16_t)port);
	if (!imap_ok(r))
		return imap_fail(im, "connect", r, err, errlen);
	if (sec == IMAP_STARTTLS) {
		r = mailimap_socket_starttls_with_callback(im->s, imap_sni, im->host);
		if (!imap_ok(r))
			return imap_fail(im, "STARTTLS", r, err, errlen);
	}
	return 0;
}

struct imap *imap_connect(const char *host, int port, enum imap_security sec, int timeout_s,
			  char *err, size_t errlen)
{
	struct imap *im = calloc(1, sizeof(*im));

	if (im == NULL || (im->host = strdup(host)) == NULL ||
	    (im->s = mailimap_new(0, NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		imap_close(im, 0);
		return NULL;
	}
	mailimap_set_timeout(im->s, (time_t)timeout_s);
	if (imap_open(im, port, sec, err, errlen) < 0) {
		imap_close(im, 0);
		return NULL;
	}
	return im;
}

void imap_close(struct imap *im, int logout)
{
	if (im == NULL)
		return;
	if (im->s != NULL) {
		if (logout && im->s->imap_stream != NULL)
			mailimap_logout(im->s);
		/* mailimap_free says LOGOUT itself (and waits for the answer,
		 * up to the timeout) unless the stream is gone already */
		if (im->s->imap_stream != NULL) {
			mailstream_close(im->s->imap_stream);
			im->s->imap_stream = NULL;
		}
		mailimap_free(im->s);
	}
	if (im->chain != NULL)
		mailstream_certificate_chain_free(im->chain);
	free(im->der);
	free(im->derlen);
	free(im->host);
	free(im);
}

int imap_peer_certs(struct imap *im, const unsigned char *const **der, const size_t **len,
		    size_t *n)
{
	unsigned int count;

	*n = 0;
	if (im->chain == NULL && im->s->imap_stream != NULL)
		im->chain = mailstream_get_certificate_chain(im->s->imap_stream);
	if (im->chain == NULL)
		return 0;
	count = carray_count(im->chain);
	if (im->der == NULL) {
		im->der = calloc(count + 1, sizeof(*im->der));
		im->derlen = calloc(count + 1, sizeof(*im->derlen));
		if (im->der == NULL || im->derlen == NULL)
			return -1;
		for (unsigned int i = 0; i < count; i++) {
			MMAPString *s = carray_get(im->chain, i);

			im->der[i] = (const unsigned char *)s->str;
			im->derlen[i] = s->len;
		}
	}
	*der = im->der;
	*len = im->derlen;
	*n = count;
	return 0;
}

static void imap_read_caps(struct imap *im)
{
	struct mailimap_capability_data *cap = NULL;

	/* ask again after login: servers announce more once authenticated */
	if (mailimap_capability(im->s, &cap) == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(cap);
	im->caps.idle = mailimap_has_idle(im->s);
	im->caps.move = mailimap_has_extension(im->s, "MOVE");
	im->caps.uidplus = mailimap_has_uidplus(im->s);
}

int imap_login(struct imap *im, const char *user, const char *password, char *err,
	       size_t errlen)
{
	int r = mailimap_login(im->s, user, password);

	if (!imap_ok(r))
		return imap_fail(im, "LOGIN", r, err, errlen);
	imap_read_caps(im);
	return 0;
}

void imap_caps(const struct imap *im, struct imap_caps *caps)
{
	*caps = im->caps;
}

int imap_select(struct imap *im, const char *mailbox, uint32_t *uidvalidity, uint32_t *uidnext,
		char *err, size_t errlen)
{
	int r = mailimap_select(im->s, mailbox);

	if (!imap_ok(r))
		return imap_fail(im, "SELECT", r, err, errlen);
	if (im->s->imap_selection_info == NULL ||
	    im->s->imap_selection_info->sel_uidvalidity == 0) {
		snprintf(err, errlen, "SELECT %s: the server sent no UIDVALIDITY", mailbox);
		return -1;
	}
	*uidvalidity = im->s->imap_selection_info->sel_uidvalidity;
	*uidnext = im->s->imap_selection_info->sel_uidnext;
	return 0;
}

static struct mailimap_search_key *imap_search_key(uint32_t lo, uint32_t hi, int unstored_only)
{
	struct mailimap_search_key *all = mailimap_search_key_new_multiple_empty();
	struct mailimap_set *set = mailimap_set_new_interval(lo, hi);
	struct mailimap_search_key *k;
	char *kw;

	if (all == NULL || set == NULL)
		goto fail;
	k = mailimap_search_key_new_uid(set);
	if (k == NULL)
		goto fail;
	set = NULL;
	if (mailimap_search_key_multiple_add(all, k) != MAILIMAP_NO_ERROR) {
		mailimap_search_key_free(k);
		goto fail;
	}
	if (!unstored_only)
		return all;
	kw = strdup(IMAP_STORED_KEYWORD);
	k = kw ? mailimap_search_key_new_unkeyword(kw) : NULL;
	if (k == NULL || mailimap_search_key_multiple_add(all, k) != MAILIMAP_NO_ERROR) {
		if (k != NULL)
			mailimap_search_key_free(k);
		else
			free(kw);
		goto fail;
	}
	return all;
fail:
	if (set != NULL)
		mailimap_set_free(set);
	if (all != NULL)
		mailimap_search_key_free(all);
	return NULL;
}

int imap_search(struct imap *im, uint32_t lo, uint32_t hi, int unstored_only,
		struct uidset *out, char *err, size_t errlen)
{
	struct mailimap_search_key *key = imap_search_key(lo, hi, unstored_only);
	clist *res = NULL;
	int r;

	if (key == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = mailimap_uid_search(im->s, NULL, key, &res);
	mailimap_search_key_free(key);
	if (!imap_ok(r))
		return imap_fail(im, "UID SEARCH", r, err, errlen);
	for (clistiter *it = clist_begin(res); it != NULL; it = clist_next(it)) {
		uint32_t *uid = clist_content(it);

		if (uidset_add(out, *uid) < 0) {
			mailimap_search_result_free(res);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	mailimap_search_result_free(res);
	uidset_sort(out);
	return 0;
}

static struct mailimap_set *imap_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t i = 0;
	uint32_t lo, hi;

	if (set == NULL)
		return NULL;
	while (uidset_run(uids, n, &i, &lo, &hi))
		if (mailimap_set_add_interval(set, lo, hi) != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return NULL;
		}
	return set;
}

/* INTERNALDATE to microseconds; the zone is written as a decimal ±HHMM */
static int64_t imap_time(const struct mailimap_date_time *d)
{
	struct tm tm;
	int z = d->dt_zone < 0 ? -d->dt_zone : d->dt_zone;
	int64_t off = (int64_t)(z / 100 * 60 + z % 100) * 60;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = d->dt_year - 1900;
	tm.tm_mon = d->dt_month - 1;
	tm.tm_mday = d->dt_day;
	tm.tm_hour = d->dt_hour;
	tm.tm_min = d->dt_min;
	tm.tm_sec = d->dt_sec;
	t = timegm(&tm);
	if (d->dt_zone < 0)
		off = -off;
	return ((int64_t)t - off) * 1000000;
}

static void imap_on_msg_att(struct mailimap_msg_att *att, void *arg)
{
	struct imap_fetch_ctx *fc = arg;
	struct imap_msg m = { 0, 0, NULL, 0 };

	for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			m.uid = st->att_data.att_uid;
		else if (st->att_type == MAILIMAP_MSG_ATT_INTERNALDATE &&
			 st->att_data.att_internal_date != NULL)
			m.internal_us = imap_time(st->att_data.att_internal_date);
		else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
			 st->att_data.att_body_section != NULL &&
			 st->att_data.att_body_section->sec_body_part != NULL) {
			m.data = st->att_data.att_body_section->sec_body_part;
			m.len = st->att_data.att_body_section->sec_length;
		}
	}
	/* unsolicited FETCH responses (flag changes by others) carry no body */
	if (m.uid != 0 && m.data != NULL)
		fc->cb(fc->arg, &m);
}

static void imap_noop_progress(size_t current, size_t maximum, void *context)
{
	(void)current;
	(void)maximum;
	(void)context;
}

static struct mailimap_fetch_type *imap_fetch_type(void)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_section *sec;
	struct mailimap_fetch_att *a;

	if (ft == NULL)
		return NULL;
	a = mailimap_fetch_att_new_uid();
	if (a == NULL || mailimap_fetch_type_new_fetch_att_list_add(ft, a) != MAILIMAP_NO_ERROR)
		goto fail;
	a = mailimap_fetch_att_new_internaldate();
	if (a == NULL || mailimap_fetch_type_new_fetch_att_list_add(ft, a) != MAILIMAP_NO_ERROR)
		goto fail;
	sec = mailimap_section_new(NULL);
	a = sec ? mailimap_fetch_att_new_body_peek_section(sec) : NULL;
	if (a == NULL || mailimap_fetch_type_new_fetch_att_list_add(ft, a) != MAILIMAP_NO_ERROR)
		goto fail;
	return ft;
fail:
	if (a != NULL)
		mailimap_fetch_att_free(a);
	mailimap_fetch_type_free(ft);
	return NULL;
}

int imap_fetch(struct imap *im, const uint32_t *uids, size_t n,
	       void (*cb)(void *arg, const struct imap_msg *m), void *arg, char *err,
	       size_t errlen)
{
	struct imap_fetch_ctx fc = { cb, arg };
	struct mailimap_fetch_type *ft = imap_fetch_type();
	struct mailimap_set *set = imap_set(uids, n);
	clist *res = NULL;
	int r;

	if (ft == NULL || set == NULL) {
		if (ft != NULL)
			mailimap_fetch_type_free(ft);
		if (set != NULL)
			mailimap_set_free(set);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	mailimap_set_progress_callback(im->s, NULL, imap_noop_progress, NULL);
	mailimap_set_msg_att_handler(im->s, imap_on_msg_att, &fc);
	r = mailimap_uid_fetch(im->s, set, ft, &res);
	mailimap_set_msg_att_handler(im->s, NULL, NULL);
	mailimap_set_progress_callback(im->s, NULL, NULL, NULL);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (res != NULL)
		mailimap_fetch_list_free(res);
	if (!imap_ok(r))
		return imap_fail(im, "UID FETCH", r, err, errlen);
	return 0;
}

static struct mailimap_flag *imap_flag_stored(void)
{
	char *kw = strdup(IMAP_STORED_KEYWORD);
	struct mailimap_flag *f = kw ? mailimap_flag_new_flag_keyword(kw) : NULL;

	if (f == NULL)
		free(kw);
	return f;
}

/* takes f (NULL: allocation failed) */
static int imap_flag_add(struct mailimap_flag_list *fl, struct mailimap_flag *f)
{
	if (f == NULL)
		return -1;
	if (mailimap_flag_list_add(fl, f) != MAILIMAP_NO_ERROR) {
		mailimap_flag_free(f);
		return -1;
	}
	return 0;
}

/* UID STORE +FLAGS.SILENT (keyword [\Seen] | \Deleted) */
static int imap_store(struct imap *im, struct mailimap_set *set, int stored, int seen,
		      int deleted, char *err, size_t errlen)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa = NULL;
	int r = MAILIMAP_ERROR_MEMORY;

	if (fl == NULL)
		goto out;
	if (stored && imap_flag_add(fl, imap_flag_stored()) < 0)
		goto out;
	if (seen && imap_flag_add(fl, mailimap_flag_new_seen()) < 0)
		goto out;
	if (deleted && imap_flag_add(fl, mailimap_flag_new_deleted()) < 0)
		goto out;
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	if (sa == NULL)
		goto out;
	fl = NULL;
	r = mailimap_uid_store(im->s, set, sa);
out:
	if (sa != NULL)
		mailimap_store_att_flags_free(sa);
	if (fl != NULL)
		mailimap_flag_list_free(fl);
	if (!imap_ok(r))
		return imap_fail(im, "UID STORE", r, err, errlen);
	return 0;
}

static int imap_move(struct imap *im, struct mailimap_set *set, const char *to, char *err,
		     size_t errlen)
{
	int r;

	if (im->caps.move) {
		r = mailimap_uid_move(im->s, set, to);
		return imap_ok(r) ? 0 : imap_fail(im, "UID MOVE", r, err, errlen);
	}
	r = mailimap_uid_copy(im->s, set, to);
	if (!imap_ok(r))
		return imap_fail(im, "UID COPY", r, err, errlen);
	if (imap_store(im, set, 0, 0, 1, err, errlen) < 0)
		return -1;
	/* without UIDPLUS, EXPUNGE also removes what others marked \Deleted */
	r = im->caps.uidplus ? mailimap_uid_expunge(im->s, set) : mailimap_expunge(im->s);
	return imap_ok(r) ? 0 : imap_fail(im, "EXPUNGE", r, err, errlen);
}

int imap_mark(struct imap *im, const uint32_t *uids, size_t n, int seen, const char *move_to,
	      char *err, size_t errlen)
{
	struct mailimap_set *set;
	int r;

	if (n == 0)
		return 0;
	set = imap_set(uids, n);
	if (set == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the keyword first, also when moving: a crash between COPY and
	 * EXPUNGE then leaves a copy that says it was stored */
	r = imap_store(im, set, 1, seen, 0, err, errlen);
	if (r == 0 && move_to != NULL)
		r = imap_move(im, set, move_to, err, errlen);
	mailimap_set_free(set);
	return r;
}

int imap_idle_start(struct imap *im, char *err, size_t errlen)
{
	int r = mailimap_idle(im->s);

	return imap_ok(r) ? 0 : imap_fail(im, "IDLE", r, err, errlen);
}

int imap_idle_fd(struct imap *im)
{
	return mailimap_idle_get_fd(im->s);
}

int imap_idle_buffered(struct imap *im)
{
	return im->s->imap_stream != NULL && im->s->imap_stream->read_buffer_len > 0;
}

int imap_idle_done(struct imap *im, char *err, size_t errlen)
{
	int r = mailimap_idle_done(im->s);

	return imap_ok(r) ? 0 : imap_fail(im, "IDLE DONE", r, err, errlen);
}
