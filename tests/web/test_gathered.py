"""An answer's head leaves with its body, in one write: a front killed between gunicorn's two
writes would otherwise leave a client (through a load balancer that cannot retry an answer
begun) with the head and no body (docs/deploy.md). On real socket pairs."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator

import pytest

from innograph.web.gathered import GatheredSocket, gathered

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"


@pytest.fixture
def pair() -> Iterator[tuple[GatheredSocket, socket.socket]]:
    ours, peer = socket.socketpair()
    writer = gathered(ours)
    yield writer, peer
    writer.close()
    peer.close()


def waiting(peer: socket.socket) -> bytes:
    """What the peer could read now, without waiting."""
    try:
        return peer.recv(65536, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return b""


def test_the_head_waits_for_its_body_then_leaves_with_it(
    pair: tuple[GatheredSocket, socket.socket],
) -> None:
    writer, peer = pair
    writer.gather()
    writer.sendall(HEAD)
    assert waiting(peer) == b""  # killed now, the process would have sent nothing
    writer.sendall(b"hello")
    assert waiting(peer) == HEAD + b"hello"
    writer.sendall(b"more")  # one head per gather: what follows goes at once
    assert waiting(peer) == b"more"


def test_a_head_with_no_body_leaves_at_the_flush_and_a_dropped_one_never(
    pair: tuple[GatheredSocket, socket.socket],
) -> None:
    writer, peer = pair
    writer.gather()
    writer.sendall(HEAD)
    writer.flush()
    assert waiting(peer) == HEAD
    writer.gather()
    writer.sendall(HEAD)
    writer.drop()
    writer.flush()
    assert waiting(peer) == b""
    writer.sendall(b"error")  # not gathering: at once
    assert waiting(peer) == b"error"


def test_an_interim_answer_leaves_at_once_and_the_head_still_waits(
    pair: tuple[GatheredSocket, socket.socket],
) -> None:
    writer, peer = pair
    writer.gather()
    writer.send(b"HTTP/1.1 100 Continue\r\n\r\n")  # gunicorn's, before the app answers
    assert waiting(peer) == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.sendall(HEAD)
    assert waiting(peer) == b""
    writer.sendall(b"hello")
    assert waiting(peer) == HEAD + b"hello"


def test_a_file_s_bytes_come_after_the_head(pair: tuple[GatheredSocket, socket.socket]) -> None:
    writer, peer = pair
    with tempfile.TemporaryFile() as file:
        file.write(b"hello")
        file.seek(0)
        writer.gather()
        writer.sendall(HEAD)
        writer.sendfile(file)
    assert waiting(peer) == HEAD + b"hello"


def test_gathering_keeps_the_descriptor_and_its_timeout() -> None:
    ours, peer = socket.socketpair()
    ours.settimeout(2.5)
    number = ours.fileno()
    writer = gathered(ours)
    assert (writer.fileno(), writer.gettimeout()) == (number, 2.5)
    assert ours.fileno() == -1  # detached: closing it closes nothing
    writer.close()
    peer.close()
