/*
 * ipset.h - networks and sets of addresses: the one owner of "the
 * addresses of addr/prefix" and of set arithmetic on them, for flatten
 * (flatten.c) and Sender ID's probes (senderid.c).  Private to
 * evaluator/.
 */
#ifndef SPF_LINT_IPSET_H
#define SPF_LINT_IPSET_H

#include "spf.h"

/* A network: addr with the host bits clear, and its prefix length. */
typedef struct {
	spf_addr_t addr;
	unsigned prefix;
} spf_net_t;

/*
 * The network addr/prefix: prefix clamped to the family's width (32 or
 * 128; any family but 4 counts as IPv6), *first = a with the host bits
 * clear, *last = a with them set (either may be NULL).  Returns the
 * clamped prefix.  Bytes past the family's width are copied from a.
 */
unsigned spf_ipset_net(const spf_addr_t *a, unsigned prefix,
	spf_addr_t *first, spf_addr_t *last);

/*
 * A set of IPv4 and of IPv6 addresses, kept apart: per family sorted,
 * disjoint, non-adjacent ranges.  A zeroed spf_ipset_t is the empty set;
 * the ranges live in the arena passed to the calls that change the set
 * (always the same one), so the set dies with that arena and has no
 * finish.  Copying the struct aliases the ranges: change only a set
 * that no copy of is read.  The fields are private to ipset.c.
 */
struct spf_iprange;
typedef struct {
	struct spf_iprange *r[2];   /* [0] IPv4, [1] IPv6 */
	size_t n[2], cap[2];
} spf_ipset_t;

/* Add the network a/prefix (prefix clamped as by spf_ipset_net()).
 * SPF_OK, or SPF_ENOMEM with s unchanged. */
spf_status_t spf_ipset_add_net(spf_arena_t *arena, spf_ipset_t *s,
	const spf_addr_t *a, unsigned prefix);

/* a |= b (b is only read; it may not be a).  SPF_OK, or SPF_ENOMEM with
 * a holding part of b. */
spf_status_t spf_ipset_union(spf_arena_t *arena, spf_ipset_t *a,
	const spf_ipset_t *b);

/* *out = a \ b, a fresh set (out may not be a or b).  SPF_OK, or
 * SPF_ENOMEM with *out holding part of the difference. */
spf_status_t spf_ipset_minus(spf_arena_t *arena, const spf_ipset_t *a,
	const spf_ipset_t *b, spf_ipset_t *out);

/* How many addresses of family (4 or 6) s holds, as a double: exact for
 * IPv4, within a rounding error for IPv6 (up to 2^128). */
double spf_ipset_count(const spf_ipset_t *s, int family);

/* Does s hold the address a (of family 4 or 6)? */
bool spf_ipset_contains(const spf_ipset_t *s, const spf_addr_t *a);

/* Does s hold no address of either family? */
bool spf_ipset_empty(const spf_ipset_t *s);

/*
 * The fewest networks that cover s exactly: IPv4 first, then IPv6, in
 * address order.  *out is an array of *n in arena (NULL when s is
 * empty).  SPF_OK, or SPF_ENOMEM with *out = NULL and *n = 0.
 */
spf_status_t spf_ipset_cidrs(spf_arena_t *arena, const spf_ipset_t *s,
	spf_net_t **out, size_t *n);

/*
 * The edges of s's ranges of family (4 or 6), where a verdict can
 * change: for each range in address order while 4 slots are left in
 * out[*k .. max), its first address, its last (when it differs) and the
 * addresses just before and after it (when the family has them); *k is
 * advanced past what was stored.
 */
void spf_ipset_edges(const spf_ipset_t *s, int family, spf_addr_t *out,
	size_t max, size_t *k);

#endif
