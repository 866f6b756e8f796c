"""``python -m lora_studio dataset list|create|import|delete|stats|rename|repeats``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lora_studio.core.errors import DatasetNotFound
from lora_studio.core.settings import Settings
from lora_studio.services.datasets import BucketSettings, DatasetService, DatasetStats, ImportReport

EXIT_OK = 0
EXIT_SOME_REJECTED = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``dataset`` area and its commands."""
    area = subparsers.add_parser("dataset", help="manage datasets (folders of images and captions)")
    commands = area.add_subparsers(dest="dataset_command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="list datasets with counts, size, concepts and repeats")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=handle_list)

    create = commands.add_parser("create", help="create an empty dataset")
    create.add_argument("name")
    create.add_argument("--concept", help="also create this concept folder")
    create.add_argument("--repeats", type=int, default=10, help="repeats of that concept (default 10)")
    create.set_defaults(func=handle_create)

    importing = commands.add_parser("import", help="import image files, zip archives or folders")
    importing.add_argument("name")
    importing.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    importing.add_argument("--concept", help="concept for files not inside an N_name folder")
    importing.add_argument("--repeats", type=int, help="repeats when the concept is new (default 10)")
    importing.add_argument("--create", action="store_true", help="create the dataset if it does not exist")
    importing.add_argument("--json", action="store_true", help="print the report as JSON")
    importing.set_defaults(func=handle_import)

    delete = commands.add_parser("delete", help="delete a dataset and all its files")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="confirm the deletion")
    delete.set_defaults(func=handle_delete)

    stats = commands.add_parser("stats", help="resolutions, aspect ratios, captions and a bucket preview")
    stats.add_argument("name")
    stats.add_argument(
        "--resolution", type=parse_resolution, default=(1024, 1024), help="e.g. 1024 or 1024x768"
    )
    stats.add_argument("--min-bucket-reso", type=int, default=256)
    stats.add_argument("--max-bucket-reso", type=int, default=1024)
    stats.add_argument("--bucket-reso-steps", type=int, default=64)
    stats.add_argument("--bucket-no-upscale", action="store_true")
    stats.add_argument("--no-bucket", action="store_true", help="preview with enable_bucket off")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=handle_stats)

    rename = commands.add_parser("rename", help="rename a dataset")
    rename.add_argument("name")
    rename.add_argument("new_name")
    rename.set_defaults(func=handle_rename)

    repeats = commands.add_parser("repeats", help="change a concept's repeats")
    repeats.add_argument("name")
    repeats.add_argument("concept")
    repeats.add_argument("repeats", type=int)
    repeats.set_defaults(func=handle_repeats)


def parse_resolution(text: str) -> tuple[int, int]:
    """``"1024"`` → (1024, 1024); ``"1024x768"`` or ``"1024,768"`` → (1024, 768)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a resolution like 1024 or 1024x768") from None
    if len(numbers) == 1:
        numbers *= 2
    if len(numbers) != 2 or min(numbers) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a resolution like 1024 or 1024x768")
    return numbers[0], numbers[1]


def handle_list(args: argparse.Namespace, settings: Settings) -> int:
    datasets = DatasetService(settings).list_datasets()
    if args.json:
        _print_json([asdict(item) for item in datasets])
        return EXIT_OK
    rows = [
        (
            item.name,
            str(item.image_count),
            str(item.captioned_count),
            _size(item.size_bytes),
            ", ".join(f"{c.concept} x{c.repeats}" for c in item.concepts) or "-",
        )
        for item in datasets
    ]
    _print_table(("dataset", "images", "captioned", "size", "concepts (repeats)"), rows)
    return EXIT_OK


def handle_create(args: argparse.Namespace, settings: Settings) -> int:
    summary = DatasetService(settings).create_dataset(args.name, concept=args.concept, repeats=args.repeats)
    print(f"Created dataset {summary.name!r} at {summary.path}")
    return EXIT_OK


def handle_import(args: argparse.Namespace, settings: Settings) -> int:
    service = DatasetService(settings)
    if args.create:
        try:
            service.get_dataset(args.name)
        except DatasetNotFound:
            service.create_dataset(args.name)
    report = service.import_files(args.name, args.paths, concept=args.concept, repeats=args.repeats)
    if args.json:
        _print_json(asdict(report))
    else:
        _print_report(report)
    return EXIT_SOME_REJECTED if report.rejected else EXIT_OK


def handle_delete(args: argparse.Namespace, settings: Settings) -> int:
    service = DatasetService(settings)
    summary = service.get_dataset(args.name)
    if not args.yes:
        print(
            f"This deletes dataset {summary.name!r} ({summary.image_count} images). Run again with --yes to confirm.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    service.delete_dataset(args.name)
    print(f"Deleted dataset {summary.name!r}")
    return EXIT_OK


def handle_stats(args: argparse.Namespace, settings: Settings) -> int:
    buckets = BucketSettings(
        resolution=args.resolution,
        enable_bucket=not args.no_bucket,
        min_bucket_reso=args.min_bucket_reso,
        max_bucket_reso=args.max_bucket_reso,
        bucket_reso_steps=args.bucket_reso_steps,
        bucket_no_upscale=args.bucket_no_upscale,
    )
    stats = DatasetService(settings).stats(args.name, buckets=buckets)
    if args.json:
        _print_json(asdict(stats))
    else:
        _print_stats(stats)
    return EXIT_OK


def handle_rename(args: argparse.Namespace, settings: Settings) -> int:
    summary = DatasetService(settings).rename_dataset(args.name, new_name=args.new_name)
    print(f"Renamed dataset {args.name!r} to {summary.name!r}")
    return EXIT_OK


def handle_repeats(args: argparse.Namespace, settings: Settings) -> int:
    DatasetService(settings).set_repeats(args.name, concept=args.concept, repeats=args.repeats)
    print(f"Concept {args.concept!r} of {args.name!r} now has {args.repeats} repeats")
    return EXIT_OK


def _print_report(report: ImportReport) -> None:
    rows = [(row.status.value, row.source, row.final_path or "-", row.reason or "") for row in report.rows]
    _print_table(("status", "file", "saved as", "reason / notes"), rows)
    print(
        f"\n{report.accepted} accepted, {report.duplicates} duplicates skipped, "
        f"{report.rejected} rejected (dataset {report.dataset!r})"
    )


def _print_stats(stats: DatasetStats) -> None:
    print(f"Dataset {stats.dataset!r}: {stats.image_count} images, {stats.captioned_count} captioned\n")
    _print_table(("resolution", "images"), [(row.label, str(row.count)) for row in stats.resolutions])
    print()
    _print_table(("aspect ratio", "images"), [(row.label, str(row.count)) for row in stats.aspect_ratios])
    preview = stats.buckets
    width, height = preview.settings.resolution
    print(f"\nBuckets for {width}x{height} (mean aspect-ratio error {preview.mean_ar_error:.4f}):")
    _print_table(
        ("bucket", "images", "with repeats"),
        [
            (f"{r.resolution[0]}x{r.resolution[1]}", str(r.images), str(r.with_repeats))
            for r in preview.buckets
        ],
    )
    for label, paths in (
        (f"smaller than {width}x{height}", [item.path for item in stats.smaller_than_resolution]),
        ("without caption", list(stats.uncaptioned)),
        ("EXIF-rotated (sd-scripts trains them as stored)", list(stats.rotated)),
        ("unreadable", list(stats.unreadable)),
        ("too large with bucketing off", list(preview.too_large)),
    ):
        if paths:
            shown = ", ".join(paths[:10]) + (f", ... ({len(paths) - 10} more)" if len(paths) > 10 else "")
            print(f"\n{len(paths)} {label}: {shown}")


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in range(len(header))]
    for line in (header, ["-" * width for width in widths], *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def _size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"
