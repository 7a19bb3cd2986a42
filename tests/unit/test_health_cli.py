"""The health check program's entry point: configuration errors, alert mail handed to sendmail, exit status."""

import io
import json
import os
import stat
import sys

from ansible_collections.partnermail.links.plugins.module_utils._health import cli

QUEUE = {"queue_name": "deferred", "queue_id": "Q1", "arrival_time": 1, "message_size": 1, "forced_expire": False,
         "sender": "a@a.test",
         "recipients": [{"address": "bob@b.test", "delay_reason": "Server certificate not verified"}]}


def fake_sendmail(tmp_path, rc=0):
    script = tmp_path / "sendmail"
    script.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\ncat > {tmp_path}/message\nexit {rc}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return (str(script), "-t", "-oi")


def write_config(tmp_path, **extra):
    (tmp_path / "state").mkdir(exist_ok=True)
    (tmp_path / "mail.log").write_text("")
    queue = tmp_path / "queue.json"
    queue.write_text(json.dumps(QUEUE) + "\n")
    config = {"log_path": str(tmp_path / "mail.log"), "state_dir": str(tmp_path / "state"),
              "textfile_path": str(tmp_path / "partnermail.prom"), "partner_domains": {"b.test": "b"},
              "alert": {"threshold_seconds": 60, "to": ["postmaster@a.test"], "hostname": "mx.a.test"},
              "postqueue_command": [sys.executable, "-c", f"print(open({str(queue)!r}).read(), end='')"]}
    config.update(extra)
    path = tmp_path / "health.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_a_stuck_partner_gets_one_mail_through_sendmail(tmp_path):
    config = write_config(tmp_path)
    err = io.StringIO()
    assert cli.main(["--config", config], sendmail=fake_sendmail(tmp_path), stderr=err) == 0
    assert err.getvalue() == ""
    assert (tmp_path / "args").read_text().split() == ["-t", "-oi", "-f", "partnermail-health@mx.a.test"]
    message = (tmp_path / "message").read_text()
    assert "To: postmaster@a.test" in message and "X-Partnermail-Alert: stuck" in message
    os.unlink(tmp_path / "message")
    assert cli.main(["--config", config], sendmail=fake_sendmail(tmp_path), stderr=err) == 0
    assert not (tmp_path / "message").exists()  # once per incident
    assert 'partnermail_partner_stuck{partner="b"} 1' in (tmp_path / "partnermail.prom").read_text()


def test_a_sendmail_failure_is_reported(tmp_path):
    config = write_config(tmp_path)
    err = io.StringIO()
    assert cli.main(["--config", config], sendmail=fake_sendmail(tmp_path, rc=75), stderr=err) == 0
    assert "alert mail to postmaster@a.test" in err.getvalue() and "exited 75" in err.getvalue()


def test_an_unusable_configuration_exits_2_naming_the_field(tmp_path):
    config = write_config(tmp_path, transport="")
    err = io.StringIO()
    assert cli.main(["--config", config], stderr=err) == 2
    assert "transport: must be a non-empty string" in err.getvalue()
    assert cli.main(["--config", str(tmp_path / "absent.json")], stderr=err) == 2


def test_a_missing_log_exits_1(tmp_path):
    config = write_config(tmp_path)
    os.unlink(tmp_path / "mail.log")
    err = io.StringIO()
    assert cli.main(["--config", config], sendmail=fake_sendmail(tmp_path), stderr=err) == 1
    assert "does not exist" in err.getvalue()
