"""Command line: regenerate a study's synthetic raw exports.

The generator is the study's own: its study file names its study package
(``study.package``), whose ``synthetic`` (calibrated) and ``synthetic_scaled`` (``--n``)
make the files. Any other study gets dummy data from ``feasibility dummy``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from .. import publication
from ..config import ConfigError, load_config


def main(argv: list[str] | None = None, prog: str = "python -m feasibility.synth") -> int:
    ap = argparse.ArgumentParser(
        prog=prog,
        description="Regenerate the paper's synthetic REDCap downloads (the records export, "
        "data dictionary, instrument designations, events, project XML) and "
        "provenance.json, calibrated to the paper's published values; or, with --n, "
        "a larger uncalibrated cohort of the same project. Seeded: byte-identical.",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=Path("data/raw"),
        help="output folder (default: data/raw, the paper's study's own downloads)",
    )
    ap.add_argument(
        "--config",
        type=Path,
        default=Path("config/config.yaml"),
        metavar="STUDY.yaml",
        help="the paper's study file: its seed (synthetic.seed), EQ-5D method and published "
        "values (default: config/config.yaml)",
    )
    ap.add_argument(
        "--seed", type=int, default=None, help="the random seed (default: synthetic.seed in the study file)"
    )
    ap.add_argument(
        "--n", type=int, default=None, help="make a larger uncalibrated cohort of this many participants"
    )
    ap.add_argument("--sites", type=int, default=2, help="sites of a larger cohort (default: 2)")
    args = ap.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"synth: {error}", file=sys.stderr)
        return 1
    study = publication.load(config)
    wanted = "synthetic" if args.n is None else "synthetic_scaled"
    if not hasattr(study, wanted):
        print(
            f"synth: {args.config}: the study file names no study package with a synthetic "
            f"generator (study.package); dummy data for any study file: feasibility dummy",
            file=sys.stderr,
        )
        return 1
    seed = config["synthetic"]["seed"] if args.seed is None else args.seed
    t0 = time.perf_counter()
    if args.n is None:
        published_path = Path(config["paths"]["published_values"])
        published = yaml.safe_load(published_path.read_text())
        written = study.synthetic(config, published, seed, args.out, published_path)
    else:
        written = study.synthetic_scaled(args.n, args.sites, seed, args.out, progress=sys.stderr)
    written = list(dict.fromkeys([*map(Path, written), args.out / "provenance.json"]))  # and its provenance
    print(
        f"wrote {len(written)} files to {args.out} in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(p.name for p in written),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
