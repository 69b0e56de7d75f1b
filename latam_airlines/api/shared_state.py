"""Serving state shared by every worker and replica of `latam serve` through Redis (extra [redis]).

What is shared: the served model's recent-delay history (what `latam outcomes` and the
`daily_outcomes` DAG feed) and the promoted model (what `latam promote`/`retrain` move). A
publisher writes the state, then increments one generation counter; each worker reads only
that counter, once a second, in its poller thread, never per request, and fetches the state
when the counter moved. Redis down: publishing says so and the artifact still holds the feed;
workers keep serving their in-process state and GET /model reports `shared_state.status`.

Keys, under `prefix` (default "latam"):
- `{prefix}:generation`: incremented by every publish (the only key polled);
- `{prefix}:model`: hash (uri, version, published_at) of the last promotion;
- `{prefix}:outcomes:{model version}`: hash (history: npz bytes, until, generation,
  published_at) of that model's recent-delay history; one per trained model (the history's key
  codes belong to the model that learnt them);
- `{prefix}:schedule`: hash flight key -> planned flight (JSON) of every flight fed as planned
  schedule (`latam schedule`, POST /schedule, the daily DAG); each feed sets its flights'
  fields, so feeds from several publishers merge per flight (a re-fed flight replaces itself)
  and none is lost. One for every model: planned flights are raw fields, not a model's codes,
  so a promoted model gets the schedule already fed; `{prefix}:schedule-generation`: the
  generation of its last change.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from latam_airlines.errors import InputError

log = logging.getLogger("latam_airlines.api")

REDIS_URL_ENV = "LATAM_REDIS_URL"
DEFAULT_PREFIX = "latam"
DEFAULT_SYNC_SECONDS = 1.0
# A worker's poll and a publisher's write give up quickly: Redis is never worth a stalled server.
DEFAULT_TIMEOUT_S = 0.5
# INCR the generation and write the state with it, atomically (Redis runs a script alone).
_PUBLISH = """
local generation = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], 'generation', generation, unpack(ARGV))
return generation
"""
# Set every flight's field of a schedule hash (field, value pairs in ARGV), INCR the generation
# and stamp the schedule with it, atomically: concurrent feeds merge, per flight.
_PUBLISH_SCHEDULE = """
for index = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[index], ARGV[index + 1])
end
local generation = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[3], generation)
return generation
"""


@dataclass(frozen=True)
class SharedSettings:
    url: str | None
    prefix: str = DEFAULT_PREFIX
    sync_seconds: float = DEFAULT_SYNC_SECONDS
    timeout_s: float = DEFAULT_TIMEOUT_S


def shared_settings(params: Mapping[str, Any] | None = None) -> SharedSettings:
    """Settings `shared_state:` ($LATAM_REDIS_URL included; url null: in-process state only)."""
    if params is None:
        from latam_airlines.settings import current

        params = current().as_params()
    section = dict(params.get("shared_state") or {})
    url = os.environ.get(REDIS_URL_ENV) or section.get("redis_url") or None
    return SharedSettings(
        url=url,
        prefix=str(section.get("prefix") or DEFAULT_PREFIX),
        sync_seconds=float(section.get("sync_seconds") or DEFAULT_SYNC_SECONDS),
        timeout_s=float(section.get("timeout_s") or DEFAULT_TIMEOUT_S),
    )


def redacted(url: str) -> str:
    """The URL without its password (what /model and messages show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class SharedState:
    """One Redis holding the shared serving state (see the module docstring for the keys)."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        try:
            import redis
        except ModuleNotFoundError:
            raise InputError(
                'a Redis URL is set but the redis client is not installed: pip install -e ".[redis]"',
                value=redacted(url),
            ) from None
        try:
            self.client = redis.Redis.from_url(
                url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
            )
        except ValueError as error:
            raise InputError(f"not a Redis URL ({error})", value=redacted(url)) from None
        self.url = redacted(url)
        self.prefix = prefix
        self.errors = (redis.RedisError, OSError)

    @classmethod
    def from_settings(cls, settings: SharedSettings) -> SharedState | None:
        return None if not settings.url else cls(settings.url, settings.prefix, settings.timeout_s)

    def _key(self, *parts: str) -> str:
        return ":".join([self.prefix, *parts])

    # ------------------------------------------------------------- reading (workers)
    def generation(self) -> int:
        """The publish counter (0 before any publish); raises a Redis error when unreachable."""
        value = self.client.get(self._key("generation"))
        return int(value) if value is not None else 0

    def model(self) -> dict[str, str] | None:
        """The last promotion published (uri, version, published_at), or None."""
        stored = self.client.hgetall(self._key("model"))
        return {key.decode(): value.decode() for key, value in stored.items()} or None

    def outcomes(self, version: str) -> dict[str, Any] | None:
        """The recent-delay history published for model `version` (history bytes, until,
        generation, published_at), or None."""
        stored = self.client.hgetall(self._key("outcomes", version))
        if not stored:
            return None
        values = {key.decode(): value for key, value in stored.items()}
        return {
            "history": values["history"],
            "until": values["until"].decode() or None,
            "generation": int(values["generation"]),
            "published_at": float(values["published_at"]),
        }

    def schedule_generation(self) -> int:
        """Generation of the last planned-schedule feed (0: none)."""
        value = self.client.get(self._key("schedule-generation"))
        return int(value) if value is not None else 0

    def schedule(self) -> Any:
        """Every planned flight fed (a checked FEED_COLUMNS table), or None."""
        import orjson
        import pandas as pd

        from latam_airlines.models.schedule_feed import FEED_COLUMNS, combine_schedules

        stored = self.client.hgetall(self._key("schedule"))
        if not stored:
            return None
        rows = [{"flight": key.decode(), **orjson.loads(value)} for key, value in stored.items()]
        return combine_schedules([pd.DataFrame(rows, columns=FEED_COLUMNS)], "the Redis schedule")

    # ------------------------------------------------------------- writing (publishers)
    def _publish(self, key: str, mapping: dict[str, Any]) -> int:
        # One atomic step: a worker that sees the new generation finds the state written with it.
        fields = [item for pair in {**mapping, "published_at": time.time()}.items() for item in pair]
        return int(self.client.eval(_PUBLISH, 2, self._key("generation"), key, *fields))

    def publish_outcomes(self, model: Any) -> int:
        """Publish `model`'s recent-delay history under its version; returns the generation."""
        from latam_airlines.models.outcomes import export_history

        version = str(model.metadata.get("version"))
        mapping = {"history": export_history(model), "until": model.outcomes_until or ""}
        return self._publish(self._key("outcomes", version), mapping)

    def publish_schedule(self, flights: Any) -> int:
        """Merge checked planned flights (`schedule_feed.check_schedule`) into the shared
        schedule, per flight; returns the generation."""
        import orjson

        fields = []
        for row in flights.itertuples(index=False):
            record = dict(zip(flights.columns, row))
            fields += [record.pop("flight"), orjson.dumps(record)]
        keys = [
            self._key("generation"),
            self._key("schedule"),
            self._key("schedule-generation"),
        ]
        return int(self.client.eval(_PUBLISH_SCHEDULE, 3, *keys, *fields))

    def publish_model(self, uri: str, version: str | None) -> int:
        """Announce a promotion: every worker re-polls its model source now."""
        return self._publish(self._key("model"), {"uri": uri, "version": version or ""})


def publish_best_effort(action: str, publish: Any, settings: SharedSettings | None = None) -> str | None:
    """Run `publish(shared_state)` if a Redis URL is set; a line saying what happened (None
    without Redis). Redis down never fails the command: the artifact already holds the change."""
    settings = settings or shared_settings()
    shared = SharedState.from_settings(settings)
    if shared is None:
        return None
    try:
        generation = publish(shared)
    except shared.errors as error:
        return (
            f"WARNING: {action} not published to Redis at {shared.url} ({type(error).__name__}: {error}); "
            "running servers pick it up from their model source only"
        )
    return f"published {action} to Redis at {shared.url} (generation {generation})"


def with_latest_history(model: Any, shared: SharedState | None) -> Any:
    """`model`, or a copy holding the history Redis has for its version when that reaches a later
    day (a registry artifact never changes: its feeds live in Redis and in the local copy).
    Redis unreachable: the model as it is."""
    from latam_airlines.models.outcomes import import_history

    if shared is None or not model.outcomes_until:
        return model
    try:
        state = shared.outcomes(str(model.metadata.get("version")))
    except shared.errors:
        return model
    if state is None or (state["until"] or "") <= model.outcomes_until:
        return model
    return import_history(model, state["history"])


@dataclass
class FeedResult:
    path: str
    recorded: int
    before: str | None
    after: str | None
    published: str | None  # what happened with Redis (None: no Redis set)

    def summary_line(self) -> str:
        line = (
            f"recorded {self.recorded:,} departures in {self.path}: recent delay rates now as of "
            f"{self.after} (were {self.before})"
        )
        return line + (f"\n{self.published}" if self.published else "")


def feed_and_publish(
    model_path: str | Path, data: str | Path, settings: SharedSettings | None = None
) -> FeedResult:
    """Feed the departures in `data` to the artifact at `model_path` (rewritten in place,
    atomically), then publish its history to Redis when one is set: `latam outcomes` and the
    `daily_outcomes` DAG. Idempotent per flight, so a retried run changes nothing more."""
    from latam_airlines.io import check_output, is_url
    from latam_airlines.models import load_model
    from latam_airlines.models.outcomes import feed_outcomes

    settings = settings or shared_settings()
    path = str(model_path) if is_url(model_path) else Path(model_path)  # local or s3://
    check_output(path)  # the artifact is rewritten in place
    shared = SharedState.from_settings(settings)
    model = with_latest_history(load_model(path), shared)
    before = model.outcomes_until
    recorded = feed_outcomes(model, data)
    model.save(path)
    published = publish_best_effort(
        "the outcome history", lambda store: store.publish_outcomes(model), settings
    )
    return FeedResult(str(path), recorded, before, model.outcomes_until, published)


@dataclass
class ScheduleFeedResult:
    path: str
    source: str
    flights: int
    change: Any  # schedule_feed.ScheduleChange
    state: dict[str, Any]  # schedule_feed.schedule_state after the feed
    published: str | None  # what happened with Redis (None: no Redis set)

    def summary_line(self) -> str:
        change = self.change
        line = (
            f"recorded {self.flights:,} planned flights of {self.source} in {self.path} "
            f"({change.new:,} new, {change.replaced:,} replaced, {change.unchanged:,} unchanged): "
            f"planned schedule fed for {self.state['days']} day(s), {self.state['from']} to {self.state['until']}"
        )
        return line + (f"\n{self.published}" if self.published else "")


def schedule_and_publish(
    model_path: str | Path, flights: Any, source: str, settings: SharedSettings | None = None
) -> ScheduleFeedResult:
    """Record checked planned flights (`schedule_feed.read_schedule`) in the artifact at
    `model_path` (rewritten in place, atomically; nothing written when the feed changes
    nothing), then merge them into Redis's shared schedule when one is set: `latam schedule`
    and the daily DAG. Idempotent per flight, so a retried run changes nothing more."""
    from latam_airlines.io import check_output, is_url
    from latam_airlines.models import load_model
    from latam_airlines.models.schedule_feed import apply_schedule, schedule_state

    settings = settings or shared_settings()
    path = str(model_path) if is_url(model_path) else Path(model_path)  # local or s3://
    check_output(path)
    model = load_model(path)
    change = apply_schedule(model, flights)  # InputError before anything is written
    if change.changed:
        model.save(path)
    published = publish_best_effort(
        "the planned schedule", lambda store: store.publish_schedule(flights), settings
    )
    return ScheduleFeedResult(str(path), source, len(flights), change, schedule_state(model), published)
