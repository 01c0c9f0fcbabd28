/*
 * verdict - one log line per message (see verdict.h)
 *
 * The JSON file is opened in append mode on first use and reopened after
 * SIGHUP (log rotation); writes of one line are serialised by a mutex.
 */
#include "milter/verdict.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/strbuf.h"
#include "milter/log.h"

static pthread_mutex_t json_lock = PTHREAD_MUTEX_INITIALIZER;
static int json_fd = -1;
static char *json_path;

/* verdict_reopen - forget the open JSON log file */
void
verdict_reopen(void)
{
	pthread_mutex_lock(&json_lock);
	if (json_fd >= 0)
		close(json_fd);
	json_fd = -1;
	free(json_path);
	json_path = NULL;
	pthread_mutex_unlock(&json_lock);
}

/* json_write - append one line to path */
static void
json_write(const char *path, const char *line, size_t len)
{
	pthread_mutex_lock(&json_lock);
	if (json_fd >= 0 && (json_path == NULL || strcmp(json_path, path))) {
		close(json_fd);
		json_fd = -1;
	}
	if (json_fd < 0) {
		json_fd =
		    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		free(json_path);
		json_path = json_fd >= 0 ? strdup(path) : NULL;
		if (json_fd < 0)
			log_err_errno("cannot open %s", path);
	}
	if (json_fd >= 0 && write(json_fd, line, len) != (ssize_t)len)
		log_err_errno("cannot write %s", path);
	pthread_mutex_unlock(&json_lock);
}

/* fact_list - "syntax:pass,fqdn:pass,..." for the log line */
static void
add_helo_facts(struct strbuf *sb, const struct session *s, int json)
{
	for (int f = 0; f < HELO_NFACTS; f++) {
		const char *name = helo_fact_name((enum helo_fact)f);
		const char *r = result_name(s->helo->facts[f]);
		if (json)
			strbuf_addf(sb, "%s\"%s\":\"%s\"", f ? "," : "", name,
			            r);
		else
			strbuf_addf(sb, "%s%s:%s", f ? "," : "", name, r);
	}
}

struct verdict_fields {
	const char *ptr, *helo, *iprev, *helo_check, *auth, *spf, *spf_helo;
	const char *dkim;
	unsigned long elapsed;
};

/* spf_name - a job's result for the log: skipped, none or the result */
static const char *
spf_name(const struct spf_job *job, int checked)
{
	if (!checked)
		return "skipped";
	if (!job->started)
		return "none";
	if (!job->joined) /* logged before anything waited for it */
		return "pending";
	return result_name(job->out.result);
}

/* collect - the values both formats print */
static void
collect(const struct session *s, struct verdict_fields *f)
{
	int checked = !session_checks_skipped(s);

	f->ptr = s->iprev.result == RESULT_PASS ? s->iprev.name : "";
	f->helo = s->helo ? s->helo->name : "";
	f->iprev = checked ? result_name(s->iprev.result) : "skipped";
	f->helo_check = checked && s->helo ? result_name(helo_summary(s->helo))
	                                   : (checked ? "none" : "skipped");
	f->auth = s->authenticated ? s->auth_user : "";
	f->spf = spf_name(&s->msg.spf, checked);
	f->spf_helo = spf_name(&s->spf_helo, checked);
	f->dkim = !checked ? "skipped"
	          : s->msg.dkim && s->msg.dkim_done
	              ? result_name(dkim_msg_result(s->msg.dkim))
	              : "none";
	f->elapsed = (unsigned long)(dns_now_ms() - s->msg.start_ms);
}

/* add_list - one DNS list check: result, score, listed zones */
static void
add_list(struct strbuf *sb, const char *key, struct dnsbl_check *c, int json)
{
	size_t n;
	const char *const *listed = dnsbl_listed(c, &n);

	if (json)
		strbuf_addf(sb,
		            "\"%s\":{\"result\":\"%s\",\"score\":%lld,"
		            "\"complete\":%s,\"listed\":[",
		            key, result_name(dnsbl_result(c)), dnsbl_score(c),
		            dnsbl_complete(c) ? "true" : "false");
	else
		strbuf_addf(sb, " %s=%s %s_score=%lld %s_listed=", key,
		            result_name(dnsbl_result(c)), key, dnsbl_score(c),
		            key);
	for (size_t i = 0; i < n; i++) {
		if (json) {
			strbuf_add(sb, i ? "," : "");
			strbuf_add_json(sb, listed[i]);
		} else {
			strbuf_add(sb, i ? "," : "");
			strbuf_add_logval(sb, listed[i]);
		}
	}
	if (json)
		strbuf_add(sb, "]},");
	else if (n == 0)
		strbuf_add(sb, "-");
}

/* add_lists - the DNSBL and RHSBL checks that ran */
static void
add_lists(struct strbuf *sb, const struct session *s, int json)
{
	if (session_checks_skipped(s))
		return;
	if (s->dnsbl != NULL)
		add_list(sb, "dnsbl", s->dnsbl, json);
	if (s->rhsbl != NULL)
		add_list(sb, "rhsbl", s->rhsbl, json);
}

/* log_line - the key=value syslog line */
static void
log_line(const struct session *s, const struct verdict_info *vi,
         const struct verdict_fields *f)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_addf(&sb, "%s: verdict conn=%lu client=",
	            s->msg.queue_id[0] ? s->msg.queue_id : "NOQUEUE", s->id);
	strbuf_add_logval(&sb, s->ip_text);
	strbuf_add(&sb, " ptr=");
	strbuf_add_logval(&sb, *f->ptr ? f->ptr : "-");
	strbuf_add(&sb, " helo=");
	strbuf_add_logval(&sb, *f->helo ? f->helo : "-");
	strbuf_add(&sb, " from=");
	strbuf_addc(&sb, '<');
	strbuf_add_comment_text(&sb, s->msg.mailfrom ? s->msg.mailfrom : "",
	                        512);
	strbuf_addf(&sb,
	            "> rcpts=%zu refused=%u iprev=%s spf=%s spf_helo=%s "
	            "dkim=%s helo_check=%s",
	            s->msg.nrcpts, vi->refused, f->iprev, f->spf, f->spf_helo,
	            f->dkim, f->helo_check);
	if (s->helo != NULL && !session_checks_skipped(s)) {
		strbuf_add(&sb, " helo_facts=");
		add_helo_facts(&sb, s, 0);
	}
	add_lists(&sb, s, 0);
	strbuf_add(&sb, " auth=");
	strbuf_add_logval(&sb, *f->auth ? f->auth : "-");
	strbuf_addf(&sb, " action=%s rule=", vi->action);
	strbuf_add_logval(&sb, vi->rule ? vi->rule : "-");
	if (vi->would != NULL)
		strbuf_addf(&sb, " would=%s", vi->would);
	if (vi->reason != NULL) {
		strbuf_add(&sb, " reason=");
		strbuf_add_logval(&sb, vi->reason);
	}
	strbuf_addf(&sb, " elapsed_ms=%lu", f->elapsed);
	log_info("%s", strbuf_str(&sb));
	strbuf_free(&sb);
}

/* json_str - "key":"value", */
static void
json_str(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_addf(sb, "\"%s\":", key);
	if (value == NULL || *value == '\0')
		strbuf_add(sb, "null");
	else
		strbuf_add_json(sb, value);
	strbuf_addc(sb, ',');
}

/* json_line - the same facts as one JSON object */
static void
json_line(const struct session *s, const struct verdict_info *vi,
          const struct verdict_fields *f, const char *path)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_addc(&sb, '{');
	json_str(&sb, "queue_id", s->msg.queue_id);
	strbuf_addf(&sb, "\"conn\":%lu,", s->id);
	json_str(&sb, "client_ip", s->ip_text);
	json_str(&sb, "ptr", f->ptr);
	json_str(&sb, "helo", f->helo);
	strbuf_add(&sb, "\"mail_from\":");
	strbuf_add_json(&sb, s->msg.mailfrom ? s->msg.mailfrom : "");
	strbuf_addf(&sb, ",\"rcpts\":%zu,\"refused\":%u,", s->msg.nrcpts,
	            vi->refused);
	json_str(&sb, "iprev", f->iprev);
	json_str(&sb, "iprev_reason", s->iprev.reason);
	json_str(&sb, "spf", f->spf);
	/* An unjoined job's thread may still be writing its outcome. */
	json_str(&sb, "spf_domain",
	         s->msg.spf.started && s->msg.spf.joined ? s->msg.spf.out.domain
	                                                 : NULL);
	json_str(&sb, "spf_helo", f->spf_helo);
	json_str(&sb, "dkim", f->dkim);
	json_str(&sb, "helo_check", f->helo_check);
	if (s->helo != NULL && !session_checks_skipped(s)) {
		strbuf_add(&sb, "\"helo_facts\":{");
		add_helo_facts(&sb, s, 1);
		strbuf_add(&sb, "},");
	}
	add_lists(&sb, s, 1);
	json_str(&sb, "auth", f->auth);
	strbuf_addf(&sb, "\"trusted\":%s,", s->trusted ? "true" : "false");
	json_str(&sb, "action", vi->action);
	json_str(&sb, "rule", vi->rule);
	json_str(&sb, "would", vi->would);
	json_str(&sb, "reason", vi->reason);
	strbuf_addf(&sb, "\"elapsed_ms\":%lu}\n", f->elapsed);
	if (!strbuf_failed(&sb))
		json_write(path, strbuf_str(&sb), strlen(strbuf_str(&sb)));
	strbuf_free(&sb);
}

/* verdict_log - the line, and the JSON object when configured */
void
verdict_log(const struct session *s, const struct verdict_info *vi)
{
	struct verdict_fields f;

	collect(s, &f);
	log_line(s, vi, &f);
	if (s->snap.conf->log_json != NULL)
		json_line(s, vi, &f, s->snap.conf->log_json);
}
