/*
 * suite.c - read test suites in the openspf YAML format (libyaml).
 *
 * DESCRIPTION
 *	The RFC 7208 test suite (testdata/rfc7208-tests.yml) and our own
 *	scenarios share one format: a stream of YAML documents, each with
 *	"tests" (name -> helo, host, mailfrom, result, explanation) and
 *	"zonedata" (name -> list of {TYPE: value} or the word TIMEOUT).
 *	suite_load() turns a file into scenarios; suite_fill_zone() puts a
 *	scenario's zonedata into an spf_zone_t the way the suite's drivers
 *	do: an SPF entry is also served as TXT when the name has no TXT
 *	entry ("TXT: NONE" is such an entry and adds nothing); TIMEOUT makes
 *	queries of types the name lacks time out.
 *
 *	Scalars are byte strings with a length.  YAML escapes such as "\x80"
 *	denote code points; code points up to U+00FF are turned back into
 *	single bytes, as the suite means them.
 *
 * DIAGNOSTICS
 *	Errors (unreadable file, YAML syntax, unexpected structure) are
 *	printed to stderr with the YAML line; the loader then fails.
 */
#include "suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static bool fail(const char *path, const yaml_node_t *n, const char *msg)
{
	fprintf(stderr, "%s:%lu: %s\n", path,
		n ? (unsigned long)n->start_mark.line + 1 : 0UL, msg);
	return false;
}

/* Copy a scalar, folding U+0080..U+00FF back to single bytes. */
static struct bytes scalar(const yaml_node_t *n)
{
	struct bytes b = { 0 };
	const unsigned char *s = n->data.scalar.value;
	size_t len = n->data.scalar.length, j = 0;

	b.data = malloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < len &&
		    (s[i + 1] & 0xc0) == 0x80) {
			b.data[j++] = (char)(((s[i] & 0x03) << 6) | (s[i + 1] & 0x3f));
			i++;
		} else {
			b.data[j++] = (char)s[i];
		}
	}
	b.data[j] = '\0';
	b.len = j;
	return b;
}

static bool key_is(yaml_document_t *doc, yaml_node_pair_t *p, const char *k)
{
	yaml_node_t *n = yaml_document_get_node(doc, p->key);

	return n && n->type == YAML_SCALAR_NODE &&
		n->data.scalar.length == strlen(k) &&
		memcmp(n->data.scalar.value, k, strlen(k)) == 0;
}

static char *str(const yaml_node_t *n)
{
	return scalar(n).data;
}

static bool load_entry(const char *path, yaml_document_t *doc, yaml_node_t *en,
	struct zentry *ze)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;

	memset(ze, 0, sizeof(*ze));
	if (en->type == YAML_SCALAR_NODE) {
		struct bytes b = scalar(en);
		bool ok = strcmp(b.data, "TIMEOUT") == 0;

		free(b.data);
		ze->type = "TIMEOUT";
		return ok || fail(path, en, "expected TIMEOUT or {TYPE: value}");
	}
	if (en->type != YAML_MAPPING_NODE ||
	    en->data.mapping.pairs.top - en->data.mapping.pairs.start != 1)
		return fail(path, en, "expected a one-entry mapping {TYPE: value}");
	p = en->data.mapping.pairs.start;
	k = yaml_document_get_node(doc, p->key);
	v = yaml_document_get_node(doc, p->value);
	if (k->type != YAML_SCALAR_NODE)
		return fail(path, en, "record type must be a scalar");
	ze->type = str(k);
	if (v->type == YAML_SCALAR_NODE) {
		ze->values[0] = scalar(v);
		ze->nvalues = 1;
	} else if (v->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *x = yaml_document_get_node(doc, *it);

			if (x->type != YAML_SCALAR_NODE || ze->nvalues >= MAX_VALUES)
				return fail(path, x, "bad value list");
			ze->values[ze->nvalues++] = scalar(x);
		}
		ze->is_list = true;
	} else {
		return fail(path, v, "bad record value");
	}
	return true;
}

static bool load_test(const char *path, yaml_document_t *doc, yaml_node_pair_t *tp,
	struct stest *t)
{
	yaml_node_t *tn = yaml_document_get_node(doc, tp->value);

	memset(t, 0, sizeof(*t));
	t->name = str(yaml_document_get_node(doc, tp->key));
	t->line = tn->start_mark.line + 1;
	if (tn->type != YAML_MAPPING_NODE)
		return fail(path, tn, "a test must be a mapping");
	for (yaml_node_pair_t *p = tn->data.mapping.pairs.start;
	     p < tn->data.mapping.pairs.top; p++) {
		yaml_node_t *v = yaml_document_get_node(doc, p->value);

		if (key_is(doc, p, "result")) {
			if (v->type == YAML_SCALAR_NODE) {
				t->results[t->nresults++] = str(v);
			} else if (v->type == YAML_SEQUENCE_NODE) {
				for (yaml_node_item_t *it = v->data.sequence.items.start;
				     it < v->data.sequence.items.top && t->nresults < 7; it++)
					t->results[t->nresults++] =
						str(yaml_document_get_node(doc, *it));
			}
			continue;
		}
		if (v->type != YAML_SCALAR_NODE)
			continue;
		if (key_is(doc, p, "helo"))
			t->helo = str(v);
		else if (key_is(doc, p, "host"))
			t->host = str(v);
		else if (key_is(doc, p, "mailfrom"))
			t->mailfrom = str(v);
		else if (key_is(doc, p, "explanation"))
			t->explanation = str(v);
		else if (key_is(doc, p, "identity"))
			t->identity = str(v);
		else if (key_is(doc, p, "receiver"))
			t->receiver = str(v);
	}
	if (t->host == NULL || t->nresults == 0)
		return fail(path, tn, "a test needs host and result");
	return true;
}

static bool load_doc(const char *path, yaml_document_t *doc, struct scenario *sc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);

	memset(sc, 0, sizeof(*sc));
	if (root->type != YAML_MAPPING_NODE)
		return fail(path, root, "a scenario must be a mapping");
	sc->line = root->start_mark.line + 1;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *v = yaml_document_get_node(doc, p->value);

		if (key_is(doc, p, "description") && v->type == YAML_SCALAR_NODE) {
			sc->description = str(v);
		} else if (key_is(doc, p, "tests") && v->type == YAML_MAPPING_NODE) {
			size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);

			sc->tests = calloc(n ? n : 1, sizeof(*sc->tests));
			for (yaml_node_pair_t *tp = v->data.mapping.pairs.start;
			     tp < v->data.mapping.pairs.top; tp++)
				if (!load_test(path, doc, tp, &sc->tests[sc->ntests++]))
					return false;
		} else if (key_is(doc, p, "zonedata") && v->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *zp = v->data.mapping.pairs.start;
			     zp < v->data.mapping.pairs.top; zp++) {
				yaml_node_t *list = yaml_document_get_node(doc, zp->value);
				struct zname *zn;

				sc->names = realloc(sc->names, (sc->nnames + 1) * sizeof(*sc->names));
				zn = &sc->names[sc->nnames++];
				memset(zn, 0, sizeof(*zn));
				zn->name = str(yaml_document_get_node(doc, zp->key));
				if (list->type != YAML_SEQUENCE_NODE)
					return fail(path, list, "zone entries must be a list");
				for (yaml_node_item_t *it = list->data.sequence.items.start;
				     it < list->data.sequence.items.top; it++) {
					zn->entries = realloc(zn->entries,
						(zn->nentries + 1) * sizeof(*zn->entries));
					if (!load_entry(path, doc, yaml_document_get_node(doc, *it),
					    &zn->entries[zn->nentries++]))
						return false;
				}
			}
		}
	}
	return true;
}

bool suite_load(const char *path, struct suite *s)
{
	FILE *fp = fopen(path, "rb");
	yaml_parser_t parser;
	bool ok = true;

	memset(s, 0, sizeof(*s));
	if (fp == NULL) {
		perror(path);
		return false;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	for (;;) {
		yaml_document_t doc;

		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "%s:%lu: YAML error: %s\n", path,
				(unsigned long)parser.problem_mark.line + 1,
				parser.problem ? parser.problem : "?");
			ok = false;
			break;
		}
		if (yaml_document_get_root_node(&doc) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		s->scenarios = realloc(s->scenarios, (s->nscenarios + 1) * sizeof(*s->scenarios));
		ok = load_doc(path, &doc, &s->scenarios[s->nscenarios++]);
		yaml_document_delete(&doc);
		if (!ok)
			break;
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	return ok;
}

void suite_free(struct suite *s)
{
	for (size_t i = 0; i < s->nscenarios; i++) {
		struct scenario *sc = &s->scenarios[i];

		for (size_t j = 0; j < sc->ntests; j++) {
			struct stest *t = &sc->tests[j];

			free(t->name); free(t->helo); free(t->host); free(t->mailfrom);
			free(t->explanation); free(t->identity); free(t->receiver);
			for (size_t k = 0; k < t->nresults; k++)
				free(t->results[k]);
		}
		for (size_t j = 0; j < sc->nnames; j++) {
			struct zname *zn = &sc->names[j];

			for (size_t k = 0; k < zn->nentries; k++) {
				if (strcmp(zn->entries[k].type, "TIMEOUT") != 0)
					free(zn->entries[k].type);
				for (size_t v = 0; v < zn->entries[k].nvalues; v++)
					free(zn->entries[k].values[v].data);
			}
			free(zn->entries);
			free(zn->name);
		}
		free(sc->tests);
		free(sc->names);
		free(sc->description);
	}
	free(s->scenarios);
	memset(s, 0, sizeof(*s));
}

static bool add_txt(spf_zone_t *z, const char *name, uint16_t type,
	const struct zentry *e)
{
	const uint8_t *strs[MAX_VALUES];
	size_t lens[MAX_VALUES];

	for (size_t i = 0; i < e->nvalues; i++) {
		strs[i] = (const uint8_t *)e->values[i].data;
		lens[i] = e->values[i].len;
	}
	if (type == SPF_RR_TXT)
		return spf_zone_add_txt(z, name, strs, lens, e->nvalues, 300) == SPF_OK;
	else {
		/* type 99: build the record by hand */
		spf_dns_rr_t rr = { .type = SPF_RR_SPF, .ttl = 300 };
		uint16_t l16[MAX_VALUES];
		size_t total = 0;
		uint8_t *joined;
		bool ok;

		for (size_t i = 0; i < e->nvalues; i++) {
			l16[i] = (uint16_t)lens[i];
			total += lens[i];
		}
		joined = malloc(total + 1);
		total = 0;
		for (size_t i = 0; i < e->nvalues; i++) {
			memcpy(joined + total, strs[i], lens[i]);
			total += lens[i];
		}
		joined[total] = 0;
		rr.u.txt.data = joined;
		rr.u.txt.len = total;
		rr.u.txt.nstrings = e->nvalues;
		rr.u.txt.lens = l16;
		ok = spf_zone_add(z, name, &rr) == SPF_OK;
		free(joined);
		return ok;
	}
}

bool suite_name_has_txt(const struct zname *zn)
{
	for (size_t k = 0; k < zn->nentries; k++)
		if (strcmp(zn->entries[k].type, "TXT") == 0)
			return true;
	return false;
}

bool suite_wanted(const char *name, int argc, char **argv, int first)
{
	if (first >= argc)
		return true;
	for (int i = first; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

bool suite_accepts(const struct stest *t, const char *result, const char *exp)
{
	bool ok = false;

	for (size_t i = 0; i < t->nresults; i++)
		if (strcmp(t->results[i], result) == 0)
			ok = true;
	if (ok && t->explanation != NULL && strcmp(result, "fail") == 0 &&
	    (exp == NULL || strcmp(exp, t->explanation) != 0))
		ok = false;
	return ok;
}

bool suite_request(const struct stest *t, spf_request_t *req)
{
	if (!spf_addr_parse(t->host, &req->ip))
		return false;
	req->sender = t->mailfrom;
	req->helo = t->helo;
	req->identity = t->identity && strcmp(t->identity, "helo") == 0 ?
		SPF_IDENTITY_HELO : SPF_IDENTITY_MFROM;
	req->default_explanation = "DEFAULT";
	req->receiver = t->receiver;
	return true;
}

void suite_print_want(const struct stest *t)
{
	printf(", want");
	for (size_t i = 0; i < t->nresults; i++)
		printf(" %s", t->results[i]);
	if (t->explanation != NULL)
		printf(" exp=\"%s\"", t->explanation);
}

bool suite_fill_zone(const struct scenario *sc, spf_zone_t *z)
{
	for (size_t i = 0; i < sc->nnames; i++) {
		const struct zname *zn = &sc->names[i];
		bool has_txt = suite_name_has_txt(zn);

		for (size_t k = 0; k < zn->nentries; k++) {
			const struct zentry *e = &zn->entries[k];
			spf_dns_rr_t rr = { .ttl = 300 };
			spf_addr_t a;
			bool ok = true;

			if (strcmp(e->type, "TIMEOUT") == 0) {
				ok = spf_zone_set_timeout(z, zn->name) == SPF_OK;
			} else if (strcmp(e->type, "TXT") == 0) {
				if (!(e->nvalues == 1 && !e->is_list &&
				      strcmp(e->values[0].data, "NONE") == 0))
					ok = add_txt(z, zn->name, SPF_RR_TXT, e);
			} else if (strcmp(e->type, "SPF") == 0) {
				ok = add_txt(z, zn->name, SPF_RR_SPF, e);
				if (ok && !has_txt)
					ok = add_txt(z, zn->name, SPF_RR_TXT, e);
			} else if (strcmp(e->type, "A") == 0 || strcmp(e->type, "AAAA") == 0) {
				if (!spf_addr_parse(e->values[0].data, &a)) {
					fprintf(stderr, "zonedata %s: bad address %s\n",
						zn->name, e->values[0].data);
					return false;
				}
				rr.type = a.family == 4 ? SPF_RR_A : SPF_RR_AAAA;
				if (a.family == 4)
					memcpy(rr.u.a, a.addr, 4);
				else
					memcpy(rr.u.aaaa, a.addr, 16);
				ok = spf_zone_add(z, zn->name, &rr) == SPF_OK;
			} else if (strcmp(e->type, "MX") == 0 && e->nvalues == 2) {
				rr.type = SPF_RR_MX;
				rr.u.mx.preference = (uint16_t)atoi(e->values[0].data);
				rr.u.mx.exchange = e->values[1].data;
				ok = spf_zone_add(z, zn->name, &rr) == SPF_OK;
			} else if (strcmp(e->type, "PTR") == 0 || strcmp(e->type, "CNAME") == 0) {
				rr.type = e->type[0] == 'P' ? SPF_RR_PTR : SPF_RR_CNAME;
				rr.u.name = e->values[0].data;
				ok = spf_zone_add(z, zn->name, &rr) == SPF_OK;
			} else {
				fprintf(stderr, "zonedata %s: unsupported entry %s\n",
					zn->name, e->type);
				return false;
			}
			if (!ok) {
				fprintf(stderr, "zonedata %s: cannot add %s\n", zn->name, e->type);
				return false;
			}
		}
	}
	return true;
}
