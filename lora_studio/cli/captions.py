"""``python -m lora_studio captions stats|add|remove|replace|clean|undo DATASET ...``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable

from lora_studio.core.errors import InvalidInput
from lora_studio.core.settings import Settings
from lora_studio.services.captions import (
    AddTags,
    AddTrigger,
    BulkPreview,
    BulkResult,
    CaptionFilter,
    CaptionService,
    FindReplace,
    NormaliseSeparators,
    OperationBase,
    RemoveDuplicateTags,
    RemoveTags,
    ReplaceTag,
    UnderscoresToSpaces,
)

Handler = Callable[[argparse.Namespace, Settings], int]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``captions`` area with its sub-commands to the main parser."""
    area = subparsers.add_parser("captions", help="inspect and bulk-edit the captions of a dataset")
    commands = area.add_subparsers(dest="captions_command", required=True, metavar="COMMAND")

    stats = _command(commands, "stats", "caption counts, problems, tag frequencies, suggestions", _stats)
    stats.add_argument("--concept", help="only this concept folder, e.g. 10_alice")
    stats.add_argument("--top", type=int, default=30, help="how many tags to list (default 30)")
    stats.add_argument("--search", default="", help="only tags containing this text")
    stats.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    add = _command(commands, "add", "add a trigger word or tags (no duplicates)", _add)
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--trigger", help="trigger word, kept once and first (or last with --position end)")
    what.add_argument("--tags", help="comma-separated tags to add where missing")
    add.add_argument(
        "--position", choices=("start", "end"), help="where to put them (trigger: start, tags: end)"
    )
    _bulk_arguments(add)

    remove = _command(commands, "remove", "remove tags", _remove)
    remove.add_argument("--tags", required=True, help="comma-separated tags to remove")
    _bulk_arguments(remove)

    replace = _command(commands, "replace", "replace a tag, or find/replace text", _replace)
    replace.add_argument("old", help="the tag (or with --text / --regex, the text or pattern) to find")
    replace.add_argument("new", help="what to put instead (may be empty with --text / --regex)")
    replace.add_argument("--text", action="store_true", help="plain find/replace over the caption text")
    replace.add_argument("--regex", action="store_true", help="OLD is a regular expression (implies --text)")
    replace.add_argument(
        "--ignore-case", action="store_true", help="case-insensitive (with --text / --regex)"
    )
    _bulk_arguments(replace)

    clean = _command(commands, "clean", "tidy captions (choose one or more fixes)", _clean)
    clean.add_argument("--duplicates", action="store_true", help="remove duplicate tags")
    clean.add_argument("--separators", action="store_true", help="normalise separators and white space")
    clean.add_argument("--underscores", action="store_true", help="underscores to spaces (kaomoji kept)")
    _bulk_arguments(clean)

    undo = _command(commands, "undo", "undo the last bulk operation, or list the history", _undo)
    undo.add_argument("--list", action="store_true", help="list recent operations instead of undoing")
    undo.add_argument("--force", action="store_true", help="also overwrite captions edited since")


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str, handler: Handler
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=text, description=text)
    parser.add_argument("dataset", metavar="DATASET", help="dataset folder name")
    parser.set_defaults(func=handler)
    return parser


def _bulk_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concept", help="only this concept folder, e.g. 10_alice")
    parser.add_argument("--has", default="", help="only captions with all these comma-separated tags")
    parser.add_argument("--lacks", default="", help="only captions with none of these tags")
    parser.add_argument("--contains", default="", help="only captions containing this text")
    parser.add_argument("--no-caption", action="store_true", help="only images without a caption")
    parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    parser.add_argument("--skip-non-utf8", action="store_true", help="skip captions that are not UTF-8")


def _selection(args: argparse.Namespace) -> CaptionFilter:
    return CaptionFilter(
        concept=args.concept,
        no_caption=args.no_caption,
        has_tags=args.has,
        lacks_tags=args.lacks,
        text=args.contains,
    )


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    service = CaptionService(settings)
    selection = CaptionFilter(concept=args.concept)
    stats = service.stats(args.dataset, concept=args.concept)
    table = service.frequencies(args.dataset, selection=selection, search=args.search, limit=args.top)
    suggestions = service.suggestions(args.dataset, selection=selection)
    if args.json:
        payload = {"stats": stats, "frequencies": table, "suggestions": suggestions}
        print(json.dumps(_plain(payload), indent=2, ensure_ascii=False))
        return 0
    print(f"{stats.dataset}: {stats.images} images, {stats.captioned} captioned, {table.distinct_tags} tags")
    for message in stats.messages:
        print(f"! {message}")
    for row in table.rows:
        print(f"{row.count:8d}  {row.share:6.1%}  {row.tag}")
    for suggestion in suggestions:
        print(f"* {suggestion.message}")
    return 0


def _add(args: argparse.Namespace, settings: Settings) -> int:
    operation: OperationBase
    if args.trigger is not None:
        operation = AddTrigger(word=args.trigger, position=args.position or "start")
    else:
        operation = AddTags(tags=args.tags, position=args.position or "end")
    return _run(operation, args, settings)


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    return _run(RemoveTags(tags=args.tags), args, settings)


def _replace(args: argparse.Namespace, settings: Settings) -> int:
    operation: OperationBase
    if args.text or args.regex:
        operation = FindReplace(
            find=args.old, replace=args.new, regex=args.regex, ignore_case=args.ignore_case
        )
    else:
        operation = ReplaceTag(old=args.old, new=args.new)
    return _run(operation, args, settings)


def _clean(args: argparse.Namespace, settings: Settings) -> int:
    chosen: list[OperationBase] = []
    if args.separators:
        chosen.append(NormaliseSeparators())
    if args.underscores:
        chosen.append(UnderscoresToSpaces())
    if args.duplicates:
        chosen.append(RemoveDuplicateTags())
    if not chosen:
        raise InvalidInput("Choose at least one fix: --duplicates, --separators or --underscores.")
    for operation in chosen:  # one undo record each, so each can be undone on its own
        code = _run(operation, args, settings)
        if code:
            return code
    return 0


def _run(operation: OperationBase, args: argparse.Namespace, settings: Settings) -> int:
    service = CaptionService(settings)
    selection = _selection(args)
    if args.dry_run:
        _print_preview(service.preview(args.dataset, operation, selection=selection))
        return 0
    result = service.apply(args.dataset, operation, selection=selection, skip_non_utf8=args.skip_non_utf8)
    _print_result(result, args.dataset)
    return 0


def _print_preview(preview: BulkPreview) -> None:
    print(f"Would {preview.description}: {preview.changed} of {preview.matched} captions change.")
    for example in preview.examples:
        print(f"  {example.image}\n    - {example.before}\n    + {example.after}")
    _print_skipped(preview.skipped_not_utf8, preview.skipped_empty)


def _print_result(result: BulkResult, dataset: str) -> None:
    print(f"{result.description}: changed {result.changed} of {result.matched} captions.")
    _print_skipped(result.skipped_not_utf8, result.skipped_empty)
    if result.undo_id:
        print(f"Undo with: python -m lora_studio captions undo {dataset}  (record {result.undo_id})")


def _print_skipped(not_utf8: tuple[str, ...], emptied: tuple[str, ...]) -> None:
    if not_utf8:
        print(f"Skipped {len(not_utf8)} captions that are not UTF-8: {', '.join(not_utf8[:5])}")
    if emptied:
        print(f"Left {len(emptied)} captions alone that would become empty: {', '.join(emptied[:5])}")


def _undo(args: argparse.Namespace, settings: Settings) -> int:
    service = CaptionService(settings)
    if args.list:
        for entry in service.history(args.dataset):
            print(
                f"{entry.created}  {entry.status:8}  {entry.captions:6d}  {entry.description}  [{entry.id}]"
            )
        return 0
    result = service.undo_last(args.dataset, force=args.force)
    print(f"Undid '{result.description}': restored {result.restored} captions.")
    if result.conflicts:
        print(f"Overwrote {len(result.conflicts)} captions edited since (--force).")
    return 0


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
