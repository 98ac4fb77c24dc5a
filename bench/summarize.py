#!/usr/bin/env python3
"""Turns bench/run.sh's results.jsonl into the Markdown tables of BENCHMARKS.md."""
import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = defaultdict(list)
for r in rows:
    by[(r["engine"], r["scenario"])].append(r)


def med(key, items):
    values = [r[key] for r in items if key in r]
    return statistics.median(values) if values else None


def fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


def verdict(ok):
    return "met" if ok else "**not met**"


engines = [e for e in ("sqlite", "postgres") if (e, "seed") in by]
out = []
out.append("### Set-up\n")
out.append("| engine | rows seeded | seed time (s) | ready after start (ms) | peak RSS under load (MB) |")
out.append("|---|---:|---:|---:|---:|")
for e in engines:
    seed = by[(e, "seed")][0]
    ready = by[(e, "startup")][0]["ready_ms"] if by[(e, "startup")] else None
    rss = by[(e, "rss")][0]["vmhwm_kb"] / 1024 if by[(e, "rss")] else None
    out.append(f"| {e} | {seed['rows']:,} | {seed['seed_ms'] / 1000:.1f} | {ready} | {fmt(rss)} |")

out.append("\n### SQL statements per request\n")
out.append("| engine | query | variant | statements |")
out.append("|---|---|---|---:|")
for e in engines:
    for r in by[(e, "statements")]:
        variant = f"page {r['page']}" if "page" in r else f"customer {r['customer']}"
        out.append(f"| {e} | {r['query']} | {variant} | {r['statements']} |")

out.append(f"\n### Load (medians over runs)\n")
out.append("| server | scenario | concurrency | runs | req/s | p50 ms | p95 ms | p99 ms | errors |")
out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
names = ["s1_dashboard", "s1_dashboard_latency", "s2_card", "s3_submit", "s4_csi_report", "s6_csi_preview", "s7_csi_drivers", "s8_csi_full", "s5_metrics"]
for e in engines + ["postgraphile"]:
    for s in names:
        items = by.get((e, s))
        if not items:
            continue
        label = e if e != "postgraphile" else f"PostGraphile {items[0].get('version', '?')}"
        out.append(
            f"| {label} | {s} | {items[0].get('concurrency', '')} | {len(items)} | "
            f"{fmt(med('throughput', items))} | {fmt(med('p50_ms', items), 2)} | "
            f"{fmt(med('p95_ms', items), 2)} | {fmt(med('p99_ms', items), 2)} | "
            f"{sum(r['errors'] for r in items)} |"
        )

out.append("\n### Latency against raw SQL (Rapport p50 at concurrency 1 vs the raw statements' median, warm and prepared)\n")
out.append("| engine | scenario | Rapport p50 ms | raw SQL ms | ratio | target | verdict |")
out.append("|---|---|---:|---:|---:|---:|---|")
latency_targets = {
    ("postgres", "s1_dashboard"): 2.0,
    ("sqlite", "s1_dashboard"): 2.5,
    ("postgres", "s4_csi_report"): 1.2,
    ("sqlite", "s4_csi_report"): 1.2,
}
for e in engines:
    for s in ("s1_dashboard", "s4_csi_report", "s5_metrics"):
        target = latency_targets.get((e, s))
        raw = med("raw_sql_ms", by.get((e, "raw:" + s), []))
        gql = by.get((e, "s1_dashboard_latency" if s == "s1_dashboard" else s), [])
        p50 = med("p50_ms", gql)
        ratio = p50 / raw if raw and p50 else None
        t = f"≤ {target}×" if target else "–"
        v = verdict(ratio <= target) if (ratio and target) else "–"
        out.append(f"| {e} | {s} | {fmt(p50, 2)} | {fmt(raw, 3)} | {fmt(ratio, 2)} | {t} | {v} |")

out.append("\n### The full CSI report against the plain one (p50 at concurrency 1, same run)\n")
out.append("| engine | s4_csi_report p50 ms | s8_csi_full p50 ms | ratio | target | verdict |")
out.append("|---|---:|---:|---:|---:|---|")
for e in engines:
    plain = med("p50_ms", by.get((e, "s4_csi_report"), []))
    full = med("p50_ms", by.get((e, "s8_csi_full"), []))
    ratio = full / plain if plain and full else None
    v = verdict(ratio <= 1.5) if ratio else "–"
    out.append(f"| {e} | {fmt(plain, 2)} | {fmt(full, 2)} | {fmt(ratio, 2)} | ≤ 1.5× | {v} |")

out.append("\n### Dashboard throughput as a share of the raw statement's (same run)\n")
out.append("| engine | raw SQL per s (clients) | server | req/s | share | target | verdict |")
out.append("|---|---:|---|---:|---:|---:|---|")
for e in engines:
    raws = by.get((e, "raw:s1_dashboard"), [])
    raw_tps = med("raw_tps", [r for r in raws if r.get("raw_tps") is not None])
    clients = raws[0].get("raw_clients") if raws else None
    servers = [("Rapport", e)] + ([("PostGraphile", "postgraphile")] if e == "postgres" else [])
    for name, key in servers:
        tp = med("throughput", by.get((key, "s1_dashboard"), []))
        if tp is None:
            continue
        share = tp / raw_tps if raw_tps and tp else None
        target = 0.35 if (e == "postgres" and name == "Rapport") else None
        t = f"≥ {target:.0%}" if target else "–"
        v = verdict(share >= target) if (share is not None and target) else "–"
        shown = "–" if share is None else f"{share:.1%}"
        out.append(f"| {e} | {fmt(raw_tps)} ({clients}) | {name} | {fmt(tp)} | {shown} | {t} | {v} |")

pgl = by.get(("postgraphile", "s1_dashboard"))
out.append("\n### Rapport against PostGraphile (PostgreSQL, same database, throughput)\n")
if by.get(("postgraphile", "failed")):
    out.append("PostGraphile did not start; see postgraphile*.log.")
elif pgl:
    out.append("| scenario | Rapport req/s | PostGraphile req/s | ratio | target | verdict |")
    out.append("|---|---:|---:|---:|---:|---|")
    for s in ("s1_dashboard", "s2_card"):
        ours = med("throughput", by.get(("postgres", s), []))
        theirs = med("throughput", by.get(("postgraphile", s), []))
        ratio = ours / theirs if ours and theirs else None
        v = verdict(ratio >= 2) if ratio else "–"
        out.append(f"| {s} | {fmt(ours)} | {fmt(theirs)} | {fmt(ratio, 2)} | ≥ 2× | {v} |")

out.append("\n### Submissions (scenario 3): throughput and credits\n")
out.append("| engine | runs | invited per run | median submissions/s | errors | responses = credits, no duplicates | target | verdict |")
out.append("|---|---:|---:|---:|---:|---|---:|---|")
for e in engines:
    items = by.get((e, "s3_submit"), [])
    credits = by.get((e, "s3_credits"), [])
    if not items:
        continue
    exact = all(c["responses"] == c["credits"] and c["duplicates"] == 0 for c in credits) and credits
    tp = med("throughput", items)
    target = 1000 if e == "postgres" else 500
    errors = sum(r["errors"] for r in items)
    ok = tp is not None and tp >= target and errors == 0 and exact
    invited = items[0].get("invited") if items else None
    out.append(
        f"| {e} | {len(items)} | {invited} | {fmt(tp)} | {errors} | {'yes' if exact else 'NO'} | ≥ {target}/s | {verdict(ok)} |"
    )

if any(by.get((e, "s3_cpu")) for e in engines):
    out.append("\n### Submissions (scenario 3): CPU per submission (both cores, medians over runs)\n")
    out.append("| engine | server ms | PostgreSQL ms | everything else ms (load driver, kernel) | total ms | ceiling at 2 cores, submissions/s |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for e in engines:
        cpu = by.get((e, "s3_cpu"), [])
        subs = {r["run"]: r["requests"] for r in by.get((e, "s3_submit"), []) if r.get("requests")}
        rows = []
        for r in cpu:
            n = subs.get(r["run"])
            if not n:
                continue
            ms = 1000 / r["clk_tck"] / n
            server, pg = r["server_ticks"] * ms, r["postgres_ticks"] * ms
            rows.append({"server": server, "pg": pg, "other": r["busy_ticks"] * ms - server - pg, "total": r["busy_ticks"] * ms})
        if rows:
            total = med("total", rows)
            out.append(
                f"| {e} | {fmt(med('server', rows), 2)} | {fmt(med('pg', rows), 2)} | {fmt(med('other', rows), 2)} "
                f"| {fmt(total, 2)} | {fmt(2000 / total if total else None, 0)} |"
            )

multi = by.get(("postgres", "multi_dashboard"), []) + by.get(("postgres", "multi_submit"), [])
if multi:
    out.append("\n### Several server processes on one PostgreSQL (same machine)\n")
    out.append("The load is spread round-robin over the processes. On a machine with few cores")
    out.append("they share the cores with PostgreSQL and the load driver, so the figures show the")
    out.append("overhead of running several processes (LISTEN/NOTIFY, the shared throttle), not scaling.\n")
    out.append("| scenario | processes | concurrency | runs | req/s | p50 ms | p95 ms | errors | responses = credits, no duplicates |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    credits = {c["processes"]: c for c in by.get(("postgres", "multi_credits"), [])}
    for s in ("multi_dashboard", "multi_submit"):
        counts = sorted({r["processes"] for r in by.get(("postgres", s), [])})
        for n in counts:
            items = [r for r in by[("postgres", s)] if r["processes"] == n]
            check = ""
            if s == "multi_submit" and n in credits:
                c = credits[n]
                ok = c["responses"] == c["credits"] and c["duplicates"] == 0
                check = f"{verdict(ok)} ({c['responses']} responses, {c['credits']} credits)"
            out.append(
                f"| {s} | {n} | {items[0].get('concurrency', '')} | {len(items)} | {fmt(med('throughput', items))} | "
                f"{fmt(med('p50_ms', items), 2)} | {fmt(med('p95_ms', items), 2)} | {sum(r['errors'] for r in items)} | {check} |"
            )

exports = [r for e in engines for r in by.get((e, "export"), [])]
if exports:
    out.append("\n### Exports: memory while streaming (GET /exports/{token} read by curl)\n")
    out.append("Peak RSS is the server's VmHWM over the download (reset just before it when the")
    out.append("kernel allows); records are counted with Python's csv module, header included.\n")
    out.append("| engine | export | records | expected | complete | MB | seconds | records/s | RSS before (MB) | peak RSS (MB) | sampled peak (MB) | target | verdict |")
    out.append("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in exports:
        complete = r["http"] == 200 and r["curl_exit"] == 0 and r["records"] == r["expected_records"]
        peak = r["vmhwm_kb"] / 1024
        peak_note = "" if r.get("hwm_reset") else " (since start)"
        rate = r["records"] / r["seconds"] if r["seconds"] else None
        out.append(
            f"| {r['engine']} | {r['kind']} | {r['records']:,} | {r['expected_records']:,} | {'yes' if complete else 'NO'} "
            f"| {r['bytes'] / 1e6:.1f} | {r['seconds']:.1f} | {fmt(rate, 0)} | {r['rss_before_kb'] / 1024:.1f} "
            f"| {peak:.1f}{peak_note} | {r['sampled_peak_kb'] / 1024:.1f} | ≤ 64 MB | {verdict(complete and peak <= 64)} |"
        )

out.append("\n### Other targets\n")
for e in engines:
    if not by[(e, "rss")]:
        continue
    rss = by[(e, "rss")][0]["vmhwm_kb"] / 1024 if by[(e, "rss")] else None
    out.append(f"- {e}: peak RSS {fmt(rss)} MB (target ≤ 64 MB): {verdict(rss is not None and rss <= 64)}")
    st = by[(e, "statements")]
    s1 = {r["page"]: r["statements"] for r in st if r["query"] == "s1_dashboard"}
    out.append(f"- {e}: dashboard statements page 5 = {s1.get(5)}, page 50 = {s1.get(50)}: {verdict(s1.get(5) == s1.get(50))}")
if ("sqlite", "startup") in by:
    ready = by[("sqlite", "startup")][0]["ready_ms"]
    out.append(f"- sqlite: ready {ready} ms after start on the existing file (target ≤ 200 ms): {verdict(ready <= 200)}")
print("\n".join(out))
