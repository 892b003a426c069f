"""Settings: one frozen value per process, read from the environment in one
place (``Settings.from_env``), every variable documented in the README."""
import ast
import dataclasses
import re

import pytest
import yaml

from services.common import settings
from services.common.settings import Settings, SettingsError
from tests.conftest import ROOT

# Code that may read the environment itself, and why.
READERS = {
    "services/common/settings.py": "the one reader (Settings.from_env, current())",
    # a stand-alone example agencies copy: it does not import the project
    "deploy/examples/agency_subscriber.py": "stand-alone example for agencies",
}
# Whole-environment reads that pass the environment on rather than read a setting.
PASSED_ON = {
    ("deploy/launcher.py", "dict(os.environ)"): "the launcher's child processes inherit its environment",
}
# bench/ reads variables of its own (never a setting of the system) directly.
BENCH_ONLY = re.compile(r"BENCH_[A-Z_]+")
SCANNED = ("services", "gateway", "deploy", "bench")
LEGACY_HELPERS = {"env", "env_int", "env_float"}


def readme_variables():
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names = [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split(" | ")[0])]
    return names


def test_every_setting_is_in_the_readme_table_and_every_row_is_a_setting():
    documented = readme_variables()
    assert len(documented) == len(set(documented)), "a variable has two rows"
    read = set(Settings.variables())
    assert read - set(documented) == set(), "variables read but not in the README's Configuration table"
    assert set(documented) - read == set(), "README rows of variables no setting reads"


def test_every_field_is_read_from_a_variable():
    named = set(Settings.variables().values())
    assert {f.name for f in dataclasses.fields(Settings)} == named


def test_the_nameko_config_defaults_are_the_settings_defaults():
    """deploy/nameko.yml substitutes a few variables itself (nameko reads them):
    its defaults must be the ones the settings give."""
    text = (ROOT / "deploy" / "nameko.yml").read_text()
    found = dict(re.findall(r"\$\{([A-Z_]+):([^}]*)\}", text))
    defaults = Settings()
    fields = Settings.variables()
    assert set(found) <= set(fields)
    for name, default in found.items():
        assert yaml.safe_load(default) == getattr(defaults, fields[name]), name


def test_the_manifests_set_only_settings():
    for document in yaml.safe_load_all((ROOT / "deploy" / "k8s" / "base" / "config.yaml").read_text()):
        named = set(document.get("data", {})) | set(document.get("stringData", {}))
        assert named - set(Settings.variables()) == set(), document["metadata"]["name"]


def _environment_reads(tree):
    """(line, source) of every read of the environment in a module."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [(node.lineno, f"from os import {a.name}") for a in node.names
                      if a.name in ("environ", "environb", "getenv", "getenvb")]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in ("environ", "environb", "getenv", "getenvb"):
            parent = parents.get(node)
            if isinstance(parent, ast.Subscript) and isinstance(parent.ctx, (ast.Store, ast.Del)):
                continue  # a write, for this process's children
            if isinstance(parent, ast.Attribute) and parent.attr == "update":
                continue  # a write
            outer = parents.get(parent) if isinstance(parent, ast.Attribute) else parent
            found.append((node.lineno, ast.unparse(outer if isinstance(outer, (ast.Call, ast.Subscript))
                                                   else node)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in LEGACY_HELPERS and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "settings":
            found.append((node.lineno, ast.unparse(node)))
        if isinstance(node, ast.ImportFrom) and node.module == "services.common.settings":
            found += [(node.lineno, f"from services.common.settings import {a.name}") for a in node.names
                      if a.name in LEGACY_HELPERS]
    return sorted(found)


def test_no_code_reads_the_environment_but_the_settings():
    reads = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in READERS or "/.venv/" in rel:
                continue
            for line, source in _environment_reads(ast.parse(path.read_text(), rel)):
                if (rel, source) in PASSED_ON:
                    continue
                if top == "bench" and BENCH_ONLY.search(source):
                    continue
                reads.append(f"{rel}:{line}: {source}")
    assert reads == [], "read the environment through settings.current():\n" + "\n".join(reads)


def test_the_scan_finds_reads():
    tree = ast.parse("import os\nfrom services.common import settings\n"
                     "a = os.environ.get('X')\nb = os.getenv('Y')\nc = os.environ['Z']\n"
                     "d = 'W' in os.environ\ne = settings.env_int('V', 1)\nos.environ['Q'] = '1'\n")
    assert [line for line, _ in _environment_reads(tree)] == [3, 4, 5, 6, 7]


def test_settings_are_frozen():
    configured = Settings.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        configured.rpc_timeout = 1.0
    with pytest.raises(TypeError):
        configured.db_urls["registry"] = "postgresql://elsewhere/db"


def test_from_env_reads_only_the_mapping_given(monkeypatch):
    monkeypatch.setenv("LEC_RPC_TIMEOUT", "99")
    assert Settings.from_env({}) == Settings()
    given = {"LEC_RPC_TIMEOUT": "3", "LEC_DB_PREFIX": "x_", "REPORTING_DB_URL": "postgres://h/r"}
    first, second = Settings.from_env(given), Settings.from_env(dict(given))
    assert first == second
    assert (first.rpc_timeout, first.db_prefix, dict(first.db_urls)) == (3.0, "x_", {"reporting": "postgres://h/r"})
    assert first.database_url("reporting") == "postgresql+psycopg2://h/r"
    assert first.database_url("rounds").endswith("/x_rounds")
    assert first.confirm_saga_timeout == 2 * 3.0 + 5


def test_current_is_read_once_until_reload(monkeypatch):
    monkeypatch.setenv("LEC_TOKEN_TTL", "120")
    assert settings.current() is settings.current()
    assert settings.current().token_ttl == 120


def test_empty_values_are_unset_except_the_access_log():
    configured = Settings.from_env({"LEC_RPC_TIMEOUT": "", "LEC_JWT_PREVIOUS_SECRET": "", "LEC_ACCESS_LOG": ""})
    assert configured.rpc_timeout == Settings.rpc_timeout
    assert configured.jwt_previous_secret is None
    assert configured.access_log is None
    assert Settings.from_env({}).access_log == "-"


NUMBERS = sorted(name for name, field in Settings.variables().items()
                 if isinstance(getattr(Settings(), field), (int, float)))


@pytest.mark.parametrize("name", NUMBERS)
def test_a_bad_number_is_refused_by_name(name):
    with pytest.raises(SettingsError, match=f"^{name} must be a"):
        Settings.from_env({name: "ten"})


def test_a_bad_environment_is_refused_by_name():
    with pytest.raises(SettingsError, match="LEC_ENV must be development or production, not 'prod'"):
        Settings.from_env({"LEC_ENV": "prod"})


@pytest.mark.parametrize("name", ["LEC_ARGON2_MEMORY_KIB", "LEC_ARGON2_TIME_COST", "LEC_ARGON2_PARALLELISM"])
def test_argon2_parameters_are_whole_numbers_of_one_or_more(name):
    with pytest.raises(SettingsError, match=f"^{name} must be a whole number of 1 or more, not '0'"):
        Settings.from_env({name: "0"})
    assert getattr(Settings.from_env({name: "7"}), Settings.variables()[name]) == 7
