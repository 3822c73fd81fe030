"""A client socket that writes an answer's head together with its first body bytes.

gunicorn writes a response's status line and headers in one ``sendall`` and its body in the
next. A front killed (SIGKILL, a crashed host) between the two leaves the load balancer with a
head it has already passed on and no body: the client sees the answer cut, and no load balancer
may retry an answer begun. Written in one call, an answer of bounded size is in the kernel whole
or not at all, and the kernel delivers what it holds after the process dies: the load balancer
gets the whole answer, or none, which it retries on another front (``retry-on empty-response``,
docs/deploy.md)."""

from __future__ import annotations

import socket
from typing import Any


class GatheredSocket(socket.socket):
    """A socket whose next written bytes wait, once ``gather`` is called, for the write after
    them (gunicorn's head for its first body bytes); ``flush`` sends what still waits (a head
    with no body), ``drop`` forgets it (an answer that failed before its body: nothing of it is
    sent, and the connection is closed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gathering = False
        self._held = b""

    def gather(self) -> None:
        self._gathering, self._held = True, b""

    def flush(self) -> None:
        held, self._gathering, self._held = self._held, False, b""
        if held:
            super().sendall(held)

    def drop(self) -> None:
        self._gathering, self._held = False, b""

    def sendall(self, data: Any, flags: int = 0) -> None:
        if not self._gathering:
            super().sendall(data, flags)
        elif not self._held:
            self._held = bytes(data)
        else:
            head, self._gathering, self._held = self._held, False, b""
            self._send_both(head, memoryview(data).cast("B"), flags)

    def _send_both(self, head: bytes, body: memoryview, flags: int) -> None:
        """HEAD and BODY in one system call (gathered by the kernel: the body is not copied);
        what a slow reader leaves is sent after."""
        sent = self.sendmsg([head, body], [], flags)
        if sent < len(head):
            super().sendall(head[sent:], flags)
            sent = len(head)
        if sent - len(head) < len(body):
            super().sendall(body[sent - len(head) :], flags)

    def send(self, data: Any, flags: int = 0) -> int:
        if self._held:  # what waits goes first (gunicorn sends 100 Continue before any head)
            self.flush()
        return super().send(data, flags)

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        self.flush()  # a file's bytes go by os.sendfile, never through sendall
        return super().sendfile(file, offset, count)


def gathered(client: socket.socket) -> GatheredSocket:
    """CLIENT (an accepted connection) as a GatheredSocket, the same descriptor."""
    timeout = client.gettimeout()
    found = GatheredSocket(client.family, client.type, client.proto, fileno=client.detach())
    found.settimeout(timeout)
    return found
