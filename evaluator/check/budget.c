/*
 * budget.c - the memory budget of the evaluations in flight (issue 21).
 *
 * DESCRIPTION
 *	A spf_budget_t admits jobs while the memory of those in flight
 *	(each charged at least SPF_BUDGET_JOB_RESERVE) leaves room; the
 *	others wait in one queue per start domain, served in turn, and are
 *	started (job_go()) as jobs leave (budget_leave()).  What a job in
 *	flight uses is counted at each of its steps (budget_charge()), so
 *	the sum is kept, never recomputed over every job: admitting one
 *	costs the same with 10 or 10,000 in flight.
 *
 * DIAGNOSTICS
 *	queue_add() fails only when out of memory; a job that cannot be
 *	started is retried when another leaves.
 */
#include "job.h"

#include <string.h>

/* The jobs of one start domain waiting, in arrival order. */
struct dq {
	char *domain;
	spf_job_t *head, *tail;
	struct dq *prev, *next;
};

struct spf_budget {
	size_t limit;
	size_t used;                 /* sum of the charges of the jobs in flight */
	spf_job_t *flight;           /* admitted and not done */
	struct dq *first, *last;     /* domains waiting; first is served next */
	spf_budget_stats_t st;
};

spf_budget_t *spf_budget_create(size_t limit)
{
	spf_budget_t *b = spf_calloc(1, sizeof(*b));

	if (b != NULL)
		b->limit = b->st.limit = limit ? limit : SPF_BUDGET_DEFAULT;
	return b;
}

void spf_budget_destroy(spf_budget_t *b)
{
	if (b == NULL)
		return;
	/* jobs are destroyed first: nothing waits any more */
	while (b->first != NULL) {
		struct dq *d = b->first;

		b->first = d->next;
		spf_free(d->domain);
		spf_free(d);
	}
	spf_free(b);
}

static void note_peak(spf_budget_t *b)
{
	if (b->used > b->st.peak)
		b->st.peak = b->used;
}

/* A job in flight now counts c = budget_charge_of(its memory), which is not
 * what it counted (budget_charge() in job.h tells). */
void budget_recharge(spf_job_t *job, size_t c)
{
	spf_budget_t *b = job->pbudget;

	b->used = b->used - job->charged + c;
	job->charged = c;
	note_peak(b);
}

void spf_budget_stats(const spf_budget_t *b, spf_budget_stats_t *out)
{
	if (b == NULL || out == NULL)
		return;
	*out = b->st;
	out->used = b->used;
}

bool spf_job_waiting(const spf_job_t *job)
{
	return job != NULL && job->waiting;
}

/* Room for one more job?  Always when none is in flight. */
bool budget_fits(spf_budget_t *b)
{
	if (b->flight == NULL)
		return true;
	return b->used <= b->limit && b->limit - b->used >= SPF_BUDGET_JOB_RESERVE;
}

void flight_add(spf_job_t *job)
{
	spf_budget_t *b = job->pbudget;

	job->in_flight = true;
	job->fprev = NULL;
	job->fnext = b->flight;
	if (b->flight != NULL)
		b->flight->fprev = job;
	b->flight = job;
	job->charged = budget_charge_of(job_memory(job));
	b->used += job->charged;
	note_peak(b);
	b->st.in_flight++;
	b->st.admitted++;
}

/* Queue job behind the others of its domain; false on ENOMEM. */
bool queue_add(spf_job_t *job)
{
	spf_budget_t *b = job->pbudget;
	struct dq *d;

	for (d = b->first; d != NULL; d = d->next)
		if (spf_streq_nocase(d->domain, job->start_domain))
			break;
	if (d == NULL) {
		d = spf_calloc(1, sizeof(*d));
		if (d != NULL)
			d->domain = spf_strdup(job->start_domain);
		if (d == NULL || d->domain == NULL) {
			spf_free(d);
			return false;
		}
		d->prev = b->last;
		if (b->last != NULL)
			b->last->next = d;
		else
			b->first = d;
		b->last = d;
	}
	if (d->tail != NULL)
		d->tail->qnext = job;
	else
		d->head = job;
	d->tail = job;
	job->qnext = NULL;
	job->dq = d;
	job->waiting = true;
	b->st.waiting++;
	b->st.waited++;
	return true;
}

static void dq_unlink(spf_budget_t *b, struct dq *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		b->first = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	else
		b->last = d->prev;
	d->prev = d->next = NULL;
}

/* Take job out of its domain's queue. */
static void queue_remove(spf_job_t *job)
{
	spf_budget_t *b = job->pbudget;
	struct dq *d = job->dq;
	spf_job_t **pp = &d->head, *prev = NULL;

	while (*pp != NULL && *pp != job) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (*pp == job) {
		*pp = job->qnext;
		if (d->tail == job)
			d->tail = prev;
	}
	job->waiting = false;
	job->dq = NULL;
	b->st.waiting--;
	if (d->head == NULL) {
		dq_unlink(b, d);
		spf_free(d->domain);
		spf_free(d);
	}
}

/* Admit waiting jobs while there is room: the first job of the domain
 * first in line, which then goes to the end of the line. */
static void budget_pump(spf_budget_t *b)
{
	while (b->first != NULL && budget_fits(b)) {
		struct dq *d = b->first;
		spf_job_t *job = d->head;

		if (!job_go(job))
			return;   /* out of memory: retried when a job leaves */
		queue_remove(job);
		if (b->first == d && d->next != NULL) {
			dq_unlink(b, d);
			d->prev = b->last;
			b->last->next = d;
			b->last = d;
		}
		flight_add(job);
	}
}

/* The job is done or destroyed: it leaves its budget. */
void budget_leave(spf_job_t *job)
{
	spf_budget_t *b = job->pbudget;

	if (b == NULL)
		return;
	if (job->waiting) {
		queue_remove(job);
		b->st.dropped++;
	} else if (job->in_flight) {
		budget_charge(job, job_memory(job));
		b->used -= job->charged;
		job->charged = 0;
		if (job->fprev != NULL)
			job->fprev->fnext = job->fnext;
		else
			b->flight = job->fnext;
		if (job->fnext != NULL)
			job->fnext->fprev = job->fprev;
		job->in_flight = false;
		b->st.in_flight--;
	}
	job->pbudget = NULL;
	budget_pump(b);
}
