"""What a channel reads in its own language and time zone: the labels and fixed words of messages. Pure.

English text is the key (as with gettext): a renderer writes `say(locale, "unhealthy instances")` and a
locale without that entry reads the English. Free text from Kubernetes, Alertmanager or a person stays
as it came; only Dockyard's own words are translated.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bots import zh_cn
from core.config import LOCALES

DEFAULT_LOCALE = "en"

# zh-CN wording follows what the seed teams' own platforms showed (seeds/004: 应用名, 所属项目, ...).
ZH_CN: dict[str, str] = {
    # incidents (the CVTE order: app, project, unhealthy / total instances, node IP, container exit, time)
    "app": "应用名",
    "project": "所属项目",
    "cluster": "集群",
    "unhealthy instances": "不健康实例数",
    "total instances": "总实例数",
    "node IP": "节点 ip",
    "container exit": "容器退出",
    "ExitCode {code}, reason {reason}": "ExitCode {code}, 原因 {reason}",
    "time": "时间",
    "pod": "实例",
    "container": "容器",
    "restarts": "重启次数",
    "run": "运行",
    "lasted": "持续",
    "why: {detail}": "原因：{detail}",
    "event: {event}": "事件：{event}",
    "log: {line}": "日志：{line}",
    "{service} ({env}): {reason}{count}{on}, {unhealthy}/{total} instances unhealthy":
        "应用不健康：{service}（{env}）{reason}{count}{on}，{unhealthy}/{total} 个实例不健康",
    " ×{count} in {ago}": " ×{count}（{ago}内）",
    " on {cluster}": "，集群 {cluster}",
    "{minutes} min": "{minutes} 分钟",
    "under a minute": "不到一分钟",
    "RESOLVED {service} ({env}): {reason}": "已恢复 {service}（{env}）：{reason}",
    "{reason} ×{count}, healthy since {time}": "{reason} ×{count}，{time} 起恢复健康",
    "{service} ({env}): JobFailed{count}, run {run} failed": "{service}（{env}）：定时任务失败{count}，运行 {run} 失败",
    "this message is marked resolved when a later run succeeds": "之后的一次运行成功时，本消息标记为已恢复",
    # buttons
    "Rollback": "回滚", "Restart": "重启", "Silence 1h": "静默 1 小时", "Events": "事件", "Status": "状态",
    "Logs": "日志", "Promote": "全量发布", "Abort": "中止", "Approve": "批准", "Reject": "拒绝",
    "Graph": "图表", "Pause": "暂停", "Resume": "继续",
    # alerts
    "[FIRING:{count}] {name}{scope}": "[告警中:{count}] {name}{scope}",
    "[RESOLVED] {name}{scope}": "[已恢复] {name}{scope}",
    " (since {time})": "（开始于 {time}）",
    "… and {count} more": "… 另有 {count} 条",
    " ({count} truncated by Alertmanager)": "（Alertmanager 截断了 {count} 条）",
    "{resolved} resolved, {firing} firing": "{resolved} 条已恢复，{firing} 条告警中",
    # rollouts
    "progress": "进度",
    "{updated}/{desired} updated, {ready}/{desired} ready": "{updated}/{desired} 已更新，{ready}/{desired} 就绪",
    "this message updates as the rollout moves": "本消息随发布进度更新",
    "{where}: {what} — done in {seconds}s": "{where}：{what} — 完成，用时 {seconds} 秒",
    "replicas": "副本",
    "{ready}/{desired} ready": "{ready}/{desired} 就绪",
    "not ready: {detail}": "未就绪：{detail}",
    "rolled back to {to}": "已回滚到 {to}",
    "{where}: {what} failed and was rolled back": "{where}：{what} 失败，已回滚",
    "{where}: {what} failed": "{where}：{what} 失败",
    "{where}: canary live — {split}": "{where}：金丝雀已上线 — {split}",
    "canary image": "金丝雀镜像",
    "took": "用时",
    "{seconds}s": "{seconds} 秒",
    "{service} ({env}): canary and preview removed; stable untouched":
        "{service}（{env}）：金丝雀和预发布已移除，稳定版本未改动",
    "traffic": "流量",
    "all to stable": "全部到稳定版本",
    # approvals
    "approval {id}: {service} to {env}": "审批 {id}：{service} 发布到 {env}",
    "requested by": "申请人",
    "image": "镜像",
    "strategy": "策略",
    "expires": "过期时间",
    "break glass: {reason}": "紧急变更：{reason}",
    "someone in {roles} other than {requester} may approve": "{roles} 中除 {requester} 以外的人可以批准",
    "approved by {who}": "已由 {who} 批准",
    "rejected by {who}": "已被 {who} 拒绝",
    "expired at {time} without a decision": "{time} 过期，无人决定",
    "approval {id}: {service} to {env} — {verdict}": "审批 {id}：{service} 发布到 {env} — {verdict}",
    "reason: {reason}": "理由：{reason}",
    "{service} to {env} needs an approval: request {id} sent": "{service} 发布到 {env} 需要审批：已发送申请 {id}",
    "approvers: {roles} (not you)": "审批人：{roles}（不能是你自己）",
    "approved {id}: {service} {change} to {env} is starting": "已批准 {id}：{service} {change} 发布到 {env}，开始执行",
    # builds
    "who": "提交人",
    "commit": "提交",
    "branch": "分支",
    "tag": "标签",
    "duration": "耗时",
    "Dockerfile": "Dockerfile",
    "the repository's": "仓库自带",
    "{language} template": "{language} 模板",
    "{service} build failed at {sha}": "{service} 构建失败（{sha}）",
    "last log lines:": "最后几行日志：",
    "{service} built {tag}": "{service} 构建完成 {tag}",
    "{env} rollout queued (job {job}): /status {service} in {env} follows it":
        "{env} 发布已排队（任务 {job}）：用 /status {service} in {env} 查看",
    # /events (the seed's event page: 事件级别 警告/正常, 事件原因, 汇报者, 来源机器)
    "Warning": "警告", "Normal": "正常",
    " (reported by {reporter} on {host})": "（汇报者 {reporter}，来源机器 {host}）",
    " (reported by {reporter})": "（汇报者 {reporter}）",
    " matching {grep}": "，关键字 {grep}",
    "{name}: {count} event(s) in the last {span}{matching}": "{name}：最近 {span} 共 {count} 条事件{matching}",
    "no events for {name} in the last {span}{matching}": "{name}：最近 {span} 没有事件{matching}",
    "{name}: {count} warning(s) in the last {span}{matching}": "{name}：最近 {span} 共 {count} 条警告{matching}",
    "no warnings for {name} in the last {span}{matching}": "{name}：最近 {span} 没有警告{matching}",
    "{name}: {count} Normal event(s) in the last {span}{matching}":
        "{name}：最近 {span} 共 {count} 条正常事件{matching}",
    "no Normal events for {name} in the last {span}{matching}": "{name}：最近 {span} 没有正常事件{matching}",
    "{count} older not shown": "另有 {count} 条更早的未显示",
    "only Warning events are kept for {name}: set `events: all` on it in the catalog to keep Normal ones too":
        "{name} 只保留警告事件：在服务目录中为它设置 `events: all` 即可同时保留正常事件",
    # times
    "the end of the window": "窗口结束",
}
ZH_CN.update(zh_cn.WORDS)
CATALOGS: dict[str, dict[str, str]] = {"en": {}, "zh-CN": ZH_CN}
assert set(CATALOGS) == set(LOCALES), "a locale the settings accept needs a catalog here"


def say(locale: str, text: str, **values: object) -> str:
    """`text` (English, the key) in `locale`, its {placeholders} filled; English where the locale lacks it."""
    template = CATALOGS.get(locale, {}).get(text, text)
    return template.format(**values) if values else template


# Phrases jobs write in English and keep as written (a rollout's "what" is also its lock holder's text and
# its Kubernetes change cause; a canary plan's history sits in Redis). A renderer reads them in a channel's
# language with phrase(); the most specific first, as the first whole match wins.
PHRASES = (
    "rolling update to {version}", "canary {weight}% of {version}", "canary {weight}%", "preview of {version}",
    "preview", "promote {track} {version} to stable", "promote to stable", "abort", "restart",
    "rollback to revision {number} ({version})", "scheduled job image {version}", "scale {before} → {after}",
    "scale to {replicas} ({shares})", "autoscale {low}–{high}", "autoscale off",
    # a canary plan's history (jobs/plans.py)
    "analysis passed: {weight}% live", "analysis passed at {weight}%: promoted", "analysis failed at {weight}%: {failed}",
    "aborted after {count} failed analyses in a row", "paused: {env} is frozen by {by} ({reason})", "paused by {who}",
    "resumed by {who}", "promote by {who}", "abort by {who}", "{weight}% live",
    # an approval's change (jobs/approvals.py describe)
    "canary {weight}% (re-weight the live canary, same image)", "rolling", "promote the live canary",
    "abort the live canary", "rollback to revision {number}", "rollback to the previous revision",
    "scale to {replicas} replicas", "autoscale {low}-{high} at {goals}", "restart every pod",
)
# The daily digest's items (jobs/digest.py), read the same way.
DIGEST_PHRASES = ("{id} approved by {who}", "{id} rejected by {who}", "approval {id} for {service} ({env})",
                  "incident {where}", "{track} of {service} ({env}) by {who}", "{change} by {who}")
TRANSLATED_VALUES = ("track",)  # placeholders whose values are Dockyard's own words (canary, preview)
CHANGE_VALUES = ("change",)  # placeholders whose values are themselves PHRASES ("rolling update to v2 by bob")


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)))


_PATTERNS = {template: _pattern(template) for template in PHRASES + DIGEST_PHRASES}


def phrase(locale: str, text: str, templates: tuple[str, ...] = PHRASES) -> str:
    """`text`, written by a job from one of `templates`, in `locale`; as it came when no template matches it."""
    if not CATALOGS.get(locale):
        return text
    for template in templates:
        found = _PATTERNS[template].fullmatch(text)
        if found:
            values = {k: say(locale, v) if k in TRANSLATED_VALUES else phrase(locale, v) if k in CHANGE_VALUES else v
                      for k, v in found.groupdict().items()}
            return say(locale, template, **values)
    return text


def check_locale(value: str) -> str:
    """The locale if Dockyard has it; else a ValueError that lists the ones it has."""
    if value not in LOCALES:
        raise ValueError(f"{value!r} is not a locale Dockyard speaks; use one of: {', '.join(LOCALES)}")
    return value


def check_zone(value: str) -> str:
    """The IANA time zone name if it exists here; else a ValueError with an example."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone like UTC or Asia/Shanghai") from None
    return value


def moment(value: float | int | str | datetime | None, zone: str, seconds: bool = True) -> str:
    """'2026-12-04 19:41:07 CST': a date and time as `zone` reads it, never a bare UTC clock.

    `value` is epoch seconds, an ISO time from Kubernetes or Alertmanager ('...Z' or with an offset;
    without one it is UTC), or a datetime. Text that is no time is shown as it came.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        at = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, (int, float)):
        at = datetime.fromtimestamp(value, timezone.utc)
    else:
        try:
            at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
        at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    local = at.astimezone(ZoneInfo(zone))
    name = local.strftime("%Z")
    if not name or name[0] in "+-":  # a zone with no abbreviation: say its offset, +04:00
        offset = local.strftime("%z")
        name = f"{offset[:3]}:{offset[3:]}"
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + f" {name}"


def prefixed(title: str, prefix: str) -> str:
    """The title starting with the prefix (once: a message edited in place is not prefixed twice)."""
    if not prefix or title.startswith(prefix):
        return title
    return f"{prefix} {title}"
