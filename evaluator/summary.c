/*
 * summary.c - what the output needs of a finished job, kept without the
 * job (issue 22).
 *
 * DESCRIPTION
 *	A finished job holds its arena (trace, expanded names) and the
 *	records it evaluated until it is destroyed: up to the per-job
 *	memory budget.  A caller that checks HELO and then MAIL FROM for one
 *	message (the policy service, batch, check) keeps only the HELO
 *	identity's summary: the result, the deciding term, the domains, the
 *	explanation and problem texts and the lookup counts, each text
 *	copied, and destroys the HELO job before the MAIL FROM job starts.
 *	The header fields (header.c) and the commands' JSON read a summary,
 *	owned or a view borrowed from a job, so they say the same either way.
 *
 * DIAGNOSTICS
 *	spf_job_summarize() returns NULL when memory runs out (or for a job
 *	that is not done); nothing is half-made then.
 */
#include "spf.h"

#include <string.h>

void spf_job_summary_view(const spf_job_t *job, spf_job_summary_t *out)
{
	memset(out, 0, sizeof(*out));
	out->result = spf_job_result(job);
	out->sender = spf_job_sender(job);
	out->start_domain = spf_job_start_domain(job);
	out->domain = spf_job_domain(job);
	out->mechanism = spf_job_mechanism(job);
	out->explanation = spf_job_explanation(job);
	out->problem = spf_job_problem(job);
	out->lookups = spf_job_lookups(job);
	out->void_lookups = spf_job_void_lookups(job);
	out->host_voids = spf_job_host_voids(job);
}

/* *to = a copy of from (NULL stays NULL); false on ENOMEM */
static bool copy(const char **to, const char *from)
{
	*to = NULL;
	if (from == NULL)
		return true;
	*to = spf_strdup(from);
	return *to != NULL;
}

spf_job_summary_t *spf_job_summarize(const spf_job_t *job)
{
	spf_job_summary_t view, *s;
	bool ok;

	if (job == NULL || !spf_job_done(job))
		return NULL;
	s = spf_calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	spf_job_summary_view(job, &view);
	*s = view;
	ok = copy(&s->sender, view.sender);
	ok = copy(&s->start_domain, view.start_domain) && ok;
	ok = copy(&s->domain, view.domain) && ok;
	ok = copy(&s->mechanism, view.mechanism) && ok;
	ok = copy(&s->explanation, view.explanation) && ok;
	ok = copy(&s->problem, view.problem) && ok;
	if (!ok) {
		spf_job_summary_destroy(s);
		return NULL;
	}
	return s;
}

void spf_job_summary_destroy(spf_job_summary_t *s)
{
	if (s == NULL)
		return;
	spf_free((void *)s->sender);
	spf_free((void *)s->start_domain);
	spf_free((void *)s->domain);
	spf_free((void *)s->mechanism);
	spf_free((void *)s->explanation);
	spf_free((void *)s->problem);
	spf_free(s);
}
