"""
test_verdict_log - hostile client text end to end (issue 10): MAIL FROM,
HELO, a PTR name served by the real DNS test server and the SMTP AUTH
user name (XCLIENT LOGIN) go through a real Postfix to mailvet, and both
verdict lines must still say what happened.

The key=value line is read by a strict logfmt parser written here from
mailvet(8), LOGGING (never a regular expression over the whole line): it
must split into one set of fields, each key once, with the client's
original bytes as values, and agree field by field with the JSON line.
Where the text reaches the delivered Authentication-Results header, the
raw bytes are parsed as RFC 8601 (comments and quoted-strings with their
quoted-pairs) and must keep their structure: the same methods, one iprev,
the client's text only inside a comment or a quoted-string.
"""

import collections
import re

from harness import wait_for

ZONES = {
    # A PTR name with '=' and ',' that still resolves back (DNS-legal,
    # no escape in presentation form): it reaches ptr= and the header.
    "60.2.0.192.in-addr.arpa": {"PTR": ["x=y,action=reject.evil.example."]},
    "x=y,action=reject.evil.example": {"A": ["192.0.2.60"]},
    # A PTR label with space, quotes, '=', ';', parentheses and a
    # backslash: c-ares hands it over in presentation form (\032 \" \; \(
    # \) \\), mailvet will not look such a name up, so iprev fails and the
    # name shows only in the header comment.
    "61.2.0.192.in-addr.arpa":
        {"PTR": ['evil "q" action=reject;(x) \\.evil.example.']},
    "mail.good.example": {"A": ["192.0.2.1"]},
    "1.2.0.192.in-addr.arpa": {"PTR": ["mail.good.example."]},
}

# Let UTF-8 through Postfix so that bytes >= 0x80 reach mailvet.
MAIN_CF = {"smtputf8_enable": "yes"}

REJECT_NAME = 'x" action=accept rule="y'
DRY_NAME = 'dry \\ run=1'
RULES = r'''
list hostile = 192.0.2.65
list dry = 192.0.2.66
rule "x\" action=accept rule=\"y" when client.ip in $hostile
    then reject 550 5.7.1 "no"
rule "dry \\ run=1" dry-run when client.ip in $dry
    then reject 550 5.7.1 "would refuse"
'''

MAILVET_CONF = {"dns_timeout_ms": 1500}
TIMEOUT = 60

RCPT = ["rcpt@dest.example"]

# ------------------------------------------------------------- logfmt

_NAMED = {'"': 0x22, "\\": 0x5c, "n": 0x0a, "r": 0x0d, "t": 0x09}


def _quoted(line, i):
    """_quoted - the value of a quoted string starting at line[i] == '"';
    returns (bytes, index after the closing quote)"""
    out = bytearray()
    i += 1
    while True:
        if i >= len(line):
            raise ValueError("unterminated quote")
        c = line[i]
        if c == '"':
            return bytes(out), i + 1
        if c != "\\":
            out.append(ord(c))
            i += 1
            continue
        e = line[i + 1:i + 2]
        if e in _NAMED:
            out.append(_NAMED[e])
            i += 2
        elif e == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", line[i + 2:i + 4]):
            out.append(int(line[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("unknown escape \\%s at %d" % (e, i))


def logfmt(line):
    """logfmt - [(key, bytes or None)]; ValueError on anything malformed:
    bytes outside printable ASCII, a bare value holding '"', '\\' or '=',
    an empty value, an unknown escape, spaces other than one separator"""
    bad = [c for c in line if not 0x20 <= ord(c) <= 0x7e]
    if bad:
        raise ValueError("non-printable bytes %r" % bad[:5])
    out, i, n = [], 0, len(line)
    while i < n:
        j = i
        while j < n and line[j] not in " =":
            if line[j] in '"\\':
                raise ValueError("quote or backslash in key at %d" % j)
            j += 1
        key = line[i:j]
        if not key:
            raise ValueError("empty key at %d" % i)
        value = None
        if j < n and line[j] == "=":
            j += 1
            if j < n and line[j] == '"':
                value, j = _quoted(line, j)
            else:
                k = j
                while j < n and line[j] != " ":
                    if line[j] in '"\\=':
                        raise ValueError("%r in bare value at %d"
                                         % (line[j], j))
                    j += 1
                if k == j:
                    raise ValueError("empty value for %s" % key)
                value = line[k:j].encode("ascii")
        out.append((key, value))
        if j < n:
            if line[j] != " " or j + 1 >= n or line[j + 1] == " ":
                raise ValueError("bad separator at %d" % j)
            j += 1
        i = j
    return out


# Every key the line may carry, in its order; * marks the optional ones.
LINE_KEYS = ["conn", "client", "ptr", "helo", "from", "rcpts", "refused",
             "iprev", "spf", "spf_helo", "dkim", "helo_check",
             "*helo_facts", "*dnsbl", "*dnsbl_score", "*dnsbl_listed",
             "*rhsbl", "*rhsbl_score", "*rhsbl_listed", "auth", "action",
             "rule", "*would", "*reason", "*truncated", "elapsed_ms"]


def one_set(line):
    """one_set - the parsed line as a dict; asserts every key once, in
    the documented order, and nothing else"""
    pairs = logfmt(line)
    keys = [k for k, _ in pairs]
    dup = [k for k, c in collections.Counter(keys).items() if c > 1]
    assert not dup, "keys more than once %r in %s" % (dup, line)
    assert len(pairs) > 2 and pairs[0][1] is None and \
        pairs[0][0].endswith(":") and pairs[1] == ("verdict", None), line
    known = [k.lstrip("*") for k in LINE_KEYS]
    want = [k for k in known if k in keys]
    assert keys[2:] == want, "keys %r, want %r" % (keys[2:], want)
    need = [k for k in LINE_KEYS if not k.startswith("*")]
    assert all(k in keys for k in need), "missing %r in %s" % (
        [k for k in need if k not in keys], line)
    return dict(pairs[2:])


def kv_lines(env):
    """kv_lines - the key=value verdict lines mailvet logged (on stderr)"""
    prefix = "mailvet: info: "
    return [ln[len(prefix):] for ln in env.mailvet.stderr().splitlines()
            if ln.startswith(prefix) and ": verdict conn=" in ln]


def kv_for(env, v):
    """kv_for - (line, fields) of the key=value line with v's conn"""
    want = "conn=%d" % v["conn"]

    def find():
        for ln in kv_lines(env):
            if ln.split(" ", 3)[2] == want:
                return ln
        return None
    line = wait_for(find, 10, what="verdict line of conn %s" % v["conn"])
    return line, one_set(line)


def jbytes(s):
    """jbytes - a JSON verdict string as the bytes mailvet was given
    (bytes outside printable ASCII are \\u00HH there, one per byte)"""
    return None if s is None else s.encode("latin-1")


def same_as_json(f, v):
    """same_as_json - every field of the parsed line agrees with JSON; a
    value named in truncated= is a prefix of the JSON one plus "..." """
    def opt(x):
        return b"-" if x is None else jbytes(x)
    want = {
        "client": jbytes(v["client_ip"]), "ptr": opt(v["ptr"]),
        "helo": opt(v["helo"]),
        "from": b"<" + jbytes(v["mail_from"]) + b">",
        "rcpts": b"%d" % v["rcpts"], "refused": b"%d" % v["refused"],
        "auth": opt(v["auth"]), "action": jbytes(v["action"]),
        "rule": opt(v["rule"]), "elapsed_ms": b"%d" % v["elapsed_ms"],
    }
    for k in ("iprev", "spf", "spf_helo", "dkim", "helo_check"):
        want[k] = jbytes(v[k])
    for k in ("would", "reason"):
        if v[k] is not None:
            want[k] = jbytes(v[k])
        assert (k in f) == (v[k] is not None), (k, f, v)
    if "helo_facts" in v:
        want["helo_facts"] = ",".join(
            "%s:%s" % kv for kv in v["helo_facts"].items()).encode()
    cut = f.get("truncated", b"").decode().split(",")
    for k, w in want.items():
        got = f.get(k)
        if k in cut:
            assert got.endswith(b"...") and w.startswith(got[:-3]), \
                "%s cut: line %r, JSON %r" % (k, got, w)
        else:
            assert got == w, "%s: line %r, JSON %r" % (k, got, w)


def deliver(env, ip, helo, sender, **kw):
    """deliver - send, insist on delivery; (delivered, json, line, fields)"""
    r = env.send(ip, helo, sender, RCPT, **kw)
    assert r.accepted, "not accepted: %r" % (r,)
    d = env.postfix.wait_delivered(r.marker)
    v = env.mailvet.verdict_for(r)
    line, f = kv_for(env, v)
    same_as_json(f, v)
    return d, v, line, f


# ------------------------------------------------------------ RFC 8601

def _rfc8601_tokens(value):
    """_rfc8601_tokens - [(kind, text)]: word, quoted, comment, ';', '=';
    quoted-pairs decoded; ValueError on an unbalanced or stray byte"""
    out, i, n = [], 0, len(value)
    while i < n:
        c = value[i]
        if c in " \t":
            i += 1
        elif c in ";=":
            out.append((c, c))
            i += 1
        elif c in "\"(":
            text, depth, i = "", 1, i + 1
            close = '"' if c == '"' else ")"
            while depth:
                if i >= n:
                    raise ValueError("unterminated %s" % c)
                ch = value[i]
                if ch == "\\":
                    text += value[i + 1]
                    i += 2
                    continue
                if c == "(" and ch == "(":
                    depth += 1
                elif ch == close:
                    depth -= 1
                    if not depth:
                        break
                text += ch
                i += 1
            out.append(("quoted" if c == '"' else "comment", text))
            i += 1
        elif c in ')\\':
            raise ValueError("stray %r at %d in %r" % (c, i, value))
        else:
            j = i
            while j < n and value[j] not in ' \t;="()\\':
                j += 1
            out.append(("word", value[i:j]))
            i = j
    return out


def rfc8601(value):
    """rfc8601 - (authserv_id, [resinfo]); resinfo: method, result,
    props {name: value}, comments [text]; asserts the grammar"""
    toks = _rfc8601_tokens(value)
    assert toks and toks[0][0] == "word", value
    authserv, rest, results = toks[0][1], toks[1:], []
    groups, cur = [], []
    for t in rest:
        if t[0] == ";":
            groups.append(cur)
            cur = []
        else:
            cur.append(t)
    groups.append(cur)
    assert groups[0] == [], "text after authserv-id: %r" % groups[0]
    for g in groups[1:]:
        comments = [t[1] for t in g if t[0] == "comment"]
        g = [t for t in g if t[0] != "comment"]
        if g == [("word", "none")]:
            results.append({"method": "none"})
            continue
        assert len(g) >= 3 and g[0][0] == "word" and g[1][0] == "=" and \
            g[2][0] == "word", "resinfo %r in %r" % (g, value)
        props, k = {}, 3
        while k < len(g):
            assert k + 2 < len(g) and g[k][0] == "word" and \
                g[k + 1][0] == "=" and g[k + 2][0] in ("word", "quoted"), \
                "property at %r in %r" % (g[k:], value)
            props[g[k][1]] = g[k + 2][1]
            k += 3
        results.append({"method": g[0][1], "result": g[2][1],
                        "props": props, "comments": comments})
    return authserv, results


METHODS = {"iprev", "spf", "dkim", "x-helo", "auth", "x-dnsbl", "x-rhsbl"}
RESULTS = {"pass", "fail", "softfail", "neutral", "none", "temperror",
           "permerror", "policy"}


def our_ar(d):
    """our_ar - our Authentication-Results from the delivered raw bytes:
    every byte printable or a folding tab/space, parsed as RFC 8601"""
    with open(d.path, "rb") as fh:
        raw = fh.read()
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].split(b"\n")
    found = []
    for i, ln in enumerate(head):
        # Exactly one space after the colon (mailvet sends it itself:
        # it negotiates SMFIP_HDR_LEADSPC; see test_header_bytes.py).
        if not re.match(rb"Authentication-Results:[ \t]*mx\.test\.example",
                        ln):
            continue
        assert ln.startswith(b"Authentication-Results: mx.test.example"), ln
        block = [ln]
        for cont in head[i + 1:]:
            if not cont[:1] in (b" ", b"\t"):
                break
            block.append(cont)
        for b in block:
            assert all(0x20 <= x <= 0x7e or x == 0x09 for x in b), b
        found.append(b"".join(block)[len(b"Authentication-Results:"):])
    assert len(found) == 1, "want one A-R of ours, got %r" % found
    authserv, results = rfc8601(found[0].decode("ascii"))
    assert authserv == "mx.test.example", authserv
    for r in results:
        assert r["method"] in METHODS, r
        assert r["result"] in RESULTS, r
    return results


def method(results, name, prop=None):
    """method - the one resinfo of a method (with property prop)"""
    got = [r for r in results if r["method"] == name and
           (prop is None or prop in r["props"])]
    assert len(got) == 1, "%s: %r" % (name, results)
    return got[0]


# --------------------------------------------------------------- tests

def test_mail_from_with_fake_fields(env):
    sender = '"x action=reject rule=fake"@example.org'
    d, v, line, f = deliver(env, "192.0.2.1", "mail.good.example", sender)
    assert f["action"] == b"accept" and f["rule"] == b"-", line
    assert f["from"] == b"<" + sender.encode() + b">", line
    assert v["mail_from"] == sender and v["action"] == "accept", v
    spf = method(our_ar(d), "spf", "smtp.mailfrom")
    assert spf["props"]["smtp.mailfrom"] == sender, spf


def test_mail_from_with_quote_and_backslash(env):
    sender = '"a=b \\" c\\\\ d"@example.org'
    d, v, line, f = deliver(env, "192.0.2.1", "mail.good.example", sender)
    assert f["from"] == b"<" + sender.encode() + b">", line
    assert v["mail_from"] == sender, v
    assert f["action"] == b"accept", line


def test_helo_with_fake_fields(env):
    helo = 'evil" action=reject rule="fake x=\\ y'
    d, v, line, f = deliver(env, "192.0.2.1", helo, "s@good.example")
    assert f["helo"] == helo.encode() and f["action"] == b"accept", line
    assert v["helo"] == helo, v
    xh = method(our_ar(d), "x-helo")
    assert xh["props"]["smtp.helo"] == helo, xh


def test_utf8_helo_and_sender_are_escaped_bytes(env):
    helo, sender = "h\u00e9llo w\u00f6rld", "\u00fc=1@example.org"
    d, v, line, f = deliver(env, "192.0.2.1", helo, sender)
    assert 'helo="h\\xc3\\xa9llo w\\xc3\\xb6rld"' in line, line
    assert f["helo"] == helo.encode("utf-8"), line
    assert f["from"] == b"<" + sender.encode("utf-8") + b">", line
    our_ar(d)  # 8-bit text never reaches the header raw


def test_ptr_with_fake_fields_resolves_back(env):
    name = "x=y,action=reject.evil.example"
    d, v, line, f = deliver(env, "192.0.2.60", "mail.good.example",
                            "s@good.example")
    assert v["iprev"] == "pass" and v["ptr"] == name, v
    assert f["ptr"] == name.encode() and f["iprev"] == b"pass", line
    assert ' ptr="%s" ' % name in line, line
    ip = method(our_ar(d), "iprev")
    assert ip["result"] == "pass" and \
        ip["props"]["policy.iprev"] == "192.0.2.60" and \
        ip["comments"] == [name], ip


def test_ptr_with_space_quote_and_parens(env):
    d, v, line, f = deliver(env, "192.0.2.61", "mail.good.example",
                            "s@good.example")
    assert v["iprev"] == "fail" and v["ptr"] is None, v
    assert f["iprev"] == b"fail" and f["ptr"] == b"-", line
    ip = method(our_ar(d), "iprev")
    # The name in DNS presentation form, whole inside one comment.
    shown = 'evil\\032\\"q\\"\\032action=reject\\;\\(x\\)\\032\\\\' \
        '.evil.example'
    assert ip["result"] == "fail" and ip["comments"] == [
        shown + ": no PTR name resolves back to the client"], ip


def test_auth_user_with_fake_fields(env):
    user = 'bob action=reject "q" \\ x=y'
    d, v, line, f = deliver(env, "192.0.2.1", "laptop", "s@good.example",
                            login=user)
    assert v["auth"] == user, v
    assert f["auth"] == user.encode() and f["action"] == b"accept", line
    a = method(our_ar(d), "auth")
    assert a["result"] == "pass" and a["props"]["smtp.auth"] == user, a


def test_rule_names_with_fake_fields(env):
    r = env.send("192.0.2.65", "mail.good.example", "s@good.example", RCPT)
    assert r.rcpt and r.rcpt[0].code == 550, r
    v = env.mailvet.verdict_for(r)
    line, f = kv_for(env, v)
    same_as_json(f, v)
    assert f["action"] == b"reject" and f["rule"] == REJECT_NAME.encode(), \
        line
    assert v["rule"] == REJECT_NAME, v

    d, v, line, f = deliver(env, "192.0.2.66", "mail.good.example",
                            "s@good.example")
    assert f["action"] == b"accept" and f["would"] == b"reject", line
    assert f["rule"] == DRY_NAME.encode() and v["rule"] == DRY_NAME, line


def test_long_values_cut_inside_quotes(env):
    helo = ('"q" a=b ' * 75)[:600]
    local = '"' + ("x action=reject " * 40)[:640] + '"'
    sender = local + "@example.org"
    d, v, line, f = deliver(env, "192.0.2.1", helo, sender)
    assert len(line) < 2000, len(line)
    assert f["truncated"] == b"helo,from", line
    assert f["action"] == b"accept" and f["rule"] == b"-", line
    # same_as_json checked each cut value is a prefix of the JSON one.
    assert len(f["helo"]) > 100 and len(f["from"]) > 100, line
    assert v["mail_from"] == sender, v
    assert helo.startswith(v["helo"]), v  # the HELO check keeps 511
