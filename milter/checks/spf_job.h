/*
 * spf_job - run an SPF check in the background of the SMTP dialogue
 *
 * libspf2 is synchronous, so an SPF check blocks whoever runs it. A job
 * runs one check on a worker thread of a small pool, with its own DNS
 * handle, started at HELO or MAIL FROM; the session joins it when a rule
 * or the header needs the result. The check itself is bounded by its
 * deadline, so a join is too. Workers are made when every one is busy (up
 * to SPF_POOL_MAX; past that, jobs queue) and end after a minute idle:
 * no thread is created per message in steady state.
 *
 * Ownership: the job copies everything it is given. spf_job_join must be
 * called before the job's memory goes (spf_job_cleanup does it).
 */
#ifndef MAILVET_SPF_JOB_H
#define MAILVET_SPF_JOB_H

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include "milter/checks/spf.h"

struct spf_job {
	int started;                 /* queued or run */
	int joined;                  /* the caller has seen the outcome */
	int finished;                /* a worker ran it (pool lock) */
	STAILQ_ENTRY(spf_job) qlink; /* in the pool's queue (pool lock) */
	int helo_identity; /* check the HELO identity, not MAIL FROM */
	struct dns_config dns_config;
	char servers[1024];
	struct dns_cache *cache;
	struct netaddr ip;
	char helo[512];
	char mailfrom[512];
	char receiver[256];
	uint64_t deadline_ms;
	struct spf_outcome out;
};

/*
 * spf_job_start - start the check; on failure to start a thread the
 * outcome is temperror at once (never a silent none).
 */
void spf_job_start(struct spf_job *job, const struct dns_config *dc,
                   struct dns_cache *cache, const struct netaddr *ip,
                   const char *helo, const char *mailfrom, int helo_identity,
                   const char *receiver, uint64_t deadline_ms);

/* spf_job_join - wait for the outcome; a job never started gives none */
const struct spf_outcome *spf_job_join(struct spf_job *job);

/* spf_job_cleanup - join if needed and forget the job */
void spf_job_cleanup(struct spf_job *job);

#endif
