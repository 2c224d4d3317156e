"""What the benchmarks report about their own process.

    peak_rss_mb() -> 147.4   # this process's peak resident set so far, MB

On Linux it is VmHWM of /proc/self/status: getrusage's ru_maxrss is kept across execve, so a
child process started by a large parent would report the parent's size as its own floor.
"""
import resource


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
