"""The cluster configuration on one machine (issue 13): `make cluster`, `make cluster-stop`.

    python scripts/cluster.py start    start everything (returns when the cluster answers)
    python scripts/cluster.py stop     stop everything it started
    python scripts/cluster.py status   what runs, and its health
    python scripts/cluster.py url      the base URL of the load balancer (nothing if not running)

What runs (all on 127.0.0.1, files under CLUSTER_DIR, default .cluster/):
- N Rasa server replicas (CLUSTER_REPLICAS, default 2) reading cluster/endpoints.yml;
- M action server replicas (CLUSTER_ACTION_REPLICAS, default 2);
- nginx (Debian's) as the load balancer: the public port (CLUSTER_PORT, default 8080) for the
  Rasa replicas, with sticky sessions for socket.io, and a second port, on 127.0.0.1 only, for the
  action servers;
- PostgreSQL (tracker store) and Redis (lock store): private ones started here, unless DB_HOST
  (and DB_PORT, DB_USER, DB_PASSWORD, DB_DATABASE) or REDIS_HOST (REDIS_PORT, REDIS_PASSWORD,
  REDIS_DB) name servers of yours;
- a supervisor (this script, in the background) that asks every process for its health each
  second and takes a process that does not answer out of nginx's rotation (and puts it back when
  it answers again), and starts a process that exited again (CLUSTER_RESTART=0: it does not).

The same settings as `make run` pass through: RASA_API_TOKEN, WIDGET_SESSION_SECRET (generated
and kept in CLUSTER_DIR/secrets.json when unset: every replica must share it), TWILIO_*,
SMS_ID_SECRET. The SMS state file is shared by the replicas (CLUSTER_DIR/sms.db).
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DIR = Path(os.environ.get("CLUSTER_DIR") or ROOT / ".cluster").resolve()
STATE = DIR / "state.json"
MODEL = Path(os.environ.get("MODEL") or ROOT / "models" / "crs.tar.gz")
START_SECONDS = float(os.environ.get("CLUSTER_START_SECONDS", "420"))


def log(message: str) -> None:
    print(f"cluster: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def read_state() -> Dict:
    try:
        return json.loads(STATE.read_text())
    except (OSError, ValueError):
        return {}


def write_state(state: Dict) -> None:
    tmp = STATE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(STATE)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except Exception:  # noqa: BLE001 - any failure is "not healthy"
        return False


def secrets_file() -> Dict[str, str]:
    path = DIR / "secrets.json"
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError):
        values = {}
    changed = False
    for key in ("db_password", "redis_password", "widget_session_secret"):
        if key not in values:
            values[key] = secrets.token_urlsafe(24)
            changed = True
    if changed:
        path.touch(mode=0o600)
        os.chmod(path, 0o600)
        path.write_text(json.dumps(values))
    return values


# -- PostgreSQL and Redis ---------------------------------------------------------------------------


def pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        sys.exit(f"cluster: {name} not found: install PostgreSQL (make cluster does: apt-get install postgresql)")
    return candidates[-1]


def as_pg_user(args: List[str]) -> List[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def pg_base() -> Path:
    """Where PostgreSQL's files go: CLUSTER_DIR, or (when the postgres user cannot reach it, as
    under a private temporary folder of root) a folder of its own in /tmp named after it."""
    if os.geteuid() != 0:
        return DIR
    os.chmod(DIR, 0o755)
    if subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(DIR)]).returncode == 0:
        return DIR
    import hashlib

    base = Path("/tmp") / ("crs-cluster-pg-" + hashlib.sha1(str(DIR).encode()).hexdigest()[:12])
    base.mkdir(mode=0o755, exist_ok=True)
    return base


def start_postgres(state: Dict, keys: Dict[str, str]) -> Dict[str, str]:
    if os.environ.get("DB_HOST"):
        log(f"tracker store: your PostgreSQL at {os.environ['DB_HOST']}")
        return {
            "DB_HOST": os.environ["DB_HOST"],
            "DB_PORT": os.environ.get("DB_PORT", "5432"),
            "DB_USER": os.environ.get("DB_USER", "crs"),
            "DB_PASSWORD": os.environ.get("DB_PASSWORD", ""),
            "DB_DATABASE": os.environ.get("DB_DATABASE", "crs"),
        }
    base = pg_base()
    data = base / "postgres"
    run = base / "postgres-run"
    port = int(os.environ.get("DB_PORT") or state.get("db_port") or free_port())
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        pwfile = base / "pg.pw"
        pwfile.write_text(keys["db_password"] + "\n")
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        os.chmod(pwfile, 0o600)
        log("initialising a private PostgreSQL in " + str(data))
        subprocess.run(
            as_pg_user(
                [
                    pg_bin("initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "crs",
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        pwfile.unlink()
    run.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(run, "postgres", "postgres")
    pg_log = base / "postgres.log"
    pg_log.touch()
    if os.geteuid() == 0:
        shutil.chown(pg_log, "postgres", "postgres")
    options = f"-p {port} -k {run} -c listen_addresses=127.0.0.1 -c max_connections=200"
    result = subprocess.run(as_pg_user([pg_bin("pg_ctl"), "-D", str(data), "status"]), capture_output=True)
    if result.returncode != 0:
        subprocess.run(
            as_pg_user([pg_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(pg_log), "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    state["db_port"] = port
    state["postgres"] = str(data)
    exists = subprocess.run(
        [pg_bin("psql"), "-h", str(run), "-p", str(port), "-U", "crs", "-d", "postgres", "-tAc"]
        + ["SELECT 1 FROM pg_database WHERE datname = 'crs'"],
        capture_output=True,
        text=True,
        check=True,
    )
    if exists.stdout.strip() != "1":
        subprocess.run([pg_bin("createdb"), "-h", str(run), "-p", str(port), "-U", "crs", "crs"], check=True)
    log(f"tracker store: private PostgreSQL on 127.0.0.1:{port}, database crs")
    return {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(port),
        "DB_USER": "crs",
        "DB_PASSWORD": keys["db_password"],
        "DB_DATABASE": "crs",
    }


def start_redis(state: Dict, keys: Dict[str, str]) -> Dict[str, str]:
    if os.environ.get("REDIS_HOST"):
        log(f"lock store: your Redis at {os.environ['REDIS_HOST']}")
        return {
            "REDIS_HOST": os.environ["REDIS_HOST"],
            "REDIS_PORT": os.environ.get("REDIS_PORT", "6379"),
            "REDIS_PASSWORD": os.environ.get("REDIS_PASSWORD", ""),
            "REDIS_DB": os.environ.get("REDIS_DB", "1"),
        }
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(server):
        sys.exit("cluster: redis-server not found: install it (make cluster does: apt-get install redis-server)")
    port = int(os.environ.get("REDIS_PORT") or state.get("redis_port") or free_port())
    pidfile = DIR / "redis.pid"
    (DIR / "redis").mkdir(exist_ok=True)
    config = DIR / "redis.conf"
    config.touch(mode=0o600)
    config.write_text(
        f'bind 127.0.0.1\nport {port}\nrequirepass {keys["redis_password"]}\nsave ""\nappendonly no\n'
        f"dir {DIR / 'redis'}\npidfile {pidfile}\nlogfile {DIR / 'redis.log'}\ndaemonize yes\n"
    )
    if not (pidfile.exists() and alive(int(pidfile.read_text().strip() or 0))):
        subprocess.run([server, str(config)], check=True)
        for _ in range(50):
            if pidfile.exists():
                break
            time.sleep(0.1)
    state["redis_port"] = port
    log(f"lock store: private Redis on 127.0.0.1:{port}")
    return {
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(port),
        "REDIS_PASSWORD": keys["redis_password"],
        "REDIS_DB": "1",
    }


def stop_postgres(state: Dict) -> None:
    data = state.get("postgres")
    if data and (Path(data) / "PG_VERSION").exists():
        subprocess.run(
            as_pg_user([pg_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # CLUSTER_PURGE=1 (the tests): the data goes too, when it lives outside CLUSTER_DIR
        base = Path(data).parent
        if os.environ.get("CLUSTER_PURGE") == "1" and base != DIR and base.name.startswith("crs-cluster-pg-"):
            shutil.rmtree(base, ignore_errors=True)


def stop_redis() -> None:
    pidfile = DIR / "redis.pid"
    if pidfile.exists():
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not alive(pid):
                    break
                time.sleep(0.1)
        except (ValueError, ProcessLookupError):
            pass
        pidfile.unlink(missing_ok=True)


# -- nginx ----------------------------------------------------------------------------------------

NGINX_CONF = """# written by scripts/cluster.py: do not edit (the template is in the script)
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
{user}
events {{ worker_connections 1024; }}

http {{
    # the replica that answered each request (upstream), never a message: bodies are not logged
    log_format crs '$time_iso8601 $status $request_method $uri sid=$arg_sid upstream=$upstream_addr '
                   'route=$crs_route time=$request_time';
    access_log {dir}/access.log crs;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    # bodies and answers stay in memory: no temporary files (the worker user may not be able to
    # write under CLUSTER_DIR)
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    proxy_max_temp_file_size 0;

    # socket.io sticky sessions: every replica runs on 127.0.0.1, so the client's address cannot
    # tell clients apart, and the socket.io session id (sid) is made by whichever replica answers
    # the handshake, so hashing it cannot find that replica. nginx gives each new client a route
    # cookie (a random id) on its first socket.io request and hashes every socket.io request on it:
    # the handshake, the polls and the websocket upgrade reach the same replica.
    map $cookie_crs_route $crs_route {{
        "~^[0-9a-f]{{32}}$" $cookie_crs_route;
        default $request_id;
    }}

    # written by the supervisor as replicas come and go (a replica that fails its health check
    # is marked down)
    include {dir}/upstreams.conf;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        "" "";
    }}

    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header Connection "";
        # a replica that refuses the connection (dead, or restarting): the request goes to the
        # next one. A request already sent is never sent twice (nginx does not retry a POST):
        # the client gets a 502 and may send it again with the same message_id.
        proxy_next_upstream error timeout http_503;
        proxy_next_upstream_tries 3;
        proxy_connect_timeout 2s;
        proxy_read_timeout 120s;

        location /socket.io/ {{
            add_header Set-Cookie "crs_route=$crs_route; Path=/socket.io/; HttpOnly; SameSite=Lax" always;
            # (a location with proxy_set_header of its own inherits none from the server)
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 600s;
            proxy_pass http://rasa_sticky;
        }}

        location = /nginx-health {{
            access_log off;
            return 200 "ok\\n";
        }}

        location / {{
            proxy_pass http://rasa;
        }}
    }}

    # the action servers: this machine only
    server {{
        listen 127.0.0.1:{action_port};
        # Rasa sends the whole tracker to the action server
        client_max_body_size 32m;
        client_body_buffer_size 32m;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_next_upstream error timeout;
        proxy_connect_timeout 2s;
        proxy_read_timeout 60s;
        location / {{
            proxy_pass http://actions;
        }}
    }}
}}
"""


def upstreams(state: Dict, down: set) -> str:
    def servers(kind: str) -> str:
        lines = []
        for process in state[kind]:
            mark = " down" if process["name"] in down else ""
            lines.append(f"        server 127.0.0.1:{process['port']} max_fails=1 fail_timeout=3s{mark};")
        return "\n".join(lines)

    rasa = servers("rasa")
    return (
        f"    upstream rasa {{\n        least_conn;\n{rasa}\n        keepalive 16;\n    }}\n"
        f"    upstream rasa_sticky {{\n        hash $crs_route consistent;\n{rasa}\n    }}\n"
        f"    upstream actions {{\n        least_conn;\n{servers('actions')}\n        keepalive 16;\n    }}\n"
    )


def nginx_bin() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(found):
        sys.exit("cluster: nginx not found: install it (make cluster does: apt-get install nginx)")
    return found


def start_nginx(state: Dict) -> None:
    conf_dir = DIR / "nginx"
    (conf_dir / "tmp").mkdir(parents=True, exist_ok=True)
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    (conf_dir / "nginx.conf").write_text(
        NGINX_CONF.format(dir=conf_dir, port=state["port"], action_port=state["action_port"], user=user)
    )
    (conf_dir / "upstreams.conf").write_text(upstreams(state, set()))
    subprocess.run(
        [nginx_bin(), "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"), "-e", str(conf_dir / "error.log")],
        check=True,
    )


def reload_nginx(state: Dict, down: set) -> None:
    conf_dir = DIR / "nginx"
    (conf_dir / "upstreams.conf").write_text(upstreams(state, down))
    try:
        os.kill(int((conf_dir / "nginx.pid").read_text().strip()), signal.SIGHUP)
    except (OSError, ValueError):
        pass


def stop_nginx() -> None:
    pidfile = DIR / "nginx" / "nginx.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGQUIT)
        for _ in range(50):
            if not alive(pid):
                break
            time.sleep(0.1)
    except (OSError, ValueError):
        pass


# -- the Rasa and action servers --------------------------------------------------------------------


def spawn(process: Dict, env: Dict[str, str]) -> None:
    log_path = DIR / f"{process['name']}.log"
    with open(log_path, "a") as out:
        if process["kind"] == "actions":
            args = [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(process["port"])]
            penv = {**env, "SANIC_HOST": "127.0.0.1"}
        else:
            api = []
            if env.get("RASA_API_TOKEN"):
                api = ["--enable-api", "--auth-token", env["RASA_API_TOKEN"]]
            args = [
                str(VENV_BIN / "rasa"),
                "run",
                *api,
                "-m",
                str(MODEL),
                "--endpoints",
                str(ROOT / "cluster" / "endpoints.yml"),
                "--credentials",
                str(ROOT / "credentials.yml"),
                "-i",
                "127.0.0.1",
                "--port",
                str(process["port"]),
            ]
            penv = env
        child = subprocess.Popen(args, cwd=ROOT, env=penv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    process["pid"] = child.pid
    process["started"] = time.time()


def health_url(process: Dict) -> str:
    path = "/health" if process["kind"] == "actions" else "/webhooks/rest/health"
    return f"http://127.0.0.1:{process['port']}{path}"


def stop_process(process: Dict, grace: float = 20) -> None:
    pid = process.get("pid")
    if not alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.2)
    if alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def create_schema(env: Dict[str, str]) -> None:
    """The tracker store's tables and the helpline console's migrations, made once before the
    replicas start (two replicas making the tracker store's tables at the same moment can collide
    in PostgreSQL's catalogue; the console's migrations also take turns under a lock)."""
    code = (
        "from components.tracker_store import RedactingSQLTrackerStore as S; import os; "
        "from crs.helpline.schema import migrate; "
        "s = S(dialect='postgresql', host=os.environ['DB_HOST'], port=os.environ['DB_PORT'], "
        "username=os.environ['DB_USER'], password=os.environ['DB_PASSWORD'], db=os.environ['DB_DATABASE']); "
        "migrate(s.engine)"
    )
    quiet = {**env, "PYTHONWARNINGS": "ignore", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    subprocess.run([str(VENV_BIN / "python"), "-c", code], cwd=ROOT, env=quiet, check=True)


# -- supervisor -------------------------------------------------------------------------------------


def supervise() -> None:
    state = read_state()
    env = {**os.environ, **state["env"]}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processes = state["actions"] + state["rasa"]
    for process in processes:
        spawn(process, env)
    write_state(state)
    restart = os.environ.get("CLUSTER_RESTART", "1") != "0"
    down = {p["name"] for p in processes}
    failures = {p["name"]: 0 for p in processes}
    reload_nginx(state, down)
    while not stopping:
        changed = False
        for process in processes:
            if stopping:
                break
            running = alive(process.get("pid"))
            ok = running and healthy(health_url(process))
            failures[process["name"]] = 0 if ok else failures[process["name"]] + 1
            # a dead process leaves at once; a live one after 3 failed checks in a row (a replica
            # busy with a burst can be slow to answer one), and never the last live one of its kind
            others = [
                p
                for p in processes
                if p["kind"] == process["kind"] and p is not process and p["name"] not in down and alive(p.get("pid"))
            ]
            if ok and process["name"] in down:
                down.discard(process["name"])
                changed = True
                log(f"{process['name']} healthy: in rotation")
            elif (
                not ok and process["name"] not in down and (not running or (failures[process["name"]] >= 3 and others))
            ):
                down.add(process["name"])
                changed = True
                log(f"{process['name']} {'exited' if not running else 'not healthy'}: out of rotation")
            if not alive(process.get("pid")) and process["name"] not in down:
                down.add(process["name"])  # it died between the two looks above
                changed = True
                log(f"{process['name']} exited: out of rotation")
            if not alive(process.get("pid")) and restart and time.time() - process.get("started", 0) > 10:
                log(f"{process['name']} exited: starting it again")
                spawn(process, env)
                changed = True
        if changed:
            reload_nginx(state, down)
            state["healthy"] = sorted({p["name"] for p in processes} - down)
            write_state(state)
        time.sleep(1)
    log("stopping")
    stop_nginx()
    for process in reversed(processes):
        stop_process(process)
    stop_redis()
    stop_postgres(state)
    state["supervisor"] = None
    state["healthy"] = []
    write_state(state)


def start() -> int:
    DIR.mkdir(parents=True, exist_ok=True)
    state = read_state()
    if alive(state.get("supervisor")):
        log(f"already running: {state['url']}")
        print(state["url"])
        return 0
    if not MODEL.is_file():
        sys.exit(f"cluster: no model at {MODEL}: run make train")
    keys = secrets_file()
    replicas = int(os.environ.get("CLUSTER_REPLICAS", "2"))
    action_replicas = int(os.environ.get("CLUSTER_ACTION_REPLICAS", "2"))
    port = int(os.environ.get("CLUSTER_PORT", "8080"))
    state = {
        "port": port,
        "action_port": free_port(),
        "db_port": state.get("db_port"),
        "redis_port": state.get("redis_port"),
    }
    env_db = start_postgres(state, keys)
    env_redis = start_redis(state, keys)
    if not os.environ.get("WIDGET_SESSION_SECRET"):
        log("WIDGET_SESSION_SECRET is not set: using one generated for this cluster (in secrets.json)")
    env = {
        **env_db,
        **env_redis,
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{state['action_port']}/webhook",
        "WIDGET_SESSION_SECRET": os.environ.get("WIDGET_SESSION_SECRET") or keys["widget_session_secret"],
        "SMS_STATE_DB": os.environ.get("SMS_STATE_DB") or str(DIR / "sms.db"),
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    create_schema({**os.environ, **env})
    state["env"] = env
    state["rasa"] = [{"name": f"rasa-{i + 1}", "kind": "rasa", "port": free_port()} for i in range(replicas)]
    state["actions"] = [
        {"name": f"actions-{i + 1}", "kind": "actions", "port": free_port()} for i in range(action_replicas)
    ]
    state["url"] = f"http://127.0.0.1:{port}"
    state["healthy"] = []
    write_state(state)
    start_nginx(state)
    with open(DIR / "supervisor.log", "a") as out:
        supervisor = subprocess.Popen(
            [sys.executable, __file__, "supervise"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    state["supervisor"] = supervisor.pid
    write_state(state)
    log(f"starting {replicas} Rasa and {action_replicas} action server replicas (logs in {DIR})")
    names = {p["name"] for p in state["rasa"] + state["actions"]}
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if supervisor.poll() is not None:
            print((DIR / "supervisor.log").read_text()[-3000:], file=sys.stderr)
            sys.exit("cluster: the supervisor stopped")
        if set(read_state().get("healthy", [])) >= names:
            break
        time.sleep(1)
    else:
        stop()
        sys.exit(f"cluster: not healthy after {START_SECONDS:.0f} s; see the logs in {DIR}")
    print(
        f"""
  The CRS cluster is running: {replicas} Rasa servers, {action_replicas} action servers behind nginx.
    Base URL:      {state["url"]}
    REST channel:  {state["url"]}/webhooks/rest/webhook
    Chat widget:   {state["url"]}/webhooks/widget/demo.html
    Health:        {state["url"]}/webhooks/rest/health (one replica's), python scripts/cluster.py status (each)
    Tracker store: PostgreSQL {env["DB_HOST"]}:{env["DB_PORT"]}/{env["DB_DATABASE"]}; lock store: Redis {env["REDIS_HOST"]}:{env["REDIS_PORT"]}
    Logs:          {DIR}
  make cluster-stop stops it.
""",
        flush=True,
    )
    return 0


def stop() -> int:
    state = read_state()
    pid = state.get("supervisor")
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.3)
    # whatever is left (the supervisor was killed, or never started)
    stop_nginx()
    for process in state.get("rasa", []) + state.get("actions", []):
        stop_process(process, grace=5)
    stop_redis()
    stop_postgres(state)
    if state:
        state["supervisor"] = None
        state["healthy"] = []
        write_state(state)
    log("stopped")
    return 0


def status() -> int:
    state = read_state()
    if not alive(state.get("supervisor")):
        print("not running")
        return 1
    print(f"running: {state['url']}")
    for process in state["rasa"] + state["actions"]:
        ok = alive(process.get("pid")) and healthy(health_url(process))
        print(
            f"  {process['name']:<10} pid {process.get('pid')} port {process['port']} {'healthy' if ok else 'NOT HEALTHY'}"
        )
    return 0


def url() -> int:
    state = read_state()
    if alive(state.get("supervisor")):
        print(state["url"])
        return 0
    return 1


def main(argv: List[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    commands = {"start": start, "stop": stop, "status": status, "url": url, "supervise": supervise}
    if command not in commands:
        print(__doc__)
        return 2
    return commands[command]() or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
