/*
 * fixture.h - a DNS server for tests, answering from an spf_zone_t
 * (fixture.c).
 *
 * DESCRIPTION
 *	The fixture listens on a loopback address (127.0.0.1 or ::1) over
 *	UDP and TCP on the same port and answers every query from
 *	spf_zone_lookup() on the zone it serves.  It runs on the caller's
 *	libevent event_base and never blocks, so a test can run it in the
 *	same process and on the same loop as the resolver under test.
 *
 *	How zone answers map to DNS replies:
 *	  SPF_DNS_OK        NOERROR, AA, the CNAME chain then the records
 *	  SPF_DNS_NODATA    NOERROR, AA, no records (CNAMEs if followed)
 *	  SPF_DNS_NXDOMAIN  NXDOMAIN, AA (CNAMEs if followed)
 *	  TEMPFAIL timeout  no reply at all (the RFC 7208 suite's TIMEOUT)
 *	  other TEMPFAIL    SERVFAIL
 *	Replies copy the query ID, the question and the RD bit.  A query
 *	with an EDNS0 OPT record gets an OPT record back and may receive UDP
 *	replies up to its payload size (at least 512); without one the UDP
 *	limit is 512 bytes.  A UDP reply over the limit is sent with TC=1
 *	and no records, so the client retries over TCP.
 *
 *	TCP uses RFC 1035 §4.2.2 two-byte length framing and serves any
 *	number of queries per connection; a connection that sends nothing
 *	for the idle time (5 s by default) is closed.
 *
 *	Malformed packets, responses (QR=1) and packets without exactly one
 *	question are ignored (not logged, never answered); non-QUERY opcodes
 *	get NOTIMP and classes other than IN get REFUSED.  Memory is bounded:
 *	at most 64 TCP connections, 4096 delayed replies and 16384 distinct
 *	(name, type) log entries; beyond those limits connections are
 *	refused, delayed replies dropped and queries only counted in the
 *	total.
 *
 *	The fixture allocates with malloc(), not spf_malloc(), so it does
 *	not disturb allocation-failure tests of the code under test (but
 *	spf_zone_lookup() itself uses spf_malloc()).
 */
#ifndef SPF_TESTS_FIXTURE_H
#define SPF_TESTS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "spf_dns.h"

struct event_base;

typedef struct fixture_server fixture_server_t;

/*
 * Start serving zone (borrowed: it must outlive the server or be
 * replaced with fixture_set_zone(); NULL answers SERVFAIL) on addr, a
 * numeric loopback address ("127.0.0.1" or "::1"; NULL means
 * "127.0.0.1"), UDP and TCP, on port (0: an ephemeral port, the same for
 * both).  base is borrowed and must outlive the server.  Returns NULL if
 * addr is not a loopback address, the sockets cannot be set up (the
 * reason is printed to stderr) or memory runs out.
 */
fixture_server_t *fixture_start(struct event_base *base, const spf_zone_t *zone,
	const char *addr, uint16_t port);

/* The port the server listens on (UDP and TCP). */
uint16_t fixture_port(const fixture_server_t *srv);

/* Serve another zone from now on (borrowed; NULL answers SERVFAIL). */
void fixture_set_zone(fixture_server_t *srv, const spf_zone_t *zone);

/* Close every socket, drop delayed replies and free the server.  NULL is
 * a no-op.  Safe from any callback of the caller (the server never calls
 * the caller back). */
void fixture_stop(fixture_server_t *srv);

/*
 * Per-name behaviour, whatever the zone says.  The modes after
 * FIX_TRUNCATE are hostile servers (issue 6): each reply is built as
 * for FIX_NORMAL and then spoilt as described; what spfcheck makes of
 * each is in tests/test_hostile.c and README "Limits and resource
 * bounds".
 */
typedef enum {
	FIX_NORMAL,    /* answer from the zone */
	FIX_DROP,      /* never answer */
	FIX_SERVFAIL,  /* rcode SERVFAIL, no records */
	FIX_REFUSED,   /* rcode REFUSED, no records */
	FIX_TRUNCATE,  /* UDP: TC=1 and no records; TCP answers normally */
	FIX_BAD_ID,    /* the reply's ID is not the query's */
	FIX_BAD_QUESTION, /* the reply's question names another name (the
	                  * first letter changed; the type for the root) */
	FIX_WRONG_TYPE,/* NOERROR with a record of another type at the name:
	                * an A record for TXT queries, a TXT record
	                * "v=spf1 +all" for any other type */
	FIX_BAD_RDATA, /* one record of the asked type whose RDATA is 3
	                * bytes that do not make a record of that type */
	FIX_CNAME_LOOP,/* NAME CNAME loop.NAME, loop.NAME CNAME NAME (a
	                * self-loop when loop.NAME is too long) */
	FIX_HUGE_TXT,  /* TXT queries: the zone's records plus 255-byte
	                * junk strings, one per record, filling the reply to
	                * about 64 KB (UDP: TC=1, so it comes over TCP) */
	FIX_MANY_MX,   /* MX queries: 1000 MX records (TCP after TC=1) */
	FIX_PTR_LOOP,  /* one answer record whose owner name is a
	                * compression pointer loop ("a" + pointer to itself) */
	FIX_GARBLED,   /* header and question intact, ANCOUNT 1, the answer
	                * record cut off after 5 bytes */
	FIX_SHORT,     /* only the first 7 bytes of the reply (not even a
	                * whole header) */
	FIX_TRUNCATE_ALWAYS, /* TC=1 and no records over UDP and TCP alike */
	FIX_LATE,      /* the normal reply, sent after the late delay
	                * (fixture_set_late(); default 1000 ms) */
} fixture_mode_t;

/* The mode for a word ("drop", "bad-id", "cname-loop", ... : the enum
 * name without FIX_, lower case, '-' for '_'); -1 if there is none. */
int fixture_mode_parse(const char *word, fixture_mode_t *mode);

/* How long FIX_LATE holds its replies (0: the default, 1000 ms). */
void fixture_set_late(fixture_server_t *srv, unsigned ms);

/*
 * Set the mode of queries for name (any type; case-insensitive, a
 * trailing dot ignored).  FIX_NORMAL removes an override.  Returns 0, or
 * -1 if memory ran out or the arguments are invalid (nothing changes).
 */
int fixture_set_mode(fixture_server_t *srv, const char *name, fixture_mode_t mode);

/* Delay every reply sent from now on by ms milliseconds (a libevent
 * timer, never a sleep).  0 answers at once. */
void fixture_set_latency(fixture_server_t *srv, unsigned ms);

/* The most queries the server held back at once (for latency or a late
 * mode): with a latency set, how many queries a client had in flight. */
size_t fixture_max_pending(const fixture_server_t *srv);

/* Replies held back right now (latency or a late mode), not yet sent:
 * a test waits for 0 before it relies on a late reply having gone. */
size_t fixture_pending(const fixture_server_t *srv);

/* Close TCP connections idle for ms milliseconds (default 5000; 0 means
 * the default). Applies to connections accepted from now on. */
void fixture_set_tcp_idle(fixture_server_t *srv, unsigned ms);

/* Queries received (UDP and TCP, well-formed ones only, answered or not)
 * since the start or the last fixture_clear_log(). */
size_t fixture_query_count(const fixture_server_t *srv);

/* Queries received for (name, type); name case-insensitive, trailing dot
 * ignored. */
size_t fixture_count_for(const fixture_server_t *srv, const char *name,
	uint16_t type);

/* Queries received for suffix and every name under it, any type (the
 * same normalisation; a query for "a.victim.example" is under
 * "victim.example", one for "xvictim.example" is not). */
size_t fixture_count_under(const fixture_server_t *srv, const char *suffix);

/* Forget every logged query (the counts above restart from 0, the
 * most held at once from the replies held now). */
void fixture_clear_log(fixture_server_t *srv);

#endif
