/*
 * target.c - the target name of a term: its domain-spec expanded
 * (RFC 7208 §4.8, §7), or the current domain.
 *
 * DESCRIPTION
 *	term_target() gives the name evaluation looks up; prefetch_target()
 *	the name speculation may fetch (only one that is the same for every
 *	message: literal, or no macro but %{d}); expand() expands any
 *	macro-string (domain-spec or explanation) for a frame.
 *
 * DIAGNOSTICS
 *	A macro that cannot be expanded is permerror, with the problem
 *	"cannot expand '...': why".  A target that is not a valid domain
 *	name is treated as non-existent (RFC 7208 §4.3, §4.8) and noted in
 *	the trace.
 */
#include "job.h"

#include <string.h>

bool spf_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return label > 0;
}

char *strip_dot(spf_job_t *job, const char *s)
{
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == '.')
		len--;
	return spf_arena_strndup(job->arena, s, len);
}

/* Expand a macro-string for frame f.  Returns NULL with *problem set on
 * failure.  Callers that may expand %{p} must run ptr_names() first. */
const char *expand(spf_job_t *job, struct frame *f, const char *spec,
	size_t len, int flags, const char **problem)
{
	spf_macro_ctx_t ctx = job->mctx;
	spf_buf_t b;
	const char *err = NULL, *out = NULL;
	spf_status_t st;

	ctx.domain = f->domain;
	if (job->ptr_phase == 3)
		ctx.ptr = ptr_macro_value(job, f->domain);
	spf_buf_init(&b, MAX_EXPANSION);
	st = spf_macro_expand(spec, len, &ctx, flags, &b, &err);
	if (st == SPF_OK)
		out = spf_arena_strdup(job->arena, spf_buf_cstr(&b));
	else if (st == SPF_ENOMEM)
		job->oom = true;
	else if (problem != NULL)
		*problem = spf_arena_printf(job->arena, "cannot expand '%.*s': %s",
			(int)len, spec, err ? err : spf_strerror(st));
	spf_buf_finish(&b);
	if (st == SPF_OK && out == NULL)
		job->oom = true;
	return out;
}

/* A domain-spec that is its own expansion: no macro, no trailing dot,
 * nothing to truncate (the parser has checked its characters). */
static bool spec_is_literal(const spf_term_t *t)
{
	return memchr(t->domain_spec, '%', t->domain_spec_len) == NULL &&
	    t->domain_spec_len > 0 && t->domain_spec_len <= 253 &&
	    t->domain_spec[t->domain_spec_len - 1] != '.';
}

/* The target name of a term: its domain-spec expanded, or <domain>.
 * Returns T_MATCH with f->target set (NULL if the name is invalid),
 * T_WAIT while %{p} is being resolved, T_PERMERROR with a problem. */
enum tres term_target(spf_job_t *job, struct frame *f,
	const spf_term_t *t, spf_trace_t *node, const char **problem)
{
	const char *name;

	if (t->domain_spec == NULL) {
		f->target = f->domain;
		return T_MATCH;
	}
	if (spec_is_literal(t)) {
		name = t->domain_spec;
	} else {
		if (spf_macro_uses_ptr(t->domain_spec, t->domain_spec_len) &&
		    !ptr_names(job, node))
			return T_WAIT;
		name = expand(job, f, t->domain_spec, t->domain_spec_len,
			SPF_MACRO_DOMAIN, problem);
		if (name == NULL)
			return T_PERMERROR;
		name = strip_dot(job, name);
		if (name == NULL)
			return T_PERMERROR;
	}
	if (node != NULL && strcmp(name, t->domain_spec) != 0)
		trace_note(job, node, spf_arena_printf(job->arena,
			"target expands to %s", name));
	f->target = spf_name_ok(name) ? name : NULL;
	if (f->target == NULL)
		trace_note(job, node, spf_arena_printf(job->arena,
			"'%s' is not a valid domain name: treated as non-existent", name));
	return T_MATCH;
}

/* The target of a term as speculation may fetch it: the same for every
 * message checked against domain; NULL otherwise or if invalid. */
const char *prefetch_target(spf_job_t *job, const char *domain,
	const spf_term_t *t)
{
	spf_macro_ctx_t ctx = { 0 };
	spf_buf_t b;
	const char *out = NULL;

	if (t->domain_spec == NULL)
		return domain;
	if (spec_is_literal(t))
		return spf_name_ok(t->domain_spec) ? t->domain_spec : NULL;
	if (!spf_macro_domain_only(t->domain_spec, t->domain_spec_len))
		return NULL;
	ctx.domain = domain;   /* nothing else of the message is given */
	spf_buf_init(&b, MAX_EXPANSION);
	if (spf_macro_expand(t->domain_spec, t->domain_spec_len, &ctx,
	    SPF_MACRO_DOMAIN, &b, NULL) == SPF_OK) {
		out = strip_dot(job, spf_buf_cstr(&b));
		if (out != NULL && !spf_name_ok(out))
			out = NULL;
	}
	spf_buf_finish(&b);
	return out;
}
