"""Run every benchmark (tests/bench/bench_*.py) one after another and print their reports.

    ./spin bench            # all
    ./spin bench stack      # only bench_stack.py
Benchmarks print measured numbers and ratios side by side; they assert no wall-clock limits.
At the end, every figure of every benchmark that ran is printed in one table with its goal
(``figures.py``), with the machine's load when the run started and ended.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

from figures import table

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    wanted = set(argv)
    scripts = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    failed = []
    fd, figures_path = tempfile.mkstemp(prefix="spin-bench-", suffix=".jsonl")
    os.close(fd)
    load_before = os.getloadavg()
    for script in scripts:
        name = os.path.basename(script)[len("bench_"):-len(".py")]
        if wanted and name not in wanted:
            continue
        print("\n##### benchmark: %s" % name, flush=True)
        if subprocess.call([sys.executable, script], env=dict(os.environ, SPIN_BENCH_FIGURES=figures_path)) != 0:
            failed.append(name)
    with open(figures_path) as handle:
        figures = [json.loads(line) for line in handle if line.strip()]
    os.unlink(figures_path)
    print("\n##### every figure, with its goal (%d cores; load average %.1f at the start, %.1f at the end)"
          % (os.cpu_count(), load_before[0], os.getloadavg()[0]))
    print(table(figures))
    if failed:
        print("\nbenchmarks that failed to run: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
