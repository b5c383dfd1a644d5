/* cti_api: the calls' JSON API for browsers and supervisors (cti_api.c
 * lists the routes).  cti_api_prepare() also registers cti.c's
 * statements. */
#ifndef MDG_CTI_API_H
#define MDG_CTI_API_H

struct api_call;
struct db;

void cti_api_prepare(struct db *db);
void cti_api_me(struct api_call *c);
void cti_api_call(struct api_call *c);
void cti_api_pick(struct api_call *c);
void cti_api_stats(struct api_call *c);
void cti_api_ext_list(struct api_call *c);
void cti_api_ext_put(struct api_call *c);
void cti_api_ext_delete(struct api_call *c);
void cti_api_cb_list(struct api_call *c);
void cti_api_cb_add(struct api_call *c);
void cti_api_cb_done(struct api_call *c);

#endif
