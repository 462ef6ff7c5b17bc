"""Staff workbench and REST API latency with 100,000 tickets on PostgreSQL.

    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/staff_queue.py [--tickets 100000] [--requests 300]

It creates a fresh database on that server (dropped at the end), migrates it, loads the
demo data, 20,000 generated members and `--tickets` tickets (about 6% open, 5% urgent,
created over the last 90 days, each with its opening event), starts `serve`'s ASGI app
(app.web.create_app with staff.install) under uvicorn in a subprocess on 127.0.0.1, signs
in, and times `--requests` sequential requests per endpoint after a warm-up: the queue
page and its filters, a ticket page, and the API's ticket list, ticket, member and
purchase routes. Prints a Markdown table and writes it to bench/RESULTS.md under
"## Staff workbench (issue 6)" (only that section is replaced)."""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from report import write_section
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECTION = "## Staff workbench (issue 6)"
PASSWORD = "bench-password-1"
MEMBERS = 20_000


def seed(url: str, tickets: int) -> tuple[list[str], list[str], list[str]]:
    from core.config import load_config
    from core.ticket_rules import deadlines, number, priority
    from handlers.desk import demo, staff_accounts
    from storage.db import Database
    from storage.models import Member, StaffUser, Ticket, TicketEvent

    config = load_config(ROOT / "config.yml")
    db = Database(url)
    at = datetime.now(UTC)
    demo.seed(db, config, at)
    demo.seed_generated(db, config, at, MEMBERS)
    for n in range(10):
        staff_accounts.add_staff(db, f"agent{n}", f"Agent {n}", PASSWORD, "agent", "zh", at)
    staff_accounts.add_staff(db, "boss", "Boss", PASSWORD, "supervisor", "zh", at)
    key = staff_accounts.create_api_key(db, "bench", "bench", at).key
    with db.unit_of_work() as session:
        member_ids = list(session.scalars(select(Member.id)))
        member_nos = list(session.scalars(select(Member.member_no).limit(2000)))
        staff_ids = list(session.scalars(select(StaffUser.id)))
    rng = random.Random(6)
    categories = config.complaints.categories
    vip = {"platinum", "diamond"}
    tiers = {
        m: ("gold" if m % 4 == 0 else "platinum" if m % 7 == 0 else "silver") for m in member_ids
    }
    batch = 10_000
    for start in range(0, tickets, batch):
        rows, events = [], []
        for i in range(start + 1, min(tickets, start + batch) + 1):
            created = at - timedelta(minutes=rng.randint(0, 90 * 24 * 60))
            urgent = rng.random() < 0.05
            member = rng.choice(member_ids)
            due = deadlines(created, urgent, tiers[member] in vip, config.service_levels)
            age = at - created
            is_open = rng.random() < 0.06 or age < timedelta(hours=6)
            if is_open:
                status = rng.choice(["new", "new", "assigned", "in_progress", "waiting_member"])
            else:
                status = rng.choice(["resolved", "closed", "closed"])
            answered = status not in ("new",) and rng.random() < 0.95
            rows.append(
                dict(
                    id=i,
                    number=number(i),
                    member_id=member,
                    kind="complaint",
                    category=rng.choice(categories),
                    priority=priority("complaint", urgent, tiers[member] in vip),
                    urgent=urgent,
                    status=status,
                    description=f"bench complaint {i}: parcel late, please help",
                    assignee_id=rng.choice(staff_ids) if status != "new" else None,
                    first_response_due=due.first_response,
                    resolution_due=due.resolution,
                    first_responded_at=created + timedelta(minutes=rng.randint(5, 600))
                    if answered
                    else None,
                    resolved_at=created + timedelta(hours=rng.randint(1, 60))
                    if status in ("resolved", "closed")
                    else None,
                    rating=rng.choice([None, 3, 4, 5, 5, 2]) if status == "closed" else None,
                    created_at=created,
                    updated_at=created,
                )
            )
            events.append(
                dict(ticket_id=i, kind="opened", actor="member", body="bench", created_at=created)
            )
        with db.unit_of_work() as session:
            session.execute(insert(Ticket), rows)
            session.execute(insert(TicketEvent), events)
            session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"))
        conn.execute(text("ANALYZE"))
    with db.unit_of_work() as session:
        open_numbers = list(
            session.scalars(
                select(Ticket.number).where(Ticket.status.in_(["new", "in_progress"])).limit(500)
            )
        )
    db.dispose()
    return open_numbers, member_nos, [key]


def reuse(url: str) -> tuple[list[str], list[str], list[str]]:
    """A database kept by an earlier --keep run: a fresh key, the same tickets."""
    from handlers.desk import staff_accounts
    from storage.db import Database
    from storage.models import Member, Ticket

    db = Database(url)
    key = staff_accounts.create_api_key(
        db, f"bench-{uuid.uuid4().hex[:6]}", "bench", datetime.now(UTC)
    ).key
    with db.unit_of_work() as session:
        member_nos = list(session.scalars(select(Member.member_no).limit(2000)))
        open_numbers = list(
            session.scalars(
                select(Ticket.number).where(Ticket.status.in_(["new", "in_progress"])).limit(500)
            )
        )
    db.dispose()
    return open_numbers, member_nos, [key]


def serve(url: str, port: int) -> None:
    """The subprocess: serve's app with the workbench and API installed."""
    import uvicorn

    import staff
    from app.channels.setup import Channels
    from app.composition import App
    from app.web import create_app

    os.environ["DATABASE_URL"] = url
    app = App(str(ROOT / "config.yml"))
    web = create_app(app, Channels())
    staff.install(web, app, {})
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(client: httpx.Client, method: str, paths, n: int, warmup: int = 20, **kw) -> dict:
    samples = []
    for i in range(warmup + n):
        path = paths(i) if callable(paths) else paths
        body = kw["json"](i) if callable(kw.get("json")) else kw.get("json")
        started = time.perf_counter()
        answer = client.request(method, path, json=body, headers=kw.get("headers"))
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
        if i >= warmup:
            samples.append(elapsed)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "mean": statistics.fmean(samples),
    }


def run(args) -> str:
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        sys.exit("set TEST_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    from storage.migrate import upgrade

    name = args.reuse or f"memberbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        if args.reuse:
            open_numbers, member_nos, (key,) = reuse(url)
        else:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            upgrade(url, "heads")
            started = time.perf_counter()
            open_numbers, member_nos, (key,) = seed(url, args.tickets)
            print(f"seeded {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s")
        port = free_port()
        env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        env.pop("MEMBERBOT_NOW", None)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", url, str(port)], env=env, cwd=ROOT
        )
        base = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base, timeout=30, trust_env=False)
        for _ in range(200):
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        form = client.get("/staff/signin").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        client.post(
            "/staff/signin",
            data={"csrf": token, "username": "agent1", "password": PASSWORD},
        )
        auth = {"Authorization": f"Bearer {key}"}
        n = args.requests
        run_id = uuid.uuid4().hex[:6]
        rows = [
            (
                "base",
                "GET /healthz (baseline: HTTP and one query)",
                timed(client, "GET", "/healthz", n),
            ),
            (
                "page",
                "GET /staff/queue (open tickets, page 1)",
                timed(client, "GET", "/staff/queue", n),
            ),
            ("page", "GET /staff/queue?late=1", timed(client, "GET", "/staff/queue?late=1", n)),
            (
                "page",
                "GET /staff/queue?status=all&page=20",
                timed(client, "GET", "/staff/queue?status=all&page=20", n),
            ),
            (
                "page",
                "GET /staff/queue?q=<member no>",
                timed(
                    client,
                    "GET",
                    lambda i: f"/staff/queue?status=all&q={member_nos[i % len(member_nos)]}",
                    n,
                ),
            ),
            (
                "page",
                "GET /staff/tickets/{number}",
                timed(
                    client,
                    "GET",
                    lambda i: f"/staff/tickets/{open_numbers[i % len(open_numbers)]}",
                    n,
                ),
            ),
            (
                "api",
                "GET /api/tickets (limit 50)",
                timed(client, "GET", "/api/tickets", n, headers=auth),
            ),
            (
                "api",
                "GET /api/tickets?urgent=true&late=true",
                timed(client, "GET", "/api/tickets?urgent=true&late=true", n, headers=auth),
            ),
            (
                "api",
                "GET /api/tickets/{number}",
                timed(
                    client,
                    "GET",
                    lambda i: f"/api/tickets/{open_numbers[i % len(open_numbers)]}",
                    n,
                    headers=auth,
                ),
            ),
            (
                "api",
                "GET /api/members/{member_no}",
                timed(
                    client,
                    "GET",
                    lambda i: f"/api/members/{member_nos[i % len(member_nos)]}",
                    n,
                    headers=auth,
                ),
            ),
            (
                "api",
                "POST /api/purchases (new order)",
                timed(
                    client,
                    "POST",
                    "/api/purchases",
                    n,
                    headers=auth,
                    json=lambda i: {
                        "order_id": f"BENCH-{run_id}-{i}",
                        "member_no": member_nos[i % len(member_nos)],
                        "amount": "88.00",
                    },
                ),
            ),
        ]
        client.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        if args.keep or args.reuse:
            print(f"kept database {name} (--reuse {name})")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return table(rows, args)


def table(rows, args) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    with create_engine(os.environ["TEST_DATABASE_URL"]).connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar()
    lines = [
        SECTION,
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, PostgreSQL {pg} on loopback; "
        f"{args.tickets:,} tickets ({MEMBERS:,} generated members), `serve`'s app under "
        f"uvicorn in its own process, one client sending {args.requests} sequential requests "
        "per row after 20 warm-up requests; load average "
        f"{os.getloadavg()[0]:.1f} on the machine at the end. `bench/staff_queue.py`.",
        "",
        "| request | p50 ms | p99 ms | mean ms |",
        "|---|---:|---:|---:|",
    ]
    for _, what, stats in rows:
        lines.append(f"| {what} | {stats['p50']:.1f} | {stats['p99']:.1f} | {stats['mean']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-record", action="store_true", help="Print only.")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--reuse", metavar="NAME", help="Time against a kept database.")
    args = parser.parse_args()
    section = run(args)
    print(section)
    if not args.no_record:
        write_section(section)


if __name__ == "__main__":
    main()
