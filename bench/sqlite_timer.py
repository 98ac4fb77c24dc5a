#!/usr/bin/env python3
"""Times raw SQL on a SQLite file with microsecond resolution.

The sqlite3 shell's `.timer` prints wall time in whole milliseconds, too
coarse for a statement that takes two. This reads SQL from standard input,
runs all of its statements (fetching every row) once to warm the cache and
then RUNS times, and prints one line per run: the milliseconds that run took.

    bench/sqlite_timer.py FILE RUNS < statements.sql
"""
import sqlite3
import sys
import time


def statements(sql):
    current = ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                yield current
            current = ""
    if current.strip() and not current.strip().startswith("--"):
        yield current


def main():
    path, runs = sys.argv[1], int(sys.argv[2])
    sql = list(statements(sys.stdin.read()))
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    for run in range(runs + 1):
        started = time.perf_counter()
        for statement in sql:
            db.execute(statement).fetchall()
        elapsed = (time.perf_counter() - started) * 1000
        if run > 0:
            print(f"{elapsed:.3f}")


if __name__ == "__main__":
    main()
