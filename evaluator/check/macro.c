/*
 * macro.c - check and expand SPF macro-strings (RFC 7208 §7).
 *
 * DESCRIPTION
 *	A macro-string is literal text with "%{...}" macros and the escapes
 *	"%%", "%_" and "%-" (RFC 7208 §7.1).  spf_macro_check() validates the
 *	syntax only; spf_macro_expand() checks, then appends the expansion to
 *	a bounded buffer (spf_buf_t); spf_macro_uses_ptr() tells whether the
 *	p letter (a PTR lookup, counted by §4.6.4) is used;
 *	spf_macro_domain_only() whether the expansion depends on nothing but
 *	<domain> (so it is the same for every message checked against it).
 *	spf_term_target() is the one place a term's domain-spec becomes the
 *	name its lookups go to (RFC 7208 §4.8, §7.3): the evaluation, its
 *	speculative prefetch, its exp= and the Sender ID checks all use
 *	it.  It reads the class spf_spec_class() gave the domain-spec when
 *	the record was parsed (literal, valid, uses %{p}), so a literal
 *	target costs no scan per evaluation.
 *
 *	One tokenizer (next_token) serves all four, so checking and
 *	expanding can never disagree about what is valid.
 *
 *	Processing of one macro (RFC 7208 §7.3): take the letter's value,
 *	split it on the delimiters (default "."), reverse the parts if "r"
 *	was given, keep the rightmost N parts if a digit count N was given
 *	(N larger than the number of parts keeps them all), and join them
 *	with "." whatever the delimiters were.  An upper-case letter then
 *	URL-escapes every byte outside RFC 3986 "unreserved".  The split,
 *	reverse and join run directly over the value; nothing is allocated
 *	except by the output buffer.
 *
 *	Choices where the RFC is silent or the test suite decides:
 *	- "i" of an IPv6 address is 32 dot-separated nibbles in UPPER-case
 *	  hex (rfc7208-tests.yml v-macro-ip6 expects "...E.B.A.B.E.F.A.C");
 *	  "c" of an IPv6 address is the RFC 5952 form (lower case).
 *	- the digit transformer may have leading zeros ("%{d02}" = 2); a
 *	  value of zero is an error (§7.3 "MUST be nonzero").  "r"/"R" are
 *	  both accepted, like the letters (ABNF strings are case-insensitive).
 *	- NULL context strings: h, p and r become "unknown" (§7.2, §7.3);
 *	  s, l, o and d become "".
 *	- With SPF_MACRO_DOMAIN an expansion over 253 characters loses whole
 *	  labels from the left until it fits (§7.3); a trailing dot is not
 *	  counted.  A single label that is still too long is left alone: the
 *	  name is then invalid and the DNS layer treats it as non-existent.
 *
 * DIAGNOSTICS
 *	Syntax errors give an offset (of the '%' that starts the bad
 *	sequence, or of the bad byte in literal text) and a static English
 *	message.  spf_macro_expand() returns SPF_ESYNTAX for those, and
 *	SPF_ENOMEM / SPF_ETOOBIG from the output buffer; on a syntax error
 *	nothing is appended.
 */
#include "internal.h"

#include <string.h>

enum tok_kind {
	TOK_LITERAL,   /* s[start, end) copied as is */
	TOK_ESCAPE,    /* %% %_ %- : text in esc */
	TOK_MACRO,     /* %{...} */
};

struct token {
	enum tok_kind kind;
	size_t start, end;      /* span in the macro-string */
	const char *esc;        /* TOK_ESCAPE: replacement text */
	char letter;            /* TOK_MACRO: lower-case letter */
	bool upper;             /* TOK_MACRO: URL-escape the result */
	size_t keep;            /* TOK_MACRO: rightmost parts, 0 = all */
	bool reverse;           /* TOK_MACRO: "r" transformer */
	size_t delim_start;     /* TOK_MACRO: delimiter chars in s */
	size_t delim_len;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_delimiter(char c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/* Fail with offset off and message msg. */
static bool fail(size_t *erroff, const char **errmsg, size_t off,
	const char *msg)
{
	if (erroff != NULL)
		*erroff = off;
	if (errmsg != NULL)
		*errmsg = msg;
	return false;
}

/* Is byte c allowed as literal text?  RFC 7208 §7.1 macro-literal is
 * %x21-24 / %x26-7E; explain-string also allows SP. */
static const char *literal_problem(unsigned char c, int flags)
{
	if (c == ' ')
		return (flags & SPF_MACRO_EXP) ? NULL :
		    "a space is not allowed here (write %_ for a space)";
	if (c == 0)
		return "NUL byte in macro-string";
	if (c < 0x20 || c == 0x7f)
		return "control character in macro-string";
	if (c >= 0x80)
		return "non-ASCII byte in macro-string (SPF text must be "
		    "US-ASCII, RFC 7208 §3.1)";
	return NULL;
}

/*
 * Parse the token starting at *pos (< len).  On success fill *t, advance
 * *pos and return true; otherwise return false and set *erroff and *errmsg.
 */
static bool next_token(const char *s, size_t len, size_t *pos, int flags,
	struct token *t, size_t *erroff, const char **errmsg)
{
	size_t p = *pos, start = *pos;
	char c, lc;

	memset(t, 0, sizeof(*t));
	t->start = start;
	if (s[p] != '%') {
		for (; p < len && s[p] != '%'; p++) {
			unsigned char b = (unsigned char)s[p];
			const char *why;

			if (b > ' ' && b < 0x7f)
				continue;   /* %x21-7E: literal everywhere */
			why = literal_problem(b, flags);
			if (why != NULL)
				return fail(erroff, errmsg, p, why);
		}
		t->kind = TOK_LITERAL;
		t->end = *pos = p;
		return true;
	}
	if (p + 1 >= len)
		return fail(erroff, errmsg, start,
		    "'%' at the end of the text; write '%%' for a literal "
		    "percent sign");
	c = s[p + 1];
	if (c == '%' || c == '_' || c == '-') {
		t->kind = TOK_ESCAPE;
		t->esc = c == '%' ? "%" : c == '_' ? " " : "%20";
		t->end = *pos = p + 2;
		return true;
	}
	if (c != '{')
		return fail(erroff, errmsg, start,
		    "'%' must be followed by '{', '%', '_' or '-'; write "
		    "'%%' for a literal percent sign (RFC 7208 §7.1)");
	p += 2;
	if (p >= len)
		return fail(erroff, errmsg, start,
		    "unterminated macro: missing letter and '}'");
	c = s[p];
	lc = spf_lower(c);
	if (!is_alpha(c) || strchr("slodiphvcrt", lc) == NULL)
		return fail(erroff, errmsg, start,
		    "unknown macro letter; valid letters are s l o d i p h v "
		    "(and c r t in explanation text), RFC 7208 §7.2");
	if (strchr("crt", lc) != NULL && !(flags & SPF_MACRO_EXP))
		return fail(erroff, errmsg, start,
		    "macro letters c, r and t are only allowed in "
		    "explanation text, not in domain names (RFC 7208 §7.2)");
	t->kind = TOK_MACRO;
	t->letter = lc;
	t->upper = c != lc;
	p++;
	if (p < len && is_digit(s[p])) {
		size_t n = 0;

		for (; p < len && is_digit(s[p]); p++) {
			/* saturate: more parts than any value can have */
			if (n < (size_t)1 << 20)
				n = n * 10 + (size_t)(s[p] - '0');
		}
		if (n == 0)
			return fail(erroff, errmsg, start,
			    "the number of parts in a macro must not be 0 "
			    "(RFC 7208 §7.3)");
		t->keep = n;
	}
	if (p < len && (s[p] == 'r' || s[p] == 'R')) {
		t->reverse = true;
		p++;
	}
	t->delim_start = p;
	while (p < len && is_delimiter(s[p]))
		p++;
	t->delim_len = p - t->delim_start;
	if (p >= len)
		return fail(erroff, errmsg, start,
		    "unterminated macro: missing '}'");
	if (s[p] != '}')
		return fail(erroff, errmsg, start,
		    "invalid character in macro: after the letter only "
		    "digits, 'r' and the delimiters . - + , / _ = may come "
		    "before '}'");
	t->end = *pos = p + 1;
	return true;
}

bool spf_macro_check(const char *s, size_t len, int flags,
	size_t *erroff, const char **errmsg)
{
	size_t pos = 0;
	struct token t;

	if (s == NULL && len > 0)
		return fail(erroff, errmsg, 0, "no text");
	while (pos < len)
		if (!next_token(s, len, &pos, flags, &t, erroff, errmsg))
			return false;
	return true;
}

bool spf_macro_uses_ptr(const char *s, size_t len)
{
	size_t pos = 0;
	struct token t;

	if (s == NULL || memchr(s, '%', len) == NULL)
		return false;
	while (pos < len) {
		if (!next_token(s, len, &pos, SPF_MACRO_EXP, &t, NULL, NULL))
			return false;
		if (t.kind == TOK_MACRO && t.letter == 'p')
			return true;
	}
	return false;
}

bool spf_macro_domain_only(const char *s, size_t len)
{
	size_t pos = 0;
	struct token t;

	if (s == NULL)
		return false;
	while (pos < len) {
		if (!next_token(s, len, &pos, SPF_MACRO_DOMAIN, &t, NULL, NULL))
			return false;
		if (t.kind == TOK_MACRO && t.letter != 'd')
			return false;
	}
	return true;
}

/* ---- expansion ---- */

/* An upper-case macro letter's value is URL-encoded (RFC 7208 §7.3). */
static void put_text(spf_buf_t *out, const char *p, size_t n, bool escape)
{
	if (escape)
		spf_buf_percent_encode(out, p, n, NULL);
	else
		spf_buf_append(out, p, n);
}

/* Is c one of the n delimiters in set?  Mostly the default ".". */
static bool in_set(char c, const char *set, size_t n)
{
	if (n == 1)
		return c == set[0];
	return memchr(set, c, n) != NULL;
}

/*
 * Emit value v (n bytes) split on the delimiters in set (setlen bytes),
 * optionally reversed, keeping the rightmost keep parts (0 = all),
 * joined with ".".
 */
static void put_transformed(spf_buf_t *out, const char *v, size_t n,
	const char *set, size_t setlen, bool reverse, size_t keep,
	bool escape)
{
	size_t parts = 1, i;

	for (i = 0; i < n; i++)
		if (in_set(v[i], set, setlen))
			parts++;
	if (keep == 0 || keep > parts)
		keep = parts;

	if (!reverse) {
		/* The rightmost keep parts are a suffix of v: skip the
		 * first parts - keep delimiters. */
		size_t skip = parts - keep, b = 0;

		for (i = 0; i < n && skip > 0; i++)
			if (in_set(v[i], set, setlen))
				skip--;
		b = i;
		for (i = b; i < n; i++) {
			size_t e = i;

			while (e < n && !in_set(v[e], set, setlen))
				e++;
			put_text(out, v + i, e - i, escape);
			if (e < n)
				spf_buf_putc(out, '.');
			i = e;
		}
		/* a value ending in a delimiter ends in an empty part */
		return;
	}

	/* Reversed list p[parts-1] ... p[0]; its rightmost keep parts are
	 * p[keep-1] ... p[0]: walk the prefix holding p[0..keep-1]
	 * backwards. */
	{
		size_t end = 0, seen = 0;

		for (end = 0; end < n; end++) {
			if (in_set(v[end], set, setlen) && ++seen == keep)
				break;
		}
		/* v[0, end) holds parts 0 .. keep-1 */
		for (;;) {
			size_t b = end;

			while (b > 0 && !in_set(v[b - 1], set, setlen))
				b--;
			put_text(out, v + b, end - b, escape);
			if (b == 0)
				break;
			spf_buf_putc(out, '.');
			end = b - 1;
		}
	}
}

/* The 32 nibbles of an IPv6 address, most significant first, upper-case
 * hex, dot-separated: 2001:db8::1 -> "2.0.0.1.0.D.B.8. ... .0.1". */
static void ip6_nibbles(const spf_addr_t *a, char *dst, size_t dstlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		unsigned hi = a->addr[i] >> 4, lo = a->addr[i] & 15u;

		if (o + 4 >= dstlen)
			break;
		if (i > 0)
			dst[o++] = '.';
		dst[o++] = hex[hi];
		dst[o++] = '.';
		dst[o++] = hex[lo];
	}
	dst[o] = '\0';
}

/* Decimal text of t into dst (at least 24 bytes). */
static void time_text(time_t t, char *dst, size_t dstlen)
{
	char tmp[24];
	size_t n = 0, o = 0;
	bool neg = t < 0;
	/* work with a non-positive value so that the minimum fits */
	long long v = (long long)t;

	if (!neg)
		v = -v;
	do {
		tmp[n++] = (char)('0' - (v % 10));
		v /= 10;
	} while (v != 0 && n < sizeof(tmp));
	if (neg && o + 1 < dstlen)
		dst[o++] = '-';
	while (n > 0 && o + 1 < dstlen)
		dst[o++] = tmp[--n];
	dst[o] = '\0';
}

static const char *or_unknown(const char *s)
{
	return s != NULL ? s : "unknown";
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static void expand_macro(const char *s, const struct token *t,
	const spf_macro_ctx_t *ctx, spf_buf_t *out)
{
	char tmp[80] = { 0 };  /* 63 for 32 nibbles, 46 for an address */
	const char *v = tmp;

	tmp[0] = '\0';
	switch (t->letter) {
	case 's': v = or_empty(ctx->sender); break;
	case 'l': v = or_empty(ctx->local); break;
	case 'o': v = or_empty(ctx->sender_domain); break;
	case 'd': v = or_empty(ctx->domain); break;
	case 'h': v = or_unknown(ctx->helo); break;
	case 'p': v = or_unknown(ctx->ptr); break;
	case 'r': v = or_unknown(ctx->receiver); break;
	case 'v': v = ctx->ip.family == 6 ? "ip6" : "in-addr"; break;
	case 'i':
		if (ctx->ip.family == 6)
			ip6_nibbles(&ctx->ip, tmp, sizeof(tmp));
		else
			spf_addr_str(&ctx->ip, tmp, sizeof(tmp));
		break;
	case 'c':
		spf_addr_str(&ctx->ip, tmp, sizeof(tmp));
		break;
	case 't':
		time_text(ctx->now, tmp, sizeof(tmp));
		break;
	default:
		break;
	}
	if (t->delim_len > 0)
		put_transformed(out, v, strlen(v), s + t->delim_start,
		    t->delim_len, t->reverse, t->keep, t->upper);
	else
		put_transformed(out, v, strlen(v), ".", 1, t->reverse,
		    t->keep, t->upper);
}

/* RFC 7208 §7.3: drop labels from the left of out[start..] until the
 * name (without a trailing dot) has at most 253 characters. */
static void truncate_domain(spf_buf_t *out, size_t start)
{
	char *name = out->data + start;
	size_t n = out->len - start, drop = 0;
	size_t eff = (n > 0 && name[n - 1] == '.') ? n - 1 : n;

	while (eff - drop > 253) {
		const char *dot = memchr(name + drop, '.', eff - drop);

		if (dot == NULL)
			break;
		drop = (size_t)(dot - name) + 1;
	}
	if (drop == 0 || eff - drop > 253)
		return;
	memmove(name, name + drop, n - drop);
	out->len -= drop;
	out->data[out->len] = '\0';
}

spf_status_t spf_macro_expand(const char *s, size_t len,
	const spf_macro_ctx_t *ctx, int flags, spf_buf_t *out,
	const char **errmsg)
{
	size_t pos = 0, start, erroff;
	struct token t;

	if (out == NULL || ctx == NULL || (s == NULL && len > 0))
		return SPF_EINVAL;
	if (out->err != SPF_OK)
		return out->err;
	if (!spf_macro_check(s, len, flags, &erroff, errmsg))
		return SPF_ESYNTAX;
	start = out->len;
	/* make sure data is allocated and NUL-terminated even when the
	 * expansion is empty */
	if (spf_buf_append(out, "", 0) != SPF_OK)
		return out->err;
	while (pos < len && out->err == SPF_OK) {
		next_token(s, len, &pos, flags, &t, NULL, NULL);
		switch (t.kind) {
		case TOK_LITERAL:
			spf_buf_append(out, s + t.start, t.end - t.start);
			break;
		case TOK_ESCAPE:
			spf_buf_puts(out, t.esc);
			break;
		case TOK_MACRO:
			expand_macro(s, &t, ctx, out);
			break;
		}
	}
	if (out->err != SPF_OK)
		return out->err;
	if (flags & SPF_MACRO_DOMAIN)
		truncate_domain(out, start);
	return SPF_OK;
}

/* ---- the target of a term ---- */

unsigned spf_spec_class(const char *s, size_t len)
{
	/* its own expansion: no macro, no trailing dot, nothing to cut */
	if (memchr(s, '%', len) == NULL && len > 0 && len <= 253 &&
	    s[len - 1] != '.')
		return SPF_SPEC_LITERAL | (spf_name_ok(s) ? SPF_SPEC_VALID : 0);
	return spf_macro_uses_ptr(s, len) ? SPF_SPEC_PTR : 0;
}

spf_status_t spf_term_target(spf_arena_t *arena, const spf_term_t *t,
	const char *domain, const spf_macro_ctx_t *ctx, spf_target_t *out,
	const char **errmsg)
{
	spf_macro_ctx_t dctx;
	spf_buf_t b;
	spf_status_t st;
	size_t len;

	out->name = NULL;
	out->valid = false;
	out->dynamic = false;
	if (t->domain_spec == NULL) {
		/* RFC 7208 §5: no domain-spec is <domain>, already checked */
		out->name = domain;
		out->valid = true;
		return SPF_OK;
	}
	if (t->spec & SPF_SPEC_LITERAL) {
		out->name = t->domain_spec;
		out->valid = (t->spec & SPF_SPEC_VALID) != 0;
		return SPF_OK;
	}
	if (ctx == NULL) {
		if (!spf_macro_domain_only(t->domain_spec, t->domain_spec_len)) {
			out->dynamic = true;
			return SPF_OK;
		}
		dctx = (spf_macro_ctx_t){ 0 };
	} else {
		dctx = *ctx;
	}
	dctx.domain = domain;   /* with ctx NULL nothing else is known */
	spf_buf_init(&b, SPF_TARGET_MAX_EXPANSION);
	st = spf_macro_expand(t->domain_spec, t->domain_spec_len, &dctx,
		SPF_MACRO_DOMAIN, &b, errmsg);
	if (st == SPF_OK) {
		/* RFC 7208 §7.3 leaves a trailing dot to the DNS: drop it */
		len = b.len;
		if (len > 0 && b.data[len - 1] == '.')
			len--;
		out->name = spf_arena_strndup(arena, b.data, len);
		if (out->name == NULL)
			st = SPF_ENOMEM;
		else
			out->valid = spf_name_ok(out->name);
	}
	spf_buf_finish(&b);
	return st;
}
