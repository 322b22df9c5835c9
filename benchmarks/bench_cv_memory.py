"""Peak memory of SAMRegressorCV on a long stopping-time grid (issue 14).

Plain script: fits ``SAMRegressorCV(n_iters=np.arange(1, 20001))`` on 20000 x 20
(cv=5, default scoring) in a fresh subprocess and prints its peak resident set size
(``ru_maxrss``) next to that of the same process after only loading the data, so
the figure is the whole process (and the fit's wall and process CPU time, the latter
robust on a shared machine). Target: below 1 GB. The grid is scored in chunks
of stopping times (``sksam._selection._cv_scores.CHUNK_ENTRIES``), so the peak is
bounded by the model size times one chunk, not by n x grid size.
Run ``python benchmarks/bench_cv_memory.py``.
"""

import subprocess
import sys

CODE = """
import resource, time
import numpy as np
rng = np.random.default_rng(0)
X = rng.standard_normal((20000, 20))
y = X @ rng.standard_normal(20) + rng.standard_normal(20000)
import sksam
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if {fit}:
    start, cpu = time.perf_counter(), time.process_time()
    model = sksam.SAMRegressorCV(n_iters=np.arange(1, 20001), rhos=(0.0, 0.1, 1.0))
    model.fit(X, y)
    print("fit seconds", round(time.perf_counter() - start, 2),
          "cpu seconds", round(time.process_time() - cpu, 2))
print("peak MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def peak(fit):
    out = subprocess.run(
        [sys.executable, "-c", CODE.format(fit=fit)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip()


if __name__ == "__main__":
    print("data and imports only:", peak(False))
    print("SAMRegressorCV, 20000-point grid, 20000 x 20:", peak(True))
