"""The compose file names every part, with health checks and the migrate step."""
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from deploy.launcher import SERVICE_CLASSES
from services.common.settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def compose():
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_names_every_service_with_health_checks():
    doc = compose()["services"]
    existing = {p.name for p in (ROOT / "services").iterdir() if (p / "service.py").exists()}
    assert existing == set(SERVICES) == set(SERVICE_CLASSES)
    for name in list(SERVICES) + ["gateway", "rabbitmq", "postgres"]:
        assert name in doc, name
        assert "healthcheck" in doc[name], name
    for name in SERVICES:
        assert SERVICE_CLASSES[name] in doc[name]["command"]
        assert doc[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert doc[name]["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert doc["migrate"]["command"][-1] == "services.common.migrate"
    assert doc["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(doc["gateway"]["depends_on"]) == set(SERVICES)


def test_compose_file_is_valid_against_the_compose_spec():
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the compose specification schema (docker-compose package) is not installed")
    schema_path = Path(list(spec.submodule_search_locations)[0]) / "config" / "compose_spec.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(compose(), schema)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_config_accepts_the_file():
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], cwd=ROOT,
                            capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stderr



# the Kubernetes manifests: tests/unit/test_k8s_manifests.py
