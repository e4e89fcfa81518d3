"""slapd.conf lines for OpenLDAP's own replication of keydir databases.

Every function returns configuration text and knows nothing of any
particular network: the caller puts the text into a database section
(database_keydir(..., extra=...) or database_mdb(..., extra=...)) or into
a Slapd's globals_extra. The directives are the stock ones of
slapo-syncprov(5), slapd.conf(5) (syncrepl, serverID, multiprovider,
updateref) and slapo-accesslog(5); nothing here is keydir-specific except
that the tests run it on keydir databases.

Order inside a database section matters in slapd.conf: database directives
(index, syncrepl, multiprovider, updateref) first, then each `overlay`
followed by its own directives. Use section_extra() to put the pieces in
that order.

Modules: a provider needs syncprov.la, an accesslog (delta-syncrepl)
provider also accesslog.la; see modules_for().
"""

import re

# Indexes syncprov (entryCSN: refresh and startup scans) and syncrepl
# consumers (entryUUID: every incoming change is looked up by it) need.
SYNC_INDEX = "index entryCSN,entryUUID eq\n"

# What a delta-syncrepl consumer asks of the log: successful writes only.
DELTA_LOGFILTER = "(&(objectClass=auditWriteObject)(reqResult=0))"


def _q(value):
    """A syncrepl keyword value, quoted when it needs to be."""
    value = str(value)
    if value == "" or any(c in value for c in ' "(),=\t'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def modules_for(*, provider=False, accesslog=False, mdb=False, keydir=True):
    """The modules a server needs (Slapd(modules=...)): back_keydir.la,
    syncprov.la on any provider or multi-provider member, accesslog.la for
    delta-syncrepl providers, back_mdb.la when a back-mdb database (the
    comparison or an accesslog database) is on the server."""
    mods = []
    if keydir:
        mods.append("back_keydir.la")
    if mdb:
        mods.append("back_mdb.la")
    if provider or accesslog:
        mods.append("syncprov.la")
    if accesslog:
        mods.append("accesslog.la")
    return tuple(mods)


def provider(checkpoint=(100, 10), sessionlog=1000, nopresent=False, reloadhint=False):
    """Makes the database a syncprov provider: `overlay syncprov` and its
    directives. Put SYNC_INDEX in the database part of the section.

    checkpoint  (ops, minutes): contextCSN is written to the database after
                that many writes or minutes (syncprov-checkpoint); None to
                leave it at syncprov's default (only at shutdown).
    sessionlog  number of recent changes syncprov keeps in memory so that a
                returning consumer gets just what it missed instead of a
                present phase over the whole database (syncprov-sessionlog);
                None for no session log.
    nopresent, reloadhint
                for a database that is itself an accesslog (delta-syncrepl
                log): syncprov-nopresent TRUE, syncprov-reloadhint TRUE.
    """
    lines = ["overlay syncprov"]
    if checkpoint is not None:
        lines.append(f"syncprov-checkpoint {checkpoint[0]} {checkpoint[1]}")
    if sessionlog is not None:
        lines.append(f"syncprov-sessionlog {sessionlog}")
    if nopresent:
        lines.append("syncprov-nopresent TRUE")
    if reloadhint:
        lines.append("syncprov-reloadhint TRUE")
    return "\n".join(lines) + "\n"


def consumer(rid, provider_uri, searchbase, binddn, credentials, *,
             type="refreshAndPersist", interval="00:00:00:05", retry="1 +", timeout=5,
             network_timeout=5, keepalive="60:5:5", scope="sub", filter="(objectClass=*)",
             attrs="*,+", schemachecking="off", syncdata=None, logbase=None, logfilter=None,
             updateref=True, extra=()):
    """Makes the database a syncrepl consumer of provider_uri.

    rid           replica id, 1..999, unique among the database's syncrepl
                  lines (also the key of the consumer's cookie).
    provider_uri  ldap://host:port of the provider (no DN).
    searchbase    the provider's DN to replicate (normally its suffix).
    binddn, credentials
                  simple bind identity on the provider; it must be allowed to
                  read every entry and attribute (entryUUID, entryCSN ...)
                  and be exempt from size limits there.
    type          refreshAndPersist (a persistent search: changes arrive as
                  they happen) or refreshOnly (a poll every `interval`,
                  dd:hh:mm:ss).
    retry         "interval count" pairs, "+" meaning forever: how often to
                  reconnect after the provider went away.
    timeout, network_timeout
                  seconds for each operation / for connect().
    keepalive     idle:probes:interval TCP keepalive, so that a provider
                  that died without closing the connection is noticed.
    syncdata, logbase, logfilter
                  delta-syncrepl: syncdata="accesslog", logbase the
                  provider's accesslog suffix, logfilter which log entries
                  to replay (DELTA_LOGFILTER when None).
    updateref     True: add `updateref provider_uri` so that a write sent
                  to this (read-only) consumer is answered with a referral
                  to the provider; False: no updateref (a write is refused
                  with unwillingToPerform "shadow context ..."); a string:
                  that URI instead. Leave False for multi-provider members
                  (they accept writes).
    extra         further "keyword=value" strings for the syncrepl line.

    The consumer database needs a rootdn (syncrepl writes as it) and
    SYNC_INDEX.
    """
    if type not in ("refreshOnly", "refreshAndPersist"):
        raise ValueError(f"syncrepl type must be refreshOnly or refreshAndPersist, not {type!r}")
    if not 1 <= int(rid) <= 999:
        raise ValueError(f"syncrepl rid must be 1..999, not {rid}")
    words = [
        f"rid={int(rid):03d}",
        f"provider={provider_uri}",
        "bindmethod=simple",
        f"binddn={_q(binddn)}",
        f"credentials={_q(credentials)}",
        f"searchbase={_q(searchbase)}",
        f"scope={scope}",
        f"filter={_q(filter)}",
        f"attrs={_q(attrs)}",
        f"schemachecking={schemachecking}",
        f"type={type}",
    ]
    if type == "refreshOnly":
        words.append(f"interval={interval}")
    words += [f"retry={_q(retry)}", f"timeout={timeout}",
              f"network-timeout={network_timeout}"]
    if keepalive:
        words.append(f"keepalive={keepalive}")
    if syncdata:
        if syncdata == "accesslog" and not logbase:
            raise ValueError("syncdata=accesslog needs logbase (the provider's log suffix)")
        words.append(f"syncdata={syncdata}")
    if logbase:
        words.append(f"logbase={_q(logbase)}")
        words.append(f"logfilter={_q(logfilter or DELTA_LOGFILTER)}")
    words += list(extra)
    text = "syncrepl " + "\n  ".join(words) + "\n"
    if updateref:
        text += f"updateref {provider_uri if updateref is True else updateref}\n"
    return text


def delta_consumer(rid, provider_uri, searchbase, logbase, binddn, credentials, **kw):
    """consumer() in delta-syncrepl mode: changes are replayed from the
    provider's accesslog (logbase) instead of being sent as whole entries;
    syncrepl falls back to a full refresh when the log does not reach back
    far enough (a new consumer, or one away longer than the log's purge
    age)."""
    return consumer(rid, provider_uri, searchbase, binddn, credentials,
                    syncdata="accesslog", logbase=logbase, **kw)


# -- delta-syncrepl provider: the accesslog ------------------------------------

ACCESSLOG_INDEX = "index objectClass,entryCSN,reqStart,reqDN,reqResult eq\n"


def accesslog_database(suffix, directory, rootdn, rootpw=None, kind="mdb", extra=""):
    """The database section of an accesslog (the log delta-syncrepl
    consumers read): a back-mdb (kind="mdb") or keydir (kind="keydir")
    database with syncprov in its delta mode. Put it in the server before
    the database whose writes it logs (slapd.conf wants the log database
    defined first, as OpenLDAP's own delta tests do).

    rootdn is normally the logged database's rootdn (accesslog writes as
    it); rootpw only when rootdn is below suffix (slapd refuses it
    otherwise).

    Both kinds work (test_repl_delta.py runs both). back-mdb is the
    recommended one: the log is written on every change and purged in
    bulk, which is what mdb's single writer and copy-on-write pages are
    made for; the keys the network serves stay in keydir.
    """
    if kind not in ("mdb", "keydir"):
        raise ValueError(f"accesslog database must be mdb or keydir, not {kind!r}")
    lines = [f"database {kind}", f'suffix "{suffix}"', f'rootdn "{rootdn}"']
    if rootpw is not None:
        lines.append(f"rootpw {rootpw}")
    lines.append(f"directory {directory}")
    if kind == "mdb":
        lines.append("maxsize 1073741824")
    text = "\n".join(lines) + "\n" + ACCESSLOG_INDEX + extra
    return text + provider(checkpoint=None, sessionlog=None, nopresent=True, reloadhint=True)


def accesslog_overlay(logdb, logops="writes", logsuccess=True, logpurge="07+00:00 01+00:00"):
    """`overlay accesslog` for the provider database whose writes are
    logged into logdb (the accesslog database's suffix). Must come after
    `overlay syncprov` in that section (syncprov then sees the log's
    writes in order), as in OpenLDAP's delta-syncrepl setup.

    logpurge  "age interval" (dd+hh:mm): log entries older than age are
              removed every interval; None keeps the log forever.
    """
    lines = ["overlay accesslog", f"logdb {_q(logdb)}", f"logops {logops}",
             f"logsuccess {'TRUE' if logsuccess else 'FALSE'}"]
    if logpurge:
        lines.append(f"logpurge {logpurge}")
    return "\n".join(lines) + "\n"


# -- multi-provider -----------------------------------------------------------

def server_id(number):
    """The global `serverID` line of one multi-provider member (1..4095,
    unique in the set; each member's CSNs carry it)."""
    if not 1 <= int(number) <= 4095:
        raise ValueError(f"serverID must be 1..4095, not {number}")
    return f"serverID {int(number)}\n"


def multiprovider_member(own_id, peers, searchbase, binddn, credentials, *,
                         checkpoint=(100, 10), sessionlog=1000, **consumer_kw):
    """Database lines for one member of a multi-provider set.

    own_id   this member's serverID (also put server_id(own_id) into the
             server's globals).
    peers    {serverID: ldap URI} of every other member; each becomes a
             refreshAndPersist syncrepl line with rid = the peer's serverID.
    searchbase, binddn, credentials
             the replicated suffix and the identity members bind to each
             other with (the same on every member, e.g. the rootdn).

    Returns the database part (SYNC_INDEX, syncrepl lines, `multiprovider
    on`) followed by the syncprov overlay; pass it through section_extra()
    with any other parts.
    """
    if own_id in peers:
        raise ValueError("peers must not contain the member itself")
    text = SYNC_INDEX
    for peer_id, uri in sorted(peers.items()):
        text += consumer(peer_id, uri, searchbase, binddn, credentials, updateref=False,
                         **consumer_kw)
    text += "multiprovider on\n"
    return text + provider(checkpoint=checkpoint, sessionlog=sessionlog)


def section_extra(*parts):
    """Joins configuration parts into the tail of a database section.
    slapd.conf reads every line after an `overlay` line as that overlay's
    (or a later one's), so each part is split at its first `overlay` line:
    the database lines of all parts come first, then the overlay lines,
    in the order the parts were given (syncprov before accesslog)."""
    db, ov = [], []
    for p in parts:
        if not p:
            continue
        if not p.endswith("\n"):
            p += "\n"
        m = re.search(r"(?m)^overlay\s", p)
        if m:
            db.append(p[:m.start()])
            ov.append(p[m.start():])
        else:
            db.append(p)
    return "".join(db + ov)
