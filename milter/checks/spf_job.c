/*
 * spf_job - SPF checks on a pool of worker threads (see spf_job.h)
 */
#include "milter/checks/spf_job.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* spf_job_fail - an outcome that says the check could not run */
static void
spf_job_fail(struct spf_job *job, const char *why)
{
	memset(&job->out, 0, sizeof(job->out));
	job->out.result = RESULT_TEMPERROR;
	snprintf(job->out.identity, sizeof(job->out.identity), "%s",
	         job->helo_identity ? "helo" : "mailfrom");
	snprintf(job->out.reason, sizeof(job->out.reason), "%s", why);
}

/* spf_job_run - one check, on a worker: one DNS handle, one check */
static void
spf_job_run(struct spf_job *job)
{
	struct dns_resolver *r = dns_resolver_new(&job->dns_config, job->cache);
	int rc;

	if (r == NULL) {
		spf_job_fail(job, "cannot create a DNS resolver");
		return;
	}
	if (job->helo_identity)
		rc = spf_check_helo(r, &job->ip, job->helo, job->receiver,
		                    job->deadline_ms, &job->out);
	else
		rc = spf_check_mailfrom(r, &job->ip, job->helo, job->mailfrom,
		                        job->receiver, job->deadline_ms,
		                        &job->out);
	dns_resolver_free(r);
	spf_dns_forget_abandoned();
	if (rc != 0)
		spf_job_fail(job, "internal error in the SPF check");
}

#define SPF_POOL_MAX    128
#define SPF_POOL_IDLE_S 60

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;          /* a job was queued */
	pthread_cond_t done;          /* a job finished */
	STAILQ_HEAD(, spf_job) queue; /* started, no worker yet */
	unsigned workers, idle;
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .queue = STAILQ_HEAD_INITIALIZER(pool.queue),
};

/* pool_next - the next job; NULL when idle too long (lock held) */
static struct spf_job *
pool_next(void)
{
	struct spf_job *job;

	while (STAILQ_EMPTY(&pool.queue)) {
		struct timespec ts;
		int rc;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += SPF_POOL_IDLE_S;
		pool.idle++;
		rc = pthread_cond_timedwait(&pool.work, &pool.lock, &ts);
		pool.idle--;
		if (rc != 0 && STAILQ_EMPTY(&pool.queue))
			return NULL;
	}
	job = STAILQ_FIRST(&pool.queue);
	STAILQ_REMOVE_HEAD(&pool.queue, qlink);
	return job;
}

/* pool_worker - run jobs until idle for a minute */
static void *
pool_worker(void *unused)
{
	struct spf_job *job;

	(void)unused;
	pthread_mutex_lock(&pool.lock);
	while ((job = pool_next()) != NULL) {
		pthread_mutex_unlock(&pool.lock);
		spf_job_run(job);
		pthread_mutex_lock(&pool.lock);
		job->finished = 1;
		pthread_cond_broadcast(&pool.done);
	}
	pool.workers--;
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* pool_grow - one more worker when all are busy (lock held) */
static void
pool_grow(void)
{
	pthread_attr_t attr;
	pthread_t tid;

	if (pool.idle > 0 || pool.workers >= SPF_POOL_MAX)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, pool_worker, NULL) == 0)
		pool.workers++;
	pthread_attr_destroy(&attr);
}

/* spf_job_start - copy the inputs and queue the check */
void
spf_job_start(struct spf_job *job, const struct dns_config *dc,
              struct dns_cache *cache, const struct netaddr *ip,
              const char *helo, const char *mailfrom, int helo_identity,
              const char *receiver, uint64_t deadline_ms)
{
	memset(job, 0, sizeof(*job));
	job->helo_identity = helo_identity;
	job->dns_config = *dc;
	snprintf(job->servers, sizeof(job->servers), "%s",
	         dc->servers ? dc->servers : "");
	job->dns_config.servers = job->servers[0] ? job->servers : NULL;
	job->cache = cache;
	job->ip = *ip;
	snprintf(job->helo, sizeof(job->helo), "%s", helo ? helo : "");
	snprintf(job->mailfrom, sizeof(job->mailfrom), "%s",
	         mailfrom ? mailfrom : "");
	snprintf(job->receiver, sizeof(job->receiver), "%s",
	         receiver ? receiver : "");
	job->deadline_ms = deadline_ms;
	job->started = 1;
	pthread_mutex_lock(&pool.lock);
	pool_grow();
	if (pool.workers == 0) {
		/* No worker and none could be made: say so, never "none". */
		pthread_mutex_unlock(&pool.lock);
		spf_job_fail(job, "cannot start the SPF check");
		job->finished = 1;
		return;
	}
	STAILQ_INSERT_TAIL(&pool.queue, job, qlink);
	pthread_cond_signal(&pool.work);
	pthread_mutex_unlock(&pool.lock);
}

/* spf_job_join - wait for the outcome, bounded by the check's deadline */
const struct spf_outcome *
spf_job_join(struct spf_job *job)
{
	if (!job->started) {
		memset(&job->out, 0, sizeof(job->out));
		job->out.result = RESULT_NONE;
		return &job->out;
	}
	if (!job->joined) {
		pthread_mutex_lock(&pool.lock);
		while (!job->finished)
			pthread_cond_wait(&pool.done, &pool.lock);
		pthread_mutex_unlock(&pool.lock);
		job->joined = 1;
	}
	return &job->out;
}

/* spf_job_cleanup - join a running job, then forget it */
void
spf_job_cleanup(struct spf_job *job)
{
	if (job->started && !job->joined)
		spf_job_join(job);
	job->started = 0;
	job->joined = 0;
}
