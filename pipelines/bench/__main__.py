"""`make bench` (`python -m pipelines.bench`): see pipelines/bench/nightly.py."""

import sys

from pipelines.bench.nightly import main

sys.exit(main())
