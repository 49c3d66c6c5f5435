/*
 * addr.c - IP addresses (parse, print, network match) and SPF result names.
 *
 * DESCRIPTION
 *	spf_addr_parse() reads an IPv4 or IPv6 address as inet_pton() does
 *	(the dotted quad by hand: parse_v4(), it is on every line).  An
 *	IPv4-mapped IPv6 address (::ffff:a.b.c.d) is stored as IPv4, because
 *	RFC 7208 §5 says such clients MUST be treated as IPv4 (test suite:
 *	ip4-mapped-ip6, cidr6-ip4).  spf_addr_str() prints the dotted quad
 *	or the RFC 5952 canonical IPv6 text; spf_addr_in_net() compares the
 *	first prefix bits.  spf_result_str()/spf_result_parse() map the
 *	seven results of RFC 7208 §2.6 to and from their names.
 *
 *	IPv6 text is formatted here rather than with inet_ntop(): C libraries
 *	differ for addresses with 96 leading zero bits (glibc prints the
 *	deprecated "::1.2.3.4" form), and RFC 5952 wants "::102:304".  Mixed
 *	notation is used only for ::ffff:0:0/96 (RFC 5952 §5), which can only
 *	reach the printer as an ip6: network written that way in a record,
 *	since clients with such addresses are IPv4 here.
 *
 * DIAGNOSTICS
 *	spf_addr_parse() returns false for anything that is not an address
 *	(no zone ids, no prefixes, no surrounding spaces).  spf_addr_str()
 *	returns NULL only when buf is NULL or len is 0; for an address with
 *	an unknown family or a buffer that is too small it stores "" and
 *	returns buf, so that the result can always be printed.
 *	spf_addr_in_net() is false for different families or a prefix longer
 *	than the address.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <string.h>

/* IANA's special-purpose registries (RFC 6890 and the RFCs since), the
 * blocks that are not globally reachable, documentation and multicast:
 * none of them belongs in a published record's ip4:/ip6: terms. */
static const struct {
	uint8_t family;
	uint8_t addr[16];
	unsigned prefix;
	const char *text, *name, *rfc;
	bool doc;
} special[] = {
	{ 4, { 0 }, 8, "0.0.0.0/8", "\"This network\"", "RFC 791", false },
	{ 4, { 10 }, 8, "10.0.0.0/8", "Private-Use", "RFC 1918", false },
	{ 4, { 100, 64 }, 10, "100.64.0.0/10", "Shared Address Space", "RFC 6598", false },
	{ 4, { 127 }, 8, "127.0.0.0/8", "Loopback", "RFC 1122", false },
	{ 4, { 169, 254 }, 16, "169.254.0.0/16", "Link Local", "RFC 3927", false },
	{ 4, { 172, 16 }, 12, "172.16.0.0/12", "Private-Use", "RFC 1918", false },
	{ 4, { 192, 0, 0 }, 24, "192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", false },
	{ 4, { 192, 0, 2 }, 24, "192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", true },
	{ 4, { 192, 88, 99 }, 24, "192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", false },
	{ 4, { 192, 168 }, 16, "192.168.0.0/16", "Private-Use", "RFC 1918", false },
	{ 4, { 198, 18 }, 15, "198.18.0.0/15", "Benchmarking", "RFC 2544", false },
	{ 4, { 198, 51, 100 }, 24, "198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", true },
	{ 4, { 203, 0, 113 }, 24, "203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", true },
	{ 4, { 224 }, 4, "224.0.0.0/4", "Multicast", "RFC 5771", false },
	{ 4, { 240 }, 4, "240.0.0.0/4", "Reserved", "RFC 1112", false },
	{ 6, { 0 }, 128, "::/128", "Unspecified Address", "RFC 4291", false },
	{ 6, { [15] = 1 }, 128, "::1/128", "Loopback Address", "RFC 4291", false },
	{ 6, { [10] = 0xff, [11] = 0xff }, 96, "::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", false },
	{ 6, { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, "64:ff9b:1::/48", "IPv4-IPv6 Translat. (Local-Use)", "RFC 8215", false },
	{ 6, { 0x01 }, 64, "100::/64", "Discard-Only Address Block", "RFC 6666", false },
	{ 6, { 0x20, 0x01, 0, 0x02 }, 48, "2001:2::/48", "Benchmarking", "RFC 5180", false },
	{ 6, { 0x20, 0x01, 0x0d, 0xb8 }, 32, "2001:db8::/32", "Documentation", "RFC 3849", true },
	{ 6, { 0x3f, 0xff }, 20, "3fff::/20", "Documentation", "RFC 9637", true },
	{ 6, { 0xfc }, 7, "fc00::/7", "Unique-Local", "RFC 4193", false },
	{ 6, { 0xfe, 0x80 }, 10, "fe80::/10", "Link-Local Unicast", "RFC 4291", false },
	{ 6, { 0xff }, 8, "ff00::/8", "Multicast", "RFC 4291", false },
};

const char *spf_addr_special(const spf_addr_t *net, unsigned prefix,
	const char **rfc, const char **block, bool *doc)
{
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		spf_addr_t b = { .family = special[i].family };

		memcpy(b.addr, special[i].addr, sizeof(b.addr));
		if (prefix < special[i].prefix ||
		    !spf_addr_in_net(net, &b, special[i].prefix))
			continue;
		*rfc = special[i].rfc;
		*block = special[i].text;
		*doc = special[i].doc;
		return special[i].name;
	}
	return NULL;
}

/*
 * A dotted quad as inet_pton(AF_INET) reads it (POSIX; glibc's, musl's
 * and the BSDs' agree): four decimal parts of 0 to 255, a part of more
 * than one digit not starting with 0, nothing before, between or after
 * but single dots.  Here because every batch line and policy request
 * starts with one, and inet_pton() first measures the string and then
 * walks it a second time (test_addr test_v4_as_inet_pton compares the
 * two on every string of a small alphabet).
 */
static bool parse_v4(const char *s, uint8_t out[4])
{
	uint8_t tmp[4];
	unsigned part = 0, parts = 0;
	bool digit = false;

	for (;; s++) {
		unsigned d = (unsigned char)*s - (unsigned)'0';

		if (d < 10) {
			if (digit && part == 0)
				return false;   /* a leading zero */
			part = part * 10 + d;
			if (part > 255)
				return false;
			digit = true;
		} else if (*s == '.' || *s == '\0') {
			if (!digit || parts == 4)
				return false;
			tmp[parts++] = (uint8_t)part;
			if (*s == '\0')
				break;
			part = 0;
			digit = false;
		} else {
			return false;
		}
	}
	if (parts != 4)
		return false;
	memcpy(out, tmp, sizeof(tmp));
	return true;
}

bool spf_addr_parse(const char *s, spf_addr_t *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	spf_addr_t a;

	if (s == NULL || out == NULL)
		return false;
	memset(&a, 0, sizeof(a));
	if (parse_v4(s, a.addr)) {
		a.family = 4;
	} else if (inet_pton(AF_INET6, s, a.addr) == 1) {
		a.family = 6;
		if (memcmp(a.addr, mapped, sizeof(mapped)) == 0) {
			memmove(a.addr, a.addr + 12, 4);
			memset(a.addr + 4, 0, 12);
			a.family = 4;
		}
	} else {
		return false;
	}
	*out = a;
	return true;
}

/* Append c to buf if there is room for it and the final NUL. */
static bool put(char *buf, size_t len, size_t *o, char c)
{
	if (*o + 1 >= len)
		return false;
	buf[(*o)++] = c;
	return true;
}

static bool put_dec(char *buf, size_t len, size_t *o, unsigned v)
{
	bool ok = true;

	if (v >= 100)
		ok = put(buf, len, o, (char)('0' + v / 100));
	if (ok && v >= 10)
		ok = put(buf, len, o, (char)('0' + v / 10 % 10));
	return ok && put(buf, len, o, (char)('0' + v % 10));
}

static bool put_quad(char *buf, size_t len, size_t *o, const uint8_t *q)
{
	for (int i = 0; i < 4; i++) {
		if (i > 0 && !put(buf, len, o, '.'))
			return false;
		if (!put_dec(buf, len, o, q[i]))
			return false;
	}
	return true;
}

/* One 16-bit group in lower-case hex without leading zeros. */
static bool put_group(char *buf, size_t len, size_t *o, unsigned g)
{
	static const char hex[] = "0123456789abcdef";
	bool started = false;

	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned d = (g >> shift) & 15u;

		if (d == 0 && !started && shift > 0)
			continue;
		started = true;
		if (!put(buf, len, o, hex[d]))
			return false;
	}
	return true;
}

/* RFC 5952 §4: lower case, no leading zeros, "::" for the longest run
 * (the first one on a tie) of two or more zero groups. */
static bool format6(const uint8_t *a, char *buf, size_t len, size_t *o)
{
	unsigned g[8];
	int best = -1, bestlen = 0, i;
	bool mapped = true;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (bestlen < 2) {
		best = -1;
		bestlen = 0;
	}
	for (i = 0; i < 5; i++)
		if (g[i] != 0)
			mapped = false;
	if (mapped && g[5] == 0xffff) {
		/* ::ffff:a.b.c.d (RFC 5952 §5) */
		for (i = 0; i < 7; i++)
			if (!put(buf, len, o, "::ffff:"[i]))
				return false;
		return put_quad(buf, len, o, a + 12);
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			if (!put(buf, len, o, ':') || !put(buf, len, o, ':'))
				return false;
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && i != best + bestlen && !put(buf, len, o, ':'))
			return false;
		if (!put_group(buf, len, o, g[i]))
			return false;
	}
	return true;
}

const char *spf_addr_str(const spf_addr_t *a, char *buf, size_t len)
{
	size_t o = 0;
	bool ok = false;

	if (buf == NULL || len == 0)
		return NULL;
	if (a != NULL && a->family == 4)
		ok = put_quad(buf, len, &o, a->addr);
	else if (a != NULL && a->family == 6)
		ok = format6(a->addr, buf, len, &o);
	buf[ok ? o : 0] = '\0';
	return buf;
}

bool spf_addr_in_net(const spf_addr_t *a, const spf_addr_t *net,
	unsigned prefix)
{
	unsigned bits, full, rest;

	if (a == NULL || net == NULL || a->family != net->family)
		return false;
	if (a->family != 4 && a->family != 6)
		return false;
	bits = a->family == 4 ? 32 : 128;
	if (prefix > bits)
		return false;
	full = prefix / 8;
	rest = prefix % 8;
	if (memcmp(a->addr, net->addr, full) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xffu << (8 - rest));

		if ((a->addr[full] & mask) != (net->addr[full] & mask))
			return false;
	}
	return true;
}

static const char *const result_names[] = {
	[SPF_RESULT_NONE] = "none",
	[SPF_RESULT_NEUTRAL] = "neutral",
	[SPF_RESULT_PASS] = "pass",
	[SPF_RESULT_FAIL] = "fail",
	[SPF_RESULT_SOFTFAIL] = "softfail",
	[SPF_RESULT_TEMPERROR] = "temperror",
	[SPF_RESULT_PERMERROR] = "permerror",
};

const char *spf_result_str(spf_result_t r)
{
	if ((unsigned)r < sizeof(result_names) / sizeof(result_names[0]))
		return result_names[r];
	return "invalid";
}

bool spf_result_parse(const char *s, spf_result_t *out)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i < sizeof(result_names) / sizeof(result_names[0]);
	    i++) {
		if (spf_streq_nocase(s, result_names[i])) {
			if (out != NULL)
				*out = (spf_result_t)i;
			return true;
		}
	}
	return false;
}
