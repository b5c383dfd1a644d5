/* search: Japanese search over the correspondence.
 *
 * The indexer turns each message and each internal note (ticket_note)
 * into a search_doc row (sql/007): the message's subject and body, the
 * note's text, folded (lib/charset.h charset_fold: NFKC, case,
 * full-width and half-width alike) and the grams of that (lib/searchtext.h).
 * It runs in ticketd's loop when intake has nothing to do, a batch at a
 * time, so mail intake never waits for it: a new mail is searchable about
 * a second after it is on the queue.
 *
 * Which messages still need a row: on start every message is looked at
 * once (one anti-join); after that only those above the highest id done
 * less a window (SEARCH_WINDOW), because intake transactions can commit
 * a lower id after a higher one.
 *
 * GET /api/search?q=...: the query folded the same way and split at
 * spaces into terms, all of which must be in one text; the tickets with
 * such a text, newest first, with a snippet (folded) around the first
 * term, and "more" when there are further ones (no total: counting every
 * match of a common word is what made a search slow).  Correspondence
 * roles only. */
#ifndef MDG_SEARCH_H
#define MDG_SEARCH_H

struct api_call;
struct config;
struct db;

struct search;

extern const struct config_key search_config_keys[];

struct search *search_new(struct db *db, const struct config *cfg);
void search_free(struct search *s);
void search_configure(struct search *s, const struct config *cfg);
/* index at most one batch; the number of texts indexed (a full batch
 * means: call again), or -1 on a database error */
int search_index_run(struct search *s);

/* GET /api/search */
void search_api(struct api_call *c);

#endif
