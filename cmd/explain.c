/*
 * explain.c - `spfcheck explain IP SENDER`: why a message got its SPF
 * result, as the evaluation tree.
 *
 * DESCRIPTION
 *	Evaluates the identities --identity names, as check does (MAIL FROM
 *	by default; --helo alone only names the client; both: HELO first,
 *	then MAIL FROM; RFC 7208 §2.3, §2.4) and prints, for each, the job's trace tree (evaluator/spf.h):
 *	the record of every domain with its TTL, every term in record order
 *	with its outcome and the reason, what each DNS query returned, the
 *	running counts of DNS-querying terms (n/10) and void lookups (n/2),
 *	include and redirect as nested subtrees, the exp= lookup, the term
 *	that decided (marked), and a last line saying in plain words why.
 *	--json prints the same tree as data; --header adds the header fields.
 *
 *	Colour (ANSI) is used when stdout is a terminal, NO_COLOR is unset
 *	or empty and TERM is not "dumb"; --color=always|never overrides.
 *
 *	The trace belongs to the job and is bounded by the evaluator's
 *	limits (at most 24 nested frames), so walking it recursively is safe.
 *
 * DIAGNOSTICS
 *	As check: one line on stderr and exit 64 for bad input; the exit
 *	status is otherwise the MAIL FROM result (0 pass ... 6 temperror).
 */
#include "cmd.h"
#include "html.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char explain_usage[] =
	"usage: spfcheck explain [options] IP SENDER [--helo NAME]\n"
	"\n"
	"Show why a message from IP with envelope sender SENDER gets its SPF\n"
	"result: the record of each domain (with TTL), every term with its\n"
	"outcome, every DNS answer, the lookup counts, include and redirect as\n"
	"nested trees, the explanation, and the term that decided.\n"
	"\n"
	"options:\n"
	CMD_HELP_HELO_IDENTITY
	CMD_HELP_VOID_COUNT
	"  --color auto|always|never   colour the tree (default auto: when stdout\n"
	"                          is a terminal and NO_COLOR is not set)\n"
	"  --header received-spf|auth-results|both\n"
	"                          also print the header fields\n"
	"  --authserv-id NAME      authserv-id of Authentication-Results\n"
	"  --debug                 each state and step of the evaluation, one line\n"
	"                          each, on standard error\n"
	CMD_FORMAT_HELP("the evaluation tree")
	CMD_DMARC_HELP;
/* in two pieces: C99 compilers need support no longer literal */
static const char explain_usage2[] =
	CMD_DMARC_ORG_HELP
	COMMON_HELP
	"  -h, --help              this text\n"
	"\n"
	"exit status: as spfcheck check (the MAIL FROM result; 64 bad input)\n";

/* ANSI styles */
#define S_RESET "\033[0m"
#define S_BOLD "\033[1m"
#define S_DIM "\033[2m"
#define S_RED "\033[31m"
#define S_GREEN "\033[32m"
#define S_YELLOW "\033[33m"
#define S_BLUE "\033[34m"
#define S_MAGENTA "\033[35m"
#define S_CYAN "\033[36m"

#define MAX_DECIDING 64
/* explain shows records longer than this by their first half and size */
#define RECORD_SHOWN 1024

struct ctx {
	bool color;
	FILE *out;
	const struct cmd_ident *id;
	char ip[64];
	unsigned void_limit;
	const spf_trace_t *deciding[MAX_DECIDING];
	size_t ndeciding;
};

static const char *on(const struct ctx *c, const char *style)
{
	return c->color ? style : "";
}

static const char *off(const struct ctx *c)
{
	return c->color ? S_RESET : "";
}

static const char *result_style(spf_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return S_GREEN;
	case SPF_RESULT_FAIL: return S_RED;
	case SPF_RESULT_SOFTFAIL: return S_YELLOW;
	case SPF_RESULT_NEUTRAL:
	case SPF_RESULT_NONE: return S_BLUE;
	default: return S_MAGENTA;
	}
}

/* Write s, replacing C0 controls and DEL (never in our own text, but
 * possible in names from DNS) by \xNN so the terminal stays intact. */
static void put(const struct ctx *c, const char *s)
{
	spf_escape_write(c->out, s, strlen(s), SPF_ESC_CTL);
}

/* Display width of UTF-8 text (one column per code point). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* ---- reading the trace ---- */

static bool is_deciding(const struct ctx *c, const spf_trace_t *t)
{
	for (size_t i = 0; i < c->ndeciding; i++)
		if (c->deciding[i] == t)
			return true;
	return false;
}

/* Does node t stand for one mechanism m (a run of terms stands for none)? */
static bool is_mech(const spf_trace_t *t, spf_mech_t m)
{
	return t->count == 1 && !t->modifier && t->mech == m;
}

static bool is_mod(const spf_trace_t *t, spf_mod_t m)
{
	return t->count == 1 && t->modifier && t->mod == m;
}

/* A term that queries DNS: the mechanisms of RFC 7208 §4.6.4, and redirect. */
static bool queries_dns(const spf_trace_t *t)
{
	return t->count == 1 && (t->modifier ? t->mod == SPF_MOD_REDIRECT :
		spf_mech_queries_dns(t->mech));
}

static const spf_trace_t *child_of_kind(const spf_trace_t *t, spf_trace_kind_t kind)
{
	for (const spf_trace_t *k = t->first; k != NULL; k = k->next)
		if (k->kind == kind)
			return k;
	return NULL;
}

/* Mark the terms that decided, from the root down through matching
 * includes, redirects and errors. */
static void mark_deciding(struct ctx *c, const spf_trace_t *check)
{
	while (check != NULL) {
		const spf_trace_t *next = NULL;

		for (const spf_trace_t *t = check->first; t != NULL; t = t->next) {
			bool redirect;

			if (t->kind != SPF_TRACE_TERM)
				continue;
			redirect = is_mod(t, SPF_MOD_REDIRECT);
			if (!t->decisive && t->outcome != SPF_TERM_ERROR &&
			    !(redirect && t->outcome == SPF_TERM_MATCH))
				continue;
			if (c->ndeciding < MAX_DECIDING)
				c->deciding[c->ndeciding++] = t;
			next = child_of_kind(t, SPF_TRACE_CHECK);
			break;
		}
		check = next;
	}
}

/* Counts at the moment an include or redirect was counted: the first
 * node inside its frame was stamped right after. */
static void term_counts(const spf_trace_t *t, unsigned *lookups, unsigned *voids)
{
	const spf_trace_t *sub = child_of_kind(t, SPF_TRACE_CHECK);

	*lookups = t->lookups;
	*voids = t->voids;
	if (sub != NULL && sub->first != NULL) {
		*lookups = sub->first->lookups;
		*voids = sub->first->voids;
	}
}

static const char *outcome_str(spf_term_outcome_t o)
{
	switch (o) {
	case SPF_TERM_MATCH: return "match";
	case SPF_TERM_NO_MATCH: return "no_match";
	case SPF_TERM_ERROR: return "error";
	case SPF_TERM_SKIPPED: return "skipped";
	default: return "not_reached";
	}
}

/* Why a term did not match, in words (NULL when the children say it). */
static const char *no_match_reason(const struct ctx *c, const spf_trace_t *t,
	bool was_void, char *buf, size_t len)
{
	const spf_trace_t *sub;

	if (is_mech(t, SPF_MECH_IP4) || is_mech(t, SPF_MECH_IP6)) {
		int fam = t->mech == SPF_MECH_IP4 ? 4 : 6;

		if (fam != c->id->req.ip.family)
			snprintf(buf, len, "an IPv%d network; the client is IPv%d", fam,
				c->id->req.ip.family);
		else
			snprintf(buf, len, "%s is not in %s", c->ip, t->value ? t->value : "it");
		return buf;
	}
	if (is_mech(t, SPF_MECH_INCLUDE) && (sub = child_of_kind(t, SPF_TRACE_CHECK)) != NULL) {
		snprintf(buf, len, "%s gave %s; only pass matches", sub->label,
			spf_result_str(sub->result));
		return buf;
	}
	if (was_void) {
		snprintf(buf, len, "the lookup found nothing (a void lookup)");
		return buf;
	}
	if (is_mech(t, SPF_MECH_A) || is_mech(t, SPF_MECH_MX)) {
		snprintf(buf, len, "%s is not among the addresses", c->ip);
		return buf;
	}
	if (is_mech(t, SPF_MECH_PTR)) {
		snprintf(buf, len, "no validated host name of %s is in the domain", c->ip);
		return buf;
	}
	return NULL;
}

/* ---- text ---- */

static void dns_line(const struct ctx *c, const spf_trace_t *t)
{
	const char *d = t->detail;

	fprintf(c->out, "%s", on(c, S_CYAN));
	put(c, t->label);
	fprintf(c->out, "%s → ", off(c));
	if (!t->answered || d == NULL) {
		fputs("(no answer)", c->out);
	} else {
		bool ok = t->status == SPF_DNS_OK;

		if (!ok)
			fprintf(c->out, "%s", on(c, S_YELLOW));
		put(c, d);
		if (!ok)
			fprintf(c->out, "%s", off(c));
		else
			fprintf(c->out, "  (TTL %u)", (unsigned)t->ttl);
	}
}

/* What happened to term t, in words: the outcome and the reason
 * ("no match: 192.0.2.99 is not in 192.0.2.0/28", "match → fail"). */
static void term_words(const struct ctx *c, const spf_trace_t *t, unsigned lk,
	unsigned vd, bool was_void)
{
	bool modifier = t->modifier;
	const spf_trace_t *sub = child_of_kind(t, SPF_TRACE_CHECK);
	spf_result_t qr = spf_qualifier_result(t->qualifier);
	char why[512];

	if (is_mod(t, SPF_MOD_EXP)) {
		fprintf(c->out, "%smodifier: where the explanation for fail comes from%s",
			on(c, S_DIM), off(c));
	} else if (modifier && t->mod != SPF_MOD_REDIRECT) {
		fprintf(c->out, "%sunknown modifier, ignored (RFC 7208 §6)%s", on(c, S_DIM), off(c));
	} else if (is_mod(t, SPF_MOD_REDIRECT)) {
		if (t->outcome == SPF_TERM_MATCH && sub != NULL)
			fprintf(c->out, "followed: the result of %s is the result → %s%s%s",
				sub->label, on(c, result_style(sub->result)),
				spf_result_str(sub->result), off(c));
		else if (t->outcome == SPF_TERM_ERROR)
			fprintf(c->out, "%serror%s", on(c, S_MAGENTA), off(c));
		else if (t->detail != NULL)
			fprintf(c->out, "%s%s%s", on(c, S_DIM), t->detail, off(c));
		else
			fprintf(c->out, "%snot used (a mechanism matched first)%s", on(c, S_DIM),
				off(c));
	} else {
		switch (t->outcome) {
		case SPF_TERM_MATCH:
			if (is_mech(t, SPF_MECH_INCLUDE) && sub != NULL)
				fprintf(c->out, "match (%s gave pass) → ", sub->label);
			else
				fputs("match → ", c->out);
			fprintf(c->out, "%s%s%s", on(c, result_style(qr)), spf_result_str(qr),
				off(c));
			break;
		case SPF_TERM_NO_MATCH: {
			const char *r = no_match_reason(c, t, was_void, why, sizeof(why));

			fputs("no match", c->out);
			if (r != NULL) {
				fputs(": ", c->out);
				put(c, r);
			}
			break;
		}
		case SPF_TERM_ERROR:
			/* the term that exceeded a limit says so, also when it
			 * is an include followed past the limit for the picture */
			fprintf(c->out, "%serror%s", on(c, S_MAGENTA), off(c));
			if (lk > 10 && !t->beyond_limit)
				fputs(": one DNS-querying term too many (RFC 7208 §4.6.4)", c->out);
			else if (vd > c->void_limit && !t->beyond_limit)
				fputs(": one void lookup too many (RFC 7208 §4.6.4)", c->out);
			else if (t->detail != NULL) {
				fputs(": ", c->out);
				put(c, t->detail);
			} else if (sub != NULL)
				fprintf(c->out, ": %s gave %s", sub->label, spf_result_str(sub->result));
			else if (lk > 10)
				fputs(": one DNS-querying term too many (RFC 7208 §4.6.4)", c->out);
			else if (vd > c->void_limit)
				fputs(": one void lookup too many (RFC 7208 §4.6.4)", c->out);
			break;
		case SPF_TERM_SKIPPED:
			fputs("skipped", c->out);
			break;
		default:
			fprintf(c->out, "%snot reached%s", on(c, S_DIM), off(c));
			break;
		}
	}
}

/* The term line: text, outcome and reason, counters, deciding mark. */
static void term_line(const struct ctx *c, const spf_trace_t *t, size_t pad,
	unsigned *prev_voids)
{
	bool deciding = is_deciding(c, t);
	bool modifier = t->modifier;
	const spf_trace_t *sub = child_of_kind(t, SPF_TRACE_CHECK);
	spf_result_t qr = spf_qualifier_result(t->qualifier);
	unsigned lk, vd;
	bool was_void = false;

	term_counts(t, &lk, &vd);
	if (t->outcome != SPF_TERM_NOT_REACHED && !modifier) {
		was_void = t->voids > *prev_voids && !sub;
		*prev_voids = t->voids;
	}
	if (deciding)
		fprintf(c->out, "%s%s", on(c, S_BOLD), on(c, t->outcome == SPF_TERM_ERROR ?
			S_MAGENTA : result_style(qr)));
	else if (t->outcome == SPF_TERM_NOT_REACHED)
		fprintf(c->out, "%s", on(c, S_DIM));
	put(c, t->label);
	fprintf(c->out, "%s", off(c));
	for (size_t w = width(t->label); w < pad; w++)
		fputc(' ', c->out);
	fputs("  ", c->out);

	term_words(c, t, lk, vd, was_void);
	if (queries_dns(t) && t->outcome != SPF_TERM_NOT_REACHED &&
	    !(modifier && t->outcome != SPF_TERM_MATCH && t->outcome != SPF_TERM_ERROR)) {
		bool over = lk > 10 || vd > c->void_limit;

		fprintf(c->out, "  %s[lookups %u/10, void %u/%u]%s",
			on(c, over ? S_MAGENTA : S_DIM), lk, vd, c->void_limit, off(c));
	}
	if (t->count > 1)
		fprintf(c->out, "  %s[bytes %zu-%zu of the record]%s", on(c, S_DIM),
			t->offset, t->offset + t->len - 1, off(c));
	if (t->beyond_limit)
		fprintf(c->out, "  %s(beyond the limit: not used for the result)%s",
			on(c, S_MAGENTA), off(c));
	if (deciding)
		fprintf(c->out, "  %s◀ decides%s", on(c, S_BOLD), off(c));
}

/* The record line of a check frame: "domain  record (TTL n): "..."". */
static const spf_trace_t *check_record(const spf_trace_t *check)
{
	return child_of_kind(check, SPF_TRACE_RECORD);
}

static void check_line(const struct ctx *c, const spf_trace_t *check, bool nested)
{
	const spf_trace_t *rec = check_record(check);

	fprintf(c->out, "%s", on(c, S_BOLD));
	put(c, check->label);
	fprintf(c->out, "%s", off(c));
	if (rec != NULL) {
		size_t len = strlen(rec->label);

		fprintf(c->out, "  record (TTL %u): ", (unsigned)rec->ttl);
		if (len > RECORD_SHOWN) {
			/* a record of thousands of terms: its start and size;
			 * --json has the whole text */
			char head[RECORD_SHOWN / 2 + 1];

			memcpy(head, rec->label, RECORD_SHOWN / 2);
			head[RECORD_SHOWN / 2] = '\0';
			put(c, head);
			fprintf(c->out, "... (%zu bytes)", len);
		} else {
			put(c, rec->label);
		}
	} else if (check->records > 1) {
		fprintf(c->out, "  %s%s%smore than one v=spf1 record (%u published; "
			"RFC 7208 §4.5)", on(c, S_MAGENTA), nested ? "" : "permerror: ",
			off(c), check->records);
	} else if (check->result == SPF_RESULT_TEMPERROR) {
		fprintf(c->out, "  %s%s%sthe SPF record could not be fetched",
			on(c, S_MAGENTA), nested ? "" : "temperror: ", off(c));
	} else {
		fputs("  no SPF record", c->out);
	}
	if (nested)
		fprintf(c->out, "  → %s%s%s", on(c, result_style(check->result)),
			spf_result_str(check->result), off(c));
	if (check->beyond_limit)
		fprintf(c->out, "  %s(beyond the limit: not used for the result)%s",
			on(c, S_MAGENTA), off(c));
}

/* Is child k of check shown?  The TXT query is shown through the record
 * line when a record was selected. */
static bool visible(const spf_trace_t *parent, const spf_trace_t *k)
{
	if (parent->kind != SPF_TRACE_CHECK)
		return true;
	if (k->kind == SPF_TRACE_RECORD)
		return false;
	if (k->kind == SPF_TRACE_DNS && k == parent->first && check_record(parent) != NULL &&
	    k->detail != NULL && strcmp(k->detail, check_record(parent)->label) == 0)
		return false;
	return true;
}

static void render_children(const struct ctx *c, const spf_trace_t *parent,
	char *prefix, size_t plen, size_t pmax, unsigned *prev_voids);

static void render_node(const struct ctx *c, const spf_trace_t *t, size_t pad,
	char *prefix, size_t plen, size_t pmax, unsigned *prev_voids)
{
	switch (t->kind) {
	case SPF_TRACE_TERM:
		term_line(c, t, pad, prev_voids);
		break;
	case SPF_TRACE_DNS:
		dns_line(c, t);
		break;
	case SPF_TRACE_CHECK:
		check_line(c, t, true);
		break;
	case SPF_TRACE_EXP:
		fputs("explanation from ", c->out);
		put(c, t->label);
		break;
	case SPF_TRACE_NOTE:
		fprintf(c->out, "%snote:%s ", on(c, S_YELLOW), off(c));
		put(c, t->label);
		break;
	case SPF_TRACE_RECORD:
		put(c, t->label);
		break;
	}
	fputc('\n', c->out);
	render_children(c, t, prefix, plen, pmax, prev_voids);
}

static void render_children(const struct ctx *c, const spf_trace_t *parent,
	char *prefix, size_t plen, size_t pmax, unsigned *prev_voids)
{
	const spf_trace_t *last = NULL;
	size_t pad = 0;

	for (const spf_trace_t *k = parent->first; k != NULL; k = k->next) {
		if (!visible(parent, k))
			continue;
		last = k;
		if (k->kind == SPF_TRACE_TERM && width(k->label) > pad)
			pad = width(k->label);
	}
	if (pad > 36)
		pad = 36;
	for (const spf_trace_t *k = parent->first; k != NULL; k = k->next) {
		static const char mid[] = "├─ ", end[] = "└─ ", bar[] = "│  ", sp[] = "   ";
		const char *glyph = k == last ? end : mid;
		const char *cont = k == last ? sp : bar;
		size_t add = strlen(cont);

		if (!visible(parent, k))
			continue;
		fprintf(c->out, "%s%s%s%s", on(c, S_DIM), prefix, glyph, off(c));
		if (plen + add + 1 > pmax) {
			fputs("...\n", c->out);
			continue;
		}
		memcpy(prefix + plen, cont, add + 1);
		render_node(c, k, pad, prefix, plen + add, pmax, prev_voids);
		prefix[plen] = '\0';
	}
}

static const spf_trace_t *find_term(const spf_trace_t *check, const char *text)
{
	for (const spf_trace_t *t = check->first; t != NULL; t = t->next)
		if (t->kind == SPF_TRACE_TERM && t->decisive && strcmp(t->label, text) == 0)
			return t;
	return NULL;
}

/* The last line: the result and why, in words. */
static void verdict(const struct ctx *c, const spf_trace_t *root)
{
	const spf_job_t *job = c->id->job;
	spf_result_t r = spf_job_result(job);
	const char *mech = spf_job_mechanism(job);
	const char *domain = spf_job_domain(job);

	fprintf(c->out, "%s%s%s%s: ", on(c, S_BOLD), on(c, result_style(r)),
		spf_result_str(r), off(c));
	if ((r == SPF_RESULT_PERMERROR || r == SPF_RESULT_TEMPERROR ||
	    r == SPF_RESULT_NONE) && spf_job_problem(job) != NULL) {
		put(c, spf_job_problem(job));
		if (r == SPF_RESULT_NONE)
			fputs(", so there is no SPF policy to apply", c->out);
		else if (r == SPF_RESULT_PERMERROR && strstr(spf_job_problem(job), "too many") != NULL)
			fputs("; the result is permerror at the limit whatever follows "
				"(terms after it are shown for the picture only)", c->out);
	} else if (mech == NULL || strcmp(mech, "default") == 0) {
		fprintf(c->out, "no term in the record of %s matched %s and there is no "
			"redirect=, so the result is neutral (RFC 7208 §4.7)",
			domain ? domain : spf_job_start_domain(job), c->ip);
	} else {
		const spf_trace_t *check = NULL, *term = NULL;
		size_t earlier = 0;
		const char *sep = " (";

		/* the frame that decided: the last deciding CHECK on the path */
		for (size_t i = 0; i < c->ndeciding; i++) {
			const spf_trace_t *p = c->deciding[i]->parent;

			if (p != NULL && strcmp(p->label, domain ? domain : "") == 0 &&
			    find_term(p, mech) == c->deciding[i]) {
				check = p;
				term = c->deciding[i];
			}
		}
		fprintf(c->out, "%s matched ", c->ip);
		put(c, mech);
		fprintf(c->out, " in the record of %s", domain ? domain : "?");
		if (term != NULL) {
			const spf_trace_t *inner = child_of_kind(term, SPF_TRACE_CHECK);

			if (inner != NULL && is_mech(term, SPF_MECH_INCLUDE)) {
				for (size_t i = 0; i < c->ndeciding; i++) {
					if (c->deciding[i]->parent == inner) {
						fprintf(c->out, "%sthrough ", sep);
						put(c, c->deciding[i]->label);
						fprintf(c->out, " in the record of %s", inner->label);
						sep = "; ";
					}
				}
			}
			for (const spf_trace_t *t = check->first; t != NULL && t != term; t = t->next)
				if (t->kind == SPF_TRACE_TERM && !t->modifier)
					earlier++;
			fprintf(c->out, "%s%s", sep, earlier ? "no earlier term matched" :
				"it is the first term");
			sep = "; ";
		}
		/* through which redirects */
		for (const spf_trace_t *p = check ? check : NULL; p != NULL && p != root;
		     p = p->parent ? p->parent->parent : NULL) {
			const spf_trace_t *via = p->parent;

			if (via != NULL && via->kind == SPF_TRACE_TERM && is_mod(via, SPF_MOD_REDIRECT)) {
				fprintf(c->out, "%sreached through ", sep);
				put(c, via->label);
				fprintf(c->out, " in the record of %s", via->parent ? via->parent->label : "?");
				sep = "; ";
			}
		}
		if (strcmp(sep, "; ") == 0)
			fputc(')', c->out);
	}
	fputc('\n', c->out);
}

static void explain_text(struct ctx *c)
{
	const spf_job_t *job = c->id->job;
	const spf_trace_t *root = spf_job_trace(job);
	const spf_request_t *req = &c->id->req;
	char prefix[256] = "";
	unsigned prev_voids = 0;

	if (req->identity == SPF_IDENTITY_HELO)
		fprintf(c->out, "%sHELO identity%s: ", on(c, S_BOLD), off(c));
	else
		fprintf(c->out, "%sMAIL FROM identity%s: ", on(c, S_BOLD), off(c));
	put(c, spf_job_sender(job));
	fprintf(c->out, ", client %s", c->ip);
	if (req->helo != NULL && *req->helo) {
		fputs(", HELO ", c->out);
		put(c, req->helo);
	}
	fputc('\n', c->out);
	if (root == NULL) {
		verdict(c, NULL);
		return;
	}
	mark_deciding(c, root);
	check_line(c, root, false);
	fputc('\n', c->out);
	render_children(c, root, prefix, 0, sizeof(prefix), &prev_voids);
	if (spf_job_explanation(job) != NULL) {
		fputs("explanation: ", c->out);
		put(c, spf_job_explanation(job));
		fputc('\n', c->out);
	}
	fprintf(c->out, "lookups %u/10, void lookups %u/%u\n", spf_job_lookups(job),
		spf_job_void_lookups(job), c->void_limit);
	verdict(c, root);
}

static void ctx_init(struct ctx *c, const struct cmd_ident *id, bool color);

/* ---- Graphviz dot: the same tree as a graph ---- */

static const char *dot_color(spf_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return "darkgreen";
	case SPF_RESULT_FAIL: return "red3";
	case SPF_RESULT_SOFTFAIL: return "darkorange3";
	case SPF_RESULT_NEUTRAL:
	case SPF_RESULT_NONE: return "blue3";
	default: return "magenta3";
	}
}

/* One node of the trace and its children, as dot statements; *id
 * numbers the nodes (prefix keeps the identities apart). */
static void dot_node(const struct ctx *c, const spf_trace_t *t,
	const char *prefix, unsigned parent, unsigned *id)
{
	unsigned me = ++*id;
	FILE *o = c->out;

	switch (t->kind) {
	case SPF_TRACE_CHECK: {
		const spf_trace_t *rec = check_record(t);

		fprintf(o, "\t\t%s%u [shape=box, style=\"rounded,bold\", color=%s, "
			"label=\"", prefix, me, dot_color(t->result));
		cmd_dot_string(o, t->label);
		if (rec != NULL) {
			char head[97];

			snprintf(head, sizeof(head), "%s", rec->label);
			fputs("\\n", o);
			cmd_dot_string(o, head);
			if (strlen(rec->label) >= sizeof(head))
				fputs("...", o);
		} else {
			fputs("\\nno usable SPF record", o);
		}
		fprintf(o, "\\n→ %s", spf_result_str(t->result));
		if (t->beyond_limit)
			fputs("\\n(beyond the limit)", o);
		fputs("\"];\n", o);
		break;
	}
	case SPF_TRACE_TERM: {
		bool deciding = is_deciding(c, t);
		spf_result_t qr = spf_qualifier_result(t->qualifier);

		fprintf(o, "\t\t%s%u [shape=box, label=\"", prefix, me);
		cmd_dot_string(o, t->label);
		fprintf(o, "\\n%s", t->outcome == SPF_TERM_MATCH ? "match" :
			t->outcome == SPF_TERM_NO_MATCH ? "no match" :
			t->outcome == SPF_TERM_ERROR ? "error" :
			t->outcome == SPF_TERM_SKIPPED ? "skipped" : "not reached");
		if (t->outcome == SPF_TERM_MATCH && !t->modifier && t->count == 1)
			fprintf(o, " → %s", spf_result_str(qr));
		if (queries_dns(t) && t->outcome != SPF_TERM_NOT_REACHED) {
			unsigned lk, vd;

			term_counts(t, &lk, &vd);
			fprintf(o, "\\nlookups %u/10, void %u/%u", lk, vd, c->void_limit);
		}
		fputc('"', o);
		if (deciding)
			fprintf(o, ", penwidth=2.5, color=%s, fontcolor=%s",
				t->outcome == SPF_TERM_ERROR ? "magenta3" : dot_color(qr),
				t->outcome == SPF_TERM_ERROR ? "magenta3" : dot_color(qr));
		else if (t->outcome == SPF_TERM_NOT_REACHED || t->beyond_limit)
			fputs(", style=dashed, color=gray50, fontcolor=gray50", o);
		fputs("];\n", o);
		break;
	}
	case SPF_TRACE_NOTE:
		fprintf(o, "\t\t%s%u [shape=note, label=\"", prefix, me);
		cmd_dot_string(o, t->label);
		fputs("\"];\n", o);
		break;
	default:
		/* DNS answers, the record, the explanation: in the text view */
		--*id;
		return;
	}
	if (parent != 0)
		fprintf(o, "\t\t%s%u -> %s%u;\n", prefix, parent, prefix, me);
	for (const spf_trace_t *k = t->first; k != NULL; k = k->next)
		dot_node(c, k, prefix, me, id);
}

static void explain_dot_ident(struct ctx *c, const char *prefix)
{
	const spf_job_t *job = c->id->job;
	const spf_trace_t *root = spf_job_trace(job);
	unsigned id = 0;

	fprintf(c->out, "\tsubgraph cluster_%s {\n\t\tlabel=\"%s identity: ",
		prefix, c->id->req.identity == SPF_IDENTITY_HELO ? "HELO" : "MAIL FROM");
	cmd_dot_string(c->out, spf_job_sender(job));
	fprintf(c->out, ", client %s → %s\";\n", c->ip,
		spf_result_str(spf_job_result(job)));
	if (root != NULL) {
		mark_deciding(c, root);
		dot_node(c, root, prefix, 0, &id);
	}
	if (id == 0)    /* a cluster needs a node: the result alone */
		fprintf(c->out, "\t\t%s0 [shape=box, label=\"%s\"];\n", prefix,
			spf_result_str(spf_job_result(job)));
	fputs("\t}\n", c->out);
}

static void explain_dot(const struct cmd_eval *ev)
{
	struct ctx c;

	fputs("digraph spf {\n"
		"\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=11];\n"
		"\tnode [fontname=\"Helvetica\", fontsize=10];\n", stdout);
	if (ev->helo.used && ev->helo.job) {
		ctx_init(&c, &ev->helo, false);
		explain_dot_ident(&c, "helo");
	}
	if (ev->mfrom.used && ev->mfrom.job) {
		ctx_init(&c, &ev->mfrom, false);
		explain_dot_ident(&c, "mfrom");
	}
	fputs("}\n", stdout);
}

/* ---- HTML: the same tree as a page (issue 20) ---- */

/* What a text formatter of this file writes for one node, without
 * colour, written as HTML text: the same words as the text view. */
enum words { W_TERM, W_VERDICT };

static void html_words(const struct ctx *c, enum words w, const spf_trace_t *t,
	unsigned lk, unsigned vd, bool was_void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct ctx v = *c;

	if (mem == NULL)
		return;
	v.out = mem;
	v.color = false;
	if (w == W_TERM)
		term_words(&v, t, lk, vd, was_void);
	else
		verdict(&v, t);
	fclose(mem);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	html_textn(c->out, buf, len);
	free(buf);
}

/* Is a deciding term inside frame check (its own terms)? */
static bool frame_decides(const struct ctx *c, const spf_trace_t *check)
{
	for (size_t i = 0; i < c->ndeciding; i++)
		if (c->deciding[i]->parent == check)
			return true;
	return false;
}

static void h_children(const struct ctx *c, const spf_trace_t *parent,
	unsigned *prev_voids);

/* The line of a frame: domain, its record with the TTL, its result. */
static void h_check(const struct ctx *c, const spf_trace_t *check, bool nested)
{
	const spf_trace_t *rec = check_record(check);
	FILE *o = c->out;

	fputs("<b class=\"domain\">", o);
	html_text(o, check->label);
	fputs("</b> ", o);
	if (rec != NULL) {
		fprintf(o, "<span class=\"ttl\">record (TTL %u)</span> <code "
			"class=\"record\">", (unsigned)rec->ttl);
		html_text(o, rec->label);
		fputs("</code>", o);
	} else if (check->records > 1) {
		fprintf(o, "<span class=\"over\">more than one v=spf1 record "
			"(%u published; RFC 7208 §4.5)</span>", check->records);
	} else if (check->result == SPF_RESULT_TEMPERROR) {
		fputs("<span class=\"over\">the SPF record could not be "
			"fetched</span>", o);
	} else {
		fputs("<span class=\"dim\">no SPF record</span>", o);
	}
	if (nested) {
		fputs(" → ", o);
		html_result(o, spf_result_str(check->result));
	}
	if (check->beyond_limit)
		fputs(" <span class=\"beyond\">(beyond the limit: not used for "
			"the result)</span>", o);
}

static void h_term(const struct ctx *c, const spf_trace_t *t, unsigned *prev_voids)
{
	bool deciding = is_deciding(c, t);
	const spf_trace_t *sub = child_of_kind(t, SPF_TRACE_CHECK);
	unsigned lk, vd;
	bool was_void = false;
	FILE *o = c->out;

	term_counts(t, &lk, &vd);
	if (t->outcome != SPF_TERM_NOT_REACHED && !t->modifier) {
		was_void = t->voids > *prev_voids && !sub;
		*prev_voids = t->voids;
	}
	fprintf(o, "<span class=\"term o-%s%s%s\"><code>", outcome_str(t->outcome),
		deciding ? " deciding" : "", t->beyond_limit ? " beyond" : "");
	html_text(o, t->label);
	fputs("</code> ", o);
	html_words(c, W_TERM, t, lk, vd, was_void);
	fputs("</span>", o);
	if (queries_dns(t) && t->outcome != SPF_TERM_NOT_REACHED &&
	    !(t->modifier && t->outcome != SPF_TERM_MATCH &&
	    t->outcome != SPF_TERM_ERROR))
		fprintf(o, " <span class=\"cnt%s\">[lookups %u/10, void %u/%u]</span>",
			lk > 10 || vd > c->void_limit ? " over" : "", lk, vd,
			c->void_limit);
	if (t->count > 1)
		fprintf(o, " <span class=\"cnt\">[%u terms, bytes %zu-%zu of the "
			"record]</span>", t->count, t->offset, t->offset + t->len - 1);
	if (t->beyond_limit)
		fputs(" <span class=\"beyond\">(beyond the limit: not used for "
			"the result)</span>", o);
	if (deciding)
		fputs(" <span class=\"decides\">◀ decides</span>", o);
}

static void h_node(const struct ctx *c, const spf_trace_t *t, unsigned *prev_voids)
{
	FILE *o = c->out;

	switch (t->kind) {
	case SPF_TRACE_TERM:
		fputs("<li>", o);
		h_term(c, t, prev_voids);
		break;
	case SPF_TRACE_DNS:
		fputs("<li class=\"dns\"><code>", o);
		html_text(o, t->label);
		fputs("</code> → ", o);
		if (!t->answered || t->detail == NULL) {
			fputs("<span class=\"over\">(no answer)</span>", o);
		} else if (t->status != SPF_DNS_OK) {
			fputs("<span class=\"over\">", o);
			html_text(o, t->detail);
			fputs("</span>", o);
		} else {
			fputs("<span class=\"answer\">", o);
			html_text(o, t->detail);
			fprintf(o, "</span> <span class=\"ttl\">TTL %u</span>",
				(unsigned)t->ttl);
		}
		break;
	case SPF_TRACE_CHECK:
		/* a frame: open when it holds the deciding term or failed */
		fprintf(o, "<li class=\"frame\"><details%s><summary>",
			frame_decides(c, t) || t->result == SPF_RESULT_PERMERROR ||
			t->result == SPF_RESULT_TEMPERROR ? " open" : "");
		h_check(c, t, true);
		fputs("</summary>\n", o);
		h_children(c, t, prev_voids);
		fputs("</details></li>\n", o);
		return;
	case SPF_TRACE_EXP:
		fputs("<li class=\"exp\">explanation from <code>", o);
		html_text(o, t->label);
		fputs("</code>", o);
		break;
	case SPF_TRACE_NOTE:
		fputs("<li class=\"note\">note: ", o);
		html_text(o, t->label);
		break;
	case SPF_TRACE_RECORD:
		fputs("<li class=\"record\"><code>", o);
		html_text(o, t->label);
		fputs("</code>", o);
		break;
	}
	fputc('\n', o);
	h_children(c, t, prev_voids);
	fputs("</li>\n", o);
}

static void h_children(const struct ctx *c, const spf_trace_t *parent,
	unsigned *prev_voids)
{
	bool any = false;

	for (const spf_trace_t *k = parent->first; k != NULL; k = k->next) {
		if (k->kind == SPF_TRACE_RECORD && parent->kind == SPF_TRACE_CHECK)
			continue;   /* on the frame's line */
		if (!any)
			fputs("<ul class=\"tree\">\n", c->out);
		any = true;
		h_node(c, k, prev_voids);
	}
	if (any)
		fputs("</ul>\n", c->out);
}

/* The deciding term of the frame that decided, or NULL. */
static const spf_trace_t *last_deciding(const struct ctx *c)
{
	return c->ndeciding > 0 ? c->deciding[c->ndeciding - 1] : NULL;
}

/* The body of one identity: the verdict, the cards, the explanation and
 * the tree, sub-headings at level h. */
static void html_ident_body(struct ctx *c, int h)
{
	const spf_job_t *job = c->id->job;
	const spf_trace_t *root = spf_job_trace(job);
	const spf_trace_t *d;
	unsigned prev_voids = 0, lk = spf_job_lookups(job),
		vd = spf_job_void_lookups(job);
	FILE *o = c->out;

	if (h < 1 || h > 6)
		h = 6;
	if (root != NULL)
		mark_deciding(c, root);
	d = last_deciding(c);
	fputs("<p class=\"verdict\">", o);
	html_words(c, W_VERDICT, root, 0, 0, false);
	fputs("</p>\n<div class=\"cards\">\n<div class=\"card\"><span>result</span>"
		"<b>", o);
	html_result(o, spf_result_str(spf_job_result(job)));
	fprintf(o, "</b></div>\n<div class=\"card%s\"><span>DNS lookups "
		"(RFC 7208 §4.6.4)</span><b class=\"lookups\">%u/10</b></div>\n",
		lk > 10 ? " over" : "", lk);
	fprintf(o, "<div class=\"card%s\"><span>void lookups</span><b "
		"class=\"voids\">%u/%u</b></div>\n", vd > c->void_limit ? " over" : "",
		vd, c->void_limit);
	if (d != NULL) {
		fputs("<div class=\"card\"><span>deciding term</span><b><code>", o);
		html_text(o, d->label);
		fputs("</code></b></div>\n", o);
	}
	fputs("</div>\n", o);
	if (spf_job_explanation(job) != NULL) {
		fprintf(o, "<h%d>Explanation</h%d>\n<blockquote class=\"explanation\">",
			h, h);
		html_text(o, spf_job_explanation(job));
		fputs("</blockquote>\n", o);
	}
	if (root != NULL) {
		fprintf(o, "<h%d>Evaluation</h%d>\n<div class=\"top\">", h, h);
		h_check(c, root, false);
		fputs("</div>\n", o);
		h_children(c, root, &prev_voids);
	}
}

void cmd_explain_html_body(FILE *o, const struct cmd_ident *id, int heading)
{
	struct ctx c;

	if (id == NULL || id->job == NULL)
		return;
	ctx_init(&c, id, false);
	c.out = o;
	html_ident_body(&c, heading);
}

static void explain_html_ident(struct ctx *c)
{
	const spf_request_t *req = &c->id->req;
	FILE *o = c->out;

	fprintf(o, "<section class=\"identity\" id=\"%s\">\n<h2>%s identity: <code>",
		req->identity == SPF_IDENTITY_HELO ? "helo" : "mfrom",
		req->identity == SPF_IDENTITY_HELO ? "HELO" : "MAIL FROM");
	html_text(o, spf_job_sender(c->id->job));
	fprintf(o, "</code>, client <code>%s</code>", c->ip);
	if (req->helo != NULL && *req->helo) {
		fputs(", HELO <code>", o);
		html_text(o, req->helo);
		fputs("</code>", o);
	}
	fputs("</h2>\n", o);
	html_ident_body(c, 3);
	fputs("</section>\n", o);
}

/* Text another formatter of cmd/ writes (fn with its argument), as
 * preformatted HTML. */
static void html_pre(FILE *o, const char *cls, void (*fn)(FILE *, const void *),
	const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (mem == NULL)
		return;
	fn(mem, arg);
	fclose(mem);
	fprintf(o, "<pre class=\"%s\">", cls);
	html_textn(o, buf, len);
	fputs("</pre>\n", o);
	free(buf);
}

static void other_fn(FILE *f, const void *arg)
{
	cmd_other_line(f, arg);
}

static void dmarc_fn(FILE *f, const void *arg)
{
	cmd_dmarc_section(f, arg);
}

struct hdr_arg {
	const struct cmd_eval *ev;
	enum cmd_headers hdrs;
	const char *receiver, *authserv_id;
};

static void headers_fn(FILE *f, const void *arg)
{
	const struct hdr_arg *h = arg;

	(void)cmd_headers(h->ev, h->hdrs, h->receiver, h->authserv_id, f, NULL);
}

static void explain_html(FILE *o, const struct cmd_eval *ev,
	const struct cmd_other *other, const spf_dmarc_view_t *dmarc,
	const struct hdr_arg *hdr)
{
	const struct cmd_ident *pri = cmd_eval_primary(ev);
	const char *res = spf_result_str(spf_job_result(pri->job));
	char ip[64], *title = NULL;
	size_t tlen = 0;
	FILE *t = open_memstream(&title, &tlen);
	struct ctx c;

	spf_addr_str(&pri->req.ip, ip, sizeof(ip));
	if (t != NULL) {
		fprintf(t, "SPF %s: %s from %s (spfcheck explain)", res,
			spf_job_sender(pri->job), ip);
		fclose(t);
	}
	html_begin(o, title != NULL ? title : "spfcheck explain", "spfcheck explain");
	free(title);
	fputs("<header>\n<h1>SPF ", o);
	html_result(o, res);
	fputs(" for <code>", o);
	html_text(o, spf_job_sender(pri->job));
	fprintf(o, "</code> from <code>%s</code></h1>\n<p class=\"sub\">spfcheck "
		"explain: every term in record order, every DNS answer with its "
		"TTL, the lookup counts (RFC 7208 §4.6.4); the deciding term is "
		"highlighted.</p>\n</header>\n", ip);
	if (ev->helo.used && ev->helo.job) {
		ctx_init(&c, &ev->helo, false);
		c.out = o;
		explain_html_ident(&c);
	}
	if (ev->mfrom.used && ev->mfrom.job) {
		ctx_init(&c, &ev->mfrom, false);
		c.out = o;
		explain_html_ident(&c);
	}
	if (other != NULL) {
		fputs("<h2>Other receivers</h2>\n", o);
		html_pre(o, "other", other_fn, other);
	}
	if (dmarc != NULL) {
		fputs("<h2>DMARC</h2>\n", o);
		html_pre(o, "dmarc", dmarc_fn, dmarc);
	}
	if (hdr->hdrs != CMD_HDR_NONE) {
		fputs("<h2>Header fields</h2>\n", o);
		html_pre(o, "headers", headers_fn, hdr);
	}
	html_end(o);
}

/* ---- JSON: the same tree as data ---- */

static json_t *tree_json(const struct ctx *c, const spf_trace_t *t)
{
	json_t *o = json_object(), *kids = NULL;

	switch (t->kind) {
	case SPF_TRACE_CHECK:
		json_object_set_new(o, "kind", json_string("check"));
		json_object_set_new(o, "role", cmd_json_text(t->role));
		json_object_set_new(o, "domain", cmd_json_text(t->label));
		if (t->detail != NULL)
			json_object_set_new(o, "sender", cmd_json_text(t->detail));
		json_object_set_new(o, "result", json_string(spf_result_str(t->result)));
		json_object_set_new(o, "lookups", json_integer(t->lookups));
		json_object_set_new(o, "void_lookups", json_integer(t->voids));
		json_object_set_new(o, "records", json_integer(t->records));
		json_object_set_new(o, "beyond_limit", json_boolean(t->beyond_limit));
		break;
	case SPF_TRACE_RECORD:
		json_object_set_new(o, "kind", json_string("record"));
		json_object_set_new(o, "text", t->raw != NULL ?
			cmd_json_textn((const char *)t->raw, t->raw_len) : cmd_json_text(t->label));
		json_object_set_new(o, "ttl", json_integer(t->ttl));
		break;
	case SPF_TRACE_TERM: {
		unsigned lk, vd;

		term_counts(t, &lk, &vd);
		json_object_set_new(o, "kind", json_string("term"));
		json_object_set_new(o, "text", cmd_json_text(t->label));
		json_object_set_new(o, "modifier", json_boolean(t->modifier));
		json_object_set_new(o, "outcome", json_string(outcome_str(t->outcome)));
		json_object_set_new(o, "decisive", json_boolean(t->decisive));
		json_object_set_new(o, "beyond_limit", json_boolean(t->beyond_limit));
		json_object_set_new(o, "deciding", json_boolean(is_deciding(c, t)));
		if (queries_dns(t) && t->outcome != SPF_TERM_NOT_REACHED) {
			json_object_set_new(o, "lookups", json_integer(lk));
			json_object_set_new(o, "void_lookups", json_integer(vd));
		}
		if (t->detail != NULL)
			json_object_set_new(o, "detail", cmd_json_text(t->detail));
		if (t->count > 1) {
			/* a run summarised in one node (a record of over 2,000 terms) */
			json_object_set_new(o, "terms", json_integer(t->count));
			json_object_set_new(o, "offset", json_integer((json_int_t)t->offset));
			json_object_set_new(o, "length", json_integer((json_int_t)t->len));
		}
		break;
	}
	case SPF_TRACE_DNS:
		json_object_set_new(o, "kind", json_string("dns"));
		json_object_set_new(o, "type", json_string(spf_rrtype_str(t->rrtype)));
		json_object_set_new(o, "name", cmd_json_text(t->name));
		json_object_set_new(o, "status", json_string(t->answered ?
			spf_dns_status_str(t->status) : "NOANSWER"));
		json_object_set_new(o, "answer", cmd_json_text(t->detail));
		json_object_set_new(o, "ttl", json_integer(t->ttl));
		break;
	case SPF_TRACE_EXP:
		json_object_set_new(o, "kind", json_string("exp"));
		json_object_set_new(o, "modifier", cmd_json_text(t->label));
		break;
	case SPF_TRACE_NOTE:
		json_object_set_new(o, "kind", json_string("note"));
		json_object_set_new(o, "text", cmd_json_text(t->label));
		break;
	}
	for (const spf_trace_t *k = t->first; k != NULL; k = k->next) {
		if (kids == NULL)
			kids = json_array();
		json_array_append_new(kids, tree_json(c, k));
	}
	if (kids != NULL)
		json_object_set_new(o, "children", kids);
	return o;
}

/* The verdict line without colour, as a string for JSON. */
static json_t *verdict_json(struct ctx *c, const spf_trace_t *root)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct ctx v = *c;
	json_t *j;

	if (mem == NULL)
		return json_null();
	v.out = mem;
	v.color = false;
	verdict(&v, root);
	fclose(mem);
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	j = cmd_json_text(buf);
	free(buf);
	return j;
}

static void ctx_init(struct ctx *c, const struct cmd_ident *id, bool color)
{
	memset(c, 0, sizeof(*c));
	c->out = stdout;
	c->color = color;
	c->id = id;
	c->void_limit = id->req.void_limit ? id->req.void_limit : 2;
	spf_addr_str(&id->req.ip, c->ip, sizeof(c->ip));
}

static json_t *explain_json(const struct cmd_eval *ev)
{
	json_t *o = cmd_eval_json(ev), *ids;
	const struct cmd_ident *list[2] = { &ev->helo, &ev->mfrom };

	if (o == NULL)
		return NULL;
	ids = json_object_get(o, "identities");
	for (size_t i = 0; i < 2; i++) {
		const struct cmd_ident *id = list[i];
		const char *key = i == 0 ? "helo" : "mfrom";
		json_t *io = json_object_get(ids, key);
		struct ctx c;

		if (!id->used || id->job == NULL || io == NULL)
			continue;
		ctx_init(&c, id, false);
		if (spf_job_trace(id->job) != NULL)
			mark_deciding(&c, spf_job_trace(id->job));
		json_object_set_new(io, "verdict", verdict_json(&c, spf_job_trace(id->job)));
		json_object_set_new(io, "tree", spf_job_trace(id->job) ?
			tree_json(&c, spf_job_trace(id->job)) : json_null());
		if (id == cmd_eval_primary(ev))
			json_object_set(o, "verdict", json_object_get(io, "verdict"));
	}
	return o;
}

static bool want_color(const char *mode)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (strcmp(mode, "always") == 0)
		return true;
	if (strcmp(mode, "never") == 0)
		return false;
	if (nc != NULL && *nc != '\0')
		return false;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "helo", required_argument, NULL, 'H' },
		{ "identity", required_argument, NULL, 'I' },
		{ "color", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'C' },
		{ "header", required_argument, NULL, 'R' },
		{ "authserv-id", required_argument, NULL, 'A' },
		{ "debug", no_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "from", required_argument, NULL, 'F' },
		{ "dkim-domain", required_argument, NULL, 'K' },
		CMD_DMARC_ORG_OPTS,
		{ "help", no_argument, NULL, 'h' },
		CMD_VOID_COUNT_OPT,
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { 0 };
	spf_request_t req = { 0 };
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	struct cmd_eval ev = { 0 };
	struct cmd_dmarc_args da = { 0 };
	struct cmd_other other;
	bool other_differs = false;
	spf_dmarc_t *dmarc = NULL;
	/* as check: --helo alone fills %{h}, --identity says what is checked */
	enum cmd_identities ids = CMD_ID_MFROM;
	enum cmd_headers hdrs = CMD_HDR_NONE;
	const char *authserv_id = NULL, *color = "auto";
	enum cmd_format fmt = CMD_FMT_TEXT;
	const char *output = NULL;
	FILE *page = NULL;
	char *owned = NULL, *owned_helo = NULL;
	char why[512];
	spf_status_t st;
	int opt, rc = EXIT_USAGE, npos;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		int cr = cmd_dmarc_org_opt(&da, opt, optarg);

		if (cr < 0)
			return EXIT_USAGE;
		if (cr > 0)
			continue;
		cr = common_opt(&co, opt, optarg);

		if (cr < 0)
			return EXIT_USAGE;
		if (cr > 0)
			continue;
		switch (opt) {
		case 'H':
			req.helo = optarg;
			break;
		case 'I':
			if (!cmd_parse_identities(optarg, &ids))
				return EXIT_USAGE;
			break;
		case 'C':
			if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "always") != 0 &&
			    strcmp(optarg, "never") != 0) {
				cmd_error("--color must be auto, always or never, not '%s'",
					cmd_printable(optarg, why, sizeof(why)));
				return EXIT_USAGE;
			}
			color = optarg;
			break;
		case 'R':
			if (!cmd_parse_headers(optarg, &hdrs))
				return EXIT_USAGE;
			break;
		case 'A':
			authserv_id = optarg;
			break;
		case 'D':
			req.debug = stderr;
			break;
		case 'T':
			if (!cmd_parse_format(optarg, CMD_FMT_TEXT | CMD_FMT_DOT |
			    CMD_FMT_HTML, &fmt))
				return EXIT_USAGE;
			break;
		case 'o':
			output = optarg;
			break;
		case 'F':
		case 'K':
			if (!cmd_dmarc_arg(&da, opt == 'F', optarg))
				return EXIT_USAGE;
			break;
		case CMD_VOID_COUNT_VAL:
			if (!cmd_void_count_opt(optarg, &co.void_count))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(explain_usage, stdout);
			fputs(explain_usage2, stdout);
			return 0;
		default:   /* ':' (a value missing) or an unknown option */
			return cmd_option_error("explain", opt, argv[optind - 1]);
		}
	}
	if (fmt == CMD_FMT_DOT && (co.json || hdrs != CMD_HDR_NONE || da.from_arg != NULL)) {
		cmd_error("--format dot draws the evaluation tree only: not with %s",
			co.json ? "--json" : hdrs != CMD_HDR_NONE ? "--header" : "--from");
		return EXIT_USAGE;
	}
	if (fmt == CMD_FMT_HTML && co.json) {
		cmd_error("--format html is a page of its own: not with --json");
		return EXIT_USAGE;
	}
	if (output != NULL && fmt != CMD_FMT_HTML)
		return cmd_output_needs_html();
	npos = argc - optind;
	if (!cmd_operands("explain", argc, argv, optind, ids == CMD_ID_HELO ? 1 : 2, 2,
	    "IP and SENDER"))
		return EXIT_USAGE;
	if (!cmd_client_ip(argv[optind], &req.ip, why, sizeof(why))) {
		cmd_error("%s", why);
		return EXIT_USAGE;
	}
	if ((ids & CMD_ID_HELO) && (req.helo == NULL || *req.helo == '\0')) {
		cmd_error("--identity %s needs --helo NAME", ids == CMD_ID_HELO ? "helo" : "both");
		return EXIT_USAGE;
	}
	if (req.helo != NULL && (req.helo = cmd_helo(req.helo, &owned_helo, why,
	    sizeof(why))) == NULL) {
		cmd_error("%s", why);
		return EXIT_USAGE;
	}
	req.sender = npos == 2 ? cmd_sender(argv[optind + 1], &owned, why, sizeof(why)) : "";
	if (req.sender == NULL) {
		cmd_error("%s", why);
		goto out;
	}
	if (*req.sender == '\0' && (ids & CMD_ID_MFROM) && (req.helo == NULL || !*req.helo)) {
		cmd_error("a null sender (\"\") is checked as postmaster@HELO: give --helo NAME");
		goto out;
	}
	cmd_request_opts(&co, &req);
	/* show the whole tree even past a limit, marked (the result is
	 * still the limit's permerror) */
	req.trace_past_limits = true;
	if (fmt == CMD_FMT_HTML && (page = cmd_html_open(output)) == NULL) {
		rc = EXIT_CANTCREAT;
		goto out;
	}
	if (!cmd_dmarc_args_read(&da) || !cmd_resolver(&co, &base, &res))
		goto out;
	/* both traces are the output: both jobs are kept */
	st = cmd_evaluate(res, &req, ids, true, &ev);
	if (st != SPF_OK) {
		cmd_error("cannot evaluate: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
		goto out;
	}
	rc = spf_result_exit(spf_job_result(cmd_eval_primary(&ev)->job));
	/* the other void counting (pyspf, Mail::SPF; or RFC 7208) */
	other_differs = cmd_other_receivers(res, cmd_eval_primary(&ev), &other);
	/* DMARC's view of the SPF leg (issue 16): its own section, after
	 * the SPF trees */
	if (da.from != NULL && (dmarc = cmd_dmarc_run(res, &ev, &da)) == NULL) {
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (fmt == CMD_FMT_DOT) {
		explain_dot(&ev);
	} else if (fmt == CMD_FMT_HTML) {
		struct hdr_arg h = { &ev, hdrs, co.receiver, authserv_id };

		explain_html(page, &ev, other_differs ? &other : NULL,
			dmarc != NULL ? spf_dmarc_view(dmarc) : NULL, &h);
		if (!cmd_html_close(page, output))
			rc = EXIT_CANTCREAT;
		page = NULL;
	} else if (co.json) {
		json_t *o = explain_json(&ev);

		if (o != NULL)
			json_object_set_new(o, "other_receivers",
				cmd_other_json(other_differs ? &other : NULL));
		if (o != NULL && dmarc != NULL)
			json_object_set_new(o, "dmarc",
				cmd_dmarc_json(spf_dmarc_view(dmarc)));
		if (o == NULL || !cmd_headers(&ev, hdrs, co.receiver, authserv_id, stdout, o) ||
		    cmd_json_print(o, false) != 0) {
			cmd_error("cannot format JSON output");
			rc = EXIT_INTERNAL;
		}
		json_decref(o);
	} else {
		bool col = want_color(color);
		struct ctx c;

		if (ev.helo.used && ev.helo.job) {
			ctx_init(&c, &ev.helo, col);
			explain_text(&c);
		}
		if (ev.mfrom.used && ev.mfrom.job) {
			if (ev.helo.used)
				fputc('\n', stdout);
			ctx_init(&c, &ev.mfrom, col);
			explain_text(&c);
		}
		if (other_differs)
			cmd_other_line(stdout, &other);
		if (dmarc != NULL) {
			fputc('\n', stdout);
			cmd_dmarc_section(stdout, spf_dmarc_view(dmarc));
		}
		if (hdrs != CMD_HDR_NONE) {
			fputc('\n', stdout);
			if (!cmd_headers(&ev, hdrs, co.receiver, authserv_id, stdout, NULL))
				rc = EXIT_INTERNAL;
		}
	}
out:
	if (page != NULL && page != stdout)
		fclose(page);
	spf_dmarc_destroy(dmarc);
	cmd_eval_finish(&ev);
	cmd_resolver_free(base, res);
	cmd_dmarc_args_finish(&da);
	spf_free(owned);
	spf_free(owned_helo);
	return rc;
}
