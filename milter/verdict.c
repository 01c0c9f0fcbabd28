/*
 * verdict - one log line per message (see verdict.h)
 *
 * The JSON file is opened in append mode on first use and reopened after
 * SIGHUP (log rotation); writes of one line are serialised by a mutex.
 * verdict_text and verdict_json only append to the caller's strbuf, which
 * the caller owns; verdict_log builds both and frees them.
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

/*
 * The most bytes one value from the client or its DNS (client, ptr, helo,
 * from, auth) takes in the key=value line, quotes included. All five stay
 * well inside the 2048 bytes that log.c sends as one line, so a long
 * hostile HELO cannot push action= and rule= off the end of the line.
 */
#define VERDICT_CLIENT_MAX 256

/* A key=value line being built, and the keys whose values were cut. */
struct kv_line {
	struct strbuf *text;
	struct strbuf cut;
};

/*
 * kv - " key=value", the one writer of every key=value field: the value
 * is quoted when it needs it (strbuf_add_logval), "-" when absent or
 * empty, and at most max bytes (0: no bound).
 */
static void
kv(struct kv_line *l, const char *key, const char *value, size_t max)
{
	strbuf_addf(l->text, " %s=", key);
	if (value == NULL || *value == '\0') {
		strbuf_addc(l->text, '-');
		return;
	}
	if (strbuf_add_logval(l->text, value, max)) {
		strbuf_add(&l->cut, strbuf_str(&l->cut)[0] ? "," : "");
		strbuf_add(&l->cut, key);
	}
}

/* kv_buf - kv() of a value built in tmp, which is then emptied */
static void
kv_buf(struct kv_line *l, const char *key, struct strbuf *tmp, size_t max)
{
	kv(l, key, strbuf_str(tmp), max);
	strbuf_free(tmp);
}

/* add_helo_facts - "syntax:pass,fqdn:pass,..." or the JSON object body */
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

/* add_list - one DNS list check in JSON: result, score, listed zones */
static void
add_list(struct strbuf *sb, const char *key, struct dnsbl_check *c)
{
	size_t n;
	const char *const *listed = dnsbl_listed(c, &n);

	strbuf_addf(sb,
	            "\"%s\":{\"result\":\"%s\",\"score\":%lld,"
	            "\"complete\":%s,\"listed\":[",
	            key, result_name(dnsbl_result(c)), dnsbl_score(c),
	            dnsbl_complete(c) ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		strbuf_add(sb, i ? "," : "");
		strbuf_add_json(sb, listed[i]);
	}
	strbuf_add(sb, "]},");
}

/* add_lists - the DNSBL and RHSBL checks that ran, in JSON */
static void
add_lists(struct strbuf *sb, const struct session *s)
{
	if (session_checks_skipped(s))
		return;
	if (s->dnsbl != NULL)
		add_list(sb, "dnsbl", s->dnsbl);
	if (s->rhsbl != NULL)
		add_list(sb, "rhsbl", s->rhsbl);
}

/* kv_list - KEY=R KEY_score=N KEY_listed=ZONE,ZONE (or -) */
static void
kv_list(struct kv_line *l, const char *key, struct dnsbl_check *c)
{
	struct strbuf tmp, name;
	size_t n;
	const char *const *listed = dnsbl_listed(c, &n);

	strbuf_init(&name);
	kv(l, key, result_name(dnsbl_result(c)), 0);
	strbuf_addf(l->text, " %s_score=%lld", key, dnsbl_score(c));
	strbuf_init(&tmp);
	for (size_t i = 0; i < n; i++) {
		strbuf_add(&tmp, i ? "," : "");
		strbuf_add(&tmp, listed[i]);
	}
	strbuf_addf(&name, "%s_listed", key);
	kv_buf(l, strbuf_str(&name), &tmp, 0);
	strbuf_free(&name);
}

/* kv_checks - the results of the checks, in the line's order */
static void
kv_checks(struct kv_line *l, const struct session *s,
          const struct verdict_fields *f)
{
	struct strbuf tmp;

	kv(l, "iprev", f->iprev, 0);
	kv(l, "spf", f->spf, 0);
	kv(l, "spf_helo", f->spf_helo, 0);
	kv(l, "dkim", f->dkim, 0);
	kv(l, "helo_check", f->helo_check, 0);
	if (session_checks_skipped(s))
		return;
	if (s->helo != NULL) {
		strbuf_init(&tmp);
		add_helo_facts(&tmp, s, 0);
		kv_buf(l, "helo_facts", &tmp, 0);
	}
	if (s->dnsbl != NULL)
		kv_list(l, "dnsbl", s->dnsbl);
	if (s->rhsbl != NULL)
		kv_list(l, "rhsbl", s->rhsbl);
}

/* kv_text - the key=value line into out, without a newline */
static void
kv_text(const struct session *s, const struct verdict_info *vi,
        const struct verdict_fields *f, struct strbuf *out)
{
	struct kv_line l = {out, {NULL, 0, 0, 0}};
	struct strbuf from;

	strbuf_addf(out, "%s: verdict conn=%lu",
	            s->msg.queue_id[0] ? s->msg.queue_id : "NOQUEUE", s->id);
	kv(&l, "client", s->ip_text, VERDICT_CLIENT_MAX);
	kv(&l, "ptr", f->ptr, VERDICT_CLIENT_MAX);
	kv(&l, "helo", f->helo, VERDICT_CLIENT_MAX);
	strbuf_init(&from);
	strbuf_addf(&from, "<%s>", s->msg.mailfrom ? s->msg.mailfrom : "");
	kv_buf(&l, "from", &from, VERDICT_CLIENT_MAX);
	strbuf_addf(out, " rcpts=%zu refused=%u", s->msg.nrcpts, vi->refused);
	kv_checks(&l, s, f);
	kv(&l, "auth", f->auth, VERDICT_CLIENT_MAX);
	kv(&l, "action", vi->action, 0);
	kv(&l, "rule", vi->rule, 0);
	if (vi->would != NULL)
		kv(&l, "would", vi->would, 0);
	if (vi->reason != NULL)
		kv(&l, "reason", vi->reason, 0);
	if (strbuf_str(&l.cut)[0] != '\0')
		kv(&l, "truncated", strbuf_str(&l.cut), 0);
	strbuf_addf(out, " elapsed_ms=%lu", f->elapsed);
	strbuf_free(&l.cut);
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

/* json_text - the same facts as one JSON object and a newline, into sb */
static void
json_text(const struct session *s, const struct verdict_info *vi,
          const struct verdict_fields *f, struct strbuf *sb)
{
	strbuf_addc(sb, '{');
	json_str(sb, "queue_id", s->msg.queue_id);
	strbuf_addf(sb, "\"conn\":%lu,", s->id);
	json_str(sb, "client_ip", s->ip_text);
	json_str(sb, "ptr", f->ptr);
	json_str(sb, "helo", f->helo);
	strbuf_add(sb, "\"mail_from\":");
	strbuf_add_json(sb, s->msg.mailfrom ? s->msg.mailfrom : "");
	strbuf_addf(sb, ",\"rcpts\":%zu,\"refused\":%u,", s->msg.nrcpts,
	            vi->refused);
	json_str(sb, "iprev", f->iprev);
	json_str(sb, "iprev_reason", s->iprev.reason);
	json_str(sb, "spf", f->spf);
	/* An unjoined job's thread may still be writing its outcome. */
	json_str(sb, "spf_domain",
	         s->msg.spf.started && s->msg.spf.joined ? s->msg.spf.out.domain
	                                                 : NULL);
	json_str(sb, "spf_helo", f->spf_helo);
	json_str(sb, "dkim", f->dkim);
	json_str(sb, "helo_check", f->helo_check);
	if (s->helo != NULL && !session_checks_skipped(s)) {
		strbuf_add(sb, "\"helo_facts\":{");
		add_helo_facts(sb, s, 1);
		strbuf_add(sb, "},");
	}
	add_lists(sb, s);
	json_str(sb, "auth", f->auth);
	strbuf_addf(sb, "\"trusted\":%s,", s->trusted ? "true" : "false");
	json_str(sb, "action", vi->action);
	json_str(sb, "rule", vi->rule);
	json_str(sb, "would", vi->would);
	json_str(sb, "reason", vi->reason);
	strbuf_addf(sb, "\"elapsed_ms\":%lu}\n", f->elapsed);
}

/* verdict_text - the key=value line (see verdict.h) */
void
verdict_text(const struct session *s, const struct verdict_info *vi,
             struct strbuf *out)
{
	struct verdict_fields f;

	collect(s, &f);
	kv_text(s, vi, &f, out);
}

/* verdict_json - the JSON line (see verdict.h) */
void
verdict_json(const struct session *s, const struct verdict_info *vi,
             struct strbuf *out)
{
	struct verdict_fields f;

	collect(s, &f);
	json_text(s, vi, &f, out);
}

/* verdict_log - the line, and the JSON object when configured */
void
verdict_log(const struct session *s, const struct verdict_info *vi)
{
	struct verdict_fields f;
	struct strbuf sb;

	collect(s, &f);
	strbuf_init(&sb);
	kv_text(s, vi, &f, &sb);
	log_info("%s", strbuf_str(&sb));
	strbuf_free(&sb);
	if (s->snap.conf->log_json == NULL)
		return;
	strbuf_init(&sb);
	json_text(s, vi, &f, &sb);
	if (!strbuf_failed(&sb))
		json_write(s->snap.conf->log_json, strbuf_str(&sb),
		           strlen(strbuf_str(&sb)));
	strbuf_free(&sb);
}
