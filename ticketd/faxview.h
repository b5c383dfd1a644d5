/* faxview: the pages of a fax message (issue 7), for the operators' viewer.
 * Roles as for attachments (correspondence: not viewers).
 *
 *   GET /api/messages/ID/fax      {"message_id","origin","did","subaddress","pages","complete",
 *                                 "result_text","call":{...}|null,"page_list":[{n,width,height,
 *                                 x_dpi,y_dpi,compression,bytes,source_name}],"contact":...}
 *        The caller number and TSI are contact details: only with ?reason=..., read through
 *        sql/022 fax_contact_read (the role checked as contact_read does, one contact_access
 *        row); without a reason "contact" is null.  404 when the message is not a fax.
 *   GET /api/messages/ID/fax/N.png  page N decoded (lib/faxtiff) and sent as a 1-bit PNG
 *        (lib/pngout), rows doubled on standard-resolution pages so the aspect is right;
 *        Cache-Control: private.
 *   GET /api/messages/ID/fax/N.tif  page N as stored (the single-page TIFF as received). */
#ifndef MDG_FAXVIEW_H
#define MDG_FAXVIEW_H

struct api_call;
struct db;

void faxview_prepare(struct db *db);
void faxview_info(struct api_call *c);
void faxview_png(struct api_call *c);
void faxview_tif(struct api_call *c);

#endif
