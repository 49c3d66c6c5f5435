/*
 * psl.c - the Organizational Domain of RFC 7489 §3.2 (the Public Suffix
 * List method that RFC 9989's DNS Tree Walk replaces), through libpsl,
 * so that a user can see where the two methods disagree.
 *
 * DESCRIPTION
 *	spf_psl_load() takes a list from a file (psl_load_file(): the
 *	tests use a small list of their own, never the system's) or, with
 *	no file, the system's list (psl_latest(): the newer of the
 *	publicsuffix package's file and the list built into libpsl),
 *	else the built-in list alone.  spf_psl_source() says which, for
 *	the output: the file's path, "system list (PATH)" or "libpsl
 *	builtin".  The Organizational Domain of a name
 *	is its registrable domain: the public suffix plus one label
 *	(psl_registrable_domain(); libpsl applies the prevailing "*" rule,
 *	so any TLD is a public suffix); a name that is itself a public
 *	suffix has none and is taken as its own.
 *
 * DIAGNOSTICS
 *	spf_psl_load(): SPF_EINVAL when the file cannot be read or holds no
 *	rule (or libpsl has no list at all), SPF_ENOMEM.  Lookups do not
 *	fail.
 */
#include "internal.h"

#include <libpsl.h>
#include <string.h>

struct spf_psl {
	const psl_ctx_t *ctx;
	psl_ctx_t *owned;          /* freed by spf_psl_free(); NULL: builtin */
	char *source;              /* the file, "system list (FILE)" or
	                            * "libpsl builtin" */
};

spf_psl_t *spf_psl_load(const char *file, spf_status_t *status)
{
	spf_psl_t *p = spf_calloc(1, sizeof(*p));
	spf_status_t st = SPF_ENOMEM;

	if (p == NULL)
		goto done;
	if (file != NULL) {
		st = SPF_EINVAL;
		p->owned = psl_load_file(file);
		if (p->owned == NULL || psl_suffix_count(p->owned) <= 0)
			goto done;
		p->source = spf_strdup(file);
	} else {
		/* psl_latest() gives the built-in list itself when the
		 * system's file is missing or older */
		p->owned = psl_latest(NULL);
		if (p->owned != NULL && p->owned != psl_builtin() &&
		    psl_dist_filename() != NULL && *psl_dist_filename() != '\0') {
			spf_buf_t b;

			spf_buf_init(&b, 4096);
			spf_buf_printf(&b, "system list (%s)", psl_dist_filename());
			p->source = b.err == SPF_OK ? spf_strdup(spf_buf_cstr(&b)) : NULL;
			spf_buf_finish(&b);
		} else {
			if (p->owned == psl_builtin())
				p->owned = NULL;   /* not ours to free */
			p->source = spf_strdup("libpsl builtin");
		}
	}
	p->ctx = p->owned != NULL ? p->owned : psl_builtin();
	st = SPF_EINVAL;
	if (p->ctx == NULL)
		goto done;
	st = SPF_ENOMEM;
	if (p->source == NULL)
		goto done;
	st = SPF_OK;
done:
	if (status != NULL)
		*status = st;
	if (st != SPF_OK) {
		spf_psl_free(p);
		return NULL;
	}
	return p;
}

void spf_psl_free(spf_psl_t *psl)
{
	if (psl == NULL)
		return;
	if (psl->owned != NULL)
		psl_free(psl->owned);
	spf_free(psl->source);
	spf_free(psl);
}

const char *spf_psl_source(const spf_psl_t *psl)
{
	return psl != NULL ? psl->source : NULL;
}

const char *spf_psl_org_domain(const spf_psl_t *psl, const char *domain)
{
	const char *r;

	if (psl == NULL || domain == NULL)
		return domain;
	r = psl_registrable_domain(psl->ctx, domain);
	return r != NULL ? r : domain;
}

bool spf_psl_is_public_suffix(const spf_psl_t *psl, const char *domain)
{
	if (psl == NULL || domain == NULL)
		return false;
	return psl_is_public_suffix2(psl->ctx, domain, PSL_TYPE_ANY) != 0;
}
