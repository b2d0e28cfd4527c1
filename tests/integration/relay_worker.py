"""A consumer whose effects are counted in DynamoDB, and a relay run that can be killed half-way.

    python -m tests.integration.relay_worker after_publish N   (SIGKILL after N test events were applied,
                                                                 before the relay marks them published)
    python -m tests.integration.relay_worker in_consumer N     (SIGKILL inside the consumer, on the N-th test
                                                                 event, after its claim and before its effect)

The consumer records, per event, how many times it was applied, and whether the dossier's previous event had
been applied before it: the relay tests read these counters.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from chalicelib.adapters.dynamodb.models import CounterModel
from chalicelib.adapters.local_bus import LocalPublisher
from chalicelib.bootstrap import Deps, deps
from chalicelib.domain.events import EVENT_TYPES, DomainEvent
from chalicelib.services import consumers
from chalicelib.services.ports import PublishError
from chalicelib.services.relay import relay

PREFIX = "TEST.RELAY"
_die_before: Callable[[DomainEvent], None] = lambda event: None  # noqa: E731


def count(name: str) -> int:
    try:
        return int(CounterModel.get(name, consistent_read=True).value)
    except CounterModel.DoesNotExist:
        return 0


def bump(name: str) -> None:
    CounterModel(name).update(actions=[CounterModel.value.add(1)])


def apply(_deps: Deps, event: DomainEvent) -> None:
    if not event.code.startswith(PREFIX):
        return
    if event.seq > 1 and count(f"applied#{event.code}/{event.seq - 1}") == 0:
        bump(f"out_of_order#{event.code}")
    _die_before(event)
    bump(f"applied#{event.id}")


CONSUMER = consumers.Consumer("relay_test", frozenset(EVENT_TYPES), apply)


def use_test_consumer() -> None:
    consumers.registry = lambda: (CONSUMER,)  # type: ignore[assignment]


def local_deps(**changes: object) -> Deps:
    """The default dependencies with an in-process bus that dispatches to the consumers with these deps."""
    holder: dict[str, Deps] = {}
    # One dossier at a time: the kill tests count what a worker applied before it died.
    publisher = LocalPublisher(lambda e, only: consumers.dispatch(holder["deps"], e, only=only), dossiers_at_once=1)
    holder["deps"] = replace(deps(), publisher=publisher, **changes)  # type: ignore[arg-type]
    return holder["deps"]


class KillAfter(LocalPublisher):
    """Applies events like the local bus, and dies (SIGKILL) once `n` test events were applied."""

    keeps_order = False  # one event per dossier per call: a later one never applied before a failed earlier one

    def __init__(self, inner: LocalPublisher, n: int) -> None:
        self.inner, self.left = inner, n

    def publish(self, events: Sequence[DomainEvent]) -> None:
        failed: list[str] = []
        for event in events:
            try:
                self.inner.publish([event])
            except PublishError as exc:
                failed.extend(exc.failed)
                continue
            if event.code.startswith(PREFIX):
                self.left -= 1
                if self.left == 0:
                    os.kill(os.getpid(), signal.SIGKILL)
        if failed:
            raise PublishError("not applied", failed)


def main(mode: str, n: int) -> None:
    global _die_before
    use_test_consumer()
    base = local_deps()
    if mode == "after_publish":
        run_deps = replace(base, publisher=KillAfter(base.publisher, n))  # type: ignore[arg-type]
    elif mode == "in_consumer":
        seen = {"left": n}

        def die(event: DomainEvent) -> None:
            seen["left"] -= 1
            if seen["left"] == 0:
                os.kill(os.getpid(), signal.SIGKILL)

        _die_before = die
        run_deps = base
    else:
        raise SystemExit(f"unknown mode {mode}")
    for _ in range(50):
        if not relay(run_deps, limit=200, older_than_seconds=0)["found"]:
            break
    raise SystemExit("not killed: fewer test events than asked")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
