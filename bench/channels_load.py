"""Load on the channels: signed WeChat messages and Telegram webhook updates posted at
steady rates to a running `memberbot serve` on loopback.

    .venv/bin/python bench/channels_load.py [--rates 5,10,20,40,60,80] [--seconds 10]
        [--postgres URL --workers 2]

It builds a fresh SQLite database (demo data plus `--users` generated members, each bound
to a WeChat openid and a Telegram user id), starts the fake Telegram and WeChat APIs
(`python -m tests.fakes`) and `memberbot serve` as subprocesses, then, for each rate,
fires requests on an open-loop schedule (a request goes at its time whether or not the
earlier ones have answered; latency is counted from that time), half WeChat and half
Telegram, members asking for their points. Each step's requests are signed and encoded
before it starts and go out raw over kept-alive connections, so the generator costs the
shared cores about 0.2 ms a request (httpx cost it about 4 and ran out of core before one
serve worker did). It prints, per rate, the requests per second answered, p50/p99/max
latency and the CPU per request of serve and of the generator, and stops after the first
rate whose p99 passes one second. Bounded: at most rate x seconds requests per step and `--max-minutes` in all.

The Telegram limit (30 messages a second per bot) would cap replies and so the webhook
whatever the server can do; the run lifts it (`--telegram-rate`) to measure the server,
and says so."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import machine  # noqa: E402

from tests.fakes.wechat_api import TOKEN as WECHAT_TOKEN  # noqa: E402
from tests.fakes.wechat_api import FakeWeChatServer  # noqa: E402

TELEGRAM_SECRET = "bench-secret"
QUESTIONS = ["我还有多少积分", "积分", "我的积分还有多少", "how many points do I have"]


@dataclass
class Step:
    rate: float
    latencies: list[float] = field(default_factory=list)
    by_channel: dict[str, list[float]] = field(
        default_factory=lambda: {"wechat": [], "telegram": []}
    )
    errors: int = 0
    sent: int = 0
    started: float = 0.0
    finished: float = 0.0
    load_cpu: float = 0.0  # the load generator's own CPU seconds during the step
    faults: Counter = field(default_factory=Counter)  # status codes and exceptions, not 200

    def row(self) -> dict:
        done = sorted(self.latencies)
        wall = max(self.finished - self.started, 1e-9)

        def pct(p, values=done):
            values = sorted(values)
            if not values:
                return float("nan")
            return values[min(len(values) - 1, int(p * len(values)))] * 1000

        return {
            "rate": self.rate,
            "sent": self.sent,
            "ok": len(done),
            "errors": self.errors,
            "answered_per_s": round(len(done) / wall, 1),
            "p50_ms": round(pct(0.50), 1),
            "p99_ms": round(pct(0.99), 1),
            "max_ms": round(done[-1] * 1000, 1) if done else float("nan"),
            "mean_ms": round(statistics.fmean(done) * 1000, 1) if done else float("nan"),
            "wechat_p99_ms": round(pct(0.99, self.by_channel["wechat"]), 1),
            "telegram_p99_ms": round(pct(0.99, self.by_channel["telegram"]), 1),
            "faults": dict(self.faults),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str, users: int) -> None:
    from sqlalchemy import insert, select

    from core.config import load_config
    from handlers.desk import demo
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import ChatIdentity, Member

    upgrade(url, "heads")
    config = load_config(ROOT / "config.yml")
    db = Database(url)
    at = datetime.now(UTC)
    demo.seed(db, config, at)
    demo.seed_generated(db, config, at, users * 2)
    with db.unit_of_work() as session:
        ids = session.scalars(
            select(Member.id).where(Member.member_no.like("G%")).order_by(Member.member_no)
        ).all()
        rows = []
        for n in range(users):
            for channel, external, member in (
                ("telegram", str(700_000_000 + n), ids[n]),
                ("wechat", f"o_bench_{n:06d}", ids[users + n]),
            ):
                rows.append(
                    dict(
                        channel=channel,
                        external_id=external,
                        member_id=member,
                        language="zh",
                        reachable=True,
                        bind_failures=0,
                        created_at=at,
                    )
                )
        session.execute(insert(ChatIdentity), rows)
        session.commit()
    db.dispose()


def bench_config(path: Path, telegram_rate: float) -> None:
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    raw["channels"]["telegram"]["rate_per_second"] = telegram_rate
    raw["logging"]["level"] = "WARNING"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def start_fakes(env: dict) -> tuple[subprocess.Popen, dict]:
    fakes = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    exports = {}
    while "NO_PROXY" not in exports:
        line = fakes.stdout.readline()
        if not line:
            raise RuntimeError("the fake platform servers did not start")
        for pair in line.removeprefix("export ").split():
            key, _, value = pair.partition("=")
            exports[key] = value.strip("'")
    exports["TELEGRAM_WEBHOOK_SECRET"] = TELEGRAM_SECRET
    return fakes, exports


def start_serve(
    env: dict, config: Path, port: int, cores: str | None, workers: int = 1
) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv/bin/memberbot"),
        "--config",
        str(config),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if cores and shutil.which("taskset"):
        command = ["taskset", "-c", cores, *command]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (serve's workers) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        this, parent = int(stat.parent.name), int(fields[1])
        if this == pid or parent == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


async def wait_healthy(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("serve did not become healthy")


class Connections:
    """Keep-alive HTTP/1.1 connections to serve, spoken raw: the load generator shares the
    machine with what it measures, and httpx cost it most of a core at 200 requests a
    second (the server's answers then waited on the client, not on the server)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, request: bytes) -> int:
        """The status code of one request (one connection each while in flight). A kept
        connection the server closed meanwhile (uvicorn's keep-alive timeout) is replaced,
        as any HTTP client does."""
        while self.idle:
            reader, writer = self.idle.pop()
            try:
                return await self._exchange(reader, writer, request)
            except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
                if getattr(exc, "partial", b""):
                    raise
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return await self._exchange(reader, writer, request)

    async def _exchange(self, reader, writer, request: bytes) -> int:
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        self.idle.append((reader, writer))
        return int(head[9:12])

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


def raw_post(target: str, body: bytes, content_type: str, **headers: str) -> bytes:
    lines = [f"POST {target} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Load:
    def __init__(self, connections: Connections, users: int):
        self.connections = connections
        self.users = users
        self.wechat = FakeWeChatServer(token=WECHAT_TOKEN)
        self.numbers = count(1)
        self.update_ids = count(1)
        self.msg_ids = count(int(time.time()) * 1000)

    def request(self, n: int) -> tuple[str, bytes]:
        """(channel, the whole HTTP request), signed and ready before its step starts."""
        user = n % self.users
        text = QUESTIONS[n % len(QUESTIONS)]
        if n % 2:
            update_id = next(self.update_ids)
            update = {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": int(time.time()),
                    "chat": {"id": 700_000_000 + user, "type": "private"},
                    "from": {"id": 700_000_000 + user, "is_bot": False, "first_name": "M"},
                    "text": text,
                },
            }
            body = json.dumps(update, ensure_ascii=False).encode()
            secret = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            return "telegram", raw_post("/telegram/webhook", body, "application/json", **secret)
        xml = self.wechat.text(f"o_bench_{user:06d}", text, msg_id=next(self.msg_ids))
        query, body = self.wechat.request(xml)
        return "wechat", raw_post(f"/wechat?{query}", body, "text/xml")

    async def step(self, rate: float, seconds: float) -> Step:
        step = Step(rate)
        total = int(rate * seconds)
        interval = 1.0 / rate
        requests = [self.request(next(self.numbers)) for _ in range(total)]
        tasks = []
        load_cpu = time.process_time()
        step.started = start = time.monotonic()
        for i, (channel, request) in enumerate(requests):
            due = start + i * interval
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._one(step, due, channel, request)))
            step.sent += 1
        await asyncio.gather(*tasks)
        step.finished = time.monotonic()
        step.load_cpu = time.process_time() - load_cpu
        return step

    async def _one(self, step: Step, due: float, channel: str, request: bytes) -> None:
        try:
            status = await asyncio.wait_for(self.connections.post(request), timeout=30)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
        ) as exc:
            step.errors += 1
            step.faults[f"{channel} {type(exc).__name__}"] += 1
            return
        if status == 200:
            took = time.monotonic() - due
            step.latencies.append(took)
            step.by_channel[channel].append(took)
        else:
            step.errors += 1
            step.faults[f"{channel} {status}"] += 1


async def run(args) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="memberbot-bench-", dir=args.workdir))
    url_db, drop = (
        fresh_postgres(args.postgres) if args.postgres else (f"sqlite:///{work / 'bench.db'}", None)
    )
    print(f"preparing {url_db} with {args.users} bound users per channel ...", file=sys.stderr)
    prepare_database(url_db, args.users)
    config = work / "config.yml"
    bench_config(config, args.telegram_rate)
    env = {
        **os.environ,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "DATABASE_URL": url_db,
        "PYTHONPATH": str(ROOT),
    }
    fakes, exports = start_fakes(env)
    env.update(exports)
    port = free_port()
    serve = start_serve(env, config, port, args.cores, args.workers)
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        await wait_healthy(url)
        connections = Connections("127.0.0.1", port)
        load = Load(connections, args.users)
        try:
            await load.step(5, 2)  # warm-up, not counted
            deadline = time.monotonic() + args.max_minutes * 60
            for rate in args.rates:
                if time.monotonic() > deadline:
                    print("time bound reached", file=sys.stderr)
                    break
                cpu_before = cpu_seconds(serve.pid)
                step = await load.step(rate, args.seconds)
                used = cpu_seconds(serve.pid) - cpu_before
                row = step.row()
                row["cpu_ms_per_req"] = round(used * 1000 / max(row["ok"], 1), 1)
                row["load_cpu_ms_per_req"] = round(step.load_cpu * 1000 / max(row["sent"], 1), 2)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
                if row["p99_ms"] > 1000 or row["errors"] > row["sent"] * 0.05:
                    break
                await asyncio.sleep(1)
        finally:
            connections.close()
    finally:
        serve.terminate()
        fakes.terminate()
        serve.wait(timeout=30)
        fakes.wait(timeout=10)
        outcomes = sent_outcomes(url_db)
        shutil.rmtree(work, ignore_errors=True)
        if drop:
            drop()
    print(f"replies by outcome: {outcomes}", file=sys.stderr)
    return rows


def fresh_postgres(admin_url: str):
    """A new database on the server of `admin_url`, and how to drop it afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"memberbot_chbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, drop


def sent_outcomes(url: str) -> dict:
    """What the server did with the load, from its message log: replies sent passively or
    through the fake APIs, and any turn the engine failed."""
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import MessageLog

    db = Database(url)
    with db.unit_of_work(write=False) as session:
        rows = session.execute(
            select(MessageLog.direction, MessageLog.outcome, func.count())
            .where((MessageLog.handler == "sender") | (MessageLog.outcome == "error"))
            .group_by(MessageLog.direction, MessageLog.outcome)
        ).all()
    db.dispose()
    return {f"{d}:{o}": n for d, o, n in rows}


def table(rows: list[dict], args) -> str:
    lines = [
        "| offered req/s | sent | answered req/s | p50 ms | p99 ms | max ms "
        "| WeChat p99 ms | Telegram p99 ms | errors | serve CPU ms/req | load CPU ms/req |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['rate']:g} | {r['sent']} | {r['answered_per_s']} | {r['p50_ms']} | "
            f"{r['p99_ms']} | {r['max_ms']} | {r['wechat_p99_ms']} | {r['telegram_p99_ms']} "
            f"| {r['errors']} | {r['cpu_ms_per_req']} | {r['load_cpu_ms_per_req']} |"
        )
    over = next((r["rate"] for r in rows if r["p99_ms"] > 1000), None)
    under = [r["rate"] for r in rows if r["p99_ms"] <= 1000]
    if over is not None:
        verdict = f"p99 passes one second at {over:g} req/s (last rate under it: {max(under, default=0):g} req/s)."
    else:
        verdict = f"p99 stayed under one second up to {max(under, default=0):g} req/s, the highest rate tried."
    return "\n".join(lines) + "\n\n" + verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rates",
        default="5,10,20,30,40,50,60,70,80,100,130,160",
        type=lambda s: [float(x) for x in s.split(",")],
    )
    parser.add_argument("--seconds", type=float, default=10, help="seconds per rate")
    parser.add_argument("--users", type=int, default=500, help="bound users per channel")
    parser.add_argument(
        "--telegram-rate",
        type=float,
        default=10_000,
        help="channels.telegram.rate_per_second for the run (config: 30)",
    )
    parser.add_argument("--cores", default="0,1", help="CPUs for serve (taskset), '' for any")
    parser.add_argument("--max-minutes", type=float, default=6)
    parser.add_argument(
        "--workdir", default=None, help="where the SQLite file goes (default: the temp dir)"
    )
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="run on a fresh database created on this PostgreSQL server instead of SQLite",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="serve --workers N (more than one: PostgreSQL)"
    )
    parser.add_argument("--json", action="store_true", help="print rows as JSON instead")
    args = parser.parse_args()
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = asyncio.run(run(args))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; machine: {machine()}")
    print(
        f"database: {database}; serve workers: {args.workers}; "
        f"load average before the run: {load_before}"
    )
    print(table(rows, args))


if __name__ == "__main__":
    main()
