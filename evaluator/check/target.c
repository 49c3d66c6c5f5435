/*
 * target.c - the target name of a term as the job evaluates it, and the
 * expansion of explanation texts.
 *
 * DESCRIPTION
 *	The rule itself (a domain-spec expanded, cut to 253 characters,
 *	without its trailing dot, RFC 7208 §4.8, §7.3) lives once, in
 *	spf_term_target() (macro.c).  Here the job gives it the message's
 *	macro values: job_target() waits for the validated PTR names first
 *	when the domain-spec uses %{p} (RFC 7208 §7.3); term_target() is
 *	it for a frame's mechanism or redirect, with the trace notes;
 *	expand_text() expands an explanation (RFC 7208 §6.2, §7.1).
 *
 * DIAGNOSTICS
 *	A macro that cannot be expanded is permerror, with the problem
 *	"cannot expand '...': why".  A target that is not a valid domain
 *	name is treated as non-existent (RFC 7208 §4.3, §4.8) and noted in
 *	the trace.  Out of memory sets job->oom.
 */
#include "job.h"

#include <string.h>

/* 1 to 253 bytes of labels of 1 to 63 bytes, no final dot; a label at
 * a time (memchr() finds its end) */
bool spf_name_ok(const char *name)
{
	size_t len = strlen(name);
	const char *p = name, *end = name + len;

	if (len == 0 || len > 253)
		return false;
	for (;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t label = (size_t)((dot != NULL ? dot : end) - p);

		if (label == 0 || label > 63)
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

/* The message's macro values at domain, %{p} included once the PTR
 * names are known (ptr_names()), in *ctx. */
static const spf_macro_ctx_t *message_ctx(spf_job_t *job,
	const char *domain, spf_macro_ctx_t *ctx)
{
	*ctx = job->mctx;
	ctx->domain = domain;
	if (job->ptr_step == PTR_DONE)
		ctx->ptr = ptr_macro_value(job, domain);
	return ctx;
}

const char *expand_text(spf_job_t *job, struct frame *f, const char *s,
	size_t len)
{
	spf_macro_ctx_t ctx;
	spf_buf_t b;
	const char *out = NULL;
	spf_status_t st;

	spf_buf_init(&b, MAX_EXPANSION);
	st = spf_macro_expand(s, len, message_ctx(job, f->domain, &ctx),
		SPF_MACRO_EXP, &b, NULL);
	if (st == SPF_OK && (out = spf_arena_strdup(job->arena, spf_buf_cstr(&b))) == NULL)
		st = SPF_ENOMEM;
	if (st == SPF_ENOMEM)
		job->oom = true;
	spf_buf_finish(&b);
	return out;
}

enum tres job_target(spf_job_t *job, const char *domain,
	const spf_term_t *t, spf_trace_t *under, spf_target_t *tg,
	const char **problem)
{
	spf_macro_ctx_t ctx;
	const spf_macro_ctx_t *c = &job->mctx;   /* its domain is not read */
	const char *err = NULL;
	spf_status_t st;

	if (t->spec & SPF_SPEC_PTR) {
		if (!ptr_names(job, under))
			return T_WAIT;
		c = message_ctx(job, domain, &ctx);
	}
	st = spf_term_target(job->arena, t, domain, c, tg, &err);
	if (st == SPF_OK)
		return T_MATCH;
	if (st == SPF_ENOMEM)
		job->oom = true;
	else if (problem != NULL)
		*problem = spf_arena_printf(job->arena, "cannot expand '%.*s': %s",
			(int)t->domain_spec_len, t->domain_spec,
			err ? err : spf_strerror(st));
	return T_PERMERROR;
}

enum tres term_target(spf_job_t *job, struct frame *f,
	const spf_term_t *t, spf_trace_t *node, const char **problem)
{
	spf_target_t tg;
	enum tres r = job_target(job, f->domain, t, node, &tg, problem);

	if (r != T_MATCH)
		return r;
	f->target = tg.valid ? tg.name : NULL;
	if (node == NULL || t->domain_spec == NULL)
		return r;
	if (tg.name != t->domain_spec && strcmp(tg.name, t->domain_spec) != 0)
		trace_note(job, node, spf_arena_printf(job->arena,
			"target expands to %s", tg.name));
	if (!tg.valid)
		trace_note(job, node, spf_arena_printf(job->arena,
			"'%s' is not a valid domain name: treated as non-existent", tg.name));
	return r;
}
