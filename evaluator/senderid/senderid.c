/*
 * senderid.c - SenderID (RFC 4406) conflicts of a domain: SPECS A.9,
 * SID-01 ... SID-14.
 *
 * DESCRIPTION
 *	spf_senderid_check() fetches the TXT and type SPF (99) records of a
 *	domain, classifies every record's version section (record.c), and
 *	selects the record each class of receivers applies (select.c):
 *	RFC 7208 receivers (TXT, v=spf1), Sender ID for mfrom and for pra
 *	(RFC 4406 §4.4 with the §3.4 v=spf1 fallback, TXT and type 99), and
 *	Sender ID for pra as Mail::SPF does it (spf2.0 only, TXT only).
 *	Then it looks for each conflict of SPECS A.9 in order and records
 *	its id, severity, a one-line summary, the explanation and the fix.
 *
 *	SID-02 and SID-05 name concrete addresses (the SID-05 method): the
 *	ip4/ip6 networks of both record trees are collected, following
 *	include and redirect and resolving a and mx (targets with macros are
 *	skipped; at most MAX_TREE_RECORDS records, MAX_TREE_LOOKUPS lookups
 *	and MAX_NETS networks); both policies are evaluated with
 *	spf_check_sync() at each network's first and last address and at one
 *	address outside every network per family; the addresses whose
 *	verdicts differ are reported.
 *
 *	The report is synchronous: it runs the resolver's loop for each
 *	lookup and evaluation.  Everything lives in the report's arena; DNS
 *	answers are referenced until the report is destroyed.
 *
 * DIAGNOSTICS
 *	A DNS failure is not an error of the report: the lookup status is
 *	kept (spf_senderid_dns_status()) and the records seen are the ones
 *	reported.  SPF_ENOMEM when memory runs out, SPF_EINVAL for a NULL
 *	argument or a name that is not a domain name.
 */
#include "internal.h"
#include "ipset.h"

#include <string.h>

#define MAX_TREE_RECORDS 11   /* the record and 10 include/redirect targets */
#define MAX_TREE_LOOKUPS 40   /* a/mx resolution while collecting networks */
#define MAX_NETS 64
#define MAX_PROBES (2 * MAX_NETS + 2)
#define RRSET_ADVICE 450      /* RFC 7208 §3.4 */

struct answer_ref {
	spf_dns_answer_t *ans;
	struct answer_ref *next;
};

struct spf_senderid_report {
	spf_arena_t *arena;
	spf_resolver_t *res;
	const char *domain;
	bool oom;
	struct answer_ref *answers;
	spf_dns_answer_t *txt, *spf99;
	spf_sid_record_t *records;
	const spf_dns_rr_t **rrs;        /* the rr of each record */
	spf_version_info_t *vinfo;
	spf_record_t **parsed;           /* NULL when it does not parse */
	size_t nrecords;
	spf_sid_policy_t policies[4];
	spf_selection_t sel[4];
	size_t npolicies;
	spf_sid_conflict_t *conflicts;
	size_t nconflicts, cap;
};

enum { P_RFC7208, P_MFROM, P_PRA, P_PRA_STRICT };

char spf_sid_severity_char(spf_sid_severity_t s)
{
	switch (s) {
	case SPF_SID_ERROR: return 'E';
	case SPF_SID_WARNING: return 'W';
	case SPF_SID_INFO: return 'I';
	}
	return '?';
}

/* ---- DNS, synchronously ---- */

static void on_lookup(const spf_dns_answer_t *ans, void *arg)
{
	*(spf_dns_answer_t **)arg = spf_dns_answer_ref((spf_dns_answer_t *)ans);
}

/* Look name/type up; the answer is kept until the report dies.  NULL
 * when the loop could not deliver one (treated as a failed lookup). */
static const spf_dns_answer_t *lookup(spf_senderid_report_t *r,
	const char *name, uint16_t type)
{
	spf_sync_t s;
	spf_dns_answer_t *ans = NULL;
	struct answer_ref *ref;

	spf_sync_init(&s, r->res);
	if (!spf_sync_query(&s, name, type, on_lookup, &ans)) {
		r->oom = true;
		return NULL;
	}
	/* when the loop stops first, the query is cancelled: ans stays NULL */
	spf_sync_wait(&s);
	spf_sync_finish(&s);
	if (ans == NULL)
		return NULL;
	ref = spf_arena_alloc(r->arena, sizeof(*ref));
	if (ref == NULL) {
		spf_dns_answer_unref(ans);
		r->oom = true;
		return NULL;
	}
	ref->ans = ans;
	ref->next = r->answers;
	r->answers = ref;
	return ans;
}

static spf_dns_status_t ans_status(const spf_dns_answer_t *ans)
{
	return ans != NULL ? spf_dns_answer_status(ans) : SPF_DNS_TEMPFAIL;
}

/* Evaluate one policy at ip; temperror when the job cannot start. */
static spf_result_t evaluate(spf_senderid_report_t *r, const spf_addr_t *ip,
	spf_scope_t scope, const char **problem)
{
	spf_request_t req = { 0 };
	spf_job_t *job;
	spf_result_t res;
	const char *sender = spf_arena_printf(r->arena, "postmaster@%s", r->domain);

	if (sender == NULL) {
		r->oom = true;
		return SPF_RESULT_TEMPERROR;
	}
	req.ip = *ip;
	req.sender = sender;
	req.helo = r->domain;
	req.scope = scope;
	req.v1_for_pra = true;       /* RFC 4406 §3.4, as deployed receivers do */
	req.query_spf99 = true;
	req.now = 1;                 /* reproducible %{t} */
	job = spf_check_sync(r->res, &req, NULL);
	if (job == NULL) {
		r->oom = true;
		return SPF_RESULT_TEMPERROR;
	}
	res = spf_job_result(job);
	if (problem != NULL)
		*problem = spf_job_problem(job) ?
			spf_arena_strdup(r->arena, spf_job_problem(job)) : NULL;
	spf_job_destroy(job);
	return res;
}

/* ---- records ---- */

static const char *printable(spf_arena_t *arena, const uint8_t *p, size_t n)
{
	spf_buf_t b;
	const char *s;

	spf_buf_init(&b, 4 * 70000);
	spf_buf_escape(&b, p, n, SPF_ESC_ZONE, 0);
	s = b.err == SPF_OK ? spf_arena_strdup(arena, spf_buf_cstr(&b)) : NULL;
	spf_buf_finish(&b);
	return s;
}

/* Append the records of ans worth showing (all of type 99; the
 * SPF-looking TXT records). */
static void collect(spf_senderid_report_t *r, const spf_dns_answer_t *ans)
{
	size_t n = ans_status(ans) == SPF_DNS_OK ? spf_dns_answer_count(ans) : 0;

	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_version_info_t *vi = &r->vinfo[r->nrecords];
		spf_sid_record_t *rec = &r->records[r->nrecords];
		spf_parse_error_t perr;

		spf_record_version(rr->u.txt.data, rr->u.txt.len, vi);
		if (vi->version == 0 && rr->type == SPF_RR_TXT)
			continue;
		rec->rrtype = rr->type;
		rec->text = printable(r->arena, rr->u.txt.data, rr->u.txt.len);
		if (rec->text == NULL)
			r->oom = true;
		rec->version = vi->version;
		rec->well_formed = vi->version != 0 && vi->well_formed;
		rec->mfrom = (vi->scopes & SPF_SCOPE_BIT_MFROM) != 0;
		rec->pra = (vi->scopes & SPF_SCOPE_BIT_PRA) != 0;
		rec->problem = vi->version == 2 ? vi->problem : NULL;
		r->rrs[r->nrecords] = rr;
		if (rec->well_formed &&
		    spf_record_parse_version(r->arena, rr->u.txt.data, rr->u.txt.len,
		    &r->parsed[r->nrecords], &perr) == SPF_ENOMEM)
			r->oom = true;
		r->nrecords++;
	}
}

static int record_index(const spf_senderid_report_t *r, const spf_dns_rr_t *rr)
{
	for (size_t i = 0; i < r->nrecords; i++)
		if (r->rrs[i] == rr)
			return (int)i;
	return -1;
}

static const char *rrname(uint16_t type)
{
	return type == SPF_RR_SPF ? "SPF" : "TXT";
}

/* "TXT \"v=spf1 ...\"" for messages, shortened. */
static const char *quote(spf_senderid_report_t *r, size_t i)
{
	const char *t = r->records[i].text ? r->records[i].text : "";
	size_t n = strlen(t);

	return spf_arena_printf(r->arena, "%s \"%.*s%s\"", rrname(r->records[i].rrtype),
		n > 60 ? 57 : (int)n, t, n > 60 ? "..." : "");
}

static void make_policies(spf_senderid_report_t *r)
{
	static const struct {
		const char *key;
		const char *receiver;
		spf_scope_t scope;
		bool v1_for_pra;
		bool spf99;
	} defs[4] = {
		{ "rfc7208", "RFC 7208 receivers (MAIL FROM and HELO; TXT, v=spf1 only)",
		  SPF_SCOPE_RFC7208, false, false },
		{ "mfrom", "Sender ID mfrom (RFC 4406 §4.4: TXT and type 99)",
		  SPF_SCOPE_MFROM, false, true },
		{ "pra", "Sender ID pra (RFC 4406 §3.4: v=spf1 when no spf2.0/pra; Microsoft)",
		  SPF_SCOPE_PRA, true, true },
		{ "pra-strict", "Sender ID pra, spf2.0 only (Mail::SPF; TXT only)",
		  SPF_SCOPE_PRA, false, false },
	};

	for (size_t i = 0; i < 4; i++) {
		spf_sid_policy_t *p = &r->policies[i];
		spf_selection_t *s = &r->sel[i];

		spf_record_select(r->txt, defs[i].spf99 ? r->spf99 : NULL, defs[i].scope,
			defs[i].v1_for_pra, s);
		p->key = defs[i].key;
		p->receiver = defs[i].receiver;
		p->record = s->ncand == 1 ? record_index(r, s->rr) : -1;
		if (s->ncand == 0) {
			p->selection = SPF_RESULT_NONE;
			p->summary = "no record applies: result none";
		} else if (s->ncand > 1) {
			p->selection = SPF_RESULT_PERMERROR;
			p->summary = spf_arena_printf(r->arena, "%zu %s records apply: "
				"result permerror", s->ncand, s->version == 2 ? "spf2.x" : "v=spf1");
		} else {
			p->selection = SPF_RESULT_NEUTRAL;
			p->summary = p->record >= 0 ? spf_arena_printf(r->arena, "%s%s",
				quote(r, (size_t)p->record), s->used_spf99 ?
				" (type 99 present: TXT ignored)" : "") : "";
		}
		if (p->summary == NULL)
			r->oom = true;
	}
	r->npolicies = 4;
}

/* ---- conflicts ---- */

static spf_sid_conflict_t *add(spf_senderid_report_t *r, const char *id,
	spf_sid_severity_t sev, const char *ref, const char *summary,
	const char *explanation, const char *fix)
{
	spf_sid_conflict_t *c;

	if (summary == NULL) {
		r->oom = true;
		return NULL;
	}
	if (r->nconflicts == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		spf_sid_conflict_t *n = spf_arena_alloc(r->arena, cap * sizeof(*n));

		if (n == NULL) {
			r->oom = true;
			return NULL;
		}
		if (r->nconflicts > 0)
			memcpy(n, r->conflicts, r->nconflicts * sizeof(*n));
		r->conflicts = n;
		r->cap = cap;
	}
	c = &r->conflicts[r->nconflicts++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->severity = sev;
	c->reference = ref;
	c->summary = summary;
	c->explanation = explanation;
	c->fix = fix;
	return c;
}

/* The v=spf1 record the domain publishes: the one RFC 7208 receivers
 * use, else a well-formed one in type 99; -1 if none, or if the one
 * receivers use does not parse (the rules that compare terms have no
 * terms to compare then; the record's own error is lint's to report). */
static int v1_record(const spf_senderid_report_t *r)
{
	int v1 = r->policies[P_RFC7208].record;

	if (v1 >= 0)
		return r->parsed[v1] != NULL ? v1 : -1;
	for (size_t i = 0; i < r->nrecords; i++)
		if (r->records[i].version == 1 && r->parsed[i] != NULL)
			return (int)i;
	return -1;
}

/* Is there a well-formed spf2.x record covering pra (TXT or type 99)? */
static bool has_pra_record(const spf_senderid_report_t *r)
{
	for (size_t i = 0; i < r->nrecords; i++)
		if (r->records[i].version == 2 && r->records[i].well_formed &&
		    r->records[i].pra)
			return true;
	return false;
}

/* The record name has for scope (Sender ID selection with the v=spf1
 * fallback, or RFC 7208), parsed; NULL when there is none. */
static const spf_record_t *fetch_record(spf_senderid_report_t *r,
	const char *name, spf_scope_t scope)
{
	const spf_dns_answer_t *txt = lookup(r, name, SPF_RR_TXT);
	const spf_dns_answer_t *s99 = scope != SPF_SCOPE_RFC7208 ?
		lookup(r, name, SPF_RR_SPF) : NULL;
	spf_selection_t sel;
	spf_record_t *rec = NULL;
	spf_parse_error_t perr;

	spf_record_select(txt, s99, scope, true, &sel);
	if (sel.rr == NULL || spf_record_parse_version(r->arena, sel.rr->u.txt.data,
	    sel.rr->u.txt.len, &rec, &perr) != SPF_OK)
		return NULL;
	return rec;
}

/* The qualifier of the "all" that ends the record, following
 * redirect= (up to 10) when it has none; 0 when there is none or a
 * target cannot be read. */
static char effective_all(spf_senderid_report_t *r, const spf_record_t *rec,
	const char **via)
{
	*via = NULL;
	for (int hops = 0; rec != NULL && hops <= 10; hops++) {
		const spf_term_t *t;

		if (rec->all >= 0)
			return rec->terms[rec->all].qualifier;
		if (rec->redirect < 0)
			return 0;
		t = &rec->terms[rec->redirect];
		if (t->domain_spec == NULL || memchr(t->domain_spec, '%', t->domain_spec_len))
			return 0;
		*via = t->domain_spec;
		rec = fetch_record(r, t->domain_spec, SPF_SCOPE_RFC7208);
	}
	return 0;
}

static void sid01(spf_senderid_report_t *r)
{
	int v1 = v1_record(r);
	const char *via = NULL;
	char q;

	if (v1 < 0 || has_pra_record(r))
		return;
	q = effective_all(r, r->parsed[v1], &via);
	if (q != '-' && q != '~' && q != '?')
		return;
	add(r, "SID-01", q == '-' ? SPF_SID_WARNING : SPF_SID_INFO, "RFC 4406 §3.4; RFC 7208 §2.4",
		spf_arena_printf(r->arena, "%s: %s ends in \"%call\"%s%s and there is no "
			"spf2.0/pra record: Sender ID receivers apply it to the PRA "
			"(the From:/Sender: header address)", r->domain, quote(r, (size_t)v1), q,
			via ? " via redirect=" : "", via ? via : ""),
		q == '-' ?
		"RFC 4406 §3.4 makes Sender ID receivers (such as Exchange's Sender ID "
		"agent) read a v=spf1 record as \"spf2.0/mfrom,pra\" when no spf2.0 record "
		"exists.  Mailing lists and forwarders that keep your From:/Sender: "
		"header resend your mail from servers your record does not list, so those "
		"receivers compute Fail for the PRA and may reject it (\"550 5.7.1 Sender "
		"ID (PRA) not permitted\").  RFC 7208 §2.4 calls this use of v=spf1 NOT "
		"RECOMMENDED, but deployed receivers still do it." :
		"Sender ID receivers apply the v=spf1 record to the PRA (RFC 4406 §3.4).  "
		"It ends in ~all or ?all, so forwarded and list mail is only marked, not "
		"rejected, but the header address is judged by a policy written for the "
		"envelope.",
		"publish a second TXT record \"spf2.0/pra ?all\" (the opt-out: Sender ID PRA "
		"checks become neutral; RFC 7208 receivers ignore it), or an accurate "
		"\"spf2.0/pra ...\" record listing every server that sends mail with your "
		"domain in From: or Sender:");
}

static void sid03(spf_senderid_report_t *r)
{
	static const struct {
		spf_scope_t scope;
		const char *name;
	} scopes[] = { { SPF_SCOPE_MFROM, "mfrom" }, { SPF_SCOPE_PRA, "pra" } };

	for (size_t k = 0; k < 2; k++) {
		spf_selection_t with99, txtonly, *s;
		spf_buf_t b;

		spf_record_select(r->txt, r->spf99, scopes[k].scope, false, &with99);
		spf_record_select(r->txt, NULL, scopes[k].scope, false, &txtonly);
		s = with99.version == 2 && with99.ncand > 1 ? &with99 :
			txtonly.version == 2 && txtonly.ncand > 1 ? &txtonly : NULL;
		if (s == NULL)
			continue;
		spf_buf_init(&b, 4096);
		for (size_t i = 0, n = 0; i < r->nrecords; i++) {
			bool in = r->records[i].version == 2 && r->records[i].well_formed &&
				(scopes[k].scope == SPF_SCOPE_PRA ? r->records[i].pra :
				 r->records[i].mfrom) &&
				(r->records[i].rrtype == SPF_RR_SPF) == s->used_spf99;

			if (in)
				spf_buf_printf(&b, "%s%s", n++ ? ", " : "", quote(r, i));
		}
		add(r, "SID-03", SPF_SID_ERROR, "RFC 4406 §4.4",
			spf_arena_printf(r->arena, "%s: %zu records cover scope \"%s\" (%s) "
				"-> Sender ID permerror", r->domain, s->ncand, scopes[k].name,
				spf_buf_cstr(&b)),
			"A Sender ID receiver needs exactly one record per scope; with more "
			"than one it returns PermError for that scope (RFC 4406 §4.4, "
			"test suite case redundant-v2).",
			spf_arena_printf(r->arena, "keep one spf2.0 record that lists \"%s\" "
				"(merge the others into it, e.g. one \"spf2.0/mfrom,pra ...\")",
				scopes[k].name));
		spf_buf_finish(&b);
	}
}

static void sid04(spf_senderid_report_t *r)
{
	static const struct {
		unsigned flag;
		char sub;
		spf_sid_severity_t sev;
		const char *fix;
	} subs[] = {
		{ SPF_VER_V_PREFIX, 'a', SPF_SID_ERROR,
		  "remove the \"v=\": the version is written \"spf2.0/pra\" or \"spf2.0/mfrom,pra\"" },
		{ SPF_VER_BAD_MINOR, 'b', SPF_SID_ERROR, "write the version as \"spf2.0/\"" },
		{ SPF_VER_NO_SCOPE, 'c', SPF_SID_ERROR,
		  "add the scopes: \"spf2.0/pra\", \"spf2.0/mfrom\" or \"spf2.0/mfrom,pra\"" },
		{ SPF_VER_EMPTY_SCOPE, 'd', SPF_SID_ERROR, "remove the empty scope (the stray \",\")" },
		{ SPF_VER_SPACE_SCOPE, 'e', SPF_SID_ERROR,
		  "remove the space: \"spf2.0/mfrom,pra\"" },
		{ SPF_VER_BAD_CHAR, 'f', SPF_SID_ERROR,
		  "put a space between the scope list and the first term" },
		{ SPF_VER_UNKNOWN_ONLY, 'g', SPF_SID_ERROR,
		  "use the scopes \"mfrom\" and/or \"pra\"" },
		{ SPF_VER_MINOR_NOT_0, 'h', SPF_SID_INFO, "write \"spf2.0\"" },
		{ SPF_VER_REPEATED, 'i', SPF_SID_INFO, "list each scope once" },
		{ SPF_VER_UPPER, 'j', SPF_SID_INFO, "write the version section in lower case" },
	};

	for (size_t i = 0; i < r->nrecords; i++) {
		unsigned flags = r->vinfo[i].flags;

		if (r->records[i].version != 2 || flags == 0)
			continue;
		for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
			if ((flags & subs[k].flag) == 0)
				continue;
			add(r, "SID-04", subs[k].sev, "RFC 4406 §3",
				spf_arena_printf(r->arena, "%s: %s: (%c) %s", r->domain,
					quote(r, i), subs[k].sub, spf_version_problem(subs[k].flag)),
				subs[k].sev == SPF_SID_ERROR ?
				"Sender ID receivers discard a record whose version section is "
				"not well-formed or names no known scope (RFC 4406 §4.4 step 2), "
				"so what the record says is silently lost." :
				"Legal per RFC 4406 §3, but not portable: some implementations "
				"(Mail::SPF accepts only \"spf2.0\") or readers trip over it.",
				subs[k].fix);
		}
	}
}

/* ---- SID-02 / SID-05: where the verdicts of two policies differ ---- */

/* Append the network a/prefix to nets unless it is there already.  The
 * networks stay as written, not merged into an address set: SID-05
 * probes the bounds of each one, in the order the records name them. */
static void add_net(spf_net_t *nets, size_t *n, const spf_addr_t *a,
	unsigned prefix)
{
	spf_net_t x;

	/* host bits clear, so equal networks compare equal */
	x.prefix = spf_ipset_net(a, prefix, &x.addr, NULL);
	for (size_t i = 0; i < *n; i++)
		if (nets[i].prefix == x.prefix && nets[i].addr.family == x.addr.family &&
		    memcmp(nets[i].addr.addr, x.addr.addr, 16) == 0)
			return;
	if (*n < MAX_NETS)
		nets[(*n)++] = x;
}

struct collector {
	spf_net_t nets[MAX_NETS];
	size_t nnets;
	unsigned lookups;
};

/* The addresses of name (A and AAAA) as networks of cidr4/cidr6. */
static void host_nets(spf_senderid_report_t *r, struct collector *c,
	const char *name, int cidr4, int cidr6)
{
	static const uint16_t types[] = { SPF_RR_A, SPF_RR_AAAA };

	for (size_t k = 0; k < 2; k++) {
		const spf_dns_answer_t *ans;
		size_t n;

		if (c->lookups >= MAX_TREE_LOOKUPS)
			return;
		c->lookups++;
		ans = lookup(r, name, types[k]);
		n = ans_status(ans) == SPF_DNS_OK ? spf_dns_answer_count(ans) : 0;
		for (size_t i = 0; i < n; i++) {
			const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
			spf_addr_t a = { .family = rr->type == SPF_RR_A ? 4 : 6 };

			if (rr->type != types[k])
				continue;
			memcpy(a.addr, rr->type == SPF_RR_A ? rr->u.a : rr->u.aaaa,
				rr->type == SPF_RR_A ? 4 : 16);
			add_net(c->nets, &c->nnets, &a, a.family == 4 ?
				(cidr4 < 0 ? 32u : (unsigned)cidr4) :
				(cidr6 < 0 ? 128u : (unsigned)cidr6));
		}
	}
}

/* The target of t at domain, knowing nothing of a message
 * (spf_term_target()); NULL when it needs more than <domain> or is not
 * a valid name. */
static const char *term_target(spf_senderid_report_t *r, const spf_term_t *t,
	const char *domain)
{
	spf_target_t tg;

	if (spf_term_target(r->arena, t, domain, NULL, &tg, NULL) == SPF_ENOMEM)
		r->oom = true;
	return tg.valid ? tg.name : NULL;
}

/* Step 1 of the SID-05 method: every ip4/ip6 network of the tree of
 * rec, following include/redirect and resolving a/mx. */
static void collect_nets(spf_senderid_report_t *r, struct collector *c,
	const spf_record_t *root, spf_scope_t scope)
{
	const spf_record_t *recs[MAX_TREE_RECORDS];
	const char *doms[MAX_TREE_RECORDS];
	size_t nrecs = 1;

	recs[0] = root;
	doms[0] = r->domain;
	for (size_t w = 0; w < nrecs; w++) {
		const spf_record_t *rec = recs[w];

		for (size_t i = 0; i < rec->nterms; i++) {
			const spf_term_t *t = &rec->terms[i];
			const char *target = term_target(r, t, doms[w]);
			bool follow = false;

			if (t->is_modifier) {
				follow = t->mod == SPF_MOD_REDIRECT && rec->all < 0;
			} else {
				switch (t->mech) {
				case SPF_MECH_IP4:
				case SPF_MECH_IP6: {
					int cidr = t->mech == SPF_MECH_IP4 ? t->cidr4 : t->cidr6;

					add_net(c->nets, &c->nnets, &t->net, cidr >= 0 ?
						(unsigned)cidr : t->mech == SPF_MECH_IP4 ? 32u : 128u);
					break;
				}
				case SPF_MECH_A:
					if (target != NULL)
						host_nets(r, c, target, t->cidr4, t->cidr6);
					break;
				case SPF_MECH_MX: {
					const spf_dns_answer_t *mx;
					size_t n;

					if (target == NULL || c->lookups >= MAX_TREE_LOOKUPS)
						break;
					c->lookups++;
					mx = lookup(r, target, SPF_RR_MX);
					n = ans_status(mx) == SPF_DNS_OK ? spf_dns_answer_count(mx) : 0;
					for (size_t k = 0; k < n && k < 10; k++) {
						const char *ex = spf_dns_answer_rr(mx, k)->u.mx.exchange;

						if (ex != NULL && *ex != '\0')
							host_nets(r, c, ex, t->cidr4, t->cidr6);
					}
					break;
				}
				case SPF_MECH_INCLUDE:
					follow = true;
					break;
				default:
					break;
				}
			}
			if (follow && target != NULL && nrecs < MAX_TREE_RECORDS) {
				const spf_record_t *sub = fetch_record(r, target, scope);

				if (sub != NULL) {
					recs[nrecs] = sub;
					doms[nrecs++] = target;
				}
			}
		}
	}
}

/* An address of family fam outside every network (SID-05 step 2). */
static bool pick_outside(const spf_net_t *nets, size_t n, int fam,
	spf_addr_t *out)
{
	static const char *const v4[] = { "198.18.0.1", "100.64.0.1",
		"192.0.2.254", "203.0.113.254", "240.0.0.1", "10.255.255.254" };
	static const char *const v6[] = { "2001:db8:ffff::1", "100::1",
		"fd00::1", "3fff::1" };
	const char *const *cand = fam == 4 ? v4 : v6;
	size_t nc = fam == 4 ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);

	for (size_t i = 0; i < nc; i++) {
		bool inside = false;

		if (!spf_addr_parse(cand[i], out))
			continue;
		for (size_t k = 0; k < n && !inside; k++)
			inside = nets[k].addr.family == fam &&
				spf_addr_in_net(out, &nets[k].addr, nets[k].prefix);
		if (!inside)
			return true;
	}
	return false;
}

static void add_probe(spf_addr_t *probes, size_t *n, const spf_addr_t *a)
{
	for (size_t i = 0; i < *n; i++)
		if (probes[i].family == a->family &&
		    memcmp(probes[i].addr, a->addr, 16) == 0)
			return;
	if (*n < MAX_PROBES)
		probes[(*n)++] = *a;
}

struct comparison {
	bool done;
	size_t nprobed;
	spf_sid_probe_t *diff;       /* every address where the results differ */
	size_t ndiff;
	spf_sid_probe_t *contra;     /* pass on one side, fail/softfail on the other */
	size_t ncontra;
};

static bool failing(spf_result_t x)
{
	return x == SPF_RESULT_FAIL || x == SPF_RESULT_SOFTFAIL;
}

/* Steps 1-3 of the SID-05 method for the v=spf1 record (RFC 7208
 * receivers) against the Sender ID policy of scope. */
static void compare(spf_senderid_report_t *r, const spf_record_t *v1,
	const spf_record_t *v2, spf_scope_t scope, struct comparison *cmp)
{
	struct collector *c = spf_arena_alloc(r->arena, sizeof(*c));
	spf_addr_t *probes = spf_arena_alloc(r->arena, MAX_PROBES * sizeof(*probes));
	size_t np = 0;

	memset(cmp, 0, sizeof(*cmp));
	cmp->diff = spf_arena_alloc(r->arena, MAX_PROBES * sizeof(*cmp->diff));
	cmp->contra = spf_arena_alloc(r->arena, MAX_PROBES * sizeof(*cmp->contra));
	if (c == NULL || probes == NULL || cmp->diff == NULL || cmp->contra == NULL) {
		r->oom = true;
		return;
	}
	collect_nets(r, c, v1, SPF_SCOPE_RFC7208);
	collect_nets(r, c, v2, scope);
	for (size_t i = 0; i < c->nnets; i++) {
		const spf_net_t *n = &c->nets[i];
		spf_addr_t last;

		spf_ipset_net(&n->addr, n->prefix, NULL, &last);
		add_probe(probes, &np, &n->addr);
		add_probe(probes, &np, &last);
	}
	for (int k = 0; k < 2; k++) {
		spf_addr_t out;

		if (pick_outside(c->nets, c->nnets, k == 0 ? 4 : 6, &out))
			add_probe(probes, &np, &out);
	}
	for (size_t i = 0; i < np && !r->oom; i++) {
		spf_sid_probe_t p = { .ip = probes[i] };

		p.v1 = evaluate(r, &probes[i], SPF_SCOPE_RFC7208, NULL);
		p.v2 = evaluate(r, &probes[i], scope, NULL);
		if (p.v1 != p.v2)
			cmp->diff[cmp->ndiff++] = p;
		if ((p.v1 == SPF_RESULT_PASS && failing(p.v2)) ||
		    (p.v2 == SPF_RESULT_PASS && failing(p.v1)))
			cmp->contra[cmp->ncontra++] = p;
	}
	cmp->nprobed = np;
	cmp->done = true;
}

/* The terms of rec, lower case, without a written '+', one space
 * apart; without the "all" terms when skip_all. */
static const char *norm_terms(spf_senderid_report_t *r, const spf_record_t *rec,
	bool skip_all)
{
	spf_buf_t b;
	const char *s;

	spf_buf_init(&b, 70000);
	for (size_t i = 0; i < rec->nterms; i++) {
		const spf_term_t *t = &rec->terms[i];
		const char *p = t->text;

		if (skip_all && !t->is_modifier && t->mech == SPF_MECH_ALL)
			continue;
		if (*p == '+')
			p++;
		if (b.len > 0)
			spf_buf_putc(&b, ' ');
		for (; *p; p++)
			spf_buf_putc(&b, spf_lower(*p));
	}
	s = b.err == SPF_OK ? spf_arena_strdup(r->arena, spf_buf_cstr(&b)) : NULL;
	spf_buf_finish(&b);
	if (s == NULL)
		r->oom = true;
	return s ? s : "";
}

static const char *probe_list(spf_senderid_report_t *r, const spf_sid_probe_t *p,
	size_t n)
{
	spf_buf_t b;
	const char *s;
	char ip[64];

	spf_buf_init(&b, 4096);
	for (size_t i = 0; i < n && i < 4; i++)
		spf_buf_printf(&b, "%s%s (%s vs %s)", i ? ", " : "",
			spf_addr_str(&p[i].ip, ip, sizeof(ip)), spf_result_str(p[i].v1),
			spf_result_str(p[i].v2));
	if (n > 4)
		spf_buf_printf(&b, " and %zu more", n - 4);
	s = b.err == SPF_OK ? spf_arena_strdup(r->arena, spf_buf_cstr(&b)) : NULL;
	spf_buf_finish(&b);
	return s ? s : "";
}

static void sid02(spf_senderid_report_t *r, const struct comparison *mf)
{
	spf_sid_conflict_t *c;
	int v2 = r->policies[P_MFROM].record;

	if (!mf->done || mf->ndiff == 0 || v2 < 0)
		return;
	c = add(r, "SID-02", SPF_SID_WARNING, "RFC 4406 §4.4; RFC 7208 §4.5",
		spf_arena_printf(r->arena, "%s: %s (Sender ID mfrom) and the v=spf1 record "
			"(RFC 7208) give different verdicts at %zu of %zu probed addresses: %s",
			r->domain, quote(r, (size_t)v2), mf->ndiff, mf->nprobed,
			probe_list(r, mf->diff, mf->ndiff)),
		"RFC 7208 receivers evaluate the v=spf1 record for MAIL FROM; Sender ID "
		"receivers evaluate the spf2.x record that covers mfrom instead (RFC 4406 "
		"§4.4 step 4).  The same envelope gets different verdicts depending on "
		"who receives it.",
		"make the spf2.x mfrom record authorise the same senders as the v=spf1 "
		"record, or drop \"mfrom\" from its scopes (Sender ID then uses v=spf1 "
		"for mfrom, RFC 4406 §3.4)");
	if (c != NULL) {
		c->probes = mf->diff;
		c->nprobes = mf->ndiff;
	}
}

static void sid05_one(spf_senderid_report_t *r, const struct comparison *cmp,
	int p, const char *scope, spf_sid_severity_t sev)
{
	spf_sid_conflict_t *c;
	int v2 = r->policies[p].record;

	if (!cmp->done || cmp->ncontra == 0 || v2 < 0)
		return;
	c = add(r, "SID-05", sev, "RFC 4406 §4.4; RFC 7208 §4.5",
		spf_arena_printf(r->arena, "%s: the v=spf1 record (RFC 7208 receivers) and "
			"%s (Sender ID %s) contradict each other, pass against fail, at %zu "
			"address(es): %s", r->domain, quote(r, (size_t)v2), scope, cmp->ncontra,
			probe_list(r, cmp->contra, cmp->ncontra)),
		sev == SPF_SID_WARNING ?
		"The two records claim opposite things about the same sending address: "
		"one class of receivers accepts what the other rejects." :
		"The pra record judges the header address and may differ from the "
		"envelope policy on purpose (e.g. a list server that rewrites the "
		"envelope); check that each listed address is intended.",
		"list the same senders in both records, or narrow the difference to what "
		"is intended");
	if (c != NULL) {
		c->probes = cmp->contra;
		c->nprobes = cmp->ncontra;
	}
}

static void sid05(spf_senderid_report_t *r, const struct comparison *mf,
	const struct comparison *pr)
{
	int v1 = v1_record(r), v2 = r->policies[P_PRA].record;
	spf_sid_severity_t sev = SPF_SID_INFO;

	sid05_one(r, mf, P_MFROM, "mfrom", SPF_SID_WARNING);
	/* for pra, W only when the records are otherwise identical */
	if (v1 >= 0 && v2 >= 0 && r->parsed[v1] && r->parsed[v2] &&
	    strcmp(norm_terms(r, r->parsed[v1], true), norm_terms(r, r->parsed[v2], true)) == 0)
		sev = SPF_SID_WARNING;
	if (!(mf->done && r->policies[P_MFROM].record == v2))
		sid05_one(r, pr, P_PRA, "pra", sev);
}

/* ---- SID-06 ... SID-14 ---- */

static void sid06(spf_senderid_report_t *r)
{
	bool in_txt[3] = { false }, in_99[3] = { false };

	for (size_t i = 0; i < r->nrecords; i++) {
		int v = r->records[i].version;

		if (v == 1 || v == 2)
			(r->records[i].rrtype == SPF_RR_TXT ? in_txt : in_99)[v] = true;
	}
	for (int v = 1; v <= 2; v++) {
		if (!in_99[v] || in_txt[v])
			continue;
		add(r, "SID-06", SPF_SID_ERROR, "RFC 7208 §3.1, §4.4, §14.1",
			spf_arena_printf(r->arena, "%s: a%s record exists only as type SPF (99), "
				"with no TXT equivalent", r->domain, v == 1 ? " v=spf1" : "n spf2.x"),
			v == 1 ?
			"RFC 7208 receivers query TXT only (the SPF RR type is obsolete, RFC "
			"7208 §14.1), so they get None; libspf2 and Sender ID receivers read the "
			"type-99 record, so verdicts diverge." :
			"Sender ID receivers that query TXT only (Mail::SPF's default) do not "
			"see the record, those that query type 99 do.",
			"publish the same text as a TXT record, and remove the type-99 record "
			"or keep it identical");
	}
}

static bool text_in(const spf_senderid_report_t *r, size_t i, uint16_t type)
{
	for (size_t k = 0; k < r->nrecords; k++)
		if (r->records[k].rrtype == type && r->records[k].version != 0 &&
		    r->records[k].text != NULL && r->records[i].text != NULL &&
		    strcmp(r->records[k].text, r->records[i].text) == 0)
			return true;
	return false;
}

static void sid07(spf_senderid_report_t *r)
{
	bool any99 = false, anytxt = false, differ = false;

	for (size_t i = 0; i < r->nrecords; i++) {
		if (r->records[i].rrtype == SPF_RR_SPF)
			any99 = true;
		else if (r->records[i].version != 0)
			anytxt = true;
	}
	if (!any99 || !anytxt)
		return;              /* nothing to compare (SID-06 covers type 99 only) */
	for (size_t i = 0; i < r->nrecords && !differ; i++)
		if (r->records[i].version != 0 && r->records[i].text != NULL)
			differ = !text_in(r, i, r->records[i].rrtype == SPF_RR_SPF ?
				SPF_RR_TXT : SPF_RR_SPF);
	if (!differ)
		return;
	add(r, "SID-07", SPF_SID_WARNING, "RFC 4406 §4.4; RFC 4408 §3.1.1",
		spf_arena_printf(r->arena, "%s: the type SPF (99) records differ from the "
			"TXT records", r->domain),
		"libspf2 prefers type 99, and a Sender ID receiver drops every TXT record "
		"when a type-99 record exists (RFC 4406 §4.4 step 1): TXT spf2.0 records "
		"become invisible to it while RFC 7208 receivers see only TXT.  RFC 4408 "
		"§3.1.1 required both to be identical.",
		"remove the type-99 records (RFC 7208 §14.1), or make them identical to "
		"the TXT records");
}

static void sid08(spf_senderid_report_t *r)
{
	for (size_t i = 0; i < r->nrecords; i++) {
		const spf_record_t *rec = r->parsed[i];
		unsigned checked = 0;

		if (rec == NULL || r->records[i].version != 2)
			continue;
		for (size_t k = 0; k < rec->nterms && checked < 10; k++) {
			const spf_term_t *t = &rec->terms[k];
			const char *target;
			const spf_dns_answer_t *txt, *s99;
			spf_selection_t v1, v2m = { 0 }, v2p = { 0 };
			bool missing;

			if (!(t->is_modifier ? t->mod == SPF_MOD_REDIRECT :
			    t->mech == SPF_MECH_INCLUDE))
				continue;
			target = term_target(r, t, r->domain);
			if (target == NULL)
				continue;
			checked++;
			txt = lookup(r, target, SPF_RR_TXT);
			s99 = lookup(r, target, SPF_RR_SPF);
			spf_record_select(txt, NULL, SPF_SCOPE_RFC7208, false, &v1);
			if (rec->scopes & SPF_SCOPE_BIT_MFROM)
				spf_record_select(txt, s99, SPF_SCOPE_MFROM, false, &v2m);
			if (rec->scopes & SPF_SCOPE_BIT_PRA)
				spf_record_select(txt, s99, SPF_SCOPE_PRA, false, &v2p);
			missing = ((rec->scopes & SPF_SCOPE_BIT_MFROM) && v2m.version != 2) ||
				((rec->scopes & SPF_SCOPE_BIT_PRA) && v2p.version != 2);
			if (!missing || v1.ncand == 0)
				continue;
			add(r, "SID-08", SPF_SID_WARNING, "RFC 4406 §3.4; SPECS A.8",
				spf_arena_printf(r->arena, "%s: %s uses \"%s\", whose target "
					"publishes only v=spf1", r->domain, quote(r, i), t->text),
				"What a Sender ID receiver does here depends on the implementation: "
				"Mail::SPF finds no applicable record at the target and returns "
				"PermError; Microsoft's receivers use the target's v=spf1 record.",
				"ask the provider for an spf2.0 record, list its addresses "
				"(ip4:/ip6:) in your spf2.0 record, or drop the spf2.0 record if "
				"the v=spf1 record is right for Sender ID too");
		}
	}
}

static void sid09(spf_senderid_report_t *r)
{
	for (size_t i = 0; i < r->nrecords; i++) {
		const spf_record_t *rec = r->parsed[i];
		size_t mechs = 0;

		if (rec == NULL || rec->version != 2 || !(rec->scopes & SPF_SCOPE_BIT_PRA))
			continue;
		for (size_t k = 0; k < rec->nterms; k++)
			if (!rec->terms[k].is_modifier)
				mechs++;
		if (mechs > 0 || rec->redirect >= 0)
			continue;
		add(r, "SID-09", SPF_SID_INFO, "RFC 4406 §3.4; RFC 7208 §4.7",
			spf_arena_printf(r->arena, "%s: %s has no mechanism and no \"all\": "
				"implicitly neutral", r->domain, quote(r, i)),
			"A record without mechanisms gives Neutral, the same as \"?all\"; "
			"writing it out says that the opt-out is intended.",
			"write \"spf2.0/pra ?all\"");
	}
}

static void sid10(spf_senderid_report_t *r, const spf_addr_t *probe)
{
	for (size_t i = 0; i < r->nrecords; i++) {
		const spf_record_t *rec = r->parsed[i];
		unsigned dns = 0;
		bool ptr = false;

		if (r->records[i].version != 2 || !r->records[i].well_formed)
			continue;
		if (rec == NULL) {
			spf_parse_error_t perr = { 0 };
			spf_record_t *tmp = NULL;

			spf_record_parse_version(r->arena, r->rrs[i]->u.txt.data,
				r->rrs[i]->u.txt.len, &tmp, &perr);
			add(r, "SID-10", SPF_SID_ERROR, "RFC 4406 §3; RFC 7208 §4.6",
				spf_arena_printf(r->arena, "%s: %s: syntax error at byte %zu: %s",
					r->domain, quote(r, i), perr.offset,
					perr.message ? perr.message : "invalid record"),
				"Sender ID evaluates spf2.x records with RFC 4408 check_host(): a "
				"syntax error anywhere is a PermError for the scopes it covers.",
				"fix the term as the message says (the same syntax as v=spf1)");
			continue;
		}
		for (size_t k = 0; k < rec->nterms; k++) {
			const spf_term_t *t = &rec->terms[k];

			if (t->is_modifier)
				dns += t->mod == SPF_MOD_REDIRECT && rec->all < 0;
			else if (spf_mech_queries_dns(t->mech))
				dns++;
			ptr |= !t->is_modifier && t->mech == SPF_MECH_PTR;
		}
		if (dns > 10)
			add(r, "SID-10", SPF_SID_ERROR, "RFC 7208 §4.6.4",
				spf_arena_printf(r->arena, "%s: %s has %u DNS-querying terms; the "
					"limit is 10", r->domain, quote(r, i), dns),
				"Sender ID reuses check_host(), so the limit of 10 DNS-querying "
				"terms applies: evaluation ends in PermError.",
				"replace a, mx and include terms by ip4:/ip6: networks");
		if (ptr)
			add(r, "SID-10", SPF_SID_WARNING, "RFC 7208 §5.5",
				spf_arena_printf(r->arena, "%s: %s uses \"ptr\"", r->domain,
					quote(r, i)),
				"ptr is slow, unreliable and \"SHOULD NOT\" be used (RFC 7208 "
				"§5.5); the same holds for Sender ID.",
				"list the networks with ip4:/ip6: instead");
		/* the limits as evaluation meets them (includes, voids, MX) */
		for (int p = P_MFROM; p <= P_PRA && dns <= 10; p++) {
			const char *problem = NULL;

			if (r->policies[p].record != (int)i ||
			    (p == P_PRA && r->policies[P_MFROM].record == (int)i))
				continue;
			if (evaluate(r, probe, p == P_MFROM ? SPF_SCOPE_MFROM : SPF_SCOPE_PRA,
			    &problem) != SPF_RESULT_PERMERROR)
				continue;
			add(r, "SID-10", SPF_SID_ERROR, "RFC 7208 §4.6.4",
				spf_arena_printf(r->arena, "%s: %s evaluates to permerror: %s",
					r->domain, quote(r, i), problem ? problem : "(no detail)"),
				"Sender ID reuses check_host() with its limits, so this record "
				"fails for every message it is applied to.",
				"fix the problem named; the same rules as for v=spf1 apply");
		}
	}
}

static void sid11(spf_senderid_report_t *r)
{
	bool v2 = false;

	for (size_t i = 0; i < r->nrecords; i++)
		v2 |= r->records[i].version == 2;
	if (!v2 || r->sel[P_RFC7208].ncand != 0)
		return;
	add(r, "SID-11", SPF_SID_WARNING, "RFC 7208 §4.5",
		spf_arena_printf(r->arena, "%s: spf2.x records exist but no v=spf1 record",
			r->domain),
		"RFC 7208 receivers discard every record whose version is not v=spf1, so "
		"for them the domain has no SPF policy at all: None for MAIL FROM and HELO.",
		"publish a v=spf1 TXT record as well (spf2.0 is Historic, RFC 6686)");
}

static void sid12(spf_senderid_report_t *r)
{
	int v1 = v1_record(r);

	if (v1 < 0)
		return;
	for (size_t i = 0; i < r->nrecords; i++) {
		const spf_record_t *rec = r->parsed[i];

		if (rec == NULL || rec->version != 2 || !(rec->scopes & SPF_SCOPE_BIT_MFROM))
			continue;
		if (strcmp(norm_terms(r, rec, false), norm_terms(r, r->parsed[v1], false)) != 0)
			continue;
		add(r, "SID-12", SPF_SID_INFO, "RFC 4406 §3.4; RFC 7208 §3.4",
			spf_arena_printf(r->arena, "%s: %s repeats the v=spf1 record's terms",
				r->domain, quote(r, i)),
			"Sender ID receivers use the v=spf1 record for mfrom and pra when no "
			"spf2.0 record exists (RFC 4406 §3.4), so this record changes nothing; "
			"it only grows the TXT answer (RFC 7208 §3.4).",
			"remove the spf2.0 record");
	}
}

static void sid13(spf_senderid_report_t *r)
{
	size_t total = 0, v2 = 0;
	size_t n = ans_status(r->txt) == SPF_DNS_OK ? spf_dns_answer_count(r->txt) : 0;

	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(r->txt, i);
		spf_version_info_t vi;
		size_t size = rr->u.txt.len + rr->u.txt.nstrings;

		total += size;
		spf_record_version(rr->u.txt.data, rr->u.txt.len, &vi);
		if (vi.version == 2)
			v2 += size;
	}
	if (total <= RRSET_ADVICE || v2 == 0)
		return;
	add(r, "SID-13", SPF_SID_WARNING, "RFC 7208 §3.4",
		spf_arena_printf(r->arena, "%s: the TXT records take %zu octets (%zu of "
			"them spf2.x), over the advised %d", r->domain, total, v2, RRSET_ADVICE),
		"The SPF lookup returns every TXT record at the name.  RFC 7208 §3.4 "
		"advises keeping the answer within 512 octets (about 450 for the "
		"records), or it may need TCP or be truncated.",
		"remove spf2.0 records that add nothing (see SID-12), or shorten the "
		"records");
}

static bool sender_macro(const spf_term_t *t)
{
	const char *s = t->domain_spec;

	for (size_t i = 0; s != NULL && i + 2 < t->domain_spec_len; i++) {
		char l = spf_lower(s[i + 2]);

		if (s[i] == '%' && s[i + 1] == '{' && (l == 's' || l == 'l' || l == 'o'))
			return true;
		if (s[i] == '%' && s[i + 1] == '%')
			i++;
	}
	return false;
}

static void sid14(spf_senderid_report_t *r)
{
	int v1 = v1_record(r);
	const spf_record_t *rec;

	if (v1 < 0 || has_pra_record(r))
		return;
	rec = r->parsed[v1];
	for (size_t k = 0; k < rec->nterms; k++) {
		if (!sender_macro(&rec->terms[k]))
			continue;
		add(r, "SID-14", SPF_SID_INFO, "RFC 4406 §3.4; RFC 7208 §7.2",
			spf_arena_printf(r->arena, "%s: \"%s\" in %s depends on the sender "
				"mailbox, and there is no spf2.0/pra record", r->domain,
				rec->terms[k].text, quote(r, (size_t)v1)),
			"Under Sender ID the <sender> is the PRA, a header address, not the "
			"envelope sender, so a per-sender policy silently changes meaning.",
			"publish \"spf2.0/pra ?all\", or an spf2.0/pra record without sender "
			"macros");
		return;
	}
}

/* ---- the report ---- */

static bool domain_ok(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 254)
		return false;
	for (const char *p = d; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

spf_senderid_report_t *spf_senderid_check(spf_resolver_t *res,
	const char *domain, spf_status_t *status)
{
	spf_arena_t *arena;
	spf_senderid_report_t *r;
	size_t n, len;
	struct comparison mf = { 0 }, pr = { 0 };
	spf_addr_t probe4;
	int v1;

	if (status != NULL)
		*status = SPF_EINVAL;
	if (res == NULL || domain == NULL || !domain_ok(domain))
		return NULL;
	if (status != NULL)
		*status = SPF_ENOMEM;
	arena = spf_arena_create();
	if (arena == NULL)
		return NULL;
	r = spf_arena_alloc(arena, sizeof(*r));
	if (r == NULL) {
		spf_arena_destroy(arena);
		return NULL;
	}
	r->arena = arena;
	r->res = res;
	len = strlen(domain);
	if (len > 1 && domain[len - 1] == '.')
		len--;
	r->domain = spf_arena_strndup(arena, domain, len);
	if (r->domain == NULL)
		goto fail;
	r->txt = (spf_dns_answer_t *)lookup(r, r->domain, SPF_RR_TXT);
	r->spf99 = (spf_dns_answer_t *)lookup(r, r->domain, SPF_RR_SPF);
	n = (ans_status(r->txt) == SPF_DNS_OK ? spf_dns_answer_count(r->txt) : 0) +
		(ans_status(r->spf99) == SPF_DNS_OK ? spf_dns_answer_count(r->spf99) : 0);
	r->records = spf_arena_alloc(arena, (n + 1) * sizeof(*r->records));
	r->rrs = spf_arena_alloc(arena, (n + 1) * sizeof(*r->rrs));
	r->vinfo = spf_arena_alloc(arena, (n + 1) * sizeof(*r->vinfo));
	r->parsed = spf_arena_alloc(arena, (n + 1) * sizeof(*r->parsed));
	if (r->oom || r->records == NULL || r->rrs == NULL || r->vinfo == NULL ||
	    r->parsed == NULL)
		goto fail;
	collect(r, r->txt);
	collect(r, r->spf99);
	make_policies(r);

	/* SID-02 / SID-05 need both verdicts at every probe */
	v1 = r->policies[P_RFC7208].record;
	if (v1 >= 0 && r->parsed[v1] != NULL) {
		int m = r->policies[P_MFROM].record, p = r->policies[P_PRA].record;

		if (m >= 0 && r->records[m].version == 2 && r->parsed[m] != NULL)
			compare(r, r->parsed[v1], r->parsed[m], SPF_SCOPE_MFROM, &mf);
		if (p >= 0 && p != m && r->records[p].version == 2 && r->parsed[p] != NULL)
			compare(r, r->parsed[v1], r->parsed[p], SPF_SCOPE_PRA, &pr);
	}
	if (!pick_outside(NULL, 0, 4, &probe4))
		goto fail;
	sid01(r);
	sid02(r, &mf);
	sid03(r);
	sid04(r);
	sid05(r, &mf, &pr);
	sid06(r);
	sid07(r);
	sid08(r);
	sid09(r);
	sid10(r, &probe4);
	sid11(r);
	sid12(r);
	sid13(r);
	sid14(r);
	if (r->oom)
		goto fail;
	if (status != NULL)
		*status = SPF_OK;
	return r;
fail:
	spf_senderid_destroy(r);
	return NULL;
}

void spf_senderid_destroy(spf_senderid_report_t *r)
{
	if (r == NULL)
		return;
	for (struct answer_ref *a = r->answers; a != NULL; a = a->next)
		spf_dns_answer_unref(a->ans);
	spf_arena_destroy(r->arena);
}

const char *spf_senderid_domain(const spf_senderid_report_t *r)
{
	return r->domain;
}

spf_dns_status_t spf_senderid_dns_status(const spf_senderid_report_t *r,
	uint16_t rrtype)
{
	return ans_status(rrtype == SPF_RR_SPF ? r->spf99 : r->txt);
}

const spf_sid_record_t *spf_senderid_records(const spf_senderid_report_t *r,
	size_t *n)
{
	*n = r->nrecords;
	return r->records;
}

const spf_sid_policy_t *spf_senderid_policies(const spf_senderid_report_t *r,
	size_t *n)
{
	*n = r->npolicies;
	return r->policies;
}

const spf_sid_conflict_t *spf_senderid_conflicts(const spf_senderid_report_t *r,
	size_t *n)
{
	*n = r->nconflicts;
	return r->conflicts;
}
