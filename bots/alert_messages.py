"""An alert group (parsed from Alertmanager's webhook by handlers/alerts.py) → one chat message. Pure."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from bots import commands, grammar
from bots.i18n import DEFAULT_LOCALE, moment, say
from bots.message import Button, Message, web_url

MAX_LISTED = 20  # alerts listed one by one; the rest are counted ("and N more")
SILENCE_FOR, SILENCE_SECONDS = "1h", 3600  # the Silence button, as typed and as the grammar reads it
# Prometheus's metric-name charset, which alert names follow by convention. A label value may be
# anything ("web 30d"), and the Silence button is a command the grammar reads back as words.
PROMETHEUS_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@dataclass(frozen=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    ends_at: str
    generator_url: str
    fingerprint: str


@dataclass(frozen=True)
class AlertGroup:
    group_key: str
    status: str
    receiver: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str
    truncated: int
    alerts: tuple[Alert, ...]

    @property
    def labels(self) -> dict[str, str]:
        """Labels for routing: what every alert shares, and the grouping labels."""
        return {**self.common_labels, **self.group_labels}

    def to_dict(self) -> dict:
        """Plain data for the notify job."""
        return asdict(self)

    @staticmethod
    def from_dict(data: dict) -> "AlertGroup":
        return AlertGroup(**{**data, "alerts": tuple(Alert(**alert) for alert in data["alerts"])})


def _where(labels: dict[str, str]) -> str:
    return " ".join(f"{k}={labels[k]}" for k in ("namespace", "pod", "container", "instance") if k in labels)


def _silences_exactly(command: str, matcher: str) -> bool:
    """Whether the grammar reads `command` back as silencing `matcher` (and nothing else) for SILENCE_FOR."""
    try:
        parsed = grammar.parse(command)
    except grammar.CommandError:
        return False
    return parsed == commands.Silence(matcher=matcher, duration_seconds=SILENCE_SECONDS)


def silence_button(group: AlertGroup, locale: str = DEFAULT_LOCALE) -> Button | None:
    """Silence the group by its alert name, else its one firing alert by fingerprint, else offer nothing.

    The button carries a command, so a name is used only when the grammar reads the command back as
    exactly that name: an alert named "web 30d" must not become `/silence web 30d 1h`.
    """
    firing = [a for a in group.alerts if a.status == "firing"]
    name = group.common_labels.get("alertname") or group.group_labels.get("alertname")
    targets = [name] if name and PROMETHEUS_NAME.fullmatch(name) else []
    if len(firing) == 1 and not group.truncated:  # a fingerprint names one alert, exactly its labels
        targets.append(firing[0].fingerprint)
    for target in targets:
        command = f"/silence {target} {SILENCE_FOR}"
        if _silences_exactly(command, target):
            return Button(say(locale, f"Silence {SILENCE_FOR}"), "silence", command)
    return None


def render(group: AlertGroup, locale: str = DEFAULT_LOCALE, zone: str = "UTC") -> Message:
    """One message for the whole group: counts, shared summary, each alert (up to a limit), links, Silence.

    Dockyard's own words follow `locale` and start times are dated in `zone`; labels and annotations
    stay as Alertmanager sent them.
    """
    firing = [a for a in group.alerts if a.status == "firing"]
    resolved = [a for a in group.alerts if a.status == "resolved"]
    name = group.common_labels.get("alertname") or group.group_labels.get("alertname") or "alerts"
    scope = " ".join(v for k, v in group.group_labels.items() if k != "alertname")
    scope = f" {scope}" if scope else ""
    if firing:
        title = say(locale, "[FIRING:{count}] {name}{scope}", count=len(firing) + group.truncated, name=name, scope=scope)
    else:
        title = say(locale, "[RESOLVED] {name}{scope}", name=name, scope=scope)
    severity = group.common_labels.get("severity", "warning")
    level = "success" if not firing else "critical" if severity == "critical" else "warning"
    fields: list[tuple[str, str]] = [(k, v) for k, v in group.common_labels.items() if k != "alertname"][:8]
    lines: list[str] = []
    if group.common_annotations.get("summary"):
        lines.append(group.common_annotations["summary"])
    if group.common_annotations.get("description"):
        lines.append(group.common_annotations["description"])
    shown = (firing + resolved)[:MAX_LISTED]
    for alert in shown:
        text = alert.annotations.get("summary") or alert.annotations.get("description") or ""
        icon = "🔥" if alert.status == "firing" else "✅"
        line = f"{icon} {_where(alert.labels) or alert.fingerprint}"
        if text and text != group.common_annotations.get("summary"):
            line += f" — {text}"
        line += say(locale, " (since {time})", time=moment(alert.starts_at, zone))
        lines.append(line)
    more = len(group.alerts) - len(shown) + group.truncated
    if more:
        lines.append(say(locale, "… and {count} more", count=more) + (
            say(locale, " ({count} truncated by Alertmanager)", count=group.truncated) if group.truncated else ""))
    buttons: list[Button] = []
    silence = silence_button(group, locale) if firing else None
    if silence:
        buttons.append(silence)
    # Links come from whoever can reach Alertmanager's API: only http(s) becomes a button.
    graph = web_url(firing[0].generator_url) if firing else None
    if graph:
        buttons.append(Button(say(locale, "Graph"), "link", "", graph))
    alertmanager = web_url(group.external_url)
    if alertmanager:
        buttons.append(Button("Alertmanager", "link", "", alertmanager))
    return Message(title=title, severity=level, fields=tuple(fields), lines=tuple(lines), buttons=tuple(buttons),  # type: ignore[arg-type]
                   footer=say(locale, "{resolved} resolved, {firing} firing", resolved=len(resolved), firing=len(firing))
                   if resolved and firing else "")
