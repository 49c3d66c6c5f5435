/*
 * query.c - the DNS lookups a job waits for, and the validated PTR
 * names (RFC 7208 §5.5) shared by the ptr mechanism and %{p}.
 *
 * DESCRIPTION
 *	ask() starts a query and gives a slot; the job runs again once no
 *	slot is pending (on_answer() -> job_run()).  An answer the resolver
 *	has cached is taken at once (spf_resolver_take_cached()): that slot
 *	is never pending, and job_run() goes on in the same turn.  Of an address lookup
 *	only whether the client matches is kept (ask_match()); an MX or PTR
 *	answer is kept until its names are copied (slot_release()); a
 *	frame's record until the job is destroyed.  ptr_names() is a small
 *	resumable step: reverse lookup, then the forward lookups of at most
 *	MAX_PTR_NAMES names (RFC 7208 §4.6.4).
 *
 * DIAGNOSTICS
 *	A slot's status stays TEMPFAIL until its answer arrives;
 *	slot_why() words a failed lookup for a problem text.  Allocation
 *	failure sets job->oom (ask() returns NULL).
 */
#include "job.h"

#include <string.h>

static bool addr_in_answer(const spf_addr_t *ip, const spf_dns_answer_t *ans,
	int cidr4, int cidr6)
{
	size_t n = ans ? spf_dns_answer_count(ans) : 0;

	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_addr_t net = { 0 };

		if (rr->type == SPF_RR_A && ip->family == 4) {
			net.family = 4;
			memcpy(net.addr, rr->u.a, 4);
			if (spf_addr_in_net(ip, &net, cidr4 < 0 ? 32 : (unsigned)cidr4))
				return true;
		} else if (rr->type == SPF_RR_AAAA && ip->family == 6) {
			net.family = 6;
			memcpy(net.addr, rr->u.aaaa, 16);
			if (spf_addr_in_net(ip, &net, cidr6 < 0 ? 128 : (unsigned)cidr6))
				return true;
		}
	}
	return false;
}

/* The slot's answer has come: keep what the slot is for of it.  ans is
 * a reference the slot takes over: kept in s->ans, or let go of when
 * only whether the client matches is kept. */
static void take_answer(struct slot *s, spf_dns_answer_t *ans)
{
	spf_job_t *job = s->job;
	const char *detail = spf_dns_answer_detail(ans);

	s->status = spf_dns_answer_status(ans);
	if (detail != NULL && (s->detail = spf_arena_strdup(job->arena, detail)) == NULL)
		job->oom = true;
	if (s->node != NULL && !job->lean) {
		s->node->answered = true;
		s->node->status = s->status;
		s->node->detail = answer_text(job, ans);
		s->node->ttl = spf_dns_answer_ttl(ans);
	}
	if (s->match) {
		s->matched = s->status == SPF_DNS_OK &&
			addr_in_answer(&job->mctx.ip, ans, s->cidr4, s->cidr6);
		spf_dns_answer_unref(ans);
	} else {
		s->ans = ans;
		s->bytes = hold_cost(ans);
		job->held += s->bytes;
	}
}

static void on_answer(const spf_dns_answer_t *ans, void *arg)
{
	struct slot *s = arg;
	spf_job_t *job = s->job;

	s->q = NULL;
	take_answer(s, spf_dns_answer_ref((spf_dns_answer_t *)ans));
	if (--job->pending == 0)
		job_run(job);
}

/*
 * A lookup whose answer is awaited before the job goes on; match: of an
 * address lookup only whether the client is inside, under the prefix
 * lengths cidr4 and cidr6 (-1: the full address), is kept.  An answer
 * in the resolver's cache is taken at once (it is counted as a query
 * answered from the cache): the slot is answered when this returns, the
 * job does not wait for it, and job_run() (the only caller, through the
 * states) goes on to the step that reads it without a loop turn.  Any
 * other answer arrives through on_answer().
 */
static struct slot *ask_slot(spf_job_t *job, spf_trace_t *under,
	const char *name, uint16_t type, bool match, int cidr4, int cidr6,
	bool *at_hand)
{
	struct slot *s = spf_arena_alloc(job->arena, sizeof(*s));
	spf_dns_answer_t *ans;

	if (s == NULL) {
		job->oom = true;
		return NULL;
	}
	s->job = job;
	s->name = name;
	s->type = type;
	s->match = match;
	s->cidr4 = cidr4;
	s->cidr6 = cidr6;
	s->status = SPF_DNS_TEMPFAIL;
	if (!job->lean &&
	    (s->node = trace_add(job, under, SPF_TRACE_DNS,
		spf_arena_printf(job->arena, "%s %s", spf_rrtype_str(type), name))) != NULL) {
		s->node->rrtype = type;
		s->node->name = name;
	}
	s->next = job->slots;
	job->slots = s;
	ans = spf_resolver_take_cached(job->res, name, type);
	if (ans != NULL) {
		take_answer(s, ans);   /* the reference is the slot's */
		if (at_hand != NULL)
			*at_hand = true;
		return s;
	}
	if (at_hand != NULL)   /* not cached: from the zone, or in flight */
		*at_hand = spf_resolver_answer_at_hand(job->res, name, type);
	/* the job is blocked on it: before any speculation (resolver.c) */
	s->q = spf_resolver_query_sched(job->res, name, type, SPF_DNS_DEMAND,
		job->seq, on_answer, s);
	if (s->q == NULL) {
		job->oom = true;
		return NULL;
	}
	job->pending++;
	return s;
}

struct slot *ask(spf_job_t *job, spf_trace_t *under, const char *name,
	uint16_t type)
{
	return ask_slot(job, under, name, type, false, -1, -1, NULL);
}

struct slot *ask_at_hand(spf_job_t *job, spf_trace_t *under,
	const char *name, uint16_t type, bool *at_hand)
{
	*at_hand = false;
	return ask_slot(job, under, name, type, false, -1, -1, at_hand);
}

struct slot *ask_match(spf_job_t *job, spf_trace_t *under,
	const char *name, uint16_t type, int cidr4, int cidr6)
{
	return ask_slot(job, under, name, type, true, cidr4, cidr6, NULL);
}

const char *slot_why(spf_job_t *job, const struct slot *s)
{
	const char *d = s != NULL ? s->detail : NULL;

	return spf_arena_printf(job->arena, "%s for %s %s%s%s%s",
		spf_dns_status_str(slot_status(s)),
		s ? spf_rrtype_str(s->type) : "query", s ? s->name : "",
		d ? " (" : "", d ? d : "", d ? ")" : "");
}

static const char *reverse_name(spf_job_t *job)
{
	const uint8_t *a = job->mctx.ip.addr;
	spf_buf_t b;
	const char *s;

	if (job->mctx.ip.family == 4)
		return spf_arena_printf(job->arena, "%u.%u.%u.%u.in-addr.arpa",
			a[3], a[2], a[1], a[0]);
	spf_buf_init(&b, 128);
	for (int i = 15; i >= 0; i--)
		spf_buf_printf(&b, "%x.%x.", a[i] & 0xf, a[i] >> 4);
	spf_buf_puts(&b, "ip6.arpa");
	s = spf_arena_strdup(job->arena, spf_buf_cstr(&b));
	spf_buf_finish(&b);
	return s;
}

/* Returns true once the validated names are known, false to wait. */
bool ptr_names(spf_job_t *job, spf_trace_t *under)
{
	uint16_t atype = job->mctx.ip.family == 4 ? SPF_RR_A : SPF_RR_AAAA;

	switch (job->ptr_step) {
	case PTR_ASK:
		job->ptr_step = PTR_NAMES;
		job->ptr_slot = ask(job, under, reverse_name(job), SPF_RR_PTR);
		return false;
	case PTR_NAMES: {
		const spf_dns_answer_t *ans = job->ptr_slot ? job->ptr_slot->ans : NULL;
		size_t n;

		job->ptr_status = slot_status(job->ptr_slot);
		job->ptr_step = PTR_DONE;
		if (job->ptr_status != SPF_DNS_OK)
			return true;
		n = spf_dns_answer_count(ans);
		if (n > MAX_PTR_NAMES) {
			trace_note(job, under, spf_arena_printf(job->arena,
				"%zu PTR names; only the first %d are checked (RFC 7208 §4.6.4)",
				n, MAX_PTR_NAMES));
			n = MAX_PTR_NAMES;
		}
		for (size_t i = 0; i < n; i++) {
			const char *name = spf_dns_answer_rr(ans, i)->u.name;

			if (!spf_name_ok(name))
				continue;
			name = spf_arena_strdup(job->arena, name);
			if (name == NULL) {
				job->oom = true;
				break;
			}
			job->ptr_hosts[job->nptr_hosts++] =
				ask_match(job, under, name, atype, -1, -1);
		}
		slot_release(job, job->ptr_slot);   /* the names are copied */
		if (job->nptr_hosts == 0)
			return true;
		job->ptr_step = PTR_FORWARD;
		return false;
	}
	case PTR_FORWARD:
		for (size_t i = 0; i < job->nptr_hosts; i++) {
			struct slot *s = job->ptr_hosts[i];

			/* a DNS error on a forward lookup skips that name */
			if (s != NULL && s->matched)
				job->ptr_valid[job->nptr_valid++] = s->name;
		}
		job->ptr_step = PTR_DONE;
		return true;
	case PTR_DONE:
	default:
		return true;
	}
}

bool name_under(const char *name, const char *domain)
{
	size_t ln = strlen(name), ld = strlen(domain);

	if (ld > 0 && domain[ld - 1] == '.')
		ld--;
	if (ln == ld)
		return spf_strncaseeq(name, domain, ld);
	return ln > ld && name[ln - ld - 1] == '.' &&
		spf_strncaseeq(name + ln - ld, domain, ld);
}

/* %{p}: the validated name equal to <domain>, else one under it, else
 * any validated name, else "unknown" (RFC 7208 §7.3). */
const char *ptr_macro_value(spf_job_t *job, const char *domain)
{
	for (size_t i = 0; i < job->nptr_valid; i++)
		if (spf_streq_nocase(job->ptr_valid[i], domain))
			return job->ptr_valid[i];
	for (size_t i = 0; i < job->nptr_valid; i++)
		if (name_under(job->ptr_valid[i], domain))
			return job->ptr_valid[i];
	return job->nptr_valid > 0 ? job->ptr_valid[0] : NULL;
}
