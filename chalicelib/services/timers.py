"""Dossier timers: the "deadline_timers" consumer that starts and stops them, and the step each timer runs.

A timer belongs to one watch generation of one dossier (`Dossier.watch_generation`, bumped whenever the watched
instants change: receipt, pause, resume, restart, reschedule, a new step, close). On AWS it is a Step Functions
execution (infra/deadline-timer.asl.json): it waits until `wake_at`, runs `timer_step` through the Lambda
function `deadline_timer`, and waits for the instant it answers. The loop has no Choice state (each would be one
more billed transition per wake): a timer ends by being stopped, by `on_event` when the watch changes or the
dossier closes, or by `timer_step` itself when nothing is left to watch. So a dossier resolved on time costs one
transition (resolved before the due-soon warning) or three (warned, then resolved): docs/deadlines.md.
Locally there are no timers: the sweep (services.deadlines.sweep) wakes dossiers, and it stays the safety net on
AWS for anything a timer missed.

Neither side trusts the event it was handed: both re-read the dossier, so redelivered, late or out-of-order events
converge on the timer of the current generation, and an old generation's timer that wakes does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain.clock import iso
from ..domain.events import DomainEvent

if TYPE_CHECKING:
    from .deps import Deps


def on_event(deps: Deps, event: DomainEvent) -> None:
    """Consumer "deadline_timers": the dossier's watch may have changed; run the timer of its current
    generation (from its next wake) and stop the previous generation's; a dossier with nothing left to
    watch (closed, resolved, paused without a supplement period) keeps no timer."""
    dossier = deps.dossiers.get(event.code, consistent=True)
    if dossier is None:
        return
    generation = dossier.watch_generation
    if generation < 1:
        return  # nothing was ever watched (e.g. a desk refusal at the counter)
    if generation > 1:
        deps.timers.stop(event.code, generation - 1)
    wake_at = dossier.next_wake
    if wake_at is None:
        deps.timers.stop(event.code, generation)
    else:
        deps.timers.start(event.code, generation, wake_at)


def timer_step(deps: Deps, payload: dict[str, Any]) -> dict[str, Any]:
    """What a timer runs at each wake: input {"code", "generation", "wake_at"}; answer the same with the next
    `wake_at` (ISO, Z) and `done`. A timer of a generation the dossier has left, or of a missing dossier,
    records nothing. When done, the timer is stopped here (its execution ends without another state). Raises
    ValueError on a malformed payload (the execution fails visibly)."""
    code, generation = _payload(payload)
    dossier = deps.dossiers.get(code, consistent=True)
    next_wake = None
    if dossier is not None and dossier.watch_generation == generation:
        from .deadlines import wake

        next_wake = wake(deps, code)
    if next_wake is None:
        deps.timers.stop(code, generation)
    return {"code": code, "generation": generation, "wake_at": iso(next_wake) if next_wake else None,
            "done": next_wake is None}


def _payload(payload: Any) -> tuple[str, int]:
    if not isinstance(payload, dict):
        raise ValueError("a timer's input is an object {code, generation, wake_at}")
    code, generation = payload.get("code"), payload.get("generation")
    if not isinstance(code, str) or not code:
        raise ValueError("timer input: code must be a dossier code")
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 1:
        raise ValueError("timer input: generation must be a positive integer")
    return code, generation
