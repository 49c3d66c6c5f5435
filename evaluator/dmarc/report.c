/*
 * report.c - the XML of a DMARC aggregate report (RFC 9990 appendix A;
 * RFC 7489 appendix C before it) into spf_report_t.
 *
 * DESCRIPTION
 *	libxml2 reads the document into a tree with XML_PARSE_NONET (no
 *	network) and without XML_PARSE_NOENT, XML_PARSE_DTDLOAD or
 *	XML_PARSE_HUGE: entities are never substituted, no external subset
 *	is fetched and libxml2's own size limits hold.  Beyond that, the
 *	SAX callbacks for a DOCTYPE stop the parser at once: reports have
 *	no DTD, and the billion-laughs and external-entity attacks need
 *	one, so they end before an entity is even declared.
 *
 *	Elements are matched by local name, so a report in the RFC 9990
 *	namespace reads like one in none.  Unknown elements (<extensions>,
 *	<reason>, <human_result>, ...) are skipped.  Every string is
 *	trimmed and copied into the report's arena; the tree is freed
 *	before returning.
 *
 * DIAGNOSTICS
 *	One line in why: libxml2's message and line for XML that does not
 *	parse, "a DOCTYPE" for a document with one, the root element when
 *	it is not <feedback>, the record number for a record without a
 *	valid source_ip or count.
 */
#include "report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

struct reader {
	spf_arena_t *arena;
	char *why;
	size_t whylen;
	bool oom;
};

static void say(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rd->why, rd->whylen, fmt, ap);
	va_end(ap);
}

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
		strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c != NULL; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* The trimmed text of n (NULL for NULL), in the arena. */
static const char *text(struct reader *rd, const xmlNode *n)
{
	xmlChar *s;
	const char *b, *e;
	char *out;

	if (n == NULL)
		return NULL;
	s = xmlNodeGetContent(n);
	if (s == NULL)
		return NULL;
	b = (const char *)s;
	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	out = spf_arena_strndup(rd->arena, b, (size_t)(e - b));
	if (out == NULL)
		rd->oom = true;
	xmlFree(s);
	return out;
}

static const char *field(struct reader *rd, const xmlNode *n, const char *name)
{
	return text(rd, child(n, name));
}

/* A decimal number of at most 20 digits fitting in 64 bits. */
static bool number(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static int64_t date(struct reader *rd, const xmlNode *range, const char *name)
{
	uint64_t v;

	if (!number(field(rd, range, name), &v) || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

static size_t count_children(const xmlNode *n, const char *name)
{
	size_t k = 0;

	for (const xmlNode *c = n ? n->children : NULL; c != NULL; c = c->next)
		if (is(c, name))
			k++;
	return k;
}

static const spf_report_auth_t *auths(struct reader *rd, const xmlNode *ar,
	const char *name, size_t *n)
{
	spf_report_auth_t *a;
	size_t k = count_children(ar, name), i = 0;

	*n = 0;
	if (k == 0)
		return NULL;
	a = spf_arena_alloc(rd->arena, k * sizeof(*a));
	if (a == NULL) {
		rd->oom = true;
		return NULL;
	}
	for (const xmlNode *c = ar->children; c != NULL; c = c->next) {
		if (!is(c, name))
			continue;
		a[i].domain = field(rd, c, "domain");
		a[i].selector = field(rd, c, "selector");
		a[i].scope = field(rd, c, "scope");
		a[i].result = field(rd, c, "result");
		i++;
	}
	*n = k;
	return a;
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

static bool record(struct reader *rd, const xmlNode *n, size_t number_,
	spf_report_record_t *r)
{
	const xmlNode *row = child(n, "row"), *pe = child(row, "policy_evaluated");
	const xmlNode *id = child(n, "identifiers"), *ar = child(n, "auth_results");
	const char *count;
	char buf[48];

	r->source_ip = field(rd, row, "source_ip");
	if (r->source_ip == NULL) {
		say(rd, "record %zu has no <source_ip>", number_);
		return false;
	}
	if (!address_ok(r->source_ip)) {
		say(rd, "record %zu: source_ip '%s' is not an IP address",
			number_, shown(r->source_ip, buf, sizeof(buf)));
		return false;
	}
	count = field(rd, row, "count");
	if (!number(count, &r->count)) {
		say(rd, "record %zu: count '%s' is not a number", number_,
			count ? shown(count, buf, sizeof(buf)) : "");
		return false;
	}
	r->disposition = field(rd, pe, "disposition");
	r->dkim = field(rd, pe, "dkim");
	r->spf = field(rd, pe, "spf");
	r->header_from = field(rd, id, "header_from");
	r->envelope_from = field(rd, id, "envelope_from");
	r->envelope_to = field(rd, id, "envelope_to");
	r->dkim_results = auths(rd, ar, "dkim", &r->ndkim);
	r->spf_results = auths(rd, ar, "spf", &r->nspf);
	return true;
}

static bool feedback(struct reader *rd, const xmlNode *root, spf_report_t *rep)
{
	const xmlNode *md = child(root, "report_metadata");
	const xmlNode *pp = child(root, "policy_published");
	spf_report_record_t *recs;
	size_t k = count_children(root, "record"), i = 0;

	if (md == NULL && pp == NULL) {
		say(rd, "not a DMARC aggregate report: <feedback> has neither "
			"<report_metadata> nor <policy_published>");
		return false;
	}
	rep->version = field(rd, root, "version");
	rep->org_name = field(rd, md, "org_name");
	rep->email = field(rd, md, "email");
	rep->report_id = field(rd, md, "report_id");
	rep->begin = date(rd, child(md, "date_range"), "begin");
	rep->end = date(rd, child(md, "date_range"), "end");
	rep->domain = field(rd, pp, "domain");
	rep->adkim = field(rd, pp, "adkim");
	rep->aspf = field(rd, pp, "aspf");
	rep->p = field(rd, pp, "p");
	rep->sp = field(rd, pp, "sp");
	rep->np = field(rd, pp, "np");
	if (k > 0) {
		recs = spf_arena_alloc(rd->arena, k * sizeof(*recs));
		if (recs == NULL) {
			rd->oom = true;
			return false;
		}
		for (const xmlNode *c = root->children; c != NULL; c = c->next)
			if (is(c, "record")) {
				if (!record(rd, c, i + 1, &recs[i]))
					return false;
				i++;
			}
		rep->records = recs;
		rep->nrecords = k;
	}
	return !rd->oom;
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

/* ---- refusing a DTD ---- */

struct guard {
	bool doctype;
};

static void no_doctype(void *ctx, const xmlChar *name, const xmlChar *ext,
	const xmlChar *sys)
{
	xmlParserCtxtPtr c = ctx;

	(void)name, (void)ext, (void)sys;
	((struct guard *)c->_private)->doctype = true;
	xmlStopParser(c);
}

static void no_entity(void *ctx, const xmlChar *name, int type,
	const xmlChar *pub, const xmlChar *sys, xmlChar *content)
{
	xmlParserCtxtPtr c = ctx;

	(void)name, (void)type, (void)pub, (void)sys, (void)content;
	((struct guard *)c->_private)->doctype = true;
	xmlStopParser(c);
}

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

spf_status_t spf_report_parse(const void *xml, size_t len, spf_report_t **out,
	char *why, size_t whylen)
{
	struct reader rd = { .why = why, .whylen = whylen };
	struct guard g = { false };
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	const xmlNode *root;
	spf_report_t *rep;
	spf_status_t st = SPF_EINVAL;

	*out = NULL;
	if (whylen > 0)
		why[0] = '\0';
	if (len > SPF_REPORT_MAX_BYTES || len > INT32_MAX) {
		say(&rd, "the XML is over %u bytes", SPF_REPORT_MAX_BYTES);
		return SPF_EINVAL;
	}
	rd.arena = spf_arena_create();
	if (rd.arena == NULL)
		return SPF_ENOMEM;
	rep = spf_arena_alloc(rd.arena, sizeof(*rep));
	ctxt = xmlNewParserCtxt();
	if (rep == NULL || ctxt == NULL) {
		st = SPF_ENOMEM;
		goto done;
	}
	rep->priv = rd.arena;
	ctxt->_private = &g;
	ctxt->sax->internalSubset = no_doctype;
	ctxt->sax->externalSubset = no_doctype;
	ctxt->sax->entityDecl = no_entity;
	ctxt->sax->error = quiet;
	ctxt->sax->warning = quiet;
	xmlSetGenericErrorFunc(NULL, quiet);
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (g.doctype) {
		say(&rd, "the XML has a DOCTYPE (entity declarations are refused; "
			"reports have none)");
		goto done;
	}
	if (doc == NULL || !ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[120] = "not well-formed";

		if (e != NULL && e->message != NULL) {
			size_t n = strlen(e->message);

			while (n > 0 && (e->message[n - 1] == '\n' ||
			    e->message[n - 1] == ' '))
				n--;
			if (n >= sizeof(msg))
				n = sizeof(msg) - 1;
			memcpy(msg, e->message, n);
			msg[n] = '\0';
		}
		if (e != NULL && e->code == XML_ERR_NO_MEMORY) {
			st = SPF_ENOMEM;
			goto done;
		}
		say(&rd, "not XML: %s (line %d)", msg, e ? e->line : 0);
		goto done;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		say(&rd, "the XML has a DOCTYPE (reports have none)");
		goto done;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !is(root, "feedback")) {
		char buf[48];

		say(&rd, "not a DMARC aggregate report: the root element is <%s>, "
			"not <feedback>", root ? shown((const char *)root->name,
			buf, sizeof(buf)) : "");
		goto done;
	}
	if (!feedback(&rd, root, rep)) {
		if (rd.oom)
			st = SPF_ENOMEM;
		goto done;
	}
	st = SPF_OK;
	*out = rep;
	rd.arena = NULL;
done:
	if (whylen > 0)
		one_line(why);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	spf_arena_destroy(rd.arena);
	return st;
}

void spf_report_destroy(spf_report_t *r)
{
	if (r != NULL)
		spf_arena_destroy(r->priv);
}
