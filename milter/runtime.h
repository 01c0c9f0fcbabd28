/*
 * runtime - process-wide state: the current configuration and ruleset,
 * the shared DNS cache, this host's identity, session accounting.
 *
 * The current conf and ruleset are swapped as a pair under a mutex on
 * reload; sessions take references (runtime_snapshot) and keep what they
 * started a message with. Everything else here is set up once by main
 * before libmilter starts its threads, or is internally locked.
 */
#ifndef MAILVET_RUNTIME_H
#define MAILVET_RUNTIME_H

#include <stddef.h>

#include "conf/conf.h"
#include "lib/netaddr.h"
#include "milter/checks/helo.h"
#include "milter/dns/dns.h"
#include "rules/rules.h"

struct runtime_snapshot {
	struct conf *conf;     /* reference */
	struct ruleset *rules; /* reference or NULL */
};

/*
 * runtime_init - take ownership of the first conf and rules, set up DNS
 * and the local identity. Returns 0, or -1 with a message logged.
 */
int runtime_init(struct conf *conf, struct ruleset *rules);
void runtime_free(void);

/* runtime_snapshot - references to the current conf and rules */
void runtime_snapshot(struct runtime_snapshot *snap);
void runtime_snapshot_release(struct runtime_snapshot *snap);

/*
 * runtime_reload - load conf_path (and its rules) again; on any error
 * keep what runs and log why. Returns 0 when the new pair is in place.
 */
int runtime_reload(const char *conf_path);

/* runtime_load_rules - rules of a conf (NULL when it names none); logs */
int runtime_load_rules(const struct conf *conf, struct ruleset **out, char *err,
                       size_t errlen);

struct dns_cache *runtime_dns_cache(void);

/*
 * What HELO must not claim: the host name, authserv_id, localhost and
 * local_names of conf; the host's interface addresses and local_addresses.
 */
void runtime_helo_local(const struct conf *conf, struct helo_local *out);
int runtime_is_local_name(const void *conf, const char *name);
int runtime_is_local_addr(const void *conf, const struct netaddr *addr);

/* Open sessions (for a graceful stop) and connections per client IP. */
void runtime_session_enter(void);
void runtime_session_leave(void);
size_t runtime_sessions(void);
unsigned runtime_conn_enter(const struct netaddr *ip);
void runtime_conn_leave(const struct netaddr *ip);
unsigned long runtime_next_id(void);

#endif
