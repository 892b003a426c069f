"""deploy/observability: the Prometheus alert rules pass `promtool check rules`
and their unit tests (`promtool test rules`: a service that stops answering, an
outbox that stops publishing), each alert says what to do; the Grafana
dashboard parses and its queries name only the metrics the system exports."""
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT

OBS = ROOT / "deploy" / "observability"
ALERTS = OBS / "alerts.yaml"
DASHBOARD = OBS / "dashboard.json"
OPERATIONS = ROOT / "docs" / "operations.md"

# what the gateway's /metrics and each service's own metrics export
METRICS = {
    "lec_rpc_duration_seconds", "lec_workers_busy", "lec_workers_max", "lec_outbox_backlog",
    "lec_outbox_oldest_age_seconds", "lec_failed_events", "lec_db_pool_checked_out", "lec_db_pool_size",
    "lec_http_requests_total", "lec_http_request_duration_seconds", "lec_service_up",
}
HISTOGRAMS = {"lec_rpc_duration_seconds", "lec_http_request_duration_seconds"}
SERIES = METRICS | {f"{h}_{s}" for h in HISTOGRAMS for s in ("bucket", "count", "sum")}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
            "bool", "offset", "inf", "nan"}


def promtool():
    """promtool: installed by deploy/scripts/ensure-promtool.sh when it can be;
    the test skips without it, and fails under LEC_REQUIRE_TOOLS=1."""
    script = ROOT / "deploy" / "scripts" / "ensure-promtool.sh"
    if script.exists():
        subprocess.run(["sh", str(script)], cwd=ROOT, check=False, timeout=600)
    found = shutil.which("promtool")
    for candidate in (ROOT / ".lec" / "tools" / "bin" / "promtool",):
        if not found and candidate.exists():
            found = str(candidate)
    if not found:
        reason = "promtool is not installed (deploy/scripts/ensure-promtool.sh, Debian's prometheus package)"
        if os.environ.get("LEC_REQUIRE_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def run(*args):
    done = subprocess.run([promtool(), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def metric_names(expr):
    """The series an expression selects: what is left of it without strings,
    label matchers, ranges, grouping labels, functions and keywords."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[match.end():].lstrip()
        if rest.startswith("(") or match[0].lower() in KEYWORDS:
            continue
        if match.start() > 0 and (expr[match.start() - 1].isdigit() or expr[match.start() - 1] == "."):
            continue  # 2e3, 0.95
        names.add(match[0])
    return names


def rules():
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def anchors(markdown):
    """The anchors GitHub gives a document's headings."""
    found = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_promtool_checks_the_rules():
    status, output = run("check", "rules", str(ALERTS))
    assert status == 0, output
    assert f"SUCCESS: {len(rules())} rules found" in output


def test_promtool_unit_tests_of_the_rules_pass():
    """A service down for 2 minutes fires LecServiceDown, an outbox older than a
    minute for 5 minutes LecOutboxStuck (and not a minute before)."""
    status, output = run("test", "rules", str(OBS / "alerts_test.yaml"))
    assert status == 0, output
    assert "SUCCESS" in output


def test_promtool_finds_a_broken_rule(tmp_path):
    """The check itself can fail: a rule with a syntax error is refused."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: sum(rate(lec_failed_events[5m])\n")
    status, output = run("check", "rules", str(broken))
    assert status != 0


def test_the_required_alerts_with_their_thresholds():
    by_name = {rule["alert"]: rule for rule in rules()}
    expected = {
        "LecServiceDown": ("lec_service_up == 0", "2m"),
        "LecOutboxStuck": ("lec_outbox_oldest_age_seconds) > 60", "5m"),
        "LecFailedEvents": ("lec_failed_events) > 0", "10m"),
        "LecHttpErrors": ('/ sum(rate(lec_http_requests_total[5m])) > 0.02', "5m"),
        "LecHttpSlow": ("histogram_quantile(0.95, sum by (le, route) "
                        "(rate(lec_http_request_duration_seconds_bucket[5m]))) > 2", "10m"),
        "LecWorkersSaturated": ("avg by (service) (lec_workers_busy / lec_workers_max) > 0.8", "10m"),
    }
    for name, (expr, duration) in expected.items():
        assert name in by_name, name
        assert expr in " ".join(by_name[name]["expr"].split()), name
        assert by_name[name]["for"] == duration, name
    assert 'lec_http_requests_total{status=~"5.."}' in by_name["LecHttpErrors"]["expr"]


def test_every_alert_says_what_and_where_the_runbook_is():
    documented = anchors(OPERATIONS.read_text())
    for rule in rules():
        notes = rule["annotations"]
        assert notes["summary"].strip() and notes["description"].strip(), rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        path, _, anchor = notes["runbook_url"].partition("#")
        assert path == "docs/operations.md" and anchor in documented, rule["alert"]


def test_the_alerts_name_only_exported_metrics():
    for rule in rules():
        assert metric_names(rule["expr"]) <= SERIES | {"up"}, rule["alert"]


def test_the_metric_names_are_read_from_an_expression():
    assert metric_names('histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{a="b"}[5m]))) > 2') == {"x_bucket"}
    assert metric_names("avg by (service) (a / b) > 0.8 and on(service) c offset 5m") == {"a", "b", "c"}


def dashboard_targets(dashboard):
    for panel in dashboard["panels"]:
        for inner in [panel] + panel.get("panels", []):
            for target in inner.get("targets", []):
                yield inner, target


def test_the_dashboard_parses_and_queries_exported_metrics_only():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 39
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    used = set()
    targets = list(dashboard_targets(dashboard))
    assert len(targets) >= 10
    for panel, target in targets:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        names = metric_names(target["expr"])
        assert names and names <= SERIES, (panel["title"], names - SERIES)
        used |= names
    for variable in variables.values():
        if variable["type"] == "query":
            metric = re.fullmatch(r"label_values\((\w+), *\w+\)", variable["definition"])
            assert metric and metric[1] in SERIES, variable["name"]
    # request rate, 5xx and p95 per route; RPC p95; workers; outbox; failed events; DB pool
    assert {"lec_http_requests_total", "lec_http_request_duration_seconds_bucket",
            "lec_rpc_duration_seconds_bucket", "lec_workers_busy", "lec_workers_max", "lec_outbox_backlog",
            "lec_outbox_oldest_age_seconds", "lec_failed_events", "lec_db_pool_checked_out",
            "lec_db_pool_size", "lec_service_up"} <= used
    titles = " ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for word in ("5xx", "p95 latency by route", "rpc p95", "workers busy", "outbox backlog",
                 "outbox oldest age", "failed events", "db pool"):
        assert word in titles, word


def test_the_dashboard_queries_are_valid_promql(tmp_path):
    """Each panel's query, with Grafana's variables filled in, as a recording rule
    that promtool checks."""
    dashboard = json.loads(DASHBOARD.read_text())
    records = []
    for i, (panel, target) in enumerate(dashboard_targets(dashboard)):
        expr = (target["expr"].replace("$__rate_interval", "5m")
                .replace("$service", ".*").replace("$route", ".*"))
        assert "$" not in expr, panel["title"]
        records.append({"record": f"lec:dashboard:{i}", "expr": expr})
    path = tmp_path / "dashboard_rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    status, output = run("check", "rules", str(path))
    assert status == 0, output
