/*
 * cache.c - the answer cache and the table of queries in flight.
 *
 * DESCRIPTION
 *	Answers from the wire are kept by (name, type): the name lower case
 *	without a trailing dot, so "Example.COM." and "example.com" share an
 *	entry.  Positive (OK) and negative (NODATA, NXDOMAIN) answers are
 *	cached; TEMPFAIL and BADREPLY never are (a server that failed or
 *	timed out is asked again by the next query; RFC 2308 §7.1 allows a
 *	short SERVFAIL cache, we prefer a fresh try).
 *
 *	TTL.  An entry lives for the answer's TTL (spf_dns_answer_ttl(): the
 *	smallest record or CNAME TTL, or the negative TTL of RFC 2308 §5),
 *	bounded by:
 *	  - a floor of SPF_CACHE_TTL_FLOOR = 0 s: a TTL is never stretched,
 *	    so a TTL of 0 is not cached at all (the owner asked for that;
 *	    queries in flight together still share one answer);
 *	  - a ceiling of SPF_CACHE_TTL_CEILING = 1 day for positive answers
 *	    and SPF_CACHE_NEG_TTL_CEILING = 3 hours for negative ones (RFC
 *	    2308 §5 recommends at most 1-3 hours for negative caching).
 *	A cached answer is handed out as it was received: its TTL accessor
 *	reports the original TTL, not the time left.
 *
 *	Bounds.  At most max_entries answers and about max_bytes bytes (an
 *	estimate of the answer objects' heap use, counting each allocation
 *	as glibc's malloc sizes it; bench/cache_rss.c measures the peak RSS
 *	against it under a million names); inserting past either
 *	bound evicts the least recently used entries.  An answer that alone
 *	exceeds max_bytes is not cached.  Expired entries are dropped when
 *	they are looked up or reach the LRU tail.
 *
 *	Huge answers (issue 22).  An answer whose own heap use
 *	(spf_dns_answer_bytes()) is over SPF_CACHE_HUGE_ANSWER (8 KB: about
 *	200 addresses; a real SPF, MX or address answer is far smaller) lives
 *	in a pool of its own of max_bytes / SPF_CACHE_HUGE_POOL_SHARE bytes
 *	(1 MiB of the default 16 MiB) with its own LRU list: huge answers
 *	evict only each other, so a stream of them (an attacker's 64 KB
 *	answers under fresh names) cannot push out the small answers real
 *	traffic depends on.  A huge answer larger than the pool is not
 *	cached.  max_entries bounds the small answers; the pool is bounded
 *	by its bytes (at most 128 entries).
 *
 *	The clock is milliseconds from an injectable function (tests move
 *	time by hand); the default is CLOCK_MONOTONIC, so changes of the
 *	wall clock do not expire or extend entries.
 *
 *	The flight table maps (name, type) to whatever the resolver keeps
 *	for a wire query in flight, so concurrent queries for the same key
 *	join one wire query (resolver.c does the joining and delivery).
 *
 * DIAGNOSTICS
 *	spf_cache_create() returns NULL on ENOMEM.  spf_cache_put() returns
 *	false when the answer is not cacheable or memory runs out (then the
 *	answer is simply not cached); spf_cache_flight_add() returns
 *	SPF_ENOMEM (the caller then runs the query without coalescing).
 */
#include "dns_internal.h"

#include <string.h>
#include <time.h>

#define DEFAULT_ENTRIES 10000
#define DEFAULT_BYTES (16u * 1024 * 1024)
#define FLIGHT_BUCKETS 256

struct entry {
	struct entry *hnext;
	struct entry *newer, *older;    /* LRU list */
	char *name;
	size_t len;
	uint16_t type;
	uint32_t hash;
	spf_dns_answer_t *ans;
	uint64_t expires;               /* ms on the cache's clock */
	size_t bytes;
	bool huge;                      /* in the pool of huge answers */
};

/* A least-recently-used list and what its entries cost. */
struct lru {
	struct entry *newest, *oldest;
	size_t count;
	size_t bytes;
};

struct flight {
	struct flight *hnext;
	char *name;
	size_t len;
	uint16_t type;
	uint32_t hash;
	void *data;
};

struct spf_cache {
	struct entry **buckets;
	size_t nbuckets;                /* a power of two */
	size_t count;
	size_t bytes;
	size_t max_entries;
	size_t max_bytes;
	size_t huge_max_bytes;          /* the pool of huge answers */
	unsigned long evictions;
	struct lru small, huge;
	struct flight *flights[FLIGHT_BUCKETS];
	uint64_t (*clock)(void *arg);
	void *clock_arg;
};

/* ---- keys ---- */

static size_t key_len(const char *name)
{
	size_t len = strlen(name);

	return (len > 0 && name[len - 1] == '.') ? len - 1 : len;
}

static uint64_t load8(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return w;
}

/*
 * A hash of name[0..len) and type that ignores ASCII case: every byte is
 * hashed with its 0x20 bit set, which makes 'A'..'Z' their lower case
 * and leaves equal names equal (some names that differ collide, as
 * "@" and "`"; key_eq() tells them apart).  8 bytes at a time: a name
 * of 8 bytes or more ends with its last 8, overlapping the word before;
 * a shorter one is read byte by byte.  Mixed by multiply and the 64-bit
 * finalizer of MurmurHash3.
 */
static uint32_t key_hash(const char *name, size_t len, uint16_t type)
{
	const uint64_t k = 0x9e3779b97f4a7c15u;
	const uint64_t fold = 0x2020202020202020u;
	const uint8_t *p = (const uint8_t *)name;
	uint64_t h = ((uint64_t)len << 16 | type) * k;
	uint64_t w;

	if (len >= 8) {
		for (size_t i = 0; i + 8 < len; i += 8) {
			h = (h ^ (load8(p + i) | fold)) * k;
			h ^= h >> 32;
		}
		w = load8(p + len - 8);
	} else {
		w = 0;
		for (size_t i = 0; i < len; i++)
			w = w << 8 | p[i];
	}
	h = (h ^ (w | fold)) * k;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* Does the stored key (lower case) equal name[0..len) but for case?
 * Names mostly come in lower case: compare the bytes first. */
static bool key_eq(const char *key, const char *name, size_t len)
{
	return memcmp(key, name, len) == 0 || spf_strncaseeq(key, name, len);
}

static char *key_dup(const char *name, size_t len)
{
	char *copy = spf_strndup(name, len);

	if (copy != NULL)
		for (size_t i = 0; i < len; i++)
			copy[i] = spf_lower(copy[i]);
	return copy;
}

/* spf_monotonic_us() / 1000, read here: every hit reads the clock */
static uint64_t monotonic_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- create / destroy ---- */

spf_cache_t *spf_cache_create(size_t max_entries, size_t max_bytes,
	uint64_t (*clock)(void *arg), void *clock_arg)
{
	spf_cache_t *c = spf_calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->nbuckets = 64;
	c->buckets = spf_calloc(c->nbuckets, sizeof *c->buckets);
	if (c->buckets == NULL) {
		spf_free(c);
		return NULL;
	}
	c->max_entries = max_entries > 0 ? max_entries : DEFAULT_ENTRIES;
	c->max_bytes = max_bytes > 0 ? max_bytes : DEFAULT_BYTES;
	c->huge_max_bytes = c->max_bytes / SPF_CACHE_HUGE_POOL_SHARE;
	c->clock = clock != NULL ? clock : monotonic_ms;
	c->clock_arg = clock_arg;
	return c;
}

static void entry_free(struct entry *e)
{
	spf_dns_answer_unref(e->ans);
	spf_free(e->name);
	spf_free(e);
}

void spf_cache_destroy(spf_cache_t *c)
{
	if (c == NULL)
		return;
	while (c->small.newest != NULL) {
		struct entry *e = c->small.newest;

		c->small.newest = e->older;
		entry_free(e);
	}
	while (c->huge.newest != NULL) {
		struct entry *e = c->huge.newest;

		c->huge.newest = e->older;
		entry_free(e);
	}
	for (size_t i = 0; i < FLIGHT_BUCKETS; i++) {
		struct flight *f, *next;

		for (f = c->flights[i]; f != NULL; f = next) {
			next = f->hnext;
			spf_free(f->name);
			spf_free(f);
		}
	}
	spf_free(c->buckets);
	spf_free(c);
}

/* ---- entries ---- */

static struct entry **find_slot(spf_cache_t *c, const char *name, size_t len,
	uint16_t type, uint32_t h)
{
	struct entry **pp;

	for (pp = &c->buckets[h & (c->nbuckets - 1)]; *pp != NULL; pp = &(*pp)->hnext) {
		struct entry *e = *pp;

		if (e->hash == h && e->type == type && e->len == len
		    && key_eq(e->name, name, len))
			return pp;
	}
	return pp;
}

static struct lru *lru_of(spf_cache_t *c, const struct entry *e)
{
	return e->huge ? &c->huge : &c->small;
}

static void lru_unlink(spf_cache_t *c, struct entry *e)
{
	struct lru *l = lru_of(c, e);

	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		l->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		l->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push(spf_cache_t *c, struct entry *e)
{
	struct lru *l = lru_of(c, e);

	e->newer = NULL;
	e->older = l->newest;
	if (l->newest != NULL)
		l->newest->newer = e;
	else
		l->oldest = e;
	l->newest = e;
}

static void entry_remove(spf_cache_t *c, struct entry *e)
{
	struct entry **pp = find_slot(c, e->name, e->len, e->type, e->hash);

	if (*pp == e)
		*pp = e->hnext;
	lru_unlink(c, e);
	lru_of(c, e)->count--;
	lru_of(c, e)->bytes -= e->bytes;
	c->count--;
	c->bytes -= e->bytes;
	entry_free(e);
}

static void grow(spf_cache_t *c)
{
	size_t nb = c->nbuckets * 2;
	struct entry **nbuckets;

	if (nb > SIZE_MAX / sizeof *nbuckets)
		return;
	nbuckets = spf_calloc(nb, sizeof *nbuckets);
	if (nbuckets == NULL)
		return;   /* longer chains, still correct */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry *e, *next;

		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nbuckets[e->hash & (nb - 1)];
			nbuckets[e->hash & (nb - 1)] = e;
		}
	}
	spf_free(c->buckets);
	c->buckets = nbuckets;
	c->nbuckets = nb;
}

/*
 * The memo an evaluation leaves on a TXT or SPF answer (eval.c
 * parse_memo(): the record parsed into an arena of its own), set after
 * the answer was cached and so never seen by spf_cache_put(): a memo
 * struct, the arena and its first 4 KB chunk, plus what the parse of a
 * record adds: a copy of the text and the trace's label of it (2 bytes
 * per byte), and each term with the copies of its texts, at most 160
 * bytes (measured: 127 for ip4:, 114 for a bare "a", 151 for x=y; a
 * 60 KB record holds up to 30,000 terms, 3.4 MB parsed).  Terms are
 * counted as the spaces of a record that looks like SPF ("v=spf1",
 * "spf2"); others are never parsed.  Without the memo a cache of parsed
 * records used 2.8 times its byte budget (bench/cache_rss.c --memo).
 */
#define MEMO_BYTES 4288u
#define MEMO_PER_BYTE 2u
#define MEMO_PER_TERM 160u

/* The memo of a TXT record's text if the evaluator parses it. */
static size_t memo_bytes(const uint8_t *text, size_t len)
{
	size_t terms = 1;

	if (!(len >= 6 && spf_strncaseeq((const char *)text, "v=spf1", 6)) &&
	    !(len >= 4 && spf_strncaseeq((const char *)text, "spf2", 4)))
		return 0;
	for (size_t i = 0; i < len; i++)
		terms += text[i] == ' ';
	return MEMO_PER_BYTE * len + MEMO_PER_TERM * terms;
}

/* An estimate of the heap an answer and its entry use: the answer
 * (spf_dns_answer_bytes()), the entry and its key, as malloc() sizes
 * them, and the evaluator's memo on answers that can hold records. */
static size_t answer_bytes(const spf_dns_answer_t *ans)
{
	size_t count = spf_dns_answer_count(ans);
	/* the entry and its share of the bucket array (at most two slots
	 * per entry, see grow()) */
	size_t n = spf_heap_bytes(sizeof(struct entry)) + 2 * sizeof(struct entry *);

	n += spf_heap_bytes(strlen(spf_dns_answer_name(ans)) + 1);   /* the key */
	n += spf_dns_answer_bytes(ans);
	for (size_t i = 0; i < count; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);

		if (rr->type == SPF_RR_TXT || rr->type == SPF_RR_SPF)
			n += memo_bytes(rr->u.txt.data, rr->u.txt.len);
	}
	if (count > 0 && (spf_dns_answer_type(ans) == SPF_RR_TXT
	    || spf_dns_answer_type(ans) == SPF_RR_SPF))
		n += MEMO_BYTES;
	return n;
}

spf_dns_answer_t *spf_cache_get(spf_cache_t *c, const char *name, uint16_t type)
{
	size_t len;
	uint32_t h;
	struct entry *e;

	if (c == NULL || name == NULL)
		return NULL;
	len = key_len(name);
	h = key_hash(name, len, type);
	e = *find_slot(c, name, len, type, h);
	if (e == NULL)
		return NULL;
	if (c->clock(c->clock_arg) >= e->expires) {
		entry_remove(c, e);
		return NULL;
	}
	if (lru_of(c, e)->newest != e) {
		lru_unlink(c, e);
		lru_push(c, e);
	}
	return spf_dns_answer_ref(e->ans);
}

bool spf_cache_put(spf_cache_t *c, spf_dns_answer_t *ans)
{
	spf_dns_status_t st;
	const char *name;
	uint32_t ttl, ceiling;
	size_t len, bytes;
	uint32_t h;
	struct entry **pp, *e;
	struct lru *pool;
	bool huge;

	if (c == NULL || ans == NULL)
		return false;
	st = spf_dns_answer_status(ans);
	if (st != SPF_DNS_OK && st != SPF_DNS_NODATA && st != SPF_DNS_NXDOMAIN)
		return false;
	ttl = spf_dns_answer_ttl(ans);
	ceiling = st == SPF_DNS_OK ? SPF_CACHE_TTL_CEILING : SPF_CACHE_NEG_TTL_CEILING;
	if (ttl > ceiling)
		ttl = ceiling;
#if SPF_CACHE_TTL_FLOOR > 0
	if (ttl < SPF_CACHE_TTL_FLOOR)
		ttl = SPF_CACHE_TTL_FLOOR;
#endif
	if (ttl == 0)
		return false;
	bytes = answer_bytes(ans);
	huge = spf_dns_answer_bytes(ans) > SPF_CACHE_HUGE_ANSWER;
	if (bytes > (huge ? c->huge_max_bytes : c->max_bytes))
		return false;
	pool = huge ? &c->huge : &c->small;

	name = spf_dns_answer_name(ans);
	len = key_len(name);
	h = key_hash(name, len, spf_dns_answer_type(ans));
	pp = find_slot(c, name, len, spf_dns_answer_type(ans), h);
	if (*pp != NULL)
		entry_remove(c, *pp);

	e = spf_calloc(1, sizeof *e);
	if (e == NULL)
		return false;
	e->name = key_dup(name, len);
	if (e->name == NULL) {
		spf_free(e);
		return false;
	}
	e->len = len;
	e->type = spf_dns_answer_type(ans);
	e->hash = h;
	e->ans = spf_dns_answer_ref(ans);
	e->expires = c->clock(c->clock_arg) + (uint64_t)ttl * 1000u;
	e->bytes = bytes;
	e->huge = huge;

	/* make room in the answer's own pool, least recently used first:
	 * a huge answer never pushes a small one out */
	if (huge) {
		while (c->huge.oldest != NULL && c->huge.bytes + bytes > c->huge_max_bytes) {
			entry_remove(c, c->huge.oldest);
			c->evictions++;
		}
	} else {
		while (c->small.oldest != NULL
		       && (c->small.count + 1 > c->max_entries ||
		           c->small.bytes + bytes > c->max_bytes)) {
			entry_remove(c, c->small.oldest);
			c->evictions++;
		}
	}
	if (c->count >= c->nbuckets)
		grow(c);
	pp = &c->buckets[h & (c->nbuckets - 1)];
	e->hnext = *pp;
	*pp = e;
	lru_push(c, e);
	pool->count++;
	pool->bytes += bytes;
	c->count++;
	c->bytes += bytes;
	return true;
}

size_t spf_cache_entries(const spf_cache_t *c)
{
	return c != NULL ? c->count : 0;
}

size_t spf_cache_bytes(const spf_cache_t *c)
{
	return c != NULL ? c->bytes : 0;
}

unsigned long spf_cache_evictions(const spf_cache_t *c)
{
	return c != NULL ? c->evictions : 0;
}

/* ---- flights ---- */

static struct flight **flight_slot(spf_cache_t *c, const char *name,
	uint16_t type)
{
	size_t len = key_len(name);
	uint32_t h = key_hash(name, len, type);
	struct flight **pp;

	for (pp = &c->flights[h % FLIGHT_BUCKETS]; *pp != NULL; pp = &(*pp)->hnext) {
		struct flight *f = *pp;

		if (f->hash == h && f->type == type && f->len == len
		    && key_eq(f->name, name, len))
			return pp;
	}
	return pp;
}

void *spf_cache_flight_get(spf_cache_t *c, const char *name, uint16_t type)
{
	struct flight *f;

	if (c == NULL || name == NULL)
		return NULL;
	f = *flight_slot(c, name, type);
	return f != NULL ? f->data : NULL;
}

spf_status_t spf_cache_flight_add(spf_cache_t *c, const char *name,
	uint16_t type, void *data)
{
	struct flight *f, **pp;

	if (c == NULL || name == NULL)
		return SPF_EINVAL;
	pp = flight_slot(c, name, type);
	if (*pp != NULL)
		return SPF_EINVAL;
	f = spf_calloc(1, sizeof *f);
	if (f == NULL)
		return SPF_ENOMEM;
	f->len = key_len(name);
	f->name = key_dup(name, f->len);
	if (f->name == NULL) {
		spf_free(f);
		return SPF_ENOMEM;
	}
	f->type = type;
	f->hash = key_hash(name, f->len, type);
	f->data = data;
	*pp = f;   /* pp is the empty tail slot of the right chain */
	return SPF_OK;
}

void spf_cache_flight_remove(spf_cache_t *c, const char *name, uint16_t type)
{
	struct flight **pp, *f;

	if (c == NULL || name == NULL)
		return;
	pp = flight_slot(c, name, type);
	f = *pp;
	if (f == NULL)
		return;
	*pp = f->hnext;
	spf_free(f->name);
	spf_free(f);
}
