"""Requests to actors: replies, errors, and requests pending on actors that stop or crash."""

from __future__ import annotations

import asyncio

import pytest

from actors import FAILURE_TOPIC, NEVER_RESTART, Actor, RestartPolicy, Runtime
from bus import ActorStopped, Envelope, NoResponders, RequestFailed, RequestTimeout, message


@message("test.actor_requests.ask")
class Ask:
    n: int
    mode: str = "reply"


@message("test.actor_requests.answer")
class Answer:
    n: int


class Server(Actor):
    """Replies n + 1; other modes: crash, hang, refuse (reply_error), ignore."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.handled = 0

    async def receive(self, envelope: Envelope) -> None:
        msg = envelope.message
        self.entered.set()
        self.handled += 1
        if msg.mode == "crash":
            raise RuntimeError(f"cannot handle {msg.n}")
        if msg.mode == "hang":
            await asyncio.Event().wait()
        if msg.mode == "refuse":
            self.bus.reply_error(envelope, PermissionError("not allowed"), sender=self.name)
            return
        if msg.mode == "ignore":
            return
        assert self.reply(envelope, Answer(msg.n + 1))


async def test_actor_replies() -> None:
    async with Runtime() as rt:
        rt.spawn(Server(), name="server")
        assert await rt.bus.request("actor.server", Ask(1), timeout=5.0) == Answer(2)
        replies = await asyncio.gather(
            *(rt.bus.request("actor.server", Ask(i), timeout=5.0) for i in range(20))
        )
        assert [r.n for r in replies] == [i + 1 for i in range(20)]


async def test_actor_to_actor_request() -> None:
    class Client(Actor):
        result: asyncio.Future[Answer]

        async def receive(self, envelope: Envelope) -> None:
            self.result.set_result(await self.request("actor.server", Ask(10), timeout=5.0))

    async with Runtime() as rt:
        client = Client()
        client.result = asyncio.get_running_loop().create_future()
        rt.spawn(Server(), name="server")
        rt.spawn(client, name="client")
        await rt.bus.publish("actor.client", Ask(0))
        assert await client.result == Answer(11)


async def test_reply_error_from_an_actor_is_request_failed() -> None:
    async with Runtime() as rt:
        rt.spawn(Server(), name="server")
        with pytest.raises(RequestFailed, match="PermissionError: not allowed") as info:
            await rt.bus.request("actor.server", Ask(1, "refuse"), timeout=5.0)
        assert not isinstance(info.value, ActorStopped)


async def test_no_responder_for_an_unknown_actor() -> None:
    async with Runtime() as rt:
        with pytest.raises(NoResponders):
            await rt.bus.request("actor.ghost", Ask(1), timeout=30.0)


async def test_unanswered_request_times_out() -> None:
    async with Runtime() as rt:
        server = Server()
        rt.spawn(server, name="server")
        with pytest.raises(RequestTimeout):
            await rt.bus.request("actor.server", Ask(1, "ignore"), timeout=0.05)
        assert server.handled == 1


async def test_crash_while_handling_a_request_fails_it_with_actor_stopped() -> None:
    async with Runtime() as rt:
        failures = rt.bus.subscribe(FAILURE_TOPIC)
        rt.spawn(Server(), name="server", policy=RestartPolicy(3, 10))
        # a long timeout: the error must come from the crash, not from the clock
        with pytest.raises(ActorStopped, match="crashed") as info:
            await rt.bus.request("actor.server", Ask(7, "crash"), timeout=30.0)
        assert not isinstance(info.value, RequestTimeout)
        assert "cannot handle 7" in str(info.value)
        failure = (await failures.get()).message
        assert failure.action == "restart" and failure.error == "cannot handle 7"
        # restarted: the next request is served
        assert await rt.bus.request("actor.server", Ask(1), timeout=5.0) == Answer(2)
        assert rt.bus.stats().timeouts == 0


async def test_crash_without_restart_fails_the_request_then_no_responders() -> None:
    async with Runtime() as rt:
        ref = rt.spawn(Server(), name="server", policy=NEVER_RESTART)
        with pytest.raises(ActorStopped):
            await rt.bus.request("actor.server", Ask(1, "crash"), timeout=30.0)
        await ref.wait()
        with pytest.raises(NoResponders):
            await rt.bus.request("actor.server", Ask(2), timeout=30.0)


async def test_request_pending_on_a_stopped_actor_fails_quickly() -> None:
    async with Runtime() as rt:
        server = Server()
        ref = rt.spawn(server, name="server")
        req = asyncio.create_task(rt.bus.request("actor.server", Ask(1, "hang"), timeout=30.0))
        await server.entered.wait()
        await rt.stop(ref)
        with pytest.raises(ActorStopped, match="server"):
            await req
        assert rt.bus.pending_requests == 0
        assert rt.bus.stats().timeouts == 0


async def test_requests_queued_behind_a_stopping_actor_fail_too() -> None:
    async with Runtime() as rt:
        server = Server()
        ref = rt.spawn(server, name="server")
        reqs = [
            asyncio.create_task(
                rt.bus.request("actor.server", Ask(i, "hang" if i == 0 else "reply"), timeout=30.0)
            )
            for i in range(4)
        ]
        await server.entered.wait()
        assert len(rt._cells["server"].sub.mailbox) == 3
        await rt.stop(ref)
        results = await asyncio.gather(*reqs, return_exceptions=True)
        assert all(isinstance(r, ActorStopped) for r in results), results
        assert server.handled == 1


async def test_shutdown_fails_requests_pending_on_actors() -> None:
    server = Server()
    async with Runtime(stop_timeout=0.5) as rt:
        rt.spawn(server, name="server")
        req = asyncio.create_task(rt.bus.request("actor.server", Ask(1, "hang"), timeout=30.0))
        await server.entered.wait()
    with pytest.raises(ActorStopped):
        await req
