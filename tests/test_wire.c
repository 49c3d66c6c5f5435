/*
 * test_wire.c - the live DNS path: reply parsing (wire2answer.c), the
 * c-ares transport (wire.c), the cache and coalescing (cache.c,
 * resolver.c), IDN conversion (idn.c).
 *
 * Replies for the parser are built with ldns.  Live tests talk only to
 * servers on the loopback interface, started on the test's own
 * event_base: the fixture DNS server (fixture.h) serving a zone built in
 * code, and for what the fixture does not do (an SOA in negative
 * answers) a small scripted UDP responder in this file.  Every wait on
 * the loop has a guard timer, so a broken transport fails a test instead
 * of hanging it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include "check.h"
#include "env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_internal.h"
#include "fixture.h"
#include "spf.h"

#define GUARD_MS 5000

/* ---- building replies with ldns ---- */

/* A reply to (qname, qtype) as wire bytes (free()), with records given
 * in presentation format. */
static uint8_t *build_reply(const char *qname, uint16_t qtype, int rcode,
	bool qr, const char *const *answers, const char *const *authority,
	size_t *len)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rdf *owner = NULL;
	uint8_t *wire = NULL;

	assert_non_null(p);
	ldns_pkt_set_id(p, 4711);
	ldns_pkt_set_qr(p, qr);
	ldns_pkt_set_rd(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	assert_int_equal(ldns_str2rdf_dname(&owner, qname), LDNS_STATUS_OK);
	{
		ldns_rr *q = ldns_rr_new();

		ldns_rr_set_owner(q, owner);
		ldns_rr_set_type(q, (ldns_rr_type)qtype);
		ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
		ldns_rr_set_question(q, true);
		assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q));
	}
	for (size_t i = 0; answers != NULL && answers[i] != NULL; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, answers[i], 0, NULL, NULL),
			LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr));
	}
	for (size_t i = 0; authority != NULL && authority[i] != NULL; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, authority[i], 0, NULL, NULL),
			LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr));
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

/* ---- parser table ---- */

struct parse_case {
	const char *what;
	const char *qname;          /* asked */
	const char *rname;          /* question in the reply (NULL: qname) */
	uint16_t qtype;
	int rcode;
	bool not_qr;
	const char *answers[6];
	const char *authority[3];
	spf_dns_status_t want;
	size_t count;
	uint32_t ttl;
	const char *detail;         /* NULL: no detail expected */
	const char *cnames;         /* NULL: no chain */
};

static const struct parse_case parse_cases[] = {
	{ "A", "a.test", NULL, SPF_RR_A, LDNS_RCODE_NOERROR, false,
	  { "a.test. 300 IN A 192.0.2.1", "a.test. 200 IN A 192.0.2.2" }, { NULL },
	  SPF_DNS_OK, 2, 200, NULL, NULL },
	{ "owner case", "A.Test", NULL, SPF_RR_A, LDNS_RCODE_NOERROR, false,
	  { "a.TEST. 300 IN A 192.0.2.1" }, { NULL },
	  SPF_DNS_OK, 1, 300, NULL, NULL },
	{ "same letters, other labels", "ab.test", NULL, SPF_RR_A, LDNS_RCODE_NOERROR, false,
	  { "a.btest. 300 IN A 192.0.2.9", "AB.tesT. 70 IN A 192.0.2.1",
	    "ab.test.test. 300 IN A 192.0.2.8" }, { NULL },
	  SPF_DNS_OK, 1, 70, NULL, NULL },
	{ "other records ignored", "a.test", NULL, SPF_RR_A, LDNS_RCODE_NOERROR, false,
	  { "b.test. 300 IN A 192.0.2.9", "a.test. 300 IN AAAA 2001:db8::1",
	    "a.test. 50 IN A 192.0.2.1" }, { NULL },
	  SPF_DNS_OK, 1, 50, NULL, NULL },
	{ "NODATA with SOA", "a.test", NULL, SPF_RR_TXT, LDNS_RCODE_NOERROR, false,
	  { NULL }, { "test. 900 IN SOA ns.test. h.test. 1 2 3 4 120" },
	  SPF_DNS_NODATA, 0, 120, NULL, NULL },
	{ "NODATA SOA TTL smaller", "a.test", NULL, SPF_RR_TXT, LDNS_RCODE_NOERROR, false,
	  { NULL }, { "test. 30 IN SOA ns.test. h.test. 1 2 3 4 120" },
	  SPF_DNS_NODATA, 0, 30, NULL, NULL },
	{ "NODATA without SOA", "a.test", NULL, SPF_RR_TXT, LDNS_RCODE_NOERROR, false,
	  { NULL }, { NULL }, SPF_DNS_NODATA, 0, 30, NULL, NULL },
	{ "NXDOMAIN", "x.test", NULL, SPF_RR_A, LDNS_RCODE_NXDOMAIN, false,
	  { NULL }, { "test. 3600 IN SOA ns.test. h.test. 1 2 3 4 300" },
	  SPF_DNS_NXDOMAIN, 0, 300, NULL, NULL },
	{ "SERVFAIL", "a.test", NULL, SPF_RR_A, LDNS_RCODE_SERVFAIL, false,
	  { NULL }, { NULL }, SPF_DNS_TEMPFAIL, 0, 0, "SERVFAIL", NULL },
	{ "REFUSED", "a.test", NULL, SPF_RR_A, LDNS_RCODE_REFUSED, false,
	  { NULL }, { NULL }, SPF_DNS_TEMPFAIL, 0, 0, "REFUSED", NULL },
	{ "FORMERR", "a.test", NULL, SPF_RR_A, LDNS_RCODE_FORMERR, false,
	  { NULL }, { NULL }, SPF_DNS_TEMPFAIL, 0, 0, "FORMERR", NULL },
	{ "CNAME chain", "a.test", NULL, SPF_RR_TXT, LDNS_RCODE_NOERROR, false,
	  { "A.test. 600 IN CNAME b.test.", "b.test. 100 IN CNAME C.test.",
	    "c.test. 300 IN TXT \"v=spf1 \" \"-all\"" }, { NULL },
	  SPF_DNS_OK, 1, 100, NULL, "a.test -> b.test -> c.test" },
	{ "CNAME to NODATA", "a.test", NULL, SPF_RR_TXT, LDNS_RCODE_NOERROR, false,
	  { "a.test. 600 IN CNAME b.test." },
	  { "test. 900 IN SOA ns.test. h.test. 1 2 3 4 60" },
	  SPF_DNS_NODATA, 0, 60, NULL, "a.test -> b.test" },
	{ "CNAME to NXDOMAIN", "a.test", NULL, SPF_RR_A, LDNS_RCODE_NXDOMAIN, false,
	  { "a.test. 40 IN CNAME gone.test." },
	  { "test. 900 IN SOA ns.test. h.test. 1 2 3 4 60" },
	  SPF_DNS_NXDOMAIN, 0, 40, NULL, "a.test -> gone.test" },
	{ "CNAME loop", "a.test", NULL, SPF_RR_A, LDNS_RCODE_NOERROR, false,
	  { "a.test. 60 IN CNAME b.test.", "b.test. 60 IN CNAME a.test." }, { NULL },
	  SPF_DNS_TEMPFAIL, 0, 0, "CNAME loop", NULL },
	{ "CNAME asked", "a.test", NULL, SPF_RR_CNAME, LDNS_RCODE_NOERROR, false,
	  { "a.test. 60 IN CNAME b.test." }, { NULL },
	  SPF_DNS_OK, 1, 60, NULL, NULL },
	{ "question mismatch", "a.test", "b.test", SPF_RR_A, LDNS_RCODE_NOERROR, false,
	  { "b.test. 60 IN A 192.0.2.1" }, { NULL },
	  SPF_DNS_BADREPLY, 0, 0, "reply to another question", NULL },
	{ "not a response", "a.test", NULL, SPF_RR_A, LDNS_RCODE_NOERROR, true,
	  { NULL }, { NULL }, SPF_DNS_BADREPLY, 0, 0, "not a response", NULL },
	{ "MX", "mx.test", NULL, SPF_RR_MX, LDNS_RCODE_NOERROR, false,
	  { "mx.test. 60 IN MX 10 Mail.Example.", "mx.test. 60 IN MX 20 ." }, { NULL },
	  SPF_DNS_OK, 2, 60, NULL, NULL },
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len;
		uint8_t *wire = build_reply(c->rname ? c->rname : c->qname, c->qtype,
			c->rcode, !c->not_qr, c->answers, c->authority, &len);
		spf_dns_answer_t *ans = spf_dns_answer_from_wire(wire, len, c->qname, c->qtype);

		print_message("case %s\n", c->what);
		assert_non_null(ans);
		assert_int_equal(spf_dns_answer_status(ans), c->want);
		assert_int_equal(spf_dns_answer_count(ans), c->count);
		assert_int_equal(spf_dns_answer_type(ans), c->qtype);
		assert_int_equal(spf_dns_answer_ttl(ans), c->ttl);
		if (c->detail != NULL)
			assert_string_equal(spf_dns_answer_detail(ans), c->detail);
		else
			assert_null(spf_dns_answer_detail(ans));
		if (c->cnames != NULL)
			assert_string_equal(spf_dns_answer_cnames(ans), c->cnames);
		else
			assert_null(spf_dns_answer_cnames(ans));
		spf_dns_answer_unref(ans);
		free(wire);
	}
}

static void test_parse_records(void **state)
{
	static const char *const txt[] = {
		"t.test. 60 IN TXT \"v=spf1 \" \"a\" \"\" \"-all\"", NULL };
	static const char *const mx[] = { "t.test. 60 IN MX 10 Mail.Example.", NULL };
	static const char *const aaaa[] = { "t.test. 60 IN AAAA 2001:db8::5", NULL };
	static const char *const ptr[] = { "5.test. 60 IN PTR Host.Test.", NULL };
	spf_dns_answer_t *ans;
	const spf_dns_rr_t *rr;
	uint8_t *wire;
	size_t len;

	(void)state;
	wire = build_reply("t.test", SPF_RR_TXT, 0, true, txt, NULL, &len);
	ans = spf_dns_answer_from_wire(wire, len, "t.test.", SPF_RR_TXT);
	rr = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rr->u.txt.nstrings, 4);
	assert_int_equal(rr->u.txt.len, 12);
	assert_memory_equal(rr->u.txt.data, "v=spf1 a-all", 13);
	assert_int_equal(rr->u.txt.lens[2], 0);
	assert_string_equal(spf_dns_answer_name(ans), "t.test");
	spf_dns_answer_unref(ans);
	free(wire);

	wire = build_reply("t.test", SPF_RR_MX, 0, true, mx, NULL, &len);
	ans = spf_dns_answer_from_wire(wire, len, "t.test", SPF_RR_MX);
	rr = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rr->u.mx.preference, 10);
	assert_string_equal(rr->u.mx.exchange, "mail.example");
	spf_dns_answer_unref(ans);
	free(wire);

	wire = build_reply("t.test", SPF_RR_AAAA, 0, true, aaaa, NULL, &len);
	ans = spf_dns_answer_from_wire(wire, len, "t.test", SPF_RR_AAAA);
	rr = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rr->u.aaaa[0], 0x20);
	assert_int_equal(rr->u.aaaa[15], 5);
	spf_dns_answer_unref(ans);
	free(wire);

	wire = build_reply("5.test", SPF_RR_PTR, 0, true, ptr, NULL, &len);
	ans = spf_dns_answer_from_wire(wire, len, "5.test", SPF_RR_PTR);
	assert_string_equal(spf_dns_answer_rr(ans, 0)->u.name, "host.test");
	spf_dns_answer_unref(ans);
	free(wire);
}

static void test_parse_garbage(void **state)
{
	static const char *const a[] = { "a.test. 60 IN A 192.0.2.1", NULL };
	static const uint8_t junk[] = { 0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 'a', 'b' };
	spf_dns_answer_t *ans;
	uint8_t *wire;
	size_t len;

	(void)state;
	ans = spf_dns_answer_from_wire(junk, sizeof junk, "a.test", SPF_RR_A);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_BADREPLY);
	assert_string_equal(spf_dns_answer_detail(ans), "unparsable reply");
	spf_dns_answer_unref(ans);
	ans = spf_dns_answer_from_wire(NULL, 0, "a.test", SPF_RR_A);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_BADREPLY);
	spf_dns_answer_unref(ans);
	ans = spf_dns_answer_from_wire(junk, 5, "a.test", SPF_RR_A);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_BADREPLY);
	spf_dns_answer_unref(ans);
	assert_null(spf_dns_answer_from_wire(junk, sizeof junk, NULL, SPF_RR_A));

	/* every truncation of a good reply is BADREPLY (or, cut exactly at
	 * a section boundary the counts no longer match: still BADREPLY) */
	wire = build_reply("a.test", SPF_RR_A, 0, true, a, NULL, &len);
	for (size_t cut = 0; cut < len; cut++) {
		ans = spf_dns_answer_from_wire(wire, cut, "a.test", SPF_RR_A);
		assert_non_null(ans);
		assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_BADREPLY);
		spf_dns_answer_unref(ans);
	}
	/* TC set: a truncated reply that reached us */
	wire[2] |= 0x02;
	ans = spf_dns_answer_from_wire(wire, len, "a.test", SPF_RR_A);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_BADREPLY);
	assert_string_equal(spf_dns_answer_detail(ans), "truncated reply");
	spf_dns_answer_unref(ans);
	free(wire);
}

/* wire plus one record at the end: owner = the question's name (a
 * pointer to offset 12), type, class IN, TTL 60, the rdata given; the
 * count at count_off goes up by one.  The caller frees the result. */
static uint8_t *append_rr(const uint8_t *wire, size_t len, size_t count_off,
	uint16_t type, const uint8_t *rdata, uint16_t rdlen, size_t *newlen)
{
	uint8_t *w = malloc(len + 12 + rdlen);
	uint8_t *p;

	assert_non_null(w);
	memcpy(w, wire, len);
	p = w + len;
	*p++ = 0xc0; *p++ = 0x0c;
	*p++ = (uint8_t)(type >> 8); *p++ = (uint8_t)type;
	*p++ = 0; *p++ = 1;
	*p++ = 0; *p++ = 0; *p++ = 0; *p++ = 60;
	*p++ = (uint8_t)(rdlen >> 8); *p++ = (uint8_t)rdlen;
	memcpy(p, rdata, rdlen);
	w[count_off + 1]++;
	*newlen = len + 12 + rdlen;
	return w;
}

/*
 * Only the question and answer are parsed; the authority section only
 * for a negative answer's SOA, the additional never; both must still be
 * whole.  A glue record with bad rdata does not spoil a good answer; an
 * SOA with bad rdata spoils the negative answer that needs it; a reply
 * cut anywhere in either section is BADREPLY.
 */
static void test_parse_sections(void **state)
{
	static const char *const a[] = { "a.test. 60 IN A 192.0.2.1", NULL };
	static const uint8_t bad_a[3] = { 192, 0, 2 };
	static const uint8_t bad_soa[3] = { 0, 0, 0 };
	spf_dns_answer_t *ans;
	uint8_t *wire, *w2, *w3;
	size_t len, len2, len3;

	(void)state;
	wire = build_reply("a.test", SPF_RR_A, 0, true, a, NULL, &len);
	/* an NS in authority, a glue A with 3 bytes of rdata in additional */
	w2 = append_rr(wire, len, 8, SPF_RR_NS, (const uint8_t *)"\xc0\x0c", 2, &len2);
	w3 = append_rr(w2, len2, 10, SPF_RR_A, bad_a, sizeof bad_a, &len3);
	ans = spf_dns_answer_from_wire(w3, len3, "a.test", SPF_RR_A);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	assert_int_equal(spf_dns_answer_count(ans), 1);
	spf_dns_answer_unref(ans);
	for (size_t cut = len; cut < len3; cut++) {
		ans = spf_dns_answer_from_wire(w3, cut, "a.test", SPF_RR_A);
		assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_BADREPLY);
		assert_string_equal(spf_dns_answer_detail(ans), "unparsable reply");
		spf_dns_answer_unref(ans);
	}
	free(w2);
	free(w3);
	free(wire);

	/* NODATA: the SOA is read, and one that does not parse spoils it */
	wire = build_reply("a.test", SPF_RR_TXT, 0, true, NULL, NULL, &len);
	w2 = append_rr(wire, len, 8, 6 /* SOA */, bad_soa, sizeof bad_soa, &len2);
	ans = spf_dns_answer_from_wire(w2, len2, "a.test", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_BADREPLY);
	assert_string_equal(spf_dns_answer_detail(ans), "unparsable reply");
	spf_dns_answer_unref(ans);
	free(w2);
	/* the same bad record as glue: not read, NODATA with the 30 s TTL */
	w2 = append_rr(wire, len, 10, 6 /* SOA */, bad_soa, sizeof bad_soa, &len2);
	ans = spf_dns_answer_from_wire(w2, len2, "a.test", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_NODATA);
	assert_int_equal(spf_dns_answer_ttl(ans), 30);
	spf_dns_answer_unref(ans);
	free(w2);
	free(wire);
}

static void test_ares_outcomes(void **state)
{
	static const struct {
		int status;
		spf_dns_status_t want;
		const char *detail;
	} cases[] = {
		{ ARES_ETIMEOUT, SPF_DNS_TEMPFAIL, "timeout" },
		{ ARES_ESERVFAIL, SPF_DNS_TEMPFAIL, "SERVFAIL" },
		{ ARES_EREFUSED, SPF_DNS_TEMPFAIL, "REFUSED" },
		{ ARES_ECONNREFUSED, SPF_DNS_TEMPFAIL, NULL },
		{ ARES_EBADNAME, SPF_DNS_NXDOMAIN, "not a valid DNS name (c-ares EBADNAME)" },
		{ ARES_EBADRESP, SPF_DNS_BADREPLY, NULL },
		{ ARES_ENOTFOUND, SPF_DNS_NXDOMAIN, NULL },
		{ ARES_ENODATA, SPF_DNS_NODATA, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		spf_dns_answer_t *ans = spf_wire_answer(cases[i].status, NULL, 0,
			"a.test", SPF_RR_A);

		assert_non_null(ans);
		assert_int_equal(spf_dns_answer_status(ans), cases[i].want);
		if (cases[i].detail != NULL)
			assert_string_equal(spf_dns_answer_detail(ans), cases[i].detail);
		if (cases[i].status == ARES_ECONNREFUSED)
			assert_string_equal(spf_dns_answer_detail(ans),
				ares_strerror(ARES_ECONNREFUSED));
		spf_dns_answer_unref(ans);
	}
}

static void test_server_specs(void **state)
{
	static const char *const good[] = { "127.0.0.1", "127.0.0.1:5353", "::1",
		"[::1]", "[::1]:53", "2001:db8::1", "[2001:db8::1]:65535" };
	static const char *const bad[] = { "", "localhost", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:x", "[::1", "[::1]x", "[127.0.0.1]:53",
		"[::1]:", "1.2.3", "300.1.1.1", ":53" };

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		print_message("good %s\n", good[i]);
		assert_int_equal(spf_dns_server_check(good[i]), SPF_OK);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("bad %s\n", bad[i]);
		assert_int_equal(spf_dns_server_check(bad[i]), SPF_EINVAL);
	}
	assert_int_equal(spf_dns_server_check(NULL), SPF_EINVAL);
}

static void test_resolver_bad_server(void **state)
{
	struct event_base *base = event_base_new();
	static const char *const ns[] = { "127.0.0.1:53", "nonsense" };
	spf_resolver_opts_t o = { .nameservers = ns, .nnameservers = 2 };
	spf_status_t st = SPF_OK;
	char *msg = NULL;

	(void)state;
	assert_null(spf_resolver_create_ex(base, &o, &st, &msg));
	assert_int_equal(st, SPF_EINVAL);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "nonsense"));
	spf_free(msg);
	assert_null(spf_resolver_create(base, &o));
	event_base_free(base);
}

/* ---- IDN ---- */

static void test_idn(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "example.com", "example.com" },
		{ "_spf.Example.COM.", "_spf.Example.COM." },
		{ "a_b.%{i}.test", "a_b.%{i}.test" },
		{ "bücher.example", "xn--bcher-kva.example" },
		{ "BÜCHER.example", "xn--bcher-kva.example" },
		{ "faß.de", "xn--fa-hia.de" },                /* non-transitional */
		{ "例え.テスト", "xn--r8jz45g.xn--zckzah" },
		{ "bücher\xe3\x80\x82" "example", "xn--bcher-kva.example" },  /* U+3002 */
	};
	static const char *const bad[] = { "b\xfcr.example", "\xe2\x98\x83\xcc\x81.x" };
	char *out = NULL;
	const char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		print_message("idn %s\n", ok[i].out);
		assert_int_equal(spf_dns_to_ascii(ok[i].in, &out, &why), SPF_OK);
		assert_string_equal(out, ok[i].out);
		spf_free(out);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(spf_dns_to_ascii(bad[i], &out, &why), SPF_EINVAL);
		assert_null(out);
		assert_non_null(why);
	}
	assert_int_equal(spf_dns_to_ascii(NULL, &out, &why), SPF_EINVAL);
}

/* ---- live: fixture server and resolver on one loop ---- */

struct fx {
	struct event_base *base;
	spf_zone_t *zone;
	fixture_server_t *srv;
	spf_resolver_t *res;
	uint64_t now_ms;            /* the cache's clock */
	char ns[64];
};

static uint64_t fake_clock(void *arg)
{
	return ((struct fx *)arg)->now_ms;
}

static void add_a(spf_zone_t *z, const char *name, uint8_t last, uint32_t ttl)
{
	spf_dns_rr_t rr;

	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_A;
	rr.ttl = ttl;
	rr.u.a[0] = 192;
	rr.u.a[2] = 2;
	rr.u.a[3] = last;
	assert_int_equal(spf_zone_add(z, name, &rr), SPF_OK);
}

static void add_txt(spf_zone_t *z, const char *name, const char *text, uint32_t ttl)
{
	const uint8_t *s = (const uint8_t *)text;
	size_t len = strlen(text);

	assert_int_equal(spf_zone_add_txt(z, name, &s, &len, 1, ttl), SPF_OK);
}

static void fx_resolver(struct fx *f, unsigned timeout_ms, size_t cache_entries)
{
	const char *ns[1] = { f->ns };
	spf_resolver_opts_t o = {
		.nameservers = ns, .nnameservers = 1,
		.timeout_ms = timeout_ms, .tries = 1,
		.cache_entries = cache_entries,
		.clock = fake_clock, .clock_arg = f,
	};

	spf_resolver_destroy(f->res);
	f->res = spf_resolver_create(f->base, &o);
	assert_non_null(f->res);
}

static int fx_setup_at(void **state, const char *addr)
{
	struct fx *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	f->base = event_base_new();
	f->zone = spf_zone_create();
	if (f->base == NULL || f->zone == NULL) {
		spf_zone_destroy(f->zone);
		if (f->base != NULL)
			event_base_free(f->base);
		free(f);
		return -1;
	}
	f->now_ms = 1000000;
	add_a(f->zone, "a.test", 1, 60);
	add_txt(f->zone, "a.test", "v=spf1 a -all", 60);
	add_txt(f->zone, "inc.test", "v=spf1 ip4:198.51.100.0/24 -all", 300);
	add_txt(f->zone, "spf.test",
		"v=spf1 a:a.test mx:a.test include:inc.test exists:x.a.test ~all", 300);
	add_txt(f->zone, "xn--bcher-kva.example", "v=spf1 +all", 300);
	add_txt(f->zone, "fail.test", "v=spf1 include:sf.test -all", 300);
	add_txt(f->zone, "refuse.test", "v=spf1 include:rf.test -all", 300);
	add_txt(f->zone, "slow.test", "v=spf1 include:drop.test -all", 300);
	add_a(f->zone, "sf.test", 1, 60);
	add_a(f->zone, "rf.test", 1, 60);
	add_a(f->zone, "drop.test", 1, 60);
	f->srv = fixture_start(f->base, f->zone, addr, 0);
	if (f->srv == NULL) {
		spf_zone_destroy(f->zone);
		event_base_free(f->base);
		free(f);
		*state = NULL;
		return strcmp(addr, "::1") == 0 ? 0 : -1;
	}
	if (strchr(addr, ':') != NULL)
		snprintf(f->ns, sizeof f->ns, "[%s]:%u", addr, (unsigned)fixture_port(f->srv));
	else
		snprintf(f->ns, sizeof f->ns, "%s:%u", addr, (unsigned)fixture_port(f->srv));
	fx_resolver(f, 1000, 0);
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_at(state, "127.0.0.1");
}

static int fx_setup6(void **state)
{
	return fx_setup_at(state, "::1");
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	spf_resolver_destroy(f->res);
	fixture_stop(f->srv);
	spf_zone_destroy(f->zone);
	event_base_free(f->base);
	free(f);
	return 0;
}

struct got {
	int calls;
	spf_dns_status_t status;
	size_t count;
	char detail[128];
	size_t txtlen;
	bool done;
	int *remaining;
};

static void on_got(const spf_dns_answer_t *ans, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->status = spf_dns_answer_status(ans);
	g->count = spf_dns_answer_count(ans);
	snprintf(g->detail, sizeof g->detail, "%s",
		spf_dns_answer_detail(ans) ? spf_dns_answer_detail(ans) : "");
	g->txtlen = 0;
	if (g->status == SPF_DNS_OK && spf_dns_answer_type(ans) == SPF_RR_TXT)
		for (size_t i = 0; i < g->count; i++)
			g->txtlen += spf_dns_answer_rr(ans, i)->u.txt.len;
	g->done = true;
	if (g->remaining != NULL)
		(*g->remaining)--;
}

/* One query through the resolver, waited for. */
static struct got ask(struct fx *f, const char *name, uint16_t type)
{
	struct got g = { 0 };

	assert_non_null(spf_resolver_query(f->res, name, type, on_got, &g));
	assert_int_equal(g.calls, 0);      /* never from inside the call */
	env_wait_for(f->base, &g.done, GUARD_MS);
	assert_int_equal(g.calls, 1);
	return g;
}

static void test_live_basic(void **state)
{
	struct fx *f = *state;
	struct got g;
	spf_resolver_stats_t st;

	g = ask(f, "a.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(g.count, 1);
	g = ask(f, "A.TEST.", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_OK);
	g = ask(f, "nothere.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	g = ask(f, "a.test", SPF_RR_MX);
	assert_int_equal(g.status, SPF_DNS_NODATA);
	assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 1);
	spf_resolver_stats(f->res, &st);
	assert_int_equal(st.queries, 4);
	assert_int_equal(st.wire_queries, 4);
	assert_int_equal(st.zone_answers, 0);
}

static void test_live_ipv6(void **state)
{
	struct fx *f = *state;
	struct got g;

	if (f == NULL) {
		print_message("skipped: cannot bind ::1 on this machine\n");
		skip();
	}
	g = ask(f, "a.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 1);
}

static void test_live_ttl_expiry(void **state)
{
	struct fx *f = *state;
	struct got g;
	spf_resolver_stats_t st;

	g = ask(f, "a.test", SPF_RR_A);        /* TTL 60 */
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 1);
	f->now_ms += 59999;
	g = ask(f, "a.test.", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 1);
	spf_resolver_stats(f->res, &st);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.cache_entries, 1);
	/* taken at once: counted as a query answered from the cache */
	{
		spf_dns_answer_t *a = spf_resolver_take_cached(f->res, "a.test", SPF_RR_A);
		unsigned long q = st.queries;

		assert_non_null(a);
		assert_int_equal(spf_dns_answer_status(a), SPF_DNS_OK);
		spf_dns_answer_unref(a);
		assert_null(spf_resolver_take_cached(f->res, "a.test", SPF_RR_MX));
		spf_resolver_stats(f->res, &st);
		assert_int_equal(st.cache_hits, 2);
		assert_int_equal(st.queries, q + 1);
		assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 1);
	}
	f->now_ms += 1;                         /* 60 s: expired */
	assert_null(spf_resolver_take_cached(f->res, "a.test", SPF_RR_A));
	g = ask(f, "a.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 2);

	/* the zone overlay answers first and is never cached */
	add_a(spf_resolver_zone(f->res), "local.test", 9, 60);
	g = ask(f, "local.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_null(spf_resolver_take_cached(f->res, "local.test", SPF_RR_A));
	g = ask(f, "sub.local.test", SPF_RR_A);   /* not in the overlay */
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	assert_int_equal(fixture_count_for(f->srv, "local.test", SPF_RR_A), 0);
	assert_int_equal(fixture_count_for(f->srv, "sub.local.test", SPF_RR_A), 1);
}

static void test_live_lru(void **state)
{
	struct fx *f = *state;
	spf_resolver_stats_t st;

	fx_resolver(f, 1000, 2);
	add_a(f->zone, "b.test", 2, 600);
	add_a(f->zone, "c.test", 3, 600);
	ask(f, "a.test", SPF_RR_A);
	ask(f, "b.test", SPF_RR_A);
	ask(f, "a.test", SPF_RR_A);             /* a is now the newest */
	ask(f, "c.test", SPF_RR_A);             /* evicts b */
	spf_resolver_stats(f->res, &st);
	assert_int_equal(st.cache_entries, 2);
	assert_int_equal(st.cache_evictions, 1);
	ask(f, "a.test", SPF_RR_A);
	assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 1);
	ask(f, "b.test", SPF_RR_A);
	assert_int_equal(fixture_count_for(f->srv, "b.test", SPF_RR_A), 2);
}

static void test_live_failures(void **state)
{
	struct fx *f = *state;
	struct got g;

	/* answers (SERVFAIL, REFUSED) with the set-up's 1 s timeout, so a
	 * loaded machine cannot turn them into timeouts; a short timeout only
	 * where no answer comes */
	assert_int_equal(fixture_set_mode(f->srv, "sf.test", FIX_SERVFAIL), 0);
	assert_int_equal(fixture_set_mode(f->srv, "rf.test", FIX_REFUSED), 0);
	assert_int_equal(fixture_set_mode(f->srv, "drop.test", FIX_DROP), 0);
	g = ask(f, "sf.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_TEMPFAIL);
	assert_string_equal(g.detail, "SERVFAIL");
	g = ask(f, "rf.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_TEMPFAIL);
	assert_string_equal(g.detail, "REFUSED");
	fx_resolver(f, 100, 0);
	g = ask(f, "drop.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_TEMPFAIL);
	assert_string_equal(g.detail, "timeout");
	fx_resolver(f, 1000, 0);
	/* TEMPFAIL is not cached: asked again */
	(void)ask(f, "sf.test", SPF_RR_A);
	assert_int_equal(fixture_count_for(f->srv, "sf.test", SPF_RR_A), 2);
	/* a name c-ares cannot encode never reaches the server */
	g = ask(f, "this-label-is-longer-than-sixty-three-bytes-which-dns-does-not-allow.test",
		SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	assert_string_equal(g.detail, "not a valid DNS name (c-ares EBADNAME)");
}

static void test_live_refused_port(void **state)
{
	struct fx *f = *state;
	struct got g;

	/* a loopback port nobody listens on: ICMP port unreachable */
	snprintf(f->ns, sizeof f->ns, "127.0.0.1:9");
	fx_resolver(f, 300, 0);
	g = ask(f, "a.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_TEMPFAIL);
	assert_true(g.detail[0] != '\0');
}

/* Evaluations: the result and how many queries the fixture saw. */
struct evrun {
	spf_job_t *job;
	bool done;
	int *remaining;
};

static void on_job(spf_job_t *job, void *arg)
{
	struct evrun *r = arg;

	(void)job;
	r->done = true;
	(*r->remaining)--;
}

static spf_result_t evaluate(struct fx *f, const char *ip, const char *sender)
{
	spf_request_t req = { 0 };
	int remaining = 1;
	bool all = false;
	struct evrun r = { .remaining = &remaining };
	spf_result_t res;

	assert_true(spf_addr_parse(ip, &req.ip));
	req.sender = sender;
	req.helo = "helo.test";
	req.now = 1700000000;
	r.job = spf_check_start(f->res, &req, on_job, &r, NULL);
	assert_non_null(r.job);
	env_wait_for(f->base, &r.done, GUARD_MS);
	all = remaining == 0;
	assert_true(all);
	res = spf_job_result(r.job);
	spf_job_destroy(r.job);
	return res;
}

static void test_live_temperror(void **state)
{
	struct fx *f = *state;

	/* the set-up's 1 s timeout where answers come; 100 ms for the drop */
	assert_int_equal(fixture_set_mode(f->srv, "sf.test", FIX_SERVFAIL), 0);
	assert_int_equal(fixture_set_mode(f->srv, "rf.test", FIX_REFUSED), 0);
	assert_int_equal(fixture_set_mode(f->srv, "drop.test", FIX_DROP), 0);
	assert_int_equal(evaluate(f, "192.0.2.1", "u@a.test"), SPF_RESULT_PASS);
	assert_int_equal(evaluate(f, "192.0.2.1", "u@fail.test"), SPF_RESULT_TEMPERROR);
	assert_int_equal(evaluate(f, "192.0.2.1", "u@refuse.test"), SPF_RESULT_TEMPERROR);
	fx_resolver(f, 100, 0);
	assert_int_equal(evaluate(f, "192.0.2.1", "u@slow.test"), SPF_RESULT_TEMPERROR);
}

static void test_live_idn(void **state)
{
	struct fx *f = *state;
	char *ascii = NULL;

	assert_int_equal(spf_dns_to_ascii("Bücher.example", &ascii, NULL), SPF_OK);
	assert_string_equal(ascii, "xn--bcher-kva.example");
	assert_int_equal(evaluate(f, "192.0.2.77", ascii), SPF_RESULT_PASS);
	assert_int_equal(fixture_count_for(f->srv, "xn--bcher-kva.example", SPF_RR_TXT), 1);
	spf_free(ascii);
}

#define NCONC 25

static void test_live_coalescing(void **state)
{
	struct fx *f = *state;
	struct evrun runs[NCONC];
	int remaining = 0;
	bool all = false;
	spf_resolver_stats_t st;
	static const struct {
		const char *name;
		uint16_t type;
	} names[] = {
		{ "spf.test", SPF_RR_TXT }, { "a.test", SPF_RR_A },
		{ "a.test", SPF_RR_MX }, { "inc.test", SPF_RR_TXT },
		{ "x.a.test", SPF_RR_A },
	};

	fixture_set_latency(f->srv, 20);
	for (int i = 0; i < NCONC; i++) {
		spf_request_t req = { 0 };

		assert_true(spf_addr_parse("203.0.113.7", &req.ip));
		req.sender = "someone@spf.test";
		req.now = 1700000000;
		runs[i].done = false;
		runs[i].remaining = &remaining;
		runs[i].job = spf_check_start(f->res, &req, on_job, &runs[i], NULL);
		assert_non_null(runs[i].job);
		remaining++;
	}
	while (remaining > 0)
		if (event_base_loop(f->base, EVLOOP_ONCE) != 0)
			break;
	all = remaining == 0;
	assert_true(all);
	for (int i = 0; i < NCONC; i++) {
		assert_int_equal(spf_job_result(runs[i].job), SPF_RESULT_SOFTFAIL);
		spf_job_destroy(runs[i].job);
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		print_message("%s %s\n", names[i].name, spf_rrtype_str(names[i].type));
		assert_int_equal(fixture_count_for(f->srv, names[i].name, names[i].type), 1);
	}
	assert_int_equal(fixture_query_count(f->srv), sizeof names / sizeof names[0]);
	spf_resolver_stats(f->res, &st);
	assert_int_equal(st.wire_queries, sizeof names / sizeof names[0]);
	assert_true(st.coalesced > 0);
}

/* A cancelled waiter does not cancel the others; destroying the
 * resolver with queries in flight calls nobody back. */
static void test_live_cancel(void **state)
{
	struct fx *f = *state;
	struct got a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	spf_dns_query_t *qa, *qc;

	fixture_set_latency(f->srv, 30);
	qa = spf_resolver_query(f->res, "a.test", SPF_RR_A, on_got, &a);
	assert_non_null(spf_resolver_query(f->res, "a.test", SPF_RR_A, on_got, &b));
	qc = spf_resolver_query(f->res, "inc.test", SPF_RR_TXT, on_got, &c);
	assert_non_null(qa);
	assert_non_null(qc);
	spf_dns_query_cancel(qa);
	spf_dns_query_cancel(qc);              /* its only waiter: abandoned */
	env_wait_for(f->base, &b.done, GUARD_MS);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.status, SPF_DNS_OK);
	assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 1);

	/* in flight at destroy */
	assert_non_null(spf_resolver_query(f->res, "spf.test", SPF_RR_TXT, on_got, &d));
	assert_non_null(spf_resolver_query(f->res, "spf.test", SPF_RR_TXT, on_got, &d));
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	spf_resolver_destroy(f->res);
	f->res = NULL;
	{
		/* let the fixture's delayed replies go out to a closed socket */
		struct timeval tv = { 0, 100000 };

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_int_equal(c.calls, 0);
	assert_int_equal(d.calls, 0);
}

static void on_timer_cb(const spf_dns_answer_t *ans, void *arg)
{
	struct got *g = arg;

	assert_null(ans);
	g->calls++;
	g->done = true;
}

static void test_call_after(void **state)
{
	struct fx *f = *state;
	struct got a = { 0 }, b = { 0 };
	spf_dns_query_t *qb;
	uint64_t t0;

	t0 = spf_monotonic_us();
	assert_non_null(spf_resolver_call_after(f->res, 50, on_timer_cb, &a));
	qb = spf_resolver_call_after(f->res, 10, on_timer_cb, &b);
	assert_non_null(qb);
	spf_dns_query_cancel(qb);
	env_wait_for(f->base, &a.done, GUARD_MS);
	/* never early (no upper bound: a loaded machine may be late) */
	assert_true(spf_monotonic_us() - t0 >= 50000);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	/* pending at destroy: freed, never called */
	assert_non_null(spf_resolver_call_after(f->res, 10000, on_timer_cb, &b));
	spf_resolver_destroy(f->res);
	f->res = NULL;
	assert_int_equal(b.calls, 0);
}

/* A timer never fires before its time, also when armed from inside a
 * callback after work that left the loop's cached time stale. */
#define NTIMERS 24

struct early {
	uint64_t armed_us;
	unsigned ms;
	uint64_t fired_us;
	int *left;
	bool *all;
};

static void on_early(const spf_dns_answer_t *ans, void *arg)
{
	struct early *e = arg;

	(void)ans;
	e->fired_us = spf_monotonic_us();
	if (--*e->left == 0)
		*e->all = true;
}

static void arm_timers(const spf_dns_answer_t *ans, void *arg)
{
	struct fx *f = ((void **)arg)[0];
	struct early *e = ((void **)arg)[1];
	uint64_t busy = spf_monotonic_us() + 30000;

	(void)ans;
	/* 30 ms of work first: libevent's cached time is now 30 ms old */
	while (spf_monotonic_us() < busy)
		;
	for (int i = 0; i < NTIMERS; i++) {
		e[i].armed_us = spf_monotonic_us();
		assert_non_null(spf_resolver_call_after(f->res, e[i].ms, on_early, &e[i]));
	}
}

static void test_call_after_never_early(void **state)
{
	struct fx *f = *state;
	struct early e[NTIMERS];
	int left = NTIMERS;
	void *ctx[2] = { f, e };
	bool all = false;

	for (int i = 0; i < NTIMERS; i++)
		e[i] = (struct early){ .ms = 1 + (unsigned)i * 3, .left = &left, .all = &all };
	assert_non_null(spf_resolver_call_later(f->res, arm_timers, ctx));
	env_wait_for(f->base, &all, GUARD_MS);
	for (int i = 0; i < NTIMERS; i++) {
		if (e[i].fired_us - e[i].armed_us < e[i].ms * 1000u)
			print_message("timer of %u ms fired after %.3f ms\n", e[i].ms,
				(double)(e[i].fired_us - e[i].armed_us) / 1000.0);
		assert_true(e[i].fired_us - e[i].armed_us >= e[i].ms * 1000u);
	}
}

/* TXT RRset over 1232 bytes: TC on UDP, the answer over TCP. */
static void test_live_tcp_fallback(void **state)
{
	struct fx *f = *state;
	char big[201];
	struct got g;

	for (int i = 0; i < 8; i++) {
		memset(big, 'a' + i, 200);
		big[200] = '\0';
		add_txt(f->zone, "big.test", big, 300);
	}
	g = ask(f, "big.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(g.count, 8);
	assert_int_equal(g.txtlen, 1600);
	/* once over UDP (truncated), once over TCP */
	assert_int_equal(fixture_count_for(f->srv, "big.test", SPF_RR_TXT), 2);

	/* a name set to truncate always goes to TCP as well */
	assert_int_equal(fixture_set_mode(f->srv, "a.test", FIX_TRUNCATE), 0);
	g = ask(f, "a.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(fixture_count_for(f->srv, "a.test", SPF_RR_A), 2);
}

/* ---- a scripted UDP responder: negative answers with an SOA ---- */

struct script {
	struct event_base *base;
	int fd;
	struct event *ev;
	uint16_t port;
	int rcode;
	const char *const *authority;
	int queries;
};

static void on_script(evutil_socket_t fd, short what, void *arg)
{
	struct script *sc = arg;
	uint8_t buf[4096], *wire = NULL;
	struct sockaddr_storage from;
	socklen_t flen = sizeof from;
	ssize_t n;
	ldns_pkt *q = NULL, *r;
	size_t wlen;

	(void)what;
	n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
	if (n <= 0 || ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
		return;
	sc->queries++;
	r = ldns_pkt_new();
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_set_ra(r, true);
	ldns_pkt_set_rcode(r, (uint8_t)sc->rcode);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
		ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0)));
	for (size_t i = 0; sc->authority[i] != NULL; i++) {
		ldns_rr *rr = NULL;

		if (ldns_rr_new_frm_str(&rr, sc->authority[i], 0, NULL, NULL) == LDNS_STATUS_OK)
			ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, rr);
	}
	if (ldns_pkt2wire(&wire, r, &wlen) == LDNS_STATUS_OK)
		(void)sendto(fd, wire, wlen, 0, (struct sockaddr *)&from, flen);
	free(wire);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
}

static void script_start(struct script *sc, struct event_base *base)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	sc->base = base;
	sc->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(sc->fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(sc->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(sc->fd, (struct sockaddr *)&sa, &len), 0);
	sc->port = ntohs(sa.sin_port);
	evutil_make_socket_nonblocking(sc->fd);
	sc->ev = event_new(base, sc->fd, EV_READ | EV_PERSIST, on_script, sc);
	assert_non_null(sc->ev);
	event_add(sc->ev, NULL);
}

static void script_stop(struct script *sc)
{
	event_free(sc->ev);
	close(sc->fd);
}

static void test_live_negative_cache(void **state)
{
	struct fx *f = *state;
	static const char *const soa[] = {
		"test. 3600 IN SOA ns.test. host.test. 1 7200 900 1209600 30", NULL };
	static const char *const none[] = { NULL };
	struct script sc = { .rcode = LDNS_RCODE_NXDOMAIN, .authority = soa };
	struct got g;

	script_start(&sc, f->base);
	snprintf(f->ns, sizeof f->ns, "127.0.0.1:%u", (unsigned)sc.port);
	fx_resolver(f, 1000, 0);

	g = ask(f, "gone.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	assert_int_equal(sc.queries, 1);
	f->now_ms += 29000;                   /* negative TTL min(3600, 30) */
	g = ask(f, "GONE.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	assert_int_equal(sc.queries, 1);
	f->now_ms += 1000;
	g = ask(f, "gone.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	assert_int_equal(sc.queries, 2);

	/* NODATA is cached the same way */
	sc.rcode = LDNS_RCODE_NOERROR;
	g = ask(f, "empty.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NODATA);
	g = ask(f, "empty.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NODATA);
	assert_int_equal(sc.queries, 3);

	/* without an SOA: 30 seconds (a stub never re-serves answers, so
	 * RFC 2308 §5's loop cannot happen) */
	sc.authority = none;
	sc.rcode = LDNS_RCODE_NXDOMAIN;
	g = ask(f, "nosoa.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	g = ask(f, "nosoa.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	assert_int_equal(sc.queries, 4);
	f->now_ms += 30000;
	g = ask(f, "nosoa.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_NXDOMAIN);
	assert_int_equal(sc.queries, 5);

	spf_resolver_destroy(f->res);
	f->res = NULL;
	script_stop(&sc);
}

/* Each allocation on the live path failing in turn: the query is either
 * refused at once or answered (maybe TEMPFAIL), never lost or leaked. */
static void test_live_alloc_failure(void **state)
{
	struct fx *f = *state;
	unsigned long n;
	bool clean = false;

	for (n = 1; n < 200 && !clean; n++) {
		struct got g = { 0 };
		spf_dns_query_t *q;

		fx_resolver(f, 100, 0);
		spf_alloc_fail_at(n);
		q = spf_resolver_query(f->res, "spf.test", SPF_RR_TXT, on_got, &g);
		if (q != NULL) {
			env_wait_for(f->base, &g.done, GUARD_MS);
			assert_int_equal(g.calls, 1);
			clean = g.status == SPF_DNS_OK && spf_alloc_count() < n;
		}
		spf_alloc_fail_at(0);
	}
	assert_true(clean);
}

/* A name's presentation text (rr.c presentation_text()) is what ldns
 * prints, less the trailing dot: every byte value alone in a label, in
 * the middle and at the end of a name, a name of 63-byte labels made of
 * all byte values, and the root. */
static void dname_same_as_ldns(const uint8_t *wire, size_t len)
{
	ldns_rdf *rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, wire);
	char *want, *got = NULL;
	size_t wl;

	assert_non_null(rdf);
	want = ldns_rdf2str(rdf);
	assert_non_null(want);
	wl = strlen(want);
	if (wl > 0 && want[wl - 1] == '.')
		want[wl - 1] = '\0';
	assert_int_equal(spf_rr_dname_text(rdf, SPF_RR_NAME_PRESENTATION, &got),
		SPF_OK);
	assert_string_equal(got, want);
	spf_free(got);
	LDNS_FREE(want);
	ldns_rdf_deep_free(rdf);
}

static void test_dname_presentation(void **state)
{
	uint8_t w[256];

	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		/* \c . x . (root) and x . \c . (root) */
		const uint8_t a[] = { 1, (uint8_t)c, 1, 'x', 0 };
		const uint8_t b[] = { 1, 'x', 3, 'a', (uint8_t)c, 'b', 0 };

		dname_same_as_ldns(a, sizeof a);
		dname_same_as_ldns(b, sizeof b);
	}
	for (size_t off = 0, i = 0; off < 4; off++) {
		size_t n = 0;

		for (int lab = 0; lab < 3; lab++) {
			w[n++] = 63;
			for (int k = 0; k < 63; k++)
				w[n++] = (uint8_t)(i++ * 7 + off);
		}
		w[n++] = 0;
		dname_same_as_ldns(w, n);
	}
	w[0] = 0;
	dname_same_as_ldns(w, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_dname_presentation),
		cmocka_unit_test(test_parse_records),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_parse_sections),
		cmocka_unit_test(test_ares_outcomes),
		cmocka_unit_test(test_server_specs),
		cmocka_unit_test(test_resolver_bad_server),
		cmocka_unit_test(test_idn),
		cmocka_unit_test_setup_teardown(test_live_basic, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_ipv6, fx_setup6, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_ttl_expiry, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_lru, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_failures, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_refused_port, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_temperror, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_idn, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_coalescing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_cancel, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_call_after, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_call_after_never_early, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_tcp_fallback, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_negative_cache, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_live_alloc_failure, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
