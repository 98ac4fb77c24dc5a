#!/usr/bin/env python3
"""Times raw SQL on a SQLite file in-process, on warm connections.

Latency: reads SQL from standard input, runs all of its statements (fetching
every row) once on one connection to warm its page and statement caches,
then RUNS times, and prints one line per run: the milliseconds it took
(microsecond resolution; the sqlite3 shell's `.timer` prints whole ms).

Throughput (`--throughput N SECONDS`): N processes, each with its own warm
connection (as the server's pool has N connections, each on its own
thread), run the whole file over and over for SECONDS after a one-second
warm-up; prints the executions of the file per second over all of them.
Processes rather than threads, so Python's interpreter lock does not
serialise the row fetching.

    bench/sqlite_timer.py FILE RUNS < statements.sql
    bench/sqlite_timer.py FILE --throughput N SECONDS < statements.sql
"""
import multiprocessing
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


def connect(path):
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, cached_statements=256)


def run_all(db, sql):
    for statement in sql:
        db.execute(statement).fetchall()


def latency(path, sql, runs):
    db = connect(path)
    for run in range(runs + 1):
        started = time.perf_counter()
        run_all(db, sql)
        elapsed = (time.perf_counter() - started) * 1000
        if run > 0:
            print(f"{elapsed:.3f}")


def worker(path, sql, start, stop, counts, index):
    db = connect(path)
    run_all(db, sql)
    while time.time() < start:
        run_all(db, sql)
    done = 0
    while time.time() < stop:
        run_all(db, sql)
        done += 1
    counts[index] = done


def throughput(path, sql, processes, seconds):
    counts = multiprocessing.Array("l", processes)
    start = time.time() + 1.0
    stop = start + seconds
    workers = [
        multiprocessing.Process(target=worker, args=(path, sql, start, stop, counts, i))
        for i in range(processes)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(f"{sum(counts) / seconds:.1f}")


def main():
    path = sys.argv[1]
    sql = list(statements(sys.stdin.read()))
    if sys.argv[2] == "--throughput":
        throughput(path, sql, int(sys.argv[3]), float(sys.argv[4]))
    else:
        latency(path, sql, int(sys.argv[2]))


if __name__ == "__main__":
    main()
