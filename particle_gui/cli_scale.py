"""``analyze``'s options for many images and large ones: workers, resuming, shards, a Dask cluster, tiles."""

from __future__ import annotations

import argparse
import os

from particle_gui.core.params import DEFAULT_OVERLAP_PX, DEFAULT_TILE_PX


def shard(text: str) -> tuple[int, int]:
    """``i/N`` (0 <= i < N) for argparse."""
    try:
        index, total = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not i/N, e.g. 0/4") from None
    if not (total >= 1 and 0 <= index < total):
        raise argparse.ArgumentTypeError(f"{text!r}: want 0 <= i < N")
    return index, total


def positive_float(text: str) -> float:
    """A number above 0, for argparse."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a number above 0")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    """``analyze``'s options for many images and large ones: workers, resuming, shards, Dask, tiles."""
    parser.add_argument("--jobs", type=positive_int, metavar="N", default=os.cpu_count() or 1,
                        help="images analysed at once, in worker processes (default: the number of cores)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the images already done in --out with the same parameters, options, models and "
                        "version (records/<stem>.json); summary.csv is rebuilt from all of them")
    parser.add_argument("--shard", type=shard, metavar="i/N",
                        help="analyse only every N-th image from the i-th (sorted), for job arrays; gather the shards "
                        "with a last run with --resume and no --shard")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the images on the Dask cluster at ADDRESS (needs the 'dask' extra: "
                        "pip install 'particle_gui[dask]'); --out must be reachable from its workers")
    parser.add_argument("--tile", type=positive_int, metavar="PX", default=DEFAULT_TILE_PX,
                        help="TIFFs too large to analyse in memory (stitched montages) are analysed in tiles of PX x PX "
                        f"(default {DEFAULT_TILE_PX}; memory grows with it)")
    parser.add_argument("--tile-overlap", type=positive_int, metavar="PX", default=DEFAULT_OVERLAP_PX,
                        help=f"how far each tile's analysis reaches into its neighbours (default {DEFAULT_OVERLAP_PX}); "
                        "must exceed the largest particle, or particles crossing seams are left out (with a warning)")
    parser.add_argument("--tiled-above", type=positive_float, metavar="MPX",
                        help="analyse TIFFs of more than MPX megapixels in tiles (default: the largest image analysed "
                        "in memory, 120 Mpx; lower it where memory is short: 100 Mpx need ~3.4 GB analysed whole)")


def dask_client(args: argparse.Namespace):
    """A client of ``--scheduler``'s cluster, or None; a usage error without Dask or the cluster."""
    if not args.scheduler:
        return None
    try:
        from distributed import Client
    except ImportError:
        args.subparser.error("--scheduler needs Dask: pip install 'particle_gui[dask]' (dask and distributed)")
    try:
        return Client(args.scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        args.subparser.error(f"cannot reach the Dask scheduler at {args.scheduler}: {exc}")
