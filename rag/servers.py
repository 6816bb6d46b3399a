"""Start the servers of a scaled-out Kabar on this machine: `chroma run` and `llama_cpp.server`.

The tests and bench/server_throughput.py use this; the README's Deployment section gives the same
commands for running them as services. The LLM server command is derived from the `llm` settings,
so the server answers exactly like the embedded model would.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from rag.config import Settings

# How often a starting server is asked whether it is ready, in seconds.
_POLL_S = 0.25
# Lines of a server's log quoted when it fails to start.
_LOG_TAIL_LINES = 30


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM when the process that started it dies, even by SIGKILL."""
    try:
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux/glibc: stop() still ends it
        pass


class ServerStartError(RuntimeError):
    """A server did not come up; the message quotes the end of its log."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def chroma_command(path: Path, host: str, port: int) -> list[str]:
    """`chroma run` serving the Chroma files in `path` (the venv's `chroma` script when there is one)."""
    local = Path(sys.executable).parent / "chroma"
    exe = str(local) if local.exists() else (shutil.which("chroma") or "chroma")
    return [exe, "run", "--path", str(path), "--host", host, "--port", str(port)]


def llama_server_command(settings: Settings, model: Path, host: str, port: int) -> list[str]:
    """`python -m llama_cpp.server` (through `rag.llm_serve`) for `model`, with the `llm` settings.

    `--interrupt_requests False` is what lets several clients share it: by default a new request
    ends the answer being streamed. `--logits_all False` as in the embedded model: the server's
    default computes the output layer for every prompt token, which only slows prompts down.
    """
    llm = settings.llm
    threads = llm.n_threads or os.cpu_count() or 1
    return [
        sys.executable, "-m", "rag.llm_serve", "--model", str(model), "--model_alias", llm.server_model,
        "--host", host, "--port", str(port), "--n_ctx", str(llm.n_ctx), "--n_batch", str(llm.n_batch),
        "--n_threads", str(threads), "--n_threads_batch", str(threads), "--seed", str(llm.seed),
        "--logits_all", "False", "--interrupt_requests", "False",
    ]


class LocalServer:
    """A server subprocess with its log in a file: started, polled until ready, always stopped."""

    def __init__(self, name: str, command: list[str], ready_url: str, log_path: Path,
                 env: dict[str, str] | None = None):
        self.name, self.command, self.ready_url, self.log_path = name, command, ready_url, log_path
        self.env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout_s: float) -> LocalServer:
        """Start it and wait until `ready_url` answers 200; ServerStartError (with its log) otherwise."""
        import httpx

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                        preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise ServerStartError(f"the {self.name} exited with code {self.process.returncode}; "
                                       f"its log:\n{self.log_tail()}")
            try:
                if httpx.get(self.ready_url, timeout=_POLL_S * 4).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(_POLL_S)
        self.stop()
        raise ServerStartError(f"the {self.name} did not answer {self.ready_url} within {timeout_s:g} s; "
                               f"its log:\n{self.log_tail()}")

    def log_tail(self) -> str:
        """The last lines of the server's log."""
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    def stop(self, grace_s: float = 10.0) -> None:
        """Terminate the server (kill it if it does not stop within `grace_s`)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def chroma_server(path: Path, log_path: Path, host: str = "127.0.0.1", port: int | None = None) -> LocalServer:
    """A `chroma run` over `path` on a free port (not started)."""
    port = port or free_port(host)
    return LocalServer("Chroma server", chroma_command(path, host, port),
                       f"http://{host}:{port}/api/v2/heartbeat", log_path)


def llama_server(settings: Settings, model: Path, log_path: Path, host: str = "127.0.0.1",
                 port: int | None = None) -> LocalServer:
    """A `llama_cpp.server` for `model` on a free port (not started); its OpenAI URL is `…/v1`."""
    port = port or free_port(host)
    return LocalServer("LLM server", llama_server_command(settings, model, host, port),
                       f"http://{host}:{port}/v1/models", log_path)


def port_of(server: LocalServer) -> int:
    """The port a server from this module listens on."""
    return int(server.command[server.command.index("--port") + 1])
