/*
 * test_dmarc.c - DMARC (evaluator/dmarc/): the record parser on every
 * tag's syntax with the positions of its problems, the DNS Tree Walk of
 * RFC 9989 §4.10 on zone data (the queries made, the stop rules, the
 * Organizational Domain), policy discovery (author, Organizational
 * Domain, PSD; p, sp, np, t=y) and SPF/DKIM alignment, relaxed and
 * strict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "env.h"

#include "internal.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the record alone ---- */

static spf_dmarc_record_t *parse(spf_arena_t *a, const char *s)
{
	spf_dmarc_record_t *rec = NULL;

	assert_int_equal(spf_dmarc_parse(a, s, strlen(s), &rec), SPF_OK);
	assert_non_null(rec);
	return rec;
}

/* The first problem with rule, or NULL. */
static const spf_lint_finding_t *problem(const spf_dmarc_record_t *rec,
	const char *rule)
{
	for (size_t i = 0; i < rec->nproblems; i++)
		if (strcmp(rec->problems[i].rule, rule) == 0)
			return &rec->problems[i];
	return NULL;
}

struct version_case {
	const char *text;
	bool is_dmarc, lookalike;
	size_t offset;               /* of DM-02, when a look-alike */
};

static void test_version(void **state)
{
	static const struct version_case cases[] = {
		{ "v=DMARC1; p=none", true, false, 0 },
		{ "v=DMARC1", true, false, 0 },
		{ "v = DMARC1 ; p=none", true, false, 0 },
		{ "V=DMARC1; p=none", true, false, 0 },
		{ "v=DMARC1;", true, false, 0 },
		{ "v=dmarc1; p=none", false, true, 2 },
		{ " v=DMARC1; p=none", false, true, 0 },
		{ "v=DMARC10; p=none", false, true, 2 },
		{ "v=DMARC1 p=reject", false, true, 8 },
		{ "v=DMARC2; p=none", false, true, 0 },
		{ "v=spf1 -all", false, false, 0 },
		{ "", false, false, 0 },
		{ "google-site-verification=x", false, false, 0 },
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_arena_t *a = spf_arena_create();
		spf_dmarc_record_t *rec = parse(a, cases[i].text);
		const spf_lint_finding_t *f = problem(rec, "DM-02");

		if (rec->is_dmarc != cases[i].is_dmarc ||
		    rec->lookalike != cases[i].lookalike)
			fail_msg("'%s': is_dmarc %d lookalike %d", cases[i].text,
				rec->is_dmarc, rec->lookalike);
		if (cases[i].lookalike) {
			assert_non_null(f);
			if (f->offset != cases[i].offset)
				fail_msg("'%s': DM-02 at %zu, %zu expected",
					cases[i].text, f->offset, cases[i].offset);
		} else {
			assert_null(f);
		}
		spf_arena_destroy(a);
	}
}

struct tag_case {
	const char *text;
	spf_dmarc_policy_t p, sp, np;
	bool usable, downgraded;
	const char *rule;            /* a problem expected, or NULL: none
	                              * of severity error or warning */
	spf_lint_severity_t severity;
	size_t offset, len;          /* its span */
};

static void test_tags(void **state)
{
	static const struct tag_case cases[] = {
		{ "v=DMARC1; p=reject; sp=quarantine; np=reject", SPF_DMARC_REJECT,
		  SPF_DMARC_QUARANTINE, SPF_DMARC_REJECT, true, false, "DM-19",
		  SPF_LINT_INFO, 20, 13 },
		{ "v=DMARC1; p=REJECT", SPF_DMARC_REJECT, 0, 0, true, false, NULL, 0, 0, 0 },
		{ "v=DMARC1; p = Quarantine ;", SPF_DMARC_QUARANTINE, 0, 0, true,
		  false, NULL, 0, 0, 0 },
		{ "v=DMARC1; P=reject", SPF_DMARC_REJECT, 0, 0, true, false, "DM-06",
		  SPF_LINT_WARNING, 10, 1 },
		/* §4.7: a bad sp with a valid rua: p=none */
		{ "v=DMARC1; p=reject; sp=rejct; rua=mailto:a@example.com",
		  SPF_DMARC_REJECT, 0, 0, true, true, "DM-04", SPF_LINT_ERROR, 23, 5 },
		/* and without: no DMARC at all */
		{ "v=DMARC1; adkim=s", 0, 0, 0, false, false, "DM-04", SPF_LINT_ERROR, 0, 0 },
		{ "v=DMARC1; p=none; rua=mailto:d@example.com", SPF_DMARC_NONE, 0, 0,
		  true, false, "DM-21", SPF_LINT_WARNING, 10, 6 },
		{ "v=DMARC1; p=reject; rua=;", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-22", SPF_LINT_ERROR, 20, 4 },
		{ "v=DMARC1; p=reject; aspf=x", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-05", SPF_LINT_WARNING, 25, 1 },
		{ "v=DMARC1; p=reject; t=maybe", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-05", SPF_LINT_WARNING, 22, 5 },
		{ "v=DMARC1; p=reject; psd=x", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-05", SPF_LINT_WARNING, 24, 1 },
		{ "v=DMARC1; p=reject; fo=2", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-05", SPF_LINT_WARNING, 23, 1 },
		{ "v=DMARC1; p=reject; rua=https//x", SPF_DMARC_REJECT, 0, 0, true,
		  false, "DM-05", SPF_LINT_WARNING, 24, 8 },
		{ "v=DMARC1; p=reject; rua=mailto:d@example.com!10m",
		  SPF_DMARC_REJECT, 0, 0, true, false, "DM-10", SPF_LINT_INFO, 44, 4 },
		{ "v=DMARC1; p=reject; pct=50", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-07", SPF_LINT_WARNING, 24, 2 },
		{ "v=DMARC1; p=reject; pct=0", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-08", SPF_LINT_WARNING, 20, 5 },
		{ "v=DMARC1; p=reject; ri=3600", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-07", SPF_LINT_INFO, 20, 7 },
		{ "v=DMARC1; p=reject; rue=mailto:d@example.com", SPF_DMARC_REJECT,
		  0, 0, true, false, "DM-06", SPF_LINT_WARNING, 20, 24 },
		{ "v=DMARC1; p=reject; foo=bar", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-06", SPF_LINT_INFO, 20, 7 },
		{ "v=DMARC1; p=reject; p=none", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-23", SPF_LINT_WARNING, 20, 6 },
		{ "v=DMARC1; p=reject; x1=y", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-22", SPF_LINT_ERROR, 20, 2 },
		{ "v=DMARC1; p=reject; adkim", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-22", SPF_LINT_ERROR, 20, 5 },
		{ "v=DMARC1; p=none; t=y", SPF_DMARC_NONE, 0, 0, true, false,
		  "DM-09", SPF_LINT_INFO, 18, 3 },
		{ "v=DMARC1; p=reject; fo=1", SPF_DMARC_REJECT, 0, 0, true, false,
		  "DM-10", SPF_LINT_INFO, 20, 4 },
		{ "v=DMARC1; p=reject; psd=y; ruf=mailto:f@example.com",
		  SPF_DMARC_REJECT, 0, 0, true, false, "DM-13", SPF_LINT_WARNING, 27, 24 },
		{ "v=DMARC1; p=reject;; sp=none", SPF_DMARC_REJECT, SPF_DMARC_NONE,
		  0, true, false, "DM-22", SPF_LINT_INFO, 19, 1 },
		{ "v=DMARC1; p=reject; rua=mailto:a@example.com\x01", SPF_DMARC_REJECT,
		  0, 0, true, false, "DM-22", SPF_LINT_ERROR, 44, 1 },
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		const struct tag_case *c = &cases[i];
		spf_arena_t *a = spf_arena_create();
		spf_dmarc_record_t *rec = parse(a, c->text);

		if (!rec->is_dmarc || rec->p != c->p || rec->sp != c->sp ||
		    rec->np != c->np || rec->usable != c->usable ||
		    rec->downgraded != c->downgraded)
			fail_msg("'%s': dmarc %d p %d sp %d np %d usable %d down %d",
				c->text, rec->is_dmarc, rec->p, rec->sp, rec->np,
				rec->usable, rec->downgraded);
		if (c->rule != NULL) {
			const spf_lint_finding_t *f = NULL;

			for (size_t j = 0; j < rec->nproblems && f == NULL; j++)
				if (strcmp(rec->problems[j].rule, c->rule) == 0 &&
				    rec->problems[j].severity == c->severity)
					f = &rec->problems[j];

			if (f == NULL)
				fail_msg("'%s': no %s", c->text, c->rule);
			if (f->severity != c->severity || f->offset != c->offset ||
			    (c->len > 0 && f->len != c->len))
				fail_msg("'%s': %s severity %d at %zu+%zu: %s",
					c->text, c->rule, f->severity, f->offset,
					f->len, f->message);
		}
		for (size_t j = 0; j < rec->nproblems; j++)
			if (rec->problems[j].offset + rec->problems[j].len > rec->len)
				fail_msg("'%s': a span past the end", c->text);
		spf_arena_destroy(a);
	}
}

static void test_values(void **state)
{
	spf_arena_t *a = spf_arena_create();
	spf_dmarc_record_t *rec = parse(a, "v=DMARC1;p=quarantine;sp=none;"
		"np=reject;adkim=S;aspf=s;t=Y;psd=n;fo=0:d;"
		"rua=mailto:a@example.com, mailto:b@example.net!20m,bad;"
		"ruf=mailto:f@example.com");
	const char *tag = NULL;

	(void)state;
	assert_true(rec->adkim_strict && rec->aspf_strict && rec->testing);
	assert_int_equal(rec->psd, 'n');
	assert_int_equal(rec->nrua, 2);
	assert_string_equal(rec->rua[0], "mailto:a@example.com");
	assert_string_equal(rec->rua[1], "mailto:b@example.net");
	assert_int_equal(rec->nruf, 1);
	assert_int_equal(rec->ntags, 10);
	assert_string_equal(rec->tags[1].name, "sp");
	assert_string_equal(rec->tags[1].value, "none");
	assert_int_equal(spf_dmarc_policy_for(rec, false, true, &tag),
		SPF_DMARC_QUARANTINE);
	assert_string_equal(tag, "p");
	assert_int_equal(spf_dmarc_policy_for(rec, true, true, &tag), SPF_DMARC_NONE);
	assert_string_equal(tag, "sp");
	assert_int_equal(spf_dmarc_policy_for(rec, true, false, &tag),
		SPF_DMARC_REJECT);
	assert_string_equal(tag, "np");
	/* np absent: a non-existent subdomain falls back to sp, then p */
	rec = parse(a, "v=DMARC1; p=reject; sp=quarantine");
	assert_int_equal(spf_dmarc_policy_for(rec, true, false, &tag),
		SPF_DMARC_QUARANTINE);
	assert_string_equal(tag, "sp");
	rec = parse(a, "v=DMARC1; p=reject");
	assert_int_equal(spf_dmarc_policy_for(rec, true, false, &tag),
		SPF_DMARC_REJECT);
	assert_string_equal(tag, "p");
	/* bytes that are not text: positions stay inside the record */
	assert_int_equal(spf_dmarc_parse(a, "v=DMARC1; p=\0reject", 19, &rec), SPF_OK);
	assert_true(rec->is_dmarc);
	assert_int_equal(rec->p, SPF_DMARC_UNSET);
	assert_non_null(problem(rec, "DM-22"));
	assert_int_equal(spf_dmarc_parse(a, NULL, 0, &rec), SPF_OK);
	assert_false(rec->is_dmarc);
	assert_int_equal(spf_dmarc_parse(NULL, "x", 1, &rec), SPF_EINVAL);
	spf_arena_destroy(a);
}

/* Out of memory at every allocation of a parse: ENOMEM, never a crash. */
static void test_parse_enomem(void **state)
{
	static const char text[] = "v=DMARC1; p=reject; sp=bad; rua=mailto:a@"
		"example.com!1m, x; pct=5; foo=1";

	(void)state;
	for (unsigned long n = 1; n < 200; n++) {
		spf_arena_t *a = spf_arena_create();
		spf_dmarc_record_t *rec = NULL;
		spf_status_t st;

		assert_non_null(a);
		spf_alloc_fail_at(n);
		st = spf_dmarc_parse(a, text, sizeof(text) - 1, &rec);
		spf_alloc_fail_at(0);
		spf_arena_destroy(a);
		if (st == SPF_OK)
			return;
		assert_int_equal(st, SPF_ENOMEM);
	}
	fail_msg("still failing after 200 allocations");
}

/* ---- the walk ---- */

static const spf_dmarc_view_t *run(env_t *e, spf_dmarc_t **d,
	const char *from, const char *spf, spf_result_t r,
	const char *const *dkim, size_t ndkim)
{
	spf_dmarc_request_t req = { .from_domain = from, .spf_domain = spf,
		.spf_result = r, .dkim_domains = dkim, .ndkim = ndkim };
	spf_status_t st;

	*d = spf_dmarc_run(e->res, &req, &st);
	assert_int_equal(st, SPF_OK);
	assert_non_null(*d);
	return spf_dmarc_view(*d);
}

/* The walk queried exactly the names in want (NULL-terminated). */
static void assert_steps(const spf_dmarc_walk_t *w, const char *const *want)
{
	size_t n = 0;

	while (want[n] != NULL)
		n++;
	if (w->nsteps != n)
		fail_msg("walk from %s: %zu queries, %zu expected", w->start,
			w->nsteps, n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(w->steps[i].domain, want[i]) != 0)
			fail_msg("walk from %s: query %zu is %s, %s expected",
				w->start, i, w->steps[i].domain, want[i]);
}

static void test_walk_author(void **state)
{
	env_t *e = *state;
	spf_dmarc_t *d;
	const spf_dmarc_view_t *v;

	env_load(e, "_dmarc.example.com. TXT \"v=DMARC1; p=re\" \"ject\"\n"
		"_dmarc.example.com. TXT \"some other text\"\n");
	v = run(e, &d, "example.com", NULL, 0, NULL, 0);
	/* the author's record applies at once; the walk for the
	 * Organizational Domain goes on to com */
	assert_int_equal(v->where, SPF_DMARC_AT_AUTHOR);
	assert_string_equal(v->policy_domain, "example.com");
	assert_int_equal(v->policy, SPF_DMARC_REJECT);
	assert_string_equal(v->policy_tag, "p");
	assert_false(v->author_checked);
	assert_steps(v->author, (const char *[]){ "example.com", "com", NULL });
	assert_int_equal(v->author->steps[0].ntxt, 2);
	assert_int_equal(v->author->steps[0].ndmarc, 1);
	assert_string_equal(v->author->org_domain, "example.com");
	assert_int_equal(v->author->org_rule, SPF_DMARC_ORG_SHORTEST);
	assert_int_equal(v->result, SPF_DMARC_RESULT_DKIM_UNKNOWN);
	spf_dmarc_destroy(d);
}

static void test_walk_deep(void **state)
{
	env_t *e = *state;
	spf_dmarc_t *d;
	const spf_dmarc_view_t *v;

	env_load(e, "_dmarc.example.com. TXT \"v=DMARC1; p=quarantine\"\n");
	/* RFC 9989 §4.10's example: 13 labels, 8 queries */
	v = run(e, &d, "a.b.c.d.e.f.g.h.i.j.mail.example.com", "example.com",
		SPF_RESULT_PASS, NULL, 0);
	assert_steps(v->author, (const char *[]){
		"a.b.c.d.e.f.g.h.i.j.mail.example.com", "g.h.i.j.mail.example.com",
		"h.i.j.mail.example.com", "i.j.mail.example.com",
		"j.mail.example.com", "mail.example.com", "example.com", "com",
		NULL });
	assert_string_equal(v->author->org_domain, "example.com");
	assert_int_equal(v->where, SPF_DMARC_AT_ORG);
	assert_true(v->author_checked);
	assert_false(v->author_exists);           /* NXDOMAIN: np, sp, p */
	assert_string_equal(v->policy_tag, "p");
	assert_int_equal(v->policy, SPF_DMARC_QUARANTINE);
	/* B.4.2: the SPF domain example.com aligns, relaxed */
	assert_true(v->spf_aligned);
	assert_int_equal(v->result, SPF_DMARC_RESULT_PASS);
	spf_dmarc_destroy(d);
	/* 8 labels: 8 queries, none skipped; 9: 9, then 7, 6, ... 1 */
	v = run(e, &d, "a.b.c.d.e.f.example.com", NULL, 0, NULL, 0);
	assert_steps(v->author, (const char *[]){ "a.b.c.d.e.f.example.com",
		"b.c.d.e.f.example.com", "c.d.e.f.example.com", "d.e.f.example.com",
		"e.f.example.com", "f.example.com", "example.com", "com", NULL });
	spf_dmarc_destroy(d);
	v = run(e, &d, "z.a.b.c.d.e.f.example.com", NULL, 0, NULL, 0);
	assert_steps(v->author, (const char *[]){ "z.a.b.c.d.e.f.example.com",
		"b.c.d.e.f.example.com", "c.d.e.f.example.com", "d.e.f.example.com",
		"e.f.example.com", "f.example.com", "example.com", "com", NULL });
	spf_dmarc_destroy(d);
}

static void test_walk_psd(void **state)
{
	env_t *e = *state;
	spf_dmarc_t *d;
	const spf_dmarc_view_t *v;

	env_load(e,
		"_dmarc.gov. TXT \"v=DMARC1; p=reject; psd=y; np=reject; sp=quarantine\"\n"
		"_dmarc.cisa.gov. TXT \"v=DMARC1; p=none; rua=mailto:r@cisa.gov\"\n"
		"x.foo.gov. A 192.0.2.1\n"
		"_dmarc.b.example.org. TXT \"v=DMARC1; p=quarantine; psd=n\"\n"
		"_dmarc.example.org. TXT \"v=DMARC1; p=reject\"\n"
		"_dmarc.bank.example. TXT \"v=DMARC1; p=reject; psd=y\"\n"
		"_dmarc.giant.bank.example. TXT \"v=DMARC1; p=quarantine\"\n");
	/* cisa.gov (psd=u) is the Organizational Domain: gov's record does
	 * not beat it */
	v = run(e, &d, "example.cisa.gov", NULL, 0, NULL, 0);
	assert_steps(v->author, (const char *[]){ "example.cisa.gov", "cisa.gov",
		"gov", NULL });
	assert_string_equal(v->author->org_domain, "cisa.gov");
	assert_int_equal(v->author->org_rule, SPF_DMARC_ORG_BELOW_PSD);
	assert_int_equal(v->where, SPF_DMARC_AT_ORG);
	assert_string_equal(v->policy_domain, "cisa.gov");
	assert_int_equal(v->policy, SPF_DMARC_NONE);
	spf_dmarc_destroy(d);
	/* no record at foo.gov: the PSD's record applies, sp for an
	 * existing author, np for one that does not exist */
	v = run(e, &d, "x.foo.gov", NULL, 0, NULL, 0);
	assert_string_equal(v->author->org_domain, "foo.gov");
	assert_int_equal(v->where, SPF_DMARC_AT_PSD);
	assert_string_equal(v->policy_domain, "gov");
	assert_true(v->author_exists);
	assert_string_equal(v->policy_tag, "sp");
	assert_int_equal(v->policy, SPF_DMARC_QUARANTINE);
	spf_dmarc_destroy(d);
	v = run(e, &d, "y.foo.gov", NULL, 0, NULL, 0);
	assert_false(v->author_exists);
	assert_string_equal(v->policy_tag, "np");
	assert_int_equal(v->policy, SPF_DMARC_REJECT);
	spf_dmarc_destroy(d);
	/* psd=n stops the walk; that name is the Organizational Domain */
	v = run(e, &d, "a.b.example.org", NULL, 0, NULL, 0);
	assert_steps(v->author, (const char *[]){ "a.b.example.org",
		"b.example.org", NULL });
	assert_string_equal(v->author->org_domain, "b.example.org");
	assert_int_equal(v->author->org_rule, SPF_DMARC_ORG_PSD_N);
	assert_int_equal(v->policy, SPF_DMARC_QUARANTINE);
	spf_dmarc_destroy(d);
	v = run(e, &d, "b.example.org", NULL, 0, NULL, 0);
	assert_steps(v->author, (const char *[]){ "b.example.org", NULL });
	assert_int_equal(v->where, SPF_DMARC_AT_AUTHOR);
	spf_dmarc_destroy(d);
	/* B.4.3: giant.bank.example below the PSD bank.example */
	v = run(e, &d, "giant.bank.example", "mail.giant.bank.example",
		SPF_RESULT_PASS, (const char *[]){ "mail.mega.bank.example" }, 1);
	assert_string_equal(v->author->org_domain, "giant.bank.example");
	assert_string_equal(v->spf->org_domain, "giant.bank.example");
	assert_string_equal(v->dkim[0]->org_domain, "mega.bank.example");
	assert_true(v->spf_aligned);
	assert_false(v->dkim_aligned[0]);
	assert_int_equal(v->result, SPF_DMARC_RESULT_PASS);
	spf_dmarc_destroy(d);
	/* psd=y at the start stops at once: the start is its own
	 * Organizational Domain */
	v = run(e, &d, "bank.example", NULL, 0, NULL, 0);
	assert_steps(v->author, (const char *[]){ "bank.example", NULL });
	assert_string_equal(v->author->org_domain, "bank.example");
	spf_dmarc_destroy(d);
}

static void test_walk_intermediate(void **state)
{
	env_t *e = *state;
	spf_dmarc_t *d;
	const spf_dmarc_view_t *v;

	env_load(e,
		"_dmarc.mail.example.net. TXT \"v=DMARC1; p=none\"\n"
		"_dmarc.example.net. TXT \"v=DMARC1; p=reject; sp=quarantine; t=y\"\n"
		"a.mail.example.net. A 192.0.2.1\n"
		"_dmarc.dup.example.net. TXT \"v=DMARC1; p=none\"\n"
		"_dmarc.dup.example.net. TXT \"v=DMARC1; p=reject\"\n"
		"example.net. TXT \"v=DMARC1; p=none\"\n");
	/* the record at mail.example.net is neither the author's nor the
	 * Organizational Domain's: example.net's applies, with sp, and
	 * t=y lowers it one step */
	v = run(e, &d, "a.mail.example.net", NULL, 0, NULL, 0);
	assert_string_equal(v->author->org_domain, "example.net");
	assert_int_equal(v->where, SPF_DMARC_AT_ORG);
	assert_string_equal(v->policy_tag, "sp");
	assert_int_equal(v->policy, SPF_DMARC_QUARANTINE);
	assert_int_equal(v->applied, SPF_DMARC_NONE);
	spf_dmarc_destroy(d);
	/* two records at one name: discarded, the walk goes on */
	v = run(e, &d, "x.dup.example.net", NULL, 0, NULL, 0);
	assert_int_equal(v->author->steps[1].ndmarc, 2);
	assert_null(v->author->steps[1].record);
	assert_string_equal(v->policy_domain, "example.net");
	spf_dmarc_destroy(d);
}

static void test_alignment(void **state)
{
	env_t *e = *state;
	spf_dmarc_t *d;
	const spf_dmarc_view_t *v;

	env_load(e,
		"_dmarc.example.com. TXT \"v=DMARC1; p=reject\"\n"
		"_dmarc.strict.example. TXT \"v=DMARC1; p=reject; aspf=s; adkim=s\"\n"
		"_dmarc.sub.example.info. TXT \"v=DMARC1; p=reject\"\n");
	/* relaxed: parent and child share example.com */
	v = run(e, &d, "example.com", "bounce.example.com", SPF_RESULT_PASS, NULL, 0);
	assert_true(v->spf_aligned);
	assert_int_equal(v->result, SPF_DMARC_RESULT_PASS);
	spf_dmarc_destroy(d);
	/* only pass can align */
	v = run(e, &d, "example.com", "example.com", SPF_RESULT_SOFTFAIL, NULL, 0);
	assert_false(v->spf_aligned);
	assert_int_equal(v->result, SPF_DMARC_RESULT_DKIM_UNKNOWN);
	spf_dmarc_destroy(d);
	/* another organisation */
	v = run(e, &d, "child.example.com", "example.net", SPF_RESULT_PASS,
		(const char *[]){ "example.net" }, 1);
	assert_false(v->spf_aligned);
	assert_false(v->dkim_aligned[0]);
	assert_int_equal(v->result, SPF_DMARC_RESULT_FAIL);
	spf_dmarc_destroy(d);
	/* strict: the same name only, case and final dot aside */
	v = run(e, &d, "strict.example", "mail.strict.example", SPF_RESULT_PASS,
		(const char *[]){ "STRICT.example." }, 1);
	assert_false(v->spf_aligned);
	assert_true(v->dkim_aligned[0]);
	assert_int_equal(v->result, SPF_DMARC_RESULT_PASS);
	spf_dmarc_destroy(d);
	v = run(e, &d, "strict.example", "Strict.Example", SPF_RESULT_PASS, NULL, 0);
	assert_true(v->spf_aligned);
	spf_dmarc_destroy(d);
	/* walk, not PSL: sub.example.info has its own record and
	 * example.info none, so bounce.example.info is another org */
	v = run(e, &d, "sub.example.info", "bounce.example.info", SPF_RESULT_PASS,
		NULL, 0);
	assert_string_equal(v->author->org_domain, "sub.example.info");
	assert_string_equal(v->spf->org_domain, "bounce.example.info");
	assert_false(v->spf_aligned);
	spf_dmarc_destroy(d);
	assert_true(spf_dmarc_aligned("a.example", "example", "b.example",
		"example", false));
	assert_false(spf_dmarc_aligned("a.example", "example", "b.example",
		"example", true));
}

static void test_walk_errors(void **state)
{
	env_t *e = *state;
	spf_dmarc_t *d;
	const spf_dmarc_view_t *v;
	spf_dmarc_request_t bad = { .from_domain = "not a domain" };
	spf_status_t st;

	env_load(e, "_dmarc.example.org. TXT \"v=DMARC1; p=reject\"\n");
	assert_int_equal(spf_zone_set_timeout(e->zone, "_dmarc.sub.example.org"),
		SPF_OK);
	/* a failed query: the walk goes on, the result is temperror */
	v = run(e, &d, "sub.example.org", "sub.example.org", SPF_RESULT_FAIL,
		NULL, 0);
	assert_true(v->author->dns_error);
	assert_int_equal(v->author->steps[0].status, SPF_DNS_TEMPFAIL);
	assert_int_equal(v->result, SPF_DMARC_RESULT_TEMPERROR);
	spf_dmarc_destroy(d);
	/* no record anywhere: none */
	v = run(e, &d, "nothing.example", NULL, 0, NULL, 0);
	assert_int_equal(v->where, SPF_DMARC_AT_NONE);
	assert_int_equal(v->result, SPF_DMARC_RESULT_NONE);
	assert_string_equal(v->author->org_domain, "nothing.example");
	assert_int_equal(v->author->org_rule, SPF_DMARC_ORG_SELF);
	spf_dmarc_destroy(d);
	assert_null(spf_dmarc_run(e->res, &bad, &st));
	assert_int_equal(st, SPF_EINVAL);
	bad.from_domain = NULL;
	assert_null(spf_dmarc_run(e->res, &bad, &st));
	assert_int_equal(st, SPF_EINVAL);
	spf_dmarc_destroy(NULL);
}

/* ---- the asynchronous run (audit: many on one loop) ---- */

struct async_case {
	const char *from, *spf;
	spf_result_t r;
	spf_dmarc_where_t where;
	const char *tag;
	spf_dmarc_policy_t policy;
	spf_dmarc_result_t result;
};

/* what the callbacks have seen: all is set when every one has run */
static struct {
	size_t ndone, want;
	int destroyed;
	bool all;
} async_seen;

struct async_run {
	spf_dmarc_t *d;
	int calls;
};

static void async_check_all(void)
{
	async_seen.all = async_seen.ndone == async_seen.want &&
		async_seen.destroyed == 1;
}

static void async_done(spf_dmarc_t *d, void *arg)
{
	struct async_run *r = arg;

	assert_ptr_equal(d, r->d);
	assert_true(spf_dmarc_done(d));
	r->calls++;
	async_seen.ndone++;
	async_check_all();
}

static void destroy_in_cb(spf_dmarc_t *d, void *arg)
{
	(void)arg;
	async_seen.destroyed++;
	spf_dmarc_destroy(d);    /* the callback owns the run */
	async_check_all();
}

static void never_called(spf_dmarc_t *d, void *arg)
{
	(void)d;
	(void)arg;
	fail_msg("the callback of a destroyed run was called");
}

static void test_walk_async(void **state)
{
	static const struct async_case cases[] = {
		{ "example.com", "bounce.example.com", SPF_RESULT_PASS,
		  SPF_DMARC_AT_AUTHOR, "p", SPF_DMARC_REJECT, SPF_DMARC_RESULT_PASS },
		{ "a.b.c.d.e.f.g.h.i.j.mail.example.com", NULL, 0,
		  SPF_DMARC_AT_ORG, "sp", SPF_DMARC_QUARANTINE,
		  SPF_DMARC_RESULT_DKIM_UNKNOWN },   /* NXDOMAIN: np, sp, p */
		{ "live.example.com", "example.net", SPF_RESULT_PASS,
		  SPF_DMARC_AT_ORG, "sp", SPF_DMARC_QUARANTINE,
		  SPF_DMARC_RESULT_DKIM_UNKNOWN },
		{ "x.foo.gov", NULL, 0, SPF_DMARC_AT_PSD, "np", SPF_DMARC_NONE,
		  SPF_DMARC_RESULT_DKIM_UNKNOWN },
		{ "nothing.example", "nothing.example", SPF_RESULT_PASS,
		  SPF_DMARC_AT_NONE, NULL, SPF_DMARC_UNSET, SPF_DMARC_RESULT_NONE },
	};
	env_t *e = *state;
	struct async_run runs[LEN(cases)];
	spf_dmarc_t *gone;
	spf_status_t st;

	env_load(e,
		"_dmarc.example.com. TXT \"v=DMARC1; p=reject; sp=quarantine\"\n"
		"live.example.com. A 192.0.2.1\n"
		"_dmarc.gov. TXT \"v=DMARC1; p=reject; psd=y; np=none\"\n");
	memset(runs, 0, sizeof(runs));
	memset(&async_seen, 0, sizeof(async_seen));
	async_seen.want = LEN(cases);
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_dmarc_request_t req = { .from_domain = cases[i].from,
			.spf_domain = cases[i].spf, .spf_result = cases[i].r };

		runs[i].d = spf_dmarc_start(e->res, &req, async_done, &runs[i], &st);
		assert_int_equal(st, SPF_OK);
		assert_non_null(runs[i].d);
		/* never from inside the call that starts it */
		assert_int_equal(runs[i].calls, 0);
		assert_false(spf_dmarc_done(runs[i].d));
	}
	/* a run destroyed before its answers: its callback never runs */
	{
		spf_dmarc_request_t req = { .from_domain = "example.com" };

		gone = spf_dmarc_start(e->res, &req, never_called, NULL, &st);
		assert_non_null(gone);
		spf_dmarc_destroy(gone);
	}
	/* a callback that destroys its run */
	{
		spf_dmarc_request_t req = { .from_domain = "x.foo.gov" };

		assert_non_null(spf_dmarc_start(e->res, &req, destroy_in_cb,
			NULL, &st));
	}
	env_wait_for(e->base, &async_seen.all, 0);
	for (size_t i = 0; i < LEN(cases); i++) {
		const spf_dmarc_view_t *v = spf_dmarc_view(runs[i].d);

		assert_int_equal(runs[i].calls, 1);
		assert_int_equal(spf_dmarc_status(runs[i].d), SPF_OK);
		if (v->where != cases[i].where || v->policy != cases[i].policy ||
		    v->result != cases[i].result ||
		    (cases[i].tag != NULL) != (v->policy_tag != NULL) ||
		    (cases[i].tag != NULL && strcmp(cases[i].tag, v->policy_tag) != 0))
			fail_msg("%s: where %d policy %s (%s) result %s", cases[i].from,
				v->where, spf_dmarc_policy_str(v->policy),
				v->policy_tag ? v->policy_tag : "-",
				spf_dmarc_result_str(v->result));
		spf_dmarc_destroy(runs[i].d);
	}
}

/* ---- can SPF pass aligned (spfalign.c) ---- */

static void test_spf_alignable(void **state)
{
	static const struct {
		const char *domain, *org;
		spf_dmarc_spf_align_t want;
		const char *provider;
	} cases[] = {
		{ "own.example", "own.example", SPF_DMARC_SPF_OWN, NULL },
		{ "prov.example", "prov.example", SPF_DMARC_SPF_PROVIDERS,
		  "_spf.provider.test" },
		{ "redir.example", "redir.example", SPF_DMARC_SPF_PROVIDERS,
		  "_spf.provider.test" },
		/* an include inside the organisation is its own */
		{ "mail.org2.example", "org2.example", SPF_DMARC_SPF_OWN, NULL },
		/* ... but the same record with the subdomain as its own org
		 * (the walk found a record there) is another's */
		{ "mail.org2.example", "mail.org2.example", SPF_DMARC_SPF_PROVIDERS,
		  "_spf.org2.example" },
		{ "never.example", NULL, SPF_DMARC_SPF_NEVER, NULL },
		{ "soft.example", NULL, SPF_DMARC_SPF_NEVER, NULL },
		{ "none.example", NULL, SPF_DMARC_SPF_NO_RECORD, NULL },
		{ "two.example", NULL, SPF_DMARC_SPF_NO_RECORD, NULL },
		/* through the provider's nested include, still the provider */
		{ "deep.example", "deep.example", SPF_DMARC_SPF_PROVIDERS,
		  "_spf.provider.test" },
	};
	env_t *e = *state;

	env_load(e,
		"own.example. TXT \"v=spf1 ip4:192.0.2.0/24 include:_spf.provider.test -all\"\n"
		"_spf.provider.test. TXT \"v=spf1 include:_nets.provider.test -all\"\n"
		"_nets.provider.test. TXT \"v=spf1 ip4:198.51.100.0/24 -all\"\n"
		"prov.example. TXT \"v=spf1 include:_spf.provider.test -all\"\n"
		"redir.example. TXT \"v=spf1 redirect=_spf.provider.test\"\n"
		"mail.org2.example. TXT \"v=spf1 include:_spf.org2.example -all\"\n"
		"_spf.org2.example. TXT \"v=spf1 ip4:203.0.113.0/24 -all\"\n"
		"never.example. TXT \"v=spf1 -all\"\n"
		"soft.example. TXT \"v=spf1 include:nothing.provider.test ~all\"\n"
		"nothing.provider.test. TXT \"v=spf1 -all\"\n"
		"two.example. TXT \"v=spf1 -all\"\n"
		"two.example. TXT \"v=spf1 +all\"\n"
		"deep.example. TXT \"v=spf1 include:_spf.provider.test ?all\"\n");
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_lint_request_t req = { .domain = cases[i].domain };
		spf_status_t st;
		spf_lint_t *l = spf_lint_run(e->res, &req, &st);
		const char *prov = "unset";
		spf_dmarc_spf_align_t got;

		assert_non_null(l);
		got = spf_dmarc_spf_alignable(l, cases[i].org, &prov);
		if (got != cases[i].want || (cases[i].provider == NULL) !=
		    (prov == NULL) || (prov != NULL &&
		    strcmp(prov, cases[i].provider) != 0))
			fail_msg("%s (org %s): %s, provider %s", cases[i].domain,
				cases[i].org ? cases[i].org : "-",
				spf_dmarc_spf_align_str(got), prov ? prov : "-");
		spf_lint_destroy(l);
	}
}

/* ---- lint ---- */

static bool has(const spf_dmarc_lint_t *l, const char *rule, const char *domain)
{
	for (size_t i = 0; i < spf_dmarc_lint_count(l); i++) {
		const spf_lint_finding_t *f = spf_dmarc_lint_finding(l, i);

		if (strcmp(f->rule, rule) == 0 && strcmp(f->domain, domain) == 0)
			return true;
	}
	return false;
}

static struct {
	size_t ndone, want;
	bool all;
} dlint_seen;

struct async_dlint {
	spf_dmarc_lint_t *l;
};

static void dlint_done(spf_dmarc_lint_t *l, void *arg)
{
	struct async_dlint *a = arg;

	assert_ptr_equal(l, a->l);
	dlint_seen.ndone++;
	dlint_seen.all = dlint_seen.ndone == dlint_seen.want;
}

static void test_lint(void **state)
{
	env_t *e = *state;
	spf_dmarc_lint_t *l;
	spf_status_t st;

	env_load(e,
		"_dmarc.example.com. TXT \"v=DMARC1; p=reject; sp=none; "
		"rua=mailto:d@example.com,mailto:x@reports.example,mailto:y@ok.example\"\n"
		"_dmarc.example.com. TXT \"verification=1\"\n"
		"example.com._report._dmarc.ok.example. TXT \"v=DMARC1;\"\n"
		"example.com. TXT \"v=DMARC1; p=none\"\n"
		"_dmarc.two.example.com. TXT \"v=DMARC1; p=none\"\n"
		"_dmarc.two.example.com. TXT \"v=DMARC1; p=reject\"\n"
		"_dmarc.sub.example.com. TXT \"v=DMARC1; p=reject; np=none\"\n"
		"_dmarc.like.example.org. TXT \"v=dmarc1; p=reject\"\n");
	l = spf_dmarc_lint_run(e->res, "example.com", NULL, &st);
	assert_non_null(l);
	assert_true(has(l, "DM-19", "_dmarc.example.com"));
	assert_true(has(l, "DM-18", "_dmarc.example.com"));   /* other TXT */
	assert_true(has(l, "DM-18", "example.com"));          /* apex */
	assert_true(has(l, "DM-11", "_dmarc.example.com"));   /* reports.example */
	assert_int_equal(spf_dmarc_lint_view(l)->where, SPF_DMARC_AT_AUTHOR);
	for (size_t i = 0; i < spf_dmarc_lint_count(l); i++) {
		const spf_lint_finding_t *f = spf_dmarc_lint_finding(l, i);

		if (strcmp(f->rule, "DM-11") == 0 && strstr(f->message, "ok.example"))
			fail_msg("ok.example authorised its reports: %s", f->message);
	}
	spf_dmarc_lint_destroy(l);
	l = spf_dmarc_lint_run(e->res, "two.example.com", NULL, &st);
	assert_non_null(l);
	assert_true(has(l, "DM-03", "_dmarc.two.example.com"));
	/* the walk went on to example.com's record */
	assert_string_equal(spf_dmarc_lint_view(l)->policy_domain, "example.com");
	spf_dmarc_lint_destroy(l);
	l = spf_dmarc_lint_run(e->res, "sub.example.com", NULL, &st);
	assert_true(has(l, "DM-12", "_dmarc.sub.example.com"));
	spf_dmarc_lint_destroy(l);
	l = spf_dmarc_lint_run(e->res, "like.example.org", NULL, &st);
	assert_true(has(l, "DM-02", "_dmarc.like.example.org"));
	assert_true(has(l, "DM-01", "_dmarc.like.example.org"));
	spf_dmarc_lint_destroy(l);
	assert_null(spf_dmarc_lint_run(e->res, "bad name", NULL, &st));
	assert_int_equal(st, SPF_EINVAL);
	/* the same four at once on the loop: the same findings */
	{
		static const char *const names[] = { "example.com",
			"two.example.com", "sub.example.com", "like.example.org" };
		struct async_dlint runs[4];
		size_t want[4];

		memset(runs, 0, sizeof(runs));
		memset(&dlint_seen, 0, sizeof(dlint_seen));
		dlint_seen.want = 4;
		for (size_t i = 0; i < 4; i++) {
			l = spf_dmarc_lint_run(e->res, names[i], NULL, &st);
			assert_non_null(l);
			want[i] = spf_dmarc_lint_count(l);
			spf_dmarc_lint_destroy(l);
		}
		/* (a synchronous run turns the loop: start these after) */
		for (size_t i = 0; i < 4; i++) {
			runs[i].l = spf_dmarc_lint_start(e->res, names[i], NULL, dlint_done,
				&runs[i], &st);
			assert_non_null(runs[i].l);
		}
		assert_int_equal(dlint_seen.ndone, 0);
		env_wait_for(e->base, &dlint_seen.all, 0);
		for (size_t i = 0; i < 4; i++) {
			assert_int_equal(spf_dmarc_lint_status(runs[i].l), SPF_OK);
			if (spf_dmarc_lint_count(runs[i].l) != want[i])
				fail_msg("%s: %zu findings at once, %zu alone", names[i],
					spf_dmarc_lint_count(runs[i].l), want[i]);
			spf_dmarc_lint_destroy(runs[i].l);
		}
		assert_true(want[0] >= 4);
		assert_null(spf_dmarc_lint_start(e->res, "bad name", NULL, dlint_done,
			NULL, &st));
		assert_int_equal(st, SPF_EINVAL);
	}
}

/* ---- RFC 7489's method (--org-domain psl) and the rules that compare ---- */

static spf_psl_t *test_psl(void)
{
	char path[] = "/tmp/test_dmarc_psl.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	spf_psl_t *psl;
	spf_status_t st;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("// ===BEGIN ICANN DOMAINS===\ncom\nexample\nco.example\n"
		"// ===END ICANN DOMAINS===\n", f);
	fclose(f);
	psl = spf_psl_load(path, &st);
	unlink(path);
	assert_int_equal(st, SPF_OK);
	assert_non_null(psl);
	return psl;
}

static void test_psl_method(void **state)
{
	env_t *e = *state;
	spf_psl_t *psl = test_psl();
	spf_dmarc_request_t req = { .from_domain = "mail.shop.co.example",
		.spf_domain = "other.co.example", .spf_result = SPF_RESULT_PASS };
	const spf_dmarc_view_t *v;
	spf_dmarc_t *d;
	spf_status_t st;

	assert_null(spf_psl_load("/nonexistent/list", &st));
	assert_int_equal(st, SPF_EINVAL);
	assert_string_equal(spf_psl_org_domain(psl, "a.b.shop.co.example"),
		"shop.co.example");
	assert_string_equal(spf_psl_org_domain(psl, "co.example"), "co.example");
	/* "*": any TLD is a public suffix */
	assert_string_equal(spf_psl_org_domain(psl, "x.y.test"), "y.test");
	assert_true(spf_psl_is_public_suffix(psl, "co.example"));
	assert_false(spf_psl_is_public_suffix(psl, "shop.co.example"));
	env_load(e,
		"_dmarc.co.example. TXT \"v=DMARC1; p=reject\"\n"
		"_dmarc.shop.co.example. TXT \"v=DMARC1; p=quarantine\"\n"
		"mail.shop.co.example. A 192.0.2.1\n"
		"_dmarc.team.solo.example. TXT \"v=DMARC1; p=reject\"\n"
		"_dmarc.fake.example. TXT \"v=DMARC1; p=reject; psd=y\"\n"
		"_dmarc.c.d.e.f.g.h.deep.example. TXT \"v=DMARC1; p=reject\"\n");
	/* the walk: co.example's record makes it the Organizational Domain */
	v = run(e, &d, "mail.shop.co.example", "other.co.example",
		SPF_RESULT_PASS, NULL, 0);
	assert_false(v->psl);
	assert_string_equal(v->author->org_domain, "co.example");
	assert_string_equal(v->policy_domain, "co.example");
	assert_true(v->spf_aligned);
	spf_dmarc_destroy(d);
	/* the PSL: the author, then its registrable domain; no SPF query */
	req.psl = psl;
	d = spf_dmarc_run(e->res, &req, &st);
	assert_non_null(d);
	v = spf_dmarc_view(d);
	assert_true(v->psl);
	assert_steps(v->author, (const char *const[]){ "mail.shop.co.example",
		"shop.co.example", NULL });
	assert_int_equal(v->author->org_rule, SPF_DMARC_ORG_PSL);
	assert_string_equal(v->author->org_domain, "shop.co.example");
	assert_string_equal(v->policy_domain, "shop.co.example");
	assert_int_equal(v->where, SPF_DMARC_AT_ORG);
	assert_int_equal(v->spf->nsteps, 0);
	assert_string_equal(v->spf->org_domain, "other.co.example");
	assert_false(v->spf_aligned);
	spf_dmarc_destroy(d);
	/* the lint's rules that compare, sync and on the loop alike */
	{
		static const struct { const char *domain, *rule, *where; } cases[] = {
			{ "mail.shop.co.example", "DM-14", "mail.shop.co.example" },
			{ "mail.shop.co.example", "DM-15", "_dmarc.co.example" },
			{ "team.solo.example", "DM-17", "_dmarc.solo.example" },
			{ "x.fake.example", "DM-13", "_dmarc.fake.example" },
			{ "a.b.c.d.e.f.g.h.deep.example", "DM-16",
			  "_dmarc.c.d.e.f.g.h.deep.example" },
		};
		spf_dmarc_lint_opts_t opts = { .psl = psl };
		spf_dmarc_lint_opts_t bad = { .psl_method = true };
		struct async_dlint a;
		spf_dmarc_lint_t *l;

		for (size_t i = 0; i < LEN(cases); i++) {
			for (int m = 0; m < 2; m++) {
				opts.psl_method = m == 1;
				l = spf_dmarc_lint_run(e->res, cases[i].domain, &opts, &st);
				assert_non_null(l);
				if (!has(l, cases[i].rule, cases[i].where))
					fail_msg("%s: no %s at %s", cases[i].domain,
						cases[i].rule, cases[i].where);
				assert_int_equal(spf_dmarc_lint_view(l)->psl, m == 1);
				spf_dmarc_lint_destroy(l);
			}
			/* no list: none of them but DM-16 */
			l = spf_dmarc_lint_run(e->res, cases[i].domain, NULL, &st);
			assert_non_null(l);
			assert_true(has(l, cases[i].rule, cases[i].where) ==
				(strcmp(cases[i].rule, "DM-16") == 0));
			spf_dmarc_lint_destroy(l);
			memset(&dlint_seen, 0, sizeof(dlint_seen));
			dlint_seen.want = 1;
			opts.psl_method = false;
			a.l = spf_dmarc_lint_start(e->res, cases[i].domain, &opts,
				dlint_done, &a, &st);
			assert_non_null(a.l);
			env_wait_for(e->base, &dlint_seen.all, 0);
			assert_int_equal(spf_dmarc_lint_status(a.l), SPF_OK);
			assert_true(has(a.l, cases[i].rule, cases[i].where));
			spf_dmarc_lint_destroy(a.l);
		}
		assert_null(spf_dmarc_lint_run(e->res, "example.com", &bad, &st));
		assert_int_equal(st, SPF_EINVAL);
	}
	spf_psl_free(psl);
}

static bool spfdom_back;

static void spfdom_done(spf_dmarc_lint_t *l, void *arg)
{
	(void)l;
	(void)arg;
	spfdom_back = true;
}

/* DM-14 for the SPF domains (spf_dmarc_lint_spf_domains()): an include
 * that aligns by the PSL and not by the walk, and one the other way
 * round; sync (through spf_dmarc_lint_spf()) and on the loop; nothing
 * without a list; a lint destroyed with its walks in flight. */
static void test_spf_domains(void **state)
{
	static const struct { const char *domain, *where; bool fires; } cases[] = {
		/* psd=n at mail.brand.example: the walk does not align */
		{ "brand.example", "_spf.mail.brand.example", true },
		/* co.example's record: the walk aligns, the PSL does not */
		{ "shop.co.example", "_spf.other.co.example", true },
		/* both methods align the own include */
		{ "self.example", "_spf.self.example", false },
	};
	env_t *e = *state;
	spf_psl_t *psl = test_psl();
	spf_dmarc_lint_opts_t opts = { .psl = psl };
	spf_status_t st;

	env_load(e,
		"_dmarc.brand.example. TXT \"v=DMARC1; p=reject\"\n"
		"brand.example. TXT \"v=spf1 include:_spf.mail.brand.example -all\"\n"
		"_dmarc.mail.brand.example. TXT \"v=DMARC1; p=reject; psd=n\"\n"
		"_spf.mail.brand.example. TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
		"_dmarc.co.example. TXT \"v=DMARC1; p=reject\"\n"
		"shop.co.example. TXT \"v=spf1 include:_spf.other.co.example -all\"\n"
		"_spf.other.co.example. TXT \"v=spf1 ip4:192.0.2.2 -all\"\n"
		"_dmarc.self.example. TXT \"v=DMARC1; p=reject\"\n"
		"self.example. TXT \"v=spf1 include:_spf.self.example -all\"\n"
		"_spf.self.example. TXT \"v=spf1 ip4:192.0.2.3 -all\"\n");
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_lint_request_t req = { .domain = cases[i].domain };
		spf_lint_t *spf = spf_lint_run(e->res, &req, &st);
		spf_dmarc_lint_t *l;

		assert_non_null(spf);
		for (int m = 0; m < 2; m++) {
			opts.psl_method = m == 1;
			l = spf_dmarc_lint_run(e->res, cases[i].domain, &opts, &st);
			assert_non_null(l);
			assert_false(has(l, "DM-14", cases[i].where));
			(void)spf_dmarc_lint_spf(l, spf);
			assert_int_equal(spf_dmarc_lint_status(l), SPF_OK);
			if (has(l, "DM-14", cases[i].where) != cases[i].fires)
				fail_msg("%s: DM-14 at %s %s", cases[i].domain,
					cases[i].where, cases[i].fires ?
					"missing" : "unexpected");
			spf_dmarc_lint_destroy(l);
		}
		/* on the loop: the callback comes later, never from inside */
		opts.psl_method = false;
		l = spf_dmarc_lint_run(e->res, cases[i].domain, &opts, &st);
		assert_non_null(l);
		spfdom_back = false;
		if (spf_dmarc_lint_spf_domains(l, spf, spfdom_done, NULL)) {
			assert_false(spfdom_back);
			env_wait_for(e->base, &spfdom_back, 0);
		}
		assert_int_equal(spf_dmarc_lint_status(l), SPF_OK);
		assert_true(has(l, "DM-14", cases[i].where) == cases[i].fires);
		/* once only */
		assert_false(spf_dmarc_lint_spf_domains(l, spf, spfdom_done, NULL));
		spf_dmarc_lint_destroy(l);
		/* without a list: nothing to walk, no finding */
		l = spf_dmarc_lint_run(e->res, cases[i].domain, NULL, &st);
		assert_non_null(l);
		assert_false(spf_dmarc_lint_spf_domains(l, spf, spfdom_done, NULL));
		(void)spf_dmarc_lint_spf(l, spf);
		assert_false(has(l, "DM-14", cases[i].where));
		spf_dmarc_lint_destroy(l);
		/* destroyed in flight: the walks are cancelled, no callback */
		l = spf_dmarc_lint_run(e->res, cases[i].domain, &opts, &st);
		assert_non_null(l);
		spfdom_back = false;
		(void)spf_dmarc_lint_spf_domains(l, spf, spfdom_done, NULL);
		spf_dmarc_lint_destroy(l);
		spf_lint_destroy(spf);
	}
	assert_false(spfdom_back);
	spf_psl_free(psl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_parse_enomem),
		cmocka_unit_test_setup_teardown(test_walk_author, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_walk_deep, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_walk_psd, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_walk_intermediate, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(test_alignment, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_walk_errors, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_walk_async, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_spf_alignable, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_lint, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_psl_method, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_spf_domains, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
