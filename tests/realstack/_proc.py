"""Process and port helpers shared by the real-stack fixture.

Every process the fixture starts is a :class:`Proc`: started in its own
session (so the whole group can be signalled), with stdout/stderr going to a
log file in the stack's work dir, and stopped with SIGTERM then SIGKILL.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


class StackError(RuntimeError):
    """The stack could not be started; the message names the step and its log."""


def bypass_proxy_for_loopback(env=os.environ) -> None:
    """Where an HTTP proxy is configured, keep 127.0.0.1 off it (requests honours no_proxy)."""
    if any(env.get(k) for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                "all_proxy", "ALL_PROXY")):
        for key in ("no_proxy", "NO_PROXY"):
            hosts = [h for h in (env.get(key) or "").split(",") if h]
            for h in ("127.0.0.1", "localhost"):
                if h not in hosts:
                    hosts.append(h)
            env[key] = ",".join(hosts)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_bin(name: str) -> str:
    """A console script of the running interpreter's environment (then PATH)."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise StackError(f"{name} not found beside {sys.executable} nor on PATH")
    return found


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def run(cmd: list[str], log: Path, env: dict | None = None, timeout: float = 300) -> None:
    """Run a set-up command to completion; raise StackError with its log tail."""
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        try:
            rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise StackError(f"{' '.join(cmd[:3])} timed out after {timeout}s; see {log}") from None
    if rc != 0:
        raise StackError(f"{' '.join(cmd[:4])} exited {rc}; see {log}:\n{tail(log)}")


class Proc:
    """A long-running child process in its own process group."""

    def __init__(self, name: str, cmd: list[str], log: Path, env: dict | None = None,
                 cwd: str | None = None):
        self.name = name
        self.cmd = cmd
        self.log = Path(log)
        self._out = open(self.log, "ab")
        self.popen = subprocess.Popen(
            cmd, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise StackError(f"{self.name} exited {self.popen.returncode}; see {self.log}:\n"
                             f"{tail(self.log)}")

    def stop(self, grace: float = 5.0) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(5)
        else:
            # the leader is gone; make sure nothing of its group lingers
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._out.close()

    def cpu_s(self) -> float:
        """CPU seconds (user+system) used so far by the process and its children."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in [self.popen.pid, *_children(self.popen.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return round(total, 1)

    def rss_kb(self) -> int:
        """Resident set size of the process and its children, in KiB (Linux)."""
        total = 0
        for pid in [self.popen.pid, *_children(self.popen.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for k in kids:
        out.append(int(k))
        out.extend(_children(int(k)))
    return out


def wait_http(url: str, proc: Proc | None, timeout: float = 60.0) -> None:
    """Wait until ``url`` answers with any HTTP status (a 401 counts as up)."""
    deadline = time.monotonic() + timeout
    last = None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    while time.monotonic() < deadline:
        if proc is not None:
            proc.check_alive()
        try:
            with opener.open(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    where = f"; see {proc.log}:\n{tail(proc.log)}" if proc else ""
    raise StackError(f"{url} did not answer within {timeout}s ({last}){where}")
