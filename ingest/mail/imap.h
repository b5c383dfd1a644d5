/* imap: the libetpan adapter; no other file includes libetpan headers.
 *
 * A blocking IMAP client session with just what intake needs: connect
 * (plain, TLS, STARTTLS), hand out the server's certificates, log in, select,
 * search, fetch bodies one message at a time, mark stored mail, IDLE.
 * Every call that can fail returns -1 with a one-line reason in err and
 * logs nothing; after a failure the session is to be closed (the caller
 * decides when to come back).  Calls block for at most the timeout given
 * to imap_connect per network read. */
#ifndef MDG_INGEST_IMAP_H
#define MDG_INGEST_IMAP_H
#include <stddef.h>
#include <stdint.h>

#include "uidset.h"

/* the keyword that says "committed to the database" */
#define IMAP_STORED_KEYWORD "$MadoguchiStored"

enum imap_security { IMAP_PLAIN, IMAP_TLS, IMAP_STARTTLS };

struct imap;

struct imap_msg {
	uint32_t uid;
	int64_t internal_us; /* INTERNALDATE, microseconds since the epoch */
	const char *data;    /* the whole message (BODY[]), valid during the callback */
	size_t len;
};

/* what the server offers after login */
struct imap_caps {
	int idle;
	int move;
	int uidplus;
};

struct imap *imap_connect(const char *host, int port, enum imap_security sec, int timeout_s,
			  char *err, size_t errlen);
/* logout: say LOGOUT first (a clean stop); otherwise just drop the socket */
void imap_close(struct imap *im, int logout);

/* certificates the server sent, leaf first (none on a plain connection);
 * valid until imap_close */
int imap_peer_certs(struct imap *im, const unsigned char *const **der, const size_t **len,
		    size_t *n);
int imap_login(struct imap *im, const char *user, const char *password, char *err,
	       size_t errlen);
void imap_caps(const struct imap *im, struct imap_caps *caps);
/* uidnext is 0 when the server did not say */
int imap_select(struct imap *im, const char *mailbox, uint32_t *uidvalidity, uint32_t *uidnext,
		char *err, size_t errlen);

/* UIDs in lo:hi (hi 0 means "*"), only those without IMAP_STORED_KEYWORD
 * when unstored_only; appended to out, which is then sorted */
int imap_search(struct imap *im, uint32_t lo, uint32_t hi, int unstored_only,
		struct uidset *out, char *err, size_t errlen);

/* FETCH these UIDs with BODY.PEEK[] and INTERNALDATE; cb is called for each
 * message as it is read off the wire (so memory holds one message, not the
 * batch).  cb returning -1 does not stop the transfer: the response is read
 * to its end, and the caller remembers its own failure. */
int imap_fetch(struct imap *im, const uint32_t *uids, size_t n,
	       void (*cb)(void *arg, const struct imap_msg *m), void *arg, char *err,
	       size_t errlen);

/* after the commit: add IMAP_STORED_KEYWORD (and \Seen when seen), then
 * move to move_to when it is not NULL */
int imap_mark(struct imap *im, const uint32_t *uids, size_t n, int seen, const char *move_to,
	      char *err, size_t errlen);

int imap_idle_start(struct imap *im, char *err, size_t errlen);
/* the socket to poll while idling */
int imap_idle_fd(struct imap *im);
/* 1 when the server's words are already in our buffer (poll would not see them) */
int imap_idle_buffered(struct imap *im);
int imap_idle_done(struct imap *im, char *err, size_t errlen);

#endif
