"""Offline checks of the deployment files (run by scripts/check-deploy):
haproxy configuration, docker-compose.yml, Dockerfile, Helm chart. Each
check prints one line; the exit status is 1 when any failed.

What is real here: haproxy's own parser (haproxy -c), docker-compose's own
loader (config -q) and the Compose JSON schema it ships, yamllint, the
Kubernetes API schemas of npm kubernetes-models, signald's own settings
loader (each environment the files give a node is started with the real
binary), dpkg's knowledge of which package ships which library. What is
not: a Docker engine, a Kubernetes API server, the helm binary (the chart is
rendered by scripts/helm-render).
"""

import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
# The release build: the one the Dockerfile ships (an ASan build links more).
SIGNALD = os.path.join(ROOT, "build", "signald", "signald")
CHART = os.path.join(ROOT, "helm", "signald")
COMPOSE_SCHEMA = "/usr/lib/python3/dist-packages/compose/config/compose_spec.json"

results = []


def check(name):
    def wrap(fn):
        def run():
            try:
                detail = fn()
                results.append((name, True, detail or ""))
                print(f"ok   {name}" + (f" ({detail})" if detail else ""))
            except Exception as exc:  # report and go on with the next check
                results.append((name, False, str(exc)))
                print(f"FAIL {name}: {exc}")
        run.check_name = name
        return run
    return wrap


def sh(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(argv, **kw)


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


# --- signald's own view of settings -------------------------------------------


def signald_settings():
    """The environment variables signald reads, from its --help."""
    out = sh([SIGNALD, "--help"]).stdout
    names = set(re.findall(r"^  ([A-Z][A-Z0-9_]+) ", out, re.M))
    expect("JWT_SECRET" in names and "REDIS_URL" in names, "cannot read signald --help")
    return names


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signald_accepts(env, what):
    """Starts the real signald with env (port and bind moved to loopback)
    and waits until it listens: its settings loader accepted everything.
    A refused setting makes it exit at once with a message."""
    full = {k: v for k, v in os.environ.items() if k not in signald_settings()}
    full.update(env)
    full.update({"PORT": str(free_port()), "BIND": "127.0.0.1", "LOG_LEVEL": "info"})
    with tempfile.TemporaryDirectory() as tmp:
        if full.get("STATIC_DIR"):
            full["STATIC_DIR"] = tmp  # the image's path does not exist here
        log_path = os.path.join(tmp, "signald.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([SIGNALD], env=full, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                text = open(log_path, encoding="utf-8", errors="replace").read()
                if "event=listening" in text:
                    return
                if proc.poll() is not None:
                    raise AssertionError(f"{what}: signald refused its settings: "
                                         f"{text.strip().splitlines()[-1:]}")
                time.sleep(0.05)
            raise AssertionError(f"{what}: signald did not start within 10 s")
        finally:
            if proc.poll() is None:
                # SIGTERM starts the drain, SIGINT during a drain stops at once.
                proc.send_signal(signal.SIGTERM)
                time.sleep(0.1)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def k8s_expand(value, env):
    """Kubernetes' $(VAR) expansion of env values from earlier entries."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: env.get(m.group(1), m.group(0)), value)


# --- haproxy ------------------------------------------------------------------

COMPOSE_NODES = ["signald1", "signald2", "signald3"]


def haproxy_cfg_for_compose():
    return sh([os.path.join(ROOT, "scripts", "haproxy-cfg"), "--docker", ":8080",
               *[f"{n}={n}:8080" for n in COMPOSE_NODES]], check=True).stdout


@check("deploy/haproxy.cfg is scripts/haproxy-cfg's output for the compose nodes")
def check_haproxy_in_step():
    with open(os.path.join(ROOT, "deploy", "haproxy.cfg")) as f:
        expect(f.read() == haproxy_cfg_for_compose(),
               "deploy/haproxy.cfg differs: regenerate it with scripts/haproxy-cfg --docker "
               ":8080 signald1=signald1:8080 signald2=signald2:8080 signald3=signald3:8080")


@check("signald's settings loader refuses a bad value (the acceptance checks are live)")
def check_signald_accepts_live():
    try:
        signald_accepts({"JWT_SECRET": "x", "WEBRTC_TURN_TTL": "1"}, "self-test")
    except AssertionError as exc:
        expect("WEBRTC_TURN_TTL" in str(exc), f"refused for another reason: {exc}")
        return
    raise AssertionError("signald started with WEBRTC_TURN_TTL=1")


@check("haproxy -c accepts the compose and the local configurations")
def check_haproxy_valid():
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "local.cfg")
        with open(local, "w") as f:
            f.write(sh([os.path.join(ROOT, "scripts", "haproxy-cfg"), "--stats-socket",
                        os.path.join(tmp, "s.sock"), "127.0.0.1:8080", "node1=127.0.0.1:8081",
                        "node2=127.0.0.1:8082"], check=True).stdout)
        for cfg in (os.path.join(ROOT, "deploy", "haproxy.cfg"), local):
            res = sh(["haproxy", "-c", "-f", cfg])
            expect(res.returncode == 0, f"{cfg}: {res.stdout}{res.stderr}")
            # Warnings other than unresolvable compose names are errors here.
            for line in (res.stdout + res.stderr).splitlines():
                if "[WARNING]" in line and "could not resolve address" not in line:
                    raise AssertionError(f"{cfg}: {line}")
        text = open(os.path.join(ROOT, "deploy", "haproxy.cfg")).read()
        for needle in ("balance roundrobin", "timeout tunnel", "http-check send meth GET uri "
                       "/readyz", "inter 1s", "fall 2"):
            expect(needle in text, f"deploy/haproxy.cfg lacks {needle!r}")
        sticky = re.findall(r"^\s*(cookie|stick\S*|balance source|hash-type)\b", text, re.M)
        expect(not sticky, f"sticky sessions configured: {sticky}")


# --- docker-compose -----------------------------------------------------------

COMPOSE_ENV = {"JWT_SECRET": "jwt-from-env", "TURN_SECRET": "turn-from-env",
               "LIVEKIT_API_KEY": "APIfromEnv", "LIVEKIT_API_SECRET": "lk-secret-from-env-0123456789abcdef",
               "PUBLIC_HOST": "class.example.org"}


def compose_config(env=None):
    full = {k: v for k, v in os.environ.items() if k not in COMPOSE_ENV}
    full.update(env or {})
    res = sh(["docker-compose", "-f", os.path.join(ROOT, "docker-compose.yml"), "config"],
             env=full, cwd=ROOT)
    expect(res.returncode == 0, f"docker-compose config: {res.stderr.strip()}")
    return yaml.safe_load(res.stdout)


@check("docker-compose config -q (Debian's docker-compose 1.29)")
def check_compose_loads():
    res = sh(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT)
    expect(res.returncode == 0, res.stderr.strip())
    return sh(["docker-compose", "version", "--short"]).stdout.strip()


@check("docker-compose.yml validates against the Compose specification schema")
def check_compose_schema():
    import jsonschema
    with open(COMPOSE_SCHEMA) as f:
        schema = json.load(f)
    with open(os.path.join(ROOT, "docker-compose.yml")) as f:
        doc = yaml.safe_load(f)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    expect(not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}"
                                for e in errors[:5]))
    return os.path.basename(COMPOSE_SCHEMA)


@check("compose stack: services, shared secrets, balancer servers, node settings")
def check_compose_semantics():
    cfg = compose_config(COMPOSE_ENV)
    services = cfg["services"]
    expected = {"redis", "lb", "livekit", "coturn", *COMPOSE_NODES}
    expect(set(services) == expected, f"services {sorted(services)} != {sorted(expected)}")
    known = signald_settings()
    node_envs = []
    for name in COMPOSE_NODES:
        svc = services[name]
        env = svc["environment"]
        unknown = set(env) - known
        expect(not unknown, f"{name}: settings signald does not know: {sorted(unknown)}")
        expect(env.get("NODE_ID") == name, f"{name}: NODE_ID {env.get('NODE_ID')}")
        expect(env["REDIS_URL"].startswith("redis://redis:"), f"{name}: REDIS_URL")
        expect(env["JWT_SECRET"] == COMPOSE_ENV["JWT_SECRET"], f"{name}: JWT_SECRET not from env")
        expect(svc.get("build", {}).get("context") == ROOT, f"{name}: not built from ./Dockerfile")
        expect(svc["depends_on"]["redis"]["condition"] == "service_healthy",
               f"{name}: does not wait for a healthy redis")
        node_envs.append(env)
    env0 = node_envs[0]
    for env in node_envs[1:]:
        same = {k: v for k, v in env.items() if k != "NODE_ID"}
        expect(same == {k: v for k, v in env0.items() if k != "NODE_ID"},
               "signald nodes have different settings")
    # LiveKit checks signald's tokens with the same key and secret.
    lk = services["livekit"]["environment"]["LIVEKIT_KEYS"]
    expect(lk == f"{env0['LIVEKIT_API_KEY']}: {env0['LIVEKIT_API_SECRET']}",
           f"LIVEKIT_KEYS {lk!r} is not signald's key and secret")
    expect(env0["LIVEKIT_API_KEY"] == COMPOSE_ENV["LIVEKIT_API_KEY"], "LiveKit key not from env")
    # coturn checks signald's TURN REST credentials with the same secret.
    cmd = services["coturn"]["command"]
    cmd = shlex.split(cmd) if isinstance(cmd, str) else cmd
    expect("--use-auth-secret" in cmd, "coturn without --use-auth-secret")
    expect(f"--static-auth-secret={env0['WEBRTC_TURN_SECRET']}" in cmd,
           "coturn's static-auth-secret is not signald's WEBRTC_TURN_SECRET")
    expect(env0["WEBRTC_TURN_SECRET"] == COMPOSE_ENV["TURN_SECRET"], "TURN secret not from env")
    expect(env0["WEBRTC_TURN_URL"] == "turn:class.example.org:3478", env0["WEBRTC_TURN_URL"])
    # The balancer gets deploy/haproxy.cfg and knows every node.
    lb = services["lb"]
    mounts = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in lb["volumes"]]
    expect(any(m.startswith(os.path.join(ROOT, "deploy", "haproxy.cfg") + ":") for m in mounts),
           f"lb does not mount deploy/haproxy.cfg: {mounts}")
    cfg_text = open(os.path.join(ROOT, "deploy", "haproxy.cfg")).read()
    servers = re.findall(r"^\s+server (\S+) (\S+):(\d+) ", cfg_text, re.M)
    expect(sorted((s, h) for s, h, _ in servers) == sorted((n, n) for n in COMPOSE_NODES),
           f"haproxy servers {servers}")
    port = env0.get("PORT", "8080")
    expect(all(p == port for _, _, p in servers), f"haproxy ports {servers} vs PORT {port}")
    # The real signald accepts the nodes' settings.
    signald_accepts({k: str(v) for k, v in env0.items()}, "compose signald1")
    return f"{len(services)} services"


@check("docker-compose.yml and deploy/livekit.yaml pass yamllint; no keys in livekit.yaml")
def check_livekit_yaml():
    path = os.path.join(ROOT, "deploy", "livekit.yaml")
    yamllint([path, os.path.join(ROOT, "docker-compose.yml")])
    doc = yaml.safe_load(open(path))
    expect("keys" not in doc, "keys belong in LIVEKIT_KEYS, from the same values as signald's")
    expect(doc["port"] == 7880, "LiveKit port")


# --- Dockerfile -----------------------------------------------------------------


def dockerfile_stages():
    """[(stage name or '', [instructions])] with continuation lines joined."""
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        text = f.read()
    text = re.sub(r"\\\n", " ", text)
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            m = re.search(r"\bAS\s+(\S+)", rest, re.I)
            stages.append((m.group(1) if m else "", [(word.upper(), rest)]))
        elif stages:
            stages[-1][1].append((word.upper(), rest.strip()))
    return stages


def apt_packages(instrs):
    pkgs = []
    for word, rest in instrs:
        if word == "RUN" and "apt-get install" in rest:
            seg = rest.split("apt-get install", 1)[1].split("&&", 1)[0]
            pkgs += [t for t in seg.split() if not t.startswith("-")]
    return pkgs


def dpkg_depends_closure(pkgs):
    seen = set()
    todo = list(pkgs)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        res = sh(["dpkg-query", "-W", "-f=${Depends}\n${Pre-Depends}", p])
        for dep in re.split(r"[,|\n]", res.stdout):
            name = dep.strip().split(" ")[0].split(":")[0]
            if name:
                todo.append(name)
    return seen


@check("Dockerfile runtime stage: packages cover every library signald links")
def check_docker_runtime_libs():
    stages = dockerfile_stages()
    runtime = stages[-1][1]
    expect(stages[-1][0] == "", "the last stage (runtime) should be unnamed")
    pkgs = apt_packages(runtime)
    expect("libwebsockets-evlib-uv" in pkgs, "libwebsockets-evlib-uv missing at runtime")
    expect(not [p for p in pkgs if p.endswith("-dev")], f"-dev packages at runtime: {pkgs}")
    closure = dpkg_depends_closure(pkgs)
    missing = []
    for binary in (SIGNALD, os.path.join(ROOT, "build", "tools", "signald-token")):
        ldd = sh(["ldd", binary], check=True).stdout
        for lib in re.findall(r"=> (/\S+)", ldd):
            real = os.path.realpath(lib)
            owner = None
            for cand in (real, real.replace("/usr/lib/", "/lib/", 1), lib):
                res = sh(["dpkg", "-S", cand])
                if res.returncode == 0:
                    owner = res.stdout.split(":")[0]
                    break
            expect(owner, f"no package ships {lib}")
            if owner not in closure:
                missing.append(f"{os.path.basename(lib)} ({owner})")
    expect(not missing, f"not installed in the runtime stage: {missing}")
    # The evlib plugin lws loads at run time is in that package.
    files = sh(["dpkg", "-L", "libwebsockets-evlib-uv"], check=True).stdout
    expect(re.search(r"libwebsockets-evlib_uv\.so", files), "evlib-uv plugin file not found")
    return f"{len(pkgs)} packages"


@check("Dockerfile runtime stage: non-root user, HEALTHCHECK on /healthz, port, web/")
def check_docker_runtime_shape():
    runtime = dockerfile_stages()[-1][1]
    words = {w: r for w, r in runtime}
    user = words.get("USER", "")
    expect(re.fullmatch(r"[1-9]\d*(:\d+)?", user), f"USER should be a numeric non-root id: {user!r}")
    expect("/healthz" in words.get("HEALTHCHECK", ""), "no HEALTHCHECK on /healthz")
    expect(words.get("EXPOSE") == "8080" and "PORT=8080" in words.get("ENV", ""), "port 8080")
    expect("STATIC_DIR=/usr/share/signald/web" in words.get("ENV", ""), "STATIC_DIR")
    expect(any(w == "COPY" and "/out/web /usr/share/signald/web" in r for w, r in runtime),
           "web/ is not copied into STATIC_DIR")
    expect(words.get("STOPSIGNAL") == "SIGTERM", "STOPSIGNAL")
    ignore = open(os.path.join(ROOT, ".dockerignore")).read().split()
    for pat in (".git", "build", "build-*", "**/node_modules"):
        expect(pat in ignore, f".dockerignore lacks {pat}")


@check("Dockerfile build stage: its COPY set and commands build signald (here, Debian 12)")
def check_docker_build_stage():
    stages = dict((n, i) for n, i in dockerfile_stages() if n)
    build = stages["build"]
    pkgs = set(apt_packages(build))
    # Everything deps.sh needs to build, less the test and format tools.
    deps = open(os.path.join(ROOT, "scripts", "deps.sh")).read()
    m = re.search(r"build_pkgs=\(([^)]*)\)", deps)
    wanted = set(m.group(1).split()) - {"clang", "clang-format", "libcmocka-dev"}
    expect(wanted <= pkgs, f"build stage lacks {sorted(wanted - pkgs)}")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        os.mkdir(src)
        for word, rest in build:
            if word != "COPY":
                continue
            *sources, dst = rest.split()
            expect(sources and not sources[0].startswith("--"), f"unexpected COPY: {rest}")
            target = os.path.normpath(os.path.join(src, dst))
            for s in sources:
                path = os.path.join(ROOT, s)
                if os.path.isdir(path):  # Docker copies a directory's contents
                    shutil.copytree(path, target, dirs_exist_ok=True)
                else:
                    os.makedirs(target if dst.endswith("/") else os.path.dirname(target),
                                exist_ok=True)
                    shutil.copy(path, target)
        for word, rest in build:
            if word == "RUN" and "cmake" in rest:
                res = sh(["bash", "-c", rest], cwd=src, timeout=600)
                expect(res.returncode == 0, f"build failed: {res.stdout[-2000:]}{res.stderr[-2000:]}")
        built = os.path.join(src, "build", "signald", "signald")
        res = sh([built, "--help"])
        expect(res.returncode == 0 and "REDIS_URL" in res.stdout, "built signald does not run")
    return "cmake build of the COPY set"


# --- Helm ---------------------------------------------------------------------

YAMLLINT_CONFIG = """
extends: default
rules:
  line-length: {max: 120}
  document-start: disable
  comments: {min-spaces-from-content: 1}
  truthy: {check-keys: false}
  indentation: {spaces: consistent, indent-sequences: whatever}
"""


def yamllint(paths):
    res = sh(["yamllint", "-s", "-d", YAMLLINT_CONFIG, *paths])
    expect(res.returncode == 0, f"yamllint: {res.stdout.strip()}")


@check("helm/signald Chart.yaml, values.yaml and ci/ values pass yamllint")
def check_helm_yamllint():
    files = [os.path.join(CHART, "Chart.yaml"), os.path.join(CHART, "values.yaml")]
    files += [os.path.join(CHART, "ci", f) for f in sorted(os.listdir(os.path.join(CHART, "ci")))]
    yamllint(files)
    chart = yaml.safe_load(open(files[0]))
    expect(chart["apiVersion"] == "v2" and chart["name"] == "signald", "Chart.yaml header")
    dep = {d["name"]: d for d in chart.get("dependencies", [])}
    expect(dep.get("redis", {}).get("condition") == "redis.enabled",
           "redis dependency must be optional (condition redis.enabled)")
    return f"{len(files)} files"


def render(values_file=None, name="demo"):
    argv = [os.path.join(ROOT, "scripts", "helm-render"), CHART, "--name", name]
    if values_file:
        argv += ["-f", values_file]
    return sh(argv)


@check("helm-render refuses the chart without a JWT secret (required)")
def check_helm_required():
    res = render()
    expect(res.returncode != 0 and "secrets.jwtSecret" in res.stderr,
           f"rendered without secrets.jwtSecret: {res.stderr or res.stdout[:200]}")


def helm_objects(values_file):
    res = render(values_file)
    expect(res.returncode == 0, f"helm-render: {res.stderr.strip()}")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(res.stdout)
    try:
        yamllint([f.name])
    finally:
        os.unlink(f.name)
    objs = []
    for doc in res.stdout.split("\n---\n"):
        m = re.search(r"^# Source: (\S+)", doc, re.M)
        obj = yaml.safe_load(doc)
        if obj:
            objs.append({"source": m.group(1) if m else "?", "object": obj})
    return objs


def kube_validate(objs):
    res = sh(["node", os.path.join(HERE, "k8s-validate.mjs")], input=json.dumps(objs), cwd=HERE)
    fails = [line for line in res.stdout.splitlines() if not line.startswith("ok ")]
    expect(res.returncode == 0, "; ".join(fails) + res.stderr.strip())
    return res.stdout


@check("kubernetes-models validation is live (a broken Deployment fails)")
def check_kube_validator_live():
    broken = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
              "spec": {"selector": {"matchLabels": {"a": "b"}},
                       "template": {"metadata": {"labels": {"a": "b"}},
                                    "spec": {"containers": [{"name": "c", "image": "i",
                                                             "ports": [{"containerPort": "80"}]}]}}}}
    res = sh(["node", os.path.join(HERE, "k8s-validate.mjs")],
             input=json.dumps([{"source": "self-test", "object": broken}]), cwd=HERE)
    expect(res.returncode == 1 and "containerPort" in res.stdout, f"not refused: {res.stdout}")


def by_kind(objs):
    out = {}
    for o in objs:
        out.setdefault(o["object"]["kind"], []).append(o["object"])
    return out


def helm_semantics(objs, values):
    kinds = by_kind(objs)
    dep = kinds["Deployment"][0]
    pod = dep["spec"]["template"]
    spec = pod["spec"]
    c = spec["containers"][0]
    name = dep["metadata"]["name"]
    # Probes, drain and the grace period.
    expect(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness probe path")
    expect(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness probe path")
    port_names = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe in ("livenessProbe", "readinessProbe"):
        expect(c[probe]["httpGet"]["port"] in port_names, f"{probe} port")
    cmd = c["lifecycle"]["preStop"]["exec"]["command"]
    expect(cmd[0] == "/bin/sleep", f"preStop {cmd}")
    pre_stop = float(cmd[1])
    cm = kinds["ConfigMap"][0]["data"]
    drain = int(cm["DRAIN_SECONDS"]) + 2  # the node exits at most 2 s after its drain window
    tgp = spec["terminationGracePeriodSeconds"]
    expect(tgp > pre_stop + drain, f"terminationGracePeriodSeconds {tgp} <= preStop {pre_stop} "
           f"+ drain {drain}")
    expect(int(cm["PORT"]) == port_names["http"], "PORT != containerPort")
    # Selectors and references.
    labels = pod["metadata"]["labels"]
    sel = dep["spec"]["selector"]["matchLabels"]
    expect(all(labels.get(k) == v for k, v in sel.items()), "Deployment selector")
    svc = kinds["Service"][0]
    expect(all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()),
           "Service selector does not match the pods")
    expect(svc["spec"]["ports"][0]["targetPort"] in port_names, "Service targetPort")
    expect(svc["spec"].get("sessionAffinity", "None") == "None", "session affinity")
    names = {(o["object"]["kind"], o["object"]["metadata"]["name"]) for o in objs}
    existing = values.get("secrets", {}).get("existingSecret")
    for src in c["envFrom"]:
        if "configMapRef" in src:
            expect(("ConfigMap", src["configMapRef"]["name"]) in names, "configMapRef")
        if "secretRef" in src:
            ref = src["secretRef"]["name"]
            expect(ref == existing if existing else ("Secret", ref) in names, "secretRef")
    expect(("Secret" in kinds) == (not existing), "a Secret is rendered iff no existingSecret")
    if values.get("autoscaling", {}).get("enabled", True):
        hpa = kinds["HorizontalPodAutoscaler"][0]
        expect(hpa["spec"]["scaleTargetRef"]["name"] == name, "HPA target")
        expect("replicas" not in dep["spec"], "replicas set while the HPA scales")
    else:
        expect("HorizontalPodAutoscaler" not in kinds, "HPA rendered while disabled")
        expect(dep["spec"]["replicas"] == values.get("replicaCount", 3), "replicas")
    if "PodDisruptionBudget" in kinds:
        pdb = kinds["PodDisruptionBudget"][0]["spec"]
        expect(all(labels.get(k) == v for k, v in pdb["selector"]["matchLabels"].items()),
               "PDB selector")
    # Every setting is one signald reads, and the real signald accepts them.
    known = signald_settings()
    env = dict(cm)
    if "Secret" in kinds:
        for k, v in kinds["Secret"][0]["data"].items():
            env[k] = base64.b64decode(v).decode()
    else:
        env.update({"JWT_SECRET": "from-existing-secret",
                    "REDIS_URL": "redis://redis.example:6379/0"})
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = k8s_expand(e["value"], env)
        elif "secretKeyRef" in e.get("valueFrom", {}):
            env[e["name"]] = "s3cret"
        elif "fieldRef" in e.get("valueFrom", {}):
            env[e["name"]] = "demo-signald-5d8f7c9b6-x2x9k"
    unknown = set(env) - known - {"REDIS_PASSWORD"}
    expect(not unknown, f"settings signald does not know: {sorted(unknown)}")
    signald_accepts(env, "helm pod environment")
    return kinds


def make_helm_check(values_name):
    @check(f"helm/signald rendered with ci/{values_name}: yamllint, Kubernetes schemas, "
           f"semantics, signald accepts the pod environment")
    def run():
        path = os.path.join(CHART, "ci", values_name)
        values = yaml.safe_load(open(path)) or {}
        objs = helm_objects(path)
        kube_validate(objs)
        kinds = helm_semantics(objs, values)
        return ", ".join(f"{k} x{len(v)}" if len(v) > 1 else k for k, v in sorted(kinds.items()))
    return run


@check("helm/signald NOTES.txt renders")
def check_helm_notes():
    res = sh([os.path.join(ROOT, "scripts", "helm-render"), CHART, "--notes", "-f",
              os.path.join(CHART, "ci", "default-values.yaml")])
    expect(res.returncode == 0 and "/ws/webrtc/" in res.stdout, res.stderr)


def main():
    checks = [check_signald_accepts_live, check_haproxy_in_step, check_haproxy_valid, check_compose_loads,
              check_compose_schema, check_compose_semantics, check_livekit_yaml,
              check_docker_runtime_libs, check_docker_runtime_shape]
    if os.environ.get("CHECK_DEPLOY_BUILD", "1") != "0":
        checks.append(check_docker_build_stage)
    checks += [check_helm_yamllint, check_helm_required, check_kube_validator_live]
    checks += [make_helm_check(v) for v in sorted(os.listdir(os.path.join(CHART, "ci")))]
    checks.append(check_helm_notes)
    for fn in checks:
        fn()
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"check-deploy: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
