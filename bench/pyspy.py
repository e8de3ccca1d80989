"""
`run.py --profile MODE`: py-spy samples one gunicorn worker while a scenario runs once more
(that run is not in the table: the sampling slows the worker it reads).

py-spy reads the worker's memory with ptrace: it needs root or CAP_SYS_PTRACE (in a
container, `--cap-add SYS_PTRACE`). Idle threads are not sampled, so the percentages are of
the time a thread of the worker was doing something.
"""

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

RATE = 200  # samples per second
ATTACH_SECONDS = 3


def py_spy():
    beside_python = Path(sys.executable).with_name("py-spy")
    found = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is needed for --profile: pip install -r bench/requirements.txt")
    return found


def record(pid, raw_path):
    """
    py-spy sampling `pid` until `finish`, collapsed stacks (`--format raw`) to `raw_path`.
    Attaching takes it a second or more, and it says nothing when it starts (not on a
    terminal), so the caller waits `ATTACH_SECONDS` before loading: idle threads are not
    sampled, so the seconds before and after the load add nothing.
    """
    return subprocess.Popen(
        [py_spy(), "record", "--pid", str(pid), "--rate", str(RATE), "--nonblocking",
         "--function", "--format", "raw", "--output", str(raw_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def finish(process):
    """
    Stops py-spy as Control-C does (it then writes its samples). Returns whether it worked,
    and what it said (its sample and error counts, or why it failed).
    """
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    said = [line for line in output.splitlines() if "Samples:" in line or "Error" in line]
    return process.returncode == 0, "\n".join(said or output.splitlines()[-5:])


def summary(raw_path, *, top=30):
    """
    The functions with the most samples: own (the function was running) and total (it was on
    the stack), as a percentage of all samples, from py-spy's collapsed stacks
    (`frame;frame;... count` per line, innermost frame last).
    """
    own, total, samples = Counter(), Counter(), 0
    for line in Path(raw_path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames, count = stack.split(";"), int(count)
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    if not samples:
        return "no samples: the worker was idle, or py-spy could not read it\n"
    lines = [f"{samples} samples ({RATE} Hz, idle threads not sampled)"]
    for title, counter in (("own", own), ("total", total)):
        lines += ["", f"top {top} by {title} %", f"{'own %':>7} {'total %':>7}  function"]
        for frame, _ in counter.most_common(top):
            lines.append(
                f"{100 * own[frame] / samples:7.1f} {100 * total[frame] / samples:7.1f}  {frame}"
            )
    return "\n".join(lines) + "\n"
