"""Progress lines of the routes whose cost grows with the number of steps.

A ``Progress`` prints ``steps done / total, elapsed, estimated remaining`` each time
another tenth of the work is done: at most ``N_REPORTS`` lines, whatever the number
of steps. The loops call ``update`` (or wrap their iterates with ``iterate``) only
when one was requested (``verbose > 0``), so the loops with ``verbose=0`` are
unchanged.
"""

from time import perf_counter

__all__ = ["N_REPORTS", "Progress"]

#: Progress lines per run (one each tenth of the work).
N_REPORTS = 10


def _seconds(value):
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    if value >= 60:
        return f"{value / 60:.1f} min"
    return f"{value:.2f} s"


class Progress:
    """Progress of ``total`` units of work (steps), reported by tenths.

    A line at each multiple of ``ceil(total / 10)`` steps and at ``total``: at most
    ``N_REPORTS`` lines.

    Parameters
    ----------
    total : int
        Units of work of the run (steps; steps times targets for the normalized
        recursion, which runs target by target).
    label : str
        Start of every line, e.g. ``"[SAMRegressor] iterative solver"``.

    Examples
    --------
    >>> progress = Progress(1000, "[demo] loop")
    >>> for done in range(1, 1001):
    ...     progress.update(done)  # doctest: +ELLIPSIS
    [demo] loop: 100/1000 steps (10%), elapsed ..., remaining ~...
    ...
    [demo] loop: 1000/1000 steps (100%), elapsed ..., remaining ~0.00 s
    """

    def __init__(self, total, label):
        self.total = max(int(total), 1)
        self.label = label
        #: Units between two lines (callers that run in blocks use it as theirs).
        self.block = -(-self.total // N_REPORTS)
        self._next = self.block
        self._start = perf_counter()

    def update(self, done):
        """Report ``done`` units if another tenth of the work was crossed."""
        if done < self._next and done != self.total:
            return
        # Past the end: no further line (the last one is at ``total``).
        self._next = (done // self.block + 1) * self.block
        if done >= self.total:
            self._next = float("inf")
        elapsed = perf_counter() - self._start
        remaining = elapsed * max(self.total - done, 0) / max(done, 1)
        print(
            f"{self.label}: {done}/{self.total} steps "
            f"({100 * done // self.total}%), elapsed {_seconds(elapsed)}, "
            f"remaining ~{_seconds(remaining)}",
            flush=True,
        )

    def iterate(self, iterates):
        """Pass ``(step, coef)`` iterates through, reporting the steps done."""
        for step, coef in iterates:
            self.update(step)
            yield step, coef
