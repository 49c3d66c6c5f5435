/*
 * test_fixture.c - unit tests of the fixture DNS server (fixture.c).
 *
 * Each test starts the server on 127.0.0.1 with an ephemeral port on a
 * fresh event_base, serving a zone built in code, and talks to it over
 * plain sockets with queries built and replies parsed by ldns.  The
 * server lives on the same event_base as the test, so while a test waits
 * for a reply it drives the loop without blocking
 * (event_base_loop(EVLOOP_NONBLOCK)) and polls its socket with a short
 * timeout, up to a bounded deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "fixture.h"

#define WAIT_MS 10000       /* a reply that should come comes within this
                             * (a bound, not an expectation of speed) */
#define SILENCE_MS 200      /* a reply that should not come is waited for this */
#define BIG_STRINGS 3       /* TXT records of 200 bytes at big.test */

struct ctx {
	struct event_base *base;
	spf_zone_t *zone;
	fixture_server_t *srv;
	int udp;                /* connected to the server */
	uint16_t next_id;
};

/* ---- zone ---- */

static void add_rr(spf_zone_t *z, const char *name, spf_dns_rr_t rr)
{
	assert_int_equal(spf_zone_add(z, name, &rr), SPF_OK);
}

static spf_dns_rr_t rr_a(uint8_t last)
{
	spf_dns_rr_t rr;

	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_A;
	rr.ttl = 600;
	rr.u.a[0] = 192;
	rr.u.a[1] = 0;
	rr.u.a[2] = 2;
	rr.u.a[3] = last;
	return rr;
}

static spf_dns_rr_t rr_name(uint16_t type, const char *target)
{
	spf_dns_rr_t rr;

	memset(&rr, 0, sizeof rr);
	rr.type = type;
	rr.ttl = 300;
	rr.u.name = target;
	return rr;
}

static void add_txt(spf_zone_t *z, const char *name, size_t n, ...)
{
	const uint8_t *strings[8];
	size_t lens[8];
	va_list ap;

	assert_true(n <= 8);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		strings[i] = va_arg(ap, const uint8_t *);
		lens[i] = va_arg(ap, size_t);
	}
	va_end(ap);
	assert_int_equal(spf_zone_add_txt(z, name, strings, lens, n, 120), SPF_OK);
}

static spf_zone_t *make_zone(void)
{
	spf_zone_t *z = spf_zone_create();
	spf_dns_rr_t rr;
	static uint8_t big[BIG_STRINGS][200];

	assert_non_null(z);
	add_rr(z, "a.test", rr_a(1));
	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_AAAA;
	rr.ttl = 600;
	rr.u.aaaa[0] = 0x20;
	rr.u.aaaa[1] = 0x01;
	rr.u.aaaa[2] = 0x0d;
	rr.u.aaaa[3] = 0xb8;
	rr.u.aaaa[15] = 1;
	add_rr(z, "a.test", rr);

	add_txt(z, "txt.test", 2, (const uint8_t *)"v=spf1 ", (size_t)7,
		(const uint8_t *)"-all", (size_t)4);
	add_txt(z, "bin.test", 2, (const uint8_t *)"a\0b", (size_t)3,
		(const uint8_t *)"\x80\xff", (size_t)2);
	add_txt(z, "empty.test", 0);
	add_txt(z, "blank.test", 1, (const uint8_t *)"", (size_t)0);
	for (size_t i = 0; i < BIG_STRINGS; i++) {
		memset(big[i], 'a' + (int)i, sizeof big[i]);
		add_txt(z, "big.test", 1, (const uint8_t *)big[i], sizeof big[i]);
	}

	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_MX;
	rr.ttl = 60;
	rr.u.mx.preference = 10;
	rr.u.mx.exchange = "mail.a.test";
	add_rr(z, "mx.test", rr);
	add_rr(z, "1.2.0.192.in-addr.arpa", rr_name(SPF_RR_PTR, "a.test"));
	add_rr(z, "alias.test", rr_name(SPF_RR_CNAME, "alias2.test"));
	add_rr(z, "alias2.test", rr_name(SPF_RR_CNAME, "a.test"));
	add_rr(z, "nodata.test", rr_a(7));
	assert_int_equal(spf_zone_set_timeout(z, "slow.test"), SPF_OK);
	return z;
}

/* ---- setup ---- */

static int connect_udp(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_tcp(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* the kernel completes a loopback handshake before accept() */
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int teardown(void **state);

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);

	if (c == NULL)
		return -1;
	c->udp = -1;
	*state = c;
	c->base = event_base_new();
	c->zone = make_zone();
	c->srv = c->base ? fixture_start(c->base, c->zone, "127.0.0.1", 0) : NULL;
	if (c->srv != NULL)
		c->udp = connect_udp(fixture_port(c->srv));
	if (c->udp < 0) {
		teardown(state);
		*state = NULL;
		return -1;
	}
	c->next_id = 0x4100;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	if (c->udp >= 0)
		close(c->udp);
	fixture_stop(c->srv);
	spf_zone_destroy(c->zone);
	if (c->base != NULL)
		event_base_free(c->base);
	free(c);
	return 0;
}

/* ---- talking to the server ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Drive the loop for ms milliseconds without waiting on anything else. */
static void pump(struct ctx *c, int ms)
{
	long end = now_ms() + ms;

	do {
		event_base_loop(c->base, EVLOOP_NONBLOCK);
		poll(NULL, 0, 2);
	} while (now_ms() < end);
	event_base_loop(c->base, EVLOOP_NONBLOCK);
}

/*
 * Wait until fd is readable, driving the loop; true if it became
 * readable within ms.
 */
static bool wait_readable(struct ctx *c, int fd, int ms)
{
	long end = now_ms() + ms;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		event_base_loop(c->base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 5) > 0)
			return true;
		if (now_ms() >= end)
			return false;
	}
}

static uint8_t *query_wire(struct ctx *c, const char *name, uint16_t type,
	uint16_t edns_size, bool rd, uint16_t *id, size_t *len)
{
	ldns_rdf *qname = ldns_dname_new_frm_str(name);
	ldns_pkt *q;
	uint8_t *wire = NULL;

	assert_non_null(qname);
	q = ldns_pkt_query_new(qname, (ldns_rr_type)type, LDNS_RR_CLASS_IN,
		rd ? LDNS_RD : 0);
	assert_non_null(q);
	*id = c->next_id++;
	ldns_pkt_set_id(q, *id);
	if (edns_size > 0)
		ldns_pkt_set_edns_udp_size(q, edns_size);
	assert_int_equal(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	return wire;
}

/* Receive one datagram (waiting up to ms); the parsed reply or NULL. */
static ldns_pkt *udp_recv(struct ctx *c, int ms, size_t *size)
{
	uint8_t buf[65536];
	ssize_t n;
	ldns_pkt *r = NULL;

	if (!wait_readable(c, c->udp, ms))
		return NULL;
	n = recv(c->udp, buf, sizeof buf, MSG_DONTWAIT);
	assert_true(n > 0);
	if (size != NULL)
		*size = (size_t)n;
	assert_int_equal(ldns_wire2pkt(&r, buf, (size_t)n), LDNS_STATUS_OK);
	return r;
}

/* Ask over UDP; the reply (checked to match the query) or NULL. */
static ldns_pkt *udp_ask_ex(struct ctx *c, const char *name, uint16_t type,
	uint16_t edns_size, int ms, size_t *size)
{
	uint16_t id;
	size_t len;
	uint8_t *wire = query_wire(c, name, type, edns_size, true, &id, &len);
	ldns_pkt *r;

	assert_int_equal(send(c->udp, wire, len, 0), (ssize_t)len);
	free(wire);
	r = udp_recv(c, ms, size);
	if (r != NULL) {
		assert_int_equal(ldns_pkt_id(r), id);
		assert_true(ldns_pkt_qr(r));
		assert_int_equal(ldns_pkt_qdcount(r), 1);
		assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(r), 0)),
			type);
	}
	return r;
}

static ldns_pkt *udp_ask(struct ctx *c, const char *name, uint16_t type)
{
	return udp_ask_ex(c, name, type, 0, WAIT_MS, NULL);
}

/* Read one framed TCP message into a parsed packet (or NULL on timeout
 * or end of stream). */
static ldns_pkt *tcp_recv(struct ctx *c, int fd, int ms)
{
	static uint8_t buf[2 + 65535];
	size_t have = 0, need = 2;
	long end = now_ms() + ms;
	ldns_pkt *r = NULL;

	while (have < need) {
		ssize_t n;

		if (!wait_readable(c, fd, (int)(end - now_ms())))
			return NULL;
		n = recv(fd, buf + have, need - have, MSG_DONTWAIT);
		if (n == 0)
			return NULL;
		if (n < 0) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
			continue;
		}
		have += (size_t)n;
		if (have == 2 && need == 2)
			need = 2 + (((size_t)buf[0] << 8) | buf[1]);
	}
	assert_int_equal(ldns_wire2pkt(&r, buf + 2, need - 2), LDNS_STATUS_OK);
	return r;
}

static void send_all(int fd, const uint8_t *p, size_t len)
{
	assert_int_equal(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void tcp_send_query(struct ctx *c, int fd, const char *name, uint16_t type,
	uint16_t *id)
{
	size_t len;
	uint8_t *wire = query_wire(c, name, type, 0, true, id, &len);
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	send_all(fd, hdr, 2);
	send_all(fd, wire, len);
	free(wire);
}

static ldns_pkt *tcp_ask(struct ctx *c, int fd, const char *name, uint16_t type)
{
	uint16_t id;
	ldns_pkt *r;

	tcp_send_query(c, fd, name, type, &id);
	r = tcp_recv(c, fd, WAIT_MS);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), id);
	return r;
}

static ldns_rr *answer_rr(const ldns_pkt *r, size_t i)
{
	assert_true(i < ldns_pkt_ancount(r));
	return ldns_rr_list_rr(ldns_pkt_answer(r), i);
}

/* The i-th character-string of a TXT rr: its data and length. */
static const uint8_t *txt_string(const ldns_rr *rr, size_t i, size_t *len)
{
	const ldns_rdf *rdf = ldns_rr_rdf(rr, i);

	assert_non_null(rdf);
	assert_int_equal(ldns_rdf_get_type(rdf), LDNS_RDF_TYPE_STR);
	*len = ldns_rdf_data(rdf)[0];
	assert_int_equal(ldns_rdf_size(rdf), *len + 1);
	return ldns_rdf_data(rdf) + 1;
}

static void assert_owner(const ldns_rr *rr, const char *name)
{
	char *s = ldns_rdf2str(ldns_rr_owner(rr));

	assert_non_null(s);
	assert_string_equal(s, name);
	free(s);
}

/* ---- tests: answers ---- */

static void test_a(void **state)
{
	struct ctx *c = *state;
	ldns_pkt *r = udp_ask(c, "a.test", SPF_RR_A);
	ldns_rr *rr;
	uint16_t id;
	size_t len;
	uint8_t *wire;

	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(r));
	assert_true(ldns_pkt_rd(r));
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 1);
	rr = answer_rr(r, 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
	assert_int_equal(ldns_rr_ttl(rr), 600);
	assert_owner(rr, "a.test.");
	assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(rr, 0)), "\xc0\x00\x02\x01", 4);
	assert_false(ldns_pkt_edns(r));   /* no OPT in the query, none back */
	ldns_pkt_free(r);

	r = udp_ask(c, "a.test", SPF_RR_AAAA);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	rr = answer_rr(r, 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_AAAA);
	assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rr, 0)), 16);
	assert_int_equal(ldns_rdf_data(ldns_rr_rdf(rr, 0))[15], 1);
	ldns_pkt_free(r);

	/* the question comes back as asked (case kept), RD=0 echoed */
	wire = query_wire(c, "A.Test.", SPF_RR_A, 0, false, &id, &len);
	send_all(c->udp, wire, len);
	free(wire);
	r = udp_recv(c, WAIT_MS, NULL);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), id);
	assert_false(ldns_pkt_rd(r));
	assert_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0), "A.Test.");
	assert_int_equal(ldns_pkt_ancount(r), 1);
	assert_owner(answer_rr(r, 0), "A.Test.");
	ldns_pkt_free(r);
}

static void test_txt(void **state)
{
	struct ctx *c = *state;
	ldns_pkt *r = udp_ask(c, "txt.test", SPF_RR_TXT);
	const uint8_t *s;
	size_t len;
	ldns_rr *rr;

	assert_non_null(r);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	rr = answer_rr(r, 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_rr_rd_count(rr), 2);
	s = txt_string(rr, 0, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(s, "v=spf1 ", 7);
	s = txt_string(rr, 1, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(s, "-all", 4);
	ldns_pkt_free(r);

	/* NUL and non-ASCII bytes survive, string boundaries too */
	r = udp_ask(c, "bin.test", SPF_RR_TXT);
	assert_non_null(r);
	rr = answer_rr(r, 0);
	assert_int_equal(ldns_rr_rd_count(rr), 2);
	s = txt_string(rr, 0, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "a\0b", 3);
	s = txt_string(rr, 1, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(s, "\x80\xff", 2);
	ldns_pkt_free(r);

	/* a TXT record with no strings at all: RDLENGTH 0 */
	r = udp_ask(c, "empty.test", SPF_RR_TXT);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	assert_int_equal(ldns_rr_rd_count(answer_rr(r, 0)), 0);
	ldns_pkt_free(r);

	/* one empty string: RDLENGTH 1 */
	r = udp_ask(c, "blank.test", SPF_RR_TXT);
	assert_non_null(r);
	rr = answer_rr(r, 0);
	assert_int_equal(ldns_rr_rd_count(rr), 1);
	txt_string(rr, 0, &len);
	assert_int_equal(len, 0);
	ldns_pkt_free(r);
}

static void test_mx_ptr(void **state)
{
	struct ctx *c = *state;
	ldns_pkt *r = udp_ask(c, "mx.test", SPF_RR_MX);
	ldns_rr *rr;
	char *s;

	assert_non_null(r);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	rr = answer_rr(r, 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_MX);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)), 10);
	s = ldns_rdf2str(ldns_rr_rdf(rr, 1));
	assert_string_equal(s, "mail.a.test.");
	free(s);
	ldns_pkt_free(r);

	r = udp_ask(c, "1.2.0.192.in-addr.arpa", SPF_RR_PTR);
	assert_non_null(r);
	rr = answer_rr(r, 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_PTR);
	s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	assert_string_equal(s, "a.test.");
	free(s);
	ldns_pkt_free(r);
}

static void test_cname(void **state)
{
	struct ctx *c = *state;
	ldns_pkt *r = udp_ask(c, "alias.test", SPF_RR_A);
	ldns_rr *rr;
	char *s;

	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 3);
	rr = answer_rr(r, 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_CNAME);
	assert_owner(rr, "alias.test.");
	s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	assert_string_equal(s, "alias2.test.");
	free(s);
	rr = answer_rr(r, 1);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_CNAME);
	assert_owner(rr, "alias2.test.");
	rr = answer_rr(r, 2);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
	assert_owner(rr, "a.test.");
	ldns_pkt_free(r);

	/* NODATA at the end of a chain: the CNAMEs and no A-like records */
	r = udp_ask(c, "alias.test", SPF_RR_MX);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 2);
	ldns_pkt_free(r);

	/* asking for the CNAME itself gives just it */
	r = udp_ask(c, "alias.test", SPF_RR_CNAME);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	assert_int_equal(ldns_rr_get_type(answer_rr(r, 0)), LDNS_RR_TYPE_CNAME);
	ldns_pkt_free(r);
}

static void test_negative(void **state)
{
	struct ctx *c = *state;
	ldns_pkt *r = udp_ask(c, "nope.test", SPF_RR_A);

	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_aa(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);

	r = udp_ask(c, "nodata.test", SPF_RR_TXT);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);

	/* an empty non-terminal exists: NODATA, not NXDOMAIN */
	r = udp_ask(c, "2.0.192.in-addr.arpa", SPF_RR_PTR);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
}

/* ---- tests: behaviour overrides ---- */

static void test_modes(void **state)
{
	struct ctx *c = *state;
	ldns_pkt *r;

	assert_int_equal(fixture_set_mode(c->srv, "A.TEST.", FIX_SERVFAIL), 0);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);

	/* other names are not affected */
	r = udp_ask(c, "txt.test", SPF_RR_TXT);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ldns_pkt_free(r);

	/* overrides even a name the zone does not have */
	assert_int_equal(fixture_set_mode(c->srv, "nope.test", FIX_REFUSED), 0);
	r = udp_ask(c, "Nope.Test", SPF_RR_MX);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ldns_pkt_free(r);

	/* replaced, then removed */
	assert_int_equal(fixture_set_mode(c->srv, "a.test", FIX_REFUSED), 0);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ldns_pkt_free(r);
	assert_int_equal(fixture_set_mode(c->srv, "a.test", FIX_NORMAL), 0);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
}

static void test_drop(void **state)
{
	struct ctx *c = *state;
	ldns_pkt *r;

	assert_int_equal(fixture_set_mode(c->srv, "a.test", FIX_DROP), 0);
	r = udp_ask_ex(c, "a.test", SPF_RR_A, 0, SILENCE_MS, NULL);
	assert_null(r);
	assert_int_equal(fixture_count_for(c->srv, "a.test", SPF_RR_A), 1);

	/* the zone's TIMEOUT: no reply for types the name lacks */
	r = udp_ask_ex(c, "slow.test", SPF_RR_TXT, 0, SILENCE_MS, NULL);
	assert_null(r);
	assert_int_equal(fixture_query_count(c->srv), 2);

	/* back to normal: answered */
	assert_int_equal(fixture_set_mode(c->srv, "a.test", FIX_NORMAL), 0);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
}

static void test_latency(void **state)
{
	struct ctx *c = *state;
	uint16_t id;
	size_t len;
	uint8_t *wire = query_wire(c, "a.test", SPF_RR_A, 0, true, &id, &len);
	long start;
	ldns_pkt *r;

	fixture_set_latency(c->srv, 150);
	start = now_ms();
	send_all(c->udp, wire, len);
	free(wire);
	assert_null(udp_recv(c, 60, NULL));     /* not yet */
	r = udp_recv(c, WAIT_MS, NULL);
	assert_non_null(r);
	assert_true(now_ms() - start >= 145);
	assert_int_equal(ldns_pkt_id(r), id);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);

	/* delayed TCP replies arrive too; closing with one pending is safe */
	{
		int fd = connect_tcp(fixture_port(c->srv));

		assert_true(fd >= 0);
		r = tcp_ask(c, fd, "txt.test", SPF_RR_TXT);
		assert_int_equal(ldns_pkt_ancount(r), 1);
		ldns_pkt_free(r);
		tcp_send_query(c, fd, "a.test", SPF_RR_A, &id);
		pump(c, 20);
		close(fd);
		pump(c, 200);
	}
	fixture_set_latency(c->srv, 0);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	ldns_pkt_free(r);
}

/* ---- tests: sizes, truncation and TCP ---- */

static void test_truncation(void **state)
{
	struct ctx *c = *state;
	size_t size;
	ldns_pkt *r;
	int fd;

	/* no EDNS: 512 bytes at most, so TC=1 and no records */
	r = udp_ask_ex(c, "big.test", SPF_RR_TXT, 0, WAIT_MS, &size);
	assert_non_null(r);
	assert_true(size <= 512);
	assert_true(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);

	/* EDNS with a small payload size: still truncated */
	r = udp_ask_ex(c, "big.test", SPF_RR_TXT, 600, WAIT_MS, &size);
	assert_non_null(r);
	assert_true(ldns_pkt_tc(r));
	assert_true(ldns_pkt_edns(r));
	ldns_pkt_free(r);

	/* EDNS 4096: the whole RRset over UDP, with an OPT back */
	r = udp_ask_ex(c, "big.test", SPF_RR_TXT, 4096, WAIT_MS, &size);
	assert_non_null(r);
	assert_true(size > 512);
	assert_false(ldns_pkt_tc(r));
	assert_true(ldns_pkt_edns(r));
	assert_int_equal(ldns_pkt_ancount(r), BIG_STRINGS);
	ldns_pkt_free(r);

	/* TCP: the whole RRset */
	fd = connect_tcp(fixture_port(c->srv));
	assert_true(fd >= 0);
	r = tcp_ask(c, fd, "big.test", SPF_RR_TXT);
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), BIG_STRINGS);
	for (size_t i = 0; i < BIG_STRINGS; i++) {
		size_t len;
		const uint8_t *s = txt_string(answer_rr(r, i), 0, &len);

		assert_int_equal(len, 200);
		assert_true(s[0] >= 'a' && s[0] < 'a' + BIG_STRINGS);
	}
	ldns_pkt_free(r);

	/* FIX_TRUNCATE: UDP gets TC=1 even for a small answer, TCP the answer */
	assert_int_equal(fixture_set_mode(c->srv, "a.test", FIX_TRUNCATE), 0);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	assert_true(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
	r = tcp_ask(c, fd, "a.test", SPF_RR_A);
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
	close(fd);
}

static void test_tcp_framing(void **state)
{
	struct ctx *c = *state;
	int fd = connect_tcp(fixture_port(c->srv));
	uint8_t *w1, *w2, buf[1024];
	size_t l1, l2, n = 0;
	uint16_t id1, id2;
	ldns_pkt *r;

	assert_true(fd >= 0);
	/* two queries in one write, answered in order */
	w1 = query_wire(c, "a.test", SPF_RR_A, 0, true, &id1, &l1);
	w2 = query_wire(c, "mx.test", SPF_RR_MX, 0, true, &id2, &l2);
	assert_true(4 + l1 + l2 <= sizeof buf);
	buf[n++] = (uint8_t)(l1 >> 8);
	buf[n++] = (uint8_t)l1;
	memcpy(buf + n, w1, l1);
	n += l1;
	buf[n++] = (uint8_t)(l2 >> 8);
	buf[n++] = (uint8_t)l2;
	memcpy(buf + n, w2, l2);
	n += l2;
	send_all(fd, buf, n);
	r = tcp_recv(c, fd, WAIT_MS);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), id1);
	ldns_pkt_free(r);
	r = tcp_recv(c, fd, WAIT_MS);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), id2);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);

	/* the same bytes dribbled in: one byte of length, the rest in pieces */
	send_all(fd, buf, 1);
	pump(c, 10);
	send_all(fd, buf + 1, 5);
	pump(c, 10);
	assert_false(wait_readable(c, fd, 20));   /* nothing complete yet */
	send_all(fd, buf + 6, n - 6);
	r = tcp_recv(c, fd, WAIT_MS);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), id1);
	ldns_pkt_free(r);
	r = tcp_recv(c, fd, WAIT_MS);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), id2);
	ldns_pkt_free(r);
	free(w1);
	free(w2);
	close(fd);
	assert_int_equal(fixture_query_count(c->srv), 4);
}

static void test_tcp_idle(void **state)
{
	struct ctx *c = *state;
	int fd, fd2;
	uint8_t b;

	long t0;

	/* closed after 100 ms of silence, never before (less the 4 ms by
	 * which libevent's coarse clock, which arms the fixture's timer, may
	 * lag); no upper bound: a loaded machine may be late */
	fixture_set_tcp_idle(c->srv, 100);
	t0 = now_ms();
	fd = connect_tcp(fixture_port(c->srv));
	assert_true(fd >= 0);
	assert_true(wait_readable(c, fd, WAIT_MS));
	assert_true(now_ms() - t0 >= 95);
	assert_int_equal(recv(fd, &b, 1, MSG_DONTWAIT), 0);
	close(fd);

	/* activity keeps a connection open past the idle time: five queries
	 * 250 ms apart on a connection with 1 s of idle time (a gap would
	 * have to stretch fourfold on a loaded machine to close it) */
	fixture_set_tcp_idle(c->srv, 1000);
	t0 = now_ms();
	fd2 = connect_tcp(fixture_port(c->srv));
	assert_true(fd2 >= 0);
	for (int i = 0; i < 5; i++) {
		ldns_pkt *r;

		if (i > 0)
			pump(c, 250);
		r = tcp_ask(c, fd2, "a.test", SPF_RR_A);
		ldns_pkt_free(r);
	}
	/* the last answer came more than the idle time after the connect */
	assert_true(now_ms() - t0 > 1000);
	close(fd2);
}

/* ---- tests: log, zone swap, junk ---- */

static void test_log(void **state)
{
	struct ctx *c = *state;
	ldns_pkt *r;
	int fd;

	assert_int_equal(fixture_query_count(c->srv), 0);
	for (int i = 0; i < 2; i++) {
		r = udp_ask(c, "a.test", SPF_RR_A);
		ldns_pkt_free(r);
	}
	r = udp_ask(c, "A.test", SPF_RR_AAAA);
	ldns_pkt_free(r);
	fd = connect_tcp(fixture_port(c->srv));
	assert_true(fd >= 0);
	r = tcp_ask(c, fd, "a.TEST.", SPF_RR_A);
	ldns_pkt_free(r);
	close(fd);
	r = udp_ask(c, "nope.test", SPF_RR_TXT);
	ldns_pkt_free(r);

	assert_int_equal(fixture_query_count(c->srv), 5);
	assert_int_equal(fixture_count_for(c->srv, "a.test", SPF_RR_A), 3);
	assert_int_equal(fixture_count_for(c->srv, "A.TEST.", SPF_RR_A), 3);
	assert_int_equal(fixture_count_for(c->srv, "a.test", SPF_RR_AAAA), 1);
	assert_int_equal(fixture_count_for(c->srv, "a.test", SPF_RR_TXT), 0);
	assert_int_equal(fixture_count_for(c->srv, "nope.test", SPF_RR_TXT), 1);
	assert_int_equal(fixture_count_for(c->srv, "b.test", SPF_RR_A), 0);

	fixture_clear_log(c->srv);
	assert_int_equal(fixture_query_count(c->srv), 0);
	assert_int_equal(fixture_count_for(c->srv, "a.test", SPF_RR_A), 0);
	r = udp_ask(c, "a.test", SPF_RR_A);
	ldns_pkt_free(r);
	assert_int_equal(fixture_count_for(c->srv, "a.test", SPF_RR_A), 1);
}

static void test_set_zone(void **state)
{
	struct ctx *c = *state;
	spf_zone_t *z2 = spf_zone_create();
	ldns_pkt *r;

	assert_non_null(z2);
	add_rr(z2, "a.test", rr_a(99));
	fixture_set_zone(c->srv, z2);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	assert_int_equal(ldns_rdf_data(ldns_rr_rdf(answer_rr(r, 0), 0))[3], 99);
	ldns_pkt_free(r);
	r = udp_ask(c, "txt.test", SPF_RR_TXT);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);

	fixture_set_zone(c->srv, NULL);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(r);

	fixture_set_zone(c->srv, c->zone);
	spf_zone_destroy(z2);
	r = udp_ask(c, "a.test", SPF_RR_A);
	assert_non_null(r);
	assert_int_equal(ldns_rdf_data(ldns_rr_rdf(answer_rr(r, 0), 0))[3], 1);
	ldns_pkt_free(r);
}

static void test_opcode_class(void **state)
{
	struct ctx *c = *state;
	ldns_rdf *qname = ldns_dname_new_frm_str("a.test");
	ldns_pkt *q = ldns_pkt_query_new(qname, LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, LDNS_RD);
	uint8_t *wire;
	size_t len;
	ldns_pkt *r;

	assert_non_null(q);
	ldns_pkt_set_id(q, 77);
	assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	send_all(c->udp, wire, len);
	free(wire);
	r = udp_recv(c, WAIT_MS, NULL);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), 77);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ldns_pkt_free(r);

	ldns_rr_set_class(ldns_rr_list_rr(ldns_pkt_question(q), 0), LDNS_RR_CLASS_IN);
	ldns_pkt_set_opcode(q, LDNS_PACKET_STATUS);
	assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	send_all(c->udp, wire, len);
	free(wire);
	r = udp_recv(c, WAIT_MS, NULL);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
}

static void test_junk(void **state)
{
	struct ctx *c = *state;
	/* a header claiming one question, and nothing after it */
	static const uint8_t hdr_only[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	/* a question whose name is a compression pointer to itself */
	static const uint8_t loop[] = { 0x12, 0x35, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		0xc0, 12, 0, 1, 0, 1 };
	/* a label running past the end */
	static const uint8_t overrun[] = { 0x12, 0x36, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		63, 'a', 'b' };
	/* a well-formed response (QR=1): never answered */
	static const uint8_t response[] = { 0x12, 0x37, 0x81, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };
	/* no question at all */
	static const uint8_t noq[] = { 0x12, 0x38, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 };
	const struct { const uint8_t *p; size_t len; } cases[] = {
		{ hdr_only, 0 }, { hdr_only, 5 }, { hdr_only, sizeof hdr_only },
		{ loop, sizeof loop }, { overrun, sizeof overrun },
		{ response, sizeof response }, { noq, sizeof noq },
	};
	unsigned seed = 12345;
	uint8_t rnd[600];
	ldns_pkt *r;
	int fd;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(send(c->udp, cases[i].p, cases[i].len, 0), (ssize_t)cases[i].len);
	assert_null(udp_recv(c, 100, NULL));
	assert_int_equal(fixture_query_count(c->srv), 0);

	/* random datagrams: whatever happens, the server survives */
	for (int i = 0; i < 300; i++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof rnd);

		for (size_t j = 0; j < len; j++)
			rnd[j] = (uint8_t)rand_r(&seed);
		if (i % 3 == 0 && len >= 12) {
			rnd[2] &= 0x7f;     /* a query with one question, random rest */
			rnd[4] = 0;
			rnd[5] = 1;
		}
		(void)send(c->udp, rnd, len, 0);
		if (i % 32 == 0)
			pump(c, 1);
	}
	pump(c, 20);
	while (recv(c->udp, rnd, sizeof rnd, MSG_DONTWAIT) > 0)
		;   /* drain whatever junk got answered */

	/* TCP: an empty frame, a junk frame, then a real query on the same
	 * connection */
	fd = connect_tcp(fixture_port(c->srv));
	assert_true(fd >= 0);
	send_all(fd, (const uint8_t *)"\0\0", 2);
	send_all(fd, (const uint8_t *)"\0\5hello", 7);
	send_all(fd, (const uint8_t *)"\0\x12", 2);
	send_all(fd, loop, sizeof loop);
	r = tcp_ask(c, fd, "a.test", SPF_RR_A);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
	close(fd);

	/* a connection that promises a long message and hangs up */
	fd = connect_tcp(fixture_port(c->srv));
	assert_true(fd >= 0);
	send_all(fd, (const uint8_t *)"\xff\xff" "abc", 5);
	pump(c, 10);
	close(fd);
	pump(c, 10);

	/* still answering */
	r = udp_ask(c, "txt.test", SPF_RR_TXT);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
}

/* ---- tests: start-up ---- */

static void test_start(void **state)
{
	struct ctx *c = *state;
	fixture_server_t *other;

	fixture_stop(NULL);
	assert_int_not_equal(fixture_port(c->srv), 0);
	/* never anything but loopback */
	assert_null(fixture_start(c->base, c->zone, "192.0.2.1", 0));
	assert_null(fixture_start(c->base, c->zone, "0.0.0.0", 0));
	assert_null(fixture_start(c->base, c->zone, "not-an-address", 0));
	/* the port is taken */
	assert_null(fixture_start(c->base, c->zone, "127.0.0.1", fixture_port(c->srv)));
	/* another server on its own port */
	other = fixture_start(c->base, c->zone, NULL, 0);
	assert_non_null(other);
	assert_int_not_equal(fixture_port(other), fixture_port(c->srv));
	fixture_stop(other);
}

static void test_ipv6(void **state)
{
	struct ctx *c = *state;
	fixture_server_t *srv6 = fixture_start(c->base, c->zone, "::1", 0);
	struct sockaddr_in6 sin6;
	uint16_t id;
	size_t len;
	uint8_t *wire, buf[4096];
	int fd;
	ldns_pkt *r = NULL;
	ssize_t n;

	if (srv6 == NULL)
		skip();     /* no IPv6 loopback here */
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(fixture_port(srv6));
	sin6.sin6_addr = in6addr_loopback;
	assert_int_equal(connect(fd, (struct sockaddr *)&sin6, sizeof sin6), 0);
	wire = query_wire(c, "a.test", SPF_RR_A, 0, true, &id, &len);
	send_all(fd, wire, len);
	free(wire);
	assert_true(wait_readable(c, fd, WAIT_MS));
	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	assert_true(n > 0);
	assert_int_equal(ldns_wire2pkt(&r, buf, (size_t)n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(r), id);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
	assert_int_equal(fixture_count_for(srv6, "a.test", SPF_RR_A), 1);
	assert_int_equal(fixture_query_count(c->srv), 0);
	close(fd);
	fixture_stop(srv6);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_a),
		T(test_txt),
		T(test_mx_ptr),
		T(test_cname),
		T(test_negative),
		T(test_modes),
		T(test_drop),
		T(test_latency),
		T(test_truncation),
		T(test_tcp_framing),
		T(test_tcp_idle),
		T(test_log),
		T(test_set_zone),
		T(test_opcode_class),
		T(test_junk),
		T(test_start),
		T(test_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
