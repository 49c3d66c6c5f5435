/*
 * report.c - the XML of a DMARC aggregate report (RFC 9990 appendix A;
 * RFC 7489 appendix C before it) into spf_report_t.
 *
 * DESCRIPTION
 *	libxml2's SAX2 parser reads the document as a stream: no tree is
 *	built, so memory is the records kept, not a DOM several times the
 *	size of the file.  It runs with XML_PARSE_NONET (no network) and
 *	without XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE:
 *	entities are never substituted, no external subset is fetched and
 *	libxml2's own limits (depth, name and text lengths) hold.  The SAX
 *	callbacks for a DOCTYPE and an entity declaration stop the parser
 *	at once: reports have no DTD, and the billion-laughs and
 *	external-entity attacks need one.
 *
 *	Elements are matched by local name on their path from <feedback>,
 *	so a report in the RFC 9990 namespace reads like one in none, and
 *	the first of a repeated field counts.  Unknown elements
 *	(<extensions>, <reason>, <human_result>, ...) are skipped.  The
 *	text of a field is collected (at most FIELD_MAX bytes), trimmed and
 *	copied into the report's arena.
 *
 * DIAGNOSTICS
 *	One line in why: libxml2's message and line for XML that does not
 *	parse, "a DOCTYPE" for a document with one, the root element when
 *	it is not <feedback>, the record number for a record without a
 *	valid source_ip or count, a field over FIELD_MAX bytes.
 */
#include "report.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#define FIELD_MAX 4096
#define STACK_MAX 64

/* the elements a report's path is made of; E_OTHER for any other */
enum el {
	E_OTHER, E_FEEDBACK, E_VERSION, E_REPORT_METADATA, E_ORG_NAME, E_EMAIL,
	E_REPORT_ID, E_DATE_RANGE, E_BEGIN, E_END, E_POLICY_PUBLISHED,
	E_DOMAIN, E_ADKIM, E_ASPF, E_P, E_SP, E_NP, E_RECORD, E_ROW,
	E_SOURCE_IP, E_COUNT, E_POLICY_EVALUATED, E_DISPOSITION, E_DKIM,
	E_SPF, E_IDENTIFIERS, E_HEADER_FROM, E_ENVELOPE_FROM, E_ENVELOPE_TO,
	E_AUTH_RESULTS, E_SELECTOR, E_SCOPE, E_RESULT,
};

static const char *const el_names[] = {
	"", "feedback", "version", "report_metadata", "org_name", "email",
	"report_id", "date_range", "begin", "end", "policy_published",
	"domain", "adkim", "aspf", "p", "sp", "np", "record", "row",
	"source_ip", "count", "policy_evaluated", "disposition", "dkim",
	"spf", "identifiers", "header_from", "envelope_from", "envelope_to",
	"auth_results", "selector", "scope", "result",
};

static enum el el_of(const char *name)
{
	for (size_t i = 1; i < sizeof(el_names) / sizeof(el_names[0]); i++)
		if (strcmp(el_names[i], name) == 0)
			return (enum el)i;
	return E_OTHER;
}

/* a growable array of auth results while a record is read */
struct auths {
	spf_report_auth_t *a;
	size_t n, cap;
};

struct reader {
	xmlParserCtxtPtr ctxt;
	spf_arena_t *arena;
	spf_report_t *rep;
	char *why;
	size_t whylen;
	bool failed, oom, doctype, seen_root, seen_md_pp;
	char charset_err[120];         /* libxml2's first I/O or encoding error */
	/* the path: element ids from the root */
	enum el stack[STACK_MAX];
	size_t depth;
	/* the field being collected: where it goes, at which depth */
	const char **slot;
	size_t slot_depth;
	spf_buf_t text;
	const char *begin, *end;
	const char *count;             /* the record's <count> */
	/* the records so far, and the one being read */
	spf_report_record_t *recs;
	size_t nrecs, caprecs;
	spf_report_record_t cur;
	bool in_record;
	struct auths dkim, spf;
	spf_report_auth_t *auth;      /* the <dkim> or <spf> being read */
};

static void say(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(rd->why, rd->whylen, fmt, ap);
	va_end(ap);
}

static void stop(struct reader *rd)
{
	rd->failed = true;
	xmlStopParser(rd->ctxt);
}

/* A decimal number of at most 20 digits fitting in 64 bits. */
static bool number(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return false;
	for (; *s != '\0'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (*s < '0' || *s > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int64_t date(const char *s)
{
	uint64_t v;

	if (!number(s, &v) || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

static bool address_ok(const char *s)
{
	unsigned char buf[16];

	return s != NULL && (inet_pton(AF_INET, s, buf) == 1 ||
		inet_pton(AF_INET6, s, buf) == 1);
}

/* Printable (for why): at most 40 bytes, others as '?'. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] != '\0' && i + 1 < len && i < 40; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static spf_report_auth_t *auth_new(struct reader *rd, struct auths *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		spf_report_auth_t *n = spf_realloc(a->a, cap * sizeof(*n));

		if (n == NULL) {
			rd->oom = true;
			stop(rd);
			return NULL;
		}
		a->a = n, a->cap = cap;
	}
	memset(&a->a[a->n], 0, sizeof(a->a[0]));
	return &a->a[a->n++];
}

/* Copy the auth results read into the arena. */
static const spf_report_auth_t *auth_keep(struct reader *rd, struct auths *a,
	size_t *n)
{
	spf_report_auth_t *out;

	*n = 0;
	if (a->n == 0)
		return NULL;
	out = spf_arena_alloc(rd->arena, a->n * sizeof(*out));
	if (out == NULL) {
		rd->oom = true;
		return NULL;
	}
	memcpy(out, a->a, a->n * sizeof(*out));
	*n = a->n;
	a->n = 0;
	return out;
}

static void record_end(struct reader *rd)
{
	spf_report_record_t *r = &rd->cur;
	size_t no = rd->nrecs + 1;
	char buf[48];

	if (r->source_ip == NULL) {
		say(rd, "record %zu has no <source_ip>", no);
		stop(rd);
		return;
	}
	if (!address_ok(r->source_ip)) {
		say(rd, "record %zu: source_ip '%s' is not an IP address", no,
			shown(r->source_ip, buf, sizeof(buf)));
		stop(rd);
		return;
	}
	if (!number(rd->count, &r->count)) {
		say(rd, "record %zu: count '%s' is not a number", no,
			rd->count ? shown(rd->count, buf, sizeof(buf)) : "");
		stop(rd);
		return;
	}
	r->dkim_results = auth_keep(rd, &rd->dkim, &r->ndkim);
	r->spf_results = auth_keep(rd, &rd->spf, &r->nspf);
	if (rd->nrecs == rd->caprecs) {
		size_t cap = rd->caprecs ? rd->caprecs * 2 : 16;
		spf_report_record_t *n = spf_realloc(rd->recs, cap * sizeof(*n));

		if (n == NULL) {
			rd->oom = true;
			stop(rd);
			return;
		}
		rd->recs = n, rd->caprecs = cap;
	}
	rd->recs[rd->nrecs++] = *r;
	if (rd->oom)
		stop(rd);
}

/* Where the text of the element just opened goes, or NULL. */
static const char **slot_for(struct reader *rd)
{
	const enum el *s = rd->stack;
	size_t d = rd->depth;
	spf_report_t *rep = rd->rep;
	spf_report_record_t *r = &rd->cur;

	if (d == 2 && s[1] == E_VERSION)
		return &rep->version;
	if (d == 3 && s[1] == E_REPORT_METADATA) {
		switch (s[2]) {
		case E_ORG_NAME: return &rep->org_name;
		case E_EMAIL: return &rep->email;
		case E_REPORT_ID: return &rep->report_id;
		default: return NULL;
		}
	}
	if (d == 4 && s[1] == E_REPORT_METADATA && s[2] == E_DATE_RANGE)
		return s[3] == E_BEGIN ? &rd->begin : s[3] == E_END ? &rd->end : NULL;
	if (d == 3 && s[1] == E_POLICY_PUBLISHED) {
		switch (s[2]) {
		case E_DOMAIN: return &rep->domain;
		case E_ADKIM: return &rep->adkim;
		case E_ASPF: return &rep->aspf;
		case E_P: return &rep->p;
		case E_SP: return &rep->sp;
		case E_NP: return &rep->np;
		default: return NULL;
		}
	}
	if (!rd->in_record || d < 4)
		return NULL;
	if (d == 4 && s[2] == E_ROW)
		return s[3] == E_SOURCE_IP ? &r->source_ip : s[3] == E_COUNT ?
			&rd->count : NULL;
	if (d == 5 && s[2] == E_ROW && s[3] == E_POLICY_EVALUATED) {
		switch (s[4]) {
		case E_DISPOSITION: return &r->disposition;
		case E_DKIM: return &r->dkim;
		case E_SPF: return &r->spf;
		default: return NULL;
		}
	}
	if (d == 4 && s[2] == E_IDENTIFIERS) {
		switch (s[3]) {
		case E_HEADER_FROM: return &r->header_from;
		case E_ENVELOPE_FROM: return &r->envelope_from;
		case E_ENVELOPE_TO: return &r->envelope_to;
		default: return NULL;
		}
	}
	if (d == 5 && s[2] == E_AUTH_RESULTS && rd->auth != NULL) {
		switch (s[4]) {
		case E_DOMAIN: return &rd->auth->domain;
		case E_SELECTOR: return &rd->auth->selector;
		case E_SCOPE: return &rd->auth->scope;
		case E_RESULT: return &rd->auth->result;
		default: return NULL;
		}
	}
	return NULL;
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
	const xmlChar *uri, int nns, const xmlChar **ns, int nattr, int ndef,
	const xmlChar **attrs)
{
	struct reader *rd = ctx;
	enum el e = el_of((const char *)local);
	const char **slot;

	(void)prefix, (void)uri, (void)nns, (void)ns, (void)nattr, (void)ndef,
		(void)attrs;
	if (rd->failed)
		return;
	if (rd->depth == 0) {
		if (e != E_FEEDBACK) {
			char buf[48];

			say(rd, "not a DMARC aggregate report: the root element is "
				"<%s>, not <feedback>", shown((const char *)local, buf,
				sizeof(buf)));
			stop(rd);
			return;
		}
		rd->seen_root = true;
	}
	if (rd->depth >= STACK_MAX) {
		rd->depth++;
		return;
	}
	rd->stack[rd->depth++] = e;
	if (rd->depth == 2 && (e == E_REPORT_METADATA || e == E_POLICY_PUBLISHED))
		rd->seen_md_pp = true;
	if (rd->depth == 2 && e == E_RECORD) {
		memset(&rd->cur, 0, sizeof(rd->cur));
		rd->count = NULL;
		rd->in_record = true;
		rd->dkim.n = rd->spf.n = 0;
		rd->auth = NULL;
		return;
	}
	if (rd->in_record && rd->depth == 4 && rd->stack[2] == E_AUTH_RESULTS &&
	    (e == E_DKIM || e == E_SPF)) {
		rd->auth = auth_new(rd, e == E_DKIM ? &rd->dkim : &rd->spf);
		return;
	}
	if (rd->slot != NULL)
		return;   /* inside a field: its text includes this one's */
	slot = slot_for(rd);
	if (slot != NULL && *slot == NULL) {
		rd->slot = slot;
		rd->slot_depth = rd->depth;
		spf_buf_reset(&rd->text);
	}
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
	const xmlChar *uri)
{
	struct reader *rd = ctx;

	(void)local, (void)prefix, (void)uri;
	if (rd->failed || rd->depth == 0)
		return;
	if (rd->slot != NULL && rd->depth == rd->slot_depth) {
		const char *b = spf_buf_cstr(&rd->text), *e;
		char *out;

		while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
			b++;
		e = b + strlen(b);
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
		    e[-1] == '\n'))
			e--;
		out = spf_arena_strndup(rd->arena, b, (size_t)(e - b));
		if (out == NULL) {
			rd->oom = true;
			stop(rd);
			return;
		}
		*rd->slot = out;
		rd->slot = NULL;
	}
	if (rd->depth <= STACK_MAX) {
		enum el e = rd->stack[rd->depth - 1];

		if (rd->depth == 2 && e == E_RECORD) {
			record_end(rd);
			rd->in_record = false;
		} else if (rd->depth == 4 && rd->in_record && (e == E_DKIM ||
		    e == E_SPF) && rd->stack[2] == E_AUTH_RESULTS) {
			rd->auth = NULL;
		}
	}
	rd->depth--;
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
	struct reader *rd = ctx;

	if (rd->failed || rd->slot == NULL || len <= 0)
		return;
	if (rd->text.len + (size_t)len > FIELD_MAX) {
		say(rd, "<%s> is longer than %d bytes",
			el_names[rd->stack[rd->slot_depth - 1]], FIELD_MAX);
		stop(rd);
		return;
	}
	if (spf_buf_append(&rd->text, ch, (size_t)len) != SPF_OK) {
		rd->oom = true;
		stop(rd);
	}
}

/* ---- refusing a DTD ---- */

static void no_doctype(void *ctx, const xmlChar *name, const xmlChar *ext,
	const xmlChar *sys)
{
	struct reader *rd = ctx;

	(void)name, (void)ext, (void)sys;
	rd->doctype = true;
	stop(rd);
}

static void no_entity(void *ctx, const xmlChar *name, int type,
	const xmlChar *pub, const xmlChar *sys, xmlChar *content)
{
	(void)name, (void)type, (void)pub, (void)sys, (void)content;
	no_doctype(ctx, NULL, NULL, NULL);
}

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

/* one_line() below */
static void one_line(char *why);

/* libxml2 reports a failed character conversion (a document labelled
 * ISO-2022-JP whose bytes are not) outside the parser context, on its
 * global error channels, which print to stderr: taken here instead, the
 * first of them kept for the one-line reason. */
static void on_global_error(void *ctx, xmlErrorPtr e)
{
	struct reader *rd = ctx;

	if (e != NULL && e->message != NULL && rd->charset_err[0] == '\0' &&
	    (e->domain == XML_FROM_I18N || e->domain == XML_FROM_IO)) {
		snprintf(rd->charset_err, sizeof(rd->charset_err), "%s", e->message);
		one_line(rd->charset_err);
	}
}

/* why on one line: control bytes become spaces, trailing ones go */
static void one_line(char *why)
{
	size_t n = 0;

	for (char *p = why; *p != '\0'; p++, n++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	while (n > 0 && why[n - 1] == ' ')
		why[--n] = '\0';
}

static void xml_error(struct reader *rd)
{
	const xmlError *e = xmlCtxtGetLastError(rd->ctxt);
	char msg[120] = "not well-formed";

	if (e != NULL && e->message != NULL) {
		size_t n = strlen(e->message);

		if (n >= sizeof(msg))
			n = sizeof(msg) - 1;
		memcpy(msg, e->message, n);
		msg[n] = '\0';
		one_line(msg);
	}
	if (e != NULL && e->code == XML_ERR_NO_MEMORY)
		rd->oom = true;
	if (rd->charset_err[0] != '\0')
		say(rd, "not XML: %s (line %d: %s)", rd->charset_err, e ? e->line : 0,
			msg);
	else
		say(rd, "not XML: %s (line %d)", msg, e ? e->line : 0);
}

spf_status_t spf_report_parse(const void *xml, size_t len, spf_report_t **out,
	char *why, size_t whylen)
{
	struct reader rd = { .why = why, .whylen = whylen };
	xmlSAXHandler sax;
	spf_status_t st = SPF_EINVAL;
	xmlGenericErrorFunc old_generic = xmlGenericError;
	void *old_generic_ctx = xmlGenericErrorContext;
	xmlStructuredErrorFunc old_structured = xmlStructuredError;
	void *old_structured_ctx = xmlStructuredErrorContext;

	*out = NULL;
	if (whylen > 0)
		why[0] = '\0';
	if (len > SPF_REPORT_MAX_BYTES || len > INT32_MAX) {
		say(&rd, "the XML is over %u bytes", SPF_REPORT_MAX_BYTES);
		return SPF_EINVAL;
	}
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = on_start;
	sax.endElementNs = on_end;
	sax.characters = on_text;
	sax.cdataBlock = on_text;
	sax.internalSubset = no_doctype;
	sax.externalSubset = no_doctype;
	sax.entityDecl = no_entity;
	sax.error = quiet;
	sax.warning = quiet;
	spf_buf_init(&rd.text, FIELD_MAX + 1);
	rd.arena = spf_arena_create();
	if (rd.arena == NULL ||
	    (rd.rep = spf_arena_alloc(rd.arena, sizeof(*rd.rep))) == NULL ||
	    (rd.ctxt = xmlCreatePushParserCtxt(&sax, &rd, NULL, 0, NULL)) == NULL) {
		st = SPF_ENOMEM;
		goto done;
	}
	rd.rep->priv = rd.arena;
	xmlSetGenericErrorFunc(NULL, quiet);
	xmlSetStructuredErrorFunc(&rd, on_global_error);
	xmlCtxtUseOptions(rd.ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING);
	xmlParseChunk(rd.ctxt, xml, (int)len, 1);
	if (rd.doctype) {
		rd.failed = false;
		say(&rd, "the XML has a DOCTYPE (entity declarations are refused; "
			"reports have none)");
		goto done;
	}
	if (rd.oom) {
		st = SPF_ENOMEM;
		goto done;
	}
	if (rd.failed)
		goto done;
	if (!rd.ctxt->wellFormed || !rd.seen_root) {
		xml_error(&rd);
		if (rd.oom)
			st = SPF_ENOMEM;
		goto done;
	}
	if (!rd.seen_md_pp) {
		say(&rd, "not a DMARC aggregate report: <feedback> has neither "
			"<report_metadata> nor <policy_published>");
		goto done;
	}
	rd.rep->begin = date(rd.begin);
	rd.rep->end = date(rd.end);
	if (rd.nrecs > 0) {
		spf_report_record_t *recs = spf_arena_alloc(rd.arena,
			rd.nrecs * sizeof(*recs));

		if (recs == NULL) {
			st = SPF_ENOMEM;
			goto done;
		}
		memcpy(recs, rd.recs, rd.nrecs * sizeof(*recs));
		rd.rep->records = recs;
		rd.rep->nrecords = rd.nrecs;
	}
	st = SPF_OK;
	*out = rd.rep;
	rd.arena = NULL;
done:
	xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
	xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
	if (whylen > 0)
		one_line(why);
	if (rd.ctxt != NULL)
		xmlFreeParserCtxt(rd.ctxt);
	spf_arena_destroy(rd.arena);
	spf_buf_finish(&rd.text);
	spf_free(rd.recs);
	spf_free(rd.dkim.a);
	spf_free(rd.spf.a);
	return st;
}

void spf_report_destroy(spf_report_t *r)
{
	if (r != NULL)
		spf_arena_destroy(r->priv);
}
