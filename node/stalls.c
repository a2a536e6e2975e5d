/*
 * stalls.c - the loop's longest turns, for the benchmarks (docs/BENCHMARKS.md,
 * "Loop stalls"): with opts.stall_log set, a turn of the loop is timed from
 * one prepare phase to the next, less the time it waited in poll (libuv's
 * idle-time metric), which is how long a peer's message or a request that
 * arrived meanwhile waited before the loop could look at it; and by the
 * loop thread's CPU time in it, which other processes on a busy machine
 * do not inflate. Once a second the longest turns of that second are
 * appended to the file as a line "UNIX_MS LONGEST_MS TURNS LONGEST_CPU_MS";
 * seconds without a turn add nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define STALL_PERIOD_MS 1000

struct mu_stalls {
	struct mu_node *node;
	FILE *out;
	uv_prepare_t prepare;
	uv_timer_t timer;
	int handles;        /* open: the state is freed when the last closes */
	uint64_t last_ns;   /* uv_hrtime() at the last prepare; 0: none yet */
	uint64_t last_idle; /* uv_metrics_idle_time() then */
	uint64_t last_cpu;  /* the thread's CPU time then, ns */
	uint64_t max_ns;    /* the longest turn of this period */
	uint64_t max_cpu;   /* the most CPU time a turn of it took, ns */
	uint64_t turns;     /* turns in this period */
};

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
on_prepare(uv_prepare_t *p)
{
	struct mu_stalls *s = p->data;
	uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(s->node->loop);
	uint64_t cpu = thread_cpu_ns(), busy;

	if (s->last_ns != 0) {
		busy = now - s->last_ns;
		busy = idle - s->last_idle < busy ? busy - (idle - s->last_idle) : 0;
		if (busy > s->max_ns)
			s->max_ns = busy;
		if (cpu - s->last_cpu > s->max_cpu)
			s->max_cpu = cpu - s->last_cpu;
		s->turns++;
	}
	s->last_ns = now;
	s->last_idle = idle;
	s->last_cpu = cpu;
}

static void
on_timer(uv_timer_t *t)
{
	struct mu_stalls *s = t->data;
	struct timespec ts;

	if (s->turns == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(s->out, "%lld %.3f %llu %.3f\n",
	        (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	        (double)s->max_ns / 1e6, (unsigned long long)s->turns,
	        (double)s->max_cpu / 1e6);
	fflush(s->out);
	s->max_ns = 0;
	s->max_cpu = 0;
	s->turns = 0;
}

int
mu_node_stalls_start(struct mu_node *node, const char *path, struct mu_why *why)
{
	struct mu_stalls *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	s->node = node;
	if ((s->out = fopen(path, "a")) == NULL) {
		rc = errno;
		free(s);
		return mu_fail(why, MU_EIO, "cannot open the stall log %s: %s", path,
		               strerror(rc));
	}
	if ((rc = uv_loop_configure(node->loop, UV_METRICS_IDLE_TIME)) != 0) {
		fclose(s->out);
		free(s);
		return mu_fail(why, MU_EIO, "cannot time the loop: %s",
		               uv_strerror(rc));
	}
	uv_prepare_init(node->loop, &s->prepare);
	uv_timer_init(node->loop, &s->timer);
	s->prepare.data = s->timer.data = s;
	s->handles = 2;
	uv_prepare_start(&s->prepare, on_prepare);
	uv_timer_start(&s->timer, on_timer, STALL_PERIOD_MS, STALL_PERIOD_MS);
	/* Neither keeps the loop alive. */
	uv_unref((uv_handle_t *)&s->prepare);
	uv_unref((uv_handle_t *)&s->timer);
	node->stalls = s;
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	struct mu_stalls *s = h->data;

	if (--s->handles == 0) {
		fclose(s->out);
		free(s);
	}
}

void
mu_node_stalls_stop(struct mu_node *node)
{
	struct mu_stalls *s = node->stalls;

	if (s == NULL)
		return;
	node->stalls = NULL;
	on_timer(&s->timer); /* the last, partial period */
	uv_close((uv_handle_t *)&s->prepare, on_closed);
	uv_close((uv_handle_t *)&s->timer, on_closed);
}
