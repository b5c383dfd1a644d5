/* department: the department directory (所管課 and 係) that escalations go
 * to (sql/018).
 *
 *   GET  /api/departments                 every role: the directory, enabled or not
 *   POST /api/admin/departments           admin: add one
 *   PUT  /api/admin/departments/ID        admin: change the fields given
 *   POST /api/admin/departments/import    admin: a CSV (UTF-8, a header row), one
 *                                         transaction: every line or none
 *
 * A department is {name (課), section (係, "" for the 課 itself), mail
 * (1-10 liaison addresses), head_mail (the head of section, copied on the
 * last reminder; null), phone, enabled, position}.  (name, section) is
 * unique: 409.  The CSV's columns are named by its header, in Japanese or
 * English: 課/name, 係/section, メール/mail (several separated by ';' or
 * a space), 課長メール/head_mail, 電話/phone; a line's (name, section)
 * that exists is updated, else added.  A bad line is 400 with its line
 * number and nothing is changed. */
#ifndef MDG_DEPARTMENT_H
#define MDG_DEPARTMENT_H

struct api_call;
struct db;

void department_prepare(struct db *db);
void department_list(struct api_call *c);
void department_create(struct api_call *c);
void department_update(struct api_call *c);
void department_import(struct api_call *c);

#endif
