"""Stand-in for Slack's Web API and response_url: checks the bot token, records every call."""

from __future__ import annotations

import itertools
import json
from urllib.parse import parse_qs

from deploy.local.standin import StandIn


class SlackAPI(StandIn):
    def __init__(self, token: str):
        super().__init__()
        self.token = token
        self.ts = itertools.count(1)

    def handle(self, method, path, query, headers, body):
        if path.startswith("/response/"):
            self.record(method="response_url", path=path, body=json.loads(body or b"{}"))
            return 200, {"ok": True}
        if headers.get("Authorization") != f"Bearer {self.token}":
            self.record(method="rejected", path=path)
            return 200, {"ok": False, "error": "invalid_auth"}
        if headers.get("Content-Type", "").startswith("application/json"):
            args = json.loads(body or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        api = path.rsplit("/", 1)[-1]
        if api == "auth.test":
            return 200, {"ok": True, "url": "https://dockyard-test.slack.com/", "team": "Dockyard", "user": "dockyard",
                         "team_id": "T1", "user_id": "U0BOT", "bot_id": "B0BOT", "is_enterprise_install": False}
        if api not in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return 200, {"ok": False, "error": "unknown_method"}
        if not args.get("channel") or not (args.get("text") or args.get("blocks")):
            return 200, {"ok": False, "error": "no_text" if args.get("channel") else "channel_not_found"}
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if blocks is not None and len(blocks) > 50:
            return 200, {"ok": False, "error": "invalid_blocks"}
        ts = args.get("ts") or f"1700000000.{next(self.ts):06d}"
        self.record(method=api, channel=args["channel"], ts=ts, text=args.get("text", ""), blocks=blocks or [],
                    user=args.get("user"))
        return 200, {"ok": True, "channel": args["channel"], "ts": ts}

    def texts(self, api: str | None = None) -> list[str]:
        """Everything posted, as plain text (fallback text plus every block's text)."""
        out = []
        for call in self.calls:
            if api and call.get("method") != api:
                continue
            parts = [call.get("text", "")]
            for block in call.get("blocks") or []:
                if "text" in block and isinstance(block["text"], dict):
                    parts.append(block["text"]["text"])
                for f in block.get("fields", []):
                    parts.append(f["text"])
            out.append("\n".join(parts))
        return out
