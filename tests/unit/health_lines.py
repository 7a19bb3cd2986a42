"""Real Postfix log lines and ``postqueue -j`` output for the health check's tests.

Collected on 2026-12-02 from Debian's own packages in the local images: Debian 12 (Postfix 3.7.11, OpenSSL 3.0)
and Debian 13 (Postfix 3.10.13, OpenSSL 3.5), written by postlogd (``maillog_file = /var/log/mail.log``). One
container per release sent to local listeners that fail in each way: smtpd with a certificate from another
CA, with a certificate for another name, without STARTTLS, with TLS 1.2 at most against a ``protocols=>=TLSv1.3``
policy; a fake server that refuses AUTH with 535; one that closes before the greeting, one after EHLO; a
port with nothing on it, one whose backlog is full (connect times out); an MX lookup with no resolver. The
sender had the collection's partner transport (``partner unix ... smtp`` with SASL, ``syslog_name =
postfix/$service_name``, policy ``secure match=... tafile=...``), first without and then with
``smtp_tls_connection_reuse = yes`` (verification failures are then logged by tlsproxy).

Where the two releases write the same shape only the queue ids, pids and times differ; both are kept.
"""

# (release, line, class of the delivery status) - status lines of the partner transport and error(8).
STATUS_LINES = [
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[915]: EA63C1844A4: to=<bob@ok.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2501, delay=0.18, delays=0.05/0.05/0.06/0.01, dsn=2.0.0, "
     "status=sent (250 2.0.0 Ok: queued as 167631844A5)", None),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[924]: 89A3C1883EE: to=<bob@ok.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2501, delay=0.16, delays=0.03/0.04/0.09/0, dsn=2.0.0, "
     "status=sent (250 2.0.0 Ok: queued as AC40B1883F4)", None),
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[921]: 034091844A6: to=<bob@untrusted.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2502, delay=0.12, delays=0.02/0.04/0.07/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "certificate_untrusted"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[936]: 8F1BF1883EF: to=<bob@untrusted.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2502, delay=0.21, delays=0.04/0.08/0.09/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "certificate_untrusted"),
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[915]: 11CD71844A8: to=<bob@nostarttls.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2504, delay=0.07, delays=0.01/0.03/0.02/0, dsn=4.7.4, "
     "status=deferred (TLS is required, but was not offered by host 127.0.0.1[127.0.0.1])", "no_starttls"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[924]: 960371883ED: to=<bob@nostarttls.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2504, delay=0.14, delays=0.05/0.07/0.02/0, dsn=4.7.4, "
     "status=deferred (TLS is required, but was not offered by host 127.0.0.1[127.0.0.1])", "no_starttls"),
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[932]: 1BB8B1844A4: to=<bob@handshake.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2505, delay=0.08, delays=0.02/0.01/0.05/0, dsn=4.7.5, "
     "status=deferred (Cannot start TLS: handshake failure)", "tls_handshake_failed"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[930]: 9E3C01883F0: to=<bob@handshake.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2505, delay=0.14, delays=0.03/0.07/0.03/0, dsn=4.7.5, "
     "status=deferred (Cannot start TLS: handshake failure)", "tls_handshake_failed"),
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[921]: 231F81844A9: to=<bob@auth.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2506, delay=0.09, delays=0.01/0.02/0.06/0, dsn=4.7.8, status=deferred "
     "(SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535 5.7.8 Error: authentication failed: "
     "authentication failure)", "auth_failed"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[924]: A0E7F1883F1: to=<bob@auth.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2506, delay=0.16, delays=0.03/0.07/0.06/0, dsn=4.7.8, status=deferred "
     "(SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535 5.7.8 Error: authentication failed: "
     "authentication failure)", "auth_failed"),
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[932]: 4091B1844AE: to=<bob@refused.b.test>, relay=none, "
     "delay=0.01, delays=0.01/0/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2599: "
     "Connection refused)", "connection_failed"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[930]: BD99D1883F6: to=<bob@refused.b.test>, relay=none, "
     "delay=0.04, delays=0.04/0/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2599: "
     "Connection refused)", "connection_failed"),
    ("3.7", "Dec 02 00:53:29 mx-a postfix/partner/smtp[915]: 4562D1844AF: to=<bob@timeout.b.test>, relay=none, "
     "delay=4, delays=0.01/0/4/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2511: "
     "Connection timed out)", "connection_failed"),
    ("3.10", "Dec 02 00:53:32 mx-a postfix/partner/smtp[960]: C46D41883F4: to=<bob@timeout.b.test>, relay=none, "
     "delay=4, delays=0.03/0/4/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2511: "
     "Connection timed out)", "connection_failed"),
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[943]: 29ED71844AA: to=<bob@lostgreeting.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2507, delay=0.02, delays=0.01/0.01/0.01/0, dsn=4.4.2, status=deferred "
     "(lost connection with 127.0.0.1[127.0.0.1] while receiving the initial server greeting)", "connection_failed"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[936]: B0C0E1883EE: to=<bob@lostehlo.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2508, delay=0.09, delays=0.04/0.05/0/0, dsn=4.4.2, status=deferred "
     "(lost connection with 127.0.0.1[127.0.0.1] while performing the EHLO handshake)", "connection_failed"),
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[921]: 47D9F1844B0: to=<bob@nx.b.test>, relay=none, "
     "delay=0.01, delays=0/0/0.01/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service "
     "error for name=nx.b.test type=MX: Host not found, try again)", "dns_failure"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[930]: C777D1883F7: to=<bob@nx.b.test>, relay=none, "
     "delay=0.02, delays=0.02/0/0/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service "
     "error for name=nx.b.test type=MX: Host not found, try again)", "dns_failure"),
    ("3.7", "Dec 02 00:54:26 mx-a postfix/error[1091]: 4091B1844AE: to=<bob@refused.b.test>, relay=none, "
     "delay=62, delays=61/0.28/0/0.01, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to "
     "127.0.0.1[127.0.0.1]:2599: Connection refused)", "connection_failed"),
    ("3.10", "Dec 02 00:54:38 mx-a postfix/error[1082]: C89D31883F9: to=<dave@refused.b.test>, relay=none, "
     "delay=70, delays=70/0.19/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to "
     "127.0.0.1[127.0.0.1]:2599: Connection refused)", "connection_failed"),
]

# (release, the verification line, the status line after it, the class they make together). The verification
# line comes from the smtp process itself without connection reuse, from tlsproxy with it.
VERIFIED_PAIRS = [
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[927]: server certificate verification failed for "
     "127.0.0.1[127.0.0.1]:2503: num=62:hostname mismatch",
     "Dec 02 00:53:25 mx-a postfix/partner/smtp[927]: 0AC0B1844A7: to=<bob@mismatch.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2503, delay=0.12, delays=0.01/0.04/0.06/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "name_mismatch"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[930]: server certificate verification failed for "
     "127.0.0.1[127.0.0.1]:2503: num=62:hostname mismatch",
     "Dec 02 00:53:28 mx-a postfix/partner/smtp[930]: 8D0351883EC: to=<bob@mismatch.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2503, delay=0.13, delays=0.01/0.06/0.06/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "name_mismatch"),
    ("3.7", "Dec 02 00:53:25 mx-a postfix/partner/smtp[921]: server certificate verification failed for "
     "127.0.0.1[127.0.0.1]:2502: num=65:no matching DANE TLSA records",
     "Dec 02 00:53:25 mx-a postfix/partner/smtp[921]: 034091844A6: to=<bob@untrusted.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2502, delay=0.12, delays=0.02/0.04/0.07/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "certificate_untrusted"),
    ("3.10", "Dec 02 00:53:28 mx-a postfix/partner/smtp[936]: server certificate verification failed for "
     "127.0.0.1[127.0.0.1]:2510: num=65:no matching DANE TLSA records",
     "Dec 02 00:53:28 mx-a postfix/partner/smtp[936]: B97C21883F5: to=<bob@fingerprint.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2510, delay=0.08, delays=0.01/0.04/0.04/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "certificate_untrusted"),
    # CAfile trust (no tafile): the issuer is named.
    ("3.7", "Dec 02 00:54:17 mx-a postfix/partner/smtp[1030]: certificate verification failed for "
     "127.0.0.1[127.0.0.1]:2512: untrusted issuer /CN=Lab ca2",
     "Dec 02 00:54:17 mx-a postfix/partner/smtp[1030]: 88B5B1840FD: to=<bob@cauntrusted.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2512, delay=0.07, delays=0.02/0.02/0.03/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "certificate_untrusted"),
    ("3.10", "Dec 02 00:54:29 mx-a postfix/partner/smtp[1025]: server certificate verification failed for "
     "127.0.0.1[127.0.0.1]:2513: num=62:hostname mismatch",
     "Dec 02 00:54:29 mx-a postfix/partner/smtp[1025]: 670C3188068: to=<bob@camismatch.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2513, delay=0.07, delays=0.01/0.04/0.02/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "name_mismatch"),
    # Connection reuse: tlsproxy verifies, another process logs the status.
    ("3.7", "Dec 02 00:54:26 mx-a postfix/tlsproxy[1062]: server certificate verification failed for "
     "127.0.0.1[127.0.0.1]:2513: num=62:hostname mismatch",
     "Dec 02 00:54:26 mx-a postfix/partner/smtp[1064]: 8BB981840FC: to=<bob@camismatch.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2513, delay=9.1, delays=8.9/0.13/0.04/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "name_mismatch"),
    ("3.10", "Dec 02 00:54:38 mx-a postfix/tlsproxy[1057]: certificate verification failed for "
     "127.0.0.1[127.0.0.1]:2512: untrusted issuer /CN=Lab ca2",
     "Dec 02 00:54:38 mx-a postfix/partner/smtp[1050]: 639F3188069: to=<bob@cauntrusted.b.test>, "
     "relay=127.0.0.1[127.0.0.1]:2512, delay=9.6, delays=9.4/0.15/0.05/0, dsn=4.7.5, "
     "status=deferred (Server certificate not verified)", "certificate_untrusted"),
]

# Deliveries and their TLS, collected on 2026-12-08 from the same images (Postfix 3.7.11 and 3.10.13): the partner
# transport as the collection renders it (tlsproxy reuse on, syslog_name postfix/$service_name), listeners on
# 127.0.0.1. tlsproxy logs its own summary too; the smtp process logs one before each delivery request over TLS
# ("reused" for a connection from the cache, whose status line then has conn_use=2).
# - verified: level fingerprint, two messages, the second over the cached connection;
# - untrusted: level encrypt against a certificate nobody vouches for (delivered: that is what encrypt allows);
# - no_mechanism: level may against a server without STARTTLS that offers AUTH PLAIN LOGIN CRAM-MD5 DIGEST-MD5
#   SCRAM-SHA-1 NTLM in clear: the transport's SASL options leave no mechanism, and it sent no AUTH command.
DELIVERIES = {
    "3.7": {
        "verified": [
            "Dec 08 00:49:30 mx postfix/tlsproxy[929]: CONNECT to [127.0.0.1]:2501",
            "Dec 08 00:49:30 mx postfix/tlsproxy[929]: Verified TLS connection established to "
            "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:49:30 mx postfix/partner/smtp[924]: Verified TLS connection established to "
            "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:49:30 mx postfix/partner/smtp[924]: EFB061780CD: to=<user@ok.b.test>, "
            "relay=127.0.0.1[127.0.0.1]:2501, delay=0.39, delays=0.31/0.02/0.05/0, dsn=2.0.0, "
            "status=sent (250 2.0.0 Ok: queued as 0E4E31780CE)",
            "Dec 08 00:49:30 mx postfix/partner/smtp[924]: Verified TLS connection reused to "
            "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:49:30 mx postfix/partner/smtp[924]: F1919178068: to=<user@ok.b.test>, "
            "relay=127.0.0.1[127.0.0.1]:2501, conn_use=2, delay=0.41, delays=0.33/0.07/0/0, dsn=2.0.0, "
            "status=sent (250 2.0.0 Ok: queued as 0F9291780CD)",
            "Dec 08 00:49:32 mx postfix/tlsproxy[929]: DISCONNECT [127.0.0.1]:2501",
        ],
        "untrusted": [
            "Dec 08 00:48:36 mx postfix/tlsproxy[779]: Untrusted TLS connection established to "
            "127.0.0.1[127.0.0.1]:2502: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:48:36 mx postfix/partner/smtp[781]: Untrusted TLS connection established to "
            "127.0.0.1[127.0.0.1]:2502: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:48:36 mx postfix/tlsproxy[779]: DISCONNECT [127.0.0.1]:2502",
            "Dec 08 00:48:36 mx postfix/partner/smtp[781]: EA805178038: to=<user@enc.b.test>, "
            "relay=127.0.0.1[127.0.0.1]:2502, delay=0.02, delays=0/0/0.02/0, dsn=2.0.0, "
            "status=sent (250 2.0.0 Ok: queued as EF86B178039)",
        ],
        "no_mechanism": [
            "Dec 08 00:48:41 mx postfix/partner/smtp[775]: warning: SASL authentication failure: No worthy mechs "
            "found",
            "Dec 08 00:48:41 mx postfix/partner/smtp[775]: EE4B717803C: to=<user@plain.b.test>, "
            "relay=127.0.0.1[127.0.0.1]:2503, delay=0.05, delays=0/0/0.04/0, dsn=4.7.0, status=deferred (SASL "
            "authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]: no mechanism available)",
        ],
    },
    "3.10": {
        "verified": [
            "Dec 08 00:49:31 mx postfix/tlsproxy[948]: CONNECT to [127.0.0.1]:2501",
            "Dec 08 00:49:31 mx postfix/tlsproxy[948]: Verified TLS connection established to "
            "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "x25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:49:31 mx postfix/partner/smtp[943]: Verified TLS connection established to "
            "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "x25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:49:31 mx postfix/partner/smtp[943]: 0CC8518015F: to=<user@ok.b.test>, "
            "relay=127.0.0.1[127.0.0.1]:2501, delay=0.48, delays=0.41/0.03/0.05/0, dsn=2.0.0, "
            "status=sent (250 2.0.0 Ok: queued as 21643180147)",
            "Dec 08 00:49:31 mx postfix/partner/smtp[943]: Verified TLS connection reused to "
            "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "x25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:49:31 mx postfix/partner/smtp[943]: 0ED1C18015D: to=<user@ok.b.test>, "
            "relay=127.0.0.1[127.0.0.1]:2501, conn_use=2, delay=0.48, delays=0.4/0.07/0/0.01, dsn=2.0.0, "
            "status=sent (250 2.0.0 Ok: queued as 220EE18015E)",
            "Dec 08 00:49:33 mx postfix/tlsproxy[948]: DISCONNECT [127.0.0.1]:2501",
        ],
        "untrusted": [
            "Dec 08 00:48:36 mx postfix/tlsproxy[769]: Untrusted TLS connection established to "
            "127.0.0.1[127.0.0.1]:2502: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "x25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:48:36 mx postfix/partner/smtp[771]: Untrusted TLS connection established to "
            "127.0.0.1[127.0.0.1]:2502: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "x25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "Dec 08 00:48:36 mx postfix/tlsproxy[769]: DISCONNECT [127.0.0.1]:2502",
            "Dec 08 00:48:36 mx postfix/partner/smtp[771]: C7BC018014A: to=<user@enc.b.test>, "
            "relay=127.0.0.1[127.0.0.1]:2502, delay=0.03, delays=0.01/0/0.02/0, dsn=2.0.0, "
            "status=sent (250 2.0.0 Ok: queued as CE98618014B)",
        ],
        "no_mechanism": [
            "Dec 08 00:48:40 mx postfix/partner/smtp[765]: warning: SASL authentication failure: No worthy mechs "
            "found",
            "Dec 08 00:48:40 mx postfix/partner/smtp[765]: CB69C1800F5: to=<user@plain.b.test>, "
            "relay=127.0.0.1[127.0.0.1]:2503, delay=0.05, delays=0/0/0.04/0, dsn=4.7.0, status=deferred (SASL "
            "authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]: no mechanism available)",
        ],
    },
}
# The partner transport's TLS summary before the first status=sent line of STATUS_LINES of each release: the 3.10
# one as it was logged (IGNORED_LINES[0]); the 3.7 one is DELIVERIES' 3.7 line with that status line's time and pid.
TLS_LINES = {
    "3.7": "Dec 02 00:53:25 mx-a postfix/partner/smtp[915]: Verified TLS connection established to "
           "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
           "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "3.10": "Dec 02 00:53:28 mx-a postfix/partner/smtp[924]: Verified TLS connection established to "
            "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
            "x25519 server-signature ECDSA (prime256v1) server-digest SHA256",
}

# qmgr's lines for a message given up (postsuper -e: "force-expired"; the queue lifetime: "expired").
EXPIRED_37 = "Dec 02 00:56:30 mx-a postfix/qmgr[1170]: 3DCCA184488: from=<alice@a.test>, status=force-expired, " \
    "returned to sender"
REMOVED_37 = "Dec 02 00:56:30 mx-a postfix/qmgr[1170]: 3DCCA184488: removed"
DEFERRED_37_FOR_EXPIRED = (
    "Dec 02 00:54:26 mx-a postfix/partner/smtp[1056]: 3DCCA184488: to=<bob@untrusted.b.test>, "
    "relay=127.0.0.1[127.0.0.1]:2502, delay=123, delays=123/0.05/0.06/0, dsn=4.7.5, "
    "status=deferred (Server certificate not verified)")

# Lines that are not partner delivery attempts (all real, Postfix 3.10).
IGNORED_LINES = [
    "Dec 02 00:53:28 mx-a postfix/partner/smtp[924]: Verified TLS connection established to "
    "127.0.0.1[127.0.0.1]:2501: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange x25519 "
    "server-signature ECDSA (prime256v1) server-digest SHA256",
    "Dec 02 00:54:38 mx-a postfix/tlsproxy[1061]: TLS handshake failed for service=partner peer=[127.0.0.1]:2505",
    "Dec 02 00:53:28 mx-a postfix/partner/smtp[930]: connect to 127.0.0.1[127.0.0.1]:2599: Connection refused",
    "Dec 02 00:56:19 mx-a postfix/qmgr[1047]: 0791B188078: from=<alice@a.test>, size=250, nrcpt=1 (queue active)",
    # the Internet transport (Postfix 3.7, before syslog_name gave the partner transport its own tag)
    "Dec 02 00:52:23 mx-a postfix/smtp[617]: 3C97418448C: to=<bob@ok.b.test>, relay=127.0.0.1[127.0.0.1]:2501, "
    "delay=0.1, delays=0.03/0.02/0.04/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4EA80184496)",
    # the local discard(8) delivery at the receiving end
    "Dec 02 00:52:23 mx-a postfix/discard[638]: 4EA80184496: to=<bob@ok.b.test>, relay=none, delay=0.05, "
    "delays=0.01/0.03/0/0, dsn=2.0.0, status=sent (ok.b.test)",
]

# ``postqueue -j`` in the middle of the run above, whole, one file per release.
POSTQUEUE_FILES = {"3.7": "postqueue-j-3.7.jsonl", "3.10": "postqueue-j-3.10.jsonl"}
