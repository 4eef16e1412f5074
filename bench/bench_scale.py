"""The conversation benchmark on PostgreSQL and on SQLite in the same run, then on PostgreSQL
with 1, 2 and 4 worker processes sharing one database (issue 12's figures).

    CHILDFORUM_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_scale.py                 # 1,000 children per scenario
    .venv/bin/python bench/bench_scale.py --children 200 --postgres postgresql://...

Each scenario is bench_conversation's closed loop (every child goes through a whole topic flow
of 14 steps, the next step as soon as the bot answered), in subprocesses: the echo floor, the
bot on a fresh SQLite file, the bot on a fresh PostgreSQL database; then N workers, each its own
process with its own in-process fake Bot API and 1/N of the children (a chat always reaches the
same worker, as sticky routing would; what they share is the database and the 2 CPUs). Throughput
with N workers is all their steps over the time from the first start to the last end; p99 over
all their steps. "CPU a step" is the bot processes' own (each with its fake API and children),
"machine busy" the share of all CPUs busy from the first start to the last end (the database
server included): near 100 %, the machine is what limits. The server address needs the right
to create and drop databases.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.stores import fresh_postgres  # noqa: E402

CONVERSATION = Path(__file__).resolve().with_name("bench_conversation.py")
CHAT_BASE = 10_000_000
WORKER_SPAN = 1_000_000  # chat ids and update ids of one worker: apart from the others'


def scenario(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(CONVERSATION), *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def result_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate()
    if process.returncode != 0:
        sys.stderr.write(err[-4000:])
        raise SystemExit(f"a scenario failed (exit {process.returncode})")
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def workers_run(children: int, workers: int, url: str) -> dict[str, Any]:
    share = children // workers
    running = [scenario(["--scenario", "bot", "--children", str(share), "--server-url", url,
                         "--workers", str(workers), "--chat-base",
                         str(CHAT_BASE + n * WORKER_SPAN)]) for n in range(workers)]
    parts = [result_of(process) for process in running]
    latencies = sorted(lat for part in parts for lat in part["latencies_ms"])
    seconds = max(p["ended_at"] for p in parts) - min(p["started_at"] for p in parts)
    steps = sum(p["steps"] for p in parts)
    return {
        "workers": workers, "children": share * workers, "steps": steps, "seconds": seconds,
        "steps_per_s": steps / seconds,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "proposals": sum(p["proposals"] for p in parts),
        "unfinished_updates": sum(p["unfinished_updates"] for p in parts),
        "api_errors": [e for p in parts for e in p["api_errors"]],
        "cpu_s": sum(p["cpu_s"] for p in parts),
        "machine_ticks": [min(p["machine_ticks"][0] for p in parts),
                          min(p["machine_ticks"][1] for p in parts),
                          max(p["machine_ticks"][2] for p in parts),
                          max(p["machine_ticks"][3] for p in parts)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("CHILDFORUM_TEST_POSTGRES", ""),
                        help="a server where databases may be created (default: the"
                        " CHILDFORUM_TEST_POSTGRES environment variable)")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("give --postgres or set CHILDFORUM_TEST_POSTGRES")
    common = ["--children", str(args.children)]
    floor = result_of(scenario(["--scenario", "floor", *common]))
    rows: list[tuple[str, dict[str, Any]]] = [("echo floor", floor)]
    rows.append(("SQLite, 1 process", result_of(scenario(["--scenario", "bot", *common]))))
    for workers in (int(n) for n in args.workers.split(",")):
        with fresh_postgres(args.postgres) as url:
            found = workers_run(args.children, workers, url)
        rows.append((f"PostgreSQL, {workers} worker{'s' if workers > 1 else ''}", found))
    problems = [f"{name}: {r['proposals']} proposals for {r['children']} children"
                for name, r in rows[1:] if r["proposals"] != r["children"]]
    problems += [f"{name}: {r['unfinished_updates']} unfinished updates"
                 for name, r in rows[1:] if r["unfinished_updates"]]
    problems += [f"{name}: Bot API errors {r['api_errors'][:3]}" for name, r in rows[1:]
                 if r["api_errors"]]
    print(f"children per scenario: {args.children}, python {sys.version.split()[0]},"
          f" {os.cpu_count()} CPUs\n")
    print("| | steps/s | ratio to the floor | p50 | p99 | CPU a step (bot processes)"
          " | machine busy | proposals |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows:
        ratio = r["steps_per_s"] / floor["steps_per_s"]
        stored = r.get("proposals", "-")
        busy_before, all_before, busy_after, all_after = r["machine_ticks"]
        busy = (busy_after - busy_before) / max(1, all_after - all_before)
        print(f"| {name} | {r['steps_per_s']:.0f} | {ratio:.2f} | {r['p50_ms']:.0f} ms"
              f" | {r['p99_ms']:.0f} ms | {1000 * r['cpu_s'] / r['steps']:.2f} ms"
              f" | {100 * busy:.0f} % | {stored} |")
    if problems:
        raise SystemExit("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    main()
