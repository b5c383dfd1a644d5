/* faxocr: the OCR of a fax on the ticket page (issue 8; sql/026).
 *
 *   GET  /api/messages/ID/ocr            every page of the fax message ID: state (pending,
 *                                        done, blank, failed, timeout), text, confidence,
 *                                        rotation, vertical, ms, error, attempts, size, and
 *                                        its candidates (numbers and addresses found, with
 *                                        their box on the page, accepted or not); 404 when
 *                                        ID is not a fax
 *   POST /api/messages/ID/ocr/N/reread   読み直し: page N back to pending with fresh
 *                                        attempts (202); 409 when it is waiting already
 *   POST /api/fax-candidates/ID/accept   the candidate into the ticket's citizen contact
 *                                        (phone, fax, mail address or postal code; the other
 *                                        fields kept), read and saved through the audited
 *                                        contact functions, the candidate marked accepted;
 *                                        operators and supervisors (403 otherwise)
 *
 * The OCR text is correspondence: these routes are for the roles that read
 * correspondence. */
#ifndef MDG_FAXOCR_H
#define MDG_FAXOCR_H

struct api_call;
struct db;

void faxocr_prepare(struct db *db);
void faxocr_get(struct api_call *c);
void faxocr_reread(struct api_call *c);
void faxocr_accept(struct api_call *c);

#endif
