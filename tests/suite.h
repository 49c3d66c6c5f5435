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

/* Does zn have a TXT entry?  (Without one an SPF entry is served as TXT
 * too, as the suite's drivers do.) */
bool suite_name_has_txt(const struct zname *zn);

/* Is name among argv[first..argc) (true when that list is empty)? */
bool suite_wanted(const char *name, int argc, char **argv, int first);

/* Does t accept the result named result, with explanation exp (NULL:
 * none) when the test gives one for a fail? */
bool suite_accepts(const struct stest *t, const char *result, const char *exp);

/* Fill req (zeroed by the caller) with the identity of t: host, sender,
 * HELO, identity, receiver, and the default explanation "DEFAULT" the
 * suite expects (strings borrowed from t).  False if host is no address. */
bool suite_request(const struct stest *t, spf_request_t *req);

/* Print ", want RESULT... [exp=\"...\"]" for a failure line. */
void suite_print_want(const struct stest *t);

#endif
