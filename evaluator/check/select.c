/*
 * select.c - which record of a domain applies (RFC 7208 §4.5, RFC 4406
 * §4.4).
 *
 * DESCRIPTION
 *	spf_record_select() turns the TXT answer (and, for a Sender ID
 *	scope, the type SPF (99) answer) of a domain into the one record a
 *	receiver evaluates.  RFC 7208: TXT only, the records that start
 *	with "v=spf1" followed by SP or the end; exactly one is needed.
 *	Sender ID (SPECS A.3):
 *	1. if there is any type-99 record, every TXT record is dropped;
 *	2. records with a malformed version section are dropped (RFC 4406
 *	   §3; spf_record_version());
 *	3. spf2.x records whose scope list lacks the scope (whole tokens,
 *	   case-insensitive) are dropped;
 *	4. the spf2.x records left win; without any, the v=spf1 records are
 *	   the candidates (RFC 4406 §3.4), except for scope pra when
 *	   v1_for_pra is off (Mail::SPF: pra uses version 2 only);
 *	5. no candidate is none, several are permerror.
 *	Every reader of records goes through it: the evaluation (and its
 *	speculative prefetch), lint and the Sender ID report.  It gives the
 *	reason there is no record as a status; each caller words it.
 *
 * DIAGNOSTICS
 *	A TXT (or, for a Sender ID scope, type-99) answer that is TEMPFAIL
 *	or BADREPLY, or no TXT answer at all, is SPF_SELECT_DNS_ERROR
 *	(RFC 7208 §4.4: temperror); the records of the answers that did
 *	arrive are still counted for reports.
 */
#include "internal.h"

#include <string.h>

static bool lookup_failed(const spf_dns_answer_t *ans)
{
	spf_dns_status_t st = spf_dns_answer_status(ans);

	return st == SPF_DNS_TEMPFAIL || st == SPF_DNS_BADREPLY;
}

static void consider(const spf_dns_answer_t *ans, spf_scope_t scope,
	bool v1_ok, spf_selection_t *v1, spf_selection_t *v2)
{
	size_t n;

	if (ans == NULL || spf_dns_answer_status(ans) != SPF_DNS_OK)
		return;
	n = spf_dns_answer_count(ans);
	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_version_info_t vi;

		if (rr->type != SPF_RR_TXT && rr->type != SPF_RR_SPF)
			continue;
		spf_record_version(rr->u.txt.data, rr->u.txt.len, &vi);
		if (!vi.well_formed)
			continue;
		if (vi.version == 1 && v1_ok) {
			if (v1->ncand++ == 0)
				v1->rr = rr;
		} else if (vi.version == 2 && (vi.scopes & (scope == SPF_SCOPE_PRA ?
		    SPF_SCOPE_BIT_PRA : SPF_SCOPE_BIT_MFROM))) {
			if (v2->ncand++ == 0)
				v2->rr = rr;
		}
	}
}

/*
 * RFC 7208 §4.5: the TXT records that are "v=spf1" followed by SP or
 * the end (spf_record_is_spf1(): case-insensitive, on the strings of
 * each record joined without spaces, RFC 7208 §3.3); exactly one is
 * needed.  Apart from select_sid() because every evaluation, include
 * and redirect selects here: one pass, no second candidate list.
 */
static void select_spf1(const spf_dns_answer_t *txt, spf_selection_t *out)
{
	spf_dns_status_t st = txt != NULL ? spf_dns_answer_status(txt) :
		SPF_DNS_TEMPFAIL;
	size_t n = st == SPF_DNS_OK ? spf_dns_answer_count(txt) : 0;
	const spf_dns_rr_t *first = NULL;
	size_t ncand = 0;

	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(txt, i);

		if ((rr->type == SPF_RR_TXT || rr->type == SPF_RR_SPF) &&
		    spf_record_is_spf1(rr->u.txt.data, rr->u.txt.len) &&
		    ncand++ == 0)
			first = rr;
	}
	memset(out, 0, sizeof(*out));
	out->first = first;
	out->ncand = ncand;
	out->version = ncand > 0 ? 1 : 0;
	if (st == SPF_DNS_TEMPFAIL || st == SPF_DNS_BADREPLY) {
		out->status = SPF_SELECT_DNS_ERROR;
		out->failed = SPF_RR_TXT;
	} else if (ncand == 1) {
		out->status = SPF_SELECT_ONE;
		out->rr = first;
	} else {
		out->status = ncand == 0 ? SPF_SELECT_NONE : SPF_SELECT_MANY;
	}
}

/* RFC 4406 §4.4 (SPECS A.3) for scope mfrom or pra, steps 1 to 5. */
static void select_sid(const spf_dns_answer_t *txt,
	const spf_dns_answer_t *spf99, spf_scope_t scope, bool v1_for_pra,
	spf_selection_t *out)
{
	spf_selection_t v1 = { 0 }, v2 = { 0 };
	bool v1_ok = scope != SPF_SCOPE_PRA || v1_for_pra;

	memset(out, 0, sizeof(*out));
	if (spf99 != NULL && spf_dns_answer_status(spf99) == SPF_DNS_OK &&
	    spf_dns_answer_count(spf99) > 0) {
		/* step 1: type 99 present, TXT ignored */
		out->used_spf99 = true;
		consider(spf99, scope, v1_ok, &v1, &v2);
	} else {
		consider(txt, scope, v1_ok, &v1, &v2);
	}
	/* step 4: spf2 for the scope wins over v=spf1 */
	if (v2.ncand > 0) {
		out->rr = v2.ncand == 1 ? v2.rr : NULL;
		out->first = v2.rr;
		out->ncand = v2.ncand;
		out->version = 2;
	} else if (v1.ncand > 0) {
		out->rr = v1.ncand == 1 ? v1.rr : NULL;
		out->first = v1.rr;
		out->ncand = v1.ncand;
		out->version = 1;
	}
	if (txt == NULL || lookup_failed(txt)) {
		out->status = SPF_SELECT_DNS_ERROR;
		out->failed = SPF_RR_TXT;
	} else if (spf99 != NULL && lookup_failed(spf99)) {
		out->status = SPF_SELECT_DNS_ERROR;
		out->failed = SPF_RR_SPF;
	} else {
		out->status = out->ncand == 0 ? SPF_SELECT_NONE :
			out->ncand > 1 ? SPF_SELECT_MANY : SPF_SELECT_ONE;
	}
}

void spf_record_select(const spf_dns_answer_t *txt,
	const spf_dns_answer_t *spf99, spf_scope_t scope, bool v1_for_pra,
	spf_selection_t *out)
{
	if (scope == SPF_SCOPE_RFC7208)
		select_spf1(txt, out);
	else
		select_sid(txt, spf99, scope, v1_for_pra, out);
}
