"""`taxi-stack up | down | status | env | sample` (see taxi_assets/localstack/stack.py)."""

from __future__ import annotations

import argparse
import sys



def _quote(value: str) -> str:
    """Always single-quoted, safe for eval in sh/bash."""
    return "'" + value.replace("'", "'\\''") + "'"


def _print_status(stack) -> None:
    for row in stack.status():
        state = "running" if row["running"] else "stopped"
        pid = f"pid {row['pid']}" if row["pid"] else "-"
        print(f"{row['name']:<9} {state:<8} {pid:<11} {row['address'] or '-'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="taxi-stack",
        description="Local PostgreSQL + GCS emulator + BigQuery emulator. "
        "State folder: $TAXI_STACK_HOME, default ./.taxi_stack",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start what is not running (idempotent)")
    down = sub.add_parser("down", help="stop the processes, keep the data (--purge: and delete the state folder)")
    down.add_argument("--purge", action="store_true", help="start over: also delete the state folder (all data, runs, sample)")
    sub.add_parser("status", help="one line per component")
    sub.add_parser("env", help="print export lines: eval \"$(taxi-stack env)\" (fails when the stack is not running)")
    smp = sub.add_parser(
        "sample",
        help="write synthetic monthly files in the real format under the state folder and point "
        "TAXI_SOURCE_URL at them (offline runs); delete STATE/sample to use the real source again",
    )
    smp.add_argument("--month", action="append", help="YYYY-MM, repeatable (default 2021-01 2021-02 2021-03)")
    smp.add_argument("--rows", type=int, default=20_000, help="rows per file (default 20000)")
    args = parser.parse_args(argv)

    try:
        from taxi_assets.localstack.stack import Stack, StackError, StackNotStarted
    except ImportError as e:
        print(f"taxi-stack: the local stack is not installed ({e.name} is missing): pip install -e '.[local]'", file=sys.stderr)
        return 2
    stack = Stack()
    try:
        if args.command == "up":
            stack.up()
            print(f"state folder: {stack.home}")
            _print_status(stack)
            print('configure a shell with: eval "$(taxi-stack env)"')
        elif args.command == "down" and args.purge:
            stack.purge()
            print(f"stopped, and deleted {stack.home}")
        elif args.command == "down":
            stack.down()
            _print_status(stack)
        elif args.command == "status":
            _print_status(stack)
        elif args.command == "sample":
            for path in stack.write_sample(args.month or ["2021-01", "2021-02", "2021-03"], args.rows):
                print(path)
        elif args.command == "env":
            variables = stack.env()  # never started: StackNotStarted
            stopped = [row["name"] for row in stack.status() if not row["running"]]
            if stopped:  # exports that point at nothing would only fail later, further from the cause
                print(f"taxi-stack: the local stack in {stack.home} is not running ({', '.join(stopped)} stopped): "
                      "start it with `taxi-stack up`", file=sys.stderr)
                return 1
            for name, value in variables.items():
                print(f"export {name}={_quote(value)}")
    except StackNotStarted as e:
        print(f"taxi-stack: {e}", file=sys.stderr)
        return 1
    except StackError as e:
        print(f"taxi-stack: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
