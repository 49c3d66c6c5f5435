/*
 * pra.c - the Purported Responsible Address of a message (RFC 4407 §2).
 *
 * DESCRIPTION
 *	spf_pra_extract() reads the header block of an RFC 5322 message
 *	(LF or CRLF line ends; folded fields are unfolded per RFC 5322
 *	§2.2.3; an mbox "From " line on top is skipped; the body after the
 *	first empty line is never looked at) and applies the PRA algorithm
 *	(SPECS A.5):
 *	1. the first non-empty Resent-Sender, unless a non-empty Resent-From
 *	   above it is separated from it by a Received or Return-Path field
 *	   (then it belongs to an older resent block and is ignored);
 *	2. else the first non-empty Resent-From;
 *	3. else the Sender field if there is exactly one (several: no PRA);
 *	4. else the From field if there is exactly one (none or several: no
 *	   PRA);
 *	5. the selected field must hold exactly one mailbox with a domain;
 *	6. otherwise the message has no PRA.
 *	Header names are compared case-insensitively; "non-empty" means the
 *	field body is not blank.  Addresses are parsed with the RFC 5322
 *	§3.4 grammar and its obsolete forms (comments, quoted strings,
 *	display names, groups, obs-route, CFWS around dots); RFC 2047
 *	encoded words are display text only and never decoded.  The topmost
 *	Return-Path is read too, as the envelope sender for an SPF check.
 *
 *	Bounds: the header block is at most 1 MiB, a field at most 64 KiB
 *	unfolded, at most 10000 fields.  Everything is allocated in the
 *	caller's arena.
 *
 * DIAGNOSTICS
 *	A message that has no PRA is not an error: out->status and out->why
 *	say which step failed.  Input that is not a message header at all
 *	(empty, starting with an empty line or with white space, NUL or
 *	control bytes, a line that is neither a field nor a continuation) is
 *	SPF_ESYNTAX, the limits SPF_ETOOBIG, each with a one-line reason
 *	naming the line.
 */
#include "internal.h"

#include <string.h>

#define MAX_HEADER_BYTES (1024 * 1024)
#define MAX_FIELD_BYTES (64 * 1024)
#define MAX_FIELDS 10000

enum fkind {
	K_OTHER,
	K_RESENT_SENDER,
	K_RESENT_FROM,
	K_SENDER,
	K_FROM,
	K_RECEIVED,
	K_RETURN_PATH,
};

static const struct {
	const char *name;
	enum fkind kind;
} known[] = {
	{ "Resent-Sender", K_RESENT_SENDER },
	{ "Resent-From", K_RESENT_FROM },
	{ "Sender", K_SENDER },
	{ "From", K_FROM },
	{ "Received", K_RECEIVED },
	{ "Return-Path", K_RETURN_PATH },
};

#define NKNOWN (sizeof(known) / sizeof(known[0]))

/* A field that matters to the PRA (others are only counted). */
struct field {
	enum fkind kind;
	const char *name;     /* canonical spelling (static) */
	char *body;           /* unfolded, NUL-terminated (arena) */
	size_t len;
	unsigned line;        /* where the field starts, 1-based */
	size_t index;         /* position among all fields */
	bool empty;           /* body is blank */
	struct field *next;
};

struct reader {
	spf_arena_t *arena;
	struct field *head, *tail;
	size_t nfields;
	const char *err;
};

const char *spf_pra_status_str(spf_pra_status_t st)
{
	switch (st) {
	case SPF_PRA_OK: return "ok";
	case SPF_PRA_NO_FIELD: return "no-field";
	case SPF_PRA_MULTIPLE_SENDER: return "multiple-sender";
	case SPF_PRA_MULTIPLE_FROM: return "multiple-from";
	case SPF_PRA_MULTIPLE_MAILBOXES: return "multiple-mailboxes";
	case SPF_PRA_NO_MAILBOX: return "no-mailbox";
	case SPF_PRA_MALFORMED: return "malformed";
	case SPF_PRA_NO_DOMAIN: return "no-domain";
	}
	return "unknown";
}

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* ---- reading the header block ---- */

/* Reject NUL and control bytes (TAB is fine) in line[0..n). */
static bool line_bytes_ok(struct reader *r, const unsigned char *line,
	size_t n, unsigned lineno)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = line[i];

		if (c == '\t' || (c >= 0x20 && c != 0x7f))
			continue;
		r->err = spf_arena_printf(r->arena, "line %u: %s 0x%02X in the "
			"header: this is not a mail message (binary data?)", lineno,
			c == 0 ? "NUL byte" : c == '\r' ? "stray CR" : "control byte", c);
		return false;
	}
	return true;
}

/* Start a field from "Name: body" at line[0..n); *f is NULL for a field
 * that does not matter.  False (r->err set) if it is not a field. */
static bool field_start(struct reader *r, const unsigned char *line, size_t n,
	unsigned lineno, struct field **f, spf_buf_t *body)
{
	size_t k = 0, colon;

	while (k < n && line[k] > 0x20 && line[k] < 0x7f && line[k] != ':')
		k++;
	colon = k;
	while (colon < n && is_wsp(line[colon]))   /* obs-optional (RFC 5322 §4.5.3) */
		colon++;
	if (k == 0 || colon >= n || line[colon] != ':') {
		r->err = spf_arena_printf(r->arena, "line %u is not a header field "
			"(it must start with a name and ':')", lineno);
		return false;
	}
	if (++r->nfields > MAX_FIELDS) {
		r->err = spf_arena_printf(r->arena, "more than %d header fields",
			MAX_FIELDS);
		return false;
	}
	*f = NULL;
	for (size_t i = 0; i < NKNOWN; i++) {
		if (strlen(known[i].name) != k ||
		    !spf_strncaseeq((const char *)line, known[i].name, k))
			continue;
		*f = spf_arena_alloc(r->arena, sizeof(**f));
		if (*f == NULL)
			return false;
		(*f)->kind = known[i].kind;
		(*f)->name = known[i].name;
		(*f)->line = lineno;
		(*f)->index = r->nfields - 1;
		break;
	}
	spf_buf_reset(body);
	if (*f != NULL)
		spf_buf_append(body, line + colon + 1, n - colon - 1);
	return true;
}

/* Finish the field being read: keep it if it matters. */
static bool field_end(struct reader *r, struct field *f, spf_buf_t *body)
{
	size_t i;

	if (f == NULL)
		return true;
	f->body = spf_arena_strndup(r->arena, spf_buf_cstr(body), body->len);
	if (f->body == NULL)
		return false;
	f->len = body->len;
	for (i = 0; i < f->len && is_wsp((unsigned char)f->body[i]); i++)
		;
	f->empty = i == f->len;
	if (r->tail != NULL)
		r->tail->next = f;
	else
		r->head = f;
	r->tail = f;
	return true;
}

/* "From sender date" on top of an mbox file, not "From : x" (obs). */
static bool is_mbox_line(const unsigned char *line, size_t n)
{
	size_t i = 5;

	if (n < 5 || memcmp(line, "From ", 5) != 0)
		return false;
	while (i < n && is_wsp(line[i]))
		i++;
	return i < n && line[i] != ':';
}

static spf_status_t read_header(struct reader *r, const uint8_t *msg,
	size_t len)
{
	size_t pos = 0, flen = 0;
	unsigned lineno = 0;
	struct field *cur = NULL;
	bool in_field = false;
	spf_buf_t body;
	spf_status_t st = SPF_ESYNTAX;

	spf_buf_init(&body, MAX_FIELD_BYTES);
	if (len == 0) {
		r->err = "the message is empty: it has no header fields";
		goto done;
	}
	while (pos < len) {
		const uint8_t *nl = memchr(msg + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - msg) : len;
		size_t n = end - pos;
		const unsigned char *line = msg + pos;

		lineno++;
		if (end > MAX_HEADER_BYTES) {
			r->err = spf_arena_printf(r->arena, "the header block is "
				"larger than %d bytes", MAX_HEADER_BYTES);
			st = SPF_ETOOBIG;
			goto done;
		}
		if (n > 0 && line[n - 1] == '\r')
			n--;
		pos = nl != NULL ? end + 1 : len;
		if (n == 0) {
			if (lineno == 1) {
				r->err = "the message starts with an empty line: it has "
					"no header fields";
				goto done;
			}
			break;               /* end of the header block */
		}
		if (lineno == 1 && is_mbox_line(line, n))
			continue;            /* mbox separator line */
		if (!line_bytes_ok(r, line, n, lineno))
			goto done;
		if (is_wsp(line[0])) {
			if (!in_field) {
				r->err = spf_arena_printf(r->arena, "line %u starts with "
					"white space but no header field precedes it", lineno);
				goto done;
			}
			/* unfold: drop the line end, keep the white space */
			flen += n;
			if (cur != NULL)
				spf_buf_append(&body, line, n);
		} else {
			if (in_field && !field_end(r, cur, &body)) {
				st = SPF_ENOMEM;
				goto done;
			}
			if (!field_start(r, line, n, lineno, &cur, &body)) {
				if (r->err == NULL)
					st = SPF_ENOMEM;
				else if (r->nfields > MAX_FIELDS)
					st = SPF_ETOOBIG;
				goto done;
			}
			in_field = true;
			flen = n;
		}
		if (flen > MAX_FIELD_BYTES || body.err == SPF_ETOOBIG) {
			r->err = spf_arena_printf(r->arena, "line %u: a header field "
				"longer than %d bytes", lineno, MAX_FIELD_BYTES);
			st = SPF_ETOOBIG;
			goto done;
		}
		if (body.err != SPF_OK) {
			st = SPF_ENOMEM;
			goto done;
		}
	}
	if (in_field && !field_end(r, cur, &body)) {
		st = SPF_ENOMEM;
		goto done;
	}
	if (r->nfields == 0) {
		r->err = "the message has no header fields";
		goto done;
	}
	st = SPF_OK;
done:
	spf_buf_finish(&body);
	if (st == SPF_ENOMEM)
		r->err = "out of memory";
	return st;
}

/* ---- addresses (RFC 5322 §3.4, with the obsolete syntax of §4.4) ---- */

enum tkind { T_ATOM, T_QSTR, T_DLIT, T_SPECIAL };

struct token {
	enum tkind kind;
	char c;               /* for T_SPECIAL */
	const char *p;        /* text (T_QSTR with its quotes) */
	size_t n;
};

static bool is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;    /* RFC 6532: UTF-8 in addresses */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * Split s[0..n) into tokens, skipping white space and (nested)
 * comments.  Returns the number of tokens (at most n) stored in toks, or
 * -1 when the text cannot be tokenised (unbalanced quote, comment or
 * bracket, a stray special).
 */
static long tokenize(const char *s, size_t n, struct token *toks)
{
	size_t i = 0, nt = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		struct token *t = &toks[nt];

		if (is_wsp(c)) {
			i++;
			continue;
		}
		if (c == '(') {
			size_t depth = 0;

			for (; i < n; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				else if (s[i] == '(')
					depth++;
				else if (s[i] == ')' && --depth == 0)
					break;
			}
			if (i >= n)
				return -1;      /* unterminated comment */
			i++;
			continue;
		}
		t->p = s + i;
		if (c == '"' || c == '[') {
			char close = c == '"' ? '"' : ']';
			size_t b = i++;

			for (; i < n && s[i] != close; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				else if (c == '[' && s[i] == '[')
					return -1;
			}
			if (i >= n)
				return -1;
			i++;
			t->kind = c == '"' ? T_QSTR : T_DLIT;
			t->n = i - b;
		} else if (strchr("<>@,;:.", c) != NULL) {
			t->kind = T_SPECIAL;
			t->c = (char)c;
			t->n = 1;
			i++;
		} else if (is_atext(c)) {
			size_t b = i;

			while (i < n && is_atext((unsigned char)s[i]))
				i++;
			t->kind = T_ATOM;
			t->n = i - b;
		} else {
			return -1;          /* ')', ']', '\\' outside quotes */
		}
		nt++;
	}
	return (long)nt;
}

static bool is_sp(const struct token *t, char c)
{
	return t->kind == T_SPECIAL && t->c == c;
}

static bool is_word(const struct token *t)
{
	return t->kind == T_ATOM || t->kind == T_QSTR;
}

static const char oom_text[] = "out of memory";

/* One parsed mailbox. */
struct mbox {
	spf_pra_status_t status;    /* OK, NO_DOMAIN or MALFORMED */
	const char *addr;           /* local@domain, or local (NO_DOMAIN) */
	const char *domain;
	const char *why;
};

/* Append the text of toks[a..b) without the white space between. */
static void put_tokens(spf_buf_t *b, const struct token *toks, size_t a,
	size_t e)
{
	for (size_t i = a; i < e; i++)
		spf_buf_append(b, toks[i].p, toks[i].n);
}

/* addr-spec = local-part "@" domain, from toks[a..e). */
static void addr_spec(spf_arena_t *arena, const struct token *toks, size_t a,
	size_t e, struct mbox *m)
{
	size_t i = a, at, dstart;
	spf_buf_t b;

	m->status = SPF_PRA_MALFORMED;
	/* local-part = word *("." word) (obs-local-part covers dot-atom) */
	if (i >= e || !is_word(&toks[i])) {
		m->why = "the address has no local-part before '@'";
		return;
	}
	i++;
	while (i + 1 < e && is_sp(&toks[i], '.') && is_word(&toks[i + 1]))
		i += 2;
	at = i;
	if (i == e) {
		spf_buf_init(&b, MAX_FIELD_BYTES);
		put_tokens(&b, toks, a, at);
		m->addr = b.err == SPF_OK ? spf_arena_strdup(arena, spf_buf_cstr(&b)) : NULL;
		spf_buf_finish(&b);
		m->status = SPF_PRA_NO_DOMAIN;
		m->why = m->addr != NULL ? "the mailbox has no domain (no '@')" : oom_text;
		return;
	}
	if (!is_sp(&toks[i], '@')) {
		m->why = "unexpected text in the address";
		return;
	}
	dstart = ++i;
	if (i < e && toks[i].kind == T_DLIT && i + 1 == e) {
		m->status = SPF_PRA_NO_DOMAIN;
		m->why = "the domain is an address literal, not a domain name";
		return;
	}
	if (i >= e || toks[i].kind != T_ATOM) {
		m->why = "the address has no domain after '@'";
		return;
	}
	i++;
	while (i + 1 < e && is_sp(&toks[i], '.') && toks[i + 1].kind == T_ATOM)
		i += 2;
	if (i < e && is_sp(&toks[i], '.') && i + 1 == e)
		i++;                    /* a trailing dot */
	if (i != e) {
		m->why = "unexpected text after the domain";
		return;
	}
	spf_buf_init(&b, MAX_FIELD_BYTES);
	put_tokens(&b, toks, a, at);
	spf_buf_putc(&b, '@');
	put_tokens(&b, toks, dstart, e);
	if (b.err == SPF_OK) {
		m->addr = spf_arena_strdup(arena, spf_buf_cstr(&b));
		m->domain = m->addr ? strrchr(m->addr, '@') + 1 : NULL;
		if (m->addr != NULL)
			m->status = SPF_PRA_OK;
	}
	spf_buf_finish(&b);
	if (m->status != SPF_PRA_OK)
		m->why = oom_text;
}

/* mailbox = name-addr / addr-spec, from toks[a..e). */
static void mailbox(spf_arena_t *arena, const struct token *toks, size_t a,
	size_t e, struct mbox *m)
{
	size_t lt, gt, in;

	for (lt = a; lt < e && !is_sp(&toks[lt], '<'); lt++)
		;
	if (lt == e) {
		addr_spec(arena, toks, a, e, m);
		return;
	}
	m->status = SPF_PRA_MALFORMED;
	/* display-name = phrase (obs-phrase allows '.') */
	for (size_t i = a; i < lt; i++) {
		if (!is_word(&toks[i]) && !is_sp(&toks[i], '.')) {
			m->why = "the display name before '<' is not a phrase";
			return;
		}
	}
	for (gt = lt + 1; gt < e && !is_sp(&toks[gt], '>'); gt++)
		;
	if (gt == e) {
		m->why = "'<' without '>'";
		return;
	}
	if (gt + 1 != e) {
		m->why = "text after the '>' of the address";
		return;
	}
	in = lt + 1;
	if (in < gt && is_sp(&toks[in], '@')) {
		/* obs-route: "@a,@b:" before the address */
		while (in < gt && !is_sp(&toks[in], ':'))
			in++;
		if (in == gt) {
			m->why = "a source route without ':'";
			return;
		}
		in++;
	}
	if (in == gt) {
		m->why = "an empty address '<>'";
		return;
	}
	addr_spec(arena, toks, in, gt, m);
}

/*
 * Parse an address-list (RFC 5322 §3.4, with groups and the obsolete
 * empty elements) in body[0..len): how many mailboxes it holds and the
 * first (or the first defective one).  SPF_ESYNTAX when it cannot be
 * tokenised, SPF_ENOMEM.
 */
static spf_status_t address_list(spf_arena_t *arena, const char *body, size_t len,
	size_t *count, struct mbox *first)
{
	struct token *toks;
	long nt;
	size_t i = 0, n;
	bool in_group = false;

	*count = 0;
	toks = spf_arena_alloc(arena, (len + 1) * sizeof(*toks));
	if (toks == NULL)
		return SPF_ENOMEM;
	nt = tokenize(body, len, toks);
	if (nt < 0)
		return SPF_ESYNTAX;
	n = (size_t)nt;
	while (i < n) {
		size_t j, depth = 0, colon = n;
		struct mbox m = { 0 };

		if (is_sp(&toks[i], ',')) {
			i++;
			continue;
		}
		if (in_group && is_sp(&toks[i], ';')) {
			in_group = false;
			i++;
			continue;
		}
		for (j = i; j < n; j++) {
			if (is_sp(&toks[j], '<'))
				depth++;
			else if (is_sp(&toks[j], '>') && depth > 0)
				depth--;
			else if (depth == 0 && (is_sp(&toks[j], ',') ||
			    (in_group && is_sp(&toks[j], ';'))))
				break;
			else if (depth == 0 && colon == n && is_sp(&toks[j], ':'))
				colon = j;
		}
		if (!in_group && colon < j) {
			/* group = display-name ":" [group-list] ";" */
			bool phrase = colon > i;

			for (size_t k = i; k < colon && phrase; k++)
				phrase = is_word(&toks[k]) || is_sp(&toks[k], '.');
			if (phrase) {
				in_group = true;
				i = colon + 1;
				continue;
			}
		}
		if (!in_group && is_sp(&toks[i], ';')) {
			m.status = SPF_PRA_MALFORMED;
			m.why = "a ';' outside a group";
		} else {
			mailbox(arena, toks, i, j, &m);
		}
		if (*count == 0 || (first->status == SPF_PRA_OK && m.status != SPF_PRA_OK))
			*first = m;
		if (m.why == oom_text)
			return SPF_ENOMEM;
		(*count)++;
		i = j;
	}
	return SPF_OK;
}

/* ---- the algorithm ---- */

static const char *step_text(enum fkind k)
{
	switch (k) {
	case K_RESENT_SENDER: return "the first non-empty Resent-Sender (RFC 4407 §2 step 1)";
	case K_RESENT_FROM: return "the first non-empty Resent-From (RFC 4407 §2 step 2)";
	case K_SENDER: return "the only non-empty Sender (RFC 4407 §2 step 3)";
	default: return "the only non-empty From (RFC 4407 §2 step 4)";
	}
}

/* Step 5: the selected field must hold exactly one usable mailbox. */
static spf_status_t check_field(spf_arena_t *arena, const struct field *f,
	const char *note, spf_pra_t *out)
{
	struct mbox m = { 0 };
	size_t count = 0;
	spf_status_t st;

	out->field = f->name;
	out->field_line = f->line;
	st = address_list(arena, f->body, f->len, &count, &m);
	if (st == SPF_ENOMEM)
		return st;
	if (st != SPF_OK) {
		out->status = SPF_PRA_MALFORMED;
		out->why = spf_arena_printf(arena, "%s field on line %u cannot be "
			"parsed (unbalanced quote, comment or bracket): no PRA "
			"(RFC 4407 §2 step 5)", f->name, f->line);
		return out->why ? SPF_OK : SPF_ENOMEM;
	}
	if (count == 0) {
		out->status = SPF_PRA_NO_MAILBOX;
		out->why = spf_arena_printf(arena, "%s field on line %u holds no "
			"mailbox (an empty group such as \"undisclosed-recipients:;\"): "
			"no PRA (RFC 4407 §2 step 5)", f->name, f->line);
	} else if (count > 1) {
		out->status = SPF_PRA_MULTIPLE_MAILBOXES;
		out->why = spf_arena_printf(arena, "%s field on line %u lists %zu "
			"mailboxes: no PRA (RFC 4407 §2 step 5; a Sender field would "
			"name the one responsible)", f->name, f->line, count);
	} else if (m.status != SPF_PRA_OK) {
		out->status = m.status;
		out->why = spf_arena_printf(arena, "%s field on line %u: %s: no PRA "
			"(RFC 4407 §2 step 5)", f->name, f->line,
			m.why ? m.why : "malformed mailbox");
	} else {
		out->status = SPF_PRA_OK;
		out->pra = m.addr;
		out->domain = m.domain;
		out->why = spf_arena_printf(arena, "%s field on line %u: %s%s", f->name,
			f->line, step_text(f->kind), note ? note : "");
	}
	return out->why ? SPF_OK : SPF_ENOMEM;
}

/* The topmost Return-Path: "<>" or an address (RFC 5321 §4.4).
 * SPF_OK or SPF_ENOMEM. */
static spf_status_t return_path(spf_arena_t *arena, const struct field *head,
	spf_pra_t *out)
{
	const struct field *f;
	struct token *toks;
	long nt;
	struct mbox m = { 0 };

	for (f = head; f != NULL && f->kind != K_RETURN_PATH; f = f->next)
		;
	if (f == NULL)
		return SPF_OK;
	toks = spf_arena_alloc(arena, (f->len + 1) * sizeof(*toks));
	if (toks == NULL)
		return SPF_ENOMEM;
	nt = tokenize(f->body, f->len, toks);
	if (nt == 2 && is_sp(&toks[0], '<') && is_sp(&toks[1], '>')) {
		out->return_path = "";
		return SPF_OK;
	}
	if (nt > 0)
		mailbox(arena, toks, 0, (size_t)nt, &m);
	if (m.why == oom_text)
		return SPF_ENOMEM;
	if (nt > 0 && m.status == SPF_PRA_OK) {
		out->return_path = m.addr;
		return SPF_OK;
	}
	out->return_path_problem = spf_arena_printf(arena, "the Return-Path on "
		"line %u is not an address: %s", f->line,
		nt <= 0 ? "it is empty or cannot be parsed" :
		m.why ? m.why : "malformed");
	return out->return_path_problem != NULL ? SPF_OK : SPF_ENOMEM;
}

static spf_status_t extract(spf_arena_t *arena, const uint8_t *msg,
	size_t len, spf_pra_t *out, const char **err)
{
	struct reader r = { 0 };
	const struct field *f, *rs = NULL, *rf = NULL, *sel = NULL, *one = NULL;
	const char *note = NULL;
	size_t nsender = 0, nfrom = 0;
	spf_status_t st;

	if (err != NULL)
		*err = NULL;
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (arena == NULL || out == NULL || (msg == NULL && len > 0)) {
		if (err != NULL)
			*err = "invalid argument";
		return SPF_EINVAL;
	}
	r.arena = arena;
	st = read_header(&r, msg, len);
	if (st != SPF_OK) {
		if (err != NULL)
			*err = r.err ? r.err : spf_strerror(st);
		return st;
	}
	out->nfields = r.nfields;
	if (return_path(arena, r.head, out) != SPF_OK) {
		if (err != NULL)
			*err = oom_text;
		return SPF_ENOMEM;
	}

	for (f = r.head; f != NULL; f = f->next) {
		if (f->empty)
			continue;
		if (f->kind == K_RESENT_SENDER && rs == NULL)
			rs = f;
		else if (f->kind == K_RESENT_FROM && rf == NULL)
			rf = f;
	}
	/* step 1: a Resent-Sender of an older resent block is ignored */
	if (rs != NULL && rf != NULL && rf->index < rs->index) {
		for (f = rf->next; f != NULL && f != rs; f = f->next) {
			if (f->kind == K_RECEIVED || f->kind == K_RETURN_PATH) {
				note = spf_arena_printf(arena, "; the Resent-Sender on line "
					"%u was ignored: the %s field on line %u separates it "
					"from this newer resent block", rs->line, f->name, f->line);
				rs = NULL;
				break;
			}
		}
	}
	if (rs != NULL)
		sel = rs;
	else if (rf != NULL)
		sel = rf;               /* step 2 */
	if (sel != NULL)
		return check_field(arena, sel, note, out);

	for (f = r.head; f != NULL; f = f->next) {
		if (f->empty)
			continue;
		if (f->kind == K_SENDER && nsender++ == 0)
			one = f;
	}
	if (nsender > 1) {      /* step 3 */
		out->status = SPF_PRA_MULTIPLE_SENDER;
		out->why = spf_arena_printf(arena, "%zu non-empty Sender fields: no "
			"PRA (RFC 4407 §2 step 3)", nsender);
		return out->why ? SPF_OK : SPF_ENOMEM;
	}
	if (nsender == 1)
		return check_field(arena, one, NULL, out);
	for (f = r.head; f != NULL; f = f->next) {
		if (f->empty)
			continue;
		if (f->kind == K_FROM && nfrom++ == 0)
			one = f;
	}
	if (nfrom == 1)          /* step 4 */
		return check_field(arena, one, NULL, out);
	out->status = nfrom == 0 ? SPF_PRA_NO_FIELD : SPF_PRA_MULTIPLE_FROM;
	out->why = nfrom == 0 ?
		"no non-empty Resent-Sender, Resent-From, Sender or From field: no PRA "
		"(RFC 4407 §2 step 6)" :
		spf_arena_printf(arena, "%zu non-empty From fields and no Sender: no "
			"PRA (RFC 4407 §2 step 4)", nfrom);
	return out->why ? SPF_OK : SPF_ENOMEM;
}

spf_status_t spf_pra_extract(spf_arena_t *arena, const uint8_t *msg,
	size_t len, spf_pra_t *out, const char **err)
{
	spf_status_t st = extract(arena, msg, len, out, err);

	if (st == SPF_ENOMEM && err != NULL)
		*err = oom_text;
	return st;
}
