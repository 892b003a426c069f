"""Production mode (``LEC_ENV=production``): every process refuses to start with
the development signing key or a short one, the development admin password,
or the broker's guest account, and says which setting to change."""
import os
import subprocess
import sys

import pytest

from services.common import settings
from services.registry.handlers import check_bootstrap_account
from tests.conftest import ROOT

SAFE = {
    "LEC_ENV": "production",
    "LEC_JWT_SECRET": "k" * 16 + "-a-key-of-32-or-more-bytes-0123",
    "LEC_ADMIN_PASSWORD": "stolid-quartz-heron-2569",
    "AMQP_URI": "pyamqp://lec:s3cret-broker-pass@rabbit:5672/lec",
}


@pytest.fixture
def production(monkeypatch):
    for name in ("LEC_JWT_PREVIOUS_SECRET", "LEC_JWT_PREVIOUS_KEY_ID", "LEC_ADMIN_USERNAME",
                 "LEC_ARGON2_MEMORY_KIB", "LEC_ARGON2_TIME_COST", "LEC_ARGON2_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in SAFE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def refusal():
    with pytest.raises(settings.SettingsError) as caught:
        settings.check_production("the test")
    return str(caught.value)


def test_safe_settings_start(production):
    settings.check_production("the test")


@pytest.mark.parametrize("memory, passes", settings.ARGON2_OWASP_ROWS + ((65536, 3),))
def test_each_owasp_argon2_row_starts(production, memory, passes):
    production.setenv("LEC_ARGON2_MEMORY_KIB", str(memory))
    production.setenv("LEC_ARGON2_TIME_COST", str(passes))
    settings.check_production("the test")


@pytest.mark.parametrize("name, value, named", [
    ("LEC_JWT_SECRET", None, "LEC_JWT_SECRET is the built-in development key"),
    ("LEC_JWT_SECRET", settings.DEV_JWT_SECRET, "LEC_JWT_SECRET is the built-in development key"),
    ("LEC_JWT_SECRET", "short-but-not-default", "LEC_JWT_SECRET is shorter than 32 bytes"),
    ("LEC_JWT_SECRET", "change-me-to-32-or-more-random-bytes", "LEC_JWT_SECRET is still the placeholder"),
    ("LEC_JWT_PREVIOUS_SECRET", "old-and-short", "LEC_JWT_PREVIOUS_SECRET is shorter than 32 bytes"),
    ("LEC_ADMIN_PASSWORD", settings.DEV_ADMIN_PASSWORD, "LEC_ADMIN_PASSWORD is the development password"),
    ("LEC_ADMIN_PASSWORD", "change-me", "LEC_ADMIN_PASSWORD is still the placeholder"),
    ("AMQP_URI", None, "AMQP_URI uses the broker's guest account"),
    ("AMQP_URI", "pyamqp://guest:guest@rabbit:5672/", "AMQP_URI uses the broker's guest account"),
    ("AMQP_URI", "pyamqp://rabbit:5672/", "AMQP_URI uses the broker's guest account"),
    ("AMQP_URI", "pyamqp://lec:guest@rabbit:5672/", "AMQP_URI uses the broker's guest account"),
    ("LEC_ARGON2_MEMORY_KIB", "4096", "LEC_ARGON2_MEMORY_KIB=4096 with LEC_ARGON2_TIME_COST=5 is weaker"),
    ("LEC_ARGON2_TIME_COST", "4", "LEC_ARGON2_MEMORY_KIB=7168 with LEC_ARGON2_TIME_COST=4 is weaker"),
])
def test_each_unsafe_setting_is_refused_by_name(production, name, value, named):
    if value is None:
        production.delenv(name, raising=False)
    else:
        production.setenv(name, value)
    assert named in refusal()


def test_development_starts_with_the_defaults(monkeypatch):
    for name in ("LEC_ENV", "LEC_JWT_SECRET", "LEC_ADMIN_PASSWORD", "AMQP_URI"):
        monkeypatch.delenv(name, raising=False)
    settings.check_production("the test")
    monkeypatch.setenv("LEC_ENV", "prod")  # a typo is not taken for development
    with pytest.raises(settings.SettingsError, match="LEC_ENV"):
        settings.check_production("the test")


def test_the_gateway_refuses_to_start(production):
    from gateway.app import create_app
    from gateway.config import GatewayConfig

    production.setenv("LEC_JWT_SECRET", settings.DEV_JWT_SECRET)
    with pytest.raises(settings.SettingsError, match="gateway.*LEC_JWT_SECRET"):
        create_app(GatewayConfig(listen_events=False))


def test_a_service_refuses_to_start_and_names_the_setting():
    env = dict(os.environ, LEC_ENV="production", AMQP_URI="pyamqp://guest:guest@127.0.0.1:1/")
    env.pop("LEC_JWT_SECRET", None)
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "nameko"), "run", "--config", "deploy/nameko.yml",
         "services.rounds.service:RoundsService"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "the rounds service refuses to start in production" in result.stderr
    assert "LEC_JWT_SECRET" in result.stderr and "AMQP_URI" in result.stderr


def test_the_first_account_of_production_needs_a_strong_password():
    with pytest.raises(settings.SettingsError, match="LEC_ADMIN_USERNAME and LEC_ADMIN_PASSWORD"):
        check_bootstrap_account(None, None)
    with pytest.raises(settings.SettingsError, match="LEC_ADMIN_PASSWORD is refused"):
        check_bootstrap_account("admin", "password")
    check_bootstrap_account("admin", SAFE["LEC_ADMIN_PASSWORD"])
