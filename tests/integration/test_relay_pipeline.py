"""The whole local path with this issue's real consumers: an intake and a deadline reached write their events with
the dossier, the relay hands them to the consumers in-process (as `make run` does), each consumer applies each
event once, and what the notifications consumer recorded can be listed."""

from dataclasses import replace

from chalicelib.adapters.dynamodb.dossiers import DossierRepository
from chalicelib.adapters.dynamodb.models import OutboxModel, ProcessedModel
from chalicelib.domain.dossier import Actor
from chalicelib.services.consumers import registry
from chalicelib.services.intake import receive_dossier
from chalicelib.services.relay import relay
from tests.api.helpers import CRIMINAL_RECORD
from tests.integration.relay_worker import local_deps
from tests.unit.calendars import vn
from tests.units import CENTRE

REPO = DossierRepository()
DESK = Actor("desk.pipe", CENTRE, frozenset({"desk"}))


def relay_until_published(deps, code: str) -> None:
    for _ in range(50):
        if not any(item.pending for item in OutboxModel.query(code, consistent_read=True)):
            return
        relay(deps, limit=500, older_than_seconds=0)
    raise AssertionError(f"events of {code} still pending")


def applied(code: str) -> dict[str, set[int]]:
    """Claimed consumer's name -> the seqs of this dossier's events it applied (the others keep no record: their
    effects show it)."""
    out: dict[str, set[int]] = {}
    for consumer in registry():
        if not consumer.claimed:
            continue
        for item in OutboxModel.query(code, consistent_read=True):
            try:
                record = ProcessedModel.get(f"{consumer.name}#{code}/{int(item.seq)}", consistent_read=True)
            except ProcessedModel.DoesNotExist:
                continue
            if record.state == "done":
                out.setdefault(consumer.name, set()).add(int(item.seq))
    return out


def test_intake_and_a_deadline_reach_the_real_consumers_once():
    received_at = vn(2025, 3, 3, 9)  # before the other tests' dossiers: the relay reaches it first
    deps = local_deps(now=lambda: received_at)
    code = receive_dossier(deps, DESK, CRIMINAL_RECORD)["code"]
    relay_until_published(deps, code)
    events = {int(i.seq): i.event_data["type"] for i in OutboxModel.query(code, consistent_read=True)}
    # The portal sync recorded each event once, as item seq (its put is conditioned on the item being new).
    state = deps.sync.state(code)
    assert state is not None and state.recorded == len(events)
    assert [int(i["seq"]) for i in deps.sync.items(code, 1, 100)] == sorted(events)

    # The due time passes: the wake's flags and their events are written together, then relayed.
    dossier = REPO.get(code, consistent=True)
    due = dossier.next_wake
    assert due is not None
    later = dossier.due_at
    assert dossier.wake(later)
    REPO.save(dossier, None, dossier.version - 1)
    relay_until_published(replace(deps, now=lambda: later), code)

    events = {int(i.seq): i.event_data["type"] for i in OutboxModel.query(code, consistent_read=True)}
    assert "dossier.due_soon" in events.values()
    done = applied(code)
    assert done["notifications"] == {s for s, t in events.items() if t in _types("notifications")}
    sent = deps.notifications.for_dossier(code)
    assert {n["template"] for n in sent} >= {"due_soon"}
    assert all(n["code"] == code and n["event_id"].startswith(f"{code}/") for n in sent)

    # Everything relayed again (a relay that died before marking): nothing is applied or recorded twice.
    for item in OutboxModel.query(code, consistent_read=True):
        item.update(actions=[OutboxModel.pending.set("0"), OutboxModel.pending_sk.set(f"2000#{code}#{item.seq}")])
    relay_until_published(deps, code)
    assert applied(code) == done
    assert deps.notifications.for_dossier(code) == sent
    again = deps.sync.state(code)
    assert again is not None and again.recorded == len(events)


def _types(name: str) -> frozenset[str]:
    return next(c.types for c in registry() if c.name == name)
