/*
 * sync.c - run the loop until a group of checks and queries is
 * answered: the one synchronous wrapper of the evaluator.
 *
 * DESCRIPTION
 *	spf_check_sync(), spf_eval_many() (lint/flatten.c), lint's walk
 *	(lint/lint.c) and Sender ID's lookups and evaluations
 *	(senderid/senderid.c) are synchronous: they start queries and
 *	checks, then run the resolver's loop with spf_resolver_run_until()
 *	until every one is answered.  A group (spf_sync_t, internal.h) holds
 *	one item per outstanding query or check: the handle, and the
 *	caller's callback and argument.  The item's own callback takes it
 *	off the group and then calls the caller's, which may start more.
 *	The group is idle when no item is left; that flag is what the loop
 *	runs until.
 *
 *	Because the group holds every handle, it can end what is left when
 *	the loop stops early.  Without that, the callbacks of what was left
 *	fire later, from whatever runs the loop next, into the frame of a
 *	function that has returned (spf_eval_many() kept its state on the
 *	stack) or into memory that was freed (a lint run destroyed).
 *
 * DIAGNOSTICS
 *	spf_resolver_run_until() returns early when the loop has nothing
 *	left to wait for or reports an error, which in practice means a
 *	synchronous call made from inside a callback of the same loop
 *	(libevent refuses to run a loop inside itself).  spf_sync_wait()
 *	then ends every outstanding item: queries are cancelled, checks end
 *	as temperror with the problem "internal error: the event loop
 *	stopped before the check finished" and are handed to their
 *	callbacks.  An allocation failure fails the start (ENOMEM), never a
 *	wait.
 */
#include "job.h"

#define STOPPED "internal error: the event loop stopped before the check finished"

struct spf_sync_item {
	spf_sync_t *s;
	struct spf_sync_item *prev, *next;
	spf_dns_query_t *q;         /* a query, or */
	spf_job_t *job;             /* a check */
	spf_dns_cb query_cb;
	spf_done_cb check_cb;
	void *arg;
};

void spf_sync_init(spf_sync_t *s, spf_resolver_t *res)
{
	s->res = res;
	s->head = NULL;
	s->pending = 0;
	s->idle = true;
	s->stopped = false;
}

static struct spf_sync_item *item_new(spf_sync_t *s, void *arg)
{
	struct spf_sync_item *it = spf_calloc(1, sizeof(*it));

	if (it == NULL)
		return NULL;
	it->s = s;
	it->arg = arg;
	return it;
}

static void item_link(struct spf_sync_item *it)
{
	spf_sync_t *s = it->s;

	it->next = s->head;
	if (s->head != NULL)
		s->head->prev = it;
	s->head = it;
	s->pending++;
	s->idle = false;
}

static void item_unlink(struct spf_sync_item *it)
{
	spf_sync_t *s = it->s;

	if (it->prev != NULL)
		it->prev->next = it->next;
	else
		s->head = it->next;
	if (it->next != NULL)
		it->next->prev = it->prev;
	s->pending--;
	s->idle = s->pending == 0;
}

static void on_query(const spf_dns_answer_t *ans, void *arg)
{
	struct spf_sync_item *it = arg;
	spf_dns_cb cb = it->query_cb;
	void *cb_arg = it->arg;

	item_unlink(it);
	spf_free(it);
	cb(ans, cb_arg);
}

static void on_check(spf_job_t *job, void *arg)
{
	struct spf_sync_item *it = arg;
	spf_done_cb cb = it->check_cb;
	void *cb_arg = it->arg;

	item_unlink(it);
	spf_free(it);
	cb(job, cb_arg);
}

bool spf_sync_query(spf_sync_t *s, const char *name, uint16_t type,
	spf_dns_cb cb, void *arg)
{
	struct spf_sync_item *it = item_new(s, arg);

	if (it == NULL)
		return false;
	it->query_cb = cb;
	it->q = spf_resolver_query(s->res, name, type, on_query, it);
	if (it->q == NULL) {
		spf_free(it);
		return false;
	}
	item_link(it);
	return true;
}

spf_status_t spf_sync_check(spf_sync_t *s, const spf_request_t *req,
	spf_done_cb cb, void *arg)
{
	struct spf_sync_item *it = item_new(s, arg);
	spf_status_t st = SPF_ENOMEM;

	if (it == NULL)
		return st;
	it->check_cb = cb;
	it->job = spf_check_start(s->res, req, on_check, it, &st);
	if (it->job == NULL) {
		spf_free(it);
		return st;
	}
	item_link(it);
	return SPF_OK;
}

bool spf_sync_wait(spf_sync_t *s)
{
	s->stopped = false;
	if (s->pending > 0)
		spf_resolver_run_until(s->res, &s->idle);
	if (s->pending == 0)
		return true;
	/* the loop stopped with items left: end each before the caller
	 * returns (a callback may still start one: it is ended too) */
	s->stopped = true;
	while (s->head != NULL) {
		struct spf_sync_item *it = s->head;

		item_unlink(it);
		if (it->job != NULL) {
			spf_done_cb cb = it->check_cb;
			void *cb_arg = it->arg;
			spf_job_t *job = it->job;

			spf_free(it);
			job_stop(job, STOPPED);
			cb(job, cb_arg);
		} else {
			spf_dns_query_cancel(it->q);
			spf_free(it);
		}
	}
	return false;
}

bool spf_sync_stopped(const spf_sync_t *s)
{
	return s->stopped;
}

void spf_sync_finish(spf_sync_t *s)
{
	while (s->head != NULL) {
		struct spf_sync_item *it = s->head;

		item_unlink(it);
		if (it->job != NULL)
			spf_job_destroy(it->job);
		else
			spf_dns_query_cancel(it->q);
		spf_free(it);
	}
}

/* ---- one check ---- */

static void keep_job(spf_job_t *job, void *arg)
{
	*(spf_job_t **)arg = job;
}

spf_job_t *spf_check_sync(spf_resolver_t *res, const spf_request_t *req,
	spf_status_t *status)
{
	spf_sync_t s;
	spf_job_t *job = NULL;
	spf_status_t st;

	spf_sync_init(&s, res);
	st = spf_sync_check(&s, req, keep_job, &job);
	if (status != NULL)
		*status = st;
	if (st != SPF_OK)
		return NULL;
	/* the job comes back answered, or ended as temperror when the loop
	 * stopped first (called from inside a callback of the loop) */
	spf_sync_wait(&s);
	spf_sync_finish(&s);
	return job;
}
