"""Exact file contents rendered from a worked two-partner model (module_utils/_render.py)."""

import re

import pytest

from ansible_collections.partnermail.links.plugins.filter.model import FilterModule
from ansible_collections.partnermail.links.plugins.module_utils import _render
from ansible_collections.partnermail.links.plugins.module_utils._model import validate_model

H = _render.HEADER
FP1 = ":".join(["AB"] * 32)
FP2 = ":".join(["0F"] * 32)
CONTOSO_POLICY = ("secure match=contoso.example:.contoso.example "
                  "tafile=/etc/postfix/partnermail/trust/contoso.pem protocols=>=TLSv1.2")
FABRIKAM_POLICY = f"fingerprint match={FP1}|{FP2} protocols=>=TLSv1.2"


def inventory():
    return {
        "partnermail_hostname": "mx.a.example",
        "partnermail_domains": ["a.example"],
        "partnermail_partners": [
            {
                "name": "contoso",
                "domains": ["contoso.example", "contoso.test"],
                "connectors": [{"cost": 5, "host": "backup.contoso.example", "port": 587}, {"cost": 1, "via": "dns"}],
                "tls": {"level": "secure", "match": ["contoso.example", ".contoso.example"],
                        "ca_file": "trust/contoso-ca.pem"},
                "outbound_auth": {"username": "a-example", "password": "Out-To-Contoso-7Q"},
                "inbound_auth": {"username": "contoso", "password": "In-From-Contoso-7Q"},
            },
            {
                "name": "fabrikam",
                "domains": ["fabrikam.example", ".fabrikam.example"],
                "connectors": [{"cost": 20, "host": "192.0.2.25", "port": 2525},
                               {"cost": 10, "host": "mx1.fabrikam.example"}],
                "tls": {"level": "fingerprint", "fingerprints": ["ab" * 32, "0f" * 32]},
                "outbound_auth": {"username": "a-example-fab", "password": "Out-To-Fabrikam-9Z"},
                "inbound_auth": {"username": "fabrikam", "password": "In-From-Fabrikam-9Z"},
            },
        ],
    }


@pytest.fixture
def model():
    return validate_model(inventory())


def rows(text, ordered=True):
    """The key -> value rows of a rendered map, checking the header and the final newline.

    ``ordered``: the keys are sorted (hash maps); pcre maps are in first-match order instead.
    """
    lines = text.split("\n")
    assert lines[0] == H
    assert lines[-1] == ""
    pairs = [line.split("\t") for line in lines[1:-1]]
    assert all(len(pair) == 2 for pair in pairs)
    assert not ordered or [key for key, _value in pairs] == sorted(key for key, _value in pairs)
    assert len(dict(pairs)) == len(pairs)
    return dict(pairs)


def test_transport_map(model):
    assert _render.transport_map(model) == (
        f"{H}\n"
        ".fabrikam.example\tpartner:[mx1.fabrikam.example]:25, [192.0.2.25]:2525\n"
        "contoso.example\tpartner:contoso.example, [backup.contoso.example]:587\n"
        "contoso.test\tpartner:contoso.test, [backup.contoso.example]:587\n"
        "fabrikam.example\tpartner:[mx1.fabrikam.example]:25, [192.0.2.25]:2525\n"
    )


def test_transport_map_relays_own_domains():
    raw = inventory() | {"partnermail_domains": ["a.example", "b.example"],
                         "partnermail_delivery": {"mode": "relay", "nexthop": "[mailstore.internal]:25"},
                         "partnermail_partners": []}
    assert _render.transport_map(validate_model(raw)) == (
        f"{H}\na.example\trelay:[mailstore.internal]:25\nb.example\trelay:[mailstore.internal]:25\n")


def test_tls_policy_map(model):
    assert _render.tls_policy_map(model) == (
        f"{H}\n"
        f"[192.0.2.25]:2525\t{FABRIKAM_POLICY}\n"
        f"[backup.contoso.example]:587\t{CONTOSO_POLICY}\n"
        f"[mx1.fabrikam.example]:25\t{FABRIKAM_POLICY}\n"
        f"contoso.example\t{CONTOSO_POLICY}\n"
        f"contoso.test\t{CONTOSO_POLICY}\n"
    )


@pytest.mark.parametrize("tls, policy", [
    ({"level": "encrypt"}, "encrypt protocols=>=TLSv1.2"),
    ({"level": "dane-only"}, "dane-only protocols=>=TLSv1.2"),
    ({"level": "verify"}, "verify protocols=>=TLSv1.2"),
    ({"level": "verify", "ca_file": "ca.pem"}, "verify tafile=/srv/trust/contoso.pem protocols=>=TLSv1.2"),
    ({"level": "secure", "match": ["nexthop", "dot-nexthop"]}, "secure match=nexthop:dot-nexthop protocols=>=TLSv1.2"),
])
def test_tls_policy_by_level(tls, policy):
    raw = inventory()
    raw["partnermail_partners"][0]["tls"] = tls
    text = _render.tls_policy_map(validate_model(raw), "/srv/trust")
    assert rows(text)["contoso.example"] == policy


def test_sasl_password_map(model):
    assert _render.sasl_password_map(model) == (
        f"{H}\n"
        "[192.0.2.25]:2525\ta-example-fab:Out-To-Fabrikam-9Z\n"
        "[backup.contoso.example]:587\ta-example:Out-To-Contoso-7Q\n"
        "[mx1.fabrikam.example]:25\ta-example-fab:Out-To-Fabrikam-9Z\n"
        "contoso.example\ta-example:Out-To-Contoso-7Q\n"
        "contoso.test\ta-example:Out-To-Contoso-7Q\n"
    )


def transport_nexthops(text):
    """Every nexthop named in a rendered transport map."""
    return {hop for value in rows(text).values() for hop in value.split(":", 1)[1].split(", ")}


def test_every_nexthop_has_a_tls_and_a_sasl_row(model):
    nexthops = transport_nexthops(_render.transport_map(model))
    assert nexthops == {hop for partner in model["partnermail_partners"] for hop in partner["nexthops"]}
    assert set(rows(_render.tls_policy_map(model))) == nexthops
    assert set(rows(_render.sasl_password_map(model))) == nexthops


def test_nexthops_are_tried_in_cost_order(model):
    table = rows(_render.transport_map(model))
    assert table["contoso.example"].startswith("partner:contoso.example, ")
    assert table["fabrikam.example"].count("partner:") == 1


def test_sender_login_map(model):
    assert _render.sender_login_map(model) == (
        f"{H}\n"
        "/@fabrikam\\.example$/\tfabrikam\n"
        "/@contoso\\.example$/\tcontoso\n"
        "/@contoso\\.test$/\tcontoso\n"
        "/@.+\\.fabrikam\\.example$/\tfabrikam\n"
    )


@pytest.mark.parametrize("sender, owner", [
    ("alice@contoso.example", "contoso"),
    ("Alice@CONTOSO.Example", "contoso"),
    ("bob@contoso.test", "contoso"),
    ("carol@fabrikam.example", "fabrikam"),
    ("carol@eu.fabrikam.example", "fabrikam"),
    ("carol@a.b.fabrikam.example", "fabrikam"),
    ("mallory@sub.contoso.example", None),
    ("mallory@contosoxexample", None),
    ("mallory@evilcontoso.example", None),
    ("mallory@contoso.example.evil", None),
    ("contoso.example@evil.example", None),
    ("mallory@xfabrikam.example", None),
    ("mallory@a.example", None),
])
def test_sender_patterns_match_only_their_domains(model, sender, owner):
    owners = [login for pattern, login in rows(_render.sender_login_map(model), ordered=False).items()
              if re.search(pattern[1:-1], sender, re.IGNORECASE)]  # pcre_table(5): case-insensitive by default
    assert owners == ([owner] if owner else [])


def _first_match(table, sender):
    """What a pcre_table(5) answers for ``sender``: the value of the first matching row, or None."""
    for pattern, value in rows(table, ordered=False).items():
        if re.search(pattern[1:-1], sender, re.IGNORECASE):
            return value
    return None


@pytest.fixture
def sender_model():
    data = inventory()
    data["partnermail_partners"][0]["allowed_senders"] = ["fwd.example", "o'brien+list@elsewhere.example"]
    data["partnermail_partners"][1]["allowed_senders"] = ["x@fwd.example", ".srs.example"]
    data["partnermail_domains"] = ["a.example", "a2.example"]
    data["partnermail_sender_allowances"] = [
        {"name": "news", "senders": ["news@a.example"], "clients": ["198.51.100.0/24"]},
        {"name": "crm", "senders": ["a.example"], "clients": ["203.0.113.9"]},
    ]
    return validate_model(data)


@pytest.mark.parametrize("sender, owners", [
    ("alice@contoso.example", "contoso"),
    ("y@fwd.example", "contoso"),
    ("x@fwd.example", "fabrikam, contoso"),          # allowed to both: the address row names both logins
    ("X@FWD.example", "fabrikam, contoso"),
    ("o'brien+list@elsewhere.example", "contoso"),
    ("obrien+list@elsewhere.example", None),
    ("o'brien+listx@elsewhere.example", None),
    ("bounce@eu.srs.example", "fabrikam"),
    ("bounce@srs.example", None),
    ("ceo@a.example", None),                          # our own domain: no partner login owns it
    ("root@mx.a.example", None),
    ("x@fwd.example.evil", None),
])
def test_sender_login_map_owners(sender_model, sender, owners):
    assert _first_match(_render.sender_login_map(sender_model), sender) == owners


@pytest.mark.parametrize("sender, verdict", [
    ("ceo@a.example", _render.PROTECTED_OWN),
    ("CEO@A2.Example", _render.PROTECTED_OWN),
    ("root@mx.a.example", _render.PROTECTED_OWN),
    ("alice@contoso.test", _render.PROTECTED_PARTNER),
    ("x@eu.fabrikam.example", _render.PROTECTED_PARTNER),
    ("x@sub.a.example", None),
    ("x@a.example.evil", None),
    ("x@fwd.example", None),                          # a partner's allowed sender stays free for its own servers
    ("<>", None),
])
def test_protected_senders_are_ours_and_the_partners(sender_model, sender, verdict):
    assert _first_match(_render.protected_sender_map(sender_model), sender) == verdict


@pytest.mark.parametrize("sender, classes", [
    ("news@a.example", "partnermail_allowance_news, partnermail_allowance_crm"),
    ("other@a.example", "partnermail_allowance_crm"),
    ("news@a2.example", None),
    ("news@a.example.evil", None),
])
def test_sender_allowances_name_every_class_that_covers_the_sender(sender_model, sender, classes):
    assert _first_match(_render.sender_allowance_map(sender_model), sender) == classes


def test_sender_allowance_classes(sender_model):
    assert _render.allowance_classes(sender_model) == {
        "partnermail_allowance_news": "check_client_access cidr:{ {198.51.100.0/24 OK} }",
        "partnermail_allowance_crm": "check_client_access cidr:{ {203.0.113.9/32 OK} }",
    }
    assert _render.sender_allowance_map(validate_model(inventory())) == f"{H}\n"


def test_sender_regex_rejects_unnormalised_domains():
    with pytest.raises(ValueError, match="normalised"):
        _render.sender_regex("contoso.example$|.*")


PARTNER_OPTIONS_37 = [
    ("smtp_sasl_auth_enable", "yes"),
    ("smtp_sasl_password_maps", "hash:/srv/maps/sasl_passwd"),
    ("smtp_sasl_security_options", "noanonymous,noplaintext,nodictionary"),
    ("smtp_sasl_tls_security_options", "noanonymous"),
    ("smtp_tls_security_level", "encrypt"),
    ("syslog_name", "postfix/$service_name"),
]
PARTNER_OPTIONS_310 = [*PARTNER_OPTIONS_37[:-1], ("tls_required_enable", "no"), PARTNER_OPTIONS_37[-1]]


@pytest.mark.parametrize(("version", "options"), [
    ("3.7", PARTNER_OPTIONS_37), ("3.7.11", PARTNER_OPTIONS_37),
    ("3.10", PARTNER_OPTIONS_310), ("3.10.13", PARTNER_OPTIONS_310), ("3.12", PARTNER_OPTIONS_310),
    ("4.0", PARTNER_OPTIONS_310),
])
def test_partner_services(model, version, options):
    services = _render.partner_services(model, "/srv/maps", version)
    # Two partners, one service: what differs between them is keyed by nexthop in the maps.
    assert len(model["partnermail_partners"]) == 2
    assert [service["name"] for service in services] == ["partner"]
    assert services[0] == {
        "name": "partner", "type": "unix", "private": "-", "unpriv": "-", "chroot": "n",
        "wakeup": "-", "maxproc": "-", "command": "smtp", "options": options,
    }


def test_partner_services_default_to_every_protection(model):
    assert _render.partner_services(model, "/srv/maps") == _render.partner_services(model, "/srv/maps", "3.10")


@pytest.mark.parametrize("version", ["", "3", "three.ten", "3.x", None])
def test_partner_services_refuse_a_version_that_is_not_one(model, version):
    with pytest.raises(ValueError, match="not a Postfix version"):
        _render.partner_services(model, "/srv/maps", version)


@pytest.mark.parametrize("version", ["3.7", "3.10"])
def test_every_partner_transport_carries_both_protections(version):
    """No password without TLS, and (3.10) no header that lowers the TLS policy: on every partner transport."""
    model = validate_model(inventory())
    model["partnermail_partners"][1]["transport"] = "partner_slow"  # the model names one today; render any
    services = _render.partner_services(model, version=version)
    assert sorted(service["name"] for service in services) == ["partner", "partner_slow"]
    for service in services:
        options = dict(service["options"])
        without_tls = set(options["smtp_sasl_security_options"].split(","))
        # noplaintext: no PLAIN/LOGIN; nodictionary: no CRAM-MD5, DIGEST-MD5, SCRAM, NTLM either.
        assert {"noanonymous", "noplaintext", "nodictionary"} <= without_tls, service
        assert options["smtp_sasl_tls_security_options"] == "noanonymous"
        assert options["smtp_tls_security_level"] == "encrypt"
        assert options.get("tls_required_enable") == ("no" if version == "3.10" else None), service


def test_partner_services_set_no_tls_startup_settings(model):
    keys = {key for service in _render.partner_services(model) for key, _value in service["options"]}
    assert not keys & {"smtp_tls_CAfile", "smtp_tls_CApath", "smtp_tls_cert_file", "smtp_tls_key_file",
                       "smtp_tls_loglevel", "smtp_tls_chain_files"}


def test_master_cf_lines(model):
    assert _render.master_cf_lines(_render.partner_services(model)[:1]) == (
        "partner    unix  -       -       n       -       -       smtp\n"
        "  -o smtp_sasl_auth_enable=yes\n"
        "  -o smtp_sasl_password_maps=hash:/etc/postfix/partnermail/sasl_passwd\n"
        "  -o smtp_sasl_security_options=noanonymous,noplaintext,nodictionary\n"
        "  -o smtp_sasl_tls_security_options=noanonymous\n"
        "  -o smtp_tls_security_level=encrypt\n"
        "  -o tls_required_enable=no\n"
        "  -o syslog_name=postfix/$service_name\n"
    )


def test_master_cf_lines_short_name_and_braces():
    service = {"name": "relay2", "type": "unix", "private": "-", "unpriv": "-", "chroot": "n", "wakeup": "-",
               "maxproc": "-", "command": "smtp", "options": [["smtp_helo_name", "mx a"], ["x", ""]]}
    assert _render.master_cf_lines([service]) == (
        "relay2     unix  -       -       n       -       -       smtp\n"
        "  -o { smtp_helo_name = mx a }\n"
        "  -o x=\n"
    )
    assert _render.master_cf_lines([]) == ""


@pytest.mark.parametrize("option", [("bad key", "v"), ("k=v", "v"), ("", "v"), ("k", "line\nbreak"), ("k", "{x}")])
def test_master_cf_lines_rejects_unwritable_options(option):
    service = {"name": "s", "type": "unix", "private": "-", "unpriv": "-", "chroot": "n", "wakeup": "-",
               "maxproc": "-", "command": "smtp", "options": [option]}
    with pytest.raises(ValueError):
        _render.master_cf_lines([service])


def test_no_partners_renders_header_only():
    model = validate_model({"partnermail_hostname": "mx.a.example", "partnermail_domains": ["a.example"]})
    for render in (_render.transport_map, _render.tls_policy_map, _render.sasl_password_map,
                   _render.sender_login_map):
        assert render(model) == f"{H}\n"
    assert _render.partner_services(model) == []


def test_duplicate_keys_are_refused(model):
    """Validation makes shared keys impossible; a hand-made model that has them is refused, not merged."""
    twin = dict(model["partnermail_partners"][0], name="twin")
    broken = dict(model, partnermail_partners=[*model["partnermail_partners"], twin])
    for render in (_render.transport_map, _render.tls_policy_map, _render.sasl_password_map,
                   _render.sender_login_map):
        with pytest.raises(ValueError, match="duplicate key"):
            render(broken)


def test_trust_anchor_path():
    assert _render.trust_anchor_path("contoso", "/srv/trust") == "/srv/trust/contoso.pem"


def test_filters_render_like_module_utils(model):
    filters = FilterModule().filters()
    assert filters["transport_map"](model) == _render.transport_map(model)
    assert filters["tls_policy_map"](model, "/srv/trust") == _render.tls_policy_map(model, "/srv/trust")
    assert filters["sasl_password_map"](model) == _render.sasl_password_map(model)
    assert filters["sender_login_map"](model) == _render.sender_login_map(model)
    services = filters["partner_services"](model)
    assert services[0]["options"][0] == ["smtp_sasl_auth_enable", "yes"]
    assert filters["master_cf_lines"](services) == _render.master_cf_lines(_render.partner_services(model))


# ---------------------------------------------------------------- test mode


def model_with_modes(contoso, fabrikam="enforce"):
    data = inventory()
    data["partnermail_partners"][0]["mode"] = contoso
    data["partnermail_partners"][1]["mode"] = fabrikam
    return validate_model(data)


def _value(render, model, key):
    """A hash map's value for ``key``, or what a pcre map answers for the sender ``key`` (None: no row)."""
    text = render(model)
    if key.startswith("sender:"):
        return _first_match(text, key[len("sender:"):])
    return rows(text).get(key)


TEST_CLASS = "partnermail_partner_test_sender"
ENFORCE_CLASS = "partnermail_partner_sender"


@pytest.mark.parametrize("render, key, enforced, tested", [
    # Outbound: no route, TLS policy or login of its own - its mail takes the Internet connector.
    (_render.transport_map, "contoso.example", "partner:contoso.example, [backup.contoso.example]:587", None),
    (_render.transport_map, "contoso.test", "partner:contoso.test, [backup.contoso.example]:587", None),
    (_render.tls_policy_map, "contoso.example", CONTOSO_POLICY, None),
    (_render.tls_policy_map, "[backup.contoso.example]:587", CONTOSO_POLICY, None),
    (_render.sasl_password_map, "contoso.test", "a-example:Out-To-Contoso-7Q", None),
    (_render.sasl_password_map, "[backup.contoso.example]:587", "a-example:Out-To-Contoso-7Q", None),
    # Inbound: not refused to clients that are not logged in; a client that logs in is still bound.
    (_render.protected_sender_map, "sender:alice@contoso.example", _render.PROTECTED_PARTNER, None),
    (_render.sender_login_map, "sender:alice@contoso.example", "contoso", "contoso"),
    (_render.partner_sender_map, "sender:alice@contoso.test", ENFORCE_CLASS, TEST_CLASS),
    # The other partner, and our own domains, are untouched.
    (_render.transport_map, "fabrikam.example", "partner:[mx1.fabrikam.example]:25, [192.0.2.25]:2525",
     "partner:[mx1.fabrikam.example]:25, [192.0.2.25]:2525"),
    (_render.tls_policy_map, "[mx1.fabrikam.example]:25", FABRIKAM_POLICY, FABRIKAM_POLICY),
    (_render.protected_sender_map, "sender:x@eu.fabrikam.example", _render.PROTECTED_PARTNER,
     _render.PROTECTED_PARTNER),
    (_render.protected_sender_map, "sender:ceo@a.example", _render.PROTECTED_OWN, _render.PROTECTED_OWN),
    (_render.partner_sender_map, "sender:x@fabrikam.example", ENFORCE_CLASS, ENFORCE_CLASS),
    (_render.sender_login_map, "sender:x@eu.fabrikam.example", "fabrikam", "fabrikam"),
], ids=lambda value: value.__name__ if callable(value) else None)
def test_a_partner_in_test_mode_is_delivered_and_accepted_as_internet_mail(render, key, enforced, tested):
    for mode, expected in (("enforce", enforced), ("test", tested)):
        assert _value(render, model_with_modes(mode), key) == expected, (mode, key)


def test_test_mode_changes_the_maps_only():
    """Switching a partner's mode never touches master.cf: the partner service stays, even with no enforced partner."""
    enforced_model, tested_model = model_with_modes("enforce", "enforce"), model_with_modes("test", "test")
    assert _render.partner_services(tested_model) == _render.partner_services(enforced_model)
    assert _render.sender_login_map(tested_model) == _render.sender_login_map(enforced_model)
    for render in (_render.transport_map, _render.tls_policy_map, _render.sasl_password_map):
        assert render(tested_model) == f"{H}\n"
    protected = rows(_render.protected_sender_map(tested_model), ordered=False)
    assert set(protected.values()) == {_render.PROTECTED_OWN}


# ---------------------------------------------------------------- partners that prove themselves without a login

PIN1 = ":".join(["1A"] * 32)
PIN2 = ":".join(["2B"] * 32)


def identity_model(mode="enforce"):
    """contoso as above; 'exo-tenant' on a certificate platform: no login either way, two pins and a network."""
    data = inventory()
    data["partnermail_partners"].append({
        "name": "exo-tenant", "mode": mode, "domains": ["tenant.example", "eu.tenant.example"],
        "connectors": [{"cost": 1, "via": "dns"}],
        "tls": {"level": "secure", "match": [".mail.protection.outlook.com"]},
        "inbound_certificate": {"fingerprints": ["1a" * 32, PIN2]},
        "inbound_networks": ["192.0.2.0/24", "2001:db8:5::/48"],
    })
    return validate_model(data)


EXO_CLASS = "partnermail_identity_exo_0tenant"
EXO_RESTRICTION = (
    "permit_mynetworks, reject_authenticated_sender_login_mismatch, permit_sasl_authenticated, "
    f"check_ccert_access {{ inline:{{ {PIN1}=OK, {PIN2}=OK }}, "
    "{ search_order = cert_fingerprint, pubkey_fingerprint } }, "
    "check_client_access cidr:{ {192.0.2.0/24 reject_plaintext_session, permit}, "
    "{2001:db8:5::/48 reject_plaintext_session, permit} }, "
    f"check_sender_access static:{{{_render.IDENTITY_REJECT}}}"
)


def test_identity_class_of_a_partner_with_pins_and_networks():
    assert _render.identity_classes(identity_model()) == {EXO_CLASS: EXO_RESTRICTION}


def test_identity_class_without_networks_still_refuses_everyone_else():
    data = inventory()
    data["partnermail_partners"][1]["inbound_certificate"] = {"fingerprints": [PIN1]}
    classes = _render.identity_classes(validate_model(data))
    assert classes == {"partnermail_identity_fabrikam": (
        "permit_mynetworks, reject_authenticated_sender_login_mismatch, permit_sasl_authenticated, "
        f"check_ccert_access {{ inline:{{ {PIN1}=OK }}, {_render.CCERT_SEARCH_ORDER} }}, "
        f"check_sender_access static:{{{_render.IDENTITY_REJECT}}}")}


def test_identity_class_names_are_one_per_partner():
    """'-' and '_' are both allowed in partner names and neither may collide once encoded."""
    names = ["a-b", "a_b", "a_0b", "a-0b", "a__b", "a--b", "a_1b", "ab"]
    classes = {_render.identity_class(name) for name in names}
    assert len(classes) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in classes)


def test_a_partner_without_logins_has_no_sasl_or_login_rows():
    model = identity_model()
    assert "tenant.example" not in rows(_render.sasl_password_map(model))
    assert set(rows(_render.sasl_password_map(model))) == {
        "contoso.example", "contoso.test", "[backup.contoso.example]:587", "[mx1.fabrikam.example]:25",
        "[192.0.2.25]:2525"}
    assert _value(_render.sender_login_map, model, "sender:x@tenant.example") is None
    assert _value(_render.sender_login_map, model, "sender:x@eu.tenant.example") is None
    # It keeps its route and TLS policy: the system's CA bundle (no tafile), the platform's names.
    assert rows(_render.transport_map(model))["tenant.example"] == "partner:tenant.example"
    assert rows(_render.tls_policy_map(model))["tenant.example"] == (
        "secure match=.mail.protection.outlook.com protocols=>=TLSv1.2")


@pytest.mark.parametrize("render", [_render.protected_sender_map, _render.partner_sender_map])
def test_a_partner_identified_by_certificate_or_network_goes_to_its_class(render):
    enforced_model, tested_model = identity_model(), identity_model("test")
    for sender in ("sender:x@tenant.example", "sender:x@eu.tenant.example"):
        assert _value(render, enforced_model, sender) == EXO_CLASS
    # A SASL-only partner keeps the shared checks.
    expected = (_render.PROTECTED_PARTNER if render is _render.protected_sender_map
                else _render.PARTNER_SENDER_CLASS)
    assert _value(render, enforced_model, "sender:x@contoso.example") == expected
    # In test mode it is Internet mail on port 25 (no row) and, on an extra service, binds logged-in clients only.
    tested = None if render is _render.protected_sender_map else _render.PARTNER_TEST_SENDER_CLASS
    assert _value(render, tested_model, "sender:x@tenant.example") == tested
    # The class itself does not depend on the mode: switching it changes maps only.
    assert _render.identity_classes(tested_model) == _render.identity_classes(enforced_model)


def test_client_certificates_are_asked_for_only_when_a_partner_is_pinned():
    assert _render.asks_client_certificates(identity_model())
    assert _render.asks_client_certificates(identity_model("test"))
    assert not _render.asks_client_certificates(validate_model(inventory()))
    data = inventory()
    data["partnermail_partners"][0]["inbound_networks"] = ["198.51.100.0/24"]
    assert not _render.asks_client_certificates(validate_model(data))
