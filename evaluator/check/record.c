/*
 * record.c - recognise and parse SPF records (RFC 7208 §4.5, §4.6, §12).
 *
 * DESCRIPTION
 *	spf_record_is_spf1() tells whether a TXT string is a version 1 SPF
 *	record.  spf_record_parse() checks the whole record before anything
 *	is evaluated (RFC 7208 §4.6: a syntax error anywhere is a permerror)
 *	and turns it into an array of terms allocated in the caller's arena.
 *
 *	The record is bytes with a length; it is never treated as a C string,
 *	so an embedded NUL is reported instead of silently cutting the
 *	record short.  Terms are separated by one or more SP (0x20) only; a
 *	TAB, CR, LF, any other control byte or any byte above 0x7E inside a
 *	term is an error at its offset (RFC 7208 §3.1, §4.6.1).
 *
 *	A term whose first '=', ':' or '/' is an '=' is a modifier
 *	(RFC 7208 §4.6.1), anything else is a mechanism.  How arguments are
 *	split:
 *	- ip4/ip6: ":" network up to the first '/', then at most one
 *	  "/length".  The IPv4 network is a strict dotted quad (ABNF qnum: no
 *	  leading zeros, four parts); the IPv6 network goes to inet_pton().
 *	- a/mx: a domain-spec may itself contain '/' (test suite a-colon-
 *	  domain: "a:foo:bar/baz.example.com"), so the dual-cidr-length is
 *	  taken from the END of the argument: first "//digits", then
 *	  "/digits" before it; everything left is ":" domain-spec.  This is
 *	  the only split that can be valid, because a domain-spec ends in a
 *	  top-level label or a macro, never in "/digits".
 *	- include/exists: ":" domain-spec, required; ptr: optional.
 *	- CIDR lengths: decimal digits, no leading zeros ("/0" is fine, "/032"
 *	  is not: test suite cidr4-032), ip4 0-32, ip6 0-128.
 *	Every domain-spec is checked before expansion (RFC 7208 §7.1,
 *	test suite invalid-domain): it must be a valid macro-string and end
 *	in a macro-expand or in "." toplabel ["."], where a toplabel is
 *	letters, digits and '-', does not start or end with '-', and is not
 *	all digits.  Macro letters c, r and t are rejected everywhere in a
 *	record (they are for explanation text only, RFC 7208 §7.2), also in
 *	the values of unknown modifiers.
 *
 * DIAGNOSTICS
 *	SPF_ESYNTAX with spf_parse_error_t: the byte offset and length of the
 *	problem in the record and a message for a mail administrator (messages
 *	live in the arena; if formatting one fails for lack of memory a
 *	static, less specific message is used).  SPF_ENOMEM when the arena
 *	cannot hold the parsed record; SPF_EINVAL for NULL arguments.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

/* Longest piece of record text quoted inside a message. */
#define QUOTE_MAX 80

struct parser {
	spf_arena_t *arena;
	const char *text;       /* the record (arena copy, NUL-terminated) */
	size_t len;
	spf_parse_error_t *err;
};

static const struct {
	const char *name;
	spf_mech_t mech;
} mechs[] = {
	{ "all", SPF_MECH_ALL },
	{ "include", SPF_MECH_INCLUDE },
	{ "a", SPF_MECH_A },
	{ "mx", SPF_MECH_MX },
	{ "ptr", SPF_MECH_PTR },
	{ "ip4", SPF_MECH_IP4 },
	{ "ip6", SPF_MECH_IP6 },
	{ "exists", SPF_MECH_EXISTS },
};

#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

const char *spf_mech_name(spf_mech_t mech)
{
	for (size_t i = 0; i < NMECHS; i++)
		if (mechs[i].mech == mech)
			return mechs[i].name;
	return "unknown";
}

/* Edit distance between a[0..la) and b (both short; capped at 3, all a
 * typo hint needs), letters compared without case. */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), d[16][16];

	if (la >= 15 || lb >= 15)
		return 3;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t c = d[i - 1][j - 1] +
			    (spf_lower(a[i - 1]) != spf_lower(b[j - 1]));

			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb] < 3 ? d[la][lb] : 3;
}

const char *spf_term_suggest(const char *name, size_t n, bool modifier)
{
	static const char *const mods[] = { "redirect", "exp" };
	size_t max = n <= 3 ? 1 : 2, best = max + 1, cnt = modifier ? 2 : NMECHS;
	const char *pick = NULL;

	for (size_t i = 0; i < cnt; i++) {
		const char *cand = modifier ? mods[i] : mechs[i].name;
		size_t d = edit_distance(name, n, cand);

		if (d > 0 && d < best) {
			best = d;
			pick = cand;
		}
	}
	return pick;
}

/* RFC 7208 §4.6.4: these cause DNS queries and count toward 10. */
bool spf_mech_queries_dns(spf_mech_t mech)
{
	switch (mech) {
	case SPF_MECH_INCLUDE:
	case SPF_MECH_A:
	case SPF_MECH_MX:
	case SPF_MECH_PTR:
	case SPF_MECH_EXISTS:
		return true;
	case SPF_MECH_ALL:
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		return false;
	}
	return false;
}

bool spf_record_is_spf1(const uint8_t *text, size_t len)
{
	if (text == NULL || len < 6)
		return false;
	/* "v=spf1" but for the case of its letters, byte by byte (every
	 * TXT record of every domain evaluated comes here): the 0x20 bit
	 * set makes 'V', 'S', 'P', 'F' lower case and nothing else equal
	 * to 'v', 's', 'p', 'f' */
	return (text[0] | 0x20) == 'v' && text[1] == '=' &&
		(text[2] | 0x20) == 's' && (text[3] | 0x20) == 'p' &&
		(text[4] | 0x20) == 'f' && text[5] == '1' &&
		(len == 6 || text[6] == ' ');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

/* Quote at most QUOTE_MAX bytes of s in messages. */
static int qlen(size_t n)
{
	return (int)(n > QUOTE_MAX ? QUOTE_MAX : n);
}

static const char *qdots(size_t n)
{
	return n > QUOTE_MAX ? "..." : "";
}

/* Record a syntax error and return SPF_ESYNTAX. */
__attribute__((format(printf, 4, 5)))
static spf_status_t syntax(struct parser *p, size_t off, size_t len,
	const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	spf_buf_t b;

	spf_buf_init(&b, 1024);
	va_start(ap, fmt);
	if (spf_buf_vprintf(&b, fmt, ap) == SPF_OK)
		msg = spf_arena_strndup(p->arena, b.data, b.len);
	va_end(ap);
	spf_buf_finish(&b);
	p->err->offset = off;
	p->err->len = len == 0 && off < p->len ? 1 : len;
	p->err->message = msg != NULL ? msg : "syntax error in SPF record";
	return SPF_ESYNTAX;
}

/*
 * The non-ASCII byte at text[off] (avail bytes of the term from there):
 * the character it starts, named when it is one of the typographic
 * characters word processors insert (spf_char_name()).  The error spans
 * the character's bytes.  The message holds no offset: the error's
 * offset is the position, and a caller that re-parses one term on its
 * own (lint) would get the term's offset, not the record's.
 */
static spf_status_t non_ascii(struct parser *p, size_t off, size_t avail)
{
	const unsigned char *s = (const unsigned char *)p->text + off;
	const char *ascii, *name;
	uint32_t cp;
	size_t seq;

	name = spf_char_name(s, avail, &cp, &seq, &ascii);
	if (name != NULL)
		return syntax(p, off, seq, "non-ASCII character %s (U+%04X): "
		    "SPF records must be US-ASCII (RFC 7208 §3.1); "
		    "%s", name, (unsigned)cp, ascii);
	if (cp != 0)
		return syntax(p, off, seq, "non-ASCII character U+%04X (%zu "
		    "bytes of UTF-8, the first 0x%02X): SPF records must be "
		    "US-ASCII (RFC 7208 §3.1)", (unsigned)cp, seq, s[0]);
	return syntax(p, off, 1, "non-ASCII byte 0x%02X: SPF records must "
	    "be US-ASCII (RFC 7208 §3.1)", s[0]);
}

/* Bytes allowed inside a term: printable ASCII other than SP.  As in
 * non_ascii(), no message holds an offset: the error's offset is it. */
static spf_status_t check_bytes(struct parser *p, size_t off, size_t n)
{
	for (size_t i = off; i < off + n; i++) {
		unsigned char c = (unsigned char)p->text[i];

		if (c > 0x20 && c < 0x7f)
			continue;
		if (c == 0)
			return syntax(p, i, 1, "NUL byte: an SPF record "
			    "cannot contain NUL bytes");
		if (c == '\t')
			return syntax(p, i, 1, "TAB: terms must be separated "
			    "by spaces only (RFC 7208 §4.6.1)");
		if (c == '\r' || c == '\n')
			return syntax(p, i, 1, "line break (%s): terms must "
			    "be separated by spaces only, and a record must be "
			    "on one line (RFC 7208 §4.6.1)",
			    c == '\r' ? "CR" : "LF");
		if (c < 0x20 || c == 0x7f)
			return syntax(p, i, 1, "control character 0x%02X: SPF "
			    "records may contain only printable ASCII", c);
		return non_ascii(p, i, off + n - i);
	}
	return SPF_OK;
}

/*
 * Parse "/digits" content (s, n: the digits after '/').  max is 32 or
 * 128.  off is the record offset of the '/'.
 */
static spf_status_t parse_cidr(struct parser *p, size_t off, const char *s,
	size_t n, unsigned max, const char *what, int *out)
{
	unsigned v = 0;

	if (n == 0)
		return syntax(p, off, 1, "missing %s prefix length after '/'",
		    what);
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return syntax(p, off, n + 1, "invalid %s prefix "
			    "length '/%.*s': expected a number 0-%u", what,
			    qlen(n), s, max);
		if (v < 1000)
			v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (n > 1 && s[0] == '0')
		return syntax(p, off, n + 1, "%s prefix length '/%.*s' must "
		    "not have leading zeros", what, qlen(n), s);
	if (v > max)
		return syntax(p, off, n + 1, "%s prefix length %.*s out of "
		    "range 0-%u", what, qlen(n), s, max);
	*out = (int)v;
	return SPF_OK;
}

/* Does s[0..n) end in "/" 1*DIGIT?  Returns the offset of that '/'. */
static bool ends_in_cidr(const char *s, size_t n, size_t *slash)
{
	size_t k = n;

	while (k > 0 && is_digit(s[k - 1]))
		k--;
	if (k == n || k == 0 || s[k - 1] != '/')
		return false;
	*slash = k - 1;
	return true;
}

/*
 * Offset in ds of the literal text after the last macro-expand (dn when
 * ds ends in a macro-expand).  ds must be a valid macro-string.
 */
static size_t trailing_literal(const char *ds, size_t dn)
{
	size_t i = 0, lit = 0;

	while (i < dn) {
		if (ds[i] != '%') {
			i++;
			continue;
		}
		if (i + 1 < dn && ds[i + 1] == '{') {
			const char *close = memchr(ds + i, '}', dn - i);

			i = close != NULL ? (size_t)(close - ds) + 1 : dn;
		} else {
			i += 2;
		}
		lit = i;
	}
	return lit;
}

/* Length of the macro sequence starting at s[off] (for error spans). */
static size_t macro_span(const char *s, size_t n, size_t off)
{
	size_t e = off;

	if (off >= n || s[off] != '%')
		return 1;
	if (off + 1 < n && s[off + 1] == '{') {
		while (e < n && s[e] != '}')
			e++;
		return (e < n ? e + 1 : n) - off;
	}
	return off + 1 < n ? 2 : 1;
}

/* Check a macro-string value at record offset off. */
static spf_status_t check_macro_string(struct parser *p, size_t off,
	const char *s, size_t n)
{
	size_t eo = 0;
	const char *em = NULL;

	if (spf_macro_check(s, n, 0, &eo, &em))
		return SPF_OK;
	return syntax(p, off + eo, macro_span(s, n, eo), "%s (at '%.*s')", em,
	    qlen(macro_span(s, n, eo)), s + eo);
}

/*
 * Check a domain-spec (RFC 7208 §7.1): macro-string domain-end.  what is
 * the term name for messages; off the record offset of ds.
 */
static spf_status_t check_domain_spec(struct parser *p, size_t off,
	const char *ds, size_t dn, const char *what)
{
	spf_status_t st;
	size_t lit, tail, dot, tl, i;
	const char *top;
	bool alpha = false, bad = false;

	st = check_macro_string(p, off, ds, dn);
	if (st != SPF_OK)
		return st;
	lit = trailing_literal(ds, dn);
	if (lit == dn)
		return SPF_OK;          /* ends in a macro-expand */
	tail = dn;
	if (ds[tail - 1] == '.')
		tail--;                 /* "." toplabel "." */
	for (dot = tail; dot > lit && ds[dot - 1] != '.'; dot--)
		;
	if (dot == lit) {
		if (memchr(ds, '.', tail) == NULL && lit == 0)
			return syntax(p, off, dn, "%s: domain '%.*s%s' must "
			    "end in a top-level label like '.com' or in a "
			    "macro (RFC 7208 §7.1)", what, qlen(dn), ds,
			    qdots(dn));
		return syntax(p, off, dn, "%s: domain '%.*s%s' must end in "
		    "'.' and a top-level label, or in a macro (RFC 7208 "
		    "§7.1)", what, qlen(dn), ds, qdots(dn));
	}
	top = ds + dot;
	tl = tail - dot;
	if (tl == 0)
		return syntax(p, off, dn, "%s: domain '%.*s%s' ends in an "
		    "empty label", what, qlen(dn), ds, qdots(dn));
	for (i = 0; i < tl; i++) {
		if (is_alpha(top[i]))
			alpha = true;
		else if (!is_digit(top[i]) && top[i] != '-')
			bad = true;
	}
	if (bad)
		return syntax(p, off + dot, tl, "%s: top-level label '%.*s%s' "
		    "of domain '%.*s%s' may contain only letters, digits and "
		    "'-'%s", what, qlen(tl), top, qdots(tl), qlen(dn), ds,
		    qdots(dn), memchr(top, ':', tl) != NULL ?
		    " (port numbers are not allowed)" : "");
	if (top[0] == '-' || top[tl - 1] == '-')
		return syntax(p, off + dot, tl, "%s: top-level label '%.*s%s' "
		    "of domain '%.*s%s' must not start or end with '-'", what,
		    qlen(tl), top, qdots(tl), qlen(dn), ds, qdots(dn));
	if (!alpha && memchr(top, '-', tl) == NULL) {
		struct in_addr ia;
		char tmp[16];

		if (dn < sizeof(tmp)) {
			memcpy(tmp, ds, dn);
			tmp[dn] = '\0';
			if (inet_pton(AF_INET, tmp, &ia) == 1)
				return syntax(p, off, dn, "%s: '%s' is an IP "
				    "address, not a domain name; to allow that "
				    "address write ip4:%s", what, tmp, tmp);
		}
		return syntax(p, off + dot, tl, "%s: top-level label '%.*s%s' "
		    "of domain '%.*s%s' is all-numeric; a domain must end in "
		    "a name like '.com' (RFC 7208 §7.1)", what,
		    qlen(tl), top, qdots(tl), qlen(dn), ds, qdots(dn));
	}
	return SPF_OK;
}

/* Strict dotted quad (RFC 7208 §12 ip4-network / qnum). */
static spf_status_t parse_ip4(struct parser *p, size_t off, const char *s,
	size_t n, spf_addr_t *net)
{
	size_t i = 0;
	int part;

	memset(net, 0, sizeof(*net));
	net->family = 4;
	if (memchr(s, ':', n) != NULL)
		return syntax(p, off, n, "'%.*s%s' is not an IPv4 address "
		    "(port numbers are not allowed; for IPv6 use ip6:)",
		    qlen(n), s, qdots(n));
	for (part = 0; part < 4; part++) {
		size_t b = i;
		unsigned v = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				break;
			b = ++i;
		}
		while (i < n && is_digit(s[i]) && i - b < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == b)
			break;
		if (i - b > 1 && s[b] == '0')
			return syntax(p, off, n, "IPv4 address '%.*s' must "
			    "not have leading zeros", qlen(n), s);
		if (v > 255)
			return syntax(p, off, n, "IPv4 address '%.*s' has a "
			    "part larger than 255", qlen(n), s);
		net->addr[part] = (uint8_t)v;
	}
	if (part == 4 && i == n)
		return SPF_OK;
	if (part < 4 && i == n)
		return syntax(p, off, n, "'%.*s' is not a full IPv4 address: "
		    "write all four parts and a prefix length, e.g. "
		    "ip4:192.0.2.0/24 (RFC 7208 §5.6)", qlen(n), s);
	return syntax(p, off, n, "'%.*s%s' is not a valid IPv4 address",
	    qlen(n), s, qdots(n));
}

static spf_status_t parse_ip6(struct parser *p, size_t off, const char *s,
	size_t n, spf_addr_t *net)
{
	char tmp[64];

	memset(net, 0, sizeof(*net));
	net->family = 6;
	if (n > 0 && n < sizeof(tmp)) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET6, tmp, net->addr) == 1)
			return SPF_OK;
	}
	if (n > 0 && memchr(s, ':', n) == NULL)
		return syntax(p, off, n, "'%.*s%s' is not an IPv6 address "
		    "(for IPv4 use ip4:)", qlen(n), s, qdots(n));
	return syntax(p, off, n, "'%.*s%s' is not a valid IPv6 address",
	    qlen(n), s, qdots(n));
}

static spf_status_t set_domain(struct parser *p, spf_term_t *t,
	const char *ds, size_t dn)
{
	t->domain_spec = spf_arena_strndup(p->arena, ds, dn);
	t->domain_spec_len = dn;
	if (t->domain_spec == NULL)
		return SPF_ENOMEM;
	t->spec = (uint8_t)spf_spec_class(t->domain_spec, dn);
	return SPF_OK;
}

/* ip4:/ip6: ":" network [ "/" length ] */
static spf_status_t parse_ip_mech(struct parser *p, spf_term_t *t,
	size_t off, const char *a, size_t n, bool v6)
{
	const char *what = v6 ? "ip6" : "ip4";
	const char *slash;
	size_t nn;
	spf_status_t st;

	if (n == 0 || a[0] != ':' || n == 1)
		return syntax(p, t->offset, t->len, "%s needs ':' and %s, "
		    "e.g. %s", what, v6 ? "an IPv6 network" :
		    "an IPv4 network", v6 ? "ip6:2001:db8::/32" :
		    "ip4:192.0.2.0/24");
	a++, n--, off++;
	slash = memchr(a, '/', n);
	nn = slash != NULL ? (size_t)(slash - a) : n;
	st = v6 ? parse_ip6(p, off, a, nn, &t->net) :
	    parse_ip4(p, off, a, nn, &t->net);
	if (st != SPF_OK)
		return st;
	if (slash == NULL)
		return SPF_OK;
	if (nn + 1 < n && a[nn + 1] == '/')
		return syntax(p, off + nn, n - nn, "%s takes a single prefix "
		    "length /0-%u; the dual form '//N' is only for a and mx",
		    what, v6 ? 128u : 32u);
	return parse_cidr(p, off + nn, a + nn + 1, n - nn - 1,
	    v6 ? 128 : 32, what, v6 ? &t->cidr6 : &t->cidr4);
}

/* include, exists (domain required) and ptr (optional): no CIDR. */
static spf_status_t parse_domain_mech(struct parser *p, spf_term_t *t,
	size_t off, const char *a, size_t n, bool required)
{
	const char *what = spf_mech_name(t->mech);
	size_t slash;

	if (n == 0 && !required)
		return SPF_OK;
	if (n == 0 || a[0] != ':') {
		if (n > 0 && a[0] == '/')
			return syntax(p, off, n, "%s takes no CIDR prefix "
			    "length", what);
		if (n > 0)
			return syntax(p, off, n, "unexpected '%.*s%s' after "
			    "'%s': write %s:domain", qlen(n), a, qdots(n),
			    what, what);
		return syntax(p, t->offset, t->len, "%s needs ':' and a "
		    "domain, e.g. %s:_spf.example.com", what, what);
	}
	a++, n--, off++;
	if (n == 0)
		return syntax(p, off - 1, 1, "%s: has an empty domain; write "
		    "%s:domain%s", what, what, required ? "" :
		    " or just the mechanism name");
	if (ends_in_cidr(a, n, &slash)) {
		size_t eo = 0;

		/* only when the rest would be fine: "/24" is the problem */
		if (spf_macro_check(a, slash, 0, &eo, NULL))
			return syntax(p, off + slash, n - slash, "%s takes no "
			    "CIDR prefix length ('%.*s')", what,
			    qlen(n - slash), a + slash);
	}
	if (check_domain_spec(p, off, a, n, what) != SPF_OK)
		return SPF_ESYNTAX;
	return set_domain(p, t, a, n);
}

/* a, mx: [ ":" domain-spec ] [ "/" ip4len ] [ "//" ip6len ] */
static spf_status_t parse_a_mx(struct parser *p, spf_term_t *t, size_t off,
	const char *a, size_t n)
{
	const char *what = spf_mech_name(t->mech);
	size_t end = n, slash, c4 = 0, c6 = 0;
	bool has4 = false, has6 = false;
	spf_status_t st;

	/* the dual-cidr-length from the right */
	if (ends_in_cidr(a, end, &slash) && slash > 0 &&
	    a[slash - 1] == '/') {
		has6 = true;
		c6 = slash - 1;
		end = c6;
	}
	if (ends_in_cidr(a, end, &slash) &&
	    !(slash > 0 && a[slash - 1] == '/')) {
		has4 = true;
		c4 = slash;
		end = c4;
	}
	if (end > 0 && a[0] != ':')
		return syntax(p, off, n, "invalid argument '%.*s%s' after "
		    "'%s': write %s:domain, a prefix length /N (IPv4), //N "
		    "(IPv6) or /N//N", qlen(n), a, qdots(n), what, what);
	if (end > 0) {
		const char *ds = a + 1;
		size_t dn = end - 1, s2;

		if (dn == 0)
			return syntax(p, off, 1, "%s: has an empty domain; "
			    "write %s:domain or just %s", what, what, what);
		if (ends_in_cidr(ds, dn, &s2))
			return syntax(p, off + 1 + s2, n - 1 - s2, "invalid "
			    "prefix lengths '%.*s': write /N (IPv4), //N "
			    "(IPv6) or /N//N", qlen(n - 1 - s2), ds + s2);
		st = check_domain_spec(p, off + 1, ds, dn, what);
		if (st != SPF_OK)
			return st;
		st = set_domain(p, t, ds, dn);
		if (st != SPF_OK)
			return st;
	}
	if (has4) {
		st = parse_cidr(p, off + c4, a + c4 + 1, (has6 ? c6 : n) -
		    c4 - 1, 32, "ip4", &t->cidr4);
		if (st != SPF_OK)
			return st;
	}
	if (has6) {
		st = parse_cidr(p, off + c6 + 1, a + c6 + 2, n - c6 - 2, 128,
		    "ip6", &t->cidr6);
		if (st != SPF_OK)
			return st;
	}
	return SPF_OK;
}

static spf_status_t parse_modifier(struct parser *p, spf_term_t *t,
	size_t qoff, const char *body, size_t bn, size_t eq)
{
	size_t off = t->offset + qoff;
	const char *val = body + eq + 1;
	size_t vn = bn - eq - 1, voff = off + eq + 1;
	spf_status_t st;

	t->is_modifier = true;
	if (t->explicit_qualifier)
		return syntax(p, t->offset, 1, "a modifier cannot have a "
		    "qualifier: remove '%c' before '%.*s='", t->qualifier,
		    qlen(eq), body);
	if (eq == 0)
		return syntax(p, off, t->len - qoff, "term '%.*s%s' has no "
		    "modifier name before '='", qlen(bn), body, qdots(bn));
	if (!is_alpha(body[0]))
		return syntax(p, off, eq, "modifier name '%.*s' must start "
		    "with a letter (RFC 7208 §4.6.1)", qlen(eq), body);
	for (size_t i = 1; i < eq; i++)
		if (!is_alnum(body[i]) && body[i] != '-' && body[i] != '_' &&
		    body[i] != '.')
			return syntax(p, off + i, 1, "invalid character '%c' "
			    "in modifier name '%.*s': only letters, digits, "
			    "'-', '_' and '.' are allowed", body[i], qlen(eq),
			    body);
	t->name = spf_arena_strndup(p->arena, body, eq);
	if (t->name == NULL)
		return SPF_ENOMEM;
	if (eq == 8 && spf_strncaseeq(body, "redirect", 8))
		t->mod = SPF_MOD_REDIRECT;
	else if (eq == 3 && spf_strncaseeq(body, "exp", 3))
		t->mod = SPF_MOD_EXP;
	else
		t->mod = SPF_MOD_UNKNOWN;
	if (t->mod == SPF_MOD_UNKNOWN) {
		st = check_macro_string(p, voff, val, vn);
		return st != SPF_OK ? st : set_domain(p, t, val, vn);
	}
	if (vn == 0)
		return syntax(p, off, t->len - qoff, "%s= needs a domain, "
		    "e.g. %s=_spf.example.com (RFC 7208 §6)", t->name,
		    t->mod == SPF_MOD_REDIRECT ? "redirect" : "exp");
	st = check_domain_spec(p, voff, val, vn,
	    t->mod == SPF_MOD_REDIRECT ? "redirect" : "exp");
	return st != SPF_OK ? st : set_domain(p, t, val, vn);
}

static spf_status_t parse_term(struct parser *p, spf_term_t *t)
{
	const char *term = p->text + t->offset;
	const char *body = term, *arg;
	size_t bn = t->len, qoff = 0, sep, nlen, an, i;
	spf_status_t st;

	t->text = spf_arena_strndup(p->arena, term, t->len);
	if (t->text == NULL)
		return SPF_ENOMEM;
	t->qualifier = '+';
	t->cidr4 = t->cidr6 = -1;
	if (strchr("+-~?", term[0]) != NULL) {
		t->qualifier = term[0];
		t->explicit_qualifier = true;
		body++, bn--, qoff = 1;
	}
	for (sep = 0; sep < bn; sep++)
		if (body[sep] == '=' || body[sep] == ':' || body[sep] == '/')
			break;
	if (sep < bn && body[sep] == '=')
		return parse_modifier(p, t, qoff, body, bn, sep);

	if (bn == 0)
		return syntax(p, t->offset, 1, "qualifier '%c' without a "
		    "mechanism", t->qualifier);
	nlen = sep;
	for (i = 0; i < NMECHS; i++)
		if (strlen(mechs[i].name) == nlen &&
		    spf_strncaseeq(body, mechs[i].name, nlen))
			break;
	if (i == NMECHS) {
		size_t off = t->offset + qoff;
		const char *hint;

		if (nlen == 0)
			return syntax(p, off, bn, "term '%.*s%s' has no "
			    "mechanism name", qlen(bn), body, qdots(bn));
		if ((nlen == 8 && spf_strncaseeq(body, "redirect", 8)) ||
		    (nlen == 3 && spf_strncaseeq(body, "exp", 3)))
			return syntax(p, off, bn, "'%.*s' is a modifier and "
			    "must be written %.*s=... (RFC 7208 §6)",
			    (int)nlen, body, (int)nlen, body);
		for (size_t j = 0; j < NMECHS; j++) {
			size_t ml = strlen(mechs[j].name);

			if (ml < nlen && spf_strncaseeq(body, mechs[j].name,
			    ml) && !is_alnum(body[ml]))
				return syntax(p, off + ml, bn - ml,
				    "unexpected '%.*s%s' after '%s'",
				    qlen(bn - ml), body + ml, qdots(bn - ml),
				    mechs[j].name);
		}
		hint = spf_term_suggest(body, nlen, false);
		return syntax(p, off, nlen, "unknown mechanism '%.*s%s'%s%s%s",
		    qlen(nlen), body, qdots(nlen), hint ? " (did you mean " :
		    "", hint ? hint : "", hint ? "?)" : "");
	}
	t->mech = mechs[i].mech;
	t->name = mechs[i].name;
	arg = body + nlen;
	an = bn - nlen;
	switch (t->mech) {
	case SPF_MECH_ALL:
		if (an > 0)
			return syntax(p, t->offset + qoff + nlen, an, "'all' "
			    "takes no argument or prefix length (found "
			    "'%.*s%s')", qlen(an), arg, qdots(an));
		st = SPF_OK;
		break;
	case SPF_MECH_INCLUDE:
	case SPF_MECH_EXISTS:
		st = parse_domain_mech(p, t, t->offset + qoff + nlen, arg, an,
		    true);
		break;
	case SPF_MECH_PTR:
		st = parse_domain_mech(p, t, t->offset + qoff + nlen, arg, an,
		    false);
		break;
	case SPF_MECH_A:
	case SPF_MECH_MX:
		st = parse_a_mx(p, t, t->offset + qoff + nlen, arg, an);
		break;
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		st = parse_ip_mech(p, t, t->offset + qoff + nlen, arg, an,
		    t->mech == SPF_MECH_IP6);
		break;
	default:
		st = SPF_OK;
		break;
	}
	return st;
}

/* The record parser; with v2, a well-formed spf2.x version section is
 * accepted too (RFC 4406 §3, issue 5). */
static spf_status_t parse_record(spf_arena_t *arena, const uint8_t *text,
	size_t len, bool v2, spf_record_t **out, spf_parse_error_t *err)
{
	struct parser p;
	spf_version_info_t vi;
	size_t start = 6;
	spf_parse_error_t dummy;
	spf_record_t *rec;
	spf_status_t st;
	size_t pos, n, k;
	char *copy;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (out != NULL)
		*out = NULL;
	if (arena == NULL || out == NULL || (text == NULL && len > 0))
		return SPF_EINVAL;
	copy = spf_arena_alloc(arena, len + 1);
	if (copy == NULL)
		return SPF_ENOMEM;
	if (len > 0)
		memcpy(copy, text, len);
	p.arena = arena;
	p.text = copy;
	p.len = len;
	p.err = err;

	spf_record_version(text, len, &vi);
	if (v2 && vi.version == 2) {
		if (!vi.well_formed)
			return syntax(&p, 0, vi.end, "malformed Sender ID version "
			    "'%.*s%s': %s (RFC 4406 §3)", qlen(vi.end),
			    copy, qdots(vi.end), vi.problem);
		start = vi.end;
	} else if (!spf_record_is_spf1(text, len)) {
		if (len >= 6 && spf_strncaseeq(copy, "v=spf1", 6))
			return syntax(&p, 6, 1, "'v=spf1' must be followed by "
			    "a space or the end of the record");
		for (k = 0; k < len && copy[k] != ' '; k++)
			;
		return syntax(&p, 0, k, "not an SPF record: it must start "
		    "with 'v=spf1' (RFC 7208 §4.5)%s", v2 ? " or with "
		    "'spf2.0/' and scopes (RFC 4406 §3)" : "");
	}

	/* count the terms */
	for (n = 0, pos = start; pos < len;) {
		while (pos < len && copy[pos] == ' ')
			pos++;
		if (pos == len)
			break;
		n++;
		while (pos < len && copy[pos] != ' ')
			pos++;
	}
	rec = spf_arena_alloc(arena, sizeof(*rec));
	if (rec == NULL)
		return SPF_ENOMEM;
	rec->text = (const uint8_t *)copy;
	rec->len = len;
	rec->redirect = rec->exp = rec->all = -1;
	rec->version = vi.version == 2 && v2 ? 2 : 1;
	rec->scopes = rec->version == 2 ? vi.scopes : 0;
	rec->terms_start = start;
	if (n > 0) {
		if (n > SIZE_MAX / sizeof(spf_term_t))
			return SPF_ENOMEM;
		rec->terms = spf_arena_alloc(arena, n * sizeof(spf_term_t));
		if (rec->terms == NULL)
			return SPF_ENOMEM;
	}

	for (k = 0, pos = start; k < n; k++) {
		spf_term_t *t = &rec->terms[k];
		int *slot = NULL;

		while (copy[pos] == ' ')
			pos++;
		t->offset = pos;
		while (pos < len && copy[pos] != ' ')
			pos++;
		t->len = pos - t->offset;
		st = check_bytes(&p, t->offset, t->len);
		if (st != SPF_OK)
			return st;
		st = parse_term(&p, t);
		if (st != SPF_OK)
			return st;
		if (t->is_modifier && t->mod == SPF_MOD_REDIRECT)
			slot = &rec->redirect;
		else if (t->is_modifier && t->mod == SPF_MOD_EXP)
			slot = &rec->exp;
		if (slot != NULL && *slot >= 0)
			return syntax(&p, t->offset, t->len, "second %s= "
			    "modifier (the first is at offset %zu); each may "
			    "appear only once (RFC 7208 §6)", t->name,
			    rec->terms[*slot].offset);
		if (slot != NULL)
			*slot = (int)k;
		if (!t->is_modifier && t->mech == SPF_MECH_ALL &&
		    rec->all < 0)
			rec->all = (int)k;
	}
	rec->nterms = n;
	*out = rec;
	return SPF_OK;
}

spf_status_t spf_record_parse(spf_arena_t *arena, const uint8_t *text,
	size_t len, spf_record_t **out, spf_parse_error_t *err)
{
	return parse_record(arena, text, len, false, out, err);
}

spf_status_t spf_record_parse_version(spf_arena_t *arena,
	const uint8_t *text, size_t len, spf_record_t **out,
	spf_parse_error_t *err)
{
	return parse_record(arena, text, len, true, out, err);
}

/* ---- Sender ID version sections (RFC 4406 §3; SPECS A.1, SID-04) ---- */

static bool is_scope_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

const char *spf_version_problem(unsigned flags)
{
	static const struct {
		unsigned flag;
		const char *text;
	} msgs[] = {
		{ SPF_VER_V_PREFIX, "RFC 4406 writes the version without 'v=' "
		    "('spf2.0/pra'); only ARSoft.Tools.Net accepts 'v=spf2.0'" },
		{ SPF_VER_BAD_MINOR, "the version needs a minor number of "
		    "digits, as in 'spf2.0/'" },
		{ SPF_VER_NO_SCOPE, "the version needs a scope list: "
		    "'spf2.0/mfrom', 'spf2.0/pra' or 'spf2.0/mfrom,pra'" },
		{ SPF_VER_SPACE_SCOPE, "there is a space inside the scope list; "
		    "write it without spaces, e.g. 'spf2.0/mfrom,pra'" },
		{ SPF_VER_EMPTY_SCOPE, "the scope list has an empty scope "
		    "(a stray ',' or nothing after '/')" },
		{ SPF_VER_BAD_CHAR, "the scope list contains a character that "
		    "is not allowed in a scope name; the version section must "
		    "end with a space" },
		{ SPF_VER_UNKNOWN_ONLY, "no known scope: only 'mfrom' and 'pra' "
		    "are defined, so no receiver selects this record" },
		{ SPF_VER_MINOR_NOT_0, "the minor version is not 0: legal, but "
		    "Mail::SPF recognises only 'spf2.0'" },
		{ SPF_VER_REPEATED, "a scope is listed more than once" },
		{ SPF_VER_UPPER, "the version section is in upper case: legal, "
		    "but lower case is what every implementation expects" },
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (flags & msgs[i].flag)
			return msgs[i].text;
	return NULL;
}

/* Does s[0..n) start with a word that reads as a scope list rather than
 * a term (letters, digits, '-', '_', '.', ',' up to SP or the end, and
 * not a mechanism name)?  Tells "spf2.0/mfrom, pra" from "spf2.0/pra, a". */
static bool scope_word(const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && s[k] != ' ') {
		if (!is_scope_char(s[k]) && s[k] != ',')
			return false;
		k++;
	}
	if (k == 0 || !is_alpha(s[0]))
		return false;
	for (size_t i = 0; i < NMECHS; i++)
		if (strlen(mechs[i].name) == k && spf_strncaseeq(s, mechs[i].name, k))
			return false;
	return true;
}

void spf_record_version(const uint8_t *text, size_t len,
	spf_version_info_t *out)
{
	const char *s = (const char *)text;
	size_t i, tok, slash;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return;
	if (spf_record_is_spf1(text, len)) {
		out->version = 1;
		out->well_formed = true;
		out->end = 6;
		return;
	}
	i = 0;
	if (len >= 6 && spf_strncaseeq(s, "v=spf2", 6)) {
		out->flags |= SPF_VER_V_PREFIX;
		i = 2;
	} else if (len < 4 || !spf_strncaseeq(s, "spf2", 4)) {
		return;
	}
	out->version = 2;
	for (tok = 0; tok < len && s[tok] != ' '; tok++)
		;
	out->end = tok;
	i += 4;
	for (slash = i; slash < tok && s[slash] != '/'; slash++)
		;
	/* "." 1*DIGIT between "spf2" and "/" */
	if (i >= slash || s[i] != '.' || i + 1 == slash) {
		out->flags |= SPF_VER_BAD_MINOR;
	} else {
		for (size_t k = i + 1; k < slash; k++) {
			if (!is_digit(s[k])) {
				out->flags |= SPF_VER_BAD_MINOR;
				break;
			}
			if (out->minor < 9999)
				out->minor = out->minor * 10 + (unsigned)(s[k] - '0');
		}
		if (!(out->flags & SPF_VER_BAD_MINOR) && out->minor != 0)
			out->flags |= SPF_VER_MINOR_NOT_0;
	}
	if (slash == tok) {
		out->flags |= SPF_VER_NO_SCOPE;
	} else {
		/* scope-id *( "," scope-id ), scope-id = name */
		size_t b = slash + 1;

		for (;;) {
			size_t e = b;

			while (e < tok && s[e] != ',')
				e++;
			if (e == b) {
				/* "spf2.0/mfrom, pra": (e), not (d) */
				if (!(e == tok && e > slash + 1 && tok < len &&
				    scope_word(s + tok + 1, len - tok - 1)))
					out->flags |= SPF_VER_EMPTY_SCOPE;
			} else {
				bool ok = is_alpha(s[b]);

				for (size_t k = b; k < e && ok; k++)
					ok = is_scope_char(s[k]);
				if (!ok)
					out->flags |= SPF_VER_BAD_CHAR;
				out->nscopes++;
				if (e - b == 5 && spf_strncaseeq(s + b, "mfrom", 5)) {
					if (out->scopes & SPF_SCOPE_BIT_MFROM)
						out->flags |= SPF_VER_REPEATED;
					out->scopes |= SPF_SCOPE_BIT_MFROM;
				} else if (e - b == 3 && spf_strncaseeq(s + b, "pra", 3)) {
					if (out->scopes & SPF_SCOPE_BIT_PRA)
						out->flags |= SPF_VER_REPEATED;
					out->scopes |= SPF_SCOPE_BIT_PRA;
				}
			}
			if (e == tok)
				break;
			b = e + 1;
		}
		/* "spf2.0/mfrom, pra" or "spf2.0/mfrom ,pra" */
		if (tok < len && ((s[tok - 1] == ',' && scope_word(s + tok + 1,
		    len - tok - 1)) || (tok + 1 < len && s[tok + 1] == ',')))
			out->flags |= SPF_VER_SPACE_SCOPE;
		if (out->scopes == 0 && !(out->flags & SPF_VER_MALFORMED))
			out->flags |= SPF_VER_UNKNOWN_ONLY;
	}
	for (size_t k = 0; k < tok; k++)
		if (s[k] >= 'A' && s[k] <= 'Z') {
			out->flags |= SPF_VER_UPPER;
			break;
		}
	out->well_formed = !(out->flags & SPF_VER_MALFORMED);
	out->problem = spf_version_problem(out->flags);
}
