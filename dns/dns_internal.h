/*
 * dns_internal.h - interfaces between the modules of dns/ (not public).
 *
 * DESCRIPTION
 *	resolver.c puts the overlay zone, the cache (cache.c), in-flight
 *	coalescing (cache.c's flight table) and the c-ares transport
 *	(wire.c) in front of each other; wire2answer.c and zone.c read
 *	ldns records through rr.c.  Nothing above dns/ includes this header
 *	(tests may, to drive the cache directly).
 */
#ifndef SPF_DNS_INTERNAL_H
#define SPF_DNS_INTERNAL_H

#include "spf_dns.h"

/* ---- wire.c: the c-ares transport ---- */

typedef struct spf_wire spf_wire_t;
typedef struct spf_wire_query spf_wire_query_t;

/*
 * The answer to a wire query: ownership of ans moves to the callee.
 * Never called from inside spf_wire_query(); never called after
 * spf_wire_cancel() or spf_wire_destroy().
 */
typedef void (*spf_wire_cb)(spf_dns_answer_t *ans, void *arg);

/*
 * Create a c-ares channel on base with the servers, timeout and tries of
 * opts.  Returns SPF_OK, SPF_ENOMEM, SPF_EINVAL (a nameserver string that
 * does not parse) or SPF_EDNS (c-ares could not be set up); on failure
 * *errmsg (if errmsg != NULL) is a spf_malloc'ed message.
 */
spf_status_t spf_wire_create(struct event_base *base,
	const spf_resolver_opts_t *opts, spf_wire_t **out, char **errmsg);
/* Destroy the channel; callbacks of outstanding queries are not called. */
void spf_wire_destroy(spf_wire_t *w);                    /* NULL ok */
/* Start a query; NULL on ENOMEM (cb is then never called). */
spf_wire_query_t *spf_wire_query(spf_wire_t *w, const char *name,
	uint16_t type, spf_wire_cb cb, void *arg);
/* Forget a query: its callback will not be called. */
void spf_wire_cancel(spf_wire_query_t *wq);             /* NULL ok */

/* ---- answer.c ---- */

/* Is ans referenced by anyone but its first owner? */
bool spf_dns_answer_shared(const spf_dns_answer_t *ans);

/* ---- wire2answer.c: c-ares outcomes to answers ---- */

/*
 * The answer for a c-ares callback: status is the ares status, buf/len
 * the reply (may be NULL).  Returns NULL on ENOMEM, and for
 * ARES_EDESTRUCTION / ARES_ECANCELLED (there is nobody to answer).
 */
spf_dns_answer_t *spf_wire_answer(int ares_status, const uint8_t *buf,
	size_t len, const char *qname, uint16_t qtype);

/* ---- rr.c: one ldns record to one answer record ---- */

struct ldns_struct_rr;
struct ldns_struct_rdf;

/* How a domain name in rdata becomes text (see rr.c). */
typedef enum {
	SPF_RR_NAME_PRESENTATION,   /* ldns' text, \DDD escapes, case kept (replies) */
	SPF_RR_NAME_PLAIN,          /* lower case, no escapes (zone files) */
} spf_rr_name_t;

/* A record read from ldns: rr's pointers point into the storage beside
 * it, which the buffer owns until spf_rr_finish(). */
typedef struct {
	spf_dns_rr_t rr;
	char *name;                 /* MX exchange, PTR/CNAME/NS target */
	uint8_t *data;              /* TXT/SPF strings joined */
	uint16_t *lens;             /* TXT/SPF length of each string */
} spf_rr_buf_t;

/*
 * Read lr (borrowed) into *out, names in form.  Types other than those
 * spf_rr_reads_type() names give type and TTL only.  SPF_OK (finish
 * *out when done), SPF_ESYNTAX (rdata not what the type needs, a name
 * with no text form) or SPF_ENOMEM; on failure *out holds nothing.
 */
spf_status_t spf_rr_from_ldns(const struct ldns_struct_rr *lr,
	spf_rr_name_t form, spf_rr_buf_t *out);
/* Free what spf_rr_from_ldns() allocated; NULL ok. */
void spf_rr_finish(spf_rr_buf_t *b);
/* Is type one whose rdata spfcheck reads (A AAAA MX PTR CNAME NS TXT SPF)? */
bool spf_rr_reads_type(uint16_t type);
/*
 * The text of a domain-name rdf in form, without the trailing dot, into
 * *out (spf_free).  SPF_ESYNTAX if rdf is NULL, not a name, or has no
 * text in form; SPF_ENOMEM.
 */
spf_status_t spf_rr_dname_text(const struct ldns_struct_rdf *rdf,
	spf_rr_name_t form, char **out);

/* ---- resolver.c ---- */

/* CLOCK_MONOTONIC in microseconds (the precise clock, not libevent's). */
uint64_t spf_monotonic_us(void);

/* ---- cache.c: answers by (name, type), and queries in flight ---- */

typedef struct spf_cache spf_cache_t;

/* The TTL bounds the cache applies (seconds; see cache.c). */
#define SPF_CACHE_TTL_FLOOR 0u
#define SPF_CACHE_TTL_CEILING 86400u         /* one day */
#define SPF_CACHE_NEG_TTL_CEILING 10800u     /* RFC 2308 §5: three hours */
/* Huge answers go to a pool of their own (see cache.c): the size past
 * which an answer is huge, and the pool's share of max_bytes (1/16). */
#define SPF_CACHE_HUGE_ANSWER 8192u
#define SPF_CACHE_HUGE_POOL_SHARE 16u

/*
 * max_entries: at most this many answers (0: the default, 10000);
 * max_bytes: an estimate of their memory (0: the default, 16 MiB).
 * clock (NULL: CLOCK_MONOTONIC) returns milliseconds.  NULL on ENOMEM.
 */
spf_cache_t *spf_cache_create(size_t max_entries, size_t max_bytes,
	uint64_t (*clock)(void *arg), void *clock_arg);
void spf_cache_destroy(spf_cache_t *c);                  /* NULL ok */
/* A new reference to a fresh answer for (name, type), or NULL. */
spf_dns_answer_t *spf_cache_get(spf_cache_t *c, const char *name, uint16_t type);
/* Remember ans (a reference is taken) if its status and TTL allow;
 * returns true if it was stored. */
bool spf_cache_put(spf_cache_t *c, spf_dns_answer_t *ans);
size_t spf_cache_entries(const spf_cache_t *c);
size_t spf_cache_bytes(const spf_cache_t *c);
unsigned long spf_cache_evictions(const spf_cache_t *c);

/*
 * The flight table: at most one in-flight wire query per (name, type).
 * data is the resolver's; the table only maps keys to it.
 */
void *spf_cache_flight_get(spf_cache_t *c, const char *name, uint16_t type);
/* SPF_OK or SPF_ENOMEM; the key must not be in the table yet. */
spf_status_t spf_cache_flight_add(spf_cache_t *c, const char *name,
	uint16_t type, void *data);
void spf_cache_flight_remove(spf_cache_t *c, const char *name, uint16_t type);

#endif
