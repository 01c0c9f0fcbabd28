/*
 * runtime - process-wide state (see runtime.h)
 */
#include "milter/runtime.h"

#include <ifaddrs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "milter/checks/dkim.h"
#include "milter/checks/spf.h"
#include "milter/log.h"

#define LOCAL_ADDRS_MAX 64
#define CONN_BUCKETS    1024

struct conn_entry {
	struct netaddr ip;
	unsigned count;
	struct conn_entry *next;
};

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conf *rt_conf;
static struct ruleset *rt_rules;
static struct dns_cache *rt_cache;
static char rt_hostname[256];
static struct netaddr rt_addrs[LOCAL_ADDRS_MAX];
static size_t rt_naddrs;
static size_t rt_sessions;
static unsigned long rt_ids;
static struct conn_entry *rt_conns[CONN_BUCKETS];

/* find_interface_addrs - this host's own addresses, for HELO checks */
static void
find_interface_addrs(void)
{
	struct ifaddrs *list, *i;

	rt_naddrs = 0;
	if (getifaddrs(&list) != 0) {
		log_warn_errno("getifaddrs");
		return;
	}
	for (i = list; i != NULL && rt_naddrs < LOCAL_ADDRS_MAX;
	     i = i->ifa_next)
		if (i->ifa_addr != NULL &&
		    netaddr_from_sockaddr(i->ifa_addr, &rt_addrs[rt_naddrs]) ==
		        0)
			rt_naddrs++;
	freeifaddrs(list);
}

/* runtime_load_rules - the conf's rules file, or none */
int
runtime_load_rules(const struct conf *conf, struct ruleset **out, char *err,
                   size_t errlen)
{
	struct rules_error rerr;

	*out = NULL;
	if (conf->rules == NULL)
		return 0;
	memset(&rerr, 0, sizeof(rerr));
	*out = rules_load(conf->rules, &rerr);
	if (*out == NULL) {
		rules_error_format(&rerr, err, errlen);
		return -1;
	}
	return 0;
}

/* runtime_init - first conf and rules; DNS; identity */
int
runtime_init(struct conf *conf, struct ruleset *rules)
{
	rt_conf = conf;
	rt_rules = rules;
	if (dns_library_init() != 0) {
		log_err("cannot initialise c-ares");
		return -1;
	}
	if (spf_global_init() != 0) {
		log_err("cannot initialise libspf2");
		return -1;
	}
	if (dkim_global_init(conf->dkim_min_key_bits) != 0) {
		log_err("cannot initialise libopendkim");
		return -1;
	}
	if (conf->dns_cache_size > 0) {
		rt_cache = dns_cache_new(conf->dns_cache_size,
		                         conf->dns_cache_max_ttl);
		if (rt_cache == NULL) {
			log_err("cannot create the DNS cache");
			return -1;
		}
	}
	if (gethostname(rt_hostname, sizeof(rt_hostname) - 1) != 0)
		rt_hostname[0] = '\0';
	find_interface_addrs();
	return 0;
}

/* runtime_free - at exit, after every session ended */
void
runtime_free(void)
{
	conf_unref(rt_conf);
	rules_unref(rt_rules);
	rt_conf = NULL;
	rt_rules = NULL;
	dns_cache_free(rt_cache);
	rt_cache = NULL;
	for (size_t b = 0; b < CONN_BUCKETS; b++) {
		while (rt_conns[b] != NULL) {
			struct conn_entry *e = rt_conns[b];
			rt_conns[b] = e->next;
			free(e);
		}
	}
	dkim_global_free();
	spf_global_free();
	dns_library_cleanup();
}

/* runtime_snapshot - take references to what runs now */
void
runtime_snapshot(struct runtime_snapshot *snap)
{
	pthread_mutex_lock(&rt_lock);
	snap->conf = conf_ref(rt_conf);
	snap->rules = rt_rules ? rules_ref(rt_rules) : NULL;
	pthread_mutex_unlock(&rt_lock);
}

/* runtime_snapshot_release - drop the references */
void
runtime_snapshot_release(struct runtime_snapshot *snap)
{
	conf_unref(snap->conf);
	rules_unref(snap->rules);
	snap->conf = NULL;
	snap->rules = NULL;
}

/* warn_fixed_options - options a running daemon cannot change */
static void
warn_fixed_options(const struct conf *old, const struct conf *new)
{
	static const char *const fixed = "socket, user, pid_file, "
	                                 "dns_cache_size";
	int same = strcmp(old->socket, new->socket) == 0 &&
	           (old->user == NULL) == (new->user == NULL) &&
	           (old->user == NULL || strcmp(old->user, new->user) == 0) &&
	           old->dns_cache_size == new->dns_cache_size;

	if (!same)
		log_warn("reload: changes to %s take effect at restart", fixed);
}

/* runtime_reload - new conf and rules, or keep the old ones */
int
runtime_reload(const char *conf_path)
{
	char err[1024];
	struct conf *conf, *old_conf;
	struct ruleset *rules, *old_rules;

	conf = conf_load(conf_path, err, sizeof(err));
	if (conf == NULL) {
		log_err("reload failed, keeping the running configuration: %s",
		        err);
		return -1;
	}
	if (runtime_load_rules(conf, &rules, err, sizeof(err)) != 0) {
		log_err("reload failed, keeping the running rules: %s", err);
		conf_unref(conf);
		return -1;
	}
	warn_fixed_options(rt_conf, conf);
	log_set_facility(conf->syslog_facility);
	pthread_mutex_lock(&rt_lock);
	old_conf = rt_conf;
	old_rules = rt_rules;
	rt_conf = conf;
	rt_rules = rules;
	pthread_mutex_unlock(&rt_lock);
	conf_unref(old_conf);
	rules_unref(old_rules);
	log_info("reloaded %s (%zu rules)", conf_path,
	         rules ? rules_count(rules) : (size_t)0);
	return 0;
}

/* runtime_dns_cache - the shared cache, or NULL when disabled */
struct dns_cache *
runtime_dns_cache(void)
{
	return rt_cache;
}

/* name_in_list - case-insensitive membership in a comma list */
static int
name_in_list(const char *list, const char *name, size_t namelen)
{
	while (list != NULL && *list != '\0') {
		size_t n;
		list += strspn(list, ", \t");
		n = strcspn(list, ", \t");
		if (n == namelen && n > 0 && strncasecmp(list, name, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* runtime_is_local_name - does name designate this host */
int
runtime_is_local_name(const void *ctx, const char *name)
{
	const struct conf *conf = ctx;
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0)
		return 0;
	return name_in_list("localhost, localhost.localdomain", name, n) ||
	       name_in_list(rt_hostname, name, n) ||
	       (conf->authserv_id &&
	        name_in_list(conf->authserv_id, name, n)) ||
	       name_in_list(conf->local_names, name, n);
}

/* runtime_is_local_addr - is addr one of this host's addresses */
int
runtime_is_local_addr(const void *ctx, const struct netaddr *addr)
{
	const struct conf *conf = ctx;

	if (netaddr_is_loopback(addr))
		return 1;
	for (size_t i = 0; i < rt_naddrs; i++)
		if (netaddr_equal(&rt_addrs[i], addr))
			return 1;
	return cidr_list_contains(&conf->local_addresses, addr);
}

/* runtime_helo_local - the predicates, bound to conf */
void
runtime_helo_local(const struct conf *conf, struct helo_local *out)
{
	out->is_local_name = runtime_is_local_name;
	out->is_local_addr = runtime_is_local_addr;
	out->ctx = conf;
}

/* runtime_session_enter - a connection opened */
void
runtime_session_enter(void)
{
	pthread_mutex_lock(&rt_lock);
	rt_sessions++;
	pthread_mutex_unlock(&rt_lock);
}

/* runtime_session_leave - a connection closed */
void
runtime_session_leave(void)
{
	pthread_mutex_lock(&rt_lock);
	if (rt_sessions > 0)
		rt_sessions--;
	pthread_mutex_unlock(&rt_lock);
}

/* runtime_sessions - how many are open */
size_t
runtime_sessions(void)
{
	size_t n;

	pthread_mutex_lock(&rt_lock);
	n = rt_sessions;
	pthread_mutex_unlock(&rt_lock);
	return n;
}

/* runtime_next_id - a connection number for logs */
unsigned long
runtime_next_id(void)
{
	unsigned long id;

	pthread_mutex_lock(&rt_lock);
	id = ++rt_ids;
	pthread_mutex_unlock(&rt_lock);
	return id;
}

/* conn_bucket - FNV-1a over the address bytes */
static size_t
conn_bucket(const struct netaddr *ip)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(ip->bytes); i++)
		h = (h ^ ip->bytes[i]) * 16777619u;
	return h % CONN_BUCKETS;
}

/* runtime_conn_enter - count a connection from ip; returns the count */
unsigned
runtime_conn_enter(const struct netaddr *ip)
{
	size_t b = conn_bucket(ip);
	struct conn_entry *e;
	unsigned n = 1;

	pthread_mutex_lock(&rt_lock);
	for (e = rt_conns[b]; e != NULL; e = e->next)
		if (netaddr_equal(&e->ip, ip))
			break;
	if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
		e->ip = *ip;
		e->next = rt_conns[b];
		rt_conns[b] = e;
	}
	if (e != NULL)
		n = ++e->count;
	pthread_mutex_unlock(&rt_lock);
	return n;
}

/* runtime_conn_leave - forget one connection from ip */
void
runtime_conn_leave(const struct netaddr *ip)
{
	size_t b = conn_bucket(ip);
	struct conn_entry **pp, *e;

	pthread_mutex_lock(&rt_lock);
	for (pp = &rt_conns[b]; (e = *pp) != NULL; pp = &e->next) {
		if (!netaddr_equal(&e->ip, ip))
			continue;
		if (--e->count == 0) {
			*pp = e->next;
			free(e);
		}
		break;
	}
	pthread_mutex_unlock(&rt_lock);
}
