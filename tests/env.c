/*
 * env.c - the one test environment of the cmocka tests (see env.h).
 * A failed set-up frees what it made and returns -1, which cmocka
 * reports as a failed set-up.
 */
#include <string.h>

#include "check.h"
#include "env.h"

env_t *env_create(void)
{
	spf_resolver_opts_t opts = { .offline = true };
	env_t *e = calloc(1, sizeof *e);

	if (e == NULL)
		return NULL;
	e->base = event_base_new();
	e->res = e->base != NULL ? spf_resolver_create(e->base, &opts) : NULL;
	if (e->res == NULL) {
		env_destroy(e);
		return NULL;
	}
	e->zone = spf_resolver_zone(e->res);
	return e;
}

void env_destroy(env_t *e)
{
	if (e == NULL)
		return;
	spf_resolver_destroy(e->res);
	if (e->base != NULL)
		event_base_free(e->base);
	free(e);
}

int env_setup(void **state)
{
	*state = env_create();
	return *state != NULL ? 0 : -1;
}

int env_teardown(void **state)
{
	env_destroy(*state);
	*state = NULL;
	return 0;
}

void env_load(env_t *e, const char *zone)
{
	char *err = NULL;

	if (zone == NULL)
		return;
	if (spf_zone_load_mem(e->zone, zone, strlen(zone), "test", NULL, &err) != SPF_OK)
		fail_msg("zone: %s", err != NULL ? err : "?");
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

void env_wait_for(struct event_base *base, const bool *done, unsigned guard_ms)
{
	bool expired = false;
	unsigned ms = guard_ms > 0 ? guard_ms : ENV_GUARD_MS;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *guard = evtimer_new(base, on_guard, &expired);

	assert_non_null(guard);
	evtimer_add(guard, &tv);
	while (!*done && !expired)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	event_free(guard);
	assert_false(expired);
	assert_true(*done);
}
