#!/usr/bin/env python3
"""Summarize scripts/bench.sh results: median of the repetitions per (config, target),
and each Swiftport row's ratio to tgtd's in the same configuration."""
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
    print("| pattern | bs | qd | sessions | target | IOPS | MiB/s | p50 us | p99 us | target CPU us/IO "
          "| IOPS vs tgt-rdwr | CPU/IO vs tgt-rdwr | CPU/IO vs tgt-aio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    tgtd_stores = ["tgt-rdwr", "tgt-aio"]
    for key in sorted(groups, key=lambda k: (k[3], k[1], k[0], k[2])):
        by_target = groups[key]
        base_iops = med(by_target.get("tgt-rdwr", []), lambda r: r["iops"])
        base_cpu = {store: med(by_target.get(store, []), cpu_per_io) for store in tgtd_stores}
        for label in ["sp-ram", "sp-ram-1loop", "sp-file"] + tgtd_stores:
            rows = by_target.get(label)
            if not rows:
                continue
            iops = med(rows, lambda r: r["iops"])
            cpu = med(rows, cpu_per_io)
            swiftport = label not in tgtd_stores
            ratio = f"{iops / base_iops:.2f}" if base_iops and label != "tgt-rdwr" else ""
            cpu_ratios = [f"{cpu / base_cpu[store]:.2f}" if swiftport and cpu and base_cpu[store] else "" for store in tgtd_stores]
            if cpu is None:
                print(f"| {key[0]} | {key[1] // 1024}k | {key[2]} | {key[3]} | {label} | {iops:.0f} | | | | | {ratio} | | |")
                continue
            print(f"| {key[0]} | {key[1] // 1024}k | {key[2]} | {key[3]} | {label} | {iops:.0f} | {med(rows, lambda r: r['mib_s']):.1f} | "
                  f"{med(rows, lambda r: r['lat_us']['p50']):.0f} | {med(rows, lambda r: r['lat_us']['p99']):.0f} | "
                  f"{cpu:.1f} | {ratio} | {' | '.join(cpu_ratios)} |")
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
