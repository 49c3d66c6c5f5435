/*
 * walk.c - DMARC policy discovery and Organizational Domains by the DNS
 * Tree Walk (RFC 9989 §4.10), identifier alignment (§4.4), and the
 * DMARC view of one message's SPF leg (and of DKIM domains verified
 * elsewhere).
 *
 * DESCRIPTION
 *	A walk starts at a domain S of x labels and queries TXT at
 *	_dmarc.<name> for: S; then, when x > 8, the 7-label ancestor of S
 *	(the names between are never queried), otherwise S's parent; then
 *	one label less each time, down to the 1-label name (a TLD may hold
 *	a PSD's record).  At most 8 queries.  At each name the TXT records
 *	that are DMARC records are selected: exactly one is the name's
 *	record; none or several is "no record here" and the walk goes on.
 *	A record with psd=y or psd=n stops the walk.
 *
 *	The Organizational Domain of S (§4.10.2), over the records seen:
 *	a psd=n record's name; else, for a psd=y record at a name other
 *	than S, the ancestor of S one label longer than that name (counted
 *	from S, not from the previous query, which may have skipped
 *	labels); else the name with the fewest labels that has a record;
 *	with no record at all, S itself.
 *
 *	Policy discovery (§4.10.1) walks from the Author Domain: its own
 *	record applies if it has one; otherwise the Organizational
 *	Domain's record, otherwise the record of the PSD (psd=y) on the
 *	walk.  A record at a name that is neither is not applied.  Below
 *	the policy domain, sp applies to an existing Author Domain and np
 *	(then sp, then p) to one that does not exist: NXDOMAIN for an A
 *	query of the Author Domain, which is looked up only then.
 *
 *	With a Public Suffix List in the request (RFC 7489's method, for
 *	comparison), a domain's Organizational Domain is its registrable
 *	domain (psl.c) and only the Author Domain's "walk" queries:
 *	_dmarc.<Author Domain>, then, without a record there, _dmarc.<its
 *	Organizational Domain> (RFC 7489 §6.6.3); psd is not read.
 *
 *	Every walk is its own (the SPF domain and each DKIM domain start
 *	their own walk, §4.10.2; two identical names share one).  The
 *	walks of a run go concurrently in one spf_sync_t group; within a
 *	walk each query is started from the answer of the one before, as
 *	the stop rule needs.  A run is a small state machine driven by its
 *	answers (enum run_state): R_WALKS until the group is idle, then
 *	R_EXISTS while the Author Domain's A query (for np) is out, then
 *	R_DONE, when spf_dmarc_start()'s callback runs, from the loop.
 *	spf_dmarc_run() is the same run waited for with spf_sync_wait().
 *
 * DIAGNOSTICS
 *	A query that fails (TEMPFAIL, BADREPLY, or the loop stopping)
 *	counts as "no record" for the walk, which goes on, and marks it
 *	dns_error: a DMARC result that depends on it is temperror.
 */
#include "internal.h"

#include <string.h>

struct walker {
	spf_dmarc_t *run;
	spf_dmarc_walk_t *w;
	const char *labels[128];   /* start of each label of the start name */
	size_t nlabels;
	size_t next;               /* labels to drop for the next query */
	const char *psl_org;       /* RFC 7489 mode: the registrable domain */
	bool queries;              /* RFC 7489 mode: the Author Domain's */
};

/* Where a run is (the names are --debug's words too). */
enum run_state {
	R_WALKS = 0,     /* the walks' queries are out */
	R_EXISTS,        /* the Author Domain's A query (np) is out */
	R_DONE,          /* the view is complete */
};

struct spf_dmarc {
	spf_arena_t *arena;
	spf_sync_t sync;
	spf_dmarc_view_t view;
	struct walker *walkers;
	size_t nwalkers;
	bool failed;               /* ENOMEM inside a callback */
	bool stopped;              /* the loop stopped before the end */
	spf_dns_status_t exists_status;
	enum run_state state;
	/* what decide() needs of the request (copied: req is borrowed for
	 * spf_dmarc_start() only) */
	const char *from_domain, *spf_domain;
	const char **dkim_domains;
	size_t ndkim;
	spf_result_t spf_result;
	const spf_psl_t *psl;      /* RFC 7489's method, or NULL: the walk */
	spf_dmarc_cb cb;           /* NULL: spf_dmarc_run() waits */
	void *cb_arg;
};

static void advance(spf_dmarc_t *run);

const char *spf_dmarc_where_str(spf_dmarc_where_t w)
{
	switch (w) {
	case SPF_DMARC_AT_AUTHOR:
		return "author domain";
	case SPF_DMARC_AT_ORG:
		return "organizational domain";
	case SPF_DMARC_AT_PSD:
		return "public suffix domain";
	default:
		return "none";
	}
}

const char *spf_dmarc_result_str(spf_dmarc_result_t r)
{
	switch (r) {
	case SPF_DMARC_RESULT_PASS:
		return "pass";
	case SPF_DMARC_RESULT_FAIL:
		return "fail";
	case SPF_DMARC_RESULT_TEMPERROR:
		return "temperror";
	case SPF_DMARC_RESULT_DKIM_UNKNOWN:
		return "unknown";
	default:
		return "none";
	}
}

static size_t count_labels(const char *d)
{
	size_t n = 1;

	for (; *d; d++)
		n += *d == '.';
	return n;
}

/* The labels to drop from the start for query number k (0-based) of a
 * walk over n labels: 0, then the 7-label ancestor when n > 8 (else one
 * label), then one more each time. */
static size_t drop_for(size_t n, size_t k)
{
	if (k == 0)
		return 0;
	if (n > SPF_DMARC_WALK_MAX)
		return n - (SPF_DMARC_WALK_MAX - 1) + (k - 1);
	return k;
}

static void walk_query(struct walker *wk);

static void on_txt(const spf_dns_answer_t *ans, void *arg)
{
	struct walker *wk = arg;
	spf_dmarc_walk_t *w = wk->w;
	spf_dmarc_step_t *st = &w->steps[w->nsteps - 1];
	spf_arena_t *arena = wk->run->arena;
	const spf_dmarc_record_t **txt = NULL;
	size_t n;

	if (ans == NULL) {   /* cancelled by a stopped loop: not reached */
		st->status = SPF_DNS_TEMPFAIL;
		w->dns_error = true;
		advance(wk->run);
		return;
	}
	st->status = spf_dns_answer_status(ans);
	st->detail = NULL;
	if (spf_dns_answer_detail(ans) != NULL)
		st->detail = spf_arena_strdup(arena, spf_dns_answer_detail(ans));
	if (st->status == SPF_DNS_TEMPFAIL || st->status == SPF_DNS_BADREPLY)
		w->dns_error = true;
	n = st->status == SPF_DNS_OK ? spf_dns_answer_count(ans) : 0;
	if (n > 0)
		txt = spf_arena_alloc(arena, n * sizeof(*txt));
	if (n > 0 && txt == NULL) {
		wk->run->failed = true;
		advance(wk->run);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_dmarc_record_t *rec;

		if (spf_dmarc_parse(arena, rr->u.txt.data, rr->u.txt.len,
		    &rec) != SPF_OK) {
			wk->run->failed = true;
			advance(wk->run);
			return;
		}
		txt[st->ntxt++] = rec;
		if (rec->is_dmarc) {
			st->ndmarc++;
			st->record = rec;
		}
	}
	st->txt = txt;
	if (st->ndmarc != 1)
		st->record = NULL;    /* several: all discarded (§4.10) */
	/* psd=y or psd=n stops the walk; RFC 7489 knows no psd */
	if (st->record == NULL || (wk->psl_org == NULL && st->record->psd == 'u'))
		walk_query(wk);
	advance(wk->run);   /* last: its callback may destroy the run */
}

/* Start the walk's next query, if any is left. */
static void walk_query(struct walker *wk)
{
	spf_dmarc_walk_t *w = wk->w;
	size_t drop = drop_for(wk->nlabels, w->nsteps);
	spf_dmarc_step_t *st;
	const char *name;

	if (w->nsteps >= SPF_DMARC_WALK_MAX || drop >= wk->nlabels ||
	    spf_sync_stopped(&wk->run->sync))
		return;
	/* RFC 7489 §6.6.3: the Author Domain, then its Organizational
	 * Domain; only policy discovery queries */
	if (wk->psl_org != NULL && (!wk->queries || w->nsteps > 1 ||
	    (w->nsteps == 1 && strcmp(wk->psl_org, w->start) == 0)))
		return;
	st = &w->steps[w->nsteps++];
	st->domain = wk->psl_org != NULL && w->nsteps == 2 ? wk->psl_org :
		wk->labels[drop];
	st->status = SPF_DNS_TEMPFAIL;   /* until answered */
	st->detail = "not answered";
	name = spf_arena_printf(wk->run->arena, "_dmarc.%s", st->domain);
	if (name == NULL || !spf_sync_query(&wk->run->sync, name, SPF_RR_TXT,
	    on_txt, wk)) {
		st->status = SPF_DNS_TEMPFAIL;
		st->detail = "out of memory";
		w->dns_error = true;
		wk->run->failed = true;
	}
}

/* The Organizational Domain of a finished walk (§4.10.2). */
static void org_domain(struct walker *wk)
{
	spf_dmarc_walk_t *w = wk->w;
	const spf_dmarc_step_t *last = NULL;

	w->org_domain = w->start;
	w->org_rule = SPF_DMARC_ORG_SELF;
	if (wk->psl_org != NULL) {
		w->org_domain = wk->psl_org;
		w->org_rule = SPF_DMARC_ORG_PSL;
		return;
	}
	for (size_t i = 0; i < w->nsteps; i++)
		if (w->steps[i].record != NULL)
			last = &w->steps[i];
	if (last == NULL)
		return;
	if (last->record->psd == 'n') {
		w->org_domain = last->domain;
		w->org_rule = SPF_DMARC_ORG_PSD_N;
	} else if (last->record->psd == 'y' && last != &w->steps[0]) {
		size_t psd_labels = count_labels(last->domain);

		/* one label more than the PSD, counted from the start */
		w->org_domain = wk->labels[wk->nlabels - psd_labels - 1];
		w->org_rule = SPF_DMARC_ORG_BELOW_PSD;
	} else {
		w->org_domain = last->domain;  /* the fewest labels */
		w->org_rule = SPF_DMARC_ORG_SHORTEST;
	}
}

/* A walker for start (lower-cased copy in the arena); false on ENOMEM. */
static bool walker_init(spf_dmarc_t *run, struct walker *wk, const char *start)
{
	char *s = spf_arena_strdup(run->arena, start);
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
	for (char *p = s; *p; p++)
		*p = spf_lower(*p);
	wk->run = run;
	wk->w = spf_arena_alloc(run->arena, sizeof(*wk->w));
	if (wk->w == NULL)
		return false;
	wk->w->start = s;
	wk->labels[wk->nlabels++] = s;
	for (char *p = s; *p; p++)
		if (*p == '.' && wk->nlabels < 128)
			wk->labels[wk->nlabels++] = p + 1;
	if (run->psl != NULL)
		wk->psl_org = spf_psl_org_domain(run->psl, s);
	return true;
}

bool spf_dmarc_aligned(const char *a, const char *org_a, const char *b,
	const char *org_b, bool strict)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return false;
	if (!strict) {
		if (org_a == NULL || org_b == NULL)
			return false;
		a = org_a;
		b = org_b;
	}
	la = strlen(a);
	lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && spf_strncaseeq(a, b, la);
}

/* The walker of an earlier identical start, or NULL. */
static const spf_dmarc_walk_t *same_walk(spf_dmarc_t *run, const char *d)
{
	for (size_t i = 0; i < run->nwalkers; i++)
		if (spf_dmarc_aligned(run->walkers[i].w->start, NULL, d, NULL,
		    true))
			return run->walkers[i].w;
	return NULL;
}

bool spf_dmarc_domain_ok(const char *d)
{
	char name[256];
	size_t n;

	if (d == NULL || (n = strlen(d)) == 0 || n >= sizeof(name))
		return false;
	memcpy(name, d, n + 1);
	if (name[n - 1] == '.')
		name[n - 1] = '\0';
	if (!spf_name_ok(name))
		return false;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (!(c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

static void on_exists(const spf_dns_answer_t *ans, void *arg)
{
	spf_dmarc_t *run = arg;

	run->exists_status = ans != NULL ? spf_dns_answer_status(ans) :
		SPF_DNS_TEMPFAIL;
	advance(run);   /* last: its callback may destroy the run */
}

/* Which record applies (§4.10.1).  True when the policy needs to know
 * whether the Author Domain exists (a record not its own): the A query
 * is then started, and finish_discovery() reads its answer. */
static bool discover(spf_dmarc_t *run)
{
	spf_dmarc_view_t *v = &run->view;
	const spf_dmarc_walk_t *w = v->author;
	const spf_dmarc_step_t *psd = NULL, *org = NULL;

	if (w->nsteps > 0 && w->steps[0].record != NULL) {
		v->where = SPF_DMARC_AT_AUTHOR;
		v->record = w->steps[0].record;
		v->policy_domain = w->steps[0].domain;
		v->policy = spf_dmarc_policy_for(v->record, false, true,
			&v->policy_tag);
		return false;
	}
	for (size_t i = 0; i < w->nsteps; i++) {
		const spf_dmarc_step_t *st = &w->steps[i];

		if (st->record == NULL)
			continue;
		if (strcmp(st->domain, w->org_domain) == 0)
			org = st;
		else if (st->record->psd == 'y')
			psd = st;
	}
	if (org == NULL && psd == NULL)
		return false;
	v->where = org != NULL ? SPF_DMARC_AT_ORG : SPF_DMARC_AT_PSD;
	if (org == NULL)
		org = psd;
	v->record = org->record;
	v->policy_domain = org->domain;
	/* is the Author Domain there?  NXDOMAIN says no for every type */
	v->author_checked = true;
	run->exists_status = SPF_DNS_TEMPFAIL;
	if (run->stopped)
		return true;
	if (!spf_sync_query(&run->sync, w->start, SPF_RR_A, on_exists, run)) {
		run->failed = true;
		return false;
	}
	return true;
}

static void finish_discovery(spf_dmarc_t *run)
{
	spf_dmarc_view_t *v = &run->view;

	if (!v->author_checked)
		return;
	v->author_exists = run->exists_status != SPF_DNS_NXDOMAIN;
	v->policy = spf_dmarc_policy_for(v->record, true, v->author_exists,
		&v->policy_tag);
}

static spf_dmarc_policy_t lower(spf_dmarc_policy_t p)
{
	return p == SPF_DMARC_REJECT ? SPF_DMARC_QUARANTINE :
		p == SPF_DMARC_QUARANTINE ? SPF_DMARC_NONE : p;
}

static void decide(spf_dmarc_t *run)
{
	spf_dmarc_view_t *v = &run->view;
	const spf_dmarc_record_t *rec = v->record;
	bool *dk = NULL;

	v->applied = rec != NULL && rec->testing ? lower(v->policy) : v->policy;
	v->spf_pass = v->spf != NULL && run->spf_result == SPF_RESULT_PASS;
	if (v->spf != NULL)
		v->spf_aligned = v->spf_pass && spf_dmarc_aligned(v->spf->start,
			v->spf->org_domain, v->author->start,
			v->author->org_domain, rec != NULL && rec->aspf_strict);
	if (v->ndkim > 0) {
		dk = spf_arena_alloc(run->arena, v->ndkim * sizeof(*dk));
		if (dk == NULL) {
			run->failed = true;
			return;
		}
	}
	for (size_t i = 0; i < v->ndkim; i++) {
		dk[i] = spf_dmarc_aligned(v->dkim[i]->start,
			v->dkim[i]->org_domain, v->author->start,
			v->author->org_domain, rec != NULL && rec->adkim_strict);
		v->any_dkim_aligned |= dk[i];
	}
	v->dkim_aligned = dk;
	if (rec == NULL || !rec->usable)
		v->result = v->author->dns_error ? SPF_DMARC_RESULT_TEMPERROR :
			SPF_DMARC_RESULT_NONE;
	else if (v->spf_aligned || v->any_dkim_aligned)
		v->result = SPF_DMARC_RESULT_PASS;
	else if (v->author->dns_error || (v->spf != NULL && v->spf_pass &&
	    v->spf->dns_error))
		v->result = SPF_DMARC_RESULT_TEMPERROR;
	else if (v->ndkim == 0)
		v->result = SPF_DMARC_RESULT_DKIM_UNKNOWN;
	else
		v->result = SPF_DMARC_RESULT_FAIL;
}

/* The walks are done: Organizational Domains, and which walk is whose. */
static bool finish_walks(spf_dmarc_t *run)
{
	const spf_dmarc_walk_t **dkim = NULL;

	for (size_t i = 0; i < run->nwalkers; i++)
		org_domain(&run->walkers[i]);
	run->view.author = same_walk(run, run->from_domain);
	if (run->spf_domain != NULL)
		run->view.spf = same_walk(run, run->spf_domain);
	if (run->ndkim > 0) {
		dkim = spf_arena_alloc(run->arena, run->ndkim * sizeof(*dkim));
		if (dkim == NULL)
			return false;
		for (size_t i = 0; i < run->ndkim; i++)
			dkim[i] = same_walk(run, run->dkim_domains[i]);
	}
	run->view.dkim = dkim;
	run->view.ndkim = run->ndkim;
	return true;
}

/*
 * Move the run on when nothing of the group is out: R_WALKS -> R_EXISTS
 * (when the Author Domain's existence matters) -> R_DONE, then the
 * callback.  Called last by every callback of the group, and by
 * spf_dmarc_run() after a wait the loop cut short.
 */
static void advance(spf_dmarc_t *run)
{
	if (run->sync.pending > 0 || run->state == R_DONE)
		return;
	if (run->state == R_WALKS) {
		if (!finish_walks(run)) {
			run->failed = true;
			run->view.author = NULL;
		} else if (discover(run) && !run->stopped) {
			run->state = R_EXISTS;
			return;
		}
	}
	if (run->view.author != NULL) {
		finish_discovery(run);
		decide(run);
	}
	run->state = R_DONE;
	if (run->cb != NULL)
		run->cb(run, run->cb_arg);
}

spf_dmarc_t *spf_dmarc_start(spf_resolver_t *res, const spf_dmarc_request_t *req,
	spf_dmarc_cb cb, void *arg, spf_status_t *status)
{
	spf_dmarc_t *run = NULL;
	spf_status_t st = SPF_EINVAL;
	const char *starts[2 + 64];
	size_t nstarts = 0;

	if (res == NULL || req == NULL || !spf_dmarc_domain_ok(req->from_domain) ||
	    req->ndkim > 64 || (req->ndkim > 0 && req->dkim_domains == NULL))
		goto done;
	for (size_t i = 0; i < req->ndkim; i++)
		if (!spf_dmarc_domain_ok(req->dkim_domains[i]))
			goto done;
	st = SPF_ENOMEM;
	run = spf_calloc(1, sizeof(*run));
	if (run == NULL || (run->arena = spf_arena_create()) == NULL)
		goto done;
	spf_sync_init(&run->sync, res);
	run->cb = cb;
	run->cb_arg = arg;
	run->spf_result = req->spf_result;
	run->ndkim = req->ndkim;
	run->psl = req->psl;
	run->view.psl = req->psl != NULL;
	run->from_domain = spf_arena_strdup(run->arena, req->from_domain);
	if (run->from_domain == NULL)
		goto done;
	starts[nstarts++] = run->from_domain;
	/* an SPF domain that is not a name (SPF said none for it) cannot
	 * align: no walk for it */
	if (req->spf_domain != NULL && spf_dmarc_domain_ok(req->spf_domain)) {
		run->spf_domain = spf_arena_strdup(run->arena, req->spf_domain);
		if (run->spf_domain == NULL)
			goto done;
		starts[nstarts++] = run->spf_domain;
	}
	if (req->ndkim > 0) {
		run->dkim_domains = spf_arena_alloc(run->arena,
			req->ndkim * sizeof(*run->dkim_domains));
		if (run->dkim_domains == NULL)
			goto done;
	}
	for (size_t i = 0; i < req->ndkim; i++) {
		run->dkim_domains[i] = spf_arena_strdup(run->arena,
			req->dkim_domains[i]);
		if (run->dkim_domains[i] == NULL)
			goto done;
		starts[nstarts++] = run->dkim_domains[i];
	}
	run->walkers = spf_arena_alloc(run->arena, nstarts * sizeof(struct walker));
	if (run->walkers == NULL)
		goto done;
	memset(run->walkers, 0, nstarts * sizeof(struct walker));
	for (size_t i = 0; i < nstarts; i++) {
		if (same_walk(run, starts[i]) != NULL)
			continue;
		if (!walker_init(run, &run->walkers[run->nwalkers], starts[i]))
			goto done;
		run->nwalkers++;
	}
	/* the Author Domain's is the first (RFC 7489 mode: the only one
	 * that queries) */
	run->walkers[0].queries = true;
	for (size_t i = 0; i < run->nwalkers; i++)
		walk_query(&run->walkers[i]);
	/* every walk starts with a query; none out means none could start */
	if (run->failed || run->sync.pending == 0)
		goto done;
	st = SPF_OK;
done:
	if (status != NULL)
		*status = st;
	if (st != SPF_OK) {
		spf_dmarc_destroy(run);
		return NULL;
	}
	return run;
}

spf_status_t spf_dmarc_status(const spf_dmarc_t *d)
{
	if (d == NULL)
		return SPF_EINVAL;
	return d->failed ? SPF_ENOMEM : SPF_OK;
}

bool spf_dmarc_done(const spf_dmarc_t *d)
{
	return d != NULL && d->state == R_DONE;
}

spf_dmarc_t *spf_dmarc_run(spf_resolver_t *res, const spf_dmarc_request_t *req,
	spf_status_t *status)
{
	spf_dmarc_t *run = spf_dmarc_start(res, req, NULL, NULL, status);

	if (run == NULL)
		return NULL;
	while (run->state != R_DONE) {
		if (!spf_sync_wait(&run->sync)) {
			/* the loop stopped first: what was out is cancelled
			 * and counts as not answered */
			run->stopped = true;
			for (size_t i = 0; i < run->nwalkers; i++)
				run->walkers[i].w->dns_error = true;
		}
		advance(run);
	}
	if (run->failed) {
		if (status != NULL)
			*status = SPF_ENOMEM;
		spf_dmarc_destroy(run);
		return NULL;
	}
	return run;
}

const spf_dmarc_view_t *spf_dmarc_view(const spf_dmarc_t *d)
{
	return d != NULL ? &d->view : NULL;
}

void spf_dmarc_destroy(spf_dmarc_t *d)
{
	if (d == NULL)
		return;
	spf_sync_finish(&d->sync);
	spf_arena_destroy(d->arena);
	spf_free(d);
}
