"""`python -m bench <benchmark>`: each benchmark module adds its options and runs itself."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence

from bench import audit, pairing, pairing_run, pipeline, roster, web

# name -> module with add_arguments(parser) and run(args) -> exit code
BENCHMARKS = {
    "audit": audit,
    "pairing": pairing,
    "pairing-run": pairing_run,
    "pipeline": pipeline,
    "roster": roster,
    "web": web,
}


def main(argv: Sequence[str] | None = None) -> int:
    # Figures go to stdout; only problems reach stderr.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="kafka")
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of Tandem.")
    sub = parser.add_subparsers(dest="benchmark", required=True)
    for name, module in BENCHMARKS.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.__doc__))
    args = parser.parse_args(argv)
    return BENCHMARKS[args.benchmark].run(args)


if __name__ == "__main__":
    sys.exit(main())
