/*
 * spf_job - an SPF check on its own thread (see spf_job.h)
 */
#include "milter/checks/spf_job.h"

#include <stdio.h>
#include <string.h>

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

/* spf_job_main - the thread: one resolver, one check */
static void *
spf_job_main(void *arg)
{
	struct spf_job *job = arg;
	struct dns_resolver *r = dns_resolver_new(&job->dns_config, job->cache);
	int rc;

	if (r == NULL) {
		spf_job_fail(job, "cannot create a DNS resolver");
		return NULL;
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
	return NULL;
}

/* spf_job_start - copy the inputs and start the thread */
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
	if (pthread_create(&job->thread, NULL, spf_job_main, job) != 0) {
		spf_job_fail(job, "cannot start the SPF check");
		job->joined = 1;
	}
	job->started = 1;
}

/* spf_job_join - wait for the thread, bounded by the check's deadline */
const struct spf_outcome *
spf_job_join(struct spf_job *job)
{
	if (!job->started) {
		memset(&job->out, 0, sizeof(job->out));
		job->out.result = RESULT_NONE;
		return &job->out;
	}
	if (!job->joined) {
		pthread_join(job->thread, NULL);
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
