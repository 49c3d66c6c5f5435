/*
 * env.h - the one test environment of the cmocka tests: an event base,
 * an offline resolver and its zone, and running the loop until a
 * condition holds (bounded, never a fixed sleep).
 */
#ifndef SPF_TESTS_ENV_H
#define SPF_TESTS_ENV_H

#include <stdbool.h>

#include <event2/event.h>

#include "spf.h"

/* How long env_wait_for() lets the loop run before it fails the test. */
#define ENV_GUARD_MS 10000

typedef struct {
	struct event_base *base;
	spf_resolver_t *res;        /* offline: answers only from zone */
	spf_zone_t *zone;           /* the resolver's (borrowed) */
} env_t;

/* A new environment, or NULL (what was made is freed). */
env_t *env_create(void);
void env_destroy(env_t *e);                               /* NULL ok */

/* cmocka group or test set-up / teardown: *state is an env_t. */
int env_setup(void **state);
int env_teardown(void **state);

/* Load master-file text (absolute names) into e's zone; NULL: nothing.
 * Fails the test when it does not load. */
void env_load(env_t *e, const char *zone);

/* Run base's loop until *done, failing the test after guard_ms
 * (0: ENV_GUARD_MS). */
void env_wait_for(struct event_base *base, const bool *done, unsigned guard_ms);

#endif
