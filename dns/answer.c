/*
 * answer.c - DNS answer objects: building, reference counting, accessors.
 *
 * DESCRIPTION
 *	An answer is what the DNS layer hands to the evaluator for one
 *	(name, type) query: a status, the records of the asked type, a TTL,
 *	an optional detail text (why a TEMPFAIL or BADREPLY happened) and the
 *	CNAME chain that was followed to get there.
 *
 *	Whoever produces an answer (the zone overlay, the wire parser, a
 *	test) builds it with spf_dns_answer_create() and the add/set calls;
 *	once it is delivered it is never modified again and is shared by
 *	reference count (spf_dns_answer_ref/unref).
 *
 *	The answer owns a deep copy of everything it holds.  Domain names
 *	(the query name, MX exchanges, PTR/CNAME/NS targets, the CNAME chain)
 *	are stored in lower case without a trailing dot.  TXT and SPF data
 *	keep the per-string lengths and are joined into one buffer with a
 *	NUL byte after data[len]; the data itself may contain NUL bytes and
 *	any other octet (RFC 7208 §3.3 joins the strings with no separator).
 *
 *	The TTL of an answer is the smallest TTL of its records unless
 *	spf_dns_answer_set_ttl() set one explicitly (negative answers, CNAME
 *	chains); with neither it is 0.
 *
 * DIAGNOSTICS
 *	create returns NULL and the add/set calls return SPF_ENOMEM when an
 *	allocation fails; the answer is then unchanged.  spf_dns_answer_add
 *	returns SPF_EINVAL for a record whose type is not the answer's type,
 *	a missing name, or TXT lengths that do not add up (more than 255
 *	bytes in one string, or a total different from txt.len).
 *	spf_rrtype_str() uses a static buffer for unknown types.
 */
#include "spf_dns.h"
#include "dns_internal.h"

#include <stdio.h>
#include <string.h>

/* A cap on the CNAME chain text: far above 11 names of 255 bytes. */
#define CNAMES_MAX 65536

struct spf_dns_answer {
	unsigned long refs;
	char *name;                 /* normalized query name */
	uint16_t type;
	spf_dns_status_t status;
	spf_dns_rr_t *rrs;
	size_t count;
	size_t cap;
	uint32_t ttl;               /* explicit TTL, valid if ttl_set */
	bool ttl_set;
	char *detail;
	char *cnames;               /* "a -> b -> c" or NULL */
	void *memo;                 /* a user's derived data (see spf.h) */
	void (*memo_free)(void *);
	size_t bytes;               /* spf_dns_answer_bytes(), kept up to
	                             * date by every function that changes
	                             * the answer */
};

const char *spf_dns_status_str(spf_dns_status_t st)
{
	switch (st) {
	case SPF_DNS_OK: return "OK";
	case SPF_DNS_NODATA: return "NODATA";
	case SPF_DNS_NXDOMAIN: return "NXDOMAIN";
	case SPF_DNS_TEMPFAIL: return "TEMPFAIL";
	case SPF_DNS_BADREPLY: return "BADREPLY";
	}
	return "UNKNOWN";
}

char *spf_dns_status_text(spf_arena_t *arena, spf_dns_status_t st,
	const char *detail)
{
	if (detail == NULL)
		return spf_arena_strdup(arena, spf_dns_status_str(st));
	return spf_arena_printf(arena, "%s (%s)", spf_dns_status_str(st), detail);
}

const char *spf_rrtype_str(uint16_t type)
{
	static char unknown[sizeof "TYPE65535"];

	switch (type) {
	case SPF_RR_A: return "A";
	case SPF_RR_NS: return "NS";
	case SPF_RR_CNAME: return "CNAME";
	case SPF_RR_SOA: return "SOA";
	case SPF_RR_PTR: return "PTR";
	case SPF_RR_MX: return "MX";
	case SPF_RR_TXT: return "TXT";
	case SPF_RR_AAAA: return "AAAA";
	case SPF_RR_SPF: return "SPF";
	default: break;
	}
	snprintf(unknown, sizeof unknown, "TYPE%u", (unsigned)type);
	return unknown;
}

/* A lower-case copy of name without one trailing dot, or NULL. */
static char *name_dup(const char *name)
{
	size_t len = strlen(name);
	char *copy;

	if (len > 0 && name[len - 1] == '.')
		len--;
	copy = spf_strndup(name, len);
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		copy[i] = spf_lower(copy[i]);
	return copy;
}

/* Does type carry a domain name in u.name? */
static bool type_has_name(uint16_t type)
{
	return type == SPF_RR_PTR || type == SPF_RR_CNAME || type == SPF_RR_NS;
}

static bool type_is_txt(uint16_t type)
{
	return type == SPF_RR_TXT || type == SPF_RR_SPF;
}

/* Free what rr owns (not rr itself). */
static void rr_finish(spf_dns_rr_t *rr)
{
	if (rr->type == SPF_RR_MX) {
		spf_free((char *)rr->u.mx.exchange);
	} else if (type_has_name(rr->type)) {
		spf_free((char *)rr->u.name);
	} else if (type_is_txt(rr->type)) {
		spf_free((uint8_t *)rr->u.txt.data);
		spf_free((uint16_t *)rr->u.txt.lens);
	}
}

static spf_status_t txt_check(const spf_dns_rr_t *rr)
{
	size_t total = 0;

	if (rr->u.txt.nstrings > 0 && rr->u.txt.lens == NULL)
		return SPF_EINVAL;
	if (rr->u.txt.len > 0 && rr->u.txt.data == NULL)
		return SPF_EINVAL;
	for (size_t i = 0; i < rr->u.txt.nstrings; i++) {
		if (rr->u.txt.lens[i] > 255)
			return SPF_EINVAL;
		total += rr->u.txt.lens[i];
	}
	return total == rr->u.txt.len ? SPF_OK : SPF_EINVAL;
}

/* Deep-copy src into dst (dst is zeroed storage). */
static spf_status_t rr_copy(spf_dns_rr_t *dst, const spf_dns_rr_t *src)
{
	dst->type = src->type;
	dst->ttl = src->ttl;

	switch (src->type) {
	case SPF_RR_A:
		memcpy(dst->u.a, src->u.a, sizeof dst->u.a);
		return SPF_OK;
	case SPF_RR_AAAA:
		memcpy(dst->u.aaaa, src->u.aaaa, sizeof dst->u.aaaa);
		return SPF_OK;
	case SPF_RR_MX: {
		char *exchange;

		if (src->u.mx.exchange == NULL)
			return SPF_EINVAL;
		exchange = name_dup(src->u.mx.exchange);
		if (exchange == NULL)
			return SPF_ENOMEM;
		dst->u.mx.preference = src->u.mx.preference;
		dst->u.mx.exchange = exchange;
		return SPF_OK;
	}
	default:
		break;
	}

	if (type_has_name(src->type)) {
		char *target;

		if (src->u.name == NULL)
			return SPF_EINVAL;
		target = name_dup(src->u.name);
		if (target == NULL)
			return SPF_ENOMEM;
		dst->u.name = target;
		return SPF_OK;
	}

	if (type_is_txt(src->type)) {
		spf_status_t st = txt_check(src);
		uint8_t *data;
		uint16_t *lens = NULL;

		if (st != SPF_OK)
			return st;
		data = spf_malloc(src->u.txt.len + 1);
		if (data == NULL)
			return SPF_ENOMEM;
		if (src->u.txt.nstrings > 0) {
			lens = spf_calloc(src->u.txt.nstrings, sizeof *lens);
			if (lens == NULL) {
				spf_free(data);
				return SPF_ENOMEM;
			}
			memcpy(lens, src->u.txt.lens,
				src->u.txt.nstrings * sizeof *lens);
		}
		if (src->u.txt.len > 0)
			memcpy(data, src->u.txt.data, src->u.txt.len);
		data[src->u.txt.len] = '\0';
		dst->u.txt.data = data;
		dst->u.txt.len = src->u.txt.len;
		dst->u.txt.nstrings = src->u.txt.nstrings;
		dst->u.txt.lens = lens;
		return SPF_OK;
	}

	/* Other types (SOA, ...) carry no data spfcheck looks at. */
	return SPF_OK;
}

static size_t str_bytes(const char *s)
{
	return s != NULL ? spf_heap_bytes(strlen(s) + 1) : 0;
}

/* What one copied record holds on the heap beside the array. */
static size_t rr_bytes(const spf_dns_rr_t *rr)
{
	switch (rr->type) {
	case SPF_RR_MX:
		return str_bytes(rr->u.mx.exchange);
	case SPF_RR_PTR:
	case SPF_RR_CNAME:
	case SPF_RR_NS:
		return str_bytes(rr->u.name);
	case SPF_RR_TXT:
	case SPF_RR_SPF:
		return spf_heap_bytes(rr->u.txt.len + 1) +
			spf_heap_bytes(rr->u.txt.nstrings * sizeof(uint16_t));
	default:
		return 0;
	}
}

spf_dns_answer_t *spf_dns_answer_create(const char *name, uint16_t type,
	spf_dns_status_t status)
{
	spf_dns_answer_t *ans;

	if (name == NULL)
		return NULL;
	ans = spf_calloc(1, sizeof *ans);
	if (ans == NULL)
		return NULL;
	ans->name = name_dup(name);
	if (ans->name == NULL) {
		spf_free(ans);
		return NULL;
	}
	ans->refs = 1;
	ans->type = type;
	ans->status = status;
	ans->bytes = spf_heap_bytes(sizeof(*ans)) + str_bytes(ans->name);
	return ans;
}

spf_status_t spf_dns_answer_add(spf_dns_answer_t *ans, const spf_dns_rr_t *rr)
{
	spf_status_t st;

	if (ans == NULL || rr == NULL || rr->type != ans->type)
		return SPF_EINVAL;
	if (ans->count == ans->cap) {
		size_t ncap = ans->cap ? ans->cap * 2 : 4;
		spf_dns_rr_t *nrrs;

		if (ncap > SIZE_MAX / sizeof *nrrs)
			return SPF_ENOMEM;
		nrrs = spf_realloc(ans->rrs, ncap * sizeof *nrrs);
		if (nrrs == NULL)
			return SPF_ENOMEM;
		ans->bytes += spf_heap_bytes(ncap * sizeof *nrrs) -
			(ans->cap > 0 ? spf_heap_bytes(ans->cap * sizeof *nrrs) : 0);
		ans->rrs = nrrs;
		ans->cap = ncap;
	}
	memset(&ans->rrs[ans->count], 0, sizeof ans->rrs[ans->count]);
	st = rr_copy(&ans->rrs[ans->count], rr);
	if (st != SPF_OK)
		return st;
	ans->bytes += rr_bytes(&ans->rrs[ans->count]);
	ans->count++;
	return SPF_OK;
}

spf_status_t spf_dns_answer_set_detail(spf_dns_answer_t *ans, const char *text)
{
	char *copy = NULL;

	if (ans == NULL)
		return SPF_EINVAL;
	if (text != NULL) {
		copy = spf_strdup(text);
		if (copy == NULL)
			return SPF_ENOMEM;
	}
	ans->bytes -= str_bytes(ans->detail);
	ans->bytes += str_bytes(copy);
	spf_free(ans->detail);
	ans->detail = copy;
	return SPF_OK;
}

spf_status_t spf_dns_answer_add_cname(spf_dns_answer_t *ans, const char *target)
{
	spf_buf_t buf;
	char *norm;
	spf_status_t st;

	if (ans == NULL || target == NULL)
		return SPF_EINVAL;
	norm = name_dup(target);
	if (norm == NULL)
		return SPF_ENOMEM;
	spf_buf_init(&buf, CNAMES_MAX);
	spf_buf_puts(&buf, ans->cnames != NULL ? ans->cnames : ans->name);
	spf_buf_puts(&buf, " -> ");
	st = spf_buf_puts(&buf, norm);
	spf_free(norm);
	if (st != SPF_OK) {
		spf_buf_finish(&buf);
		return st == SPF_ETOOBIG ? SPF_ENOMEM : st;
	}
	ans->bytes -= str_bytes(ans->cnames);
	ans->bytes += str_bytes(buf.data);
	spf_free(ans->cnames);
	ans->cnames = buf.data;   /* ownership moves out of buf */
	return SPF_OK;
}

void spf_dns_answer_set_ttl(spf_dns_answer_t *ans, uint32_t ttl)
{
	if (ans == NULL)
		return;
	ans->ttl = ttl;
	ans->ttl_set = true;
}

size_t spf_dns_answer_bytes(const spf_dns_answer_t *ans)
{
	return ans != NULL ? ans->bytes : 0;
}

spf_dns_answer_t *spf_dns_answer_ref(spf_dns_answer_t *ans)
{
	if (ans != NULL)
		ans->refs++;
	return ans;
}

void spf_dns_answer_unref(spf_dns_answer_t *ans)
{
	if (ans == NULL || --ans->refs > 0)
		return;
	if (ans->memo_free != NULL)
		ans->memo_free(ans->memo);
	for (size_t i = 0; i < ans->count; i++)
		rr_finish(&ans->rrs[i]);
	spf_free(ans->rrs);
	spf_free(ans->name);
	spf_free(ans->detail);
	spf_free(ans->cnames);
	spf_free(ans);
}

bool spf_dns_answer_shared(const spf_dns_answer_t *ans)
{
	return ans != NULL && ans->refs > 1;
}

void *spf_dns_answer_memo(const spf_dns_answer_t *ans)
{
	return ans->memo;
}

bool spf_dns_answer_set_memo(const spf_dns_answer_t *ans, void *memo,
	void (*memo_free)(void *))
{
	/* the records stay immutable; the memo is a cache beside them */
	spf_dns_answer_t *a = (spf_dns_answer_t *)ans;

	if (a->memo != NULL)
		return false;
	a->memo = memo;
	a->memo_free = memo_free;
	return true;
}

spf_dns_status_t spf_dns_answer_status(const spf_dns_answer_t *ans)
{
	return ans->status;
}

const char *spf_dns_answer_name(const spf_dns_answer_t *ans)
{
	return ans->name;
}

uint16_t spf_dns_answer_type(const spf_dns_answer_t *ans)
{
	return ans->type;
}

size_t spf_dns_answer_count(const spf_dns_answer_t *ans)
{
	return ans->count;
}

const spf_dns_rr_t *spf_dns_answer_rr(const spf_dns_answer_t *ans, size_t i)
{
	return i < ans->count ? &ans->rrs[i] : NULL;
}

uint32_t spf_dns_answer_ttl(const spf_dns_answer_t *ans)
{
	uint32_t ttl;

	if (ans->ttl_set || ans->count == 0)
		return ans->ttl;
	ttl = ans->rrs[0].ttl;
	for (size_t i = 1; i < ans->count; i++)
		if (ans->rrs[i].ttl < ttl)
			ttl = ans->rrs[i].ttl;
	return ttl;
}

const char *spf_dns_answer_detail(const spf_dns_answer_t *ans)
{
	return ans->detail;
}

const char *spf_dns_answer_cnames(const spf_dns_answer_t *ans)
{
	return ans->cnames;
}
