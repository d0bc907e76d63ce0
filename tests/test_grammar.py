"""The one command grammar: every command parses to its type; wrong input gets reason + usage."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from bots import commands as c
from bots.commands import REGISTRY, Command
from bots.grammar import CommandError, parse

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)

VALID = [
    ("/deploy web", c.Deploy("web")),
    ("/deploy web 20261122101500-alice", c.Deploy("web", tag="20261122101500-alice")),
    ("/deploy web to prod", c.Deploy("web", env="prod")),
    ("/deploy web v1.2 to prod rolling", c.Deploy("web", tag="v1.2", env="prod", strategy="rolling")),
    ("/deploy web canary 10%", c.Deploy("web", strategy="canary", weight=10)),
    ("/deploy web canary 10", c.Deploy("web", strategy="canary", weight=10)),
    ("/deploy web v2 canary 25% to prod", c.Deploy("web", tag="v2", env="prod", strategy="canary", weight=25)),
    ("/deploy web preview", c.Deploy("web", strategy="preview")),
    ("/deploy web v9 to prod --break-glass hotfix for INC-42",
     c.Deploy("web", tag="v9", env="prod", break_glass="hotfix for INC-42")),
    ("/deploy web promote", c.DeployControl("web", step="promote")),
    ("/deploy web abort in prod", c.DeployControl("web", step="abort", env="prod")),
    ("deploy web", c.Deploy("web")),  # DingTalk text arrives without the slash
    ("/DEPLOY web", c.Deploy("web")),
    ("/rollback web", c.Rollback("web")),
    ("/rollback web to 7 in prod", c.Rollback("web", revision=7, env="prod")),
    ("/scale web 5", c.Scale("web", replicas=5)),
    ("/scale web 0 in prod", c.Scale("web", replicas=0, env="prod")),
    ("/autoscale web 2-10", c.Autoscale("web", min_replicas=2, max_replicas=10)),
    ("/autoscale web 2-10 cpu=60% in prod", c.Autoscale("web", 2, 10, cpu_percent=60, env="prod")),
    ("/config web", c.Config("web")),
    ("/config api in prod", c.Config("api", env="prod")),
    ("/status web", c.Status("web")),
    ("/status web in prod", c.Status("web", env="prod")),
    ("/history web", c.History("web")),
    ("/logs web", c.Logs("web")),
    ("/logs web --tail 20 in prod", c.Logs("web", tail=20, env="prod")),
    ("/logs web --previous", c.Logs("web", previous=True)),
    ("/logs web --previous --tail 30 in prod", c.Logs("web", tail=30, env="prod", previous=True)),
    ("/logs web --tail 30 --previous", c.Logs("web", tail=30, previous=True)),
    ("/restart web in prod", c.Restart("web", env="prod")),
    ("/events web", c.Events("web")),
    ("/events web --since 30m", c.Events("web", since_seconds=1800)),
    ("/build web", c.Build("web")),
    ("/build web release/1.2", c.Build("web", ref="release/1.2")),
    ("/approve 7f3a9c", c.Approve("7f3a9c")),
    ("/reject 7f3a9c", c.Reject("7f3a9c")),
    ("/reject 7f3a9c not tested on staging", c.Reject("7f3a9c", reason="not tested on staging")),
    ("/silence HighErrorRate 2h", c.Silence("HighErrorRate", 7200)),
    ('/silence KubePodCrashLooping 1d "known issue"', c.Silence("KubePodCrashLooping", 86400, "known issue")),
    ("/silence list", c.SilenceList()),
    ("/silence expire 0b1c2d3e-1111-2222-3333-444455556666",
     c.SilenceExpire("0b1c2d3e-1111-2222-3333-444455556666")),
    ("/freeze prod until 2h", c.Freeze("prod", NOW + timedelta(hours=2))),
    ("/freeze prod until 18:00 release day", c.Freeze("prod", NOW.replace(hour=18), "release day")),
    ("/freeze prod until 09:00", c.Freeze("prod", NOW.replace(hour=9) + timedelta(days=1))),
    ("/freeze test until 2026-12-01T09:00", c.Freeze("test", datetime(2026, 12, 1, 9, tzinfo=timezone.utc))),
    ("/unfreeze prod", c.Unfreeze("prod")),
    ("/schedule list", c.ScheduleList()),
    ("/schedule cancel s1a2b3c", c.ScheduleCancel("s1a2b3c")),
    ("/deploy web v2 to prod at 22:00", c.Deploy("web", "v2", "prod", at=NOW.replace(hour=22))),
    ("/deploy web v2 in 2h", c.Deploy("web", "v2", at=NOW + timedelta(hours=2))),
    ("/deploy web v2 canary 10,30,60% every 10m", c.Deploy("web", "v2", strategy="canary", weight=10,
                                                           steps=(10, 30, 60), every_seconds=600)),
    ("/deploy web v2 to prod canary plan", c.Deploy("web", "v2", "prod", strategy="canary", catalog_plan=True)),
    ("/deploy web pause in prod", c.DeployControl("web", "pause", "prod")),
    ("/help", c.Help()),
    ("/help deploy", c.Help("deploy")),
    ("/help /scale", c.Help("scale")),
]


@pytest.mark.parametrize("text,expected", VALID, ids=[t for t, _ in VALID])
def test_valid_commands_parse_to_their_type(text, expected):
    assert parse(text, NOW) == expected


def test_every_documented_command_has_a_valid_example():
    verbs = {type(cmd).verb for _, cmd in VALID}
    assert verbs == set(REGISTRY)


INVALID = [
    ("/deploy web canary 150%", "canary weight must be 1–99%", "deploy"),
    ("/deploy web canary 0%", "canary weight must be 1–99%", "deploy"),
    ("/deploy web canary -5%", "canary weight must be 1–99%", "deploy"),
    ("/deploy web canary ten", "percentage", "deploy"),
    ("/deploy web canary", "missing canary weight", "deploy"),
    ("/deploy Web_Bad", "not a service name", "deploy"),
    ("/deploy", "missing service name", "deploy"),
    ("/deploy web to Staging!", "'Staging!' is not an environment name", "deploy"),
    ("/deploy web to", "missing environment", "deploy"),
    ("/deploy web v1 v2", "unexpected 'v2'", "deploy"),
    ("/deploy web tag:with:colons", "not an image tag", "deploy"),
    ("/deploy web promote now", "unexpected 'now'", "deploy"),
    ("/deploy web rolling canary 5%", "unexpected 'canary'", "deploy"),
    ("/deploy web v9 to prod --break-glass", "--break-glass needs a reason", "deploy"),
    ("/scale web -1", "replicas must be a whole number 0–200", "scale"),
    ("/scale web 201", "replicas must be a whole number 0–200", "scale"),
    ("/scale web three", "replicas must be a whole number", "scale"),
    ("/scale web", "missing number of replicas", "scale"),
    ("/scale web 2 in 9qa", "'9qa' is not an environment name", "scale"),
    ("/rollback web to latest", "revision must be a whole number", "rollback"),
    ("/rollback web to 0", "revision must be a whole number", "rollback"),
    ("/autoscale web 10-2", "1 ≤ min ≤ max ≤ 200", "autoscale"),
    ("/autoscale web 0-5", "1 ≤ min ≤ max ≤ 200", "autoscale"),
    ("/autoscale web 5", "must look like 2-10", "autoscale"),
    ("/autoscale web 2-5 cpu=150%", "cpu target must be 1–100%", "autoscale"),
    ("/status", "missing service name", "status"),
    ("/status web extra", "unexpected 'extra'", "status"),
    ("/logs web --tail 0", "--tail must be a whole number 1–1000", "logs"),
    ("/logs web --tail", "missing number of lines", "logs"),
    ("/logs web --previous --previous", "--previous is given twice", "logs"),
    ("/logs web --tail 5 --tail 9", "--tail is given twice", "logs"),
    ("/events web --since forever", "not a duration", "events"),
    ("/events web --since 30d", "out of range", "events"),
    ("/build web ../etc/passwd", "not a git branch", "build"),
    ("/approve", "missing approval id", "approve"),
    ("/approve X!", "not an approval id", "approve"),
    ("/silence HighErrorRate", "missing duration", "silence"),
    ("/silence HighErrorRate 2 hours", "not a duration", "silence"),
    ("/silence HighErrorRate 90d", "out of range", "silence"),
    ("/silence expire 42", "not a silence id", "silence"),
    ("/silence 'bad name' 1h", "not an alert name", "silence"),
    ("/freeze prod", "missing 'until <time>'", "freeze"),
    ("/freeze prod until yesterday", "is not a time", "freeze"),
    ("/freeze prod until 2020-01-01", "in the past", "freeze"),
    ("/freeze prod until 25:00", "not a time of day", "freeze"),
    ("/unfreeze", "missing environment", "unfreeze"),
    ("/help frobnicate", "no command /frobnicate", "help"),
]


@pytest.mark.parametrize("text,reason,verb", INVALID, ids=[t for t, _, _ in INVALID])
def test_wrong_commands_get_one_line_reason_and_usage(text, reason, verb):
    with pytest.raises(CommandError) as err:
        parse(text, NOW)
    assert reason in err.value.reason
    assert "\n" not in err.value.reason
    assert err.value.usage == REGISTRY[verb].usage
    assert str(err.value) == f"{err.value.reason}\nusage: {REGISTRY[verb].usage}"


@pytest.mark.parametrize("text,reason", [
    ("", "empty command"),
    ("   ", "empty command"),
    ("/frobnicate web", "unknown command '/frobnicate'"),
    ("/deploy 'web", "check your quotes"),
    ("/status " + "w" * 3000, "the limit is 2000"),
])
def test_unusable_text_gets_a_reason(text, reason):
    with pytest.raises(CommandError) as err:
        parse(text, NOW)
    assert reason in str(err.value)


def test_commands_survive_the_trip_through_a_job():
    for _, cmd in VALID:
        assert Command.from_dict(cmd.to_dict()) == cmd


@settings(max_examples=1500, deadline=None)
@given(st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(["/deploy", "/scale", "/silence", "/freeze", "/autoscale", "web", "to", "in",
                              "prod", "canary", "10%", "-1", "until", "2h", "18:00", "--tail", "--since",
                              "'", '"', "cpu=", "promote", "expire", "list", "\x00", "é", "99999999999"]),
             max_size=8).map(" ".join),
))
def test_no_input_raises_anything_but_command_error(text):
    try:
        result = parse(text, NOW)
    except CommandError as exc:
        assert exc.reason
        return
    assert isinstance(result, Command)
