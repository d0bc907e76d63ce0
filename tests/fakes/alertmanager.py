"""Alertmanager's webhook body (version 4), as its receivers get it: one group of one firing alert."""

from __future__ import annotations


def one_alert_group(name: str, pod: str, i: int, external_url: str, generator_url: str,
                    starts_at: str = "2026-05-01T08:00:00Z") -> dict:
    """The group `name` with one firing latency alert on `pod` of web (team storefront); `i` its fingerprint."""
    labels = {"alertname": name, "service": "web", "team": "storefront", "severity": "warning",
              "namespace": "shop-prod", "pod": pod}
    notes = {"summary": f"p99 latency of {pod} above 2s"}
    return {"version": "4", "groupKey": f'{{}}:{{alertname="{name}"}}', "truncatedAlerts": 0, "status": "firing",
            "receiver": "dockyard", "groupLabels": {"alertname": name}, "commonLabels": labels,
            "commonAnnotations": notes, "externalURL": external_url,
            "alerts": [{"status": "firing", "labels": labels, "annotations": notes, "startsAt": starts_at,
                        "endsAt": "0001-01-01T00:00:00Z", "generatorURL": generator_url, "fingerprint": f"{i:016x}"}]}
