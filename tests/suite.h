/*
 * suite.h - scenarios in the openspf test-suite YAML format (suite.c).
 */
#ifndef SPF_TESTS_SUITE_H
#define SPF_TESTS_SUITE_H

#include <stdbool.h>
#include <stddef.h>

#include "spf.h"

#define MAX_VALUES 16

struct bytes {
	char *data;     /* NUL-terminated, may contain NUL */
	size_t len;
};

struct zentry {
	char *type;     /* "A", "TXT", ..., or "TIMEOUT" (static) */
	struct bytes values[MAX_VALUES];
	size_t nvalues;
	bool is_list;
};

struct zname {
	char *name;
	struct zentry *entries;
	size_t nentries;
};

struct stest {
	char *name;
	size_t line;
	char *helo, *host, *mailfrom, *explanation, *identity, *receiver;
	char *results[7];
	size_t nresults;
};

struct scenario {
	char *description;
	size_t line;
	struct stest *tests;
	size_t ntests;
	struct zname *names;
	size_t nnames;
};

struct suite {
	struct scenario *scenarios;
	size_t nscenarios;
};

bool suite_load(const char *path, struct suite *s);
void suite_free(struct suite *s);
bool suite_fill_zone(const struct scenario *sc, spf_zone_t *z);

#endif
