"""Rules load into typed models; a bad file stops start-up with file:line: reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rules import RulesError, load_rules

ROOT = Path(__file__).resolve().parent.parent


def test_example_rules_cover_three_languages_two_teams_test_and_prod(example_rules):
    services = example_rules.catalog.services
    assert len(services) >= 3
    assert len({s.language for s in services.values()}) >= 3
    assert len({s.team for s in services.values()}) >= 2
    assert all({"test", "prod"} <= set(s.environments) for s in services.values())
    assert example_rules.catalog.services["web"].environments["prod"].approval == "required"


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    for name in ("catalog.yaml", "routing.yaml", "policy.yaml"):
        shutil.copy(ROOT / "rules" / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize("file,old,new,needle,reason", [
    ("catalog.yaml", "replicas: 4,", "replicas: lots,", "replicas: lots", "valid integer"),
    ("catalog.yaml", "language: go", "language: cobol", "language: cobol", "Input should be"),
    ("catalog.yaml", "resources: 1C2G}", "resources: big}", "resources: big", "not like 1C1G"),
    ("catalog.yaml", "namespace: pay-test", "namespace: Pay_Test", "Pay_Test", "not a valid Kubernetes namespace"),
    ("catalog.yaml", "    port: 3000", "    prot: 3000", "prot: 3000", "Extra inputs are not permitted"),
    ("catalog.yaml", "approval: required, min_ready: 2}", "approval: maybe, min_ready: 2}", "approval: maybe",
     "'none' or 'required'"),
    ("policy.yaml", "{role: tester}", "{role: qa}", "{role: qa}", "role 'qa', which is not under roles"),
    ("routing.yaml", "to: [oncall]", "to: [pager]", None, "channel 'pager', which is not under channels"),
    ("catalog.yaml", "    channel: payments", "    channel: nowhere", "channel: nowhere",
     "channel 'nowhere' is not defined"),
    ("catalog.yaml", 'schedule: "30 2 * * *"', 'schedule: "30 25 * * *"', 'schedule: "30 25',
     "schedule '30 25 * * *': hour '25' is not a value 0–23"),
    ("catalog.yaml", "    kind: cronjob", "    kind: deployment", "  reconcile:",
     "schedule, concurrency_policy, starting_deadline_seconds, successful_jobs_history_limit, "
     "failed_jobs_history_limit are for scheduled jobs: add kind: cronjob, or remove them"),
    ("catalog.yaml", 'schedule: "30 2 * * *"', "router: nginx", "  reconcile:",
     "a kind: cronjob service needs a schedule"),
])
def test_invalid_rules_name_file_line_and_reason(rules_dir, file, old, new, needle, reason):
    _edit(rules_dir / file, old, new)
    with pytest.raises(RulesError) as err:
        load_rules(rules_dir)
    message = str(err.value)
    assert message.startswith(f"{rules_dir / file}:")
    assert reason in message
    if needle:
        assert message.split(":")[1] == str(_line_of(rules_dir / file, needle))


def test_broken_yaml_names_the_line(rules_dir):
    path = rules_dir / "policy.yaml"
    lines = path.read_text().splitlines()
    lines[12] = "  oops: [unclosed"
    path.write_text("\n".join(lines))
    with pytest.raises(RulesError, match=r"policy.yaml:\d+: not valid YAML"):
        load_rules(rules_dir)


def test_missing_file_is_named(rules_dir):
    (rules_dir / "routing.yaml").unlink()
    with pytest.raises(RulesError, match="routing.yaml: missing"):
        load_rules(rules_dir)


def test_service_with_unknown_team_is_refused(rules_dir):
    _edit(rules_dir / "catalog.yaml", "team: payments\n", "team: growth\n")
    with pytest.raises(RulesError, match="names team 'growth'"):
        load_rules(rules_dir)


@pytest.mark.parametrize("channel,reason", [
    ("{sink: slack}", "a slack channel: channel: Field required"),
    ("{sink: dingtalk, robot: ''}", "a dingtalk channel: robot: needs `robot:`"),
    ("{sink: slack, channel: C1, robot: x}", "a slack channel: robot: Extra inputs are not permitted"),
    ("{sink: pager}", "unknown sink 'pager'; known: console, slack, dingtalk"),
])
def test_each_sink_checks_its_own_address_with_the_line(tmp_path, channel, reason):
    for name in ("catalog.yaml", "policy.yaml"):
        shutil.copy(ROOT / "rules" / name, tmp_path / name)
    text = (ROOT / "rules" / "routing.yaml").read_text().replace("oncall:     {sink: console}", f"oncall: {channel}")
    (tmp_path / "routing.yaml").write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip().startswith("oncall:"))
    with pytest.raises(RulesError) as err:
        load_rules(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'routing.yaml'}:{line}: channels.oncall")
    assert reason in str(err.value)
