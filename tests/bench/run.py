"""Run every benchmark (tests/bench/bench_*.py) one after another and print their reports.

    ./spin bench            # all
    ./spin bench stack      # only bench_stack.py
Benchmarks print measured numbers and ratios side by side; they assert no wall-clock limits.
"""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    wanted = set(argv)
    scripts = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    failed = []
    for script in scripts:
        name = os.path.basename(script)[len("bench_"):-len(".py")]
        if wanted and name not in wanted:
            continue
        print("\n##### benchmark: %s" % name, flush=True)
        if subprocess.call([sys.executable, script]) != 0:
            failed.append(name)
    if failed:
        print("\nbenchmarks that failed to run: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
