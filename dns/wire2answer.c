/*
 * wire2answer.c - DNS replies (wire format) and c-ares outcomes to answers.
 *
 * DESCRIPTION
 *	spf_dns_answer_from_wire() turns the bytes of a reply into an answer
 *	object.  The packet is parsed by ldns, never by hand: its header by
 *	ldns' wire macros, its question and answer records by
 *	ldns_wire2rr(); the authority records are parsed only when a negative
 *	answer needs its SOA, and the additional ones never (glue and the
 *	OPT record are no use here).  Both are still checked to be whole
 *	(each owner name read by ldns_wire2dname(), the rest of the record
 *	within the reply), so a cut or garbled reply stays BADREPLY as when
 *	ldns_wire2pkt() parsed everything; on replies that carry an NS and
 *	glue this takes two thirds of the time.  Then:
 *
 *	  - the reply must be a response (QR=1), not truncated (TC=0: c-ares
 *	    retries truncated replies over TCP, so one that reaches us is
 *	    broken), with exactly one question equal to (qname, qtype, IN);
 *	    otherwise BADREPLY;
 *	  - rcode NOERROR or NXDOMAIN: the answer section is walked from
 *	    qname: records of qtype owned by the current name are the answer;
 *	    failing that a CNAME owned by it moves on to its target (owner
 *	    names compared ignoring case, at most MAX_CNAME_HOPS hops, more is
 *	    TEMPFAIL "CNAME loop" as in the zone overlay).  Records of other
 *	    names or types are ignored.  NOERROR gives OK or NODATA, NXDOMAIN
 *	    gives NXDOMAIN (RFC 6604: the rcode describes the end of the
 *	    chain); the chain followed is recorded either way;
 *	  - any other rcode: TEMPFAIL with the rcode's name as detail
 *	    ("SERVFAIL", "REFUSED", "FORMERR", ... from ldns' table).
 *
 *	TTLs: every record keeps its own; an answer that followed CNAMEs
 *	gets the smallest TTL of the chain and the records.  A negative
 *	answer's TTL is RFC 2308 §5's min(SOA TTL, SOA MINIMUM) from the SOA
 *	in the authority section, and NEG_TTL_NO_SOA = 30 s without one.
 *	RFC 2308 §5 says such answers should not be cached because two
 *	caching servers could pass them back and forth forever; spfcheck is
 *	a stub that never serves its answers to anybody, so that loop cannot
 *	happen, and a short TTL keeps the lookups of one evaluation (and of
 *	concurrent ones that asked a moment later) from repeating the query.
 *
 *	Domain names in records (MX exchange, PTR/CNAME/NS target) are
 *	ldns' presentation form without the trailing dot: a byte that is not
 *	printable or a '.' inside a label appears as a \DDD or \. escape,
 *	which c-ares understands if the name is queried again.
 *
 *	spf_wire_answer() maps a c-ares callback's outcome: a reply (any
 *	status, as ares_query() hands the reply with NXDOMAIN, NODATA, ...) is
 *	parsed as above; without one ARES_ETIMEOUT is TEMPFAIL "timeout",
 *	ARES_ESERVFAIL / EREFUSED / EFORMERR / ENOTIMP (c-ares gave up on
 *	those rcodes after trying every server) are TEMPFAIL with the rcode's
 *	name, ARES_EBADRESP is BADREPLY, and ARES_EBADNAME (a name c-ares
 *	cannot put in a query: a label over 63 bytes, a name over 255, an
 *	empty label) is NXDOMAIN with a detail: such a name cannot exist in
 *	the DNS, so for SPF it is the same as a name that does not exist (a
 *	void lookup, RFC 7208 §4.6.4; RFC 7208 §4.3 treats a malformed
 *	domain as "none").  Anything else (connection refused, no servers,
 *	out of memory inside c-ares) is TEMPFAIL with ares_strerror()'s text.
 *
 * DIAGNOSTICS
 *	Both functions return NULL only when memory runs out (or qname is
 *	NULL); bad input is always an answer.
 */
#include "dns_internal.h"

#include <stdio.h>
#include <string.h>

#include <ares.h>
#include <ldns/ldns.h>

#define MAX_CNAME_HOPS 10
#define NEG_TTL_NO_SOA 30      /* seconds; see DESCRIPTION */

/* An answer with a status, a detail and TTL 0 (or NULL on ENOMEM). */
static spf_dns_answer_t *fail_answer(const char *qname, uint16_t qtype,
	spf_dns_status_t status, const char *detail)
{
	spf_dns_answer_t *ans = spf_dns_answer_create(qname, qtype, status);

	if (ans == NULL)
		return NULL;
	if (detail != NULL && spf_dns_answer_set_detail(ans, detail) != SPF_OK) {
		spf_dns_answer_unref(ans);
		return NULL;
	}
	spf_dns_answer_set_ttl(ans, 0);
	return ans;
}

/* Add one ldns record to ans.  SPF_OK, SPF_ENOMEM, or SPF_ESYNTAX for a
 * record whose rdata is not what its type needs. */
static spf_status_t add_rr(spf_dns_answer_t *ans, const ldns_rr *lr)
{
	spf_rr_buf_t b;
	spf_status_t st;

	st = spf_rr_from_ldns(lr, SPF_RR_NAME_PRESENTATION, &b);
	if (st != SPF_OK)
		return st;
	st = spf_dns_answer_add(ans, &b.rr);
	if (st == SPF_EINVAL)
		st = SPF_ESYNTAX;
	spf_rr_finish(&b);
	return st;
}

/* RFC 2308 §5: the negative TTL from the authority section's SOA. */
static bool negative_ttl(const ldns_rr_list *auth, uint32_t *ttl)
{

	for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);
		const ldns_rdf *min;
		uint32_t m;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) != 7)
			continue;
		min = ldns_rr_rdf(rr, 6);
		if (ldns_rdf_size(min) != 4)
			continue;
		m = ldns_rdf2native_int32(min);
		*ttl = ldns_rr_ttl(rr) < m ? ldns_rr_ttl(rr) : m;
		return true;
	}
	return false;
}

/*
 * Two names in uncompressed wire form (ldns' DNAME rdf) are the same name
 * when their bytes are equal with ASCII letters folded (RFC 4343): length
 * bytes are at most 63, below 'A', so folding never turns one into a
 * letter or back, and equal bytes mean equal labels.  This is what
 * ldns_dname_compare() == 0 says, without its label-by-label walk.
 */
static bool same_name(const ldns_rdf *a, const ldns_rdf *b)
{
	size_t n = ldns_rdf_size(a);

	return n == ldns_rdf_size(b) && spf_strncaseeq(
		(const char *)ldns_rdf_data(a), (const char *)ldns_rdf_data(b), n);
}

/* Is rr of class IN, of type, owned by owner (ignoring case)? */
static bool rr_is(const ldns_rr *rr, const ldns_rdf *owner, ldns_rr_type type)
{
	return ldns_rr_get_type(rr) == type
		&& ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN
		&& same_name(ldns_rr_owner(rr), owner);
}

/* The first record of sec owned by owner with type, or NULL. */
static const ldns_rr *find_rr(const ldns_rr_list *sec, const ldns_rdf *owner,
	ldns_rr_type type)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(sec); i++)
		if (rr_is(ldns_rr_list_rr(sec, i), owner, type))
			return ldns_rr_list_rr(sec, i);
	return NULL;
}

/* Is the packet's one question (qname, qtype, IN)? */
static bool question_matches(const ldns_rr *q, const ldns_rdf *want,
	uint16_t qtype)
{
	return ldns_rr_get_type(q) == qtype
		&& ldns_rr_get_class(q) == LDNS_RR_CLASS_IN
		&& same_name(ldns_rr_owner(q), want);
}

/* A reply's sections as far as they are read (see DESCRIPTION). */
struct reply {
	ldns_rr *question;          /* the only one, or NULL */
	ldns_rr_list *answer;
	size_t auth_pos;            /* where the authority section starts */
	unsigned nauth;
};

/* Step over one record that is not parsed: its owner (ldns follows the
 * compression pointers), type, class, TTL, rdata length and rdata. */
static bool skip_rr(const uint8_t *buf, size_t len, size_t *pos)
{
	ldns_rdf *owner = NULL;
	size_t rdlen;

	if (ldns_wire2dname(&owner, buf, len, pos) != LDNS_STATUS_OK)
		return false;
	ldns_rdf_deep_free(owner);
	if (len - *pos < 10)
		return false;
	rdlen = ldns_read_uint16(buf + *pos + 8);
	*pos += 10;
	if (len - *pos < rdlen)
		return false;
	*pos += rdlen;
	return true;
}

/* SPF_ESYNTAX: the reply does not parse (it is cut, or a record is bad). */
static spf_status_t read_reply(const uint8_t *buf, size_t len, struct reply *r)
{
	size_t pos = LDNS_HEADER_SIZE;
	unsigned nq = LDNS_QDCOUNT(buf), nan = LDNS_ANCOUNT(buf);
	unsigned nar = LDNS_ARCOUNT(buf);

	r->nauth = LDNS_NSCOUNT(buf);
	for (unsigned i = 0; i < nq; i++) {
		ldns_rr *rr = NULL;

		if (ldns_wire2rr(&rr, buf, len, &pos, LDNS_SECTION_QUESTION)
		    != LDNS_STATUS_OK)
			return SPF_ESYNTAX;
		if (nq == 1)
			r->question = rr;
		else
			ldns_rr_free(rr);
	}
	r->answer = ldns_rr_list_new();
	if (r->answer == NULL)
		return SPF_ENOMEM;
	for (unsigned i = 0; i < nan; i++) {
		ldns_rr *rr = NULL;

		if (ldns_wire2rr(&rr, buf, len, &pos, LDNS_SECTION_ANSWER)
		    != LDNS_STATUS_OK)
			return SPF_ESYNTAX;
		if (!ldns_rr_list_push_rr(r->answer, rr)) {
			ldns_rr_free(rr);
			return SPF_ENOMEM;
		}
	}
	r->auth_pos = pos;
	for (unsigned i = 0; i < r->nauth + nar; i++)
		if (!skip_rr(buf, len, &pos))
			return SPF_ESYNTAX;
	return SPF_OK;
}

/* The authority records into *auth: SPF_ESYNTAX when one does not parse
 * (read_reply() only checked that each is whole), SPF_ENOMEM. */
static spf_status_t read_authority(const uint8_t *buf, size_t len,
	const struct reply *r, ldns_rr_list **auth)
{
	size_t pos = r->auth_pos;

	*auth = ldns_rr_list_new();
	if (*auth == NULL)
		return SPF_ENOMEM;
	for (unsigned i = 0; i < r->nauth; i++) {
		ldns_rr *rr = NULL;

		if (ldns_wire2rr(&rr, buf, len, &pos, LDNS_SECTION_AUTHORITY)
		    != LDNS_STATUS_OK)
			return SPF_ESYNTAX;
		if (!ldns_rr_list_push_rr(*auth, rr)) {
			ldns_rr_free(rr);
			return SPF_ENOMEM;
		}
	}
	return SPF_OK;
}

spf_dns_answer_t *spf_dns_answer_from_wire(const uint8_t *buf, size_t len,
	const char *qname, uint16_t qtype)
{
	struct reply r = { NULL, NULL, 0, 0 };
	ldns_rr_list *auth = NULL;
	ldns_rdf *want = NULL;
	const ldns_rdf *cur;
	const ldns_rr_list *sec;
	const ldns_rr *chain[MAX_CNAME_HOPS];
	size_t nchain = 0, nfound = 0;
	spf_dns_answer_t *ans = NULL;
	spf_dns_status_t status;
	ldns_pkt_rcode rcode;
	uint32_t ttl = UINT32_MAX, neg;
	spf_status_t rst;
	bool bad = false;

	if (qname == NULL)
		return NULL;
	if (buf == NULL || len < LDNS_HEADER_SIZE
	    || (rst = read_reply(buf, len, &r)) == SPF_ESYNTAX) {
		ans = fail_answer(qname, qtype, SPF_DNS_BADREPLY, "unparsable reply");
		goto done;
	}
	if (rst != SPF_OK)
		goto done;   /* out of memory */
	if (!LDNS_QR_WIRE(buf)) {
		ans = fail_answer(qname, qtype, SPF_DNS_BADREPLY, "not a response");
		goto done;
	}
	if (LDNS_TC_WIRE(buf)) {
		ans = fail_answer(qname, qtype, SPF_DNS_BADREPLY, "truncated reply");
		goto done;
	}
	if (ldns_str2rdf_dname(&want, qname[0] != '\0' ? qname : ".")
	    != LDNS_STATUS_OK || r.question == NULL
	    || !question_matches(r.question, want, qtype)) {
		ans = fail_answer(qname, qtype, SPF_DNS_BADREPLY,
			"reply to another question");
		goto done;
	}
	rcode = (ldns_pkt_rcode)LDNS_RCODE_WIRE(buf);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int)rcode);
		char text[32];

		if (lt != NULL)
			ans = fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, lt->name);
		else {
			snprintf(text, sizeof text, "RCODE%d", (int)rcode);
			ans = fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, text);
		}
		goto done;
	}

	/* Walk the chain: which name holds the records? */
	sec = r.answer;
	cur = want;
	for (;;) {
		const ldns_rr *cn;

		for (size_t i = 0; i < ldns_rr_list_rr_count(sec); i++)
			if (rr_is(ldns_rr_list_rr(sec, i), cur, (ldns_rr_type)qtype))
				nfound++;
		if (nfound > 0)
			break;
		if (qtype == SPF_RR_CNAME
		    || (cn = find_rr(sec, cur, LDNS_RR_TYPE_CNAME)) == NULL
		    || ldns_rr_rd_count(cn) != 1
		    || ldns_rdf_get_type(ldns_rr_rdf(cn, 0)) != LDNS_RDF_TYPE_DNAME)
			break;
		if (nchain == MAX_CNAME_HOPS) {
			ans = fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, "CNAME loop");
			goto done;
		}
		chain[nchain++] = cn;
		cur = ldns_rr_rdf(cn, 0);
	}

	if (rcode == LDNS_RCODE_NXDOMAIN)
		status = SPF_DNS_NXDOMAIN;
	else
		status = nfound > 0 ? SPF_DNS_OK : SPF_DNS_NODATA;
	if (status != SPF_DNS_OK)
		nfound = 0;   /* NXDOMAIN with records: ignore them */
	ans = spf_dns_answer_create(qname, qtype, status);
	if (ans == NULL)
		goto done;
	for (size_t i = 0; i < nchain; i++) {
		char *target;

		if (spf_rr_dname_text(ldns_rr_rdf(chain[i], 0),
			SPF_RR_NAME_PRESENTATION, &target) != SPF_OK
		    || spf_dns_answer_add_cname(ans, target) != SPF_OK) {
			spf_free(target);
			goto nomem;
		}
		spf_free(target);
		if (ldns_rr_ttl(chain[i]) < ttl)
			ttl = ldns_rr_ttl(chain[i]);
	}
	for (size_t i = 0; nfound > 0 && i < ldns_rr_list_rr_count(sec); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(sec, i);
		spf_status_t st;

		if (!rr_is(rr, cur, (ldns_rr_type)qtype))
			continue;
		st = add_rr(ans, rr);
		if (st == SPF_ENOMEM)
			goto nomem;
		if (st != SPF_OK)
			bad = true;
		else if (ldns_rr_ttl(rr) < ttl)
			ttl = ldns_rr_ttl(rr);
	}
	if (bad) {
		spf_dns_answer_unref(ans);
		ans = fail_answer(qname, qtype, SPF_DNS_BADREPLY, "malformed record data");
		goto done;
	}
	if (status != SPF_DNS_OK) {
		rst = read_authority(buf, len, &r, &auth);
		if (rst == SPF_ENOMEM)
			goto nomem;
		if (rst != SPF_OK) {
			spf_dns_answer_unref(ans);
			ans = fail_answer(qname, qtype, SPF_DNS_BADREPLY, "unparsable reply");
			goto done;
		}
		if (!negative_ttl(auth, &neg))
			neg = NEG_TTL_NO_SOA;
		spf_dns_answer_set_ttl(ans, neg < ttl ? neg : ttl);
	} else if (nchain > 0) {
		spf_dns_answer_set_ttl(ans, ttl);
	}
	goto done;
nomem:
	spf_dns_answer_unref(ans);
	ans = NULL;
done:
	ldns_rdf_deep_free(want);
	ldns_rr_free(r.question);
	ldns_rr_list_deep_free(r.answer);
	ldns_rr_list_deep_free(auth);
	return ans;
}

spf_dns_answer_t *spf_wire_answer(int ares_status, const uint8_t *buf,
	size_t len, const char *qname, uint16_t qtype)
{
	if (buf != NULL && len > 0)
		return spf_dns_answer_from_wire(buf, len, qname, qtype);
	switch (ares_status) {
	case ARES_ETIMEOUT:
		return fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, "timeout");
	case ARES_ESERVFAIL:
		return fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, "SERVFAIL");
	case ARES_EREFUSED:
		return fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, "REFUSED");
	case ARES_EFORMERR:
		return fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, "FORMERR");
	case ARES_ENOTIMP:
		return fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, "NOTIMP");
	case ARES_EBADRESP:
		return fail_answer(qname, qtype, SPF_DNS_BADREPLY, ares_strerror(ares_status));
	case ARES_EBADNAME:
		return fail_answer(qname, qtype, SPF_DNS_NXDOMAIN,
			"not a valid DNS name (c-ares EBADNAME)");
	case ARES_ENOTFOUND:
		return fail_answer(qname, qtype, SPF_DNS_NXDOMAIN, NULL);
	case ARES_ENODATA:
		return fail_answer(qname, qtype, SPF_DNS_NODATA, NULL);
	default:
		return fail_answer(qname, qtype, SPF_DNS_TEMPFAIL, ares_strerror(ares_status));
	}
}
