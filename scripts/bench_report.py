#!/usr/bin/python3
"""Gathers the runs of scripts/bench into results.json, results.md and the
sweep data for the plot, and prints the tables. Reads DIR/runs.jsonl (one
JSON object per run, as signald-load and scripts/bench write them).

Usage: bench_report.py DIR NODES CORES

Targets are compared and shown as met or not; they never change the exit
status (the bench reports, it does not judge)."""
import json
import sys

out, n_nodes, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = [json.loads(line) for line in open(f"{out}/runs.jsonl") if line.strip()]
by_label = {r.get("label"): r for r in runs}


def fmt(v, digits=3):
    if v is None:
        return "-"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 100):
        return f"{int(v):,}"
    return f"{v:.{digits}f}"


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


md = []

# ---- Reference: the machine's own limits ----
ref_rows = []
for pipe in (1, 16):
    r = by_label.get(f"redis-publish-P{pipe}")
    if r:
        ref_rows.append([f"Redis PUBLISH, 400 B, 1 subscriber, pipeline {pipe} (redis-benchmark)",
                         f"{fmt(round(r['rps']))} /s", f"{fmt(r['cpu_us_per_op_redis'], 2)} us Redis CPU each"])
ping = by_label.get("ping")
if ping:
    ref_rows.append(["WebSocket ping/pong through one node (signald-load ping, 1 connection)",
                     f"p50 {fmt(ping['lat_p50_ms'])} ms, p99 {fmt(ping['lat_p99_ms'])} ms",
                     f"{fmt(ping.get('cpu_us_per_op_nodes'), 2)} us node CPU per round trip"])
floor_relay = by_label.get("floor-relay")
if floor_relay:
    ref_rows.append([f"relay path through bare forwarders and hub, {fmt(floor_relay['rate_offered'])} msg/s "
                     "(signald-floor relay)",
                     f"p50 {fmt(floor_relay['lat_p50_ms'])} ms, p99 {fmt(floor_relay['lat_p99_ms'])} ms",
                     f"{fmt(floor_relay.get('cpu_us_per_op_total'), 2)} us CPU per message "
                     f"(forwarders {fmt(floor_relay.get('cpu_us_per_op_nodes'), 2)}, "
                     f"hub {fmt(floor_relay.get('cpu_us_per_op_redis'), 2)})"])
floor_join = by_label.get("floor-join")
if floor_join:
    ref_rows.append([f"join path through bare forwarders and hub, {fmt(floor_join['inflight'])} in flight "
                     "(signald-floor join)",
                     f"{fmt(floor_join['joins_per_s'])} /s, p50 {fmt(floor_join['lat_p50_ms'])} ms",
                     f"{fmt(floor_join.get('cpu_us_per_op_total'), 2)} us CPU per join + leave"])
md.append("### Reference: this machine's limits\n")
md.append(table(["what", "rate / latency", "cost"], ref_rows))

# ---- Scenarios ----
traffic_labels = ["relay", "chat"] + [r["label"] for r in runs if str(r.get("label", "")).startswith("sweep-")]
rows = []
for label in traffic_labels:
    r = by_label.get(label)
    if not r:
        continue
    rows.append([label, fmt(r.get("rate_offered")), fmt(r.get("rate_delivered")),
                 fmt(r.get("lat_p50_ms")), fmt(r.get("lat_p90_ms")), fmt(r.get("lat_p99_ms")),
                 fmt(r.get("lat_p999_ms")), fmt(r.get("lat_max_ms")), fmt(r.get("lost")),
                 fmt(r.get("out_of_order")), fmt(r.get("cpu_us_per_op_nodes"), 2),
                 fmt(r.get("cpu_us_per_op_redis"), 2), fmt(r.get("cpu_us_per_op_total"), 2),
                 fmt(r.get("wakeups_per_op_nodes"), 2), fmt(r.get("cpu_pct_tool"), 1),
                 fmt(r.get("cpu_pct_others"), 1)])
md.append("\n### Messages (latency in ms, CPU in us per delivered message)\n")
md.append(table(["run", "offered /s", "delivered /s", "p50", "p90", "p99", "p99.9", "max", "lost",
                 "out of order", "CPU nodes", "CPU Redis", "CPU total", "node wake-ups per msg",
                 "tool CPU %", "other programs CPU %"], rows))

join = by_label.get("join")
join_rows = []
for label, what in (("join", "MAX_CONNECTIONS default (20000)"), ("join-small-fd-table", "MAX_CONNECTIONS=1000")):
    j = by_label.get(label)
    if j:
        join_rows.append([label, what, fmt(j.get("inflight")), fmt(j.get("joins_per_s")), fmt(j.get("lat_p50_ms")),
                          fmt(j.get("lat_p90_ms")), fmt(j.get("lat_p99_ms")), fmt(j.get("lat_p999_ms")),
                          fmt(j.get("lat_max_ms")), fmt(j.get("failed")),
                          fmt(j.get("cpu_us_per_op_nodes"), 1), fmt(j.get("cpu_us_per_op_redis"), 1),
                          fmt(j.get("cpu_us_per_op_total"), 1), fmt(j.get("cpu_pct_tool"), 1),
                          fmt(j.get("cpu_pct_others"), 1)])
if join_rows:
    md.append("\n### Join storm (connect, room_state, close; latency in ms, CPU in us per join + leave)\n")
    md.append(table(["run", "nodes", "in flight", "joins /s", "p50", "p90", "p99", "p99.9", "max",
                     "failed", "CPU nodes", "CPU Redis", "CPU total", "tool CPU %", "other programs CPU %"],
                    join_rows))

idle_parts = [r for r in runs if r.get("scenario") == "idle"]
idle = None
if idle_parts:
    def mean(key):
        vals = [p[key] for p in idle_parts if p.get(key) is not None]
        return sum(vals) / len(vals) if vals else None
    idle = {
        "connections": sum(p.get("connections", 0) for p in idle_parts),
        "per_node": sum(p.get("connections", 0) for p in idle_parts) / max(n_nodes, 1),
        "rss_kb_per_conn_node": mean("rss_kb_per_conn_node"),
        "rss_kb_per_conn_redis": mean("rss_kb_per_conn_redis"),
        "rss_kb_per_conn_tool": mean("rss_kb_per_conn_tool"),
        "dropped": sum(p.get("dropped", 0) for p in idle_parts),
        "failed": sum(p.get("connect_failed", 0) for p in idle_parts),
    }
    md.append("\n### Idle connections (rooms of 4, RSS growth per connection)\n")
    md.append(table(["connections", "per node", "node KB/conn", "Redis KB/conn", "load tool KB/conn",
                     "failed", "dropped"],
                    [[fmt(idle["connections"]), fmt(round(idle["per_node"])), fmt(idle["rss_kb_per_conn_node"], 2),
                      fmt(idle["rss_kb_per_conn_redis"], 2), fmt(idle["rss_kb_per_conn_tool"], 2),
                      fmt(idle["failed"]), fmt(idle["dropped"])]]))

# ---- Sweep ----
sweep = sorted((r for r in runs if str(r.get("label", "")).startswith("sweep-")),
               key=lambda r: r.get("rate_offered", 0))
best = None
with open(f"{out}/sweep.dat", "w") as f:
    f.write("# offered_msg_s p50_ms p99_ms delivered_msg_s lost other_programs_cpu_pct\n")
    for r in sweep:
        f.write(f"{r['rate_offered']} {r['lat_p50_ms']} {r['lat_p99_ms']} {r['rate_delivered']} {r['lost']} "
                f"{r.get('cpu_pct_others', 0)}\n")
        if r["lat_p99_ms"] < 10 and r["lost"] == 0 and r["rate_delivered"] >= 0.95 * r["rate_offered"]:
            best = r["rate_offered"] if best is None else max(best, r["rate_offered"])

floor_sweep = sorted((r for r in runs if str(r.get("label", "")).startswith("floor-sweep-")),
                     key=lambda r: r.get("rate_offered", 0))
with open(f"{out}/floor-sweep.dat", "w") as f:
    f.write("# offered_msg_s p50_ms p99_ms delivered_msg_s lost\n")
    for r in floor_sweep:
        f.write(f"{r['rate_offered']} {r['lat_p50_ms']} {r['lat_p99_ms']} {r['rate_delivered']} {r['lost']}\n")
if floor_sweep:
    md.append("\n### The same rates along the bare path (signald-floor relay; latency in ms, CPU in us per message)\n")
    md.append(table(["offered /s", "delivered /s", "p50", "p99", "lost", "CPU forwarders", "CPU hub",
                     "CPU total", "other programs CPU %"],
                    [[fmt(r.get("rate_offered")), fmt(r.get("rate_delivered")), fmt(r.get("lat_p50_ms")),
                      fmt(r.get("lat_p99_ms")), fmt(r.get("lost")), fmt(r.get("cpu_us_per_op_nodes"), 2),
                      fmt(r.get("cpu_us_per_op_redis"), 2), fmt(r.get("cpu_us_per_op_total"), 2),
                      fmt(r.get("cpu_pct_others"), 1)] for r in floor_sweep]))

# ---- Targets ----
relay = by_label.get("relay")
pub = by_label.get("redis-publish-P1")
targets = []


def target(name, goal, value, ok, unit=""):
    targets.append({"target": name, "goal": goal, "measured": value, "unit": unit,
                    "met": None if ok is None else bool(ok)})


if relay:
    cpu = relay.get("cpu_us_per_op_total")
    at = f"relay at {fmt(relay['rate_offered'])} msg/s"
    target(f"{at}: CPU per delivered message, nodes + Redis", "<= 10 us", cpu,
           None if cpu is None else cpu <= 10, "us")
    target(f"{at}: latency p50", "<= 0.15 ms", relay["lat_p50_ms"], relay["lat_p50_ms"] <= 0.15, "ms")
    target(f"{at}: latency p99", "<= 1 ms", relay["lat_p99_ms"], relay["lat_p99_ms"] <= 1, "ms")
    target(f"{at}: lost", "0", relay["lost"], relay["lost"] == 0)
    target(f"{at}: out of order", "0", relay["out_of_order"], relay["out_of_order"] == 0)
target("highest relay rate with p99 < 10 ms (no loss)", "report", best, None, "msg/s")
if join:
    cpu = join.get("cpu_us_per_op_total")
    target("join + leave: CPU, nodes + Redis", "<= 150 us", cpu, None if cpu is None else cpu <= 150, "us")
    target(f"joins per second, {join['inflight']} in flight", ">= 5,000", join["joins_per_s"],
           join["joins_per_s"] >= 5000, "/s")
if idle:
    kb = idle["rss_kb_per_conn_node"]
    target(f"RSS per idle connection, node ({fmt(round(idle['per_node']))} per node)", "<= 4 KB", kb,
           None if kb is None else kb <= 4, "KB")

md.append("\n### Targets (2 nodes + 1 Redis + the load tool on this machine)\n")
md.append(table(["target", "goal", "measured", "met"],
                [[t["target"], t["goal"], f"{fmt(t['measured'], 2)} {t['unit']}".strip(),
                  "-" if t["met"] is None else ("yes" if t["met"] else "**no**")] for t in targets]))

ratios = []
if relay and ping and ping.get("lat_p50_ms"):
    ratios.append(["relay p50 / WebSocket round trip p50", f"{relay['lat_p50_ms'] / ping['lat_p50_ms']:.1f}x"])
if relay and pub and relay.get("cpu_us_per_op_redis") is not None and pub["cpu_us_per_op_redis"]:
    ratios.append(["Redis CPU per relayed message / per PUBLISH (redis-benchmark)",
                   f"{relay['cpu_us_per_op_redis'] / pub['cpu_us_per_op_redis']:.1f}x"])
if relay and ping and ping.get("cpu_us_per_op_nodes") and relay.get("cpu_us_per_op_nodes") is not None:
    ratios.append(["node CPU per relayed message / per ping round trip",
                   f"{relay['cpu_us_per_op_nodes'] / ping['cpu_us_per_op_nodes']:.2f}x"])
if relay and floor_relay and floor_relay.get("cpu_us_per_op_total") and relay.get("cpu_us_per_op_total"):
    ratios.append(["CPU per relayed message, nodes + Redis / bare forwarders + hub",
                   f"{relay['cpu_us_per_op_total'] / floor_relay['cpu_us_per_op_total']:.2f}x"])
if relay and floor_relay and floor_relay.get("lat_p50_ms"):
    ratios.append(["relay p50 / bare forwarders' p50", f"{relay['lat_p50_ms'] / floor_relay['lat_p50_ms']:.1f}x"])
if join and floor_join and floor_join.get("cpu_us_per_op_total") and join.get("cpu_us_per_op_total"):
    ratios.append(["CPU per join + leave, nodes + Redis / bare forwarders + hub",
                   f"{join['cpu_us_per_op_total'] / floor_join['cpu_us_per_op_total']:.1f}x"])
if best and pub and pub.get("rps"):
    ratios.append(["highest relay rate (p99 < 10 ms) / Redis PUBLISH rate (pipeline 1)",
                   f"{best / pub['rps']:.2f}"])
if ratios:
    md.append("\n### Ratios to the machine's limits\n")
    md.append(table(["ratio", "value"], ratios))

text = "\n".join(md) + "\n"
with open(f"{out}/results.md", "w") as f:
    f.write(text)
with open(f"{out}/results.json", "w") as f:
    json.dump({"nodes": n_nodes, "cores": cores, "runs": runs, "idle": idle,
               "highest_rate_p99_under_10ms": best, "targets": targets}, f, indent=1)
print()
print(text)
