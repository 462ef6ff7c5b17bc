"""The NLU engine benchmark (bench/nlu_engines.py), one role per module:

* datasets   the splits both engines train and are scored on;
* processes  running a worker in a subprocess, timed, with its peak memory;
* embedded   memberbot's engine: its training and parsing workers;
* baseline   TF-IDF + logistic regression, trained and scored in one worker;
* rasa       Rasa DIET: `rasa train nlu`, then bench/nlu_rasa_worker.py;
* scoring    the same figures for every engine's predictions;
* report     the markdown section of bench/RESULTS.md.

Named nlu_bench, not nlu: bench/ is on sys.path and must not hide the project's nlu.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ENTRY = ROOT / "bench" / "nlu_engines.py"  # the workers run as `python ENTRY --worker ...`
BENCHMARKS = Path(os.environ.get("MEMBERBOT_BENCHMARKS", "/work/shared/benchmarks"))
OUT_OF_SCOPE = {"out_of_scope", "oos", "nlu_fallback"}

if str(ROOT) not in sys.path:  # the project's nlu, for the workers and the scoring
    sys.path.insert(0, str(ROOT))
