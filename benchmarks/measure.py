"""What the benchmarks report about their own process.

    peak_rss_mb() -> 147.4   # this process's peak resident set, MB (getrusage; Linux reports KB)
"""
import resource


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
