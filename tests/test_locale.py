"""What a team reads in its own language and time zone: labels per channel locale, dated times, the prefix."""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from bots import approval_messages, build_messages, rollout_messages
from bots.alert_messages import Alert, AlertGroup, render
from bots.console.sink import FEED
from bots.dingtalk import markdown
from bots.event_messages import events_message
from bots.feishu import card as feishu_card
from bots.i18n import moment
from bots.incident_messages import incident_message
from bots.message import Message
from bots.pipeline import ChatRequest, submit
from bots.plaintext import to_text
from bots.wecom import markdown as wecom_markdown
from core import runtime
from core.config import ConfigError, Settings, from_env
from core.runtime import Runtime
from jobs import incidents
from rules import RulesError, load_rules, routing
from state import freezes, schedules
from tests.fakes.dingtalk_api import DingTalkAPI

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = "Asia/Shanghai"
OOM_AT = "2026-12-04T11:41:07Z"  # 19:41:07 in Shanghai
OOM = {"reason": "OOMKilled", "service": "ledger", "env": "prod", "team": "payments", "status": "open", "count": 1,
       "first": 1_800_000_000, "last": 1_800_000_000,
       "last_finding": {"pod": "ledger-7d9-x2k", "node_ip": "10.0.3.7", "container": "ledger", "exit_code": 137,
                        "reason": "OOMKilled", "restarts": 4, "at": OOM_AT,
                        "detail": "the container used more memory than its limit"}}


def labels(message: Message) -> list[str]:
    return [key for key, _ in message.fields]


def test_the_oom_message_follows_the_seed_teams_order_in_chinese():
    message = incident_message(OOM, 1, 2, [], [], 1_800_000_060, "zh-CN", SHANGHAI)
    assert message.title == "应用不健康：ledger（prod）OOMKilled，1/2 个实例不健康"
    # seeds/004: 应用名, 所属项目, 不健康实例数, 总实例数, 节点 ip, 容器退出 (ExitCode, 原因), 时间
    assert labels(message)[:7] == ["应用名", "所属项目", "不健康实例数", "总实例数", "节点 ip", "容器退出", "时间"]
    assert dict(message.fields) == {
        "应用名": "ledger", "所属项目": "payments", "不健康实例数": "1", "总实例数": "2", "节点 ip": "10.0.3.7",
        "容器退出": "ExitCode 137, 原因 OOMKilled", "时间": "2026-12-04 19:41:07 CST",
        "实例": "ledger-7d9-x2k", "容器": "ledger", "重启次数": "4"}
    assert [b.label for b in message.buttons] == ["回滚", "重启", "静默 1 小时", "事件"]
    assert [b.value for b in message.buttons][0] == "/rollback ledger in prod"  # commands stay the grammar's


def test_the_oom_message_has_the_same_order_in_english_with_a_dated_time():
    message = incident_message(OOM, 1, 2, [], [], 1_800_000_060, "en", SHANGHAI)
    assert message.title == "ledger (prod): OOMKilled, 1/2 instances unhealthy"
    assert labels(message) == ["app", "project", "unhealthy instances", "total instances", "node IP",
                               "container exit", "time", "pod", "container", "restarts"]
    assert dict(message.fields)["container exit"] == "ExitCode 137, reason OOMKilled"
    assert dict(message.fields)["time"] == "2026-12-04 19:41:07 CST"  # never a bare UTC 11:41:07
    assert "why: the container used more memory than its limit" in message.lines  # Kubernetes' words as they came


def test_a_resolved_incident_says_when_with_the_date():
    resolved = {**OOM, "status": "resolved", "count": 3, "resolved_at": 1_800_000_000}  # 2027-01-15 08:00 UTC
    assert incident_message(resolved, 0, 0, [], [], 1_800_000_000, "en", SHANGHAI).lines == (
        "OOMKilled ×3, healthy since 2027-01-15 16:00:00 CST",)
    zh = incident_message(resolved, 0, 0, [], [], 1_800_000_000, "zh-CN", SHANGHAI)
    assert zh.title == "已恢复 ledger（prod）：OOMKilled" and "2027-01-15 16:00:00 CST" in zh.lines[0]


@pytest.mark.parametrize("value, zone, shown", [
    (0, "UTC", "1970-01-01 00:00:00 UTC"),
    (OOM_AT, SHANGHAI, "2026-12-04 19:41:07 CST"),
    ("2026-12-04T11:41:07.123456789Z", SHANGHAI, "2026-12-04 19:41:07 CST"),  # Alertmanager's nanoseconds
    ("2026-12-31T23:30:00Z", SHANGHAI, "2027-01-01 07:30:00 CST"),  # the date changes too
    (0, "Asia/Dubai", "1970-01-01 04:00:00 +04:00"),  # a zone without an abbreviation shows its offset
    ("not a time", SHANGHAI, "not a time"),
])
def test_times_carry_the_date_and_the_zone(value, zone, shown):
    assert moment(value, zone) == shown


def group(status: str = "firing") -> AlertGroup:
    alert = Alert(status=status, labels={"alertname": "HighErrorRate", "service": "ledger", "namespace": "payments",
                                         "pod": "ledger-1"},
                  annotations={"summary": "5xx above 5%"}, starts_at="2026-12-04T11:00:00.5Z",
                  ends_at="0001-01-01T00:00:00Z", generator_url="http://prometheus.local/graph", fingerprint="a1b2")
    return AlertGroup(group_key="{}:{alertname=\"HighErrorRate\"}", status=status, receiver="dockyard",
                      group_labels={"alertname": "HighErrorRate"}, common_labels={"alertname": "HighErrorRate",
                                                                                  "severity": "critical"},
                      common_annotations={"summary": "5xx above 5%"}, external_url="http://alertmanager.local",
                      truncated=0, alerts=(alert,))


def test_alerts_read_in_the_channels_language_and_zone():
    en = render(group(), "en", SHANGHAI)
    assert en.title == "[FIRING:1] HighErrorRate"
    assert en.lines[-1] == "🔥 namespace=payments pod=ledger-1 (since 2026-12-04 19:00:00 CST)"
    zh = render(group(), "zh-CN", SHANGHAI)
    assert zh.title == "[告警中:1] HighErrorRate"
    assert zh.lines[0] == "5xx above 5%"  # Alertmanager's text stays as it came
    assert zh.lines[-1] == "🔥 namespace=payments pod=ledger-1（开始于 2026-12-04 19:00:00 CST）"
    assert [b.label for b in zh.buttons] == ["静默 1 小时", "图表", "Alertmanager"]
    assert zh.buttons[0].value == "/silence HighErrorRate 1h"
    assert render(group("resolved"), "zh-CN", SHANGHAI).title == "[已恢复] HighErrorRate"


def test_rollouts_approvals_and_builds_in_chinese():
    summary = {"updated": 1, "ready": 0, "desired": 2}
    progress = rollout_messages.progress("ledger", "prod", "rolling update to v2", summary, locale="zh-CN")
    assert progress.fields == (("进度", "1/2 已更新，0/2 就绪"),) and progress.footer == "本消息随发布进度更新"
    done = rollout_messages.done("ledger", "prod", "rolling update to v2", {**summary, "ready": 2}, 41.6,
                                 locale="zh-CN")
    assert done.title == "ledger（prod）：滚动更新到 v2 — 完成，用时 42 秒"  # what a job wrote, read in Chinese
    approval = {"id": "ab12cd", "requester": "alice", "service": "ledger", "env": "prod", "image": "reg/ledger:v2",
                "strategy_text": "rolling", "expires": 1_800_003_600, "approver_roles": ["sre"], "tag": "v2"}
    request = approval_messages.request(approval, "zh-CN", SHANGHAI)
    assert request.title == "审批 ab12cd：ledger 发布到 prod"
    assert dict(request.fields)["过期时间"] == "2027-01-15 17:00:00 CST"
    assert [b.label for b in request.buttons] == ["批准", "拒绝"]
    # dated, even in UTC
    assert dict(approval_messages.request(approval).fields)["expires"] == "2027-01-15 09:00:00 UTC"
    facts = build_messages.facts("alice", "0123456789ab", "refs/heads/main", "reg/ledger:v2", 83, False, "java",
                                 "zh-CN")
    built = build_messages.built("ledger", "v2", facts, "job-1", "test", "zh-CN")
    assert built.title == "ledger 构建完成 v2"
    assert dict(built.fields) == {"提交人": "alice", "提交": "01234567", "分支": "main", "镜像": "reg/ledger:v2",
                                  "耗时": "83 秒", "Dockerfile": "java 模板"}


def rules_with(tmp_path: Path, routing_yaml: str) -> Path:
    for name in ("catalog.yaml", "policy.yaml"):
        shutil.copy(ROOT / "rules" / name, tmp_path / name)
    (tmp_path / "routing.yaml").write_text(routing_yaml)
    return tmp_path


ROUTING = """\
channels:
  console:  {sink: console}
  storefront: {sink: slack, channel: C0STORE}
  payments: {sink: console, locale: zh-CN, timezone: Asia/Shanghai}
  oncall:   {sink: console}
routes:
  - match: {team: payments}
    to: [payments]
default: [console]
"""


@pytest.mark.parametrize("setting, reason", [
    ("locale: fr", "'fr' is not a locale Dockyard speaks; use one of: en, zh-CN"),
    ("timezone: China/Beijing", "'China/Beijing' is not an IANA time zone like UTC or Asia/Shanghai"),
])
def test_a_channel_with_an_unknown_locale_or_zone_stops_start_up_with_its_line(tmp_path, setting, reason):
    with pytest.raises(RulesError) as err:
        load_rules(rules_with(tmp_path, ROUTING.replace("locale: zh-CN, timezone: Asia/Shanghai", setting)))
    assert "routing.yaml:4" in str(err.value) and reason in str(err.value)


def test_defaults_come_from_the_settings_and_unknown_ones_are_refused():
    settings = from_env({"DOCKYARD_LOCALE": "zh-CN", "DOCKYARD_TIMEZONE": SHANGHAI})
    assert (settings.locale, settings.timezone, settings.message_prefix) == ("zh-CN", SHANGHAI, "[Dockyard]")
    assert from_env({"DOCKYARD_MESSAGE_PREFIX": "【鲸云】"}).message_prefix == "【鲸云】"
    with pytest.raises(ConfigError, match="DOCKYARD_LOCALE='de' must be one of: en, zh-CN"):
        from_env({"DOCKYARD_LOCALE": "de"})


def test_a_reply_reads_like_the_channel_it_was_asked_in(tmp_path):
    rules = load_rules(rules_with(tmp_path, ROUTING.replace("{sink: slack, channel: C0STORE}",
                                                            "{sink: slack, channel: C0STORE, locale: zh-CN}")))
    default = routing.Style(locale="en", zone="UTC", prefix="[Dockyard]")
    asked_here = {"sink": "slack", "channel": "C0STORE", "user": "U01ALICE"}
    assert routing.style_for(rules, asked_here, default) == routing.Style("zh-CN", "UTC", "[Dockyard]")
    elsewhere = {"sink": "slack", "channel": "C0OTHER", "user": "U01ALICE"}
    assert routing.style_for(rules, elsewhere, default) == default


def test_an_incident_reaches_a_routed_channel_in_its_locale_and_zone(rt, tmp_path):
    live = runtime.install(Runtime(settings=rt.settings, rules=load_rules(rules_with(tmp_path, ROUTING))))
    finding = {"service": "ledger", "env": "prod", "reason": "OOMKilled", "key": f"uid-1:ledger:oom:{time.time()}",
               "pod": "ledger-7d9-x2k", "node_ip": "10.0.3.7", "container": "ledger", "exit_code": 137,
               "restarts": 1, "severity": "critical", "at": OOM_AT}
    assert incidents.record(finding) == "counted"
    [text] = [json.loads(entry[b"payload"])["text"] for _, entry in live.redis.xrange(FEED)]
    assert "应用不健康：ledger（prod）OOMKilled" in text
    assert "时间" in text and "2026-12-04 19:41:07 CST" in text and "11:41:07" not in text


KEYWORD_TOKEN = "tok-keyword"


@pytest.fixture
def keyword_robot():
    api = DingTalkAPI({KEYWORD_TOKEN: ""}, keywords={KEYWORD_TOKEN: ("Dockyard",)}).start()
    yield api
    api.stop()


def test_a_dingtalk_robot_secured_by_keyword_takes_dockyards_messages(rt, work, tmp_path, keyword_robot):
    settings = Settings(**{**rt.settings.model_dump(), "dingtalk_robots": {"payments": SecretStr(
        f"{keyword_robot.url}/robot/send?access_token={KEYWORD_TOKEN}")}})
    yaml = ROUTING.replace("{sink: console, locale: zh-CN, timezone: Asia/Shanghai}",
                           "{sink: dingtalk, robot: payments, locale: zh-CN, timezone: Asia/Shanghai}")
    runtime.install(Runtime(settings=settings, rules=load_rules(rules_with(tmp_path, yaml))))
    url = f"{keyword_robot.url}/robot/send?access_token={KEYWORD_TOKEN}"
    # Without the keyword the robot refuses, as DingTalk does ...
    refused = requests.post(url, json=markdown.payload(Message(title="ledger (prod): OOMKilled")), timeout=5).json()
    assert refused == {"errcode": 310000, "errmsg": "keywords not in content"}
    # ... and every message Dockyard sends starts with its prefix, so the OOM message gets through.
    finding = {"service": "ledger", "env": "prod", "reason": "OOMKilled", "key": f"uid-2:ledger:oom:{time.time()}",
               "node_ip": "10.0.3.7", "exit_code": 137, "severity": "critical", "at": OOM_AT}
    assert incidents.record(finding) == "counted"
    work()
    [sent] = [c for c in keyword_robot.calls if c["kind"] == "robot"]
    assert sent["payload"]["markdown"]["title"].startswith("[Dockyard] 应用不健康：ledger（prod）OOMKilled")
    text = sent["payload"]["markdown"]["text"]
    order = ["应用名", "所属项目", "不健康实例数", "总实例数", "节点 ip", "容器退出", "时间"]
    assert [text.index(f"**{label}**") for label in order] == sorted(text.index(f"**{label}**") for label in order)
    assert "2026-12-04 19:41:07 CST" in text


def test_history_and_crash_times_are_dated_in_the_zone():
    from bots import replies
    from deploy.fetching import Revision

    history = replies.history_message("ledger", "prod", [Revision(7, "reg/ledger:v2", "alice", OOM_AT, "deploy", 3)],
                                      zone=SHANGHAI)
    assert history.lines == ("#7  v2  alice  2026-12-04 19:41:07 CST  deploy  ← current",)
    crash = {"reason": "OOMKilled", "exit_code": 137, "finished": OOM_AT, "restarts": 4}
    logs = replies.logs_message("ledger", "prod", 5, [replies.PodLog("ledger-1", ("boom",), crash)], 4000,
                                previous=True, zone=SHANGHAI)
    assert logs.lines[0] == ("── ledger-1 (previous container: OOMKilled, exit 137, at 2026-12-04 19:41:07 CST, "
                             "restarted 4×)")


def test_quiet_hours_are_read_in_the_channels_zone(tmp_path):
    from datetime import datetime, timezone

    yaml = ROUTING.replace("timezone: Asia/Shanghai}",
                           "timezone: Asia/Shanghai, quiet_hours: {start: '22:00', end: '07:00'}}")
    rules = load_rules(rules_with(tmp_path, yaml))
    labels = {"team": "payments", "severity": "warning"}
    at_23_shanghai = datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc)  # 15:00 UTC is 23:00 in Shanghai
    assert routing.split_quiet(rules, labels, at_23_shanghai) == ([], ["payments"])
    at_noon_shanghai = datetime(2026, 12, 4, 4, 0, tzinfo=timezone.utc)  # 04:00 UTC would be quiet in UTC
    assert routing.split_quiet(rules, labels, at_noon_shanghai) == ([{"sink": "console"}], [])


def _many_events(n: int) -> list[dict]:
    return [{"uid": f"e{i}", "type": "Warning", "reason": "Unhealthy", "message": f"probe {i:03d} failed " + "x" * 400,
             "object": f"ledger-{i}", "reporter": "kubelet", "host": "node-1", "count": 1,
             "at": f"2026-12-04T{10 + i // 60:02d}:{i % 60:02d}:00Z", "env": "prod"} for i in range(n)]


@pytest.mark.parametrize("render", [
    lambda m: markdown.payload(m)["markdown"]["text"],
    lambda m: wecom_markdown.app_payload(m)["markdown"]["content"],
    wecom_markdown.text,
    lambda m: json.dumps(feishu_card.bot_payload(m), ensure_ascii=False),
], ids=["dingtalk", "wecom-app", "wecom-reply", "feishu-bot"])
def test_a_cut_events_answer_keeps_the_newest_and_says_how_many_were_left_out(render):
    message = events_message("ledger", 86400, _many_events(200), locale="zh-CN", zone=SHANGHAI)
    assert len(message.lines) == 50 and message.footer == "另有 150 条更早的未显示"  # the 50 newest, oldest first
    shown = render(message)
    assert "另有 150 条更早的未显示" in shown  # the footer, which the platform's cut leaves alone
    numbers = [int(n) for n in re.findall(r"probe (\d{3}) failed", shown)]
    assert numbers and numbers[-1] == 199, "the newest event was cut"
    assert numbers == list(range(numbers[0], 200))  # what is left is the newest, in order
    [left_out] = re.findall(r"… 为放进一条消息省略了 (\d+) 行更早的内容（显示的是最新的）", shown)  # in the channel's language
    assert int(left_out) == 50 - len(numbers)  # the cut line counts exactly what went


def test_events_fit_the_answering_sinks_budget_newest_first():
    message = events_message("ledger", 86400, _many_events(200), locale="zh-CN", zone=SHANGHAI, budget=2000)
    assert message.lines[-1].count("probe 199 failed")
    kept = len(message.lines)
    assert message.footer == f"另有 {200 - kept} 条更早的未显示"
    assert sum(len(line.encode()) + 1 for line in message.lines) <= 2000


def test_a_cut_history_keeps_the_current_revision():
    from bots import replies
    from deploy.fetching import Revision

    revisions = [Revision(n, f"reg/ledger:v{n}", "alice", OOM_AT, "deploy " + "y" * 900, 3) for n in range(1, 60)]
    text = markdown.payload(replies.history_message("ledger", "prod", revisions, zone=SHANGHAI))["markdown"]["text"]
    assert "← current" in text and "#59" in text and "#1 " not in text
    assert "older lines left out to fit one message" in text


SHANGHAI_CONSOLE = ROUTING.replace(
    "console:  {sink: console}", "console:  {sink: console, locale: zh-CN, timezone: Asia/Shanghai}").replace(
    "{sink: slack, channel: C0STORE}", "{sink: console}")  # no Slack here: every channel is the console


@pytest.fixture
def zh_chat(rt, tmp_path):
    """A console that is a zh-CN channel in Asia/Shanghai, with the real pipeline and workers."""
    from tests.rollout_fixtures import Chat

    return Chat(runtime.install(Runtime(settings=rt.settings, rules=load_rules(rules_with(tmp_path, SHANGHAI_CONSOLE)))))


def test_a_freeze_is_typed_and_read_in_the_channels_zone_and_language(zh_chat):
    # 18:00 typed in a Shanghai channel is 18:00 Shanghai (10:00 UTC), and reads so, dated.
    [started] = zh_chat("dave", "/freeze test until 2099-12-31T18:00 发布周")
    assert started["text"].startswith("⚠ test 封版至 2099-12-31 18:00 CST")
    assert "操作人  dave" in started["text"] and "发布周" in started["text"]
    until = freezes.manual(zh_chat.rt.redis, "test").until
    assert until == datetime(2099, 12, 31, 10, 0, tzinfo=timezone.utc)
    refused = zh_chat("alice", "/restart web")[-1]
    assert refused["refused"] and refused["text"] == ("test 已被 dave 封版，直到 2099-12-31 18:00 CST：发布周；"
                                                      "SRE 可以加上 --break-glass <reason>")
    [lifted] = zh_chat("dave", "/unfreeze test")
    assert lifted["text"] == "✔ test 已由 dave 解除封版（封版人 dave：发布周）"
    accepted = submit(zh_chat.rt, ChatRequest("console", "dave", "/schedule list", {"sink": "console"}))
    assert accepted.message.title == "收到，正在处理：/schedule list"  # the acknowledgement, before the job runs


def test_a_timed_deploy_is_due_in_the_channels_zone_and_listed_in_chinese(zh_chat):
    [scheduled] = zh_chat("alice", "/deploy web v2 at 2099-06-01T14:00")
    assert scheduled["text"].startswith("✔ 已定时 s") and "执行时间 2099-06-01 14:00 CST" in scheduled["text"]
    entry = schedules.pending(zh_chat.rt.redis)[0]
    assert entry.at == datetime(2099, 6, 1, 6, 0, tzinfo=timezone.utc).timestamp()  # 14:00 in Shanghai
    [listing] = zh_chat("alice", "/schedule list")
    assert listing["text"].splitlines()[0] == "ℹ 1 个定时变更等待执行"
    assert f"{entry.id}  2099-06-01 14:00 CST  /deploy web v2" in listing["text"]
    [cancelled] = zh_chat("alice", f"/schedule cancel {entry.id}")
    assert cancelled["text"].startswith(f"✔ 已取消 {entry.id}：/deploy web v2")


def test_a_hold_on_health_messages_reads_in_chinese_with_a_dated_local_end(zh_chat):
    [held] = zh_chat("dave", "/silence web 2h")
    assert held["text"].startswith("✔ web 的健康消息暂停到 20")
    assert " CST" in held["text"].splitlines()[0] and "事件仍会计数" in held["text"]


def test_every_new_kind_of_message_reads_in_chinese():
    """The kinds beyond incidents, alerts, rollouts, approvals and builds, as the golden files pin them."""
    from tests.message_examples import KINDS

    built = {kind.name: kind.build("zh-CN") for kind in KINDS}
    titles = {name: message.title for name, message in built.items()}
    assert titles["freeze"] == "prod 封版至 2026-02-24 10:00 CST"
    assert titles["schedule"] == "已定时 s7q2：/deploy ledger v2.4.1 to prod，执行时间 2026-01-20 22:00 CST"
    assert titles["silence"] == "已静默 LedgerErrorRate，直到 2026-01-20 00:41 CST"
    assert titles["status"] == "ledger 状态" and built["status"].fields[0] == ("团队", "payments")
    assert titles["history"] == "ledger（prod）发布历史" and built["history"].lines[-1].endswith("← 当前")
    assert titles["logs"].startswith("ledger（prod）上一个（崩溃的）容器的日志")
    assert titles["cluster-rollout-progress"] == "ledger（prod）：滚动更新到 v2.4.1"
    assert titles["cluster-rollout-failed"] == "ledger（prod）：滚动更新到 v2.4.1 在 shenzhen 失败；已回滚"
    assert titles["cluster-incident"] == "集群 shenzhen：API 无法访问"
    assert dict(built["cluster-incident"].fields)["开始于"] == "2026-01-19 23:41:46 CST"
    assert titles["canary-plan"] == "ledger（prod）：金丝雀计划 — 第 2/3 步，30% 已上线"
    assert built["canary-plan"].lines[-2:] == ("分析通过：30% 已上线", "30% 时分析未通过：error rate 0.031")
    assert titles["canary-stale"] == "ledger（prod）：金丝雀已上线 30 小时，请全量发布或中止"
    assert titles["cron-job-set"] == "reconcile（prod）：定时任务已设为 v1.9.0"
    assert titles["autoscaling"] == "ledger（prod）：自动扩缩容 3–12 个副本，目标 60% CPU"
    assert titles["held"] == "免打扰时段暂存了 2 条消息"
    assert titles["daily-digest"] == "payments：过去 24 小时（2026-01-19）"
    assert "审批（1）：ab12cd 已由 bob 批准" in built["daily-digest"].lines
    # commands in buttons and lines stay the grammar's
    assert [b.value for b in built["canary-plan"].buttons] == ["/deploy ledger pause in prod",
                                                               "/deploy ledger promote in prod",
                                                               "/deploy ledger abort in prod"]


def test_a_cluster_incident_and_the_daily_digest_reach_a_chinese_channel_in_its_zone(zh_chat):
    from jobs import cluster_health, digest
    from tests.rollout_fixtures import feed

    assert cluster_health.report("east", "unreachable", "ok", "connection timed out after 10s") == "unreachable"
    [incident] = [m["text"] for m in feed(zh_chat.rt) if "east" in m["text"]]
    assert incident.startswith("✖ 集群 east：API 无法访问")
    since = re.search(r"开始于\s+(\S+ \S+ CST)", incident)
    assert since, incident  # dated, in Shanghai
    assert cluster_health.report("east", "ok", "unreachable", "") == "resolved"
    assert digest.daily("2026-12-04") > 0
    texts = [m["text"] for m in feed(zh_chat.rt)]
    assert any(t.startswith("ℹ payments：过去 24 小时（2026-12-04）") for t in texts)
    assert any(t.startswith("ℹ storefront：过去 24 小时（2026-12-04）") for t in texts)


def test_a_scheduled_jobs_status_reads_in_chinese_with_its_runs_dated_in_the_channels_zone():
    from bots.status_messages import status_message
    from rules.models import Service

    nightly = Service.model_validate({
        "team": "payments", "language": "go", "git": "pay/nightly", "kind": "cronjob", "schedule": "0 2 * * *",
        "environments": {"test": {"namespace": "pay-test", "replicas": 1, "resources": "0.5C1G"}}})
    cron = {"schedule": "0 2 * * *", "time_zone": "Etc/UTC", "suspended": False, "concurrency": "Forbid",
            "image": "reg/nightly:v3", "last_scheduled": "2026-12-04T02:00:00Z",
            "runs": [{"name": "nightly-1", "started": "2026-12-04T02:00:03Z", "finished": "2026-12-04T02:01:10Z",
                      "outcome": "failed", "reason": "BackoffLimitExceeded", "image": "reg/nightly:v3"}]}
    message = status_message("nightly", nightly, {"test": cron}, ["test"], locale="zh-CN", zone=SHANGHAI)
    assert message.title == "nightly 状态" and message.severity == "warning"
    assert message.lines == (
        "test：调度 0 2 * * * (Etc/UTC)，并发运行 Forbid，镜像 reg/nightly:v3",  # the CronJob's own zone, as set
        "test：上次调度 2026-12-04 10:00:00 CST",
        "test 运行 nightly-1：开始于 2026-12-04 10:00:03 CST，结束于 2026-12-04 10:01:10 CST，失败（BackoffLimitExceeded），"
        "镜像 nightly:v3")


def test_a_digest_item_reads_its_change_in_the_channels_words_too():
    from bots.i18n import DIGEST_PHRASES, phrase

    assert phrase("zh-CN", "rolling update to v1 by bob", DIGEST_PHRASES) == "滚动更新到 v1（bob）"
    assert phrase("zh-CN", "something new by bob", DIGEST_PHRASES) == "something new（bob）"  # an unknown change as it came
    assert phrase("en", "rolling update to v1 by bob", DIGEST_PHRASES) == "rolling update to v1 by bob"


def test_a_sinks_own_cut_line_reads_in_the_channels_language(rt, tmp_path):
    from bots.message import Message
    from bots.slack.blocks import blocks
    from jobs import notify

    rules = load_rules(rules_with(tmp_path, ROUTING.replace("{sink: slack, channel: C0STORE}",
                                                            "{sink: slack, channel: C0STORE, locale: zh-CN}")))
    runtime.install(Runtime(settings=rt.settings, rules=rules))
    long = Message(title="ledger status", lines=tuple(f"line {i} " + "x" * 400 for i in range(400)))
    slack = notify.titled({"sink": "slack", "channel": "C0STORE"}, long)
    assert slack.locale == "zh-CN"
    assert any("另有" in json.dumps(b, ensure_ascii=False) and "段" in json.dumps(b, ensure_ascii=False)
               for b in blocks(slack))  # Slack's own cut, in Chinese
    assert re.search(r"… 另有 \d+ 行", markdown.payload(slack)["markdown"]["text"])  # DingTalk's cut reads it too
    english = notify.titled({"sink": "slack", "channel": "C0OTHER"}, long)
    assert english.locale == "en" and any("more sections" in json.dumps(b) for b in blocks(english))


def test_a_digest_a_quota_forces_reads_in_the_channels_language():
    from bots.message import Message
    from bots.sinks.digest import digest

    zh = [Message(title=f"告警 {i}", locale="zh-CN") for i in range(3)]
    first = digest(zh, "DingTalk", part=1, parts=2, total=5, later=4)
    assert first.title == "5 条通知，分 2 条消息发出（1/2）"
    assert first.footer == "为不超出DingTalk的发送频率限制已合并；另有 4 条在配额允许时发出"
    assert digest(zh, "DingTalk", part=2, parts=2, total=5).title == "5 条通知中的 3 条（2/2）"
    en = digest([Message(title="alert")] * 2, "DingTalk")
    assert en.title == "2 notifications" and en.footer == "merged to stay within DingTalk's quota"


def test_a_job_that_failed_for_good_says_so_in_the_channels_language():
    from bots import replies

    zh = replies.job_failed("/deploy web v2", 3, "the API said 503", "job-1", locale="zh-CN")
    assert zh.title == "/deploy web v2 失败（已尝试 3 次）"
    assert zh.lines == ("the API said 503",  # the job's own reason, as it said it
                        "任务 job-1 在失败记录中保留 7 天；可用 ./dockyard jobs requeue job-1 重新执行")
    en = replies.job_failed("/deploy web v2", None, "no such tag", "job-1")
    assert en.title == "/deploy web v2 failed" and en.lines[1].startswith("job job-1 is kept in the failed registry")
