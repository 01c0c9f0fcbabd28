/*
 * mailvet - a milter that checks who is sending: iprev (FCrDNS), HELO,
 * and more, writes Authentication-Results and applies a rules file.
 *
 * Usage: mailvet [-fndVh] [-c FILE]   (see mailvet(8))
 *
 * main is one of the two places allowed to exit (config loading is the
 * other): everything below returns errors.
 */
#include <errno.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/conf.h"
#include "milter/callbacks.h"
#include "milter/daemon.h"
#include "milter/log.h"
#include "milter/runtime.h"
#include "rules/rules.h"

#define MAILVET_VERSION "0.1.0"
#define DEFAULT_CONF    "/etc/mailvet/mailvet.conf"

struct options {
	const char *conf_path;
	int foreground;
	int check_only;
	int debug;
};

/* usage - the synopsis, to stdout for -h, stderr otherwise */
static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: mailvet [-fndVh] [-c FILE]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -n       check the configuration and rules, print the rules\n"
	    "           in canonical form, exit 0 (valid) or 1\n"
	    "  -d       debug logging\n"
	    "  -V       print the version\n"
	    "  -h       this help\n",
	    DEFAULT_CONF);
}

/* parse_args - command line into options; exits on -h, -V, errors */
static void
parse_args(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->conf_path = DEFAULT_CONF;
	while ((c = getopt(argc, argv, "c:fndVh")) != -1) {
		switch (c) {
		case 'c': o->conf_path = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'n': o->check_only = 1; break;
		case 'd': o->debug = 1; break;
		case 'V': printf("mailvet %s\n", MAILVET_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(1);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(1);
	}
}

/* load_all - config and rules, or a message and exit 1 */
static void
load_all(const struct options *o, struct conf **conf, struct ruleset **rules)
{
	char err[2048];

	*conf = conf_load(o->conf_path, err, sizeof(err));
	if (*conf == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	if (runtime_load_rules(*conf, rules, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s", err);
		conf_unref(*conf);
		exit(1);
	}
}

/* check_only - -n: print the canonical rules, exit 0 */
static int
check_only(const struct options *o, struct conf *conf, struct ruleset *rules)
{
	if (rules != NULL)
		rules_print(rules, stdout);
	else
		printf("# %s: no rules file: mailvet only annotates\n",
		       o->conf_path);
	fprintf(stderr, "%s: configuration OK\n", o->conf_path);
	rules_unref(rules);
	conf_unref(conf);
	return 0;
}

/* open_milter_socket - register with libmilter and listen */
static int
open_milter_socket(const struct conf *conf)
{
	if (smfi_setconn(conf->socket) != MI_SUCCESS ||
	    smfi_register(callbacks_desc) != MI_SUCCESS) {
		log_err("cannot register with libmilter on %s", conf->socket);
		return -1;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		log_err("cannot open the milter socket %s", conf->socket);
		return -1;
	}
	return daemon_socket_setup(conf);
}

/*
 * small_thread_stacks - every thread (libmilter's one per connection, the
 * SPF jobs, the DNS engine) gets a 512 KiB stack instead of RLIMIT_STACK
 * (8 MiB). Measured under load: with 8 MiB stacks glibc's stack cache
 * (40 MiB) holds five, so every connection paid an mmap and munmap of its
 * stacks (about 20 % of the CPU time in the profile). The deepest paths
 * here (OpenSSL verify inside libopendkim, libspf2) use far less.
 */
static void
small_thread_stacks(void)
{
	pthread_attr_t attr;

	if (pthread_attr_init(&attr) != 0)
		return;
	if (pthread_attr_setstacksize(&attr, 512 * 1024) != 0 ||
	    pthread_setattr_default_np(&attr) != 0)
		log_warn("cannot set the default thread stack size");
	pthread_attr_destroy(&attr);
}

/* start - everything between the config and smfi_main */
static int
start(const struct options *o, struct conf *conf, struct ruleset *rules)
{
	log_open("mailvet", o->foreground, conf->syslog_facility, o->debug);
	daemon_block_signals();
	if (open_milter_socket(conf) != 0)
		return -1;
	if (!o->foreground && daemon_detach() != 0)
		return -1;
	if (conf->pid_file != NULL && daemon_pidfile_write(conf->pid_file))
		return -1;
	if (daemon_drop_privileges(conf->user) != 0)
		return -1;
	small_thread_stacks();
	if (runtime_init(conf, rules) != 0)
		return -1;
	return daemon_signals_start(o->conf_path);
}

int
main(int argc, char **argv)
{
	struct options o;
	struct conf *conf;
	struct ruleset *rules;
	char *pid_file;
	unsigned shutdown_s;
	int rc;

	parse_args(argc, argv, &o);
	load_all(&o, &conf, &rules);
	if (o.check_only)
		return check_only(&o, conf, rules);
	pid_file = conf->pid_file ? strdup(conf->pid_file) : NULL;
	shutdown_s = conf->shutdown_timeout_s;
	if (start(&o, conf, rules) != 0) {
		log_err("mailvet %s failed to start", MAILVET_VERSION);
		return 1;
	}
	log_info("mailvet %s listening on %s", MAILVET_VERSION, conf->socket);
	rc = smfi_main();
	log_info("stopping: waiting up to %us for open sessions", shutdown_s);
	daemon_wait_sessions(shutdown_s);
	daemon_pidfile_remove(pid_file);
	free(pid_file);
	if (runtime_sessions() == 0)
		runtime_free();
	log_info("stopped");
	log_close();
	return rc == MI_SUCCESS ? 0 : 1;
}
