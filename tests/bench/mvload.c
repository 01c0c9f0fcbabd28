/*
 * mvload - load driver for milters (protocol 6) and for SMTP via XCLIENT
 *
 *   mvload -m milter|smtp -a HOST:PORT -C CLIENTS [-c CONC] [-n COUNT]
 *          [-k PER_CONN] [-t TIMEOUT_S] [-I IDLE] [-X] MESSAGE...
 *
 * CLIENTS names a file of lines "ip client_name helo mail_from rcpt";
 * message i of the run comes from client i modulo their number and carries
 * MESSAGE file i modulo their number (files with LF or CRLF lines, e.g.
 * DKIM-signed). CONC sessions run at once, one thread each; a session
 * carries PER_CONN messages (default 1).
 *
 * Milter mode speaks the milter protocol directly: OPTNEG, MACRO, CONNECT,
 * HELO, MAIL, RCPT, DATA, HEADER, EOH, BODY, BODYEOB, QUIT, and honours
 * the steps and replies the filter negotiates away (SMFIP_NO*, SMFIP_NR_*)
 * and SMFIR_SKIP. SMTP mode sends EHLO, XCLIENT ADDR/NAME/REVERSE_NAME,
 * EHLO with the client's HELO, MAIL, RCPT, DATA and the message; with -X
 * (for MTAs without XCLIENT, e.g. Sendmail) only the EHLO with the
 * client's HELO: the MTA then sees the driver's own address.
 *
 * The time of each message is taken from the connect (the first message
 * of a session) or from MAIL (the others) to the final reply. On exit one
 * line: "msgs= ok= rej= temp= err= secs= rate= p50_ms= p90_ms= p99_ms=
 * max_ms=". -v prints the headers a milter adds. IDLE > 0: open that many
 * milter sessions up to HELO, print "idle ready N", hold them until stdin
 * closes, then quit them.
 *
 * Diagnostics: the first few errors go to stderr; exit 1 on bad usage or
 * when nothing could be sent, else 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LD_CHUNK     65535
#define LD_REPLY_MAX (1024 * 1024)
#define LD_MAX_ERRS  5

/* Protocol step flags (libmilter/mfdef.h, protocol version 6). */
#define P_NOCONNECT 0x00000001u
#define P_NOHELO    0x00000002u
#define P_NOMAIL    0x00000004u
#define P_NORCPT    0x00000008u
#define P_NOBODY    0x00000010u
#define P_NOHDRS    0x00000020u
#define P_NOEOH     0x00000040u
#define P_NR_HDR    0x00000080u
#define P_NODATA    0x00000200u
#define P_SKIP      0x00000400u
#define P_NR_CONN   0x00001000u
#define P_NR_HELO   0x00002000u
#define P_NR_MAIL   0x00004000u
#define P_NR_RCPT   0x00008000u
#define P_NR_DATA   0x00010000u
#define P_NR_EOH    0x00040000u
#define P_NR_BODY   0x00080000u
#define P_LEADSPC   0x00100000u
#define P_OFFER     0x001fffffu
#define A_OFFER     0x000001ffu

enum ld_outcome { LD_OK, LD_REJ, LD_TEMP, LD_ERR };

struct ld_header {
	char *name;
	char *value; /* after ":", folds as "\n" */
};

struct ld_msg {
	struct ld_header *hdrs;
	size_t nhdrs;
	char *body; /* CRLF lines */
	size_t bodylen;
	char *smtp; /* CRLF, dot-stuffed, no final "." */
	size_t smtplen;
};

struct ld_client {
	char ip[64];
	char name[256];
	char helo[256];
	char from[256];
	char rcpt[256];
};

struct ld_conn {
	int fd;
	uint32_t proto; /* milter: negotiated step flags */
	char *rbuf;
	size_t rlen; /* smtp: bytes buffered in rbuf */
};

static const char *ld_mode = "milter";
static struct sockaddr_in ld_addr;
static struct ld_msg *ld_msgs;
static size_t ld_nmsgs;
static struct ld_client *ld_clients;
static size_t ld_nclients;
static long ld_count = 1000;
static int ld_conc = 8;
static int ld_per_conn = 1;
static int ld_timeout_s = 60;
static int ld_show;
static int ld_no_xclient;
static atomic_long ld_next;
static atomic_long ld_results[4];
static atomic_int ld_nerrs;
static double *ld_times;

/* ld_now - monotonic seconds */
static double
ld_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ld_err - report one of the first errors on stderr */
__attribute__((format(printf, 1, 2))) static void
ld_err(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&ld_nerrs, 1) >= LD_MAX_ERRS)
		return;
	va_start(ap, fmt);
	fputs("mvload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ld_die - print a message and exit (setup errors only) */
__attribute__((format(printf, 1, 2), noreturn)) static void
ld_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mvload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* ld_xmalloc - malloc or die */
static void *
ld_xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		ld_die("out of memory");
	return p;
}

/* ld_slurp - a whole file, NUL-terminated; length in *len */
static char *
ld_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n = 0, r;
	char *buf;

	if (f == NULL)
		ld_die("%s: %s", path, strerror(errno));
	buf = ld_xmalloc(cap);
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				ld_die("out of memory");
		}
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ld_strip_cr - remove every CR that precedes an LF, in place */
static size_t
ld_strip_cr(char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			s[o++] = s[i];
	s[o] = '\0';
	return o;
}

/* ld_crlf - LF lines as CRLF; dot-stuffed when stuff is set */
static char *
ld_crlf(const char *s, size_t n, int stuff, size_t *outlen)
{
	char *out = ld_xmalloc(2 * n + 3);
	size_t o = 0;
	int bol = 1;

	for (size_t i = 0; i < n; i++) {
		if (stuff && bol && s[i] == '.')
			out[o++] = '.';
		if (s[i] == '\n')
			out[o++] = '\r';
		out[o++] = s[i];
		bol = s[i] == '\n';
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	*outlen = o;
	return out;
}

/* ld_add_header - append "name: value" (value may be folded) */
static void
ld_add_header(struct ld_msg *m, char *line)
{
	char *colon = strchr(line, ':');

	if (colon == NULL)
		return;
	*colon = '\0';
	m->hdrs = realloc(m->hdrs, (m->nhdrs + 1) * sizeof(*m->hdrs));
	if (m->hdrs == NULL)
		ld_die("out of memory");
	m->hdrs[m->nhdrs].name = line;
	m->hdrs[m->nhdrs].value = colon + 1;
	m->nhdrs++;
}

/* ld_load_msg - parse one message file into headers, body, SMTP data */
static void
ld_load_msg(struct ld_msg *m, const char *path)
{
	size_t n;
	char *text = ld_slurp(path, &n), *p, *body;

	n = ld_strip_cr(text, n);
	m->smtp = ld_crlf(text, n, 1, &m->smtplen);
	body = strstr(text, "\n\n");
	if (body == NULL)
		ld_die("%s: no empty line after the header", path);
	body[1] = '\0';
	body += 2;
	m->body = ld_crlf(body, n - (size_t)(body - text), 0, &m->bodylen);
	p = text;
	while (*p != '\0') {
		char *start = p, *nl;

		/* A field runs until a newline not followed by blank. */
		while ((nl = strchr(p, '\n')) != NULL &&
		       (nl[1] == ' ' || nl[1] == '\t'))
			p = nl + 1;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
		ld_add_header(m, start);
	}
}

/* ld_load_clients - read the CLIENTS file */
static void
ld_load_clients(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1400];
	size_t cap = 0;

	if (f == NULL)
		ld_die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		struct ld_client c;

		if (sscanf(line, "%63s %255s %255s %255s %255s", c.ip, c.name,
		           c.helo, c.from, c.rcpt) != 5)
			continue;
		if (ld_nclients == cap) {
			cap = cap ? 2 * cap : 256;
			ld_clients = realloc(ld_clients, cap * sizeof(c));
			if (ld_clients == NULL)
				ld_die("out of memory");
		}
		ld_clients[ld_nclients++] = c;
	}
	fclose(f);
	if (ld_nclients == 0)
		ld_die("%s: no client lines", path);
}

/* ld_connect - a TCP connection to the target with TCP_NODELAY */
static int
ld_connect(struct ld_conn *c)
{
	int one = 1;
	struct timeval tv = {.tv_sec = ld_timeout_s, .tv_usec = 0};

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&ld_addr, sizeof(ld_addr))) {
		ld_err("connect: %s", strerror(errno));
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->rlen = 0;
	return 0;
}

/* ld_write_all - write n bytes or fail */
static int
ld_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ld_err("write: %s", strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ld_read_all - read exactly n bytes or fail */
static int
ld_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ld_err("read: %s", r == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* mp_send - one milter packet: length, command, data (parts concat) */
static int
mp_send(struct ld_conn *c, char cmd, const void *data, size_t len)
{
	char hdr[5];
	uint32_t nlen = htonl((uint32_t)(len + 1));

	memcpy(hdr, &nlen, 4);
	hdr[4] = cmd;
	if (len + 5 <= 8192) {
		char pkt[8192];

		memcpy(pkt, hdr, 5);
		if (len > 0)
			memcpy(pkt + 5, data, len);
		return ld_write_all(c->fd, pkt, len + 5);
	}
	if (ld_write_all(c->fd, hdr, 5) != 0)
		return -1;
	return ld_write_all(c->fd, data, len);
}

/* mp_recv - one milter reply: its command, data into c->rbuf */
static int
mp_recv(struct ld_conn *c, char *cmd, size_t *len)
{
	uint32_t nlen;
	size_t n;

	if (ld_read_all(c->fd, &nlen, 4) != 0)
		return -1;
	n = ntohl(nlen);
	if (n < 1 || n > LD_REPLY_MAX) {
		ld_err("milter reply of %zu bytes", n);
		return -1;
	}
	if (ld_read_all(c->fd, cmd, 1) != 0 ||
	    ld_read_all(c->fd, c->rbuf, n - 1) != 0)
		return -1;
	*len = n - 1;
	return 0;
}

/* mp_outcome - the outcome of a final milter reply, -1 if not final */
static int
mp_outcome(char cmd, const char *data, size_t len)
{
	switch (cmd) {
	case 'c':
	case 'a':
	case 's': return LD_OK;
	case 'r':
	case 'd': return LD_REJ;
	case 't': return LD_TEMP;
	case 'y': return len > 0 && data[0] == '4' ? LD_TEMP : LD_REJ;
	default: return -1;
	}
}

/* mp_show - print a header the filter adds (-v), NULs as blanks */
static void
mp_show(char cmd, const char *data, size_t len)
{
	char line[4096];
	size_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;

	for (size_t i = 0; i < n; i++)
		line[i] = data[i] == '\0' ? ' ' : data[i];
	line[n] = '\0';
	fprintf(stderr, "mvload: add header (%c): %s\n", cmd, line);
}

/* mp_wait - read replies up to a final one; its outcome, or LD_ERR */
static int
mp_wait(struct ld_conn *c, char *last)
{
	for (;;) {
		char cmd;
		size_t len;
		int o;

		if (mp_recv(c, &cmd, &len) != 0)
			return LD_ERR;
		o = mp_outcome(cmd, c->rbuf, len);
		*last = cmd;
		if (ld_show && (cmd == 'h' || cmd == 'i'))
			mp_show(cmd, c->rbuf, len);
		if (o >= 0)
			return o;
	}
}

/* mp_step - send one command; wait for its reply unless flag says not */
static int
mp_step(struct ld_conn *c, char cmd, const void *d, size_t n, uint32_t nr)
{
	char last;

	if (mp_send(c, cmd, d, n) != 0)
		return LD_ERR;
	if (c->proto & nr)
		return LD_OK;
	return mp_wait(c, &last);
}

/* ld_pack - concatenate NUL-terminated strings into buf; length */
static size_t
ld_pack(char *buf, size_t cap, const char *const *strs, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(strs[i]) + 1;

		if (o + l > cap)
			break;
		memcpy(buf + o, strs[i], l);
		o += l;
	}
	return o;
}

/* mp_macro - send a MACRO packet for stage st with name/value pairs */
static int
mp_macro(struct ld_conn *c, char st, const char *const *kv, size_t n)
{
	char buf[2048];
	size_t len;

	buf[0] = st;
	len = ld_pack(buf + 1, sizeof(buf) - 1, kv, n);
	return mp_send(c, 'D', buf, len + 1);
}

/* mp_negotiate - OPTNEG; keeps the filter's step flags */
static int
mp_negotiate(struct ld_conn *c)
{
	uint32_t v[3] = {htonl(6), htonl(A_OFFER), htonl(P_OFFER)};
	char cmd;
	size_t len;

	if (mp_send(c, 'O', v, sizeof(v)) != 0 || mp_recv(c, &cmd, &len))
		return -1;
	if (cmd != 'O' || len < 12) {
		ld_err("bad OPTNEG reply '%c'", cmd);
		return -1;
	}
	memcpy(v, c->rbuf, sizeof(v));
	c->proto = ntohl(v[2]);
	return 0;
}

/* mp_open - OPTNEG, CONNECT and HELO for one client */
static int
mp_open(struct ld_conn *c, const struct ld_client *cl)
{
	char buf[600];
	const char *cm[] = {"j",
	                    "mx.bench.example",
	                    "{daemon_name}",
	                    "mvload",
	                    "v",
	                    "Postfix 3.7",
	                    "{client_addr}",
	                    cl->ip,
	                    "{client_name}",
	                    cl->name};
	const char *hm[] = {"{tls_version}", ""};
	uint16_t port = htons(40000);
	size_t n;
	int o;

	if (mp_negotiate(c) != 0 || mp_macro(c, 'C', cm, 10) != 0)
		return LD_ERR;
	if (!(c->proto & P_NOCONNECT)) {
		n = ld_pack(buf, sizeof(buf), (const char *[]){cl->name}, 1);
		buf[n++] = '4';
		memcpy(buf + n, &port, 2);
		n += 2;
		n += ld_pack(buf + n, sizeof(buf) - n, (const char *[]){cl->ip},
		             1);
		if ((o = mp_step(c, 'C', buf, n, P_NR_CONN)) != LD_OK)
			return o;
	}
	if (mp_macro(c, 'H', hm, 0) != 0)
		return LD_ERR;
	if (c->proto & P_NOHELO)
		return LD_OK;
	return mp_step(c, 'H', cl->helo, strlen(cl->helo) + 1, P_NR_HELO);
}

/* mp_envelope - MAIL and RCPT with their macros */
static int
mp_envelope(struct ld_conn *c, const struct ld_client *cl, const char *qid)
{
	char a[300];
	const char *mm[] = {
	    "i", qid, "{mail_addr}", cl->from, "{mail_mailer}", "smtp"};
	const char *rm[] = {"{rcpt_addr}", cl->rcpt, "{rcpt_mailer}", "smtp"};
	int o;

	if (mp_macro(c, 'M', mm, 6) != 0)
		return LD_ERR;
	snprintf(a, sizeof(a), "<%s>", cl->from);
	if (!(c->proto & P_NOMAIL) &&
	    (o = mp_step(c, 'M', a, strlen(a) + 1, P_NR_MAIL)) != LD_OK)
		return o;
	if (mp_macro(c, 'R', rm, 4) != 0)
		return LD_ERR;
	snprintf(a, sizeof(a), "<%s>", cl->rcpt);
	if (!(c->proto & P_NORCPT) &&
	    (o = mp_step(c, 'R', a, strlen(a) + 1, P_NR_RCPT)) != LD_OK)
		return o;
	if (mp_macro(c, 'T', NULL, 0) != 0)
		return LD_ERR;
	if (c->proto & P_NODATA)
		return LD_OK;
	return mp_step(c, 'T', NULL, 0, P_NR_DATA);
}

/* mp_headers - every header field, then EOH */
static int
mp_headers(struct ld_conn *c, const struct ld_msg *m)
{
	char buf[8192];
	int o;

	for (size_t i = 0; i < m->nhdrs && !(c->proto & P_NOHDRS); i++) {
		const char *v = m->hdrs[i].value;
		size_t nl = strlen(m->hdrs[i].name) + 1, vl;

		if (!(c->proto & P_LEADSPC) && (*v == ' ' || *v == '\t'))
			v++;
		vl = strlen(v) + 1;
		if (nl + vl > sizeof(buf))
			continue;
		memcpy(buf, m->hdrs[i].name, nl);
		memcpy(buf + nl, v, vl);
		if ((o = mp_step(c, 'L', buf, nl + vl, P_NR_HDR)) != LD_OK)
			return o;
	}
	if (c->proto & P_NOEOH)
		return LD_OK;
	return mp_step(c, 'N', NULL, 0, P_NR_EOH);
}

/* mp_body - the body in chunks (stops at SKIP), then BODYEOB */
static int
mp_body(struct ld_conn *c, const struct ld_msg *m)
{
	char last = 'c';
	int o;

	for (size_t off = 0; off < m->bodylen && !(c->proto & P_NOBODY);) {
		size_t n = m->bodylen - off;

		if (n > LD_CHUNK)
			n = LD_CHUNK;
		if (mp_send(c, 'B', m->body + off, n) != 0)
			return LD_ERR;
		off += n;
		if (c->proto & P_NR_BODY)
			continue;
		if ((o = mp_wait(c, &last)) != LD_OK)
			return o;
		if (last == 's')
			break;
	}
	if (mp_send(c, 'E', NULL, 0) != 0)
		return LD_ERR;
	return mp_wait(c, &last);
}

/* mp_message - one message after the session is open */
static int
mp_message(struct ld_conn *c, const struct ld_client *cl,
           const struct ld_msg *m, long idx)
{
	char qid[32];
	const char *em[] = {"i", qid};
	int o;

	snprintf(qid, sizeof(qid), "B%09lX", (unsigned long)idx);
	if ((o = mp_envelope(c, cl, qid)) != LD_OK)
		return o;
	if (mp_macro(c, 'L', em, 2) != 0)
		return LD_ERR;
	if ((o = mp_headers(c, m)) != LD_OK)
		return o;
	if (mp_macro(c, 'E', em, 2) != 0)
		return LD_ERR;
	return mp_body(c, m);
}

/* sm_reply - read one (multi-line) SMTP reply; its code or -1 */
static int
sm_reply(struct ld_conn *c)
{
	for (;;) {
		char *nl = memchr(c->rbuf, '\n', c->rlen);
		ssize_t r;

		if (nl != NULL) {
			size_t ll = (size_t)(nl - c->rbuf) + 1;
			int last = ll >= 4 && c->rbuf[3] != '-';
			int code = atoi(c->rbuf);

			memmove(c->rbuf, nl + 1, c->rlen - ll);
			c->rlen -= ll;
			if (last)
				return code;
			continue;
		}
		if (c->rlen >= 65536)
			c->rlen = 0;
		r = read(c->fd, c->rbuf + c->rlen, 65536 - c->rlen);
		if (r <= 0) {
			ld_err("smtp read: %s",
			       r == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		c->rlen += (size_t)r;
	}
}

/* sm_cmd - send a command line (CRLF added) and read its reply code */
static int
sm_cmd(struct ld_conn *c, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return -1;
	memcpy(line + n, "\r\n", 2);
	if (ld_write_all(c->fd, line, (size_t)n + 2) != 0)
		return -1;
	return sm_reply(c);
}

/* sm_code - map an SMTP reply code to an outcome; -1 when it passes */
static int
sm_code(int code, int want)
{
	if (code == want)
		return -1;
	if (code < 0)
		return LD_ERR;
	return code >= 500 ? LD_REJ : code >= 400 ? LD_TEMP : LD_ERR;
}

/* sm_open - banner, EHLO, XCLIENT for the client, EHLO as the client;
 * with -X the banner and the client's EHLO only */
static int
sm_open(struct ld_conn *c, const struct ld_client *cl)
{
	int o;

	if ((o = sm_code(sm_reply(c), 220)) >= 0)
		return o;
	if (!ld_no_xclient &&
	    ((o = sm_code(sm_cmd(c, "EHLO mvload.bench.example"), 250)) >= 0 ||
	     (o = sm_code(sm_cmd(c, "XCLIENT NAME=%s REVERSE_NAME=%s ADDR=%s",
	                         cl->name, cl->name, cl->ip),
	                  220)) >= 0))
		return o;
	if ((o = sm_code(sm_cmd(c, "EHLO %s", cl->helo), 250)) >= 0)
		return o;
	return LD_OK;
}

/* sm_message - MAIL, RCPT, DATA and the message text */
static int
sm_message(struct ld_conn *c, const struct ld_client *cl,
           const struct ld_msg *m)
{
	int o;

	if ((o = sm_code(sm_cmd(c, "MAIL FROM:<%s>", cl->from), 250)) >= 0 ||
	    (o = sm_code(sm_cmd(c, "RCPT TO:<%s>", cl->rcpt), 250)) >= 0 ||
	    (o = sm_code(sm_cmd(c, "DATA"), 354)) >= 0)
		return o;
	if (ld_write_all(c->fd, m->smtp, m->smtplen) != 0)
		return LD_ERR;
	if ((o = sm_code(sm_cmd(c, "."), 250)) >= 0)
		return o;
	return LD_OK;
}

/* ld_record - count one message outcome and its time */
static void
ld_record(long idx, int outcome, double secs)
{
	atomic_fetch_add(&ld_results[outcome], 1);
	ld_times[idx] = secs;
}

/* ld_session - one connection carrying up to ld_per_conn messages */
static int
ld_session(struct ld_conn *c, long idx)
{
	const struct ld_client *cl = &ld_clients[(size_t)idx % ld_nclients];
	int milter = strcmp(ld_mode, "milter") == 0, o;
	double t0 = ld_now();

	if (ld_connect(c) != 0) {
		ld_record(idx, LD_ERR, ld_now() - t0);
		return -1;
	}
	o = milter ? mp_open(c, cl) : sm_open(c, cl);
	for (int k = 0; o == LD_OK; k++) {
		const struct ld_msg *m = &ld_msgs[(size_t)idx % ld_nmsgs];
		int r =
		    milter ? mp_message(c, cl, m, idx) : sm_message(c, cl, m);

		ld_record(idx, r, ld_now() - t0);
		if (r == LD_ERR || k + 1 >= ld_per_conn ||
		    (idx = atomic_fetch_add(&ld_next, 1)) >= ld_count)
			break;
		t0 = ld_now();
		if (r != LD_OK && !milter)
			sm_cmd(c, "RSET");
	}
	if (o != LD_OK)
		ld_record(idx, o, ld_now() - t0);
	if (milter && o != LD_ERR)
		mp_send(c, 'Q', NULL, 0);
	else if (o != LD_ERR)
		sm_cmd(c, "QUIT");
	close(c->fd);
	return 0;
}

/* ld_worker - thread body: sessions until every message is taken */
static void *
ld_worker(void *arg)
{
	struct ld_conn c = {.fd = -1};
	long idx;

	(void)arg;
	c.rbuf = ld_xmalloc(LD_REPLY_MAX);
	while ((idx = atomic_fetch_add(&ld_next, 1)) < ld_count)
		ld_session(&c, idx);
	free(c.rbuf);
	return NULL;
}

/* ld_cmp - qsort order of doubles */
static int
ld_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ld_pct - percentile p (0..100) of the sorted times, in ms */
static double
ld_pct(const double *t, long n, double p)
{
	long i = (long)(p / 100.0 * (double)(n - 1) + 0.5);

	return n > 0 ? t[i] * 1000.0 : 0.0;
}

/* ld_report - the summary line */
static void
ld_report(double secs)
{
	long n = ld_count;
	long ok = atomic_load(&ld_results[LD_OK]);

	qsort(ld_times, (size_t)n, sizeof(double), ld_cmp);
	printf("msgs=%ld ok=%ld rej=%ld temp=%ld err=%ld secs=%.3f "
	       "rate=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	       n, ok, atomic_load(&ld_results[LD_REJ]),
	       atomic_load(&ld_results[LD_TEMP]),
	       atomic_load(&ld_results[LD_ERR]), secs, (double)n / secs,
	       ld_pct(ld_times, n, 50), ld_pct(ld_times, n, 90),
	       ld_pct(ld_times, n, 99), ld_pct(ld_times, n, 100));
	fflush(stdout);
}

/* ld_idle - hold idle milter sessions open until stdin closes */
static int
ld_idle(int n)
{
	struct ld_conn *cs = calloc((size_t)n, sizeof(*cs));
	char *rbuf = ld_xmalloc(LD_REPLY_MAX), b[64];
	int open = 0;

	if (cs == NULL)
		ld_die("out of memory");
	for (int i = 0; i < n; i++) {
		cs[i].rbuf = rbuf;
		if (ld_connect(&cs[i]) != 0)
			continue;
		if (mp_open(&cs[i], &ld_clients[(size_t)i % ld_nclients]) !=
		    LD_OK) {
			close(cs[i].fd);
			cs[i].fd = -1;
			continue;
		}
		open++;
	}
	printf("idle ready %d\n", open);
	fflush(stdout);
	while (read(0, b, sizeof(b)) > 0)
		continue;
	for (int i = 0; i < n; i++)
		if (cs[i].fd >= 0) {
			mp_send(&cs[i], 'Q', NULL, 0);
			close(cs[i].fd);
		}
	free(rbuf);
	free(cs);
	return open == n ? 0 : 1;
}

/* ld_set_addr - parse HOST:PORT (IPv4) */
static void
ld_set_addr(const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		ld_die("bad address %s", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	ld_addr.sin_family = AF_INET;
	ld_addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &ld_addr.sin_addr) != 1)
		ld_die("bad address %s", s);
}

/* ld_usage - how to call */
__attribute__((noreturn)) static void
ld_usage(void)
{
	ld_die("usage: mvload -m milter|smtp -a HOST:PORT -C CLIENTS "
	       "[-c CONC] [-n COUNT] [-k PER_CONN] [-t TIMEOUT_S] [-I IDLE] "
	       "[-X] MESSAGE...");
}

/* ld_run - start the workers, wait, report */
static int
ld_run(void)
{
	pthread_t *th = ld_xmalloc((size_t)ld_conc * sizeof(*th));
	pthread_attr_t at;
	double t0 = ld_now();

	ld_times = calloc((size_t)ld_count, sizeof(double));
	if (ld_times == NULL)
		ld_die("out of memory");
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	for (int i = 0; i < ld_conc; i++)
		if (pthread_create(&th[i], &at, ld_worker, NULL) != 0)
			ld_die("pthread_create failed");
	for (int i = 0; i < ld_conc; i++)
		pthread_join(th[i], NULL);
	ld_report(ld_now() - t0);
	free(th);
	return atomic_load(&ld_results[LD_OK]) > 0 ? 0 : 1;
}

/* main - parse options, load clients and messages, run */
int
main(int argc, char **argv)
{
	int ch, idle = 0;
	const char *clients = NULL;

	while ((ch = getopt(argc, argv, "m:a:C:c:n:k:t:I:vX")) != -1) {
		switch (ch) {
		case 'm': ld_mode = optarg; break;
		case 'a': ld_set_addr(optarg); break;
		case 'C': clients = optarg; break;
		case 'c': ld_conc = atoi(optarg); break;
		case 'n': ld_count = atol(optarg); break;
		case 'k': ld_per_conn = atoi(optarg); break;
		case 't': ld_timeout_s = atoi(optarg); break;
		case 'I': idle = atoi(optarg); break;
		case 'v': ld_show = 1; break;
		case 'X': ld_no_xclient = 1; break;
		default: ld_usage();
		}
	}
	if (clients == NULL || optind >= argc || ld_addr.sin_port == 0 ||
	    ld_conc < 1 || ld_count < 1 || ld_per_conn < 1 ||
	    (strcmp(ld_mode, "milter") != 0 && strcmp(ld_mode, "smtp") != 0))
		ld_usage();
	ld_load_clients(clients);
	ld_nmsgs = (size_t)(argc - optind);
	ld_msgs = calloc(ld_nmsgs, sizeof(*ld_msgs));
	if (ld_msgs == NULL)
		ld_die("out of memory");
	for (size_t i = 0; i < ld_nmsgs; i++)
		ld_load_msg(&ld_msgs[i], argv[optind + (int)i]);
	if (idle > 0)
		return ld_idle(idle);
	return ld_run();
}
