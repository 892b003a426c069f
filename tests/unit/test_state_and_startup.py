"""One state folder per running instance, and start-up messages that say what was
configured: the first account's name and password source, the launcher's banner."""
import importlib
import logging
import os
import sys

import pytest

from deploy import launcher
from deploy.launcher import StatePaths, System
from services.common import settings
from services.registry import handlers


@pytest.fixture
def environ(monkeypatch):
    """Set variables for one test; the settings are read again before and after."""
    def put(**values):
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        settings.reload()
    yield put
    monkeypatch.undo()
    settings.reload()


def _files(state):
    return [state.logs, state.heartbeats, state.run, state.control_socket, state.metrics,
            state.pgdata, state.pid_file("launcher"), state.pid_file("registry")]


def test_two_instances_with_their_own_state_folders_share_no_path(environ, tmp_path):
    environ(LEC_STATE_DIR=str(tmp_path / "one"))
    one = StatePaths.configured()
    environ(LEC_STATE_DIR=str(tmp_path / "two"))
    two = StatePaths.configured()
    for path in _files(one):
        assert path.is_relative_to(tmp_path / "one"), path
    for path in _files(two):
        assert path.is_relative_to(tmp_path / "two"), path
    assert not set(_files(one)) & set(_files(two))
    # a Unix socket's path has a length limit (108 bytes on Linux)
    assert len(str(one.control_socket).encode()) < 108


def test_the_default_state_folder_is_lec_in_the_checkout(environ):
    environ(LEC_STATE_DIR=None)
    state = StatePaths.configured()
    assert state.root == launcher.ROOT / ".lec"
    assert state.logs == launcher.ROOT / ".lec" / "logs"
    environ(LEC_STATE_DIR="elsewhere")  # relative: to the checkout, wherever the launcher runs
    assert StatePaths.configured().root == launcher.ROOT / "elsewhere"


def test_a_system_gives_its_children_its_state_folder(environ, tmp_path):
    environ(LEC_STATE_DIR=None, LEC_HEARTBEAT_FILE=None)
    one = System(port=8101, state=StatePaths.at(tmp_path / "a"))
    two = System(port=8102, log_dir=tmp_path / "b" / "logs")
    assert one.env["LEC_STATE_DIR"] == str(tmp_path / "a")
    assert one.env["LEC_HEARTBEAT_FILE"] == str(tmp_path / "a" / "heartbeats" / "{service}.json")
    assert one.log_dir == tmp_path / "a" / "logs" and one.log_dir.is_dir()
    # a system given only its log folder (the tests) keeps everything in that folder
    assert two.env["LEC_STATE_DIR"] == str(tmp_path / "b" / "logs")
    assert two.heartbeat_file("registry") == tmp_path / "b" / "logs" / "heartbeats" / "registry.json"
    assert one.env["PORT"] != two.env["PORT"]


def _gunicorn_conf():
    sys.modules.pop("gateway.gunicorn_conf", None)
    return importlib.import_module("gateway.gunicorn_conf")


def test_gunicorns_control_socket_pid_and_metrics_are_in_the_state_folder(environ, tmp_path):
    from gunicorn.config import Config
    assert "control_socket" in Config().settings  # this gunicorn has a control socket
    environ(LEC_STATE_DIR=str(tmp_path / "one"), PROMETHEUS_MULTIPROC_DIR=None)
    conf = _gunicorn_conf()
    assert conf.control_socket == str(tmp_path / "one" / "run" / "gunicorn.ctl")
    assert conf.pidfile == str(tmp_path / "one" / "run" / "gateway.pid")
    assert conf.metrics_dir() == str(tmp_path / "one" / "metrics")
    # gunicorn reads the settings of the file: the socket it will open is that one
    cfg = Config()
    cfg.set("control_socket", conf.control_socket)
    assert cfg.control_socket == conf.control_socket
    first = conf.control_socket
    environ(LEC_STATE_DIR=str(tmp_path / "two"))
    assert _gunicorn_conf().control_socket != first
    sys.modules.pop("gateway.gunicorn_conf", None)


def test_the_gateway_empties_its_metrics_folder_as_it_starts(environ, tmp_path, monkeypatch):
    environ(LEC_STATE_DIR=str(tmp_path), PROMETHEUS_MULTIPROC_DIR=None)
    conf = _gunicorn_conf()
    stale = tmp_path / "metrics" / "counter_123.db"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    conf.on_starting(None)
    assert not stale.exists() and (tmp_path / "metrics").is_dir() and (tmp_path / "run").is_dir()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "metrics")
    sys.modules.pop("gateway.gunicorn_conf", None)


# -- start-up messages -------------------------------------------------------------------------

def test_with_an_admin_password_the_registry_does_not_speak_of_the_default(caplog):
    with caplog.at_level(logging.DEBUG, logger=handlers.log.name):
        username, password = handlers.bootstrap_account("chief", "a-long-s3cret-of-our-own")
    assert (username, password) == ("chief", "a-long-s3cret-of-our-own")
    text = caplog.text
    assert "LEC_ADMIN_PASSWORD" in text and "chief" in text
    assert "development" not in text and "default" not in text.replace("LEC_ADMIN_USERNAME", "")
    assert "a-long-s3cret-of-our-own" not in text
    assert all(r.levelno < logging.WARNING for r in caplog.records)


def test_a_password_without_a_name_keeps_the_password_and_says_which_name(caplog):
    with caplog.at_level(logging.DEBUG, logger=handlers.log.name):
        username, password = handlers.bootstrap_account(None, "a-long-s3cret-of-our-own")
    assert (username, password) == (handlers.DEV_ADMIN_USERNAME, "a-long-s3cret-of-our-own")
    assert "development password" not in caplog.text
    assert "LEC_ADMIN_USERNAME not set" in caplog.text and "password of LEC_ADMIN_PASSWORD" in caplog.text


def test_without_an_admin_password_the_registry_warns_of_the_development_one(caplog):
    with caplog.at_level(logging.DEBUG, logger=handlers.log.name):
        username, password = handlers.bootstrap_account(None, None)
    assert (username, password) == (handlers.DEV_ADMIN_USERNAME, handlers.DEV_ADMIN_PASSWORD)
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and "development account" in warning[0].getMessage()
    assert handlers.DEV_ADMIN_PASSWORD not in caplog.text


def test_the_banner_shows_the_login_really_configured(environ, capsys, tmp_path):
    environ(LEC_ADMIN_USERNAME="chief", LEC_ADMIN_PASSWORD="a-long-s3cret-of-our-own")
    login = launcher.admin_login(settings.current())
    assert login[:2] == ("chief", "(LEC_ADMIN_PASSWORD)")
    launcher.banner(launcher.browse_url("0.0.0.0", 8123), [login], state=StatePaths.at(tmp_path),
                    listen="0.0.0.0:8123")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/" in out and "0.0.0.0:8123" in out and str(tmp_path) in out
    assert "chief" in out and settings.DEV_ADMIN_PASSWORD not in out
    assert "a-long-s3cret-of-our-own" not in out
    environ(LEC_ADMIN_USERNAME=None, LEC_ADMIN_PASSWORD=None)
    login = launcher.admin_login(settings.current())
    assert login[:2] == (settings.DEV_ADMIN_USERNAME, settings.DEV_ADMIN_PASSWORD)
    assert "development" in login[2]
    assert launcher.browse_url("10.0.0.5", 80) == "http://10.0.0.5:80"
