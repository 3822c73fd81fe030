"""How the front reads Virtuoso's failures (``innograph.query.remote``): a statement Virtuoso
stopped at its time limit, timed out or cancelled, is a timeout (504), not a query it cannot run
(400). The texts are Virtuoso's own; the answers are read by ``http.client`` from a socket, as
the executor reads them (a live Virtuoso cancels or times out as it pleases:
``tests/web/test_virtuoso.py`` saw both at the same limit)."""

from __future__ import annotations

import http.client
import socket

import pytest

from innograph.query.remote import BackendRefused, BackendTimeout, _virtuoso_status


def failed(said: bytes) -> http.client.HTTPResponse:
    """A 500 answer saying SAID, as Virtuoso sends it."""
    ours, theirs = socket.socketpair()
    with theirs:
        head = b"HTTP/1.1 500 SPARQL Request Failed\r\nContent-Type: text/plain\r\n"
        theirs.sendall(head + b"Content-Length: %d\r\n\r\n%s" % (len(said), said))
    answer = http.client.HTTPResponse(ours)
    answer.begin()
    ours.close()  # the answer reads from its own file
    return answer


@pytest.mark.parametrize(
    "said",
    [
        b"Virtuoso S1T00 Error SR171: Transaction timed out\n",
        b"Virtuoso HY008 Error SR203: Async statement killed by SQLCancel.\n",
    ],
    ids=["timed-out", "cancelled"],
)
def test_a_statement_stopped_at_the_limit_is_a_timeout(said: bytes) -> None:
    with pytest.raises(BackendTimeout, match="within the time limit of 6 s"):
        _virtuoso_status(failed(said), 6)


def test_a_query_virtuoso_cannot_compile_is_refused() -> None:
    said = b"Virtuoso 37000 Error SP030: SPARQL compiler, line 1: syntax error at 'x'\n"
    with pytest.raises(BackendRefused, match="the store server cannot run this query"):
        _virtuoso_status(failed(said), 6)
