"""Command line: regenerate the synthetic raw exports."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from ..config import ConfigError, load_config


def main(argv: list[str] | None = None, prog: str = "python -m feasibility.synth") -> int:
    ap = argparse.ArgumentParser(
        prog=prog, description="Regenerate the paper's synthetic REDCap downloads (the records export, "
                               "data dictionary, instrument designations, events, project XML) and "
                               "provenance.json, calibrated to the paper's published values; or, with --n, "
                               "a larger uncalibrated cohort of the same project. Seeded: byte-identical.")
    ap.add_argument("--out", type=Path, default=Path("data/raw"),
                    help="output folder (default: data/raw, the paper's study's own downloads)")
    ap.add_argument("--config", type=Path, default=Path("config/config.yaml"), metavar="STUDY.yaml",
                    help="the paper's study file: its seed (synthetic.seed), EQ-5D method and published "
                         "values (default: config/config.yaml)")
    ap.add_argument("--seed", type=int, default=None, help="the random seed (default: synthetic.seed in the "
                                                           "study file)")
    ap.add_argument("--n", type=int, default=None,
                    help="make a larger uncalibrated cohort of this many participants")
    ap.add_argument("--sites", type=int, default=2, help="sites of a larger cohort (default: 2)")
    args = ap.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"synth: {error}", file=sys.stderr)
        return 1
    seed = config["synthetic"]["seed"] if args.seed is None else args.seed
    t0 = time.perf_counter()
    if args.n is None:
        from feasibility.studies.pilot2020.synth.calibrated import generate
        published_path = Path(config["paths"]["published_values"])
        published = yaml.safe_load(published_path.read_text())
        written = generate(config, published, seed, args.out, published_path)
    else:
        from feasibility.studies.pilot2020.synth.scaled import generate_scaled
        written = generate_scaled(args.n, args.sites, seed, args.out, progress=sys.stderr)
    written = list(dict.fromkeys([*map(Path, written), args.out / "provenance.json"]))   # and its provenance
    print(f"wrote {len(written)} files to {args.out} in {time.perf_counter() - t0:.1f} s: "
          + ", ".join(p.name for p in written), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
