/*
 * lint.c - what is wrong with a domain's DMARC set-up: the record that
 * applies to it (found by the DNS Tree Walk), the TXT data at its
 * _dmarc name, a record published at the wrong place, and external
 * report destinations that have not agreed to receive reports.
 *
 * DESCRIPTION
 *	spf_dmarc_lint_run() runs policy discovery for the domain
 *	(spf_dmarc_run(), walk.c) and turns what it saw into findings:
 *	  - the record's own problems (record.c: syntax, values, removed
 *	    tags), with the record's text and positions;
 *	  - DM-02 look-alikes and DM-18 other TXT data at _dmarc.<domain>;
 *	  - DM-03 several DMARC records at a name the walk queried;
 *	  - DM-01 no record on the whole walk;
 *	  - DM-12 sp/np on a record that is not its Organizational
 *	    Domain's (receivers read them only there);
 *	  - DM-18 a DMARC record in the domain's own (apex) TXT;
 *	  - with a Public Suffix List (opts->psl), where RFC 7489's method
 *	    would differ: DM-13 psd=y on a name the list does not have,
 *	    DM-14 the walk and the PSL give other Organizational Domains
 *	    or policy records, DM-15 a public suffix's record without
 *	    psd=y that the walk reaches, DM-17 a record at the domain but
 *	    none at its registrable domain (one query of its own);
 *	  - DM-16 a record at a name that the walk from a name of more
 *	    than 8 labels skips (a query per skipped name, at most 16);
 *	  - DM-11 a rua/ruf mailto: destination outside the
 *	    Organizational Domain without a DMARC record at
 *	    <policy domain>._report._dmarc.<destination host> saying it
 *	    takes the reports (RFC 9990 §4).  "Outside" is read here as
 *	    "not at or below the Organizational Domain", which needs no
 *	    walk of its own for each destination.
 *	The extra lookups (apex TXT, one TXT per external destination) go
 *	in one spf_sync_t group.
 *
 * DIAGNOSTICS
 *	A lookup that fails is said as a finding (DM-DNS) rather than
 *	guessed about.  SPF_ENOMEM is the only failure of the run.
 */
#include "lint_walk.h"

#include <string.h>

#define MAX_DEST 32            /* external destinations checked */
#define MAX_SPF_DOMAINS 16     /* SPF domains walked for DM-14 */
#define MAX_SKIP 16            /* names a long walk skips, checked (DM-16) */

/* A TXT query of lint's own at _dmarc.<domain>: a name the walk skipped
 * (DM-16), the registrable domain (DM-17) */
struct probe {
	struct spf_dmarc_lint *l;
	const char *domain;
	spf_dns_status_t status;
	size_t ndmarc;
	bool answered;
};

/* An SPF domain of the linted domain (a record its SPF tree enters)
 * that can align with it by one method or the other: its own walk,
 * for DM-14 */
struct spfdom {
	struct spf_dmarc_lint *l;
	const char *domain;
	spf_dmarc_t *run;
};

struct dest {
	struct spf_dmarc_lint *l;
	const char *uri;           /* as in the record */
	const char *host;          /* the destination's domain */
	const char *name;          /* the authorisation record's name */
	spf_dns_status_t status;
	bool authorised;
	bool answered;
};

struct spf_dmarc_lint {
	spf_arena_t *arena;
	spf_dmarc_t *run;
	/* with a Public Suffix List: the other method's run (the PSL's
	 * when run is the walk's, the walk's with psl_method) */
	spf_dmarc_t *alt;
	const spf_psl_t *psl;
	bool psl_method;
	bool extra_started;
	struct probe skips[MAX_SKIP];
	size_t nskips;
	struct probe reg;          /* the registrable domain (DM-17) */
	const char *domain;
	spf_sync_t sync;
	spf_lint_finding_t *findings;
	size_t n, cap;
	bool failed;
	/* the apex TXT of the domain */
	spf_dns_status_t apex_status;
	size_t apex_n;
	const spf_dmarc_record_t **apex;
	struct dest dests[MAX_DEST];
	size_t ndests;
	/* spf_dmarc_lint_start(): the walk's run and the group's queries
	 * both answered moves it to the findings, then the callback */
	bool done;
	spf_dmarc_lint_cb cb;
	void *cb_arg;
	/* DM-14 for the SPF domains (spf_dmarc_lint_spf_domains()) */
	struct spfdom spfdoms[MAX_SPF_DOMAINS];
	size_t nspfdoms, spf_pending;
	spf_dmarc_lint_cb spf_cb;
	void *spf_cb_arg;
};

static spf_lint_finding_t *add(spf_dmarc_lint_t *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		spf_lint_finding_t *f = spf_arena_alloc(l->arena, cap * sizeof(*f));

		if (f == NULL) {
			l->failed = true;
			return NULL;
		}
		if (l->n > 0)
			memcpy(f, l->findings, l->n * sizeof(*f));
		l->findings = f;
		l->cap = cap;
	}
	memset(&l->findings[l->n], 0, sizeof(l->findings[0]));
	return &l->findings[l->n++];
}

/* A finding about a whole name (no record text). */
static void finding(spf_dmarc_lint_t *l, const char *rule,
	spf_lint_severity_t sev, const char *domain, const char *section,
	const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void finding(spf_dmarc_lint_t *l, const char *rule,
	spf_lint_severity_t sev, const char *domain, const char *section,
	const char *fmt, ...)
{
	spf_lint_finding_t *f = add(l);
	spf_buf_t b;
	va_list ap;

	if (f == NULL)
		return;
	spf_buf_init(&b, 2048);
	va_start(ap, fmt);
	spf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	f->rule = rule;
	f->severity = sev;
	f->domain = domain;
	f->section = section;
	f->message = spf_arena_strdup(l->arena, spf_buf_cstr(&b));
	spf_buf_finish(&b);
	if (f->message == NULL)
		l->failed = true;
}

/* The problems of one record, placed at name. */
static void record_problems(spf_dmarc_lint_t *l, const char *name,
	const spf_dmarc_record_t *rec)
{
	for (size_t i = 0; i < rec->nproblems; i++) {
		spf_lint_finding_t *f = add(l);

		if (f == NULL)
			return;
		*f = rec->problems[i];
		f->domain = name;
		f->record = rec->text;
		f->record_len = rec->len;
	}
}

static const char *dmarc_name(spf_dmarc_lint_t *l, const char *domain)
{
	const char *s = spf_arena_printf(l->arena, "_dmarc.%s", domain);

	if (s == NULL)
		l->failed = true;
	return s != NULL ? s : domain;
}

/* Is d the name base or below it? */
static bool at_or_below(const char *d, const char *base)
{
	size_t ld = strlen(d), lb = strlen(base);

	if (ld < lb || !spf_strncaseeq(d + ld - lb, base, lb))
		return false;
	return ld == lb || d[ld - lb - 1] == '.';
}

static void lint_advance(spf_dmarc_lint_t *l);

static void read_apex(spf_dmarc_lint_t *l, const spf_dns_answer_t *ans)
{
	size_t n;

	l->apex_status = spf_dns_answer_status(ans);
	n = l->apex_status == SPF_DNS_OK ? spf_dns_answer_count(ans) : 0;
	if (n == 0)
		return;
	l->apex = spf_arena_alloc(l->arena, n * sizeof(*l->apex));
	if (l->apex == NULL) {
		l->failed = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_dmarc_record_t *rec;

		if (spf_dmarc_parse(l->arena, rr->u.txt.data, rr->u.txt.len,
		    &rec) != SPF_OK) {
			l->failed = true;
			return;
		}
		l->apex[l->apex_n++] = rec;
	}
}

static void on_apex(const spf_dns_answer_t *ans, void *arg)
{
	spf_dmarc_lint_t *l = arg;

	read_apex(l, ans);
	lint_advance(l);   /* last: the callback may destroy l */
}

static void on_dest(const spf_dns_answer_t *ans, void *arg)
{
	struct dest *d = arg;
	size_t n;

	d->answered = true;
	d->status = spf_dns_answer_status(ans);
	n = d->status == SPF_DNS_OK ? spf_dns_answer_count(ans) : 0;
	/* RFC 9990 §4: at least one DMARC record authorises */
	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_dmarc_record_t *rec;

		if (spf_dmarc_parse(d->l->arena, rr->u.txt.data, rr->u.txt.len,
		    &rec) != SPF_OK)
			d->l->failed = true;
		else if (rec->is_dmarc)
			d->authorised = true;
	}
	lint_advance(d->l);   /* last: the callback may destroy the run */
}

/* The mailto: destinations of rec outside org: start their checks. */
static void start_dests(spf_dmarc_lint_t *l, const char *policy_domain,
	const char *org, const spf_dmarc_record_t *rec)
{
	for (int which = 0; which < 2; which++) {
		const char *const *uris = which == 0 ? rec->rua : rec->ruf;
		size_t n = which == 0 ? rec->nrua : rec->nruf;

		for (size_t i = 0; i < n && l->ndests < MAX_DEST; i++) {
			const char *u = uris[i], *at, *end;
			struct dest *d;
			char *host;
			bool seen = false;

			if (!spf_strncaseeq(u, "mailto:", 7) ||
			    (at = strrchr(u, '@')) == NULL)
				continue;
			end = at + 1 + strcspn(at + 1, "?>");
			host = spf_arena_strndup(l->arena, at + 1,
				(size_t)(end - at - 1));
			if (host == NULL) {
				l->failed = true;
				return;
			}
			for (char *p = host; *p; p++)
				*p = spf_lower(*p);
			if (*host == '\0' || at_or_below(host, org))
				continue;
			for (size_t j = 0; j < l->ndests; j++)
				seen |= strcmp(l->dests[j].host, host) == 0;
			if (seen)
				continue;
			d = &l->dests[l->ndests];
			d->l = l;
			d->uri = u;
			d->host = host;
			d->name = spf_arena_printf(l->arena, "%s._report._dmarc.%s",
				policy_domain, host);
			if (d->name == NULL || !spf_sync_query(&l->sync, d->name,
			    SPF_RR_TXT, on_dest, d)) {
				l->failed = true;
				return;
			}
			l->ndests++;
		}
	}
}

/* The walk's view and the PSL method's (NULL without a list). */
static const spf_dmarc_view_t *walk_view(const spf_dmarc_lint_t *l)
{
	return spf_dmarc_view(l->psl_method ? l->alt : l->run);
}

static const spf_dmarc_view_t *psl_view(const spf_dmarc_lint_t *l)
{
	if (l->psl == NULL)
		return NULL;
	return spf_dmarc_view(l->psl_method ? l->run : l->alt);
}

static void on_probe(const spf_dns_answer_t *ans, void *arg)
{
	struct probe *p = arg;
	size_t n;

	p->answered = true;
	p->status = ans != NULL ? spf_dns_answer_status(ans) : SPF_DNS_TEMPFAIL;
	n = p->status == SPF_DNS_OK ? spf_dns_answer_count(ans) : 0;
	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_dmarc_record_t *rec;

		if (spf_dmarc_parse(p->l->arena, rr->u.txt.data, rr->u.txt.len,
		    &rec) != SPF_OK)
			p->l->failed = true;
		else if (rec->is_dmarc)
			p->ndmarc++;
	}
	lint_advance(p->l);   /* last: the callback may destroy the run */
}

static void probe(spf_dmarc_lint_t *l, struct probe *p, const char *domain)
{
	const char *name = spf_arena_printf(l->arena, "_dmarc.%s", domain);

	p->l = l;
	p->domain = domain;
	if (name == NULL || !spf_sync_query(&l->sync, name, SPF_RR_TXT,
	    on_probe, p))
		l->failed = true;
}

/* Once the walk's view is complete: the names a walk from more than 8
 * labels skips, when the domain has no record of its own (DM-16); the
 * registrable domain, when it has one (DM-17). */
static void start_extra(spf_dmarc_lint_t *l)
{
	const spf_dmarc_t *wr = l->psl_method ? l->alt : l->run;
	const spf_dmarc_walk_t *w;
	const char *labels[128];
	size_t n = 0;

	if (l->extra_started || !spf_dmarc_done(wr) ||
	    spf_dmarc_status(wr) != SPF_OK || spf_dmarc_view(wr)->author == NULL)
		return;
	l->extra_started = true;
	w = spf_dmarc_view(wr)->author;
	if (w->nsteps > 0 && w->steps[0].record != NULL) {
		const char *reg = l->psl != NULL ?
			spf_psl_org_domain(l->psl, w->start) : w->start;

		if (strcmp(reg, w->start) != 0)
			probe(l, &l->reg, reg);
		return;
	}
	labels[n++] = w->start;
	for (const char *p = w->start; *p && n < 128; p++)
		if (*p == '.')
			labels[n++] = p + 1;
	/* RFC 9989 §4.10: from x > 8 labels the walk goes to the 7-label
	 * ancestor; the names of 8 to x - 1 labels are never queried */
	for (size_t drop = 1; n > SPF_DMARC_WALK_MAX && drop <= n - SPF_DMARC_WALK_MAX &&
	    l->nskips < MAX_SKIP; drop++)
		probe(l, &l->skips[l->nskips++], labels[drop]);
}

/* What the walk's queries saw at each name. */
static void walk_findings(spf_dmarc_lint_t *l, const spf_dmarc_view_t *v)
{
	const spf_dmarc_walk_t *w = v->author;

	for (size_t i = 0; i < w->nsteps; i++) {
		const spf_dmarc_step_t *st = &w->steps[i];
		const char *name = dmarc_name(l, st->domain);
		bool mine = i == 0 || (v->policy_domain != NULL &&
			strcmp(st->domain, v->policy_domain) == 0);

		if (st->status == SPF_DNS_TEMPFAIL || st->status == SPF_DNS_BADREPLY)
			finding(l, "DM-DNS", SPF_LINT_ERROR, name, "RFC 9989 §4.10",
				"the lookup failed (%s): receivers cannot tell "
				"whether a policy applies (temperror)",
				st->detail != NULL ? st->detail :
				spf_dns_status_str(st->status));
		if (st->ndmarc > 1)
			finding(l, "DM-03", SPF_LINT_ERROR, name, "RFC 9989 §4.10",
				"%zu DMARC records at one name: receivers discard "
				"them all and go on walking up the tree", st->ndmarc);
		for (size_t j = 0; j < st->ntxt && mine; j++) {
			const spf_dmarc_record_t *r = st->txt[j];

			if (r->lookalike)
				record_problems(l, name, r);
			else if (!r->is_dmarc && i == 0)
				finding(l, "DM-18", SPF_LINT_INFO, name,
					"RFC 9989 §4.8", "TXT data that is not a "
					"DMARC record at the _dmarc name is ignored, "
					"but confuses some receivers");
		}
	}
}

static void policy_findings(spf_dmarc_lint_t *l, const spf_dmarc_view_t *v)
{
	const spf_dmarc_walk_t *w = v->author;
	const spf_dmarc_record_t *own = w->nsteps > 0 ? w->steps[0].record : NULL;

	if (v->record == NULL && own == NULL) {
		finding(l, "DM-01", SPF_LINT_WARNING, dmarc_name(l, l->domain),
			"RFC 9989 §4.10.1", "no DMARC record for %s, at its own "
			"name or anywhere on the walk up the tree: DMARC does not "
			"apply to mail from it", l->domain);
		return;
	}
	if (own != NULL)
		record_problems(l, dmarc_name(l, l->domain), own);
	if (v->record != NULL && v->record != own)
		record_problems(l, dmarc_name(l, v->policy_domain), v->record);
	if (own != NULL && (own->sp != SPF_DMARC_UNSET ||
	    own->np != SPF_DMARC_UNSET) &&
	    strcmp(w->org_domain, w->start) != 0)
		finding(l, "DM-12", SPF_LINT_INFO, dmarc_name(l, l->domain),
			"RFC 9989 §4.7", "sp and np are read only from an "
			"Organizational Domain's or a PSD's record; %s's "
			"Organizational Domain is %s, so they have no effect here",
			l->domain, w->org_domain);
}

static bool same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The rules that compare with the Public Suffix List (DM-13, DM-14,
 * DM-15, DM-17) and DM-16's skipped names. */
static void psl_findings(spf_dmarc_lint_t *l)
{
	const spf_dmarc_view_t *wv = walk_view(l), *pv = psl_view(l);
	const spf_dmarc_walk_t *w = wv->author;
	const char *reg = l->psl != NULL ?
		spf_psl_org_domain(l->psl, w->start) : w->start;

	for (size_t i = 0; i < l->nskips; i++)
		if (l->skips[i].answered && l->skips[i].ndmarc == 1)
			finding(l, "DM-16", SPF_LINT_WARNING,
				dmarc_name(l, l->skips[i].domain), "RFC 9989 §4.10",
				"a DMARC record here is never used for %s: from a "
				"name of more than 8 labels the walk goes to its "
				"7-label ancestor and skips this name; publish the "
				"record at _dmarc.%s", w->start, w->start);
	if (l->reg.domain != NULL && l->reg.answered && l->reg.ndmarc == 0 &&
	    l->reg.status != SPF_DNS_TEMPFAIL && l->reg.status != SPF_DNS_BADREPLY)
		finding(l, "DM-17", SPF_LINT_WARNING, dmarc_name(l, l->reg.domain),
			"RFC 9989 §5.1.4", "%s has a DMARC record of its own, but "
			"%s, its registrable domain on the Public Suffix List, has "
			"none: publish one there too (receivers that use the PSL "
			"take %s as the Organizational Domain; the walk takes %s)",
			w->start, l->reg.domain, l->reg.domain, w->org_domain);
	if (l->psl == NULL)
		return;
	for (size_t i = 0; i < w->nsteps; i++) {
		const spf_dmarc_step_t *st = &w->steps[i];

		if (st->record == NULL)
			continue;
		if (st->record->psd == 'y' &&
		    !spf_psl_is_public_suffix(l->psl, st->domain))
			finding(l, "DM-13", SPF_LINT_WARNING,
				dmarc_name(l, st->domain), "RFC 9989 §4.7",
				"psd=y, but %s is not a public suffix on the Public "
				"Suffix List (%s): the walk makes each name one "
				"label below it an Organizational Domain of its "
				"own; psd=y is for public suffix operators",
				st->domain, spf_psl_source(l->psl));
		if (i > 0 && st->record->psd == 'u' &&
		    spf_psl_is_public_suffix(l->psl, st->domain))
			finding(l, "DM-15", SPF_LINT_WARNING,
				dmarc_name(l, st->domain), "RFC 9989 §11.8",
				"%s is a public suffix (on the Public Suffix List) "
				"and publishes a record without psd=y: the walk "
				"from %s goes on to it, and %s, not %s, becomes the "
				"Organizational Domain; publish psd=n in _dmarc.%s's "
				"record", st->domain, w->start, w->org_domain, reg,
				reg);
	}
	if (pv != NULL && (!same(wv->author->org_domain, pv->author->org_domain) ||
	    !same(wv->policy_domain, pv->policy_domain)))
		finding(l, "DM-14", SPF_LINT_WARNING, l->domain, "RFC 9989 §11.8",
			"the DNS Tree Walk (RFC 9989) and the Public Suffix List "
			"(RFC 7489) disagree for %s: the walk gives the "
			"Organizational Domain %s and the policy record %s%s, the "
			"PSL %s and %s%s; receivers of each kind align mail and "
			"apply policy differently", w->start, wv->author->org_domain,
			wv->policy_domain != NULL ? "_dmarc." : "",
			wv->policy_domain != NULL ? wv->policy_domain : "none",
			pv->author->org_domain,
			pv->policy_domain != NULL ? "_dmarc." : "",
			pv->policy_domain != NULL ? pv->policy_domain : "none");
}

/* Every finding, once the walk and the group's lookups are answered. */
static void all_findings(spf_dmarc_lint_t *l, const spf_dmarc_view_t *v)
{
	walk_findings(l, v);
	policy_findings(l, v);
	psl_findings(l);
	for (size_t i = 0; i < l->apex_n; i++)
		if (l->apex[i]->is_dmarc || l->apex[i]->lookalike)
			finding(l, "DM-18", SPF_LINT_WARNING, l->domain,
				"RFC 9989 §4.10", "a DMARC record in the TXT of %s "
				"itself is at the wrong place: receivers look only "
				"at _dmarc.%s", l->domain, l->domain);
	for (size_t i = 0; i < l->ndests; i++) {
		const struct dest *d = &l->dests[i];

		if (!d->answered || d->status == SPF_DNS_TEMPFAIL ||
		    d->status == SPF_DNS_BADREPLY)
			finding(l, "DM-DNS", SPF_LINT_WARNING, d->name,
				"RFC 9990 §4", "the lookup of the authorisation "
				"record of %s failed: reports may not be sent",
				d->host);
		else if (!d->authorised)
			finding(l, "DM-11", SPF_LINT_WARNING,
				dmarc_name(l, v->policy_domain), "RFC 9990 §4",
				"reports to %s go outside %s, but %s has no "
				"v=DMARC1 record accepting them: reporters will "
				"not send them", d->uri, v->author->org_domain,
				d->name);
	}
}

/* The asynchronous run: when the walk's run is done and nothing of the
 * group is out, the findings, then the callback. */
static void lint_advance(spf_dmarc_lint_t *l)
{
	if (l->cb == NULL || l->done || l->sync.pending > 0 ||
	    !spf_dmarc_done(l->run) || (l->alt != NULL && !spf_dmarc_done(l->alt)))
		return;
	l->done = true;
	if (!l->failed && spf_dmarc_status(l->run) == SPF_OK &&
	    (l->alt == NULL || spf_dmarc_status(l->alt) == SPF_OK))
		all_findings(l, spf_dmarc_view(l->run));
	else
		l->failed = true;
	l->cb(l, l->cb_arg);   /* last: it may destroy l */
}

static void on_run(spf_dmarc_t *d, void *arg)
{
	spf_dmarc_lint_t *l = arg;
	const spf_dmarc_view_t *v = spf_dmarc_view(d);

	if (spf_dmarc_status(d) == SPF_OK && v->record != NULL)
		start_dests(l, v->policy_domain, v->author->org_domain, v->record);
	start_extra(l);
	lint_advance(l);
}

static void on_alt(spf_dmarc_t *d, void *arg)
{
	spf_dmarc_lint_t *l = arg;

	(void)d;
	start_extra(l);
	lint_advance(l);
}

/* The requests of the lint's runs: *main by the method asked for,
 * *other by the other one (from_domain NULL: no second run). */
static void requests(const char *domain, const spf_dmarc_lint_opts_t *opts,
	spf_dmarc_request_t *main, spf_dmarc_request_t *other)
{
	const spf_psl_t *psl = opts != NULL ? opts->psl : NULL;
	bool by_psl = opts != NULL && opts->psl_method;

	memset(main, 0, sizeof(*main));
	memset(other, 0, sizeof(*other));
	main->from_domain = domain;
	main->psl = by_psl ? psl : NULL;
	if (psl != NULL) {
		other->from_domain = domain;
		other->psl = by_psl ? NULL : psl;
	}
}

static bool opts_ok(const spf_dmarc_lint_opts_t *opts)
{
	return opts == NULL || !opts->psl_method || opts->psl != NULL;
}

static void lint_opts(spf_dmarc_lint_t *l, const spf_dmarc_lint_opts_t *opts)
{
	l->psl = opts != NULL ? opts->psl : NULL;
	l->psl_method = opts != NULL && opts->psl_method;
}

spf_dmarc_lint_t *spf_dmarc_lint_start(spf_resolver_t *res, const char *domain,
	const spf_dmarc_lint_opts_t *opts, spf_dmarc_lint_cb cb, void *arg,
	spf_status_t *status)
{
	spf_dmarc_request_t req, other;
	spf_dmarc_lint_t *l;
	spf_status_t st = SPF_ENOMEM;

	if (status != NULL)
		*status = SPF_EINVAL;
	if (res == NULL || domain == NULL || cb == NULL || !opts_ok(opts))
		return NULL;
	requests(domain, opts, &req, &other);
	l = spf_calloc(1, sizeof(*l));
	if (l == NULL || (l->arena = spf_arena_create()) == NULL)
		goto fail;
	spf_sync_init(&l->sync, res);
	lint_opts(l, opts);
	l->cb = cb;
	l->cb_arg = arg;
	l->run = spf_dmarc_start(res, &req, on_run, l, &st);
	if (l->run == NULL)
		goto fail;
	if (other.from_domain != NULL &&
	    (l->alt = spf_dmarc_start(res, &other, on_alt, l, &st)) == NULL)
		goto fail;
	st = SPF_ENOMEM;
	/* the walk's start name, as it reads it (lower case, no dot) */
	l->domain = spf_arena_strdup(l->arena, domain);
	if (l->domain == NULL)
		goto fail;
	{
		char *d = (char *)l->domain;
		size_t n = strlen(d);

		if (n > 0 && d[n - 1] == '.')
			d[n - 1] = '\0';
		for (; *d; d++)
			*d = spf_lower(*d);
	}
	if (!spf_sync_query(&l->sync, l->domain, SPF_RR_TXT, on_apex, l))
		goto fail;
	if (status != NULL)
		*status = SPF_OK;
	return l;
fail:
	if (status != NULL)
		*status = st;
	spf_dmarc_lint_destroy(l);
	return NULL;
}

spf_status_t spf_dmarc_lint_status(const spf_dmarc_lint_t *l)
{
	if (l == NULL)
		return SPF_EINVAL;
	return l->failed ? SPF_ENOMEM : SPF_OK;
}

spf_dmarc_lint_t *spf_dmarc_lint_run(spf_resolver_t *res, const char *domain,
	const spf_dmarc_lint_opts_t *opts, spf_status_t *status)
{
	spf_dmarc_request_t req, other;
	spf_dmarc_lint_t *l;
	const spf_dmarc_view_t *v;
	spf_status_t st = SPF_ENOMEM;

	if (status != NULL)
		*status = SPF_EINVAL;
	if (res == NULL || domain == NULL || !opts_ok(opts))
		return NULL;
	requests(domain, opts, &req, &other);
	l = spf_calloc(1, sizeof(*l));
	if (l == NULL || (l->arena = spf_arena_create()) == NULL)
		goto fail;
	spf_sync_init(&l->sync, res);
	lint_opts(l, opts);
	l->run = spf_dmarc_run(res, &req, &st);
	if (l->run == NULL)
		goto fail;
	if (other.from_domain != NULL &&
	    (l->alt = spf_dmarc_run(res, &other, &st)) == NULL)
		goto fail;
	st = SPF_ENOMEM;
	v = spf_dmarc_view(l->run);
	l->domain = v->author->start;
	if (!spf_sync_query(&l->sync, l->domain, SPF_RR_TXT, on_apex, l))
		goto fail;
	if (v->record != NULL)
		start_dests(l, v->policy_domain, v->author->org_domain, v->record);
	start_extra(l);
	spf_sync_wait(&l->sync);
	all_findings(l, v);
	if (l->failed)
		goto fail;
	if (status != NULL)
		*status = SPF_OK;
	return l;
fail:
	if (status != NULL)
		*status = st;
	spf_dmarc_lint_destroy(l);
	return NULL;
}

const spf_dmarc_view_t *spf_dmarc_lint_view(const spf_dmarc_lint_t *l)
{
	return spf_dmarc_view(l->run);
}

size_t spf_dmarc_lint_count(const spf_dmarc_lint_t *l)
{
	return l->n;
}

const spf_lint_finding_t *spf_dmarc_lint_finding(const spf_dmarc_lint_t *l,
	size_t i)
{
	return i < l->n ? &l->findings[i] : NULL;
}

void spf_dmarc_lint_destroy(spf_dmarc_lint_t *l)
{
	if (l == NULL)
		return;
	spf_sync_finish(&l->sync);
	for (size_t i = 0; i < l->nspfdoms; i++)
		spf_dmarc_destroy(l->spfdoms[i].run);
	spf_dmarc_destroy(l->run);
	spf_dmarc_destroy(l->alt);
	spf_arena_destroy(l->arena);
	spf_free(l);
}

spf_dmarc_spf_align_t spf_dmarc_lint_spf(spf_dmarc_lint_t *l,
	const spf_lint_t *spf)
{
	const spf_dmarc_view_t *v = spf_dmarc_view(l->run);

	(void)spf_dmarc_lint_spf_domains(l, spf, NULL, NULL);
	const char *org = v->author->org_domain, *provider = NULL;
	spf_dmarc_spf_align_t a = spf_dmarc_spf_alignable(spf, org, &provider);

	if (a == SPF_DMARC_SPF_PROVIDERS)
		finding(l, "DM-24", SPF_LINT_WARNING, l->domain, "RFC 9989 §4.4",
			"every term of %s's SPF record that can pass is in another "
			"organisation's record (%s) and none under %s: SPF passes "
			"aligned only for mail that provider sends with a MAIL "
			"FROM under %s; mail sent with its own bounce domain "
			"passes DMARC only by DKIM", l->domain,
			provider != NULL ? provider : "?", org, org);
	else if (a == SPF_DMARC_SPF_NEVER)
		finding(l, "DM-24", SPF_LINT_INFO, l->domain, "RFC 9989 §4.4",
			"%s's SPF record passes no address: SPF never passes "
			"aligned, DMARC passes only by DKIM (right for a domain "
			"that sends no mail)", l->domain);
	return a;
}

/* ---- DM-14 for the SPF domains ---- */

static bool ieq(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && spf_strncaseeq(a, b, n);
}

/* The domains of the records l's domain's SPF tree enters (include and
 * redirect targets) that can align with it by the walk or by the PSL:
 * an Organizational Domain is the name itself or an ancestor, so only a
 * name at or below the domain's Organizational Domain by one method or
 * the other can share it.  Each once, at most MAX_SPF_DOMAINS. */
static void spf_domains(spf_dmarc_lint_t *l, const spf_lint_t *spf)
{
	const spf_dmarc_view_t *wv = walk_view(l);
	const char *worg, *porg;
	struct lnode *top = spf_lint_tree(spf);
	struct lwalk w;
	struct lstep st;

	if (l->psl == NULL || wv == NULL || top == NULL)
		return;
	worg = wv->author->org_domain;
	porg = spf_psl_org_domain(l->psl, l->domain);
	spf_lwalk_init(&w, top);
	while (spf_lwalk_next(&w, &st) && l->nspfdoms < MAX_SPF_DOMAINS) {
		const char *d = st.n->domain;
		bool seen = ieq(d, l->domain);
		char *copy;

		if (st.kind != LSTEP_ENTER || !spf_dmarc_domain_ok(d) ||
		    (!at_or_below(d, worg) && !at_or_below(d, porg)))
			continue;
		for (size_t i = 0; i < l->nspfdoms && !seen; i++)
			seen = ieq(l->spfdoms[i].domain, d);
		if (seen)
			continue;
		l->spfdoms[l->nspfdoms].l = l;
		copy = spf_arena_strdup(l->arena, d);
		if (copy == NULL) {
			l->failed = true;
			return;
		}
		for (char *p = copy; *p; p++)   /* as the walks read names */
			*p = spf_lower(*p);
		l->spfdoms[l->nspfdoms++].domain = copy;
	}
}

/* Each SPF domain whose alignment with l's domain the two methods see
 * differently: the walk's Organizational Domains from the runs, the
 * PSL's from the list. */
static void spf_domain_findings(spf_dmarc_lint_t *l)
{
	const char *worg = walk_view(l)->author->org_domain;
	const char *porg = spf_psl_org_domain(l->psl, l->domain);

	for (size_t i = 0; i < l->nspfdoms; i++) {
		const struct spfdom *sd = &l->spfdoms[i];
		const char *dworg, *dporg;
		bool walk_al, psl_al;

		if (sd->run == NULL || spf_dmarc_status(sd->run) != SPF_OK) {
			l->failed = true;
			return;
		}
		dworg = spf_dmarc_view(sd->run)->author->org_domain;
		dporg = spf_psl_org_domain(l->psl, sd->domain);
		walk_al = ieq(dworg, worg);
		psl_al = ieq(dporg, porg);
		if (walk_al == psl_al)
			continue;
		finding(l, "DM-14", SPF_LINT_WARNING, sd->domain, "RFC 9989 §11.8",
			"the DNS Tree Walk (RFC 9989) and the Public Suffix List "
			"(RFC 7489) disagree whether %s, an SPF domain of %s, "
			"aligns with it: by the walk their Organizational "
			"Domains are %s and %s, by the PSL %s and %s; mail with "
			"a MAIL FROM under %s passes DMARC by SPF (relaxed) "
			"only at %s receivers", sd->domain, l->domain, dworg,
			worg, dporg, porg, sd->domain,
			walk_al ? "RFC 9989" : "RFC 7489");
	}
}

static void on_spfdom(spf_dmarc_t *d, void *arg)
{
	struct spfdom *sd = arg;
	spf_dmarc_lint_t *l = sd->l;

	(void)d;
	if (--l->spf_pending > 0)
		return;
	spf_domain_findings(l);
	l->spf_cb(l, l->spf_cb_arg);   /* last: it may destroy l */
}

bool spf_dmarc_lint_spf_domains(spf_dmarc_lint_t *l, const spf_lint_t *spf,
	spf_dmarc_lint_cb cb, void *arg)
{
	spf_status_t st;

	if (l == NULL || spf == NULL || l->failed || l->nspfdoms > 0)
		return false;
	spf_domains(l, spf);
	if (l->nspfdoms == 0 || l->failed)
		return false;
	for (size_t i = 0; i < l->nspfdoms; i++) {
		struct spfdom *sd = &l->spfdoms[i];
		spf_dmarc_request_t req = { .from_domain = sd->domain };

		sd->run = cb != NULL ?
			spf_dmarc_start(l->sync.res, &req, on_spfdom, sd, &st) :
			spf_dmarc_run(l->sync.res, &req, &st);
		if (sd->run == NULL) {
			/* cancel those started: no callback of theirs comes */
			for (size_t j = 0; j < i; j++) {
				spf_dmarc_destroy(l->spfdoms[j].run);
				l->spfdoms[j].run = NULL;
			}
			l->failed = true;
			return false;
		}
	}
	if (cb == NULL) {
		spf_domain_findings(l);
		return false;
	}
	l->spf_pending = l->nspfdoms;
	l->spf_cb = cb;
	l->spf_cb_arg = arg;
	return true;
}
