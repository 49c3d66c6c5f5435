/*
 * ipset.c - networks and sets of IPv4 and IPv6 addresses.
 *
 * DESCRIPTION
 *	spf_ipset_net() is the one place that turns addr/prefix into the
 *	network's first and last address; flatten (its address sets) and
 *	Sender ID (the bounds it probes, SPECS A.9 SID-05) both go through
 *	it.  A set keeps, per family, sorted ranges that neither overlap nor
 *	touch, as 128-bit integers (IPv4 in the low 32 bits), so that
 *	adding, union and difference are merges of sorted lists and the
 *	result is the same whatever order the networks came in.
 *	spf_ipset_cidrs() cuts each range into the largest aligned blocks,
 *	which is the fewest networks that cover it.
 *
 *	The whole space of a family is a legal range: the IPv6 one ends at
 *	2^128-1, so no arithmetic here computes hi + 1 or a block size of
 *	2^bits without checking for that end first.
 *
 * DIAGNOSTICS
 *	SPF_ENOMEM when the arena cannot grow a range array; the set that
 *	failed to grow is left as it was before that step.
 */
#include "ipset.h"

#include <string.h>

__extension__ typedef unsigned __int128 u128;

struct spf_iprange {
	u128 lo, hi;
};

static int fam_index(int family)
{
	return family == 4 ? 0 : 1;
}

static u128 fam_max(int f)
{
	return f == 0 ? 0xffffffffu : ~(u128)0;
}

static unsigned fam_bits(int f)
{
	return f == 0 ? 32 : 128;
}

static u128 addr_value(const spf_addr_t *a)
{
	u128 v = 0;

	for (int i = 0; i < (a->family == 4 ? 4 : 16); i++)
		v = v << 8 | a->addr[i];
	return v;
}

static void value_addr(int f, u128 v, spf_addr_t *a)
{
	memset(a, 0, sizeof(*a));
	a->family = f == 0 ? 4 : 6;
	for (int i = (f == 0 ? 3 : 15); i >= 0; i--) {
		a->addr[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

unsigned spf_ipset_net(const spf_addr_t *a, unsigned prefix,
	spf_addr_t *first, spf_addr_t *last)
{
	unsigned bits = a->family == 4 ? 32 : 128;
	spf_addr_t lo = *a, hi = *a;

	if (prefix > bits)
		prefix = bits;
	for (unsigned b = prefix; b < bits; b++) {
		lo.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		hi.addr[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	}
	if (first != NULL)
		*first = lo;
	if (last != NULL)
		*last = hi;
	return prefix;
}

/* Room for one more range in family f of s. */
static spf_status_t grow(spf_arena_t *arena, spf_ipset_t *s, int f)
{
	struct spf_iprange *r;
	size_t nc;

	if (s->n[f] < s->cap[f])
		return SPF_OK;
	nc = s->cap[f] ? s->cap[f] * 2 : 8;
	r = spf_arena_alloc(arena, nc * sizeof(*r));
	if (r == NULL)
		return SPF_ENOMEM;
	if (s->n[f] > 0)
		memcpy(r, s->r[f], s->n[f] * sizeof(*r));
	s->r[f] = r;
	s->cap[f] = nc;
	return SPF_OK;
}

/* Add [lo, hi] to family f, merging what it overlaps or touches. */
static spf_status_t add_range(spf_arena_t *arena, spf_ipset_t *s, int f,
	u128 lo, u128 hi)
{
	struct spf_iprange *r = s->r[f];
	size_t i = 0, j, n = s->n[f];

	/* skip the ranges that end before lo - 1 (hi + 1 of one that ends
	 * at the top cannot be reached: hi < lo fails first) */
	while (i < n && r[i].hi < lo && r[i].hi + 1 < lo)
		i++;
	/* ranges i..j-1 overlap or touch [lo, hi] */
	for (j = i; j < n && (r[j].lo <= hi || (hi != ~(u128)0 &&
	    r[j].lo == hi + 1)); j++) {
		if (r[j].lo < lo)
			lo = r[j].lo;
		if (r[j].hi > hi)
			hi = r[j].hi;
	}
	if (j > i) {
		r[i].lo = lo;
		r[i].hi = hi;
		memmove(&r[i + 1], &r[j], (n - j) * sizeof(*r));
		s->n[f] -= j - i - 1;
		return SPF_OK;
	}
	if (grow(arena, s, f) != SPF_OK)
		return SPF_ENOMEM;
	r = s->r[f];
	memmove(&r[i + 1], &r[i], (n - i) * sizeof(*r));
	r[i].lo = lo;
	r[i].hi = hi;
	s->n[f]++;
	return SPF_OK;
}

spf_status_t spf_ipset_add_net(spf_arena_t *arena, spf_ipset_t *s,
	const spf_addr_t *a, unsigned prefix)
{
	spf_addr_t lo, hi;

	spf_ipset_net(a, prefix, &lo, &hi);
	return add_range(arena, s, fam_index(a->family), addr_value(&lo),
	    addr_value(&hi));
}

spf_status_t spf_ipset_union(spf_arena_t *arena, spf_ipset_t *a,
	const spf_ipset_t *b)
{
	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < b->n[f]; i++)
			if (add_range(arena, a, f, b->r[f][i].lo, b->r[f][i].hi) != SPF_OK)
				return SPF_ENOMEM;
	return SPF_OK;
}

spf_status_t spf_ipset_minus(spf_arena_t *arena, const spf_ipset_t *a,
	const spf_ipset_t *b, spf_ipset_t *out)
{
	memset(out, 0, sizeof(*out));
	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < a->n[f]; i++) {
			u128 lo = a->r[f][i].lo, hi = a->r[f][i].hi;
			bool empty = false;

			/* cut each range of b out of [lo, hi], left to right */
			for (size_t j = 0; j < b->n[f] && !empty; j++) {
				const struct spf_iprange *x = &b->r[f][j];

				if (x->hi < lo || x->lo > hi)
					continue;
				if (x->lo > lo && add_range(arena, out, f, lo,
				    x->lo - 1) != SPF_OK)
					return SPF_ENOMEM;
				if (x->hi >= hi)
					empty = true;   /* also when x->hi is the top */
				else
					lo = x->hi + 1;
			}
			if (!empty && add_range(arena, out, f, lo, hi) != SPF_OK)
				return SPF_ENOMEM;
		}
	return SPF_OK;
}

double spf_ipset_count(const spf_ipset_t *s, int family)
{
	int f = fam_index(family);
	double n = 0;

	for (size_t i = 0; i < s->n[f]; i++)
		n += (double)(s->r[f][i].hi - s->r[f][i].lo) + 1.0;
	return n;
}

bool spf_ipset_empty(const spf_ipset_t *s)
{
	return s->n[0] == 0 && s->n[1] == 0;
}

/* Append the blocks of [lo, hi] (family f) to *out. */
static spf_status_t range_cidrs(spf_arena_t *arena, int f, u128 lo, u128 hi,
	spf_net_t **out, size_t *n, size_t *cap)
{
	unsigned bits = fam_bits(f);

	for (;;) {
		unsigned k = 0;

		/* the largest aligned block starting at lo inside [lo, hi];
		 * a block of 2^128 starts at 0 and ends at the top, and its
		 * size has no u128 (a shift by 128 is undefined, and made
		 * [::, anything past 7fff:...] come out as ::/0) */
		while (k < bits && ((lo >> k) & 1) == 0) {
			u128 end = k + 1 == 128 ? ~(u128)0 :
			    lo + (((u128)1 << (k + 1)) - 1);

			if (end > hi)
				break;
			k++;
		}
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 8;
			spf_net_t *p = spf_arena_alloc(arena, nc * sizeof(*p));

			if (p == NULL)
				return SPF_ENOMEM;
			if (*n > 0)
				memcpy(p, *out, *n * sizeof(*p));
			*out = p;
			*cap = nc;
		}
		value_addr(f, lo, &(*out)[*n].addr);
		(*out)[(*n)++].prefix = bits - k;
		/* k == bits: the whole space, whose size 2^128 has no u128 */
		if (k == bits || lo + (((u128)1 << k) - 1) >= hi)
			return SPF_OK;
		lo += (u128)1 << k;
	}
}

spf_status_t spf_ipset_cidrs(spf_arena_t *arena, const spf_ipset_t *s,
	spf_net_t **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < s->n[f]; i++)
			if (range_cidrs(arena, f, s->r[f][i].lo, s->r[f][i].hi,
			    out, n, &cap) != SPF_OK) {
				*out = NULL;
				*n = 0;
				return SPF_ENOMEM;
			}
	return SPF_OK;
}

void spf_ipset_edges(const spf_ipset_t *s, int family, spf_addr_t *out,
	size_t max, size_t *k)
{
	int f = fam_index(family);

	for (size_t i = 0; i < s->n[f] && *k + 4 <= max; i++) {
		u128 lo = s->r[f][i].lo, hi = s->r[f][i].hi;

		value_addr(f, lo, &out[(*k)++]);
		if (hi != lo)
			value_addr(f, hi, &out[(*k)++]);
		if (lo > 0)
			value_addr(f, lo - 1, &out[(*k)++]);
		if (hi < fam_max(f))
			value_addr(f, hi + 1, &out[(*k)++]);
	}
}

bool spf_ipset_contains(const spf_ipset_t *s, const spf_addr_t *a)
{
	int f = fam_index(a->family);
	u128 v = addr_value(a);
	size_t lo = 0, hi = s->n[f];

	/* the ranges are sorted and disjoint: a binary search */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v < s->r[f][mid].lo)
			hi = mid;
		else if (v > s->r[f][mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}
