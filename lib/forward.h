/* forward: where a forwarded mail came from, read from a parsed mail.
 *
 * A contact centre receives mail forwarded by staff (from a department's
 * mailbox, from a mayor's office); the ticket belongs to the original
 * sender.  Three ways a mail carries its original, tried in this order:
 *
 *   resent  Resent-From / Resent-To / Resent-Date (a redirect, RFC 5322
 *           3.6.6): the mail's own From, To, Subject and Date are the
 *           original's, the Resent-* fields name who redirected it;
 *   rfc822  a message/rfc822 attachment when the text beside it is short
 *           (at most 1000 bytes that are not blanks): "forward as
 *           attachment"; the first attached mail is the original;
 *   inline  a forward block in the text: Outlook ("-----Original
 *           Message-----", "-----元のメッセージ-----", a line of "_",
 *           then From:/Sent:/To:/Subject: or 差出人:/送信日時:/宛先:/件名:),
 *           Thunderbird ("-------- Forwarded Message --------", "--------
 *           転送メッセージ --------"), Gmail ("---------- Forwarded message
 *           ---------", "---------- 転送されたメッセージ ---------"), Apple
 *           Mail ("Begin forwarded message:"); the first (newest) block.
 *
 * Outlook writes its "Original Message" block in replies as well, so that
 * block (and an unmarked From:/Sent: block) counts only when the subject
 * starts with FW:, Fwd: or 転送: (the explicit forward markers count
 * always).  A delivery report (MIME_AUTO_DSN) is never a forward, even
 * when redirected. */
#ifndef MDG_FORWARD_H
#define MDG_FORWARD_H
#include <stddef.h>
#include <stdint.h>

struct pool;
struct mime_mail;
struct mime_forward;

/* nothing found: kind NULL, every string "", date 0 */
void forward_none(struct mime_forward *f);

/* m->forward from the rest of m (mime_parse calls it once every attached
 * mail is parsed); strings from p or shared with m */
void forward_detect(struct pool *p, struct mime_mail *m);

/* The first forward block in UTF-8 text: 1 with *f filled (kind
 * "inline"), else 0 and *f untouched.  subject_fw: the subject says
 * FW/Fwd/転送, so Outlook's "Original Message" block counts too. */
int forward_inline(struct pool *p, const char *text, int subject_fw, struct mime_forward *f);

/* 1 if the subject starts with a forward prefix: FW:, Fwd:, 転送: (ASCII
 * case-insensitive, full-width colon too, after an optional "[") */
int forward_subject_fw(const char *subject);

/* A date as mail clients write it in a forward block: RFC 5322, "Friday,
 * November 20, 2026 9:04 AM", "Fri, Nov 20, 2026 at 9:04 AM",
 * "2026年11月20日(金) 9:04", "2026年11月20日 午後3:04", "2026/11/20 9:04";
 * read as Asia/Tokyo (+09:00, no DST) when it names no zone.  UTC
 * microseconds into *us; 0, or -1 if unparseable. */
int forward_date(const char *s, size_t n, int64_t *us);

#endif
