"""Settings from the environment, validated once at start-up (12-factor).

Every error names the variable and says what a good value looks like. Secret
values are pydantic SecretStr: they print as '**********' in logs and errors.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, SecretStr

from core.redis_url import parse_sentinel

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("en", "zh-CN")  # what bots/i18n.py has labels for (core imports nothing above it)


class ConfigError(ValueError):
    """A bad environment variable; the message names it."""


class Settings(BaseModel):
    """Everything Dockyard reads from the environment."""

    model_config = ConfigDict(frozen=True)

    redis_url: str = "redis://127.0.0.1:6379/0"
    rules_dir: Path = ROOT / "rules"
    kubeconfig: Path | None = None
    port: int = 8080
    log_level: str = "INFO"
    public_url: str = "http://127.0.0.1:8080"
    job_retries: int = 3
    # Replicas that must hold an accepted webhook's or command's writes before it is answered 2xx (WAIT).
    redis_wait_replicas: int = 0
    job_backoff: tuple[int, ...] = (10, 30, 90)
    approval_ttl: int = 3600
    timezone: str = "UTC"  # how people read times: freeze windows, /freeze until 18:00, times in messages
    locale: str = "en"  # the language of message labels, where a channel sets no `locale:` (en, zh-CN)
    # Starts every chat message's title (not the console's); a DingTalk robot secured by a custom
    # keyword (自定义关键词) takes only messages containing it. A channel's `prefix:` overrides it.
    message_prefix: str = "[Dockyard]"
    digest_at: str = "09:00"  # each team's daily digest, in `timezone`
    kaniko_image: str = "registry.local/kaniko/executor:v1.23.2"  # mirror the Kaniko executor here
    registry_secret: str = "dockyard-registry"  # dockerconfigjson Secret in dockyard-builds, by name
    git_secret: str = "dockyard-git"  # Secret with key `token` for cloning private repositories
    build_timeout: int = 1800
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    link_secret: SecretStr | None = None  # signs action links in DingTalk cards
    dingtalk_app_secret: SecretStr | None = None
    dingtalk_app_key: str | None = None  # the enterprise app: work notifications carry personal links
    dingtalk_agent_id: str | None = None
    dingtalk_api_url: str = "https://oapi.dingtalk.com"
    # Interactive cards the app's robot posts to a group (`conversation:` channels), updated in place:
    # the card template (its `title` and `markdown` variables), the robot's code (default: the app key),
    # and DingTalk's v1.0 API, where cards and their access token live.
    dingtalk_card_template_id: str | None = None
    dingtalk_robot_code: str | None = None
    dingtalk_open_api_url: str = "https://api.dingtalk.com"
    dingtalk_robot_secret: SecretStr | None = None
    dingtalk_robots: dict[str, SecretStr] = {}  # robot name -> webhook URL (it carries the access token)
    dingtalk_robot_secrets: dict[str, SecretStr] = {}  # robot name -> sign secret, when robots differ
    # Where a callback's sessionWebhook may point: DingTalk's own API origins, over HTTPS.
    dingtalk_reply_origins: tuple[str, ...] = ("https://oapi.dingtalk.com", "https://api.dingtalk.com")
    wecom_corp_id: str | None = None  # the callbacks must be encrypted for this corp
    wecom_agent_id: str | None = None  # the self-built app that receives commands and answers them
    wecom_secret: SecretStr | None = None  # the app's Secret: access tokens for message/send
    wecom_token: SecretStr | None = None  # the callback's Token (msg_signature)
    wecom_encoding_aes_key: SecretStr | None = None  # the callback's EncodingAESKey (43 characters)
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    wecom_robots: dict[str, SecretStr] = {}  # robot name -> webhook URL (it carries the robot's key)
    feishu_app_id: str | None = None  # the app whose bot receives commands and posts cards with buttons
    feishu_app_secret: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None  # event subscription: the token in each event
    feishu_encrypt_key: SecretStr | None = None  # event subscription: encrypted, signed bodies
    feishu_api_url: str = "https://open.feishu.cn"
    feishu_robots: dict[str, SecretStr] = {}  # custom bot name -> webhook URL (it carries the bot's token)
    feishu_robot_secret: SecretStr | None = None  # the bots' signing secret (签名校验)
    feishu_robot_secrets: dict[str, SecretStr] = {}  # bot name -> signing secret, when bots differ
    gitlab_url: str | None = None
    gitlab_token: SecretStr | None = None
    gitlab_webhook_token: SecretStr | None = None
    alertmanager_url: str | None = None
    alertmanager_webhook_token: SecretStr | None = None
    prometheus_url: str | None = None


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.hostname:
        raise ConfigError(f"{name}={_shown(value)} is not a {' or '.join(schemes)} URL "
                          f"(like {schemes[0]}://127.0.0.1{':6379/0' if schemes[0] == 'redis' else ''})")
    return value


def _redis_url(value: str) -> str:
    """One Redis server's URL, or a Sentinel set's (core/redis_url.py)."""
    if value.startswith("redis+sentinel://"):
        try:
            parse_sentinel(value)
        except ValueError as exc:
            raise ConfigError(f"DOCKYARD_REDIS_URL={_shown(value)}: {exc}") from None
        return value
    return _url("DOCKYARD_REDIS_URL", value, ("redis", "rediss", "unix"))


def _origin(name: str, value: str) -> str:
    """An https origin, or http on loopback (the tests' stand-ins); nothing else may receive replies."""
    parsed = urlparse(value)
    loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if parsed.path.strip("/") or parsed.query or not parsed.hostname or \
            not (parsed.scheme == "https" or (parsed.scheme == "http" and loopback)):
        raise ConfigError(f"{name}: {value!r} is not an origin like https://oapi.dingtalk.com "
                          f"(http only for 127.0.0.1)")
    return value.rstrip("/").lower()


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"DOCKYARD_TIMEZONE={value!r} is not a time zone like UTC or Asia/Shanghai") from None
    return value


def _shown(value: str) -> str:
    """A URL with any password replaced, safe for an error message."""
    parsed = urlparse(value)
    if parsed.password:
        return value.replace(f":{parsed.password}@", ":***@")
    return repr(value)


def _int(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise ConfigError(f"{name}={value!r} must be a whole number {low}–{high}")
    return int(value)


def _named(name: str, value: str) -> list[tuple[str, str]]:
    """'url' -> [('default', url)]; 'a=url1,b=url2' -> [('a', url1), ('b', url2)]."""
    items = [part.strip() for part in value.split(",") if part.strip()]
    if len(items) == 1 and items[0].startswith(("http://", "https://")):
        return [("default", items[0])]
    pairs = []
    for item in items:
        key, sep, rest = item.partition("=")
        if not sep or not key or key.startswith("http"):
            raise ConfigError(f"{name}: give each entry as name=value, e.g. payments=https://...")
        pairs.append((key, rest))
    return pairs


def _chat_apps(get: Callable[[str], str | None]) -> dict:
    """WeCom's and Feishu's variables (WECOM_*, FEISHU_*), checked like the rest."""
    values: dict = {}
    for name in ("WECOM_CORP_ID", "FEISHU_APP_ID"):
        if get(name):
            values[name.lower()] = get(name)
    if get("WECOM_AGENT_ID"):
        values["wecom_agent_id"] = str(_int("WECOM_AGENT_ID", get("WECOM_AGENT_ID"), 1, 2**31 - 1))
    aes_key = get("WECOM_ENCODING_AES_KEY")
    if aes_key and not re.fullmatch(r"[A-Za-z0-9]{43}", aes_key):
        raise ConfigError("WECOM_ENCODING_AES_KEY must be the 43 letters and digits WeCom shows as EncodingAESKey")
    for name in ("WECOM_SECRET", "WECOM_TOKEN", "WECOM_ENCODING_AES_KEY", "FEISHU_APP_SECRET",
                 "FEISHU_VERIFICATION_TOKEN", "FEISHU_ENCRYPT_KEY"):
        if get(name):
            values[name.lower()] = SecretStr(get(name))
    for name in ("WECOM_API_URL", "FEISHU_API_URL"):
        if get(name):
            values[name.lower()] = _url(name, get(name), ("http", "https"))
    for name, field in (("WECOM_ROBOT_WEBHOOK", "wecom_robots"), ("FEISHU_ROBOT_WEBHOOK", "feishu_robots")):
        if get(name):
            values[field] = {k: SecretStr(_url(name, v, ("http", "https"))) for k, v in _named(name, get(name))}
    secret = get("FEISHU_ROBOT_SECRET") or ""
    items = [part.strip() for part in secret.split(",") if part.strip()]
    if len(items) > 1 or (items and re.fullmatch(r"[\w-]+=.+", items[0])):  # Feishu's own are letters and digits
        values["feishu_robot_secrets"] = {k: SecretStr(v) for k, v in _named("FEISHU_ROBOT_SECRET", secret)}
    elif items:
        values["feishu_robot_secret"] = SecretStr(items[0])
    return values


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate Settings from the environment (or a given mapping)."""
    env = os.environ if env is None else env
    get = lambda name: (env.get(name) or "").strip() or None  # noqa: E731
    values: dict = {}
    if get("DOCKYARD_REDIS_URL"):
        values["redis_url"] = _redis_url(get("DOCKYARD_REDIS_URL"))
    if get("DOCKYARD_RULES_DIR"):
        rules_dir = Path(get("DOCKYARD_RULES_DIR"))
        if not rules_dir.is_absolute():
            rules_dir = (Path.cwd() / rules_dir).resolve()
        if not rules_dir.is_dir():
            raise ConfigError(f"DOCKYARD_RULES_DIR={str(rules_dir)!r} is not a directory "
                              f"(it should hold catalog.yaml, routing.yaml and policy.yaml)")
        values["rules_dir"] = rules_dir
    if get("KUBECONFIG"):
        kubeconfig = Path(get("KUBECONFIG").split(os.pathsep)[0])
        if not kubeconfig.is_file():
            raise ConfigError(f"KUBECONFIG={str(kubeconfig)!r} does not exist; unset it to run without a "
                              f"cluster, or run ./dockyard cluster up")
        values["kubeconfig"] = kubeconfig
    if get("PORT"):
        values["port"] = _int("PORT", get("PORT"), 1, 65535)
    if get("DOCKYARD_LOG_LEVEL"):
        level = get("DOCKYARD_LOG_LEVEL").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"DOCKYARD_LOG_LEVEL={level!r} must be DEBUG, INFO, WARNING or ERROR")
        values["log_level"] = level
    if get("DOCKYARD_PUBLIC_URL"):
        values["public_url"] = _url("DOCKYARD_PUBLIC_URL", get("DOCKYARD_PUBLIC_URL"), ("http", "https"))
    if get("DOCKYARD_REDIS_WAIT_REPLICAS"):
        values["redis_wait_replicas"] = _int("DOCKYARD_REDIS_WAIT_REPLICAS", get("DOCKYARD_REDIS_WAIT_REPLICAS"), 0, 10)
    if get("DOCKYARD_JOB_RETRIES"):
        values["job_retries"] = _int("DOCKYARD_JOB_RETRIES", get("DOCKYARD_JOB_RETRIES"), 0, 20)
    for name in ("DOCKYARD_KANIKO_IMAGE", "DOCKYARD_REGISTRY_SECRET", "DOCKYARD_GIT_SECRET"):
        if get(name):
            values[name.removeprefix("DOCKYARD_").lower()] = get(name)
    if get("DOCKYARD_BUILD_TIMEOUT"):
        values["build_timeout"] = _int("DOCKYARD_BUILD_TIMEOUT", get("DOCKYARD_BUILD_TIMEOUT"), 60, 4 * 3600)
    if get("DOCKYARD_TIMEZONE"):
        values["timezone"] = _zone(get("DOCKYARD_TIMEZONE"))
    if get("DOCKYARD_LOCALE"):
        if get("DOCKYARD_LOCALE") not in LOCALES:
            raise ConfigError(f"DOCKYARD_LOCALE={get('DOCKYARD_LOCALE')!r} must be one of: {', '.join(LOCALES)}")
        values["locale"] = get("DOCKYARD_LOCALE")
    if "DOCKYARD_MESSAGE_PREFIX" in env:  # set but empty: no prefix at all
        values["message_prefix"] = env["DOCKYARD_MESSAGE_PREFIX"].strip()
    if get("DOCKYARD_DIGEST_AT"):
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", get("DOCKYARD_DIGEST_AT")):
            raise ConfigError(f"DOCKYARD_DIGEST_AT={get('DOCKYARD_DIGEST_AT')!r} is not a time like 09:00")
        values["digest_at"] = get("DOCKYARD_DIGEST_AT")
    if get("DOCKYARD_APPROVAL_TTL"):
        values["approval_ttl"] = _int("DOCKYARD_APPROVAL_TTL", get("DOCKYARD_APPROVAL_TTL"), 1, 7 * 86400)
    if get("DOCKYARD_JOB_BACKOFF"):
        parts = get("DOCKYARD_JOB_BACKOFF").split(",")
        values["job_backoff"] = tuple(_int("DOCKYARD_JOB_BACKOFF", p.strip(), 0, 3600) for p in parts)
    for name in ("DINGTALK_APP_KEY", "DINGTALK_AGENT_ID", "DINGTALK_CARD_TEMPLATE_ID", "DINGTALK_ROBOT_CODE"):
        if get(name):
            values[name.lower()] = get(name)
    for name in ("SLACK_API_URL", "GITLAB_URL", "ALERTMANAGER_URL", "PROMETHEUS_URL", "DINGTALK_API_URL",
                 "DINGTALK_OPEN_API_URL"):
        if get(name):
            values[name.lower()] = _url(name, get(name), ("http", "https"))
    if get("DINGTALK_ROBOT_WEBHOOK"):
        values["dingtalk_robots"] = {k: SecretStr(_url("DINGTALK_ROBOT_WEBHOOK", v, ("http", "https")))
                                     for k, v in _named("DINGTALK_ROBOT_WEBHOOK", get("DINGTALK_ROBOT_WEBHOOK"))}
    secret = get("DINGTALK_ROBOT_SECRET") or ""
    if "=" in secret and not secret.startswith("SEC"):  # per-robot secrets; DingTalk's own start with SEC
        values["dingtalk_robot_secrets"] = {k: SecretStr(v) for k, v in _named("DINGTALK_ROBOT_SECRET",
                                                                               get("DINGTALK_ROBOT_SECRET"))}
    if get("DINGTALK_REPLY_ORIGINS"):
        values["dingtalk_reply_origins"] = tuple(_origin("DINGTALK_REPLY_ORIGINS", part.strip())
                                                 for part in get("DINGTALK_REPLY_ORIGINS").split(",") if part.strip())
    if get("DOCKYARD_LINK_SECRET"):
        values["link_secret"] = SecretStr(get("DOCKYARD_LINK_SECRET"))
    for name in ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "DINGTALK_APP_SECRET", "DINGTALK_ROBOT_SECRET",
                 "GITLAB_TOKEN", "GITLAB_WEBHOOK_TOKEN", "ALERTMANAGER_WEBHOOK_TOKEN"):
        if get(name) and not (name == "DINGTALK_ROBOT_SECRET" and "dingtalk_robot_secrets" in values):
            # A per-robot list is no one robot's secret: a robot missing from it must not sign with the lot.
            values[name.lower()] = SecretStr(get(name))
    values.update(_chat_apps(get))
    return Settings(**values)
