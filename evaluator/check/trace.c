/*
 * trace.c - the job's trace tree: nodes, answer and record texts, and
 * the terms' nodes of a frame (one per term, or lazily made and
 * summarised in runs for lean traces and records of more than
 * TRACE_TERMS_MAX terms).
 *
 * DESCRIPTION
 *	trace_add() appends a node under its parent; rr_text_in() and
 *	answer_text() turn DNS data into the quoted, escaped text the
 *	trace shows; term_node() gives the node of a term of a frame's
 *	record, making it (and a summary of the terms before it) when the
 *	trace is lazy.
 *
 * DIAGNOSTICS
 *	Nodes and texts are in the job's arena; when it is exhausted the
 *	functions return NULL and trace_add() sets job->oom.  Text too long
 *	to show becomes "(too long to show)".
 */
#include "job.h"

#include <stdio.h>
#include <string.h>

spf_trace_t *trace_add(spf_job_t *job, spf_trace_t *parent,
	spf_trace_kind_t kind, const char *label)
{
	spf_trace_t *t;

	if (job->notrace)
		return NULL;
	t = spf_arena_alloc(job->arena, sizeof(*t));
	if (t == NULL) {
		job->oom = true;
		return NULL;
	}
	t->kind = kind;
	t->label = label ? label : "";
	t->lookups = job->lookups;
	t->voids = job->voids;
	t->parent = parent;
	if (parent != NULL) {
		if (parent->last != NULL)
			parent->last->next = t;
		else
			parent->first = t;
		parent->last = t;
	}
	return t;
}

void trace_note(spf_job_t *job, spf_trace_t *parent, const char *text)
{
	if (parent != NULL)
		trace_add(job, parent, SPF_TRACE_NOTE, text);
}

const char *rr_text_in(spf_arena_t *arena, const spf_dns_rr_t *rr)
{
	char buf[64];

	switch (rr->type) {
	case SPF_RR_A: {
		spf_addr_t a = { .family = 4 };
		memcpy(a.addr, rr->u.a, 4);
		return spf_arena_strdup(arena, spf_addr_str(&a, buf, sizeof(buf)));
	}
	case SPF_RR_AAAA: {
		spf_addr_t a = { .family = 6 };
		memcpy(a.addr, rr->u.aaaa, 16);
		return spf_arena_strdup(arena, spf_addr_str(&a, buf, sizeof(buf)));
	}
	case SPF_RR_MX:
		return spf_arena_printf(arena, "%u %s", rr->u.mx.preference,
			rr->u.mx.exchange[0] ? rr->u.mx.exchange : ".");
	case SPF_RR_PTR:
	case SPF_RR_CNAME:
		return rr->u.name;
	case SPF_RR_TXT:
	case SPF_RR_SPF: {
		spf_buf_t b;
		const char *s;
		size_t clean = 0;

		/* the common case: printable ASCII without quotes or escapes */
		while (clean < rr->u.txt.len && rr->u.txt.data[clean] >= 0x20 &&
		       rr->u.txt.data[clean] < 0x7f && rr->u.txt.data[clean] != '"' &&
		       rr->u.txt.data[clean] != '\\')
			clean++;
		if (clean == rr->u.txt.len) {
			char *q = spf_arena_alloc(arena, clean + 3);

			if (q != NULL) {
				q[0] = '"';
				memcpy(q + 1, rr->u.txt.data, clean);
				q[clean + 1] = '"';
				q[clean + 2] = '\0';
			}
			return q;
		}

		spf_buf_init(&b, 8192);
		spf_buf_putc(&b, '"');
		spf_buf_escape(&b, rr->u.txt.data, rr->u.txt.len, SPF_ESC_ZONE, 0);
		spf_buf_putc(&b, '"');
		s = spf_arena_strdup(arena, spf_buf_cstr(&b));
		spf_buf_finish(&b);
		return s;
	}
	default:
		return spf_rrtype_str(rr->type);
	}
}

const char *rr_text(spf_job_t *job, const spf_dns_rr_t *rr)
{
	return rr_text_in(job->arena, rr);
}

/* A one-line summary of an answer for the trace. */
const char *answer_text(spf_job_t *job, const spf_dns_answer_t *ans)
{
	spf_buf_t b;
	const char *s;
	spf_dns_status_t st = spf_dns_answer_status(ans);

	spf_buf_init(&b, 16384);
	if (st != SPF_DNS_OK) {
		s = spf_dns_status_text(job->arena, st,
			spf_dns_answer_detail(ans));
		spf_buf_puts(&b, s != NULL ? s : spf_dns_status_str(st));
	} else if (spf_dns_answer_count(ans) == 1 &&
	    spf_dns_answer_type(ans) == SPF_RR_TXT) {
		/* a record: its text is made once, with the parsed record
		 * (which st_select() would parse anyway) */
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, 0);
		spf_record_t *rec;
		spf_parse_error_t perr;

		spf_buf_finish(&b);
		if (spf_record_is_spf1(rr->u.txt.data, rr->u.txt.len))
			(void)parse_memo(job, ans, rr, &rec, &perr);
		return record_label(job, ans, rr);
	} else {
		size_t n = spf_dns_answer_count(ans);

		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				spf_buf_puts(&b, ", ");
			if (i == 12 && n > 13) {
				spf_buf_printf(&b, "... %zu more", n - 12);
				break;
			}
			spf_buf_puts(&b, rr_text(job, spf_dns_answer_rr(ans, i)));
		}
	}
	if (spf_dns_answer_cnames(ans) != NULL)
		spf_buf_printf(&b, " [via %s]", spf_dns_answer_cnames(ans));
	s = spf_arena_strdup(job->arena, b.err == SPF_OK ? spf_buf_cstr(&b) : "(too long to show)");
	spf_buf_finish(&b);
	return s;
}

static inline void term_fill(const spf_job_t *job, spf_trace_t *t,
	const spf_term_t *term);

/* "1,214": n with thousands separated, in buf. */
static const char *thousands(char *buf, size_t len, size_t n)
{
	char digits[32];
	size_t nd = (size_t)snprintf(digits, sizeof digits, "%zu", n), o = 0;

	for (size_t i = 0; i < nd && o + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Lazy full trace: the terms from f->traced up to end (exclusive), which
 * have no node, become one: the term's own when it is one, else a
 * summary "1,214 ip4 terms" with the byte span of the run and outcome
 * (NO_MATCH for a run walked, NOT_REACHED for the rest of a record).
 */
void trace_run(spf_job_t *job, struct frame *f, size_t end,
	spf_term_outcome_t outcome)
{
	const spf_term_t *first, *last;
	size_t n4 = 0, n6 = 0, nother = 0, n;
	char a[32], b[32];
	spf_trace_t *t;
	const char *label;

	if (!f->lazy || job->lean || f->rec == NULL || end > f->rec->nterms ||
	    end <= f->traced)
		return;
	first = &f->rec->terms[f->traced];
	last = &f->rec->terms[end - 1];
	n = end - f->traced;
	for (const spf_term_t *k = first; k <= last; k++) {
		if (!k->is_modifier && k->mech == SPF_MECH_IP4)
			n4++;
		else if (!k->is_modifier && k->mech == SPF_MECH_IP6)
			n6++;
		else
			nother++;
	}
	if (n == 1) {
		label = first->text;
	} else {
		/* "1,214 ip4 terms", "3,507 terms (3,506 ip4, 1 other)" */
		const size_t counts[3] = { n4, n6, nother };
		static const char *const kinds[3] = { "ip4", "ip6", "other" };
		char parts[96];
		size_t o = 0, kinds_seen = 0;

		parts[0] = '\0';
		for (size_t k = 0; k < 3; k++) {
			if (counts[k] == 0)
				continue;
			o += (size_t)snprintf(parts + o, sizeof parts - o, "%s%s %s",
				kinds_seen++ ? ", " : "", thousands(a, sizeof a, counts[k]),
				kinds[k]);
		}
		if (kinds_seen == 1 && nother == 0)
			label = spf_arena_printf(job->arena, "%s %s terms",
				thousands(b, sizeof b, n), n4 ? "ip4" : "ip6");
		else
			label = spf_arena_printf(job->arena, "%s terms (%s)",
				thousands(b, sizeof b, n), parts);
	}
	t = trace_add(job, f->node, SPF_TRACE_TERM, label);
	f->traced = end;
	if (t == NULL || label == NULL)
		return;
	if (n == 1)
		term_fill(job, t, first);
	t->offset = first->offset;
	t->len = last->offset + last->len - first->offset;
	t->count = (unsigned)n;
	t->outcome = n4 + n6 == 0 && outcome == SPF_TERM_NO_MATCH ?
		SPF_TERM_SKIPPED : outcome;
	t->beyond_limit = outcome != SPF_TERM_NOT_REACHED && job->past_limit;
}

/* The node t of one term: what the term is, from its parse.  t->label
 * is the term's text.  The argument is found only for a trace that is
 * shown (a lean one is read for its outcomes only). */
static inline void term_fill(const spf_job_t *job, spf_trace_t *t,
	const spf_term_t *term)
{
	t->offset = term->offset;
	t->len = term->len;
	t->count = 1;
	t->modifier = term->is_modifier;
	t->mech = term->mech;
	t->mod = term->mod;
	t->qualifier = term->qualifier;
	if (!job->lean) {
		size_t name_len = term->is_modifier ? strlen(term->name) :
			strlen(spf_mech_name(term->mech));
		const char *after = term->text + (term->explicit_qualifier ? 1 : 0) +
			name_len;

		if (after <= term->text + term->len && (*after == ':' || *after == '='))
			t->value = after + 1;
	}
}

/* A new node for term i of f's record. */
spf_trace_t *term_node_add(spf_job_t *job, struct frame *f, size_t i)
{
	const spf_term_t *term = &f->rec->terms[i];
	spf_trace_t *t = trace_add(job, f->node, SPF_TRACE_TERM, term->text);

	if (t != NULL)
		term_fill(job, t, term);
	return t;
}

/* term_node() (job.h) of a lazy trace: made now. */
spf_trace_t *term_node_lazy(spf_job_t *job, struct frame *f, size_t i)
{
	if (f->cur_node != NULL && f->cur_idx == i)
		return f->cur_node;
	if ((int)i == f->rec->redirect && f->redirect_node != NULL)
		return f->redirect_node;
	trace_run(job, f, i, SPF_TERM_NO_MATCH);
	f->cur_node = term_node_add(job, f, i);
	f->cur_idx = i;
	if (f->traced < i + 1)
		f->traced = i + 1;
	if ((int)i == f->rec->redirect)
		f->redirect_node = f->cur_node;
	return f->cur_node;
}

/* The node of term i if it has one (never makes one). */
spf_trace_t *term_node_peek(const struct frame *f, size_t i)
{
	if (!f->lazy)
		return f->term_nodes[i];
	if ((int)i == f->rec->redirect)
		return f->redirect_node;
	return f->cur_idx == i ? f->cur_node : NULL;
}
