"""Serving the explorer on this machine only: who may connect, how long a page's state lives,
and how the server stops.

``serve`` runs Solara's Starlette app under uvicorn, bound to 127.0.0.1, behind ``LocalOnly``:

- **Origins.** A web page the user visits elsewhere can open a websocket to 127.0.0.1 (browsers
  do not apply the same-origin policy to websockets), and through it move the levers or save
  files. The browser names the page that opens a websocket in its ``Origin`` header, so the
  handshake is refused (HTTP 403) unless that origin is the explorer's own address
  (``http://localhost:PORT`` or ``http://127.0.0.1:PORT``). A ``Host`` other than those two is
  refused for every request, so a domain name an attacker points at 127.0.0.1 (DNS rebinding)
  reaches nothing either.
- **Sessions.** Each page load gets a kernel (its levers, results and widgets, a few MB). Solara
  keeps a kernel whose page has gone without saying so (a closed laptop, a killed browser) for
  a day by default, so repeated loads grow the server without bound. Here a kernel whose page
  disconnected is closed after ``IDLE_SECONDS``, and at most ``MAX_IDLE_KERNELS`` of them are
  kept at all (the oldest are closed first), so memory stays flat however often pages load.
- **Stopping.** SIGINT, SIGTERM and SIGHUP stop the server as uvicorn stops on SIGINT (open
  pages are told, kernels closed); then ``serve`` raises ``run.signals.Interrupted`` with the
  signal, so ``negsim explore`` ends as every command does: one line, exit ``128 + signal``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import webbrowser
from collections.abc import Iterator

import uvicorn

from negotiation_sim.run.signals import SIGNALS, Interrupted

HOST = "127.0.0.1"
"""The only address served: the explorer is for the user at this machine."""

IDLE_SECONDS = 60
"""How long a kernel whose page disconnected waits for it to come back (a page that lost its
connection reconnects to the same kernel within this time and keeps its levers)."""

MAX_IDLE_KERNELS = 4
"""Kernels without a connected page kept at most; beyond it the longest idle are closed."""

APP = "negotiation_sim.explore.app"


class LocalOnly:
    """ASGI middleware: only the explorer's own pages reach the app (see the module docstring).

    Args:
        app: the ASGI app served.
        port: the port served, which every allowed ``Host`` and ``Origin`` names.
        on_disconnect: called with the kernel id when a websocket to a kernel ends.
    """

    def __init__(self, app, port: int, on_disconnect=None) -> None:
        self.app = app
        self.hosts = {f"localhost:{port}", f"{HOST}:{port}"}
        self.origins = {f"http://{h}" for h in self.hosts}
        self.on_disconnect = on_disconnect

    def allowed(self, scope) -> bool:
        """Whether a request or websocket handshake comes from the explorer's own page."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        if headers.get("host") not in self.hosts:
            return False
        origin = headers.get("origin")
        if scope["type"] == "websocket":
            return origin in self.origins
        return origin is None or origin in self.origins

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allowed(scope):
            try:
                await self.app(scope, receive, send)
            finally:
                if scope["type"] == "websocket" and self.on_disconnect is not None:
                    await self.on_disconnect(scope["path"].rstrip("/").split("/")[-2])
            return
        if scope["type"] == "websocket":
            # closing before accepting refuses the handshake: uvicorn answers HTTP 403
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
        await send({"type": "http.response.body",
                    "body": b"negsim explore answers only its own page on this machine\n"})


class IdleKernels:
    """Closes kernels whose pages have gone: beyond ``keep`` of them, the longest idle first.

    Solara closes a kernel whose pages all disconnected after its cull timeout (set to
    ``IDLE_SECONDS`` by ``serve``); this adds the bound on their number, checked each time a
    kernel's websocket ends.
    """

    def __init__(self, keep: int = MAX_IDLE_KERNELS) -> None:
        self.keep = keep
        self.since: dict[str, float] = {}  # kernel id -> when its last websocket ended

    async def disconnected(self, kernel_id: str) -> None:
        import anyio.to_thread

        self.since[kernel_id] = time.monotonic()
        # closing a kernel tears down its widgets and threads: off the event loop
        await anyio.to_thread.run_sync(self.close_beyond)

    def close_beyond(self) -> list[str]:
        """Close the idle kernels beyond ``keep``; returns the ids closed."""
        from solara.server import kernel_context

        status = kernel_context.PageStatus
        idle = []
        for kid, context in list(kernel_context.contexts.items()):
            with context.lock:
                pages = set(context.page_status.values())
            # a kernel still connecting has no page yet: only those whose pages left count
            if status.DISCONNECTED in pages and status.CONNECTED not in pages:
                idle.append((self.since.get(kid, 0.0), kid, context))
        idle.sort(key=lambda item: item[0])
        closed = []
        for _, kid, context in idle[:max(0, len(idle) - self.keep)]:
            context.close()
            closed.append(kid)
        for kid in set(self.since) - set(kernel_context.contexts):
            del self.since[kid]
        return closed


def bind(port: int) -> socket.socket:
    """A listening socket on ``HOST:port`` (0: any free port); OSError when it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as err:
        sock.close()
        raise OSError(f"cannot serve on {HOST}:{port}: {err.strerror}") from None
    sock.set_inheritable(True)
    return sock


def configure_solara() -> None:
    """Solara's settings for the explorer (before its server module is imported)."""
    os.environ["SOLARA_APP"] = APP
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    from solara.server import settings

    settings.main.mode = "production"
    settings.kernel.cull_timeout = f"{IDLE_SECONDS}s"


def serve(sock: socket.socket, *, open_browser: bool = False) -> None:
    """Serve the explorer on ``sock`` until a signal stops it.

    Raises:
        Interrupted: the signal that stopped the server (after it has shut down cleanly).
    """
    configure_solara()
    from solara.server.starlette import app

    port = sock.getsockname()[1]
    config = uvicorn.Config(LocalOnly(app, port, IdleKernels().disconnected), log_level="warning",
                            timeout_graceful_shutdown=5, lifespan="on")
    server = _Server(config)
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, f"http://localhost:{port}/"),
                         daemon=True).start()
    server.run(sockets=[sock])
    if server.stopped_by:
        raise Interrupted(server.stopped_by[0])


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGHUP too, and saying which signal stopped it instead of
    raising it again (uvicorn re-raises it, which ``serve`` turns into ``Interrupted``)."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.stopped_by: list[int] = []

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig, frame) -> None:
        self.stopped_by.append(int(sig))
        if len(self.stopped_by) > 1:  # a second signal: stop without waiting for connections
            self.force_exit = True
        self.should_exit = True


def _open_when_started(server, url: str) -> None:
    while not server.started and not server.should_exit:
        time.sleep(0.1)
    if server.started:
        webbrowser.open(url)
