/*
 * zone.c - the in-memory zone overlay: names, their records, lookups.
 *
 * DESCRIPTION
 *	A zone is a hash table of owner names (lower case, no trailing dot)
 *	to their records.  The records of one (name, type) are kept as an
 *	answer object (answer.c does all deep copying), so a lookup only
 *	copies records from one answer into a new one.
 *
 *	Names come from three places: spf_zone_add() and its TXT helpers
 *	(--record, the RFC 7208 suite runner, tests), spf_zone_set_timeout()
 *	(the suite's TIMEOUT entries) and RFC 1035 master files read with
 *	ldns (spf_zone_load_file()).  Adding "a.b.c" also enters "b.c" and
 *	"c" as empty non-terminals, so every name in the table exists.
 *	A file loaded into a zone that already has records is layered over
 *	them: for each name and type the file has, its records replace the
 *	zone's (a CNAME replaces every type of its name, and any record
 *	replaces a CNAME); the zone keeps every other name and type.  So
 *	the later of two --zone files wins, and a draft zone stacked over
 *	the published one gives one v=spf1 record, the draft's.
 *
 *	spf_zone_lookup(name, type) answers, in this order:
 *	  1. records of the type at the name: OK;
 *	  2. a CNAME at the name: follow it inside the zone, at most 10
 *	     hops, then answer for the final target; a longer chain or a
 *	     loop is TEMPFAIL "CNAME loop";
 *	  3. the timeout flag: TEMPFAIL "timeout" (so a TIMEOUT entry still
 *	     answers the types it has records for);
 *	  4. the name exists (other types, an empty non-terminal): NODATA;
 *	  5. no such name: the wildcard "*.<closest encloser>" (RFC 4592,
 *	     basic form: it matches one or more labels and is not used when
 *	     the name itself exists) answers in its place, steps 1-4;
 *	  6. NXDOMAIN.
 *	NODATA and NXDOMAIN carry a negative TTL: RFC 2308 §5's
 *	min(SOA TTL, SOA minimum) of the closest enclosing SOA loaded from a
 *	file, or 300 seconds when the zone has none.  TEMPFAIL has TTL 0.
 *
 *	A name "exists" for spf_zone_has_name() when a lookup would not be
 *	NXDOMAIN: the name has records or the timeout flag, is an empty
 *	non-terminal, or a wildcard covers it.
 *
 * DIAGNOSTICS
 *	Functions return SPF_ENOMEM (the zone keeps what was added before),
 *	SPF_EINVAL for bad arguments (a NULL name, a TXT string over 255
 *	bytes).  spf_zone_load_file() returns SPF_EIO when the file cannot
 *	be opened or read, SPF_ESYNTAX with "FILE:LINE: <ldns error>" when
 *	ldns cannot parse it (the whole file is parsed before anything is
 *	added, so a syntax error leaves the zone unchanged; records without
 *	a TTL take the last $TTL, or the last TTL written, or 3600), and SPF_ESYNTAX
 *	naming the record for a domain name spfcheck cannot represent (a
 *	label holding '.' or NUL).  Records of types other than A, AAAA, MX,
 *	PTR, CNAME, NS, TXT and SPF only make their owner exist; an SOA only
 *	sets the negative TTL.
 */
#include "spf_dns.h"
#include "dns_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ldns/ldns.h>

#define MAX_CNAME_HOPS 10        /* spf_dns.h: follow at most 10 CNAMEs */
#define DEFAULT_NEG_TTL 300      /* negative TTL without an SOA */
#define DEFAULT_TXT_TTL 3600     /* TTL of spf_zone_replace_txt() records */
#define ERRMSG_MAX 4096

struct node {
	struct node *next;          /* hash chain */
	char *name;                 /* lower case, no trailing dot */
	size_t len;
	uint32_t hash;
	spf_dns_answer_t **sets;    /* one answer (status OK) per type */
	size_t nsets;
	bool timeout;
	bool has_soa;
	uint32_t neg_ttl;           /* valid if has_soa */
};

struct spf_zone {
	struct node **buckets;
	size_t nbuckets;            /* a power of two */
	size_t count;
};

/* ---- names and the hash table ---- */

/* The length of name without one trailing dot. */
static size_t name_len(const char *name)
{
	size_t len = strlen(name);

	return (len > 0 && name[len - 1] == '.') ? len - 1 : len;
}

/* FNV-1a over the lower-cased prefix and name. */
static uint32_t hash_name(const char *prefix, const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (; *prefix != '\0'; prefix++)
		h = (h ^ (uint8_t)spf_lower(*prefix)) * 16777619u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)spf_lower(name[i])) * 16777619u;
	return h;
}

/* The node for prefix + name[0..len), compared ignoring ASCII case. */
static struct node *find_node(const spf_zone_t *zone, const char *prefix,
	const char *name, size_t len)
{
	size_t plen = strlen(prefix);
	uint32_t h = hash_name(prefix, name, len);
	struct node *n;

	for (n = zone->buckets[h & (zone->nbuckets - 1)]; n; n = n->next) {
		if (n->hash == h && n->len == plen + len
		    && spf_strncaseeq(n->name, prefix, plen)
		    && spf_strncaseeq(n->name + plen, name, len))
			return n;
	}
	return NULL;
}

static void grow_table(spf_zone_t *zone)
{
	size_t nb = zone->nbuckets * 2;
	struct node **nbuckets;

	if (nb > SIZE_MAX / sizeof *nbuckets)
		return;
	nbuckets = spf_calloc(nb, sizeof *nbuckets);
	if (nbuckets == NULL)
		return;   /* not fatal: chains just get longer */
	for (size_t i = 0; i < zone->nbuckets; i++) {
		struct node *n, *next;

		for (n = zone->buckets[i]; n; n = next) {
			next = n->next;
			n->next = nbuckets[n->hash & (nb - 1)];
			nbuckets[n->hash & (nb - 1)] = n;
		}
	}
	spf_free(zone->buckets);
	zone->buckets = nbuckets;
	zone->nbuckets = nb;
}

/* Find or insert the node for name[0..len) (name already without a
 * trailing dot); NULL on ENOMEM. */
static struct node *insert_one(spf_zone_t *zone, const char *name, size_t len)
{
	struct node *n = find_node(zone, "", name, len);

	if (n != NULL)
		return n;
	n = spf_calloc(1, sizeof *n);
	if (n == NULL)
		return NULL;
	n->name = spf_strndup(name, len);
	if (n->name == NULL) {
		spf_free(n);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		n->name[i] = spf_lower(n->name[i]);
	n->len = len;
	n->hash = hash_name("", name, len);
	if (zone->count >= zone->nbuckets)
		grow_table(zone);
	n->next = zone->buckets[n->hash & (zone->nbuckets - 1)];
	zone->buckets[n->hash & (zone->nbuckets - 1)] = n;
	zone->count++;
	return n;
}

/* Find or insert the node for name, and its ancestors as empty
 * non-terminals.  NULL on ENOMEM. */
static struct node *ensure_node(spf_zone_t *zone, const char *name)
{
	size_t len = name_len(name);

	/* ancestors first: "b.c" and "c" of "a.b.c" */
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.' && i + 1 < len
		    && insert_one(zone, name + i + 1, len - i - 1) == NULL)
			return NULL;
	}
	return insert_one(zone, name, len);
}

static spf_dns_answer_t *find_set(const struct node *n, uint16_t type)
{
	for (size_t i = 0; i < n->nsets; i++)
		if (spf_dns_answer_type(n->sets[i]) == type)
			return n->sets[i];
	return NULL;
}

/* Append a new empty set of type to n; NULL on ENOMEM. */
static spf_dns_answer_t *new_set(struct node *n, uint16_t type)
{
	spf_dns_answer_t **nsets, *set;

	nsets = spf_realloc(n->sets, (n->nsets + 1) * sizeof *nsets);
	if (nsets == NULL)
		return NULL;
	n->sets = nsets;
	set = spf_dns_answer_create(n->name, type, SPF_DNS_OK);
	if (set == NULL)
		return NULL;
	n->sets[n->nsets++] = set;
	return set;
}

static void drop_set(struct node *n, const spf_dns_answer_t *set)
{
	for (size_t i = 0; i < n->nsets; i++) {
		if (n->sets[i] == set) {
			spf_dns_answer_unref(n->sets[i]);
			n->sets[i] = n->sets[--n->nsets];
			return;
		}
	}
}

/* ---- create / destroy / add ---- */

spf_zone_t *spf_zone_create(void)
{
	spf_zone_t *zone = spf_calloc(1, sizeof *zone);

	if (zone == NULL)
		return NULL;
	zone->nbuckets = 64;
	zone->buckets = spf_calloc(zone->nbuckets, sizeof *zone->buckets);
	if (zone->buckets == NULL) {
		spf_free(zone);
		return NULL;
	}
	return zone;
}

void spf_zone_destroy(spf_zone_t *zone)
{
	if (zone == NULL)
		return;
	for (size_t i = 0; i < zone->nbuckets; i++) {
		struct node *n, *next;

		for (n = zone->buckets[i]; n; n = next) {
			next = n->next;
			for (size_t j = 0; j < n->nsets; j++)
				spf_dns_answer_unref(n->sets[j]);
			spf_free(n->sets);
			spf_free(n->name);
			spf_free(n);
		}
	}
	spf_free(zone->buckets);
	spf_free(zone);
}

spf_status_t spf_zone_add(spf_zone_t *zone, const char *name, const spf_dns_rr_t *rr)
{
	struct node *n;
	spf_dns_answer_t *set;
	bool fresh = false;
	spf_status_t st;

	if (zone == NULL || name == NULL || rr == NULL)
		return SPF_EINVAL;
	n = ensure_node(zone, name);
	if (n == NULL)
		return SPF_ENOMEM;
	if (rr->type == SPF_RR_SOA) {
		/* spf_dns_rr_t has no SOA fields: the record's TTL is taken
		 * as the negative TTL below this name. */
		n->has_soa = true;
		n->neg_ttl = rr->ttl;
		return SPF_OK;
	}
	set = find_set(n, rr->type);
	if (set != NULL && spf_dns_answer_shared(set)) {
		/* lookups hold the set (see spf_zone_lookup()): they keep
		 * theirs, the zone goes on with a copy */
		spf_dns_answer_t *copy = spf_dns_answer_create(n->name, rr->type,
			SPF_DNS_OK);

		st = copy != NULL ? SPF_OK : SPF_ENOMEM;
		for (size_t i = 0; st == SPF_OK && i < spf_dns_answer_count(set); i++)
			st = spf_dns_answer_add(copy, spf_dns_answer_rr(set, i));
		if (st != SPF_OK) {
			spf_dns_answer_unref(copy);
			return st;
		}
		for (size_t i = 0; i < n->nsets; i++)
			if (n->sets[i] == set)
				n->sets[i] = copy;
		spf_dns_answer_unref(set);
		set = copy;
	}
	if (set == NULL) {
		set = new_set(n, rr->type);
		if (set == NULL)
			return SPF_ENOMEM;
		fresh = true;
	}
	st = spf_dns_answer_add(set, rr);
	if (st != SPF_OK && fresh)
		drop_set(n, set);
	return st;
}

/* Fill rr with a TXT record joined from n strings; the caller frees
 * *datap and *lensp.  SPF_EINVAL for a string over 255 bytes. */
static spf_status_t make_txt(const uint8_t *const *strings, const size_t *lens,
	size_t n, uint32_t ttl, spf_dns_rr_t *rr, uint8_t **datap,
	uint16_t **lensp)
{
	size_t total = 0, off = 0;
	uint8_t *data;
	uint16_t *slens;

	for (size_t i = 0; i < n; i++) {
		if (lens[i] > 255 || (lens[i] > 0 && strings[i] == NULL))
			return SPF_EINVAL;
		total += lens[i];
	}
	data = spf_malloc(total + 1);
	slens = spf_calloc(n, sizeof *slens);
	if (data == NULL || slens == NULL) {
		spf_free(data);
		spf_free(slens);
		return SPF_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (lens[i] > 0)
			memcpy(data + off, strings[i], lens[i]);
		off += lens[i];
		slens[i] = (uint16_t)lens[i];
	}
	data[total] = '\0';
	memset(rr, 0, sizeof *rr);
	rr->type = SPF_RR_TXT;
	rr->ttl = ttl;
	rr->u.txt.data = data;
	rr->u.txt.len = total;
	rr->u.txt.nstrings = n;
	rr->u.txt.lens = slens;
	*datap = data;
	*lensp = slens;
	return SPF_OK;
}

spf_status_t spf_zone_add_txt(spf_zone_t *zone, const char *name,
	const uint8_t *const *strings, const size_t *lens, size_t n, uint32_t ttl)
{
	spf_dns_rr_t rr;
	uint8_t *data;
	uint16_t *slens;
	spf_status_t st;

	if (zone == NULL || name == NULL || (n > 0 && (strings == NULL || lens == NULL)))
		return SPF_EINVAL;
	st = make_txt(strings, lens, n, ttl, &rr, &data, &slens);
	if (st != SPF_OK)
		return st;
	st = spf_zone_add(zone, name, &rr);
	spf_free(data);
	spf_free(slens);
	return st;
}

spf_status_t spf_zone_replace_txt(spf_zone_t *zone, const char *name,
	const char *text, size_t len)
{
	size_t n = len == 0 ? 1 : (len + 254) / 255;
	const uint8_t **strings;
	size_t *lens;
	spf_dns_rr_t rr;
	uint8_t *data = NULL;
	uint16_t *slens = NULL;
	spf_dns_answer_t *old, *set = NULL;
	struct node *node;
	uint32_t ttl = DEFAULT_TXT_TTL;
	spf_status_t st;

	if (zone == NULL || name == NULL || (len > 0 && text == NULL))
		return SPF_EINVAL;
	node = ensure_node(zone, name);
	if (node == NULL)
		return SPF_ENOMEM;
	old = find_set(node, SPF_RR_TXT);
	if (old != NULL && spf_dns_answer_count(old) > 0)
		ttl = spf_dns_answer_rr(old, 0)->ttl;

	strings = spf_calloc(n, sizeof *strings);
	lens = spf_calloc(n, sizeof *lens);
	if (strings == NULL || lens == NULL) {
		st = SPF_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		size_t off = i * 255;

		strings[i] = (const uint8_t *)text + off;
		lens[i] = len - off > 255 ? 255 : len - off;
	}
	if (len == 0)
		lens[0] = 0;
	st = make_txt(strings, lens, n, ttl, &rr, &data, &slens);
	if (st != SPF_OK)
		goto done;

	/* Build the new set completely before dropping the old one. */
	set = spf_dns_answer_create(node->name, SPF_RR_TXT, SPF_DNS_OK);
	if (set == NULL) {
		st = SPF_ENOMEM;
		goto done;
	}
	st = spf_dns_answer_add(set, &rr);
	if (st != SPF_OK)
		goto done;
	if (old != NULL) {
		for (size_t i = 0; i < node->nsets; i++)
			if (node->sets[i] == old)
				node->sets[i] = set;
		spf_dns_answer_unref(old);
	} else {
		spf_dns_answer_t **nsets = spf_realloc(node->sets,
			(node->nsets + 1) * sizeof *nsets);

		if (nsets == NULL) {
			st = SPF_ENOMEM;
			goto done;
		}
		node->sets = nsets;
		node->sets[node->nsets++] = set;
	}
	set = NULL;
done:
	spf_dns_answer_unref(set);
	spf_free(data);
	spf_free(slens);
	spf_free(strings);
	spf_free(lens);
	return st;
}

spf_status_t spf_zone_set_timeout(spf_zone_t *zone, const char *name)
{
	struct node *n;

	if (zone == NULL || name == NULL)
		return SPF_EINVAL;
	n = ensure_node(zone, name);
	if (n == NULL)
		return SPF_ENOMEM;
	n->timeout = true;
	return SPF_OK;
}

/* ---- lookups ---- */

/*
 * The node that answers for name[0..len): the name itself, or when it
 * does not exist the wildcard at its closest encloser (RFC 4592 §3.3.1).
 */
static const struct node *resolve(const spf_zone_t *zone, const char *name,
	size_t len)
{
	const struct node *n = find_node(zone, "", name, len);

	if (n != NULL)
		return n;
	for (size_t i = 0; i < len; i++) {
		if (name[i] != '.')
			continue;
		if (find_node(zone, "", name + i + 1, len - i - 1) != NULL)
			return find_node(zone, "*.", name + i + 1, len - i - 1);
	}
	/* no ancestor exists: the closest encloser is the root */
	return find_node(zone, "*", "", 0);
}

bool spf_zone_has_name(const spf_zone_t *zone, const char *name)
{
	if (zone == NULL || name == NULL || zone->count == 0)
		return false;   /* the common case without --zone: no work */
	return resolve(zone, name, name_len(name)) != NULL;
}

/* RFC 2308 §5: the negative TTL of the closest enclosing SOA. */
static uint32_t negative_ttl(const spf_zone_t *zone, const char *name, size_t len)
{
	const struct node *n = find_node(zone, "", name, len);

	if (n != NULL && n->has_soa)
		return n->neg_ttl;
	for (size_t i = 0; i < len; i++) {
		if (name[i] != '.')
			continue;
		n = find_node(zone, "", name + i + 1, len - i - 1);
		if (n != NULL && n->has_soa)
			return n->neg_ttl;
	}
	return DEFAULT_NEG_TTL;
}

/* Does the query name q (any case, maybe a trailing dot) name the
 * normalised name n? */
static bool same_name(const char *q, const char *n)
{
	size_t len = strlen(q);

	if (len > 0 && q[len - 1] == '.')
		len--;
	return strlen(n) == len && spf_strncaseeq(q, n, len);
}

spf_dns_answer_t *spf_zone_lookup(const spf_zone_t *zone, const char *name,
	uint16_t type)
{
	const char *chain[MAX_CNAME_HOPS + 1];
	size_t hops = 0;
	uint32_t chain_ttl = UINT32_MAX;
	const char *cur = name;
	size_t curlen;
	const struct node *n;
	const spf_dns_answer_t *set = NULL;
	spf_dns_status_t status;
	const char *detail = NULL;
	spf_dns_answer_t *ans;
	uint32_t ttl;

	if (zone == NULL || name == NULL)
		return NULL;
	curlen = name_len(cur);
	for (;;) {
		const spf_dns_answer_t *cname;

		n = resolve(zone, cur, curlen);
		if (n == NULL) {
			status = SPF_DNS_NXDOMAIN;
			break;
		}
		set = find_set(n, type);
		if (set != NULL && spf_dns_answer_count(set) > 0) {
			status = SPF_DNS_OK;
			break;
		}
		set = NULL;
		cname = find_set(n, SPF_RR_CNAME);
		if (cname != NULL && spf_dns_answer_count(cname) > 0) {
			const spf_dns_rr_t *rr = spf_dns_answer_rr(cname, 0);

			if (hops == MAX_CNAME_HOPS) {
				status = SPF_DNS_TEMPFAIL;
				detail = "CNAME loop";
				break;
			}
			chain[hops++] = rr->u.name;
			if (rr->ttl < chain_ttl)
				chain_ttl = rr->ttl;
			cur = rr->u.name;
			curlen = strlen(cur);
			continue;
		}
		if (n->timeout) {
			status = SPF_DNS_TEMPFAIL;
			detail = "timeout";
			break;
		}
		status = SPF_DNS_NODATA;
		break;
	}

	if (status == SPF_DNS_OK && hops == 0 && same_name(name, spf_dns_answer_name(set)))
		/* the set itself, shared: what an evaluator derives from it
		 * (the parsed record, eval.c's memo) is then made once, not
		 * once per lookup; spf_zone_add() copies a set that is held */
		return spf_dns_answer_ref((spf_dns_answer_t *)set);
	ans = spf_dns_answer_create(name, type, status);
	if (ans == NULL)
		return NULL;
	if (detail != NULL && spf_dns_answer_set_detail(ans, detail) != SPF_OK)
		goto fail;
	for (size_t i = 0; i < hops; i++)
		if (spf_dns_answer_add_cname(ans, chain[i]) != SPF_OK)
			goto fail;
	switch (status) {
	case SPF_DNS_OK:
		for (size_t i = 0; i < spf_dns_answer_count(set); i++)
			if (spf_dns_answer_add(ans, spf_dns_answer_rr(set, i)) != SPF_OK)
				goto fail;
		if (hops > 0) {
			ttl = spf_dns_answer_ttl(ans);
			spf_dns_answer_set_ttl(ans, ttl < chain_ttl ? ttl : chain_ttl);
		}
		break;
	case SPF_DNS_NODATA:
	case SPF_DNS_NXDOMAIN:
		ttl = negative_ttl(zone, cur, curlen);
		spf_dns_answer_set_ttl(ans, ttl < chain_ttl ? ttl : chain_ttl);
		break;
	default:
		spf_dns_answer_set_ttl(ans, 0);
		break;
	}
	return ans;
fail:
	spf_dns_answer_unref(ans);
	return NULL;
}

/* ---- master files (ldns) ---- */

/* Add one parsed RR to the zone. */
static spf_status_t add_ldns_rr(spf_zone_t *zone, const ldns_rr *lrr)
{
	char *owner = NULL;
	spf_rr_buf_t b;
	spf_status_t st;

	st = spf_rr_dname_text(ldns_rr_owner(lrr), SPF_RR_NAME_PLAIN, &owner);
	if (st != SPF_OK)
		return st;
	if (!spf_rr_reads_type((uint16_t)ldns_rr_get_type(lrr))) {
		/* not kept; the owner name still exists (NODATA, not
		 * NXDOMAIN, for the types spfcheck asks) */
		st = ensure_node(zone, owner) != NULL ? SPF_OK : SPF_ENOMEM;
		spf_free(owner);
		return st;
	}
	st = spf_rr_from_ldns(lrr, SPF_RR_NAME_PLAIN, &b);
	if (st == SPF_OK) {
		st = spf_zone_add(zone, owner, &b.rr);
		spf_rr_finish(&b);
	}
	spf_free(owner);
	return st;
}

/*
 * Make room for lrr: the zone's records of its owner and type go, and
 * so does a CNAME there, or, for a CNAME, every set of the owner (a
 * CNAME stands alone, RFC 1034 §3.6.2).  What a later file has for a
 * name and type replaces what the zone had.
 */
static spf_status_t clear_for_ldns_rr(spf_zone_t *zone, const ldns_rr *lrr)
{
	uint16_t type = (uint16_t)ldns_rr_get_type(lrr);
	char *owner = NULL;
	struct node *n;
	spf_status_t st;

	if (type == SPF_RR_SOA || !spf_rr_reads_type(type))
		return SPF_OK;
	st = spf_rr_dname_text(ldns_rr_owner(lrr), SPF_RR_NAME_PLAIN, &owner);
	if (st != SPF_OK)
		return st;
	n = find_node(zone, "", owner, name_len(owner));
	spf_free(owner);
	if (n == NULL)
		return SPF_OK;
	for (size_t i = n->nsets; i-- > 0;) {
		uint16_t t = spf_dns_answer_type(n->sets[i]);

		if (type == SPF_RR_CNAME || t == type || t == SPF_RR_CNAME)
			drop_set(n, n->sets[i]);
	}
	return SPF_OK;
}

/* RFC 2308 §5: negative answers live min(SOA TTL, SOA MINIMUM). */
static spf_status_t add_ldns_soa(spf_zone_t *zone, const ldns_rr *soa)
{
	spf_dns_rr_t rr;
	char *owner;
	uint32_t ttl = ldns_rr_ttl(soa);
	spf_status_t st;

	if (ldns_rr_rd_count(soa) >= 7
	    && ldns_rdf_size(ldns_rr_rdf(soa, 6)) == 4) {
		uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));

		if (minimum < ttl)
			ttl = minimum;
	}
	st = spf_rr_dname_text(ldns_rr_owner(soa), SPF_RR_NAME_PLAIN, &owner);
	if (st != SPF_OK)
		return st;
	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_SOA;
	rr.ttl = ttl;
	st = spf_zone_add(zone, owner, &rr);
	spf_free(owner);
	return st;
}

static void set_errmsg(char **errmsg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_errmsg(char **errmsg, const char *fmt, ...)
{
	spf_buf_t buf;
	va_list ap;

	if (errmsg == NULL)
		return;
	spf_buf_init(&buf, ERRMSG_MAX);
	va_start(ap, fmt);
	spf_buf_vprintf(&buf, fmt, ap);
	va_end(ap);
	if (buf.err != SPF_OK) {
		spf_buf_finish(&buf);
		return;
	}
	*errmsg = buf.data;
}

/* An absolute dname for the origin argument, or NULL. */
static ldns_rdf *origin_rdf(const char *origin)
{
	size_t len = strlen(origin);
	spf_buf_t buf;
	ldns_rdf *rdf = NULL;

	spf_buf_init(&buf, 1024);
	spf_buf_puts(&buf, origin);
	if (len == 0 || origin[len - 1] != '.')
		spf_buf_putc(&buf, '.');
	if (buf.err == SPF_OK)
		rdf = ldns_dname_new_frm_str(buf.data);
	spf_buf_finish(&buf);
	return rdf;
}

/*
 * Parse a master file record by record with ldns_rr_new_frm_fp_l(),
 * keeping every record in *out, and stop at the first error with *line
 * at that line.  ldns_zone_new_frm_fp_l() is not used: ldns 1.8 reads a
 * freed record after a second SOA (found by fuzz_zone), and leaks the
 * records read so far when a later line fails.  As that reader does, the
 * first SOA's owner becomes the origin when none was given; a record
 * without a TTL takes the last $TTL (RFC 2308 §4) or, before any, the
 * last TTL written (RFC 1035 §5.1).
 */
static ldns_status read_records(FILE *fp, const ldns_rdf *origin, int *line,
	ldns_rr_list *out, const char **why)
{
	ldns_rdf *my_origin = NULL, *prev = NULL;
	uint32_t ttl = LDNS_DEFAULT_TTL;
	bool dollar_ttl = false;
	ldns_status ls = LDNS_STATUS_OK;

	if (origin != NULL) {
		my_origin = ldns_rdf_clone(origin);
		prev = ldns_rdf_clone(origin);
		if (my_origin == NULL || prev == NULL) {
			ls = LDNS_STATUS_MEM_ERR;
			goto done;
		}
	}
	while (!feof(fp)) {
		ldns_rr *rr = NULL;

		ls = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &my_origin, &prev, line);
		if (ls == LDNS_STATUS_OK) {
			if (ldns_rr_owner(rr) == NULL) {
				ldns_rr_free(rr);
				*why = "a record without an owner name (a line that "
					"starts with a blank needs a named record before it)";
				ls = LDNS_STATUS_SYNTAX_ERR;
				break;
			}
			/* without $TTL an omitted TTL is the last one stated
			 * (RFC 1035 §5.1): a TTL other than the default was
			 * written on this line */
			if (!dollar_ttl)
				ttl = ldns_rr_ttl(rr);
			if (my_origin == NULL && ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
				my_origin = ldns_rdf_clone(ldns_rr_owner(rr));
				if (my_origin == NULL) {
					ldns_rr_free(rr);
					ls = LDNS_STATUS_MEM_ERR;
					break;
				}
			}
			if (!ldns_rr_list_push_rr(out, rr)) {
				ldns_rr_free(rr);
				ls = LDNS_STATUS_MEM_ERR;
				break;
			}
		} else if (ls == LDNS_STATUS_SYNTAX_TTL) {
			dollar_ttl = true;
		} else if (ls == LDNS_STATUS_SYNTAX_INCLUDE) {
			ls = LDNS_STATUS_SYNTAX_INCLUDE_ERR_NOTIMPL;
			break;
		} else if (ls != LDNS_STATUS_SYNTAX_EMPTY
			   && ls != LDNS_STATUS_SYNTAX_TTL
			   && ls != LDNS_STATUS_SYNTAX_ORIGIN) {
			break;
		}
		ls = LDNS_STATUS_OK;
	}
done:
	if (my_origin != NULL)
		ldns_rdf_deep_free(my_origin);
	if (prev != NULL)
		ldns_rdf_deep_free(prev);
	return ls;
}

/* Load from an open stream; path names it in messages.  Closes fp. */
static spf_status_t load_stream(spf_zone_t *zone, FILE *fp, const char *path,
	const char *origin, char **errmsg)
{
	ldns_rr_list *rrs = NULL;
	ldns_rdf *orig = NULL;
	ldns_status ls;
	const ldns_rr *bad = NULL;
	int line = 0;   /* ldns counts the newlines it has consumed */
	const char *why = NULL;
	spf_status_t st = SPF_OK;

	if (origin != NULL) {
		orig = origin_rdf(origin);
		if (orig == NULL) {
			set_errmsg(errmsg, "%s: invalid origin '%s'", path, origin);
			st = SPF_EINVAL;
			goto done;
		}
	}
	rrs = ldns_rr_list_new();
	if (rrs == NULL) {
		st = SPF_ENOMEM;
		set_errmsg(errmsg, "%s: %s", path, spf_strerror(st));
		goto done;
	}
	ls = read_records(fp, orig, &line, rrs, &why);
	if (ferror(fp)) {
		set_errmsg(errmsg, "%s: read error", path);
		st = SPF_EIO;
		goto done;
	}
	if (ls != LDNS_STATUS_OK) {
		/* ldns read the bad line up to and including its newline;
		 * a last line without one was not counted */
		if (feof(fp) && fseek(fp, -1, SEEK_END) == 0 && fgetc(fp) != '\n')
			line++;
		set_errmsg(errmsg, "%s:%d: %s", path, line,
			why != NULL ? why : ldns_get_errorstr_by_id(ls));
		st = ls == LDNS_STATUS_MEM_ERR ? SPF_ENOMEM : SPF_ESYNTAX;
		goto done;
	}

	/* The whole file parsed: the sets it has replace the zone's (all
	 * cleared before any is added, so the file's own records of one
	 * set all stay), then copy what spfcheck keeps. */
	for (size_t i = 0; st == SPF_OK && i < ldns_rr_list_rr_count(rrs); i++) {
		bad = ldns_rr_list_rr(rrs, i);
		st = clear_for_ldns_rr(zone, bad);
	}
	for (size_t i = 0; st == SPF_OK && i < ldns_rr_list_rr_count(rrs); i++) {
		bad = ldns_rr_list_rr(rrs, i);
		st = ldns_rr_get_type(bad) == LDNS_RR_TYPE_SOA ?
			add_ldns_soa(zone, bad) : add_ldns_rr(zone, bad);
	}
	if (st == SPF_ENOMEM) {
		set_errmsg(errmsg, "%s: %s", path, spf_strerror(st));
	} else if (st != SPF_OK) {
		char *text = ldns_rr2str(bad);

		set_errmsg(errmsg, "%s: unsupported domain name in record: %s",
			path, text != NULL ? text : "?");
		free(text);   /* ldns allocates with malloc */
	}
done:
	if (rrs != NULL)
		ldns_rr_list_deep_free(rrs);
	if (orig != NULL)
		ldns_rdf_deep_free(orig);
	fclose(fp);
	return st;
}

/* A syntax error's line number looks back at the file's last byte
 * (load_stream); a pipe or a terminal cannot seek. */
static bool is_seekable(FILE *fp)
{
	struct stat sb;

	return fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode);
}

#define ZONE_STREAM_MAX (64u << 20)   /* bytes read from a pipe at most */

/* A pipe (--zone <(...)) is read into memory first.  Closes fp. */
static spf_status_t load_unseekable(spf_zone_t *zone, FILE *fp, const char *path,
	const char *origin, char **errmsg)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	spf_status_t st;

	for (;;) {
		size_t got;

		if (len == cap) {
			char *bigger;

			if (cap >= ZONE_STREAM_MAX) {
				set_errmsg(errmsg, "%s: more than %u MiB of zone data",
					path, ZONE_STREAM_MAX >> 20);
				free(text);
				fclose(fp);
				return SPF_ETOOBIG;
			}
			cap = cap ? cap * 2 : 65536;
			bigger = realloc(text, cap);
			if (bigger == NULL) {
				free(text);
				fclose(fp);
				set_errmsg(errmsg, "%s: %s", path, spf_strerror(SPF_ENOMEM));
				return SPF_ENOMEM;
			}
			text = bigger;
		}
		got = fread(text + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		set_errmsg(errmsg, "%s: read error", path);
		free(text);
		fclose(fp);
		return SPF_EIO;
	}
	fclose(fp);
	st = spf_zone_load_mem(zone, text, len, path, origin, errmsg);
	free(text);
	return st;
}

spf_status_t spf_zone_load_file(spf_zone_t *zone, const char *path,
	const char *origin, char **errmsg)
{
	FILE *fp;

	if (errmsg != NULL)
		*errmsg = NULL;
	if (zone == NULL || path == NULL)
		return SPF_EINVAL;
	fp = fopen(path, "r");
	if (fp == NULL) {
		set_errmsg(errmsg, "%s: %s", path, strerror(errno));
		return SPF_EIO;
	}
	if (!is_seekable(fp))
		return load_unseekable(zone, fp, path, origin, errmsg);
	return load_stream(zone, fp, path, origin, errmsg);
}

spf_status_t spf_zone_load_mem(spf_zone_t *zone, const char *text, size_t len,
	const char *label, const char *origin, char **errmsg)
{
	FILE *fp;

	if (errmsg != NULL)
		*errmsg = NULL;
	if (zone == NULL || text == NULL)
		return SPF_EINVAL;
	if (len == 0)
		return SPF_OK;   /* fmemopen() refuses an empty buffer */
	fp = fmemopen((void *)text, len, "r");
	if (fp == NULL) {
		set_errmsg(errmsg, "%s: %s", label ? label : "zone text", strerror(errno));
		return SPF_ENOMEM;
	}
	return load_stream(zone, fp, label ? label : "zone text", origin, errmsg);
}
