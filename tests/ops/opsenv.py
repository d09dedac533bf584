"""Real components for the operations tests: redis-server, signald nodes,
haproxy, coturn, and WebSocket clients. Every process is started here and
stopped by its PID (SIGTERM, then SIGKILL after a bounded wait); every wait
is bounded.
"""

import asyncio
import base64
import csv
import hashlib
import hmac
import io
import json
import os
import random
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request

import jwt
import websockets

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SIGNALD_BIN = os.environ.get("SIGNALD_BIN") or os.path.join(ROOT, "build", "signald", "signald")
JWT_SECRET = "ops-test-jwt-secret"
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def free_port():
    """A TCP port free on 127.0.0.1 right now (and its UDP twin, best effort)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def wait_until(check, timeout, interval=0.05, what="condition"):
    """Calls check() until it returns a true value, for at most timeout
    seconds. Returns that value; raises TimeoutError naming what."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # the component may not be up yet
            last_exc = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}"
                               + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


def http_get(url, headers=None, timeout=5):
    """(status, headers with lower-case names, body text) of a GET; HTTP
    errors are answers too."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode(
                "utf-8")
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read().decode(
            "utf-8", "replace")


def make_token(sub, name=None, room=None, ttl=3600, secret=JWT_SECRET):
    """An access token as an identity provider would mint it (HS256)."""
    now = int(time.time())
    claims = {"sub": sub, "iat": now, "exp": now + ttl}
    if name is not None:
        claims["name"] = name
    if room is not None:
        claims["room"] = room
    return jwt.encode(claims, secret, algorithm="HS256")


def turn_rest_credential(secret, username):
    """The TURN REST API credential: base64(HMAC-SHA1(secret, username))."""
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class Proc:
    def __init__(self, name, popen, log_path):
        self.name = name
        self.popen = popen
        self.pid = popen.pid
        self.log_path = log_path

    def alive(self):
        return self.popen.poll() is None

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, signum):
        if self.alive():
            os.kill(self.pid, signum)

    def wait(self, timeout):
        """The exit status, waiting at most timeout seconds (None if still
        running then)."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL if it has not exited within timeout."""
        if not self.alive():
            return self.popen.returncode
        os.kill(self.pid, signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            os.kill(self.pid, signal.SIGKILL)
            rc = self.wait(5)
        return rc


class Cluster:
    """Processes of one test, stopped in reverse order by stop_all()."""

    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.procs = []

    def spawn(self, name, argv, env=None, cwd=None):
        log_path = os.path.join(self.workdir, f"{name}.log")
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, env=full_env,
                                     cwd=cwd or self.workdir)
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        """Stops everything; returns the signald nodes that did not exit
        cleanly (status 0) on SIGTERM, as (name, status)."""
        unclean = []
        for proc in reversed(self.procs):
            rc = proc.stop(timeout=15)
            if getattr(proc, "expect_clean_exit", False) and rc != 0:
                unclean.append((proc.name, rc))
        return unclean

    def logs(self):
        return "\n".join(f"----- {p.name} (pid {p.pid}) -----\n{p.log()[-4000:]}"
                         for p in self.procs)

    # --- Redis -------------------------------------------------------------

    def redis(self):
        port = free_port()
        proc = self.spawn("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no"])
        import redis as redis_py
        client = redis_py.Redis(host="127.0.0.1", port=port, decode_responses=True,
                                socket_timeout=5)
        wait_until(lambda: client.ping(), 10, what="redis-server")
        proc.port = port
        proc.client = client
        proc.url = f"redis://127.0.0.1:{port}/0"
        return proc

    # --- signald -----------------------------------------------------------

    def node(self, node_id, redis_proc, env=None, faketime=None):
        """A signald node on a free port, waited for until /readyz is 200.
        faketime: an offset such as "-700s" for the node's wall clock
        (libfaketime; the monotonic clock stays real)."""
        port = free_port()
        node_env = {
            "PORT": str(port),
            "BIND": "127.0.0.1",
            "NODE_ID": node_id,
            "REDIS_URL": redis_proc.url,
            "JWT_SECRET": JWT_SECRET,
            "WEBRTC_STUN_URLS": "stun:stun.example.org:3478",
            "LOG_LEVEL": "info",
        }
        node_env.update(env or {})
        if faketime:
            node_env.update({"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": faketime,
                             "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                             "FAKETIME_NO_CACHE": "1"})
            # An ASan build wants its runtime first; libfaketime only wraps
            # the clock functions, so the order does not matter here.
            asan = os.environ.get("ASAN_OPTIONS", "")
            node_env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        proc = self.spawn(node_id, [SIGNALD_BIN], env=node_env)
        proc.expect_clean_exit = True  # exit status 0 after SIGTERM
        proc.port = port
        proc.url = f"http://127.0.0.1:{port}"
        proc.ws = f"ws://127.0.0.1:{port}"
        wait_until(lambda: proc.alive() and http_get(proc.url + "/readyz", timeout=1)[0] == 200,
                   15, what=f"{node_id} /readyz")
        return proc

    # --- haproxy -----------------------------------------------------------

    def haproxy(self, nodes):
        """haproxy with scripts/haproxy-cfg's configuration in front of nodes,
        waited for until every node is UP."""
        port = free_port()
        sock = os.path.join(self.workdir, "haproxy.sock")
        cfg = os.path.join(self.workdir, "haproxy.cfg")
        servers = [f"{n.name}=127.0.0.1:{n.port}" for n in nodes]
        text = subprocess.run([os.path.join(ROOT, "scripts", "haproxy-cfg"), "--stats-socket", sock,
                               f"127.0.0.1:{port}", *servers], check=True, capture_output=True,
                              text=True, timeout=10).stdout
        with open(cfg, "w") as f:
            f.write(text)
        proc = self.spawn("haproxy", ["haproxy", "-db", "-f", cfg])
        proc.port = port
        proc.url = f"http://127.0.0.1:{port}"
        proc.ws = f"ws://127.0.0.1:{port}"
        proc.socket = sock
        proc.states = lambda: haproxy_states(sock)
        proc.stats = lambda: haproxy_stats(sock)
        wait_until(lambda: all(proc.states().get(n.name) == "UP" for n in nodes), 15,
                   what="haproxy to see every node UP")
        return proc

    # --- coturn ------------------------------------------------------------

    def coturn(self, secret, realm="signald.test"):
        """A real coturn on loopback checking TURN REST credentials
        (use-auth-secret), waited for until it answers a STUN request."""
        port = free_port()
        relay_min = random.randrange(20000, 60000, 100)
        workdir = self.workdir
        proc = self.spawn("coturn", [
            "turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
            f"--listening-port={port}", f"--alt-listening-port={free_port()}",
            "--use-auth-secret", f"--static-auth-secret={secret}", f"--realm={realm}",
            "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
            f"--min-port={relay_min}", f"--max-port={relay_min + 99}",
            f"--pidfile={workdir}/turnserver.pid", f"--userdb={workdir}/turndb",
            "--log-file=stdout", "--simple-log", "--no-stdout-log"])
        proc.port = port
        wait_until(lambda: proc.alive() and stun_binding_ok("127.0.0.1", port), 10,
                   what="coturn to answer STUN")
        return proc


def haproxy_stats(sock_path):
    """{server name: row} of the signald_nodes backend, from the admin
    socket's `show stat` (CSV: status, chkfail, chkdown, ...)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2)
        s.connect(sock_path)
        s.sendall(b"show stat\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode().lstrip("# ")
    return {row["svname"]: row for row in csv.DictReader(io.StringIO(text))
            if row.get("pxname") == "signald_nodes" and row.get("svname") != "BACKEND"}


def haproxy_states(sock_path):
    """{server name: UP, DOWN, ...} of the signald_nodes backend."""
    return {name: row["status"].split(" ")[0] for name, row in haproxy_stats(sock_path).items()}


def stun_binding_ok(host, port):
    """True when a STUN Binding request gets a Binding success response."""
    txid = os.urandom(12)
    req = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(req, (host, port))
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            return False
    return len(data) >= 20 and struct.unpack("!H", data[:2])[0] == 0x0101 and data[8:20] == txid


def turn_allocate(host, port, username, credential, timeout=30):
    """Runs coturn's turnutils_uclient with these credentials: a real TURN
    allocation, then a little traffic relayed between two allocations.
    Returns (succeeded, output)."""
    argv = ["turnutils_uclient", "-u", username, "-w", credential, "-y", "-n", "1", "-m", "1",
            "-l", "64", "-p", str(port), host]
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        return False, f"timed out: {exc}"
    return res.returncode == 0, res.stdout + res.stderr


# --- WebSocket clients -------------------------------------------------------


class Client:
    """One participant's socket, with bounded receives."""

    def __init__(self, ws, peer_id):
        self.ws = ws
        self.peer_id = peer_id
        self.room_state = None

    @classmethod
    async def join(cls, base_ws_url, room, peer_id, name=None, timeout=5):
        """Connects and waits for room_state (raises if refused)."""
        token = make_token(peer_id, name or peer_id.capitalize())
        ws = await asyncio.wait_for(
            websockets.connect(f"{base_ws_url}/ws/webrtc/{room}/{token}", open_timeout=timeout,
                               close_timeout=2, max_size=2**20), timeout)
        client = cls(ws, peer_id)
        msg = await client.recv(timeout)
        if msg.get("type") != "room_state":
            await ws.close()
            raise RuntimeError(f"{peer_id}: expected room_state, got {msg}")
        client.room_state = msg
        return client

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    async def recv(self, timeout=5):
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def recv_type(self, mtype, timeout=5):
        """The next message of type mtype, skipping others, within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.peer_id}: no {mtype} within {timeout}s")
            msg = await self.recv(left)
            if msg.get("type") == mtype:
                return msg

    async def wait_closed(self, timeout=5):
        """The close code once the server has closed the socket."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(self.ws.wait_closed(), timeout)
        return self.ws.close_code

    async def close(self):
        await self.ws.close()
