/*
 * spf_dns.h - the public interface of spfcheck's DNS layer.
 *
 * DESCRIPTION
 *	The evaluator asks this layer for (name, type) and gets an answer
 *	object back through a callback.  Answers come from, in order: the
 *	zone overlay (zone files and records added from code), then the
 *	cache, then a query already in flight for the same (name, type),
 *	then the wire (c-ares).  With the resolver in offline mode a name
 *	that no zone holds is answered NXDOMAIN and nothing touches the
 *	network.
 *
 *	A callback is never invoked from inside the call that registered it:
 *	answers, even immediate ones, are delivered on a later turn of the
 *	event loop (libevent's event_base, owned by the caller).
 *
 *	Names are compared ASCII-case-insensitively; a trailing dot is
 *	ignored.  Names are A-labels (IDN conversion happens before a query).
 */
#ifndef SPF_DNS_H
#define SPF_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct event_base;

/* The status of a DNS answer (never an SPF result, never an API status). */
typedef enum {
	SPF_DNS_OK = 0,    /* NOERROR with at least one record of the type */
	SPF_DNS_NODATA,    /* NOERROR, no record of the asked type */
	SPF_DNS_NXDOMAIN,  /* the name does not exist */
	SPF_DNS_TEMPFAIL,  /* timeout, SERVFAIL, REFUSED, other rcodes */
	SPF_DNS_BADREPLY,  /* a reply that could not be parsed */
} spf_dns_status_t;

const char *spf_dns_status_str(spf_dns_status_t st);

/* "STATUS" or "STATUS (detail)" in arena: the one way an answer that is
 * not a record set is named in traces, problems and lint findings.
 * NULL only when out of memory. */
char *spf_dns_status_text(spf_arena_t *arena, spf_dns_status_t st,
	const char *detail);

/* RR types spfcheck uses (IANA numbers). */
enum {
	SPF_RR_A = 1,
	SPF_RR_NS = 2,
	SPF_RR_CNAME = 5,
	SPF_RR_SOA = 6,
	SPF_RR_PTR = 12,
	SPF_RR_MX = 15,
	SPF_RR_TXT = 16,
	SPF_RR_AAAA = 28,
	SPF_RR_SPF = 99,
};

/* "A", "MX", ..., or "TYPEn" for others (static storage, not reentrant
 * for unknown types). */
const char *spf_rrtype_str(uint16_t type);

/*
 * One resource record of an answer.  All pointers are owned by the
 * answer and live as long as it does.  Domain names are NUL-terminated,
 * lower case, without the trailing dot.
 */
typedef struct {
	uint16_t type;
	uint32_t ttl;
	union {
		uint8_t a[4];
		uint8_t aaaa[16];
		struct {
			uint16_t preference;
			const char *exchange;
		} mx;
		const char *name;   /* PTR, CNAME, NS target */
		struct {
			/* the character-strings joined with no separator
			 * (RFC 7208 §3.3); may contain NUL bytes; data[len]
			 * is always a NUL terminator */
			const uint8_t *data;
			size_t len;
			size_t nstrings;
			const uint16_t *lens;  /* length of each string */
		} txt;
	} u;
} spf_dns_rr_t;

/*
 * An answer: immutable once delivered, reference-counted.  The callback
 * borrows it until it returns; take a reference to keep it.
 */
typedef struct spf_dns_answer spf_dns_answer_t;

spf_dns_status_t spf_dns_answer_status(const spf_dns_answer_t *ans);
const char *spf_dns_answer_name(const spf_dns_answer_t *ans);   /* as asked */
uint16_t spf_dns_answer_type(const spf_dns_answer_t *ans);
size_t spf_dns_answer_count(const spf_dns_answer_t *ans);
/* i < count; records of the asked type only (CNAMEs already followed) */
const spf_dns_rr_t *spf_dns_answer_rr(const spf_dns_answer_t *ans, size_t i);
/* TTL of the answer: smallest record TTL, or the negative TTL */
uint32_t spf_dns_answer_ttl(const spf_dns_answer_t *ans);
/* human text for TEMPFAIL/BADREPLY ("timeout", "SERVFAIL", ...) or NULL */
const char *spf_dns_answer_detail(const spf_dns_answer_t *ans);
/* the CNAME chain that was followed, "a -> b -> c", or NULL */
const char *spf_dns_answer_cnames(const spf_dns_answer_t *ans);

/*
 * The heap an answer uses (its struct, records and strings, counted as
 * malloc sizes them; a memo not included): what holding a reference to
 * it keeps alive.  0 for NULL.
 */
size_t spf_dns_answer_bytes(const spf_dns_answer_t *ans);

/*
 * A memo: data derived from an answer (the evaluator keeps the parsed
 * SPF record there), freed with memo_free when the last reference to the
 * answer goes.  Answers are shared through the cache, so a record is
 * parsed once however many evaluations read it.  set_memo does nothing
 * and returns false if a memo is already set.
 */
void *spf_dns_answer_memo(const spf_dns_answer_t *ans);
bool spf_dns_answer_set_memo(const spf_dns_answer_t *ans, void *memo,
	void (*memo_free)(void *));

/* Building answers (zone backend, wire parser, tests).  create returns
 * NULL on ENOMEM.  Each add returns SPF_OK or SPF_ENOMEM/SPF_EINVAL. */
spf_dns_answer_t *spf_dns_answer_create(const char *name, uint16_t type,
	spf_dns_status_t status);
spf_status_t spf_dns_answer_add(spf_dns_answer_t *ans, const spf_dns_rr_t *rr);
spf_status_t spf_dns_answer_set_detail(spf_dns_answer_t *ans, const char *text);
spf_status_t spf_dns_answer_add_cname(spf_dns_answer_t *ans, const char *target);
void spf_dns_answer_set_ttl(spf_dns_answer_t *ans, uint32_t ttl);
spf_dns_answer_t *spf_dns_answer_ref(spf_dns_answer_t *ans);
void spf_dns_answer_unref(spf_dns_answer_t *ans);   /* NULL is a no-op */

/*
 * In-memory zone: a set of names with their records.  Used for --zone,
 * --record, the demo and the tests.
 */
typedef struct spf_zone spf_zone_t;

spf_zone_t *spf_zone_create(void);
void spf_zone_destroy(spf_zone_t *zone);                 /* NULL ok */
/* Add one record; rr's pointers are copied. */
spf_status_t spf_zone_add(spf_zone_t *zone, const char *name, const spf_dns_rr_t *rr);
/* Convenience: add a TXT record from n character-strings. */
spf_status_t spf_zone_add_txt(spf_zone_t *zone, const char *name,
	const uint8_t *const *strings, const size_t *lens, size_t n, uint32_t ttl);
/* Drop every TXT record of name and add one TXT record holding text
 * (split into 255-byte character-strings). */
spf_status_t spf_zone_replace_txt(spf_zone_t *zone, const char *name,
	const char *text, size_t len);
/* Queries for name whose type has no record there fail as a timeout
 * (the RFC 7208 test suite's TIMEOUT). */
spf_status_t spf_zone_set_timeout(spf_zone_t *zone, const char *name);
/* Would a lookup of name in the zone not be NXDOMAIN?  True when the
 * name has records of any type or the timeout flag, is an empty
 * non-terminal (an ancestor of a name that has), or a wildcard covers
 * it.  The resolver answers such names from the zone alone. */
bool spf_zone_has_name(const spf_zone_t *zone, const char *name);
/*
 * Load an RFC 1035 master file (parsed by ldns).  origin may be NULL
 * ($ORIGIN in the file, or names must be absolute).  For each name and
 * type the file has records of, they replace the zone's (a CNAME and
 * the other types of its name replace each other): a later file wins.
 * On failure returns
 * SPF_EIO/SPF_ESYNTAX/SPF_ENOMEM and, if errmsg != NULL, sets *errmsg to a
 * malloc'ed (spf_free) message naming the file and line.
 */
spf_status_t spf_zone_load_file(spf_zone_t *zone, const char *path,
	const char *origin, char **errmsg);
/* The same for zone text in memory; label names it in messages. */
spf_status_t spf_zone_load_mem(spf_zone_t *zone, const char *text, size_t len,
	const char *label, const char *origin, char **errmsg);
/*
 * Answer a query from the zone alone, synchronously: follows CNAMEs
 * inside the zone (at most 10), NODATA when the name exists with other
 * types, NXDOMAIN when it does not exist, TEMPFAIL "timeout" for the
 * timeout flag.  Returns a new answer (caller unrefs) or NULL on ENOMEM.
 */
spf_dns_answer_t *spf_zone_lookup(const spf_zone_t *zone, const char *name,
	uint16_t type);

/*
 * Resolver: the object the evaluator queries.
 */
/* The default cap on wire queries out at once (spf_resolver_opts_t's
 * max_inflight, --max-queries-in-flight). */
#define SPF_DNS_MAX_INFLIGHT 128
typedef struct spf_resolver spf_resolver_t;
typedef struct spf_dns_query spf_dns_query_t;
typedef void (*spf_dns_cb)(const spf_dns_answer_t *ans, void *arg);

/*
 * Resolver options.  Zero means the default for every field, so
 * { .offline = true } or { 0 } are complete.  The strings and the array
 * are borrowed for the duration of spf_resolver_create() only.
 */
typedef struct {
	bool offline;            /* never touch the network */
	/* DNS servers: "ADDR", "ADDR:PORT", "[IPV6]" or "[IPV6]:PORT" (a
	 * bare IPv6 address without a port also works); IPv4 and IPv6.
	 * NULL/0: the servers of /etc/resolv.conf. */
	const char *const *nameservers;
	size_t nnameservers;
	unsigned timeout_ms;     /* first try's timeout (c-ares doubles it
	                          * on each round); 0: 2000 */
	unsigned tries;          /* attempts per server; 0: 3 */
	size_t cache_entries;    /* cache bound in answers; 0: 10000 */
	size_t cache_bytes;      /* cache bound in bytes (estimated); 0: 16 MiB */
	bool no_cache;           /* keep no answers (coalescing still works) */
	unsigned max_inflight;   /* wire queries out at once; more wait in a
	                          * queue, by need (spf_resolver_query_sched());
	                          * 0: SPF_DNS_MAX_INFLIGHT */
	/* The cache's clock in milliseconds (tests); NULL: CLOCK_MONOTONIC */
	uint64_t (*clock)(void *clock_arg);
	void *clock_arg;
} spf_resolver_opts_t;

/* base is borrowed and must outlive the resolver.  opts may be NULL
 * (defaults).  Returns NULL on ENOMEM or when the DNS transport cannot be
 * set up (spf_resolver_create_ex() says why). */
spf_resolver_t *spf_resolver_create(struct event_base *base,
	const spf_resolver_opts_t *opts);
/*
 * Like spf_resolver_create(), with the reason for a failure: *status
 * (if not NULL) is SPF_OK, SPF_ENOMEM, SPF_EINVAL (a nameserver string
 * that does not parse, base NULL) or SPF_EDNS (c-ares could not be set
 * up: no usable /etc/resolv.conf, ...); *errmsg (if not NULL) is then a
 * spf_malloc'ed one-line message (spf_free), or NULL for ENOMEM.
 */
spf_resolver_t *spf_resolver_create_ex(struct event_base *base,
	const spf_resolver_opts_t *opts, spf_status_t *status, char **errmsg);
/* Does spec parse as a nameserver ("ADDR", "ADDR:PORT", "[IPV6]:PORT")?
 * SPF_OK or SPF_EINVAL. */
spf_status_t spf_dns_server_check(const char *spec);
/* Cancels every pending query (their callbacks are not called). */
void spf_resolver_destroy(spf_resolver_t *res);          /* NULL ok */
/* The overlay zone (borrowed; fill it before queries are made). */
spf_zone_t *spf_resolver_zone(spf_resolver_t *res);
struct event_base *spf_resolver_base(spf_resolver_t *res);

/*
 * Start a query.  cb(ans, arg) is called exactly once, later, from the
 * event loop, unless the query is cancelled first.  Returns NULL on
 * ENOMEM (cb is then never called).  The handle is valid until cb
 * returns or until spf_dns_query_cancel().
 */
spf_dns_query_t *spf_resolver_query(spf_resolver_t *res, const char *name,
	uint16_t type, spf_dns_cb cb, void *arg);
void spf_dns_query_cancel(spf_dns_query_t *q);            /* NULL ok */

/*
 * Scheduling.  A wire query waits for a slot while max_inflight are out;
 * the waiting ones go out by need, not by arrival: first the queries an
 * evaluation is blocked on (SPF_DNS_DEMAND), then speculative ones
 * (SPF_DNS_SPECULATIVE, prefetch); within a class the lowest seq (the
 * evaluation that started first, spf_resolver_next_seq()); then by
 * arrival.  A wire query shared by several queries (coalesced) goes at
 * the best of their ranks.  A query answered by the zone or the cache
 * never waits.  spf_resolver_query() is SPF_DNS_DEMAND with a seq of
 * its own, so it ranks behind every evaluation numbered before it.
 */
typedef enum {
	SPF_DNS_DEMAND = 0,
	SPF_DNS_SPECULATIVE = 1,
} spf_dns_class_t;

spf_dns_query_t *spf_resolver_query_sched(spf_resolver_t *res,
	const char *name, uint16_t type, spf_dns_class_t cls, uint64_t seq,
	spf_dns_cb cb, void *arg);
/* The next number in the order evaluations started (1, 2, ...). */
uint64_t spf_resolver_next_seq(spf_resolver_t *res);

/*
 * Call cb(NULL, arg) on a later turn of the event loop, like a query
 * that needs no DNS (used to start jobs without calling back from
 * inside the starting call).  Cancel with spf_dns_query_cancel().
 * Returns NULL on ENOMEM.
 */
spf_dns_query_t *spf_resolver_call_later(spf_resolver_t *res, spf_dns_cb cb,
	void *arg);

/*
 * Call cb(NULL, arg) from the event loop ms milliseconds from now (a
 * timer: evaluation deadlines).  Cancel with spf_dns_query_cancel().
 * Returns NULL on ENOMEM.
 */
spf_dns_query_t *spf_resolver_call_after(spf_resolver_t *res, unsigned ms,
	spf_dns_cb cb, void *arg);

/*
 * Would a query for (name, type) be answered without a new wire query:
 * offline, from the zone, from the cache, or by a query in flight?
 * (A record at hand is not walked by speculative prefetch: its terms'
 * answers are most likely at hand too.)
 */
bool spf_resolver_answer_at_hand(spf_resolver_t *res, const char *name,
	uint16_t type);

/*
 * The cached answer for (name, type), a new reference (unref it), or
 * NULL: not cached (in flight, never asked, expired), or answered by the
 * zone or offline (those come through spf_resolver_query()).  Not a
 * query: nothing is counted.  Speculative prefetch reads what is at hand
 * this way instead of a query and a callback for each name.
 */
spf_dns_answer_t *spf_resolver_cached(spf_resolver_t *res, const char *name,
	uint16_t type);

/*
 * spf_resolver_cached(), counted as a query answered from the cache (the
 * counters of spf_resolver_stats() move as for spf_resolver_query() with
 * a cache hit): for a caller that would query and wait for the callback
 * but can take the answer now.  A new reference (unref it), or NULL and
 * nothing counted: then query as usual (not cached, or the zone's).
 */
spf_dns_answer_t *spf_resolver_take_cached(spf_resolver_t *res, const char *name,
	uint16_t type);

/* Number of queries started on res (for tests and statistics). */
unsigned long spf_resolver_queries(const spf_resolver_t *res);

/* Where the answers of a resolver came from (cumulative counters). */
typedef struct {
	unsigned long queries;        /* = spf_resolver_queries() */
	unsigned long zone_answers;   /* answered by the overlay zone */
	unsigned long cache_hits;     /* answered by the cache */
	unsigned long coalesced;      /* joined a wire query in flight */
	unsigned long wire_queries;   /* handed to c-ares (one per
	                               * (name, type) lookup; retries and
	                               * TCP fallback not counted) */
	unsigned long cache_evictions;/* answers dropped to stay in bounds */
	size_t cache_entries;         /* answers cached now */
} spf_resolver_stats_t;

void spf_resolver_stats(const spf_resolver_t *res, spf_resolver_stats_t *out);

/* Change the cap on wire queries out at once (0: SPF_DNS_MAX_INFLIGHT);
 * returns the cap now in force.  A raised cap sends waiting queries now;
 * a lowered one lets the queries out finish and sends no more until
 * fewer than the new cap are out. */
unsigned spf_resolver_set_max_inflight(spf_resolver_t *res, unsigned max_inflight);

/*
 * Parse a DNS reply (wire format) to the question (qname, qtype) with
 * ldns.  Never fails on bad input: an unparsable reply, one that is not
 * a response, or one whose question is not (qname, qtype) is BADREPLY.
 * NOERROR with records of qtype (at qname or at the end of the CNAME
 * chain in the answer section, owner names compared ignoring case) is
 * OK, NOERROR without is NODATA, NXDOMAIN (also at the end of a CNAME
 * chain) is NXDOMAIN, every other rcode is TEMPFAIL with the rcode's
 * name as detail ("SERVFAIL", "REFUSED", ...).  Negative answers take
 * their TTL from the SOA in the authority section (RFC 2308 §5: min of
 * the SOA's TTL and its minimum field), 30 s without one (see
 * wire2answer.c: spfcheck never re-serves answers).  Returns a new
 * answer (caller unrefs), or NULL on ENOMEM or a NULL qname.
 */
spf_dns_answer_t *spf_dns_answer_from_wire(const uint8_t *buf, size_t len,
	const char *qname, uint16_t qtype);

/*
 * Convert a domain name to its A-label (ASCII) form for lookups with
 * libidn2 (IDNA2008, UTS#46 non-transitional mapping, NFC input).  A
 * name of ASCII bytes only is copied unchanged (so underscores, case and
 * anything else SPF domains hold survive).  On SPF_OK *out is a new
 * string (spf_free).  SPF_EINVAL (with *why, if not NULL, set to
 * libidn2's static reason) when the name cannot be converted, SPF_ENOMEM
 * when memory runs out; *out is then NULL.
 */
spf_status_t spf_dns_to_ascii(const char *name, char **out, const char **why);

/*
 * The versions of c-ares, ldns and libidn2 this process runs on (asked of
 * the shared libraries at run time, not the headers built against), for
 * `spfcheck --version`.  Each pointer may be NULL (not wanted); each
 * string set is static text that lives as long as the process.
 */
void spf_dns_lib_versions(const char **cares, const char **ldns, const char **idn2);

/* Run the event loop until *done becomes true (for synchronous use). */
void spf_resolver_run_until(spf_resolver_t *res, const bool *done);
/* Run what is ready (answers received, timers due) without waiting;
 * nothing when no wire query is out. */
void spf_resolver_poll(spf_resolver_t *res);

#endif
