/*
 * mime.c - the report attached to a mail message: a minimal MIME reader
 * (RFC 2045, 2046) for what DMARC reporters send, an aggregate report
 * (RFC 9990 §5.1) as an XML, gzip or zip part of a message.
 *
 * DESCRIPTION
 *	An entity is its header (up to the first empty line; lines folded
 *	with leading white space are unfolded) and its body.  Only three
 *	fields count: Content-Type (the type, and its boundary and name
 *	parameters), Content-Disposition (filename) and
 *	Content-Transfer-Encoding.  Parameters are tokens or quoted
 *	strings (RFC 2045 §5.1); an RFC 2231 "name*=charset''value" is read
 *	without its charset, its %XX decoded.  A multipart body is split at
 *	lines "--boundary" (trailing white space allowed) up to
 *	"--boundary--"; the line break before a delimiter belongs to it
 *	(RFC 2046 §5.1.1).  Parts are walked depth first, at most MAX_NEST
 *	multiparts deep, and the first leaf that is a report (its type or
 *	its file name says XML, gzip or zip) is decoded: base64 (characters
 *	outside the alphabet skipped, as decoders do), quoted-printable
 *	(soft line breaks, =XX), or the bytes as they are for 7bit, 8bit
 *	and binary.  A message that is not multipart is one leaf.
 *
 *	Nothing is copied but the few field values (each cut at FIELD_MAX
 *	bytes) and the decoded attachment, at most max bytes.  No
 *	recursion on the input beyond MAX_NEST levels.
 *
 * DIAGNOSTICS
 *	One line in why: no header, no report part, multiparts nested past
 *	MAX_NEST, the attachment over max bytes once decoded, an unknown
 *	Content-Transfer-Encoding.
 */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_NEST 8
#define FIELD_MAX 2048

struct span {
	const char *p;
	size_t n;
};

/* what an entity's header says */
struct head {
	char type[FIELD_MAX];      /* "type/subtype", lower case, or "" */
	char boundary[FIELD_MAX];  /* "" when none */
	char name[FIELD_MAX];      /* filename, else Content-Type's name */
	char cte[64];              /* lower case, "" for none */
	bool any;                  /* at least one header field */
};

struct mime {
	size_t max;
	char *why;
	size_t whylen;
	spf_buf_t *out;
	bool found;
};

static void say(struct mime *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct mime *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->why, m->whylen, fmt, ap);
	va_end(ap);
}

/* The line at p (up to end): its length without the line break, and
 * where the next one starts. */
static size_t line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		*next = end;
		return (size_t)(end - p);
	}
	*next = nl + 1;
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

static bool wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Append s[0..n) to dst (cap bytes, NUL-terminated), cut at cap - 1. */
static void append(char *dst, size_t cap, const char *s, size_t n)
{
	size_t have = strlen(dst);

	if (have + 1 >= cap)
		return;
	if (n > cap - 1 - have)
		n = cap - 1 - have;
	memcpy(dst + have, s, n);
	dst[have + n] = '\0';
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = spf_lower(*s);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 2231: charset'language'%XX-encoded value, to the value. */
static void rfc2231(char *v)
{
	char *q = strchr(v, '\''), *r, *w;

	if (q == NULL || (r = strchr(q + 1, '\'')) == NULL)
		return;
	w = v;
	for (const char *s = r + 1; *s != '\0'; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*w++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The parameters of a structured field value (after its first ';'):
 * boundary and name into h.  Names are case-insensitive; the first of
 * each counts.
 */
static void params(const char *s, struct head *h, bool disposition)
{
	while (*s != '\0') {
		char pname[64] = "", val[FIELD_MAX] = "";
		size_t n = 0;
		bool ext;

		while (*s == ';' || *s == ' ' || *s == '\t')
			s++;
		while (s[n] != '\0' && s[n] != '=' && s[n] != ';' && !wsp(s[n]))
			n++;
		append(pname, sizeof(pname), s, n);
		s += n;
		while (wsp(*s))
			s++;
		if (*s != '=') {
			while (*s != '\0' && *s != ';')
				s++;
			continue;
		}
		s++;
		while (wsp(*s))
			s++;
		if (*s == '"') {
			for (s++; *s != '\0' && *s != '"'; s++) {
				if (*s == '\\' && s[1] != '\0')
					s++;
				append(val, sizeof(val), s, 1);
			}
			if (*s == '"')
				s++;
		} else {
			n = 0;
			while (s[n] != '\0' && s[n] != ';' && !wsp(s[n]))
				n++;
			append(val, sizeof(val), s, n);
			s += n;
		}
		lower(pname);
		ext = pname[0] != '\0' && pname[strlen(pname) - 1] == '*';
		if (ext) {
			pname[strlen(pname) - 1] = '\0';
			rfc2231(val);
		}
		if (!disposition && strcmp(pname, "boundary") == 0 &&
		    h->boundary[0] == '\0')
			append(h->boundary, sizeof(h->boundary), val, strlen(val));
		else if (strcmp(pname, disposition ? "filename" : "name") == 0 &&
		    (disposition || h->name[0] == '\0')) {
			h->name[0] = '\0';
			append(h->name, sizeof(h->name), val, strlen(val));
		}
	}
}

/* One unfolded header field. */
static void field(const char *f, size_t n, struct head *h, bool *had_disp)
{
	static const char ct[] = "content-type:", cd[] = "content-disposition:",
		cte[] = "content-transfer-encoding:";
	char v[FIELD_MAX] = "";
	const char *val;
	size_t vn;

	if (n >= sizeof(ct) - 1 && strncasecmp(f, ct, sizeof(ct) - 1) == 0) {
		if (h->type[0] != '\0')
			return;
		val = f + sizeof(ct) - 1, vn = n - (sizeof(ct) - 1);
		append(v, sizeof(v), val, vn);
		{
			char *semi = strchr(v, ';'), *t = v, *e;

			if (semi != NULL)
				*semi = '\0';
			while (wsp(*t))
				t++;
			e = t + strlen(t);
			while (e > t && wsp(e[-1]))
				*--e = '\0';
			append(h->type, sizeof(h->type), t, strlen(t));
			lower(h->type);
			if (semi != NULL)
				params(semi + 1, h, false);
		}
	} else if (n >= sizeof(cd) - 1 && strncasecmp(f, cd, sizeof(cd) - 1) == 0) {
		char *semi;

		if (*had_disp)
			return;
		*had_disp = true;
		append(v, sizeof(v), f + sizeof(cd) - 1, n - (sizeof(cd) - 1));
		semi = strchr(v, ';');
		if (semi != NULL)
			params(semi + 1, h, true);
	} else if (n >= sizeof(cte) - 1 && strncasecmp(f, cte, sizeof(cte) - 1) == 0) {
		const char *t = f + sizeof(cte) - 1, *e = f + n;

		if (h->cte[0] != '\0')
			return;
		while (t < e && wsp(*t))
			t++;
		while (e > t && wsp(e[-1]))
			e--;
		append(h->cte, sizeof(h->cte), t, (size_t)(e - t));
		lower(h->cte);
	}
}

/*
 * The header of the entity e: h filled, *body the rest (after the empty
 * line; empty when there is none).
 */
static void header(struct span e, struct head *h, struct span *body)
{
	const char *p = e.p, *end = e.p + e.n, *next;
	char f[FIELD_MAX];
	size_t fn = 0;
	bool had_disp = false, in_field = false;

	memset(h, 0, sizeof(*h));
	body->p = end, body->n = 0;
	while (p < end) {
		size_t n = line(p, end, &next);

		if (n == 0) {                   /* the empty line */
			body->p = next, body->n = (size_t)(end - next);
			break;
		}
		if (wsp(p[0])) {                /* a folded line */
			if (in_field && fn < sizeof(f)) {
				size_t k = n < sizeof(f) - fn ? n : sizeof(f) - fn;

				memcpy(f + fn, p, k);
				fn += k;
			}
		} else {
			const char *colon = memchr(p, ':', n);

			if (in_field)
				field(f, fn, h, &had_disp);
			in_field = colon != NULL;
			if (in_field) {
				h->any = true;
				fn = n < sizeof(f) ? n : sizeof(f);
				memcpy(f, p, fn);
			}
		}
		p = next;
	}
	if (in_field)
		field(f, fn, h, &had_disp);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);

	return ls >= lt && strcasecmp(s + ls - lt, tail) == 0;
}

/* Is an entity with this header a report: XML, gzip or zip by its type
 * or its file name? */
static bool report_part(const struct head *h)
{
	static const char *const types[] = {
		"application/gzip", "application/x-gzip", "application/zip",
		"application/x-zip-compressed", "application/x-zip",
		"application/xml", "text/xml",
	};

	if (ends_with(h->name, ".xml") || ends_with(h->name, ".gz") ||
	    ends_with(h->name, ".zip"))
		return true;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(h->type, types[i]) == 0)
			return true;
	return false;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool put(struct mime *m, const void *p, size_t n)
{
	if (m->out->len + n > m->max) {
		say(m, "the report attachment is more than %zu bytes once decoded",
			m->max);
		return false;
	}
	if (spf_buf_append(m->out, p, n) != SPF_OK) {
		say(m, "out of memory");
		return false;
	}
	return true;
}

static bool base64(struct mime *m, struct span b)
{
	unsigned char chunk[3072];
	size_t cn = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < b.n; i++) {
		int v;

		if (b.p[i] == '=')
			break;
		if ((v = b64val((unsigned char)b.p[i])) < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			chunk[cn++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
			if (cn == sizeof(chunk)) {
				if (!put(m, chunk, cn))
					return false;
				cn = 0;
			}
		}
	}
	return put(m, chunk, cn);
}

static bool quoted_printable(struct mime *m, struct span b)
{
	const char *p = b.p, *end = b.p + b.n;

	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *stop = eq ? eq : end;
		unsigned char c;

		if (!put(m, p, (size_t)(stop - p)))
			return false;
		if (eq == NULL)
			break;
		p = eq + 1;
		if (p + 1 < end && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
			c = (unsigned char)(hexval(p[0]) * 16 + hexval(p[1]));
			if (!put(m, &c, 1))
				return false;
			p += 2;
			continue;
		}
		/* a soft line break: '=', white space, the line end */
		{
			const char *q = p;

			while (q < end && wsp(*q))
				q++;
			if (q < end && *q == '\r')
				q++;
			if (q == end || *q == '\n') {
				p = q < end ? q + 1 : q;
				continue;
			}
		}
		if (!put(m, "=", 1))      /* a lone '=': kept, as decoders do */
			return false;
	}
	return true;
}

static bool decode(struct mime *m, const struct head *h, struct span body)
{
	if (strcmp(h->cte, "base64") == 0)
		return base64(m, body);
	if (strcmp(h->cte, "quoted-printable") == 0)
		return quoted_printable(m, body);
	if (h->cte[0] == '\0' || strcmp(h->cte, "7bit") == 0 ||
	    strcmp(h->cte, "8bit") == 0 || strcmp(h->cte, "binary") == 0)
		return put(m, body.p, body.n);
	{
		char shown[41];
		size_t i = 0;

		for (; h->cte[i] != '\0' && i < sizeof(shown) - 1; i++)
			shown[i] = h->cte[i] >= 0x20 && h->cte[i] < 0x7f ? h->cte[i] : '?';
		shown[i] = '\0';
		say(m, "the report attachment has an unknown "
			"Content-Transfer-Encoding '%s'", shown);
	}
	return false;
}

/* Is the line p[0..n) the delimiter "--boundary" (close: "--boundary--")? */
static bool delimiter(const char *p, size_t n, const char *bd, size_t bn,
	bool *close)
{
	size_t i;

	if (n < bn + 2 || p[0] != '-' || p[1] != '-' || memcmp(p + 2, bd, bn) != 0)
		return false;
	i = bn + 2;
	*close = i + 1 < n && p[i] == '-' && p[i + 1] == '-';
	if (*close)
		i += 2;
	while (i < n && wsp(p[i]))
		i++;
	return i == n;
}

/* The entity e at depth (0 for the message): false on an error (why is
 * set) or when a report was found (m->found); true to go on. */
static bool entity(struct mime *m, struct span e, int depth)
{
	struct head h;
	struct span body;

	header(e, &h, &body);
	if (depth == 0 && !h.any) {
		say(m, "not a mail message");
		return false;
	}
	if (strncmp(h.type, "multipart/", 10) == 0 && h.boundary[0] != '\0') {
		const char *p = body.p, *end = body.p + body.n, *next;
		const char *part = NULL;       /* the current part's start */
		size_t bn = strlen(h.boundary);

		if (depth >= MAX_NEST) {
			say(m, "the message has multiparts nested more than %d deep",
				MAX_NEST);
			return false;
		}
		while (p < end) {
			size_t n = line(p, end, &next);
			bool close;

			if (delimiter(p, n, h.boundary, bn, &close)) {
				if (part != NULL) {
					/* the line break before the delimiter is its own */
					const char *stop = p;
					struct span sub;

					if (stop > part && stop[-1] == '\n')
						stop--;
					if (stop > part && stop[-1] == '\r')
						stop--;
					sub.p = part, sub.n = (size_t)(stop - part);
					if (!entity(m, sub, depth + 1) || m->found)
						return false;
				}
				if (close)
					return true;
				part = next;
			}
			p = next;
		}
		/* no close delimiter: the last part runs to the end */
		if (part != NULL && part < end) {
			struct span sub = { part, (size_t)(end - part) };

			return entity(m, sub, depth + 1) && !m->found;
		}
		return true;
	}
	if (!report_part(&h))
		return true;
	if (!decode(m, &h, body))
		return false;
	m->found = true;
	return false;
}

spf_status_t spf_report_mime(const void *msg, size_t len, size_t max,
	char **out, size_t *out_len, char *why, size_t whylen)
{
	spf_buf_t b;
	struct mime m = { .max = max ? max : SPF_REPORT_MAX_BYTES, .why = why,
		.whylen = whylen, .out = &b };
	struct span e = { msg, len };
	spf_status_t st = SPF_EINVAL;

	*out = NULL;
	*out_len = 0;
	if (whylen > 0)
		why[0] = '\0';
	spf_buf_init(&b, m.max + 1);
	(void)entity(&m, e, 0);
	if (m.found) {
		*out_len = b.len;
		*out = b.data ? b.data : spf_calloc(1, 1);
		if (*out == NULL) {
			*out_len = 0;
			return SPF_ENOMEM;
		}
		return SPF_OK;
	}
	if (b.err == SPF_ENOMEM)
		st = SPF_ENOMEM;
	else if (whylen > 0 && why[0] == '\0')
		say(&m, "the message has no report attached (no XML, gzip or zip "
			"part)");
	spf_buf_finish(&b);
	return st;
}
