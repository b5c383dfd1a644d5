/* templates: the reply templates (定型文), data files in one folder.
 *
 * One file per template, NAME.txt, UTF-8:
 *
 *   Title: 受付確認
 *   Subject: {{ticket.subject}}について
 *   Approval: required
 *   <blank line>
 *   {{citizen.name}} 様 ...
 *
 * Title names it in the picker (the file name when absent); Subject may
 * be empty (the reply then keeps "Re: <original>").  "Approval: required"
 * holds every reply written from it for a second person's approval
 * (ticketd/approval.h; "Approval: none", or no such line, does not).  Any
 * other header
 * field is an error, so a typo shows instead of being ignored.  Variables
 * are {{name}} (blanks inside the braces allowed) from templates_vars[];
 * an unknown name or an unclosed "{{" is an error named to the operator,
 * never an empty string.
 *
 * The folder is read on every request (a few small files): an admin's
 * edit, or a file copied in by hand, applies at once.  Writes go to a
 * temporary file in the folder, fsync, rename, fsync of the folder: a
 * reader sees the old file or the new one, never half of one.
 * Everything comes from the caller's pool; nothing is logged. */
#ifndef MDG_TEMPLATES_H
#define MDG_TEMPLATES_H
#include <stddef.h>

struct pool;

#define TEMPLATES_MAX_FILE (64u << 10) /* bytes of one template file */
#define TEMPLATES_MAX_COUNT 200        /* files listed at most */
#define TEMPLATES_NAME_MAX 120         /* bytes of a name (the file name without .txt) */

struct templates_doc {
	const char *name;    /* file name without ".txt" */
	const char *title;   /* "" never: the name when the file has no Title */
	const char *subject; /* "" when none */
	const char *body;    /* LF line ends */
	int approval;        /* 1: "Approval: required" */
};

/* the variable names a template may use, NULL-terminated */
extern const char *const templates_vars[];

struct templates_var {
	const char *name;
	const char *value;
};

/* 1 if name may name a template file: 1..TEMPLATES_NAME_MAX bytes of
 * valid UTF-8, no '/', '\\', control character, leading '.' or blank */
int templates_name_ok(const char *name);

/* Parse a file's text.  0, or -1 with *err (a constant or pool string). */
int templates_parse(struct pool *p, const char *name, const char *text, size_t len,
		    struct templates_doc *out, const char **err);

/* Every template of dir sorted by name (files "*.txt" not starting with
 * '.'; unreadable or malformed ones are skipped and counted in *skipped).
 * 0, or -1 with *err when the folder cannot be read. */
int templates_list(struct pool *p, const char *dir, struct templates_doc **out, size_t *n,
		   size_t *skipped, const char **err);

/* One template: 1 found, 0 none of that name, -1 with *err (unreadable,
 * malformed, too large). */
int templates_load(struct pool *p, const char *dir, const char *name, struct templates_doc *out,
		   const char **err);

/* Fill text's variables from vars.  The filled text, or NULL with *err;
 * unknown names (each once, as written between the braces) go to
 * *unknown / *nunknown and make the result NULL too.  vars with a NULL
 * value count as known (for checking a template without a ticket). */
char *templates_fill(struct pool *p, const char *text, const struct templates_var *vars,
		     size_t nvars, const char ***unknown, size_t *nunknown, const char **err);

/* Write doc atomically as dir/<doc->name>.txt.  0, or -1 with *err. */
int templates_save(struct pool *p, const char *dir, const struct templates_doc *doc,
		   const char **err);

#endif
