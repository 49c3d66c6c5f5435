/*
 * spfalign.c - can a domain's SPF record ever pass aligned with it
 * (RFC 9989 §4.4)?  Read from a finished lint run (lint/lint.c's tree),
 * for `spfcheck audit` and dmarc's DM-24.
 *
 * DESCRIPTION
 *	SPF passes for an address only through a mechanism with the pass
 *	qualifier that matches it (ip4, ip6, a, mx, ptr, exists, all;
 *	include and redirect only pass on their target's verdict).  Such a
 *	term is "own" when it sits in a record of the domain's own
 *	organisation: the top record, and include/redirect targets at or
 *	below the Organizational Domain reached only through such records.
 *	The answer:
 *	  OWN        an own pass term: mail from the organisation's own
 *	             servers passes SPF for the domain, which aligns;
 *	  PROVIDERS  every pass term is in another organisation's record
 *	             (include:_spf.provider.example): SPF passes aligned
 *	             only for mail those providers send with a MAIL FROM in
 *	             the domain; bulk senders that use their own bounce
 *	             domain never align by SPF;
 *	  NEVER      the tree has no pass term at all ("v=spf1 -all"):
 *	             SPF never passes for the domain;
 *	  NO_RECORD  no usable record (none, several, a syntax error, a
 *	             failed lookup): SPF never passes.
 *	"Another organisation" is "not at or below the Organizational
 *	Domain": no walk is needed for each include target.
 *
 * DIAGNOSTICS
 *	None: it only reads the tree.
 */
#include "lint_walk.h"

#include <string.h>

const char *spf_dmarc_spf_align_str(spf_dmarc_spf_align_t a)
{
	switch (a) {
	case SPF_DMARC_SPF_OWN:
		return "yes";
	case SPF_DMARC_SPF_PROVIDERS:
		return "providers";
	case SPF_DMARC_SPF_NEVER:
		return "never";
	default:
		return "no_record";
	}
}

/* Is d org itself or a name below it (case-insensitive)? */
static bool under(const char *d, const char *org)
{
	size_t ld = strlen(d), lo = strlen(org);

	if (ld > 0 && d[ld - 1] == '.')
		ld--;
	if (lo > 0 && org[lo - 1] == '.')
		lo--;
	if (ld < lo || !spf_strncaseeq(d + ld - lo, org, lo))
		return false;
	return ld == lo || d[ld - lo - 1] == '.';
}

static bool passes(const spf_term_t *t)
{
	if (t->is_modifier || t->mech == SPF_MECH_INCLUDE)
		return false;
	return spf_qualifier_result(t->qualifier) == SPF_RESULT_PASS;
}

spf_dmarc_spf_align_t spf_dmarc_spf_alignable(const spf_lint_t *lint,
	const char *org_domain, const char **provider)
{
	struct lnode *top = spf_lint_tree(lint);
	/* per frame: an own record?  if not, the first record entered
	 * from an own one (the provider's) */
	bool own[LWALK_MAX], own_pass = false, other_pass = false;
	const char *root[LWALK_MAX];
	const char *first_other = NULL;
	struct lwalk w;
	struct lstep s;

	if (provider != NULL)
		*provider = NULL;
	if (top == NULL || spf_lint_top_state(lint) != SPF_LINT_STATE_OK)
		return SPF_DMARC_SPF_NO_RECORD;
	if (org_domain == NULL)
		org_domain = top->domain;
	own[0] = under(top->domain, org_domain);
	root[0] = own[0] ? NULL : top->domain;
	spf_lwalk_init(&w, top);
	while (spf_lwalk_next(&w, &s)) {
		size_t d = s.depth;

		if (d >= LWALK_MAX)
			continue;
		if (s.kind == LSTEP_ENTER && d > 0) {
			own[d] = own[d - 1] && under(s.n->domain, org_domain);
			root[d] = own[d] ? NULL : root[d - 1] != NULL ?
				root[d - 1] : s.n->domain;
			continue;
		}
		if (s.kind != LSTEP_TERM || !passes(s.lt->t))
			continue;
		if (own[d]) {
			own_pass = true;
		} else {
			other_pass = true;
			if (first_other == NULL)
				first_other = root[d];
		}
	}
	if (own_pass)
		return SPF_DMARC_SPF_OWN;
	if (!other_pass)
		return SPF_DMARC_SPF_NEVER;
	if (provider != NULL)
		*provider = first_other;
	return SPF_DMARC_SPF_PROVIDERS;
}
