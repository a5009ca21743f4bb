"""A bounded load on one URL: N client threads, each sending one request after another (paced to
--rate requests per second in all), until --stop-file appears, --seconds pass or --requests are sent.
Prints one JSON line: requests, failed (non-2xx answers, connection errors and answers slower than
--timeout), the failure kinds, when the first and last failures happened (seconds after the start),
and the slowest and the 99th-percentile answer times in milliseconds."""
import argparse
import http.client
import json
import os
import threading
import time
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--host-header")
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--stop-file")
    parser.add_argument("--ready-file", help="written once the first request has been answered")
    parser.add_argument("--marker", help="ask for <path>?<marker>-<n>, n counting the requests, to find them in logs")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    lock = threading.Lock()
    stats = {"requests": 0, "failed": 0, "kinds": {}, "first_failure": None, "last_failure": None}
    latencies = []
    sent = [0]
    start = time.monotonic()
    interval = args.threads / args.rate

    def stop():
        return (time.monotonic() - start > args.seconds or stats["requests"] >= args.requests
                or (args.stop_file and os.path.exists(args.stop_file)))

    def worker():
        while not stop():
            began = time.monotonic()
            kind = None
            path = url.path or "/"
            if args.marker:
                with lock:
                    sent[0] += 1
                    path += "?%s-%d" % (args.marker, sent[0])
            try:
                conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout)
                conn.request("GET", path, headers={"Host": args.host_header or url.netloc, "Connection": "close"})
                status = conn.getresponse().status
                conn.close()
                if not 200 <= status < 300:
                    kind = "http %d" % status
            except Exception as exc:  # noqa: BLE001 - every failure counts, by kind
                kind = type(exc).__name__
            with lock:
                stats["requests"] += 1
                latencies.append(time.monotonic() - began)
                if kind:
                    stats["failed"] += 1
                    stats["kinds"][kind] = stats["kinds"].get(kind, 0) + 1
                    at = round(time.monotonic() - start, 2)
                    stats["first_failure"] = stats["first_failure"] if stats["first_failure"] is not None else at
                    stats["last_failure"] = at
                elif args.ready_file and not os.path.exists(args.ready_file):
                    open(args.ready_file, "w").close()
            time.sleep(max(0.0, interval - (time.monotonic() - began)))

    threads = [threading.Thread(target=worker) for dummy in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats["seconds"] = round(time.monotonic() - start, 2)
    latencies.sort()
    stats["max_ms"] = round(latencies[-1] * 1000) if latencies else None
    stats["p99_ms"] = round(latencies[int(len(latencies) * 0.99)] * 1000) if latencies else None
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
