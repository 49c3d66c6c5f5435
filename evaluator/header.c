/*
 * header.c - the result header fields: Received-SPF (RFC 7208 §9.1) and
 * Authentication-Results (RFC 8601, method "spf", RFC 7208 §9.2).
 *
 * DESCRIPTION
 *	A field is first built on one line in a bounded array, then folded
 *	(RFC 5322 §2.2.3): a line end is inserted before a space so that
 *	lines stay within 78 characters where a space allows it; unfolding
 *	gives the original line back.
 *
 *	Values come partly from the sender (MAIL FROM, HELO) and from DNS
 *	(the problem text names terms of records).  They are written as a
 *	dot-atom or token when they are one, otherwise as a quoted-string;
 *	comments and quoted-strings escape '"', '\' and the parentheses with
 *	a quoted-pair.  CR, LF, other control characters, DEL and non-ASCII
 *	bytes never reach the field: "§" becomes "section ", anything else
 *	becomes the four characters \xNN (written as a quoted-pair backslash
 *	followed by "xNN").  Each value is cut at MAX_VALUE bytes so that no
 *	line comes near RFC 5322's hard limit of 998 characters.
 *
 * DIAGNOSTICS
 *	SPF_EINVAL for a NULL argument, SPF_ENOMEM when memory runs out.
 */
#include "spf.h"

#include <stdio.h>
#include <string.h>

#define MAX_VALUE 200      /* bytes of one value taken from input */
#define MAX_FIELD 8192     /* bound on one unfolded field */
#define FOLD_AT 78         /* RFC 5322 §2.1.1: SHOULD be 78 or fewer */

/* What each ASCII byte may be written as, without quoting: */
#define CL_ATEXT 1    /* RFC 5322 §3.2.3 atext */
#define CL_QTEXT 2    /* printable, not '"' or '\\': as it is in a quoted-string */
#define CL_CTEXT 4    /* ... and not a parenthesis: as it is in a comment */
static const unsigned char cls[128] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x10 */
	6, 7, 0, 7, 7, 7, 7, 7, 2, 2, 7, 7, 6, 7, 6, 7,   /* 0x20 */
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 6, 7,   /* 0x30 */
	6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,   /* 0x40 */
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 0, 6, 7, 7,   /* 0x50 */
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,   /* 0x60 */
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0,   /* 0x70 */
};

/* RFC 5322 §3.2.3 atext */
static bool is_atext(unsigned char c)
{
	return c < 128 && (cls[c] & CL_ATEXT);
}

/* The length of s when it is RFC 5322 §3.2.3 dot-atom-text no longer
 * than MAX_VALUE, else 0 */
static size_t dot_atom_len(const char *s)
{
	size_t n = 0;
	bool need_atext = true;

	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (c == '.') {
			if (need_atext)
				return 0;
			need_atext = true;
		} else if (is_atext(c)) {
			need_atext = false;
		} else {
			return 0;
		}
	}
	return n <= MAX_VALUE && !need_atext ? n : 0;
}

/* RFC 2045 token (RFC 8601 value = token / quoted-string) */
static bool is_token(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (c <= ' ' || c >= 0x7f)
			return false;
		switch (c) {   /* RFC 2045 tspecials */
		case '(': case ')': case '<': case '>': case '@': case ',': case ';':
		case ':': case '\\': case '"': case '/': case '[': case ']': case '?':
		case '=':
			return false;
		}
	}
	return n > 0 && n <= MAX_VALUE;
}

/*
 * A field is written into a fixed array of MAX_FIELD bytes on the stack
 * (its bound), then appended to the caller's buffer in one piece: the
 * dozens of small appends of a field cost a few instructions each here.
 * A write past the bound sets over and writes nothing more.
 */
struct field {
	char p[MAX_FIELD];
	size_t len;
	bool over;
};

static void f_append(struct field *f, const void *s, size_t n)
{
	if (f->over || n > MAX_FIELD - f->len) {
		f->over = true;
		return;
	}
	memcpy(f->p + f->len, s, n);
	f->len += n;
}

static void f_puts(struct field *f, const char *s)
{
	f_append(f, s, strlen(s));
}

static void f_putc(struct field *f, char c)
{
	if (f->over || f->len == MAX_FIELD) {
		f->over = true;
		return;
	}
	f->p[f->len++] = c;
}

/* Append f to out: SPF_ETOOBIG (out failed) when f went over its bound. */
static spf_status_t f_flush(const struct field *f, spf_buf_t *out)
{
	if (f->over && out->err == SPF_OK)
		out->err = SPF_ETOOBIG;
	return spf_buf_append(out, f->p, f->len);
}

/*
 * Append s as the inside of a quoted-string (comment = false) or of a
 * comment (comment = true), escaped as the file header says.
 */
static void put_escaped(struct field *b, const char *s, bool comment)
{
	size_t n = 0;
	unsigned char plain = comment ? CL_CTEXT : CL_QTEXT;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t run = 0;

		/* printable bytes that need no quoting, copied as one run */
		while (n + run < MAX_VALUE && p[run] < 128 && (cls[p[run]] & plain))
			run++;
		if (run > 0) {
			f_append(b, p, run);
			n += run;
			p += run - 1;
			continue;
		}
		if (n >= MAX_VALUE) {
			f_puts(b, "...");
			return;
		}
		if (p[0] == 0xc2 && p[1] == 0xa7) {   /* U+00A7 SECTION SIGN */
			f_puts(b, "section ");
			p++;
			n += 2;
			continue;
		}
		n++;
		if (*p == '"' || *p == '\\' || (comment && (*p == '(' || *p == ')'))) {
			f_putc(b, '\\');
			f_putc(b, (char)*p);
		} else {
			/* the byte as messages show it (\xHH), its backslash
			 * quoted in turn */
			char one[5];

			if (spf_escape_byte(*p, SPF_ESC_HEX, one) > 1)
				f_putc(b, '\\');
			f_puts(b, one);
		}
	}
}

static void put_quoted(struct field *b, const char *s)
{
	f_putc(b, '"');
	put_escaped(b, s, false);
	f_putc(b, '"');
}

/* key=value; with a dot-atom when possible (RFC 7208 §9.1); key comes
 * with its leading space and its '=' (" client-ip=") */
static void put_kv(struct field *b, const char *key, const char *value)
{
	size_t n = dot_atom_len(value);

	f_puts(b, key);
	if (n > 0)
		f_append(b, value, n);
	else
		put_quoted(b, value);
	f_putc(b, ';');
}

/* ptype.property=value for Authentication-Results (RFC 8601 §2.2) */
static void put_prop(struct field *b, const char *prop, const char *value)
{
	f_putc(b, ' ');
	f_puts(b, prop);
	f_putc(b, '=');
	if (is_token(value))
		f_puts(b, value);
	else
		put_quoted(b, value);
}

static const char *ip_text(const spf_header_info_t *info, char *buf, size_t len)
{
	if (info->ip.family != 4 && info->ip.family != 6)
		return "unknown";
	return spf_addr_str(&info->ip, buf, len);
}

/* Who the result speaks for: the HELO name, or the address checked. */
static const char *subject(const spf_header_info_t *info)
{
	if (info->identity == SPF_IDENTITY_HELO && info->helo != NULL && *info->helo)
		return info->helo;
	if (info->checked != NULL && *info->checked)
		return info->checked;
	return info->domain != NULL ? info->domain : "unknown";
}

/* The comment of both fields: "(receiver: domain of X designates ...)". */
static void put_comment(struct field *b, const spf_header_info_t *info,
	const char *receiver)
{
	char ip[64];
	const char *addr = ip_text(info, ip, sizeof(ip));

	f_puts(b, " (");
	if (receiver != NULL && *receiver) {
		put_escaped(b, receiver, true);
		f_puts(b, ": ");
	}
	switch (info->result) {
	case SPF_RESULT_PASS:
		f_puts(b, "domain of ");
		put_escaped(b, subject(info), true);
		f_puts(b, " designates ");
		f_puts(b, addr);
		f_puts(b, " as permitted sender");
		break;
	case SPF_RESULT_FAIL:
		f_puts(b, "domain of ");
		put_escaped(b, subject(info), true);
		f_puts(b, " does not designate ");
		f_puts(b, addr);
		f_puts(b, " as permitted sender");
		break;
	case SPF_RESULT_SOFTFAIL:
		f_puts(b, "transitioning domain of ");
		put_escaped(b, subject(info), true);
		f_puts(b, " does not designate ");
		f_puts(b, addr);
		f_puts(b, " as permitted sender");
		break;
	case SPF_RESULT_NEUTRAL:
		f_puts(b, addr);
		f_puts(b, " is neither permitted nor denied by domain of ");
		put_escaped(b, subject(info), true);
		break;
	case SPF_RESULT_NONE:
		f_puts(b, "domain of ");
		put_escaped(b, subject(info), true);
		f_puts(b, " does not designate permitted sender hosts");
		break;
	case SPF_RESULT_TEMPERROR:
		f_puts(b, "temporary error in processing the SPF record of ");
		put_escaped(b, info->domain ? info->domain : subject(info), true);
		break;
	case SPF_RESULT_PERMERROR:
		f_puts(b, "permanent error in processing the SPF record of ");
		put_escaped(b, info->domain ? info->domain : subject(info), true);
		break;
	}
	f_putc(b, ')');
}

/*
 * Fold line into out (RFC 5322 §2.2.3): break before a space so that a
 * line has at most FOLD_AT characters; when no space allows that, break
 * at the first space after it.  Never break right after the field name,
 * never after a backslash (a quoted-pair), never so that a line holds
 * only white space.
 */
static void fold(spf_buf_t *out, const char *line, const char *eol)
{
	size_t len = strlen(line), pos = 0;
	const char *colon = strchr(line, ':');
	size_t min_first = colon ? (size_t)(colon - line) + 2 : 1;

	while (len - pos > FOLD_AT) {
		size_t lo = pos == 0 ? min_first : pos + 1, brk = 0;

		for (size_t i = lo; i < len; i++) {
			if (line[i] != ' ' || line[i - 1] == ' ' || line[i - 1] == '\\')
				continue;
			if (i - pos <= FOLD_AT || brk == 0)
				brk = i;
			if (i - pos > FOLD_AT)
				break;
		}
		if (brk == 0)
			break;
		spf_buf_append(out, line + pos, brk - pos);
		spf_buf_puts(out, eol);
		pos = brk;
	}
	spf_buf_puts(out, line + pos);
}

static spf_status_t finish(spf_buf_t *b, const spf_header_opts_t *opts, char **out)
{
	spf_buf_t f;
	spf_status_t st = b->err;

	*out = NULL;
	if (st == SPF_OK) {
		spf_buf_init(&f, 2 * MAX_FIELD);
		fold(&f, spf_buf_cstr(b), opts != NULL && opts->crlf ? "\r\n" : "\n");
		st = f.err;
		if (st == SPF_OK && f.data != NULL) {
			*out = f.data;   /* handed over, not copied */
			f.data = NULL;
		} else if (st == SPF_OK) {
			*out = spf_strdup("");
			if (*out == NULL)
				st = SPF_ENOMEM;
		}
		spf_buf_finish(&f);
	}
	spf_buf_finish(b);
	return st == SPF_ETOOBIG ? SPF_ENOMEM : st;
}

void spf_header_info_from_summary(spf_header_info_t *info,
	const spf_job_summary_t *s, const spf_request_t *req)
{
	memset(info, 0, sizeof(*info));
	info->identity = req->identity;
	info->result = s->result;
	info->ip = req->ip;
	info->envelope_from = req->sender;
	info->helo = req->helo && *req->helo ? req->helo : NULL;
	info->checked = s->sender;
	info->domain = s->start_domain;
	info->mechanism = s->mechanism;
	if (info->result == SPF_RESULT_PERMERROR || info->result == SPF_RESULT_TEMPERROR)
		info->problem = s->problem;
}

void spf_header_info_from_job(spf_header_info_t *info, const spf_job_t *job,
	const spf_request_t *req)
{
	spf_job_summary_t view;

	spf_job_summary_view(job, &view);
	spf_header_info_from_summary(info, &view, req);
}

/* The Received-SPF field on one line, into b. */
static void received_spf(struct field *b, const spf_header_info_t *info,
	const char *receiver)
{
	char ip[64];

	f_puts(b, "Received-SPF: ");
	f_puts(b, spf_result_str(info->result));
	put_comment(b, info, receiver);
	put_kv(b, " client-ip=", ip_text(info, ip, sizeof(ip)));
	if (info->envelope_from != NULL)
		put_kv(b, " envelope-from=", *info->envelope_from ? info->envelope_from : "<>");
	if (info->helo != NULL)
		put_kv(b, " helo=", info->helo);
	if (receiver != NULL && *receiver)
		put_kv(b, " receiver=", receiver);
	put_kv(b, " identity=", info->identity == SPF_IDENTITY_HELO ? "helo" : "mailfrom");
	if (info->mechanism != NULL)
		put_kv(b, " mechanism=", info->mechanism);
	if (info->problem != NULL && (info->result == SPF_RESULT_PERMERROR ||
	    info->result == SPF_RESULT_TEMPERROR))
		put_kv(b, " problem=", info->problem);
	/* the trailing ';' of the last pair is allowed (RFC 7208 §9.1) but
	 * dropped for readability */
	if (!b->over && b->len > 0 && b->p[b->len - 1] == ';')
		b->len--;
}

spf_status_t spf_header_received_spf(const spf_header_info_t *info,
	const spf_header_opts_t *opts, char **out)
{
	struct field f;
	spf_buf_t b;

	if (out == NULL)
		return SPF_EINVAL;
	*out = NULL;
	if (info == NULL)
		return SPF_EINVAL;
	f.len = 0;
	f.over = false;
	received_spf(&f, info, opts ? opts->receiver : NULL);
	spf_buf_init(&b, MAX_FIELD);
	f_flush(&f, &b);
	return finish(&b, opts, out);
}

spf_status_t spf_header_received_spf_line(const spf_header_info_t *info,
	const spf_header_opts_t *opts, spf_buf_t *out)
{
	struct field f;

	if (info == NULL || out == NULL)
		return SPF_EINVAL;
	f.len = 0;
	f.over = false;
	received_spf(&f, info, opts ? opts->receiver : NULL);
	return f_flush(&f, out);
}

/* The Authentication-Results field on one line, into b. */
static void auth_results(struct field *b, const spf_header_info_t *const *infos,
	size_t n, const spf_header_opts_t *opts)
{
	const char *receiver = opts ? opts->receiver : NULL;
	const char *id = opts && opts->authserv_id && *opts->authserv_id ?
		opts->authserv_id : receiver && *receiver ? receiver : "localhost";

	f_puts(b, "Authentication-Results: ");
	if (is_token(id))
		f_puts(b, id);
	else
		put_quoted(b, id);
	for (size_t i = 0; i < n; i++) {
		const spf_header_info_t *info = infos[i];

		f_puts(b, "; spf=");
		f_puts(b, spf_result_str(info->result));
		put_comment(b, info, receiver);
		if (info->problem != NULL && (info->result == SPF_RESULT_PERMERROR ||
		    info->result == SPF_RESULT_TEMPERROR)) {
			/* RFC 8601 §2.2 reasonspec */
			f_puts(b, " reason=");
			put_quoted(b, info->problem);
		}
		if (info->identity == SPF_IDENTITY_HELO)
			put_prop(b, "smtp.helo", info->helo ? info->helo : "unknown");
		else
			put_prop(b, "smtp.mailfrom", info->domain ? info->domain : "unknown");
	}
}

static bool infos_ok(const spf_header_info_t *const *infos, size_t n)
{
	if (infos == NULL || n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (infos[i] == NULL)
			return false;
	return true;
}

spf_status_t spf_header_auth_results(const spf_header_info_t *const *infos,
	size_t n, const spf_header_opts_t *opts, char **out)
{
	struct field f;
	spf_buf_t b;

	if (out == NULL)
		return SPF_EINVAL;
	*out = NULL;
	if (!infos_ok(infos, n))
		return SPF_EINVAL;
	f.len = 0;
	f.over = false;
	auth_results(&f, infos, n, opts);
	spf_buf_init(&b, MAX_FIELD);
	f_flush(&f, &b);
	return finish(&b, opts, out);
}

spf_status_t spf_header_auth_results_line(const spf_header_info_t *const *infos,
	size_t n, const spf_header_opts_t *opts, spf_buf_t *out)
{
	struct field f;

	if (out == NULL || !infos_ok(infos, n))
		return SPF_EINVAL;
	f.len = 0;
	f.over = false;
	auth_results(&f, infos, n, opts);
	return f_flush(&f, out);
}
