"""DOCKYARD_REDIS_URL to a Redis client: one server (`redis://`, `rediss://`, `unix://`) or a Sentinel set.

`redis+sentinel://[:password@]host1:26379,host2:26379,host3:26379/<master name>[/<db>]` asks the
Sentinels which server is the primary, and asks again after a failover, so queues, locks and
stores follow the primary without a restart. The password (if any) is the data servers'; the
Sentinels themselves are asked without one unless `sentinel_password=` is given as a query
parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from redis import Redis
from redis.sentinel import Sentinel

SENTINEL = "redis+sentinel"
TIMEOUTS = {"socket_timeout": 5, "socket_connect_timeout": 2, "health_check_interval": 30}


@dataclass(frozen=True)
class SentinelURL:
    hosts: tuple[tuple[str, int], ...]
    master: str
    db: int
    password: str | None
    sentinel_password: str | None


def parse_sentinel(url: str) -> SentinelURL:
    """The parts of a redis+sentinel:// URL; ValueError says what is missing."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    auth, hosts_text = (netloc[0], netloc[1]) if len(netloc) == 2 else ("", netloc[0])
    password = unquote(auth.split(":", 1)[1]) if ":" in auth else (unquote(auth) or None)
    hosts = []
    for item in filter(None, hosts_text.split(",")):
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "26379")
        if not host or not port.isdigit():
            raise ValueError(f"sentinel {item!r} is not host:port")
        hosts.append((host, int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not hosts or not path:
        raise ValueError("needs the Sentinels and the primary's name: "
                         "redis+sentinel://host1:26379,host2:26379,host3:26379/mymaster/0")
    if len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("the path is /<master name>[/<db number>]")
    query = parse_qs(parts.query)
    return SentinelURL(tuple(hosts), path[0], int(path[1]) if len(path) == 2 else 0, password,
                       (query.get("sentinel_password") or [None])[0])


def connect(url: str) -> Redis:
    """A client for the URL, with Dockyard's timeouts; a Sentinel URL follows the primary across failovers."""
    if not url.startswith(f"{SENTINEL}://"):
        return Redis.from_url(url, **TIMEOUTS)
    spec = parse_sentinel(url)
    sentinel = Sentinel(list(spec.hosts), sentinel_kwargs={"password": spec.sentinel_password,
                                                           "socket_timeout": 2, "socket_connect_timeout": 2},
                        **TIMEOUTS)
    return sentinel.master_for(spec.master, db=spec.db, password=spec.password)
