"""The supply chain: bounded dependency ranges, hashed locks that the venv and the image
install from, a base image pinned by digest, a non-root image, and the vulnerability audit
of the locked packages (pip-audit over PyPI's vulnerability data).

The audit needs PyPI's per-version JSON API (``/pypi/<name>/<version>/json``, what pip-audit
reads). When that API cannot be reached, or is not served (a package mirror that answers
404 for a version the lock pins), the audit test skips and says so: the vulnerability data
is elsewhere, not broken here. When it answers, a pip-audit that cannot be installed fails
the test under ``LEC_REQUIRE_TOOLS=1`` (``make test``), and a report that does not parse,
or that could not audit a locked package, fails it always.
"""
import json
import os
import re
import subprocess
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
ALLOW = ROOT / "deploy" / "audit-allow.txt"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def declared(*extras):
    found = [Requirement(r) for r in project()["dependencies"]]
    for extra in extras:
        found += [Requirement(r) for r in project()["optional-dependencies"][extra]]
    return found


def locked(path):
    """``{name: (version, hashes)}`` of a lock written by pip-compile --generate-hashes."""
    pins, current = {}, None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = (match.group(2), [])
        elif current and "--hash=sha256:" in line:
            pins[current][1].append(line.split("--hash=sha256:")[1].split()[0].rstrip("\\"))
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"{path.name}: a line that is neither a pin nor a hash: {line!r}")
    return pins


# -- ranges and locks ----------------------------------------------------------------------

def test_every_dependency_has_a_bounded_range():
    for req in declared("test", "embedded"):
        ops = {spec.operator for spec in req.specifier}
        assert ops & {"<", "=="}, f"{req} has no upper bound (>=x,<next-major)"
    names = {canonicalize_name(r.name) for r in declared("test", "embedded")}
    assert "webargs" not in names


def test_webargs_is_not_imported():
    for path in list((ROOT / "services").rglob("*.py")) + list((ROOT / "gateway").rglob("*.py")):
        assert not re.search(r"^\s*(import|from)\s+webargs\b", path.read_text(), re.M), path


def test_the_lock_pins_every_declared_dependency_with_hashes():
    pins = locked(LOCK)
    assert len(pins) > 40
    for name, (version, hashes) in pins.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
    for req in declared("test"):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is declared but not in requirements.lock (make lock)"
        assert req.specifier.contains(pins[name][0], prereleases=True), \
            f"requirements.lock pins {req.name} {pins[name][0]}, outside {req.specifier} (make lock)"


def test_the_runtime_lock_is_the_runtime_part_of_the_lock():
    full, runtime = locked(LOCK), locked(RUNTIME_LOCK)
    for req in declared():
        assert canonicalize_name(req.name) in runtime, req.name
    for name, (version, hashes) in runtime.items():
        assert name in full and full[name][0] == version, f"{name} {version}: not as in requirements.lock"
        assert hashes
    test_only = {canonicalize_name(r.name) for r in declared("test")} - {
        canonicalize_name(r.name) for r in declared()}
    assert not test_only & set(runtime), "test tools in the image's lock"


def test_the_venv_installs_from_the_lock_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(VENV)/.installed:")[1].split("\nvenv:")[0]
    assert "requirements.lock" in recipe.splitlines()[0]
    assert "--require-hashes -r requirements.lock" in recipe
    assert re.search(r"pip install .*--no-deps .*-e \.", recipe)
    assert "\nlock:" in makefile and "--generate-hashes" in makefile


# -- the image ------------------------------------------------------------------------------

def test_the_image_is_pinned_by_digest_installs_with_hashes_and_runs_as_10001():
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    base = next(line for line in lines if line.startswith("FROM")).split()[1]
    if base.startswith("${"):
        name = base.strip("${}")
        base = next(line for line in lines if line.startswith(f"ARG {name}=")).split("=", 1)[1]
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base), base
    assert "pip install --no-cache-dir --require-hashes -r requirements-runtime.lock" in text
    assert re.search(r"pip install [^\n]*--no-deps[^\n]* \.", text)
    assert re.search(r"useradd [^\n]*--uid 10001", text)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] == "10001"
    assert lines.index(next(line for line in lines if line.startswith("USER "))) > max(
        i for i, line in enumerate(lines) if line.startswith("RUN "))


def test_the_build_context_leaves_out_environments_state_and_caches():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for entry in (".venv", ".lec", ".git", "node_modules", "**/__pycache__", ".pytest_cache",
                  ".mypy_cache", "*.egg-info"):
        assert entry in ignored, entry
    copied = re.findall(r"^COPY (\S+)", (ROOT / "deploy" / "Dockerfile").read_text(), re.M)
    assert copied and not set(copied) & ignored


# -- the vulnerability audit ------------------------------------------------------------------

def allowed(text):
    """``{id: reason}`` of deploy/audit-allow.txt; a line without its reason is refused."""
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ValueError(f"audit-allow.txt line {number}: <id> <package> <reason> expected")
        found[parts[0]] = parts[2]
    return found


def unaccepted(report, allow):
    """The vulnerabilities of pip-audit's JSON report that ``allow`` does not list (by id
    or alias), as ``package version id``; and the packages it could not audit."""
    found, unaudited = [], []
    for dep in report["dependencies"]:
        if "skip_reason" in dep:
            unaudited.append(f"{dep['name']}: {dep['skip_reason']}")
        for vuln in dep.get("vulns", []):
            if not {vuln["id"], *vuln.get("aliases", [])} & set(allow):
                fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
                found.append(f"{dep['name']} {dep['version']} {vuln['id']} (fixed in {fixed})")
    return found, unaudited


def test_the_allow_file_gives_a_reason_for_every_entry():
    allowed(ALLOW.read_text())
    with pytest.raises(ValueError):
        allowed("PYSEC-2024-1 requests\n")
    assert allowed("GHSA-xxxx requests only our own URLs are fetched  # note\n") == {
        "GHSA-xxxx": "only our own URLs are fetched"}


def test_a_vulnerability_not_allowed_is_reported():
    report = {"dependencies": [
        {"name": "requests", "version": "2.0.0", "vulns": [
            {"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["2.1.0"]},
            {"id": "GHSA-2", "aliases": ["CVE-2"], "fix_versions": []}]},
        {"name": "six", "version": "1.0", "vulns": []},
        {"name": "gone", "skip_reason": "Dependency not found on PyPI"}]}
    found, unaudited = unaccepted(report, {"CVE-2": "reason"})
    assert found == ["requests 2.0.0 PYSEC-1 (fixed in 2.1.0)"]
    assert unaudited == ["gone: Dependency not found on PyPI"]
    assert unaccepted(report, {"PYSEC-1": "r", "GHSA-2": "r"})[0] == []


def _per_version_api(name, version):
    """None when PyPI's per-version JSON answers; else why not."""
    url = f"https://pypi.org/pypi/{name}/{version}/json"
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            json.load(resp)
        return None
    except urllib.error.HTTPError as exc:
        return f"{url} answers {exc.code}: this PyPI does not serve the per-version JSON pip-audit reads"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"PyPI's JSON API is unreachable ({url}: {exc})"


def test_no_known_vulnerability_in_the_locked_packages():
    pins = locked(LOCK)
    name, (version, _) = next(iter(pins.items()))
    why = _per_version_api(name, version)
    if why:
        pytest.skip(f"vulnerability audit not possible here: {why}")
    install = subprocess.run(["sh", str(ROOT / "deploy/scripts/ensure-pip-audit.sh")], cwd=ROOT,
                             capture_output=True, text=True)
    if install.returncode:
        reason = f"pip-audit could not be installed: {install.stderr.strip()[-400:]}"
        if os.environ.get("LEC_REQUIRE_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    run = subprocess.run(["sh", str(ROOT / "deploy/scripts/audit.sh"), "--format", "json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        pytest.fail(f"pip-audit gave no report (exit {run.returncode}): {run.stderr.strip()[-800:]}")
    found, unaudited = unaccepted(report, allowed(ALLOW.read_text()))
    assert not unaudited, f"packages pip-audit could not audit: {unaudited}"
    assert len(report["dependencies"]) == len(pins)
    assert not found, ("known vulnerabilities (upgrade them with `make lock UPGRADE=1`, or list "
                       f"them with a reason in deploy/audit-allow.txt): {found}")
