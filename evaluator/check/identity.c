/*
 * identity.c - the identities of a message as SMTP delivers them: the
 * client address, the MAIL FROM and the HELO name, read and checked in
 * one place for every caller (check, explain, batch, policyd and
 * spf_check_start() itself).
 *
 * DESCRIPTION
 *	RFC 7208 §4.3: only a malformed <domain> makes check_host() return
 *	none, and it does so as a result, not as an error.  The local-part
 *	is whatever the MAIL FROM carried: spaces and quotes of an RFC 5321
 *	Quoted-string, an "@" inside one, UTF-8 (RFC 6531 SMTPUTF8) are all
 *	kept as bytes and expanded by %{l} (§7.3).  A HELO name that is not
 *	a host name is still %{h}; only the HELO identity itself is then
 *	none.
 *
 *	The sender is split at its LAST "@": RFC 5321 §4.1.2's Domain
 *	cannot hold one, so anything before it belongs to the local-part
 *	("a@b"@example.com, which Postfix hands a policy service unquoted
 *	as a@b@example.com).  pyspf splits at the first "@" and then finds
 *	the domain "b@example.com" malformed (none); we follow the RFC 5321
 *	grammar and Postfix.  "<...>" around the sender is removed; "" and
 *	"<>" are the null sender, checked as postmaster@HELO (§2.4); a
 *	sender without "@" or with an empty local-part uses "postmaster"
 *	(§4.3).  A non-ASCII domain is looked up as its A-label (IDNA2008,
 *	UTS #46 mapping); one that cannot be converted is a malformed domain.
 *
 * DIAGNOSTICS
 *	Refused (SPF_EINVAL, with a one-line reason naming the rule) is
 *	only what cannot be evaluated at all: a sender or HELO holding CR or
 *	LF (RFC 5321 §2.3.8: no SMTP command line can carry them) or longer
 *	than SPF_IDENTITY_MAX bytes, and a client address that is not an
 *	IPv4 or IPv6 address, an IPv6 zone index ("fe80::1%eth0") included:
 *	it names an interface of the receiving host (RFC 4007 §11), and an
 *	SPF <ip> (RFC 7208 §4.1) is the address alone.
 */
#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* RFC 7208 §4.3: the domain of an identity must be a multi-label name
 * of letters, digits, hyphens and underscores (no domain literal), with
 * no empty label, none over 63 bytes and at most 253 bytes in all (what
 * spf_name_ok() checks, here in the same pass as the bytes).  A byte
 * that is not allowed is named first, wherever it is. */
const char *spf_domain_problem(const char *d)
{
	const char *p;
	size_t label = 0;
	bool dot = false, labels_ok = true;

	if (*d == '\0')
		return "the domain is empty";
	if (*d == '[')
		return "a domain literal is not a domain name";
	for (p = d; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		/* (c | 0x20) maps only A-Z (and a-z) onto a-z */
		if ((unsigned char)((c | 0x20) - 'a') < 26 ||
		    (unsigned char)(c - '0') < 10 || c == '-' || c == '_') {
			if (++label > 63)
				labels_ok = false;
		} else if (c == '.') {
			if (label == 0)
				labels_ok = false;
			label = 0;
			dot = true;
		} else if (c >= 0x80) {
			return "the domain is not ASCII (convert it to an A-label)";
		} else {
			return "the domain contains a character not allowed in a host name";
		}
	}
	if (!labels_ok || label == 0 || (size_t)(p - d) > 253)
		return "the domain has an empty label, a label over 63 characters or is over 253 characters";
	if (!dot)
		return "the domain is not a multi-label domain name";
	return NULL;
}

static bool has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* Has s (len bytes) a byte >= 0x80?  Eight bytes at a time. */
static bool has_8bit_n(const char *s, size_t len)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + sizeof(w) <= len; i += sizeof(w)) {
		memcpy(&w, s + i, sizeof(w));
		acc |= w;
	}
	for (; i < len; i++)
		acc |= (unsigned char)s[i];
	return (acc & 0x8080808080808080u) != 0;
}

/* s for a message: control bytes, non-ASCII and backslash as \xNN, at
 * most about 100 characters. */
static const char *quoted(spf_arena_t *arena, const char *s)
{
	spf_buf_t b;
	const char *q;

	spf_buf_init(&b, 128);
	spf_buf_escape(&b, s, strlen(s), SPF_ESC_HEX, 120);
	q = b.err == SPF_OK ? spf_arena_strdup(arena, spf_buf_cstr(&b)) : NULL;
	spf_buf_finish(&b);
	return q;
}

/* Why text (a sender or a HELO name) cannot be evaluated at all, or
 * NULL; its length in *lenp. */
static const char *refusal(spf_arena_t *arena, const char *what, const char *text,
	size_t *lenp)
{
	size_t len = strlen(text);

	*lenp = len;

	if (strpbrk(text, "\r\n") != NULL)
		return spf_arena_printf(arena, "%s '%s' contains CR or LF, which no SMTP "
			"command line can carry (RFC 5321 §2.3.8)", what, quoted(arena, text));
	if (len > SPF_IDENTITY_MAX)
		return spf_arena_printf(arena, "%s is %zu bytes long: over the %d an SMTP "
			"command line holds here (RFC 5321 §4.5.3.1.4 allows 512)",
			what, len, SPF_IDENTITY_MAX);
	return NULL;
}

const char *spf_client_addr_problem(const char *s, spf_addr_t *out)
{
	const char *pct;

	if (s != NULL && spf_addr_parse(s, out))
		return NULL;
	if (s == NULL || *s == '\0')
		return "the client address is empty";
	pct = strchr(s, '%');
	if (pct != NULL && strchr(s, ':') != NULL) {
		char head[64];
		size_t n = (size_t)(pct - s);
		spf_addr_t a;

		if (n < sizeof(head)) {
			memcpy(head, s, n);
			head[n] = '\0';
			if (spf_addr_parse(head, &a) && a.family == 6)
				return "an IPv6 zone index (\"%...\") names an interface of "
					"this host, not part of the address (RFC 4007 §11); "
					"SPF checks the address alone (RFC 7208 §4.1)";
		}
	}
	return "not an IPv4 or IPv6 address (RFC 7208 §4.1)";
}

/* name as its A-label when it has non-ASCII bytes and converts; else
 * name itself (*idn_why then says why it did not convert).  NULL only
 * when memory runs out. */
static const char *alabel(spf_arena_t *arena, const char *name, const char **idn_why)
{
	char *a = NULL;
	const char *copy;
	spf_status_t st;

	*idn_why = NULL;
	if (!has_8bit(name))
		return name;
	st = spf_dns_to_ascii(name, &a, idn_why);
	if (st == SPF_ENOMEM)
		return NULL;
	if (st != SPF_OK)
		return *idn_why != NULL ? name : (*idn_why = "not a valid IDN", name);
	copy = spf_arena_strdup(arena, a);
	spf_free(a);
	return copy;
}

spf_status_t spf_identity_read(spf_arena_t *arena, const char *ip,
	const char *sender, const char *helo, spf_identity_parts_t *out,
	const char **why)
{
	const char *s, *at, *dom, *p;
	size_t len, hlen = 0;

	if (why != NULL)
		*why = NULL;
	if (arena == NULL || out == NULL)
		return SPF_EINVAL;
	memset(out, 0, sizeof(*out));
	if (ip != NULL && (p = spf_client_addr_problem(ip, &out->ip)) != NULL) {
		if (why != NULL)
			*why = spf_arena_printf(arena, "client address '%s': %s",
				quoted(arena, ip), p);
		return SPF_EINVAL;
	}
	s = sender != NULL ? sender : "";
	if ((p = refusal(arena, "sender", s, &len)) != NULL ||
	    (helo != NULL && (p = refusal(arena, "HELO name", helo, &hlen)) != NULL)) {
		if (why != NULL)
			*why = p;
		return SPF_EINVAL;
	}

	/* the HELO name: %{h}, and the HELO identity's domain */
	if (helo != NULL && *helo != '\0') {
		out->helo = has_8bit_n(helo, hlen) ?
			alabel(arena, helo, &out->helo_idn_why) : helo;
		if (out->helo == helo)
			out->helo = spf_arena_strndup(arena, helo, hlen);
		if (out->helo == NULL)
			return SPF_ENOMEM;
	}

	/* the MAIL FROM as given, without "<...>" */
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s = spf_arena_strndup(arena, s + 1, len - 2);
		len -= 2;
	}
	if (s == NULL)
		return SPF_ENOMEM;
	out->null_sender = *s == '\0';
	at = strrchr(s, '@');
	dom = at != NULL ? at + 1 : s;
	if (*s != '\0' && has_8bit_n(dom, len - (size_t)(dom - s))) {
		const char *a = alabel(arena, dom, &out->sender_idn_why);

		if (a == NULL)
			return SPF_ENOMEM;
		if (a != dom)
			s = spf_arena_printf(arena, "%.*s%s", (int)(dom - s), s, a);
		if (s == NULL)
			return SPF_ENOMEM;
	}
	out->sender = s;
	return SPF_OK;
}

spf_status_t spf_identity_pick(spf_arena_t *arena, const spf_identity_parts_t *in,
	spf_identity_t which, spf_identity_parts_t *out)
{
	static const char postmaster[] = "postmaster";
	spf_identity_parts_t r;
	const char *at = NULL, *local = postmaster, *dom, *dom_why;
	size_t ll = sizeof(postmaster) - 1, dl, own;
	char *c;

	if (arena == NULL || in == NULL || out == NULL)
		return SPF_EINVAL;
	r = *in;
	/* what check_host() gets (RFC 7208 §2.3, §2.4, §4.3) */
	if (which == SPF_IDENTITY_HELO || r.null_sender) {
		dom = r.helo != NULL ? r.helo : "";
		dom_why = r.helo_idn_why;
	} else {
		at = strrchr(r.sender, '@');
		if (at != NULL && at != r.sender) {
			local = r.sender;
			ll = (size_t)(at - r.sender);
		}
		dom = at != NULL ? at + 1 : r.sender;
		dom_why = r.sender_idn_why;
	}
	dl = strlen(dom);
	if (dl > 0 && dom[dl - 1] == '.')
		dl--;
	/* one block, without printf (every check): the local-part when it
	 * is the sender's (NUL-terminated), then "local@domain", whose tail
	 * is the domain (no final dot) */
	own = local == postmaster ? 0 : ll + 1;
	c = spf_arena_alloc(arena, own + ll + 1 + dl + 1);
	if (c == NULL)
		return SPF_ENOMEM;
	if (own > 0) {
		memcpy(c, local, ll);
		c[ll] = '\0';
		r.local = c;
	} else {
		r.local = postmaster;
	}
	r.checked = c + own;
	memcpy(c + own, local, ll);
	c[own + ll] = '@';
	memcpy(c + own + ll + 1, dom, dl);
	c[own + ll + 1 + dl] = '\0';
	r.domain = r.checked + ll + 1;
	if (dom_why != NULL)
		r.malformed = spf_arena_printf(arena,
			"cannot convert it to an A-label (%s)", dom_why);
	else
		r.malformed = spf_domain_problem(r.domain);
	*out = r;
	return SPF_OK;
}

spf_status_t spf_identity_parse(spf_arena_t *arena, const char *ip,
	const char *sender, const char *helo, spf_identity_t which,
	spf_identity_parts_t *out, const char **why)
{
	spf_status_t st = spf_identity_read(arena, ip, sender, helo, out, why);

	return st == SPF_OK ? spf_identity_pick(arena, out, which, out) : st;
}
