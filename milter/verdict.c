/*
 * verdict - one log line per message (see verdict.h)
 *
 * One field list (fields[] below) feeds both lines: each row names the
 * field's key in the key=value line and in the JSON object (or NULL where
 * a line does not carry it) and how to get its value; two writers render
 * the rows, kv_* for the syslog line and json_* for the JSON object. A new
 * field is one row. Values that the two lines write differently (the
 * envelope sender with or without angle brackets) are two rows.
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

/* What one message's lines are made from. */
struct verdict_src {
	const struct session *s;
	const struct verdict_info *vi;
	int checked;           /* the checks ran (not trusted/authenticated) */
	unsigned long elapsed; /* ms since MAIL FROM */
	char from[1024 + 3];   /* "<mailfrom>", cut at the buffer's end */
};

/* The kinds of value a field can have. */
enum vkind {
	V_ABSENT, /* this message has no such field: neither line writes it */
	V_STR,    /* str; NULL or "": "-" / null */
	V_NUM,    /* num */
	V_BOOL,   /* num != 0 */
	V_FACTS,  /* the HELO facts */
	V_LIST,   /* a DNS list check: list */
	V_CUT     /* the key=value line's cut keys (that writer's own) */
};

struct vvalue {
	enum vkind kind;
	const char *str;
	unsigned long long num;
	struct dnsbl_check *list;
};

/* Row flags. */
#define VF_BOUNDED  1 /* client text: at most VERDICT_CLIENT_MAX bytes */
#define VF_OPTIONAL 2 /* key=value: left out when absent (JSON: null) */
#define VF_NOTNULL  4 /* JSON: "" rather than null when empty */

struct vfield {
	const char *kv;   /* key in the key=value line, or NULL */
	const char *json; /* key in the JSON object, or NULL */
	unsigned flags;
	void (*get)(const struct verdict_src *, struct vvalue *);
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

/* v_str, v_num - fill a value */
static void
v_str(struct vvalue *v, const char *str)
{
	v->kind = V_STR;
	v->str = str;
}

static void
v_num(struct vvalue *v, unsigned long long num)
{
	v->kind = V_NUM;
	v->num = num;
}

/* The getters, one a field, in the order of the lines. */
static void
get_queue_id(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->s->msg.queue_id);
}

static void
get_conn(const struct verdict_src *x, struct vvalue *v)
{
	v_num(v, x->s->id);
}

static void
get_client(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->s->ip_text);
}

static void
get_ptr(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->s->iprev.result == RESULT_PASS ? x->s->iprev.name : "");
}

static void
get_helo(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->s->helo ? x->s->helo->name : "");
}

static void
get_from_brackets(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->from);
}

static void
get_mail_from(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->s->msg.mailfrom ? x->s->msg.mailfrom : "");
}

static void
get_rcpts(const struct verdict_src *x, struct vvalue *v)
{
	v_num(v, x->s->msg.nrcpts);
}

static void
get_refused(const struct verdict_src *x, struct vvalue *v)
{
	v_num(v, x->vi->refused);
}

static void
get_iprev(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->checked ? result_name(x->s->iprev.result) : "skipped");
}

static void
get_iprev_reason(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->s->iprev.reason);
}

static void
get_spf(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, spf_name(&x->s->msg.spf, x->checked));
}

static void
get_spf_domain(const struct verdict_src *x, struct vvalue *v)
{
	const struct spf_job *job = &x->s->msg.spf;

	/* An unjoined job's thread may still be writing its outcome. */
	v_str(v, job->started && job->joined ? job->out.domain : NULL);
}

static void
get_spf_helo(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, spf_name(&x->s->spf_helo, x->checked));
}

static void
get_dkim(const struct verdict_src *x, struct vvalue *v)
{
	const struct session *s = x->s;

	v_str(v, !x->checked ? "skipped"
	         : s->msg.dkim && s->msg.dkim_done
	             ? result_name(dkim_msg_result(s->msg.dkim))
	             : "none");
}

static void
get_helo_check(const struct verdict_src *x, struct vvalue *v)
{
	if (!x->checked)
		v_str(v, "skipped");
	else
		v_str(v, x->s->helo ? result_name(helo_summary(x->s->helo))
		                    : "none");
}

static void
get_helo_facts(const struct verdict_src *x, struct vvalue *v)
{
	v->kind = x->checked && x->s->helo != NULL ? V_FACTS : V_ABSENT;
}

static void
get_list(struct dnsbl_check *c, int checked, struct vvalue *v)
{
	v->kind = checked && c != NULL ? V_LIST : V_ABSENT;
	v->list = c;
}

static void
get_dnsbl(const struct verdict_src *x, struct vvalue *v)
{
	get_list(x->s->dnsbl, x->checked, v);
}

static void
get_rhsbl(const struct verdict_src *x, struct vvalue *v)
{
	get_list(x->s->rhsbl, x->checked, v);
}

static void
get_auth(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->s->authenticated ? x->s->auth_user : "");
}

static void
get_trusted(const struct verdict_src *x, struct vvalue *v)
{
	v->kind = V_BOOL;
	v->num = x->s->trusted != 0;
}

static void
get_action(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->vi->action);
}

static void
get_rule(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->vi->rule);
}

static void
get_would(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->vi->would);
}

static void
get_reason(const struct verdict_src *x, struct vvalue *v)
{
	v_str(v, x->vi->reason);
}

static void
get_cut(const struct verdict_src *x, struct vvalue *v)
{
	(void)x;
	v->kind = V_CUT;
}

static void
get_elapsed(const struct verdict_src *x, struct vvalue *v)
{
	v_num(v, x->elapsed);
}

/* Every field of the verdict, in the order both lines write them. */
static const struct vfield fields[] = {
    {NULL, "queue_id", 0, get_queue_id},
    {"conn", "conn", 0, get_conn},
    {"client", "client_ip", VF_BOUNDED, get_client},
    {"ptr", "ptr", VF_BOUNDED, get_ptr},
    {"helo", "helo", VF_BOUNDED, get_helo},
    {"from", NULL, VF_BOUNDED, get_from_brackets},
    {NULL, "mail_from", VF_NOTNULL, get_mail_from},
    {"rcpts", "rcpts", 0, get_rcpts},
    {"refused", "refused", 0, get_refused},
    {"iprev", "iprev", 0, get_iprev},
    {NULL, "iprev_reason", 0, get_iprev_reason},
    {"spf", "spf", 0, get_spf},
    {NULL, "spf_domain", 0, get_spf_domain},
    {"spf_helo", "spf_helo", 0, get_spf_helo},
    {"dkim", "dkim", 0, get_dkim},
    {"helo_check", "helo_check", 0, get_helo_check},
    {"helo_facts", "helo_facts", 0, get_helo_facts},
    {"dnsbl", "dnsbl", 0, get_dnsbl},
    {"rhsbl", "rhsbl", 0, get_rhsbl},
    {"auth", "auth", VF_BOUNDED, get_auth},
    {NULL, "trusted", 0, get_trusted},
    {"action", "action", 0, get_action},
    {"rule", "rule", 0, get_rule},
    {"would", "would", VF_OPTIONAL, get_would},
    {"reason", "reason", VF_OPTIONAL, get_reason},
    {"truncated", NULL, VF_OPTIONAL, get_cut},
    {"elapsed_ms", "elapsed_ms", 0, get_elapsed},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* --------------------------------------------------- key=value writer */

/* A key=value line being built, and the keys whose values were cut. */
struct kv_line {
	struct strbuf *text;
	struct strbuf cut;
};

/*
 * kv - " key=value", the one writer of every key=value string: the value
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

/* kv_facts - helo_facts=syntax:pass,fqdn:pass,... */
static void
kv_facts(struct kv_line *l, const char *key, const struct session *s)
{
	struct strbuf tmp;

	strbuf_init(&tmp);
	for (int f = 0; f < HELO_NFACTS; f++)
		strbuf_addf(&tmp, "%s%s:%s", f ? "," : "",
		            helo_fact_name((enum helo_fact)f),
		            result_name(s->helo->facts[f]));
	kv(l, key, strbuf_str(&tmp), 0);
	strbuf_free(&tmp);
}

/* kv_list - KEY=R KEY_score=N KEY_listed=ZONE,ZONE (or -) */
static void
kv_list(struct kv_line *l, const char *key, struct dnsbl_check *c)
{
	struct strbuf tmp, name;
	size_t n;
	const char *const *listed = dnsbl_listed(c, &n);

	kv(l, key, result_name(dnsbl_result(c)), 0);
	strbuf_addf(l->text, " %s_score=%lld", key, dnsbl_score(c));
	strbuf_init(&tmp);
	for (size_t i = 0; i < n; i++) {
		strbuf_add(&tmp, i ? "," : "");
		strbuf_add(&tmp, listed[i]);
	}
	strbuf_init(&name);
	strbuf_addf(&name, "%s_listed", key);
	kv(l, strbuf_str(&name), strbuf_str(&tmp), 0);
	strbuf_free(&name);
	strbuf_free(&tmp);
}

/* kv_field - one row in the key=value line */
static void
kv_field(struct kv_line *l, const struct verdict_src *x, const struct vfield *f,
         const struct vvalue *v)
{
	size_t max = f->flags & VF_BOUNDED ? VERDICT_CLIENT_MAX : 0;

	switch (v->kind) {
	case V_STR:
		if (!(f->flags & VF_OPTIONAL) || v->str != NULL)
			kv(l, f->kv, v->str, max);
		break;
	case V_NUM:
	case V_BOOL: strbuf_addf(l->text, " %s=%llu", f->kv, v->num); break;
	case V_FACTS: kv_facts(l, f->kv, x->s); break;
	case V_LIST: kv_list(l, f->kv, v->list); break;
	case V_CUT:
		if (strbuf_str(&l->cut)[0] != '\0')
			kv(l, f->kv, strbuf_str(&l->cut), 0);
		break;
	case V_ABSENT: break;
	}
}

/* kv_text - the key=value line into out, without a newline */
static void
kv_text(const struct verdict_src *x, struct strbuf *out)
{
	struct kv_line l = {out, {NULL, 0, 0, 0}};
	const char *qid = x->s->msg.queue_id;

	strbuf_addf(out, "%s: verdict", qid[0] ? qid : "NOQUEUE");
	for (size_t i = 0; i < NFIELDS; i++) {
		struct vvalue v = {V_ABSENT, NULL, 0, NULL};
		if (fields[i].kv == NULL)
			continue;
		fields[i].get(x, &v);
		kv_field(&l, x, &fields[i], &v);
	}
	strbuf_free(&l.cut);
}

/* -------------------------------------------------------- JSON writer */

/* json_facts - {"syntax":"pass",...} */
static void
json_facts(struct strbuf *sb, const struct session *s)
{
	strbuf_addc(sb, '{');
	for (int f = 0; f < HELO_NFACTS; f++)
		strbuf_addf(sb, "%s\"%s\":\"%s\"", f ? "," : "",
		            helo_fact_name((enum helo_fact)f),
		            result_name(s->helo->facts[f]));
	strbuf_addc(sb, '}');
}

/* json_list - one DNS list check: result, score, listed zones */
static void
json_list(struct strbuf *sb, struct dnsbl_check *c)
{
	size_t n;
	const char *const *listed = dnsbl_listed(c, &n);

	strbuf_addf(sb,
	            "{\"result\":\"%s\",\"score\":%lld,\"complete\":%s,"
	            "\"listed\":[",
	            result_name(dnsbl_result(c)), dnsbl_score(c),
	            dnsbl_complete(c) ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		strbuf_add(sb, i ? "," : "");
		strbuf_add_json(sb, listed[i]);
	}
	strbuf_add(sb, "]}");
}

/* json_field - "key":value for one row (absent rows write nothing) */
static void
json_field(struct strbuf *sb, const struct verdict_src *x,
           const struct vfield *f, const struct vvalue *v, int *first)
{
	if (v->kind == V_ABSENT || v->kind == V_CUT)
		return;
	strbuf_addf(sb, "%s\"%s\":", *first ? "" : ",", f->json);
	*first = 0;
	switch (v->kind) {
	case V_STR:
		if (v->str != NULL &&
		    (*v->str != '\0' || f->flags & VF_NOTNULL))
			strbuf_add_json(sb, v->str);
		else
			strbuf_add(sb, "null");
		break;
	case V_NUM: strbuf_addf(sb, "%llu", v->num); break;
	case V_BOOL: strbuf_add(sb, v->num ? "true" : "false"); break;
	case V_FACTS: json_facts(sb, x->s); break;
	case V_LIST: json_list(sb, v->list); break;
	case V_ABSENT:
	case V_CUT: break;
	}
}

/* json_text - the same facts as one JSON object and a newline, into sb */
static void
json_text(const struct verdict_src *x, struct strbuf *sb)
{
	int first = 1;

	strbuf_addc(sb, '{');
	for (size_t i = 0; i < NFIELDS; i++) {
		struct vvalue v = {V_ABSENT, NULL, 0, NULL};
		if (fields[i].json == NULL)
			continue;
		fields[i].get(x, &v);
		json_field(sb, x, &fields[i], &v, &first);
	}
	strbuf_add(sb, "}\n");
}

/* ------------------------------------------------------------ callers */

/* source - what both lines are made from */
static void
source(const struct session *s, const struct verdict_info *vi,
       struct verdict_src *x)
{
	x->s = s;
	x->vi = vi;
	x->checked = !session_checks_skipped(s);
	x->elapsed = (unsigned long)(dns_now_ms() - s->msg.start_ms);
	snprintf(x->from, sizeof(x->from), "<%s>",
	         s->msg.mailfrom ? s->msg.mailfrom : "");
}

/* verdict_text - the key=value line (see verdict.h) */
void
verdict_text(const struct session *s, const struct verdict_info *vi,
             struct strbuf *out)
{
	struct verdict_src x;

	source(s, vi, &x);
	kv_text(&x, out);
}

/* verdict_json - the JSON line (see verdict.h) */
void
verdict_json(const struct session *s, const struct verdict_info *vi,
             struct strbuf *out)
{
	struct verdict_src x;

	source(s, vi, &x);
	json_text(&x, out);
}

/* verdict_log - the line, and the JSON object when configured */
void
verdict_log(const struct session *s, const struct verdict_info *vi)
{
	struct verdict_src x;
	struct strbuf sb;

	source(s, vi, &x);
	strbuf_init(&sb);
	kv_text(&x, &sb);
	log_info("%s", strbuf_str(&sb));
	strbuf_free(&sb);
	if (s->snap.conf->log_json == NULL)
		return;
	strbuf_init(&sb);
	json_text(&x, &sb);
	if (!strbuf_failed(&sb))
		json_write(s->snap.conf->log_json, strbuf_str(&sb),
		           strlen(strbuf_str(&sb)));
	strbuf_free(&sb);
}
