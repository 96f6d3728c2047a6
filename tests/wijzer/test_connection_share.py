"""The rule by which a server process of `serve --workers N` hands a kept-open
connection over (`wijzer.server.ConnectionShare`, `HandOver`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from starlette.types import Message, Receive, Scope, Send

from wijzer.server import ConnectionShare, HandOver

A = ("127.0.0.1", 50001)
B = ("127.0.0.1", 50002)


def test_a_process_two_above_the_fewest_hands_one_over() -> None:
    counts = [12, 10]
    share = ConnectionShare(counts, 0)
    assert share.hand_over(A)
    # counted as gone at once, so the next answer does not close another one
    assert counts == [11, 10]
    assert not share.hand_over(B)


def test_one_above_the_fewest_is_a_fair_share() -> None:
    share = ConnectionShare([11, 10], 0)
    assert not share.hand_over(A)
    assert not ConnectionShare([10, 11], 1).hand_over(A)
    assert not ConnectionShare([10, 10, 10], 2).hand_over(A)


def test_the_fewest_is_taken_over_all_processes() -> None:
    assert ConnectionShare([5, 9, 7], 1).hand_over(A)
    assert not ConnectionShare([5, 9, 8], 0).hand_over(A)


def test_a_connection_is_handed_over_once_and_its_close_is_not_counted_twice() -> None:
    counts = [0, 0]
    share = ConnectionShare(counts, 0)
    for _ in range(4):
        share.opened()
    assert counts == [4, 0]
    assert share.hand_over(A)
    assert counts == [3, 0]
    # A second request on the same connection before it closes: no second close.
    counts[1] = -5
    assert not share.hand_over(A)
    share.closed(A)  # the handed-over connection closes: already counted
    assert counts == [3, -5]
    share.closed(B)  # any other connection that closes
    assert counts == [2, -5]


def test_without_a_client_address_nothing_is_handed_over() -> None:
    assert not ConnectionShare([9, 0], 0).hand_over(None)


def _answer(share: ConnectionShare, client: tuple[str, int] | None) -> list[Message]:
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Message:
        return {"type": "http.request"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "client": client, "path": "/"}
    # In a thread of its own: a browser test before it may leave an event loop running
    # in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, HandOver(app, share)(scope, receive, send)).result()
    return sent


def test_the_answer_says_connection_close_when_handing_over() -> None:
    start, body = _answer(ConnectionShare([3, 0], 0), A)
    assert start["headers"] == [(b"x-a", b"1"), (b"connection", b"close")]
    assert body == {"type": "http.response.body", "body": b"ok"}


def test_a_fair_share_answers_unchanged() -> None:
    start, _ = _answer(ConnectionShare([1, 0], 0), A)
    assert start["headers"] == [(b"x-a", b"1")]
