"""Run the glassnet benchmark suite (the same as ``glassnet bench``).

python benchmarks/run.py [conv|pool|rnn|train|all] [--quick] [--json PATH] [--repeat N]
python benchmarks/run.py all --json docs/benchmarks.json --markdown docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import sys

from glassnet.cli.bench import add_arguments, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
