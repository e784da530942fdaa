"""The Runtime: supervision, restarts, escalation, ordered shutdown, draining, signals, loops."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any, ClassVar

import pytest

import actors
from actors import (
    FAILURE_TOPIC,
    NEVER_RESTART,
    Actor,
    ActorEscalation,
    ActorFailed,
    ActorNotFound,
    Exhausted,
    RestartPolicy,
    RestartWindow,
    Runtime,
    RuntimeStopped,
    SpawnError,
    address_of,
)
from bus import ActorStopped, Bus, Envelope, message


@message("test.actors.work")
class Work:
    n: int


@message("test.actors.crash")
class Crash:
    text: str


@message("test.actors.ask")
class Ask:
    n: int


class Recorder(Actor):
    """Records its hooks and messages in a shared log; crashes on ``Crash``."""

    def __init__(self, log: list[Any] | None = None, label: str = "") -> None:
        self.log: list[Any] = [] if log is None else log
        self.label = label
        self.started = asyncio.Event()
        self.handled = asyncio.Event()
        self.count = 0

    async def on_start(self) -> None:
        self.log.append(("start", self.label or self.name))
        self.started.set()

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case Crash(text=text):
                raise ValueError(text)
            case Work(n=n):
                self.count += 1
                self.log.append(("work", self.label or self.name, n))
                self.handled.set()

    async def on_stop(self) -> None:
        self.log.append(("stop", self.label or self.name))


async def failures_of(sub: Any, n: int) -> list[ActorFailed]:
    out = []
    for _ in range(n):
        env = await sub.get()
        assert env.sender == "runtime"
        out.append(env.message)
    return out


# --------------------------------------------------------------------------- basics


async def test_spawned_actor_receives_on_its_address_and_topics() -> None:
    async with Runtime() as rt:
        log: list[Any] = []
        ref = rt.spawn(Recorder(log), name="rec", topics=("work.*",))
        assert ref.name == "rec" and ref.address == address_of("rec") == "actor.rec"
        assert rt.actors == ("rec",) and len(rt) == 1
        assert await rt.bus.publish("actor.rec", Work(1)) == 1
        assert await rt.bus.publish("work.x", Work(2)) == 1
        assert await rt.settle()
        assert log == [("start", "rec"), ("work", "rec", 1), ("work", "rec", 2)]
    assert ref.stopped
    assert log[-1] == ("stop", "rec")
    assert rt.bus.stats().subscriptions == 0


async def test_class_topics_and_generated_names() -> None:
    class Listener(Recorder):
        topics: ClassVar[tuple[str, ...]] = ("news.>",)

    async with Runtime() as rt:
        log: list[Any] = []
        ref = rt.spawn(Listener(log))
        assert ref.name.startswith("listener-")
        await rt.bus.publish("news.today", Work(5))
        await rt.settle()
        assert ("work", ref.name, 5) in log


async def test_actor_helpers_tell_and_publish() -> None:
    class Relay(Actor):
        async def receive(self, envelope: Envelope) -> None:
            await self.tell("sink", Work(envelope.message.n * 10))
            await self.publish("relayed", Work(envelope.message.n))

    async with Runtime() as rt:
        sink = Recorder()
        watch = rt.bus.subscribe("relayed")
        rt.spawn(sink, name="sink")
        rt.spawn(Relay(), name="relay")
        await rt.bus.publish("actor.relay", Work(4))
        env = await watch.get()
        assert env.sender == "relay" and env.message == Work(4)
        await sink.handled.wait()
        assert ("work", "sink", 40) in sink.log


async def test_spawn_errors() -> None:
    async with Runtime() as rt:
        rt.spawn(Recorder(), name="dup")
        with pytest.raises(SpawnError, match="already running"):
            rt.spawn(Recorder(), name="dup")
        for bad in ("a.b", "a b", ""):
            with pytest.raises(SpawnError):
                rt.spawn(Recorder(), name=bad)
        with pytest.raises(SpawnError):
            rt.spawn(lambda: object(), name="notactor")  # type: ignore[arg-type, return-value]
        with pytest.raises(ValueError):
            rt.spawn(Recorder(), name="badtopic", topics=("a..b",))
        assert rt.actors == ("dup",)
        assert rt.bus.stats().subscriptions == 1
        with pytest.raises(ActorNotFound):
            await rt.stop("nobody")
    with pytest.raises(RuntimeStopped):
        rt.spawn(Recorder(), name="late")
    with pytest.raises(RuntimeStopped):
        Runtime().spawn(Recorder(), name="never")


async def test_a_stopped_name_can_be_spawned_again() -> None:
    async with Runtime() as rt:
        first = Recorder()
        ref = rt.spawn(first, name="again")
        await first.started.wait()
        await rt.stop(ref)
        assert ref.stopped and rt.actors == ()
        second = Recorder()
        rt.spawn(second, name="again")
        await rt.bus.publish("actor.again", Work(1))
        await second.handled.wait()
        assert first.count == 0


async def test_actor_can_stop_itself_after_the_current_message() -> None:
    class Once(Recorder):
        async def receive(self, envelope: Envelope) -> None:
            await super().receive(envelope)
            self.stop()

    async with Runtime() as rt:
        actor = Once()
        ref = rt.spawn(actor, name="once")
        await rt.bus.publish("actor.once", Work(1))
        await rt.bus.publish("actor.once", Work(2))
        await ref.wait()
        assert actor.log == [("start", "once"), ("work", "once", 1), ("stop", "once")]
        assert rt.actors == ()


async def test_take_waiting_takes_the_actors_own_queued_envelopes() -> None:
    async with Runtime() as rt:
        gate = asyncio.Event()
        entered = asyncio.Event()

        class Batcher(Actor):
            batches: ClassVar[list[list[int]]] = []

            async def receive(self, envelope: Envelope) -> None:
                entered.set()
                await gate.wait()
                rest = [e.message.n for e in self.take_waiting()]
                self.batches.append([envelope.message.n, *rest])

        rt.spawn(Batcher(), name="batcher")
        await rt.bus.publish("actor.batcher", Work(0))
        await entered.wait()
        for i in range(1, 5):
            await rt.bus.publish("actor.batcher", Work(i))
        gate.set()
        assert await rt.settle()
        assert Batcher.batches == [[0, 1, 2, 3, 4]]


async def test_what_an_actor_took_is_its_own_and_let_go_once_its_receive_returns() -> None:
    """``taken`` is per actor, and a batch handled in full is not kept alive (nor failed later)."""
    async with Runtime() as rt:
        gate = asyncio.Event()
        entered = asyncio.Event()
        seen: list[list[int]] = []

        class Batcher(Actor):
            async def receive(self, envelope: Envelope) -> None:
                entered.set()
                await gate.wait()
                seen.append([e.message.n for e in self.take_waiting()])
                assert len(self.taken) == len(seen[-1])  # held while the batch is under way

        first, other = Batcher(), Batcher()
        rt.spawn(first, name="first")
        rt.spawn(other, name="other")
        assert first.taken is not other.taken
        await rt.bus.publish("actor.first", Work(0))
        await entered.wait()
        for i in range(1, 4):
            await rt.bus.publish("actor.first", Work(i))
        gate.set()
        assert await rt.settle()
        assert seen == [[1, 2, 3]]
        assert first.taken == [] and other.taken == []


# --------------------------------------------------------------------------- supervision


async def test_crashes_restart_per_policy_then_stop() -> None:
    async with Runtime() as rt:
        failures = rt.bus.subscribe(FAILURE_TOPIC)
        actor = Recorder()
        ref = rt.spawn(actor, name="crashy", policy=RestartPolicy(max_restarts=2, within=10))
        await rt.bus.publish("actor.crashy", Crash("boom 0"))
        (first,) = await failures_of(failures, 1)
        await rt.bus.publish("actor.crashy", Work(1))  # the restarted actor goes on
        await actor.handled.wait()
        await rt.bus.publish("actor.crashy", Crash("boom 1"))
        await rt.bus.publish("actor.crashy", Crash("boom 2"))
        await rt.bus.publish("actor.crashy", Work(2))  # never handled: the actor stopped
        second, third = await failures_of(failures, 2)
        await ref.wait()
        got = [first, second, third]
        assert [f.action for f in got] == ["restart", "restart", "stop"]
        assert [f.error for f in got] == ["boom 0", "boom 1", "boom 2"]
        assert {f.error_type for f in got} == {"ValueError"}
        assert {f.actor for f in got} == {"crashy"}
        assert [f.restarts for f in got] == [1, 2, 2]
        assert all("ValueError: boom" in f.traceback for f in got)
        assert rt.failures == 3
        assert rt.actors == ()
        # same instance throughout: on_start/on_stop around each life
        kinds = [e[0] for e in actor.log]
        assert kinds == ["start", "stop", "start", "work", "stop", "start", "stop"]
        assert ("work", "crashy", 2) not in actor.log


async def test_never_restart_stops_at_the_first_crash() -> None:
    async with Runtime() as rt:
        failures = rt.bus.subscribe(FAILURE_TOPIC)
        ref = rt.spawn(Recorder(), name="fragile", policy=NEVER_RESTART)
        await rt.bus.publish("actor.fragile", Crash("once"))
        (f,) = await failures_of(failures, 1)
        assert f.action == "stop" and f.restarts == 0
        await ref.wait()


async def test_crash_in_on_start_is_supervised_too() -> None:
    class BadStart(Actor):
        starts = 0

        async def on_start(self) -> None:
            BadStart.starts += 1
            raise RuntimeError(f"start {BadStart.starts}")

    async with Runtime() as rt:
        failures = rt.bus.subscribe(FAILURE_TOPIC)
        ref = rt.spawn(BadStart(), name="badstart", policy=RestartPolicy(1, 10))
        got = await failures_of(failures, 2)
        await ref.wait()
        assert [(f.action, f.error) for f in got] == [("restart", "start 1"), ("stop", "start 2")]
        assert {f.error_type for f in got} == {"RuntimeError"}


async def test_restart_window_forgets_old_crashes() -> None:
    window = RestartWindow(RestartPolicy(max_restarts=2, within=10))
    assert window.allow(0.0) and window.allow(1.0)
    assert not window.allow(2.0)
    assert window.allow(10.5)  # the crash at 0.0 left the window
    assert not window.allow(10.8)  # 1.0 and 10.5 are still in it
    assert window.restarts == 3
    never = RestartWindow(NEVER_RESTART)
    assert not never.allow(0.0)


@pytest.mark.parametrize(("restarts", "within"), [(-1, 1.0), (1, 0.0), (1, -5.0)])
def test_restart_policy_validates(restarts: int, within: float) -> None:
    with pytest.raises(ValueError):
        RestartPolicy(max_restarts=restarts, within=within)


async def test_escalation_fails_the_runtime() -> None:
    bystander_log: list[Any] = []
    bus = Bus()
    failures = bus.subscribe(FAILURE_TOPIC)
    policy = RestartPolicy(max_restarts=1, within=10, on_exhausted=Exhausted.ESCALATE)
    with pytest.raises(ExceptionGroup) as info:
        async with Runtime(bus) as rt:
            bystander = Recorder(bystander_log)
            rt.spawn(bystander, name="bystander")
            rt.spawn(Recorder(), name="critical", policy=policy)
            await bystander.started.wait()
            await rt.bus.publish("actor.critical", Crash("first"))
            await rt.bus.publish("actor.critical", Crash("fatal"))
            await asyncio.Event().wait()  # cancelled by the escalation
    assert info.group_contains(ActorEscalation)
    escalation = info.value.subgroup(ActorEscalation).exceptions[0]  # type: ignore[union-attr]
    assert "critical" in str(escalation)
    assert isinstance(escalation.__cause__, ValueError) and str(escalation.__cause__) == "fatal"
    got = [env.message for env in [failures.get_nowait(), failures.get_nowait()] if env]
    assert [(f.action, f.error) for f in got] == [("restart", "first"), ("escalate", "fatal")]
    # the rest of the system was stopped
    assert bystander_log[-1] == ("stop", "bystander")
    assert rt.actors == ()


async def test_factory_actors_are_fresh_after_a_restart() -> None:
    made: list[Recorder] = []

    def factory() -> Recorder:
        made.append(Recorder())
        return made[-1]

    async with Runtime() as rt:
        failures = rt.bus.subscribe(FAILURE_TOPIC)
        rt.spawn(factory, name="fresh", policy=RestartPolicy(3, 10))
        await rt.bus.publish("actor.fresh", Work(1))
        await rt.bus.publish("actor.fresh", Work(2))
        await rt.bus.publish("actor.fresh", Crash("reset"))
        await failures_of(failures, 1)
        await rt.bus.publish("actor.fresh", Work(3))
        await made[-1].handled.wait()
        assert len(made) == 2 and made[0] is not made[1]
        assert made[0].count == 2 and made[1].count == 1  # state did not carry over
        assert made[1].name == "fresh" and made[1].runtime is rt and made[1].bus is rt.bus


async def test_instance_actors_are_reused_after_a_restart() -> None:
    async with Runtime() as rt:
        failures = rt.bus.subscribe(FAILURE_TOPIC)
        actor = Recorder()
        rt.spawn(actor, name="same", policy=RestartPolicy(3, 10))
        await rt.bus.publish("actor.same", Work(1))
        await rt.bus.publish("actor.same", Crash("x"))
        await failures_of(failures, 1)
        await rt.bus.publish("actor.same", Work(2))
        assert await rt.settle()
        assert actor.count == 2


# --------------------------------------------------------------------------- shutdown


async def test_shutdown_stops_in_reverse_start_order() -> None:
    log: list[Any] = []
    async with Runtime() as rt:
        made = [Recorder(log, label) for label in "abcd"]
        for r in made:
            rt.spawn(r, name=r.label)
        for r in made:
            await r.started.wait()
    stops = [e[1] for e in log if e[0] == "stop"]
    starts = [e[1] for e in log if e[0] == "start"]
    assert starts == ["a", "b", "c", "d"]
    assert stops == ["d", "c", "b", "a"]


async def test_actors_stopped_before_they_ever_ran_still_start_and_stop() -> None:
    log: list[Any] = []
    async with Runtime(stop_timeout=2.0) as rt:
        refs = [rt.spawn(Recorder(log, label), name=label) for label in "abc"]
        # no await between spawning and stopping: the actor tasks have not run yet
        await rt.stop(refs[1])
        assert refs[1].stopped, "stop() returned but the actor never finished stopping"
        assert rt.actors == ("a", "c")
        rt.spawn(Recorder(log, "b2"), name="b")  # the name is free again
    assert all(r.stopped for r in refs)
    assert [e for e in log if e[1] == "b"] == [("start", "b"), ("stop", "b")]
    assert [e[1] for e in log if e[0] == "stop"][-3:] == ["b2", "c", "a"]
    assert rt.bus.stats().subscriptions == 0


async def test_shutdown_with_requests_in_flight_is_bounded_and_leaves_no_tasks() -> None:
    before = asyncio.all_tasks()
    hung = asyncio.Event()

    class Hang(Actor):
        async def receive(self, envelope: Envelope) -> None:
            hung.set()
            await asyncio.Event().wait()  # never replies

        async def on_stop(self) -> None:
            await asyncio.Event().wait()  # and never finishes stopping either

    class Asker(Actor):
        async def receive(self, envelope: Envelope) -> None:
            await self.request("actor.hang", Ask(0), timeout=30.0)

    stop_timeout = 0.2
    rt = Runtime(stop_timeout=stop_timeout)
    async with rt:
        rt.spawn(Asker(), name="asker")
        rt.spawn(Hang(), name="hang")
        await rt.bus.publish("actor.asker", Work(0))  # the asker waits on hang
        requests = [
            asyncio.create_task(rt.bus.request("actor.hang", Ask(i), timeout=30.0))
            for i in range(3)
        ]
        await hung.wait()
        assert rt.bus.pending_requests == 4
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with asyncio.timeout(10):  # a guard; the bound is asserted below
            await rt.shutdown()
        elapsed = loop.time() - started
    assert elapsed < stop_timeout + 1.0, f"shutdown took {elapsed:.2f}s"
    results = await asyncio.gather(*requests, return_exceptions=True)
    assert all(isinstance(r, ActorStopped) for r in results), results
    assert rt.bus.pending_requests == 0
    assert rt.actors == ()
    assert asyncio.all_tasks() == before


async def test_drain_on_stop_handles_queued_frames_before_on_stop() -> None:
    class Sink(Recorder):
        drain_on_stop = True

    async with Runtime() as rt:
        sink = Sink()
        ref = rt.spawn(sink, name="sink")
        await sink.started.wait()
        for i in range(5):  # queued while the actor is idle; none is handled before stop()
            await rt.bus.publish("actor.sink", Work(i))
        await rt.stop(ref)
    assert sink.log == [("start", "sink")] + [("work", "sink", i) for i in range(5)] + [
        ("stop", "sink")
    ]


async def test_without_drain_queued_frames_are_dropped_and_queued_requests_fail() -> None:
    busy = asyncio.Event()

    class Busy(Recorder):
        async def receive(self, envelope: Envelope) -> None:
            await super().receive(envelope)
            busy.set()
            await asyncio.Event().wait()  # stuck on the first message

    async with Runtime() as rt:
        actor = Busy()
        ref = rt.spawn(actor, name="plain")
        await rt.bus.publish("actor.plain", Work(1))
        await busy.wait()
        req = asyncio.create_task(rt.bus.request("actor.plain", Ask(1), timeout=30.0))
        await asyncio.sleep(0)  # let the request be queued
        await rt.bus.publish("actor.plain", Work(2))
        assert len(rt._cells["plain"].sub.mailbox) == 2  # the request and Work(2) wait
        await rt.stop(ref)
        with pytest.raises(ActorStopped, match="plain"):
            await req
    assert actor.log == [("start", "plain"), ("work", "plain", 1), ("stop", "plain")]


async def test_stop_timeout_bounds_a_hanging_on_stop() -> None:
    class Stuck(Recorder):
        async def on_stop(self) -> None:
            await asyncio.Event().wait()

    async with Runtime(stop_timeout=0.05) as rt:
        actor = Stuck()
        ref = rt.spawn(actor, name="stuck")
        await actor.started.wait()
        async with asyncio.timeout(10):  # guard
            await rt.stop(ref)
        assert ref.stopped


# --------------------------------------------------------------------------- signals, loops


async def test_request_shutdown_sets_the_event() -> None:
    async with Runtime() as rt:
        assert not rt.shutdown_requested.is_set()
        rt.request_shutdown()
        assert rt.shutdown_requested.is_set()
        await rt.shutdown_requested.wait()


async def test_sigterm_requests_shutdown() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    async with Runtime() as rt:
        rt.install_signal_handlers()
        try:
            # refuse to send the signal unless the loop really handles it (else pytest dies)
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, previous, None)
            os.kill(os.getpid(), signal.SIGTERM)
            async with asyncio.timeout(10):  # guard
                await rt.shutdown_requested.wait()
        finally:
            rt.remove_signal_handlers()
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler from before is back


def _loop_module() -> Any:
    async def main() -> str:
        return type(asyncio.get_running_loop()).__module__

    return main()


def test_run_uses_uvloop() -> None:
    pytest.importorskip("uvloop")
    assert actors.run(_loop_module(), use_uvloop=True).startswith("uvloop")


def test_run_without_uvloop_uses_asyncio() -> None:
    assert actors.run(_loop_module(), use_uvloop=False).startswith("asyncio")


@pytest.mark.parametrize("use_uvloop", [True, False])
def test_a_runtime_works_on_either_loop(use_uvloop: bool) -> None:
    class Echo(Actor):
        async def receive(self, envelope: Envelope) -> None:
            self.reply(envelope, Work(envelope.message.n + 1))

    async def main() -> int:
        async with Runtime() as rt:
            rt.spawn(Echo(), name="echo")
            reply = await rt.bus.request("actor.echo", Ask(1), timeout=5.0)
            return reply.n  # type: ignore[no-any-return]

    assert actors.run(main(), use_uvloop=use_uvloop) == 2


def test_loop_factory() -> None:
    assert actors.loop_factory(False) is None
    uvloop = pytest.importorskip("uvloop")
    assert actors.loop_factory(True) is uvloop.new_event_loop


async def test_an_actor_with_a_backlog_lets_the_others_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An actor handling a long backlog lets the others run once its slice is used (here at
    once: a zero slice), so a message for another actor is handled long before the backlog is
    done."""
    from actors import runtime
    from actors.runtime import FAIR_RUN

    monkeypatch.setattr(runtime, "FAIR_SLICE_S", 0.0)

    order: list[str] = []

    class Recorder(Actor):
        capacity = 1 << 12

        def __init__(self, label: str) -> None:
            self.label = label

        async def receive(self, envelope: Envelope) -> None:
            order.append(self.label)

    async with Runtime(Bus()) as rt:
        rt.spawn(Recorder("busy"), name="busy", topics=("t.busy",))
        rt.spawn(Recorder("other"), name="other", topics=("t.other",))
        assert await rt.settle()
        backlog = 20 * FAIR_RUN
        for _ in range(backlog):  # queued without a pause: the busy actor has not run yet
            rt.bus.publish_nowait("t.busy", Work(0))
        rt.bus.publish_nowait("t.other", Work(1))
        assert await rt.settle()
    assert order.count("busy") == backlog
    assert order.index("other") <= 2 * FAIR_RUN
