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
#include "internal.h"

#include <string.h>

#define MAX_DEST 32            /* external destinations checked */

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

/* Every finding, once the walk and the group's lookups are answered. */
static void all_findings(spf_dmarc_lint_t *l, const spf_dmarc_view_t *v)
{
	walk_findings(l, v);
	policy_findings(l, v);
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
	    !spf_dmarc_done(l->run))
		return;
	l->done = true;
	if (!l->failed && spf_dmarc_status(l->run) == SPF_OK)
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
	lint_advance(l);
}

spf_dmarc_lint_t *spf_dmarc_lint_start(spf_resolver_t *res, const char *domain,
	spf_dmarc_lint_cb cb, void *arg, spf_status_t *status)
{
	spf_dmarc_request_t req = { .from_domain = domain };
	spf_dmarc_lint_t *l;
	spf_status_t st = SPF_ENOMEM;

	if (status != NULL)
		*status = SPF_EINVAL;
	if (res == NULL || domain == NULL || cb == NULL)
		return NULL;
	l = spf_calloc(1, sizeof(*l));
	if (l == NULL || (l->arena = spf_arena_create()) == NULL)
		goto fail;
	spf_sync_init(&l->sync, res);
	l->cb = cb;
	l->cb_arg = arg;
	l->run = spf_dmarc_start(res, &req, on_run, l, &st);
	if (l->run == NULL)
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
	spf_status_t *status)
{
	spf_dmarc_request_t req = { .from_domain = domain };
	spf_dmarc_lint_t *l;
	const spf_dmarc_view_t *v;
	spf_status_t st = SPF_ENOMEM;

	if (status != NULL)
		*status = SPF_EINVAL;
	if (res == NULL || domain == NULL)
		return NULL;
	l = spf_calloc(1, sizeof(*l));
	if (l == NULL || (l->arena = spf_arena_create()) == NULL)
		goto fail;
	spf_sync_init(&l->sync, res);
	l->run = spf_dmarc_run(res, &req, &st);
	if (l->run == NULL)
		goto fail;
	st = SPF_ENOMEM;
	v = spf_dmarc_view(l->run);
	l->domain = v->author->start;
	if (!spf_sync_query(&l->sync, l->domain, SPF_RR_TXT, on_apex, l))
		goto fail;
	if (v->record != NULL)
		start_dests(l, v->policy_domain, v->author->org_domain, v->record);
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
	spf_dmarc_destroy(l->run);
	spf_arena_destroy(l->arena);
	spf_free(l);
}

spf_dmarc_spf_align_t spf_dmarc_lint_spf(spf_dmarc_lint_t *l,
	const spf_lint_t *spf)
{
	const spf_dmarc_view_t *v = spf_dmarc_view(l->run);
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
