"""Dovecot passwd-file rendering: hash, keep when it verifies, rehash otherwise (module_utils/_passwd.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.partnermail.links.plugins.filter.model import FilterModule
from ansible_collections.partnermail.links.plugins.module_utils import _passwd, _shacrypt
from ansible_collections.partnermail.links.plugins.module_utils._render import HEADER

ENTRIES = [
    {"username": "fabrikam", "password": "In-From-Fabrikam-9Z"},
    {"username": "contoso", "password": "In-From-Contoso-7Q"},
]


def lines_by_user(text):
    lines = text.split("\n")
    assert lines[0] == HEADER
    assert lines[-1] == ""
    return {line.split(":", 1)[0]: line for line in lines[1:-1]}


def crypted(line):
    _user, field = line.split(":", 1)
    assert field.startswith("{SHA512-CRYPT}$6$")
    return field[len("{SHA512-CRYPT}"):]


def test_new_file_hashes_every_user_sorted():
    text = _passwd.passwd_file(ENTRIES)
    users = lines_by_user(text)
    assert list(users) == ["contoso", "fabrikam"]
    for entry in ENTRIES:
        hashed = crypted(users[entry["username"]])
        assert _shacrypt.verify(entry["password"], hashed)
        assert "rounds=" not in hashed  # the implicit 5000 rounds of glibc and doveadm pw
    assert "In-From" not in text


def test_rerun_keeps_every_line():
    first = _passwd.passwd_file(ENTRIES)
    assert _passwd.passwd_file(ENTRIES, first) == first


def test_changed_password_is_rehashed_others_kept():
    first = lines_by_user(_passwd.passwd_file(ENTRIES))
    changed = [ENTRIES[0], {"username": "contoso", "password": "New-Contoso-Secret-1"}]
    second = lines_by_user(_passwd.passwd_file(changed, "\n".join(first.values())))
    assert second["fabrikam"] == first["fabrikam"]
    assert second["contoso"] != first["contoso"]
    assert _shacrypt.verify("New-Contoso-Secret-1", crypted(second["contoso"]))
    assert not _shacrypt.verify("In-From-Contoso-7Q", crypted(second["contoso"]))


def test_hash_with_other_rounds_is_kept_when_it_verifies():
    line = "contoso:{SHA512-CRYPT}" + _shacrypt.sha512_crypt("In-From-Contoso-7Q", rounds=10000) + "::::::"
    users = lines_by_user(_passwd.passwd_file(ENTRIES, f"# old header\n{line}\n"))
    assert users["contoso"] == line


@pytest.mark.parametrize("existing", [
    "contoso:{PLAIN}In-From-Contoso-7Q",
    "contoso:{SHA512-CRYPT}$6$garbage",
    "contoso:{SHA512-CRYPT}" + _shacrypt.sha512_crypt("something-else-entirely"),
    "contoso:" + _shacrypt.sha512_crypt("In-From-Contoso-7Q"),
    "contoso",
    "# contoso:{SHA512-CRYPT}" + _shacrypt.sha512_crypt("In-From-Contoso-7Q"),
])
def test_unusable_existing_line_is_rehashed(existing):
    line = lines_by_user(_passwd.passwd_file(ENTRIES, existing))["contoso"]
    assert line != existing
    assert _shacrypt.verify("In-From-Contoso-7Q", crypted(line))


def test_users_not_in_entries_are_dropped():
    stale = "globex:{SHA512-CRYPT}" + _shacrypt.sha512_crypt("Globex-Secret-12")
    assert list(lines_by_user(_passwd.passwd_file(ENTRIES, stale))) == ["contoso", "fabrikam"]


def test_empty_entries_render_header_only():
    assert _passwd.passwd_file([], None) == f"{HEADER}\n"


@pytest.mark.parametrize("entries", [
    [ENTRIES[0], dict(ENTRIES[0])],
    [{"username": "bad:user", "password": "Long-Enough-Pass-1"}],
    [{"username": "bad\nuser", "password": "Long-Enough-Pass-1"}],
    [{"username": "contoso", "password": ""}],
    [{"username": "contoso"}],
])
def test_bad_entries_are_refused(entries):
    with pytest.raises(ValueError):
        _passwd.passwd_file(entries)


def test_verifies():
    hashed = "{SHA512-CRYPT}" + _shacrypt.sha512_crypt("Some-Password-12")
    assert _passwd.verifies("Some-Password-12", hashed)
    assert not _passwd.verifies("Other-Password-12", hashed)
    assert not _passwd.verifies("Some-Password-12", "{PLAIN}Some-Password-12")


def test_filter_keeps_lines_and_wraps_errors():
    passwd_file = FilterModule().filters()["passwd_file"]
    first = passwd_file(ENTRIES)
    assert passwd_file(ENTRIES, first) == first
    with pytest.raises(AnsibleFilterError) as info:
        passwd_file([{"username": "contoso", "password": 12345678901234}])
    assert "12345678901234" not in str(info.value)


def test_many_lines_are_checked_in_parallel_with_the_same_verdicts_as_one_by_one():
    pairs = [(f"secret-{n}", "{SHA512-CRYPT}" + _shacrypt.sha512_crypt(f"secret-{n}", rounds=1000)) for n in range(40)]
    pairs *= 2  # 80 lines: above PARALLEL_FROM
    pairs[3] = ("wrong", pairs[3][1])
    pairs[7] = ("secret-7", "")  # no line yet
    expected = [_passwd.verifies(password, field) if field else False for password, field in pairs]
    assert len(pairs) >= _passwd.PARALLEL_FROM
    assert _passwd.verify_all(pairs, workers=2) == expected
    assert _passwd.verify_all(pairs, workers=1) == expected
    assert expected.count(False) == 2
