#!/usr/bin/env python3
"""Summarize scripts/bench.sh (and bench-rbd.sh) results: median of the repetitions per
(config, target), and each Swiftport row's ratio to the baselines (tgtd's stores, a
backend's own ceiling) in the same configuration."""
import argparse
import json
import statistics


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("limits")
    parser.add_argument("--machine", default="")
    parser.add_argument("--seconds", default="")
    parser.add_argument("--targets", default="sp-ram,sp-ram-1loop,sp-file,tgt-rdwr,tgt-aio", help="row labels, in order")
    parser.add_argument("--baselines", default="tgt-rdwr,tgt-aio", help="labels the sp- rows are compared with")
    args = parser.parse_args()
    runs = [r for r in load(args.results) if r.get("status") == "ok"]
    failed = [r for r in load(args.results) if r.get("status") != "ok"]
    groups = {}
    for r in runs:
        key = (r["pattern"], r["bs"], r["qd"], r["sessions"])
        groups.setdefault(key, {}).setdefault(r["label"], []).append(r)

    def med(rows, f):
        values = [f(r) for r in rows if f(r) is not None]
        return statistics.median(values) if values else None

    def cpu_per_io(r):
        return r["target_cpu_s"] / r["ios"] * 1e6 if r.get("target_cpu_s", -1) > 0 and r["ios"] else None

    print(f"Machine: {args.machine}; matrix took {args.seconds} s; medians of the repetitions.\n")
    def osd_cpu_per_io(r):
        return r["osd_cpu_s"] / r["ios"] * 1e6 if r.get("osd_cpu_s", -1) > 0 and r["ios"] else None

    targets, baselines = args.targets.split(","), args.baselines.split(",")
    # bench-rbd.sh also measures the Ceph OSD serving every target (the same machine's cores).
    with_osd = any("osd_cpu_s" in r for r in runs)
    print("| pattern | bs | qd | sessions | target | IOPS | MiB/s | p50 us | p99 us | target CPU us/IO | "
          + ("OSD CPU us/IO | " if with_osd else "")
          + " | ".join(f"IOPS vs {b}" for b in baselines) + " | " + " | ".join(f"CPU/IO vs {b}" for b in baselines) + " |")
    print("|---" * (10 + with_osd + 2 * len(baselines)) + "|")
    for key in sorted(groups, key=lambda k: (k[3], k[1], k[0], k[2])):
        by_target = groups[key]
        base_iops = {b: med(by_target.get(b, []), lambda r: r["iops"]) for b in baselines}
        base_cpu = {b: med(by_target.get(b, []), cpu_per_io) for b in baselines}
        for label in targets:
            rows = by_target.get(label)
            if not rows:
                continue
            iops = med(rows, lambda r: r["iops"])
            cpu = med(rows, cpu_per_io)
            swiftport = label.startswith("sp-")
            iops_ratios = [f"{iops / base_iops[b]:.2f}" if swiftport and base_iops[b] else "" for b in baselines]
            cpu_ratios = [f"{cpu / base_cpu[b]:.2f}" if swiftport and cpu and base_cpu[b] else "" for b in baselines]
            latency = [med(rows, lambda r: r.get("lat_us", {}).get(p)) for p in ("p50", "p99")]
            cells = [f"{iops:.0f}", f"{med(rows, lambda r: r['mib_s']):.1f}"] + [f"{v:.0f}" if v is not None else "" for v in latency]
            cells.append(f"{cpu:.1f}" if cpu is not None else "")
            if with_osd:
                osd = med(rows, osd_cpu_per_io)
                cells.append(f"{osd:.0f}" if osd is not None else "")
            print(f"| {key[0]} | {key[1] // 1024}k | {key[2]} | {key[3]} | {label} | " + " | ".join(cells + iops_ratios + cpu_ratios) + " |")
    limits = load(args.limits)
    gbits = [l["iperf3_gbit_s"] for l in limits if "iperf3_gbit_s" in l]
    if gbits:
        ceiling = statistics.median(gbits) * 1e9 / 8 / 2**20
        print(f"\nLoopback TCP ceiling (iperf3, one stream, median): {statistics.median(gbits):.1f} Gbit/s = {ceiling:.0f} MiB/s.")
        for key, by_target in groups.items():
            if key[0] == "seqread" and key[1] == 1 << 20 and key[3] == 1:
                for label in ["sp-ram", "sp-file"]:
                    if label in by_target:
                        share = med(by_target[label], lambda r: r["mib_s"]) / ceiling
                        print(f"1 MiB seqread on {label}: {share:.0%} of the loopback ceiling.")
    for l in limits:
        if "swiftportd_rss_kib_idle" in l:
            print(f"swiftportd RSS idle (started, no I/O yet): {l['swiftportd_rss_kib_idle'] / 1024:.1f} MiB.")
        if "swiftportd_rss_kib_after_run" in l:
            print(f"swiftportd RSS after the run: {l['swiftportd_rss_kib_after_run'] / 1024:.0f} MiB.")
        if "swiftportd_rss_kib_64_sessions" in l:
            print(f"swiftportd RSS with 64 sessions under load (4 KiB randread, QD 2 each, {l.get('iops_64_sessions', 0):.0f} IOPS): "
                  f"{l['swiftportd_rss_kib_64_sessions'] / 1024:.0f} MiB.")
    if failed:
        print(f"\n{len(failed)} runs failed: " + ", ".join(f"{r.get('label')} {r.get('pattern')}" for r in failed))


if __name__ == "__main__":
    main()
