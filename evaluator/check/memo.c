/*
 * memo.c - parsed records, memoised on the answer.
 *
 * DESCRIPTION
 *	A record is parsed once per answer object: answers come shared from
 *	the resolver's cache, so in a batch or a policy service a provider's
 *	record is parsed once, not once per evaluation.  The memo lives in
 *	its own arena and dies with the answer; a job keeps every answer it
 *	used referenced until it is destroyed, so pointers into the record
 *	(term texts in the trace) stay valid as long as the job.
 *
 * DIAGNOSTICS
 *	When the memo cannot be made (out of memory), the record is parsed
 *	into the job's arena instead.
 */
#include "job.h"

#include <string.h>

/* ---- parsed records, memoised on the answer ----
 *
 * A record is parsed once per answer object: answers come shared from
 * the resolver's cache, so in a batch or a policy service a provider's
 * record is parsed once, not once per evaluation.  The memo lives in
 * its own arena and dies with the answer; a job keeps every answer it
 * used referenced until it is destroyed, so pointers into the record
 * (term texts in the trace) stay valid as long as the job.
 */
struct rec_memo {
	spf_arena_t *arena;
	const spf_dns_rr_t *rr;      /* the record parsed */
	const char *label;           /* its text for the trace, once made */
	spf_record_t *rec;
	spf_status_t status;
	spf_parse_error_t err;
	size_t bytes;                /* rec_memo_recount(), kept by memo_count() */
	spf_selection_t spf1;        /* RFC 7208 §4.5's choice in the answer */
};

/* What the memo costs, counted again: the struct and its arena. */
static size_t memo_cost(const struct rec_memo *m)
{
	return spf_heap_bytes(sizeof(*m)) + spf_arena_used(m->arena);
}

/* The memo's arena grew (the record parsed, its label made): keep
 * m->bytes, which rec_memo_bytes() reads for every answer a job holds. */
static void memo_count(struct rec_memo *m)
{
	m->bytes = memo_cost(m);
}

static void rec_memo_free(void *p)
{
	struct rec_memo *m = p;

	spf_arena_destroy(m->arena);
	spf_free(m);
}

size_t rec_memo_bytes(const spf_dns_answer_t *ans)
{
	const struct rec_memo *m = ans != NULL ? spf_dns_answer_memo(ans) : NULL;

	/* only this module sets memos on answers */
	return m != NULL ? m->bytes : 0;
}

size_t rec_memo_recount(const spf_dns_answer_t *ans)
{
	const struct rec_memo *m = ans != NULL ? spf_dns_answer_memo(ans) : NULL;

	return m != NULL ? memo_cost(m) : 0;
}

spf_status_t parse_memo(spf_job_t *job, const spf_dns_answer_t *ans,
	const spf_dns_rr_t *rr, spf_record_t **out, spf_parse_error_t *err)
{
	struct rec_memo *m = spf_dns_answer_memo(ans);

	if (m == NULL) {
		m = spf_calloc(1, sizeof(*m));
		if (m != NULL)
			m->arena = spf_arena_create();
		if (m != NULL && m->arena != NULL) {
			/* the answer is immutable: its selection, made once,
			 * is what spf_record_select() gives every time */
			spf_record_select(ans, NULL, SPF_SCOPE_RFC7208, false, &m->spf1);
			m->rr = rr;
			m->status = spf_record_parse(m->arena, rr->u.txt.data,
				rr->u.txt.len, &m->rec, &m->err);
			memo_count(m);
		}
		if (m == NULL || m->arena == NULL || m->status == SPF_ENOMEM ||
		    !spf_dns_answer_set_memo(ans, m, rec_memo_free)) {
			if (m != NULL)
				rec_memo_free(m);
			m = NULL;
		}
	}
	if (m != NULL && m->rr == rr) {
		*out = m->rec;
		*err = m->err;
		return m->status;
	}
	return spf_record_parse(job->arena, rr->u.txt.data, rr->u.txt.len, out, err);
}

bool memo_select_spf1(const spf_dns_answer_t *ans, spf_selection_t *out)
{
	const struct rec_memo *m = ans != NULL ? spf_dns_answer_memo(ans) : NULL;

	if (m == NULL)
		return false;
	*out = m->spf1;
	return true;
}

/* The record's text for its trace node: made once per cached answer
 * (in the memo) rather than once per evaluation. */
const char *record_label(spf_job_t *job, const spf_dns_answer_t *ans,
	const spf_dns_rr_t *rr)
{
	struct rec_memo *m = ans != NULL ? spf_dns_answer_memo(ans) : NULL;

	if (m != NULL && m->rr == rr) {
		if (m->label == NULL) {
			m->label = rr_text_in(m->arena, rr);
			memo_count(m);
		}
		if (m->label != NULL)
			return m->label;
	}
	return rr_text(job, rr);
}
