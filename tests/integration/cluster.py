"""Processes under test: one redis-server and N signald nodes on loopback.

Every process is started by us, logs to its own file and is stopped by its
PID (SIGTERM, then SIGKILL after a timeout). Stopping reports what went
wrong (non-zero exit, sanitizer output) instead of raising, so that the
fixtures can fail the test with the whole list.
"""

import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[2]
SIGNALD_BIN = os.environ.get("SIGNALD_BIN", str(REPO / "build" / "signald" / "signald"))
REDIS_BIN = os.environ.get("REDIS_SERVER_BIN", "redis-server")
JWT_SECRET = "itest-secret-4b1d6a0f9c2e7d3a5b8c1e0f"

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error")

# Variables handed down from our own environment; everything else a node
# sees is set explicitly, so a developer's shell cannot change a test.
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
SANITIZER_DEFAULTS = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=23",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """One child process with its output in a log file."""

    def __init__(self, name, argv, env, log_path):
        self.name = name
        self.log_path = Path(log_path)
        self.expected_exit = {0}
        self._mark = 0
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.running():
            self.popen.send_signal(sig)

    def wait(self, timeout):
        """Waits for the exit; SIGKILL when it takes longer. Returns the code."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)
            return None

    def log_text(self, start=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def mark(self):
        self._mark = self.log_path.stat().st_size

    def log_since_mark(self):
        return self.log_text(self._mark)

    def sanitizer_report(self, start=0):
        """The log from the first sanitizer error on, or None."""
        text = self.log_text(start)
        found = [text.find(m) for m in SANITIZER_MARKERS if m in text]
        if not found:
            return None
        return text[text.rfind("\n", 0, min(found)) + 1:]


def private_binary(workdir):
    """A copy of SIGNALD_BIN under a neutral name in workdir. On a shared
    machine other sessions may signal processes they find by name or path
    (pgrep -f build/signald/signald); the nodes under test stay out of reach."""
    path = Path(workdir) / "node-under-test"
    if not path.exists():
        shutil.copy2(SIGNALD_BIN, path)
    return str(path)


class Node(Process):
    def __init__(self, index, node_id, port, env, workdir):
        self.index = index
        self.node_id = node_id
        self.port = port
        self.env = env
        # SIGNALD_WRAPPER runs each node under a tool, e.g. valgrind.
        wrapper = shlex.split(os.environ.get("SIGNALD_WRAPPER", ""))
        super().__init__(f"signald {node_id}", wrapper + [private_binary(workdir)], env,
                         Path(workdir) / f"{node_id}.log")

    def http_status(self, path, timeout=2.0):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None


class Cluster:
    """A redis-server and `nodes` signald nodes; env applies to every node,
    node_env[i] (a dict) to node i only."""

    def __init__(self, workdir, nodes=2, env=None, node_env=None):
        self.workdir = Path(workdir)
        self.node_count = nodes
        self.env = dict(env or {})
        self.node_env = list(node_env or [])
        self.redis_port = None
        self.redis_proc = None
        self.redis_starts = 0
        self.nodes = []
        self._redis = None

    # ---- start ----

    def start(self):
        try:
            self._start_redis()
            for i in range(self.node_count):
                self.nodes.append(self._spawn_node(i))
            for node in self.nodes:
                self.wait_ready(node)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_redis(self):
        """Starts redis-server, on the port it had before if there was one."""
        self.redis_port = self.redis_port or free_port()
        argv = [REDIS_BIN, "--port", str(self.redis_port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.redis_starts += 1
        log = self.workdir / f"redis-{self.redis_starts}.log"
        self.redis_proc = Process("redis-server", argv, self._base_env(), log)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if self.redis.ping():
                    return
            except redis.exceptions.ConnectionError:
                pass
            if not self.redis_proc.running() or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start:\n" + self.redis_proc.log_text())
            time.sleep(0.05)

    @staticmethod
    def _base_env():
        env = {k: v for k, v in os.environ.items() if k in PASSED_ENV}
        for k, default in SANITIZER_DEFAULTS.items():
            env[k] = os.environ.get(k, default)
        return env

    def node_environment(self, index, node_id, port):
        env = self._base_env()
        env.update({
            "PORT": str(port),
            "BIND": "127.0.0.1",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "NODE_ID": node_id,
            "JWT_SECRET": JWT_SECRET,
            "LOG_LEVEL": "info",
        })
        env.update(self.env)
        if index < len(self.node_env):
            env.update(self.node_env[index])
        return env

    def _spawn_node(self, index):
        node_id = f"n{index + 1}"
        port = free_port()
        return Node(index, node_id, port, self.node_environment(index, node_id, port), self.workdir)

    def wait_ready(self, node, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while node.http_status("/readyz") != 200:
            if not node.running():
                raise RuntimeError(
                    f"{node.name} exited with {node.popen.returncode} during start-up:\n{node.log_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node.name} not ready within {timeout}s:\n{node.log_text()}")
            time.sleep(0.05)

    def stop_redis(self):
        """Stops redis-server (its data is lost: it saves nothing)."""
        self.redis_proc.signal(signal.SIGTERM)
        self.redis_proc.wait(10)
        if self._redis is not None:
            self._redis.close()
            self._redis = None

    def start_redis(self):
        """Starts an empty redis-server on the same port."""
        self._start_redis()

    def readiness(self):
        return [n.http_status("/readyz") for n in self.nodes]

    # ---- access ----

    @property
    def redis(self):
        if self._redis is None:
            self._redis = redis.Redis(host="127.0.0.1", port=self.redis_port, db=0,
                                      decode_responses=True, socket_timeout=5)
        return self._redis

    def node(self, i):
        """Node i, wrapping around, so that client k can simply use node(k)."""
        return self.nodes[i % len(self.nodes)]

    # ---- checks and stop ----

    def mark(self):
        for n in self.nodes:
            n.mark()

    def logs_since_mark(self, max_lines=200):
        parts = []
        for n in self.nodes:
            lines = n.log_since_mark().splitlines()
            if len(lines) > max_lines:
                lines = [f"... ({len(lines) - max_lines} lines left out)"] + lines[-max_lines:]
            parts.append(f"----- {n.name} (pid {n.pid}, port {n.port}) -----\n" + "\n".join(lines))
        return "\n".join(parts)

    def problems_since_mark(self):
        """Crashed nodes and sanitizer output since mark(), for a shared cluster."""
        problems = []
        for n in self.nodes:
            if not n.running() and n.popen.returncode not in n.expected_exit:
                problems.append(f"{n.name} exited with {n.popen.returncode}")
            report = n.sanitizer_report(n._mark)
            if report:
                problems.append(f"{n.name} printed sanitizer errors:\n{report}")
        return problems

    def stop_node(self, node, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        node.signal(sig)
        return node.wait(timeout)

    def stop(self):
        """Stops every process by PID; returns the list of problems seen."""
        problems = []
        for n in self.nodes:
            n.signal(signal.SIGTERM)
        for n in self.nodes:
            code = n.wait(STOP_TIMEOUT)
            if code is None:
                problems.append(f"{n.name} did not stop within {STOP_TIMEOUT}s of SIGTERM (killed)")
            elif code not in n.expected_exit:
                problems.append(f"{n.name} exited with {code}")
            report = n.sanitizer_report()
            if report:
                problems.append(f"{n.name} printed sanitizer errors:\n{report[-20000:]}")
        if self._redis is not None:
            self._redis.close()
        if self.redis_proc is not None:
            self.redis_proc.signal(signal.SIGTERM)
            self.redis_proc.wait(10)
        return problems
