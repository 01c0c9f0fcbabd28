/*
 * authres - the Authentication-Results header value (RFC 8601)
 *
 * One method per line (folded with LF TAB, which the MTA turns into CRLF):
 *   mx.example.org;
 *       iprev=pass policy.iprev=192.0.2.1 (mail.example.com);
 *       x-helo=pass smtp.helo=mail.example.com (syntax=pass fqdn=pass ...)
 * Trusted networks: "mx.example.org; none". Authenticated clients (with
 * skip_authenticated): "auth=pass smtp.auth=USER" and nothing else.
 *
 * Everything that came from the client is written as a token, a quoted
 * string or comment text (lib/strbuf.h), so it can never add a result or
 * a property. IPv6 addresses are quoted (':' is not a token character).
 */
#ifndef MAILVET_AUTHRES_H
#define MAILVET_AUTHRES_H

#include "milter/session.h"

/* authres_value - the header value; the caller frees it; NULL on ENOMEM */
char *authres_value(const struct session *s);

#endif
