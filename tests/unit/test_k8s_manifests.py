"""The Kubernetes manifests (deploy/k8s): every overlay renders with ``kubectl kustomize``,
its built-in kinds validate against the Kubernetes API schema, checkov finds nothing that is
neither fixed nor skipped with a reason, and the structure holds what operating LEC needs
(hardened pods, probes, disruption budgets, autoscalers, secrets from the secret store only).

kubectl comes from Debian's kubernetes-client package, checkov and kubernetes-validate from a
virtualenv of their own (.lec/tools/venv); deploy/scripts/ensure-k8s-tools.sh installs them
(``make test`` runs it first). Without them these tests skip, or fail under
``LEC_REQUIRE_TOOLS=1``.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.launcher import SERVICE_CLASSES
from services.common.settings import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("development", "staging", "production")
TOOLS = ROOT / ".lec" / "tools" / "venv" / "bin"
KUBERNETES_VERSION = "1.30.0"
WORKLOADS = tuple(SERVICES) + ("gateway",)
OPS_PORT = 8001

# a first run may install the tools (about a minute)
pytestmark = pytest.mark.timeout(900)

# The kinds of the operators' CRDs: kubernetes-validate knows only the built-in API, so these
# are checked by the structural tests below instead.
CRD_KINDS = {
    "RabbitmqCluster": "RabbitMQ Cluster Operator",
    "Vhost": "RabbitMQ Messaging Topology Operator",
    "User": "RabbitMQ Messaging Topology Operator",
    "Permission": "RabbitMQ Messaging Topology Operator",
    "Cluster": "CloudNativePG",
    "Database": "CloudNativePG",
    "ScheduledBackup": "CloudNativePG",
    "ExternalSecret": "External Secrets Operator",
    "ScaledObject": "KEDA",
    "TriggerAuthentication": "KEDA",
    "ServiceMonitor": "Prometheus Operator",
    "PrometheusRule": "Prometheus Operator",
}
BUILT_IN_KINDS = {"Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service",
                  "PodDisruptionBudget", "NetworkPolicy", "HorizontalPodAutoscaler"}
# the checks a manifest may skip, each with its reason in a checkov.io/skip<N> annotation
ALLOWED_SKIPS = {"CKV_K8S_35", "CKV_K8S_43"}


def _missing(what):
    message = f"{what} (deploy/scripts/ensure-k8s-tools.sh installs it)"
    if os.environ.get("LEC_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _tool(name):
    """A tool's path; runs the install script once when it is missing."""
    def find():
        if name == "kubectl":
            return shutil.which("kubectl")
        path = TOOLS / name
        return str(path) if path.exists() else None
    found = find()
    if found is None:
        subprocess.run(["sh", str(ROOT / "deploy" / "scripts" / "ensure-k8s-tools.sh")], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
        found = find()
    if found is None:
        _missing(f"no {name}")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{overlay: (rendered file, documents)}"""
    kubectl = _tool("kubectl")
    version = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True,
                             timeout=60)
    minor = re.match(r"\d+", json.loads(version.stdout or "{}").get("clientVersion", {}).get("minor", ""))
    if minor is None or int(minor.group()) < 22:
        _missing(f"kubectl 1.22 or later (its kustomize renders the overlays), not {version.stdout.strip()!r}")
    folder = tmp_path_factory.mktemp("k8s")
    result = {}
    for overlay in OVERLAYS:
        run = subprocess.run([kubectl, "kustomize", str(K8S / "overlays" / overlay)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        path = folder / f"{overlay}.yaml"
        path.write_text(run.stdout)
        result[overlay] = (path, [d for d in yaml.safe_load_all(run.stdout) if d])
    return result


def of_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def every_overlay(rendered):
    return [(overlay, docs) for overlay, (_, docs) in rendered.items()]


def test_no_secret_object_anywhere(rendered):
    for path in K8S.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not (doc and doc.get("kind") == "Secret"), path
    for overlay, docs in every_overlay(rendered):
        assert not of_kind(docs, "Secret"), overlay
        assert all(d["metadata"].get("namespace") == "lec" for d in docs if d["kind"] != "Namespace")


def test_built_in_kinds_validate_against_the_api_schema(rendered, tmp_path):
    validate = _tool("kubernetes-validate")
    for overlay, docs in every_overlay(rendered):
        kinds = {d["kind"] for d in docs}
        assert kinds <= BUILT_IN_KINDS | set(CRD_KINDS), kinds - BUILT_IN_KINDS - set(CRD_KINDS)
        built_in = [d for d in docs if d["kind"] not in CRD_KINDS]
        assert {d["kind"] for d in built_in} == BUILT_IN_KINDS
        path = tmp_path / f"{overlay}.yaml"
        path.write_text(yaml.safe_dump_all(built_in))
        run = subprocess.run([validate, "-k", KUBERNETES_VERSION, "--strict", "--quiet", str(path)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, f"{overlay}: {run.stdout}{run.stderr}"


def test_checkov_finds_nothing_unfixed_or_unexplained(rendered):
    checkov = _tool("checkov")
    command = [checkov, "--framework", "kubernetes", "--compact", "-o", "json", "--skip-download"]
    for path, _ in rendered.values():
        command += ["-f", str(path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false"))
    report = json.loads(run.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["failed"] == 0
    # it read every overlay's workloads
    checked = {(c["file_path"].rsplit("/", 1)[-1], c["resource"]) for c in report["results"]["passed_checks"]}
    for path, docs in rendered.values():
        for name in of_kind(docs, "Deployment"):
            assert (path.name, f"Deployment.lec.{name}") in checked
    assert report["summary"]["passed"] > 1000
    for skipped in report["results"]["skipped_checks"]:
        assert skipped["check_id"] in ALLOWED_SKIPS, skipped["check_id"]
        assert len(skipped["check_result"].get("suppress_comment") or "") > 20, skipped["check_id"]
        # production runs its image by digest: nothing there skips the digest check
        assert not (skipped["check_id"] == "CKV_K8S_43" and "production" in skipped["file_path"])


def _container_hardened(container):
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert sc["seccompProfile"]["type"] == "RuntimeDefault"
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"} == set(resources["limits"])
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp", "/var/lib/lec"}


def test_every_deployment_is_hardened_spread_and_budgeted(rendered):
    for overlay, docs in every_overlay(rendered):
        namespace = of_kind(docs, "Namespace")["lec"]
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        deployments = of_kind(docs, "Deployment")
        assert set(deployments) == {f"lec-{w}" for w in WORKLOADS}
        budgets = of_kind(docs, "PodDisruptionBudget")
        for name, deployment in deployments.items():
            assert "replicas" not in deployment["spec"], name  # the autoscalers own them
            pod = deployment["spec"]["template"]["spec"]
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert pod["automountServiceAccountToken"] is False
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["securityContext"]["runAsUser"] == 10001
            assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
            assert {v["name"]: "emptyDir" in v for v in pod["volumes"]} == {"tmp": True, "state": True}
            assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
                "topology.kubernetes.io/zone", "kubernetes.io/hostname"}
            for constraint in pod["topologySpreadConstraints"]:
                assert constraint["labelSelector"]["matchLabels"].items() <= labels.items()
            for container in pod["containers"] + pod.get("initContainers", []):
                _container_hardened(container)
                assert container["imagePullPolicy"] == "Always"
            container = pod["containers"][0]
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert probe in container, (name, probe)
            budget = budgets[name]
            assert budget["spec"].get("maxUnavailable") == 1 or budget["spec"].get("minAvailable") == 1
            assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_services_probe_their_own_ops_port_and_migrate_first(rendered):
    for overlay, docs in every_overlay(rendered):
        deployments = of_kind(docs, "Deployment")
        for service in SERVICES:
            pod = deployments[f"lec-{service}"]["spec"]["template"]["spec"]
            container = pod["containers"][0]
            assert SERVICE_CLASSES[service] in container["command"]
            assert container["ports"] == [{"name": "ops", "containerPort": OPS_PORT}]
            for probe, path in (("startupProbe", "/livez"), ("readinessProbe", "/readyz"),
                                ("livenessProbe", "/livez")):
                assert container[probe]["httpGet"] == {"path": path, "port": "ops"}, (service, probe)
            (migrate,) = pod["initContainers"]
            assert migrate["command"] == ["python", "-m", "services.common.migrate", service]
            assert migrate["image"] == container["image"]
            for each in (migrate, container):
                env = {e["name"]: e for e in each["env"]}
                # its own database only, from the Secret the secret store fills
                db_urls = {n for n in env if n.endswith("_DB_URL")}
                assert db_urls == {f"{service.upper()}_DB_URL"}
                ref = env[f"{service.upper()}_DB_URL"]["valueFrom"]["secretKeyRef"]
                assert ref == {"name": f"lec-db-{service}", "key": "uri"}
            assert [e["name"] for e in migrate["env"]] == [f"{service.upper()}_DB_URL"]
            assert migrate["envFrom"] == [{"configMapRef": {"name": "lec-config"}}]
            env = {e["name"]: e for e in container["env"]}
            names = list(env)  # $(VAR) expands only variables defined above it
            assert names.index("RABBITMQ_USERNAME") < names.index("AMQP_URI")
            assert names.index("RABBITMQ_PASSWORD") < names.index("AMQP_URI")
            assert env["AMQP_URI"]["value"].startswith("pyamqp://$(RABBITMQ_USERNAME):$(RABBITMQ_PASSWORD)@")
            assert env["AMQP_URI"]["value"].endswith("/lec")
        gateway = deployments["lec-gateway"]["spec"]["template"]["spec"]["containers"][0]
        assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert gateway["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        # /readyz with the operator token from the pod's env
        assert gateway["readinessProbe"]["exec"]["command"] == ["python", "-m", "gateway.probe"]
        assert not any(e["name"].endswith("_DB_URL") for e in gateway["env"])
        assert "initContainers" not in deployments["lec-gateway"]["spec"]["template"]["spec"]
        assert not of_kind(docs, "Job")


def test_secrets_come_from_the_store_or_the_operators(rendered):
    generated = {"lec-services-user-credentials"}  # the Topology Operator's, for lec-services
    for overlay, docs in every_overlay(rendered):
        external = of_kind(docs, "ExternalSecret")
        stores = {e["spec"]["secretStoreRef"]["name"] for e in external.values()}
        assert stores == {f"lec-{overlay}"}
        assert {e["spec"]["secretStoreRef"]["kind"] for e in external.values()} == {"ClusterSecretStore"}
        assert {e["apiVersion"] for e in external.values()} == {"external-secrets.io/v1beta1"}
        made = {e["spec"]["target"]["name"] for e in external.values()}
        referenced = set()
        for deployment in of_kind(docs, "Deployment").values():
            pod = deployment["spec"]["template"]["spec"]
            for container in pod["containers"] + pod.get("initContainers", []):
                referenced |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
                referenced |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", [])
                               if "secretKeyRef" in e.get("valueFrom", {})}
        cluster = of_kind(docs, "Cluster")["lec-postgres"]["spec"]
        referenced |= {r["passwordSecret"]["name"] for r in cluster["managed"]["roles"]}
        referenced |= {v["name"] for v in cluster["backup"]["barmanObjectStore"]["s3Credentials"].values()}
        referenced |= {u["spec"]["importCredentialsSecret"]["name"] for u in of_kind(docs, "User").values()
                       if "importCredentialsSecret" in u["spec"]}
        for auth in of_kind(docs, "TriggerAuthentication").values():
            referenced |= {r["name"] for r in auth["spec"]["secretTargetRef"]}
        for monitor in of_kind(docs, "ServiceMonitor").values():
            referenced |= {e["authorization"]["credentials"]["name"] for e in monitor["spec"]["endpoints"]
                           if "authorization" in e}
        assert referenced - made - generated == set(), overlay
        assert made - referenced == set(), overlay
        # the application's secrets are settings, and the ones production checks are there
        keys = {d["secretKey"] for d in external["lec-secrets"]["spec"]["data"]}
        assert keys <= set(Settings.variables())
        assert {"LEC_JWT_SECRET", "LEC_ADMIN_PASSWORD", "LEC_OPS_TOKEN"} <= keys


def test_broker_is_a_three_node_cluster_with_quorum_queues(rendered):
    for overlay, docs in every_overlay(rendered):
        (cluster,) = of_kind(docs, "RabbitmqCluster").values()
        assert cluster["apiVersion"] == "rabbitmq.com/v1beta1"
        assert re.fullmatch(r"rabbitmq:4\.\d+\.\d+(-management)?", cluster["spec"]["image"])
        assert cluster["spec"]["replicas"] == (1 if overlay == "development" else 3)
        assert set(cluster["spec"]["resources"]) == {"requests", "limits"}
        assert of_kind(docs, "PodDisruptionBudget")["lec-rabbitmq"]["spec"]["maxUnavailable"] == 1
        vhost = of_kind(docs, "Vhost")["lec"]["spec"]
        assert vhost == {"name": "lec", "defaultQueueType": "quorum",
                         "rabbitmqClusterReference": {"name": "lec-rabbitmq"}}
        permissions = {p["spec"]["userReference"]["name"]: p["spec"] for p in of_kind(docs, "Permission").values()}
        assert set(permissions) == set(of_kind(docs, "User")) == {"lec-services", "lec-keda"}
        assert all(p["vhost"] == "lec" for p in permissions.values())


def test_one_database_cluster_with_a_database_and_role_per_service_and_backups(rendered):
    for overlay, docs in every_overlay(rendered):
        (cluster,) = of_kind(docs, "Cluster").values()
        spec = cluster["spec"]
        assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
        assert spec["instances"] == (1 if overlay == "development" else 3)
        assert {r["name"] for r in spec["managed"]["roles"]} == set(SERVICES)
        assert all(r["login"] and r["passwordSecret"]["name"] == f"lec-db-{r['name']}"
                   for r in spec["managed"]["roles"])
        databases = {d["spec"]["name"]: d["spec"] for d in of_kind(docs, "Database").values()}
        assert set(databases) == set(SERVICES)
        for name, database in databases.items():
            assert database["owner"] == name and database["cluster"]["name"] == cluster["metadata"]["name"]
        store = spec["backup"]["barmanObjectStore"]
        assert store["destinationPath"] == f"s3://lec-backups-{overlay}/lec-postgres"
        assert "wal" in store and spec["backup"]["retentionPolicy"]
        (backup,) = of_kind(docs, "ScheduledBackup").values()
        assert backup["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
        assert backup["spec"]["method"] == "barmanObjectStore"
        assert len(backup["spec"]["schedule"].split()) == 6  # seconds first: once a day
        # the URLs point at the primary's -rw service
        for service in SERVICES:
            template = of_kind(docs, "ExternalSecret")[f"lec-db-{service}"]["spec"]["target"]["template"]
            assert re.fullmatch(rf"postgresql://{service}:\{{\{{ \.password \| urlquery \}}\}}"
                                rf"@lec-postgres-rw:5432/{service}\?sslmode=require", template["data"]["uri"])


def test_every_service_scales_on_its_rpc_queue_and_the_gateway_on_cpu(rendered):
    for overlay, docs in every_overlay(rendered):
        scaled = of_kind(docs, "ScaledObject")
        assert set(scaled) == {f"lec-{s}" for s in SERVICES}
        auth = of_kind(docs, "TriggerAuthentication")
        for service in SERVICES:
            spec = scaled[f"lec-{service}"]["spec"]
            assert spec["scaleTargetRef"]["name"] == f"lec-{service}"
            assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
            (trigger,) = spec["triggers"]
            assert trigger["type"] == "rabbitmq"
            assert trigger["metadata"]["queueName"] == f"rpc-{service}"
            assert trigger["metadata"]["vhostName"] == "lec"
            assert trigger["authenticationRef"]["name"] in auth
        hpa = of_kind(docs, "HorizontalPodAutoscaler")["lec-gateway"]["spec"]
        assert hpa["scaleTargetRef"]["name"] == "lec-gateway"
        assert hpa["metrics"][0]["resource"]["name"] == "cpu"


def test_network_policies_deny_by_default_and_open_only_what_is_needed(rendered):
    def ports(rules):
        return {(p.get("protocol", "TCP"), p["port"]) for rule in rules for p in rule.get("ports", [])}

    for overlay, docs in every_overlay(rendered):
        policies = of_kind(docs, "NetworkPolicy")
        deny = policies["lec-default-deny"]["spec"]
        (selector,) = deny["podSelector"]["matchExpressions"]
        assert selector["key"] == "app.kubernetes.io/name" and selector["operator"] == "In"
        assert set(selector["values"]) == set(WORKLOADS)
        assert set(deny["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny and "egress" not in deny

        def selects(policy, workload):
            selector = policy["spec"]["podSelector"]
            if "matchLabels" in selector:
                return selector["matchLabels"].get("app.kubernetes.io/name") == workload
            return any(workload in e["values"] for e in selector["matchExpressions"])

        dns = {("UDP", 53), ("TCP", 53)}
        for workload in WORKLOADS:
            mine = [p for name, p in policies.items() if name != "lec-default-deny" and selects(p, workload)]
            egress = ports(r for p in mine for r in p["spec"].get("egress", []))
            ingress = ports(r for p in mine for r in p["spec"].get("ingress", []))
            if workload == "gateway":
                assert egress == {("TCP", 5672)} | dns
                assert ingress == {("TCP", 8000)}
            else:
                assert egress == {("TCP", 5672), ("TCP", 5432)} | dns
                assert ingress == {("TCP", OPS_PORT)}
            sources = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                       for p in mine for r in p["spec"].get("ingress", []) for peer in r["from"]}
            assert sources == ({"ingress-nginx", "monitoring"} if workload == "gateway" else {"monitoring"})


def test_production_pins_the_image_by_digest(rendered):
    digest = re.compile(r"[^@:]+@sha256:[0-9a-f]{64}")
    for overlay, docs in every_overlay(rendered):
        images = {c["image"] for d in of_kind(docs, "Deployment").values()
                  for c in d["spec"]["template"]["spec"]["containers"] + d["spec"]["template"]["spec"].get(
                      "initContainers", [])}
        assert len(images) == 1, images
        (image,) = images
        assert bool(digest.fullmatch(image)) == (overlay == "production"), (overlay, image)


def test_every_workload_is_scraped_and_alerted_on(rendered):
    for overlay, docs in every_overlay(rendered):
        monitors = of_kind(docs, "ServiceMonitor")
        services = of_kind(docs, "Service")
        assert set(monitors) == {f"lec-{w}" for w in WORKLOADS}
        for workload in WORKLOADS:
            (endpoint,) = monitors[f"lec-{workload}"]["spec"]["endpoints"]
            assert endpoint["path"] == "/metrics"
            selector = monitors[f"lec-{workload}"]["spec"]["selector"]["matchLabels"]
            chosen = [s for s in services.values() if selector.items() <= s["metadata"]["labels"].items()]
            assert [p["name"] for s in chosen for p in s["spec"]["ports"]] == [endpoint["port"]]
            assert endpoint["port"] == ("http" if workload == "gateway" else "ops")
        assert monitors["lec-gateway"]["spec"]["endpoints"][0]["authorization"]["credentials"] == {
            "name": "lec-secrets", "key": "LEC_OPS_TOKEN"}
        (rule,) = of_kind(docs, "PrometheusRule").values()
        assert rule["spec"]["groups"] and all(g["rules"] for g in rule["spec"]["groups"])


def test_the_prometheus_rule_carries_the_alerts_file():
    alerts = ROOT / "deploy" / "observability" / "alerts.yaml"
    if not alerts.exists():
        pytest.skip("deploy/observability/alerts.yaml does not exist (yet)")
    rule = yaml.safe_load((K8S / "base" / "alerts.yaml").read_text())
    assert rule["spec"]["groups"] == yaml.safe_load(alerts.read_text())["groups"], (
        "copy deploy/observability/alerts.yaml's groups into deploy/k8s/base/alerts.yaml's spec.groups")
