"""Write configs/sd_scripts_args.json: the option table of sd-scripts' LoRA training scripts.

Run it with the trainer venv's Python (it imports sd-scripts and builds each script's parser):

    trainer/venv/bin/python trainer/dump_args.py --sd-scripts trainer/sd-scripts

``--check`` only builds the parsers and prints their option counts (the installer's smoke test).
``--from-reference FILE`` builds the table from a JSON dump of parser actions instead of a checkout
(the format of shared/reference/sd-scripts-args.json). Standard library only: it runs in any venv.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SCRIPTS = ("train_network.py", "sdxl_train_network.py", "flux_train_network.py", "sd3_train_network.py")
BASE_SCRIPT = "train_network.py"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "configs" / "sd_scripts_args.json"
_TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "Path": "path", "int_or_float": "int_or_float"}


def action_record(action: argparse.Action) -> dict[str, Any]:
    """One argparse action in the reference shape: dest, action kind, type name, nargs, choices."""
    kind = type(action).__name__
    names = {
        "_StoreAction": "store",
        "_StoreTrueAction": "store_true",
        "_StoreFalseAction": "store_false",
        "_HelpAction": "help",
        "_AppendAction": "append",
        "_CountAction": "count",
        "_StoreConstAction": "store_const",
    }
    type_name = getattr(action.type, "__name__", None) if action.type is not None else None
    return {
        "dest": action.dest,
        "action": names.get(kind, kind),
        "type": type_name,
        "nargs": action.nargs,
        "choices": list(action.choices) if action.choices is not None else None,
    }


def option_entry(record: Mapping[str, Any]) -> Any:
    """Compact form of one option: a type name, or {"type": ..., "choices": [...]}."""
    action = record["action"]
    if action in ("store_true", "store_false"):
        kind = "bool"
    elif action == "count":
        kind = "int"
    elif action == "store_const":
        kind = "any"
    else:
        kind = _TYPE_NAMES.get(record.get("type") or "str", "any")
        if action == "append" or record.get("nargs") in ("*", "+") or isinstance(record.get("nargs"), int):
            kind = f"list[{kind}]"
    choices = record.get("choices")
    return {"type": kind, "choices": choices} if choices else kind


def script_options(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {rec["dest"]: option_entry(rec) for rec in records if rec["action"] != "help"}


def build_table(per_script: Mapping[str, Iterable[Mapping[str, Any]]], *, commit: str) -> dict[str, Any]:
    """The table: the base script's options in full, the others as what they add or change."""
    options = {script: script_options(records) for script, records in per_script.items()}
    base = options[BASE_SCRIPT]
    scripts: dict[str, Any] = {BASE_SCRIPT: {"options": base}}
    for script, opts in options.items():
        if script == BASE_SCRIPT:
            continue
        removed = sorted(set(base) - set(opts))
        changed = {dest: entry for dest, entry in opts.items() if base.get(dest) != entry}
        scripts[script] = {"base": BASE_SCRIPT, "options": changed, "removed": removed}
    return {
        "source": "kohya-ss/sd-scripts",
        "commit": commit,
        "generated_by": "trainer/dump_args.py",
        "note": "argparse dest -> type (bool, int, float, str, path, int_or_float, list[...], any) "
        "or {type, choices}; a script with 'base' adds/changes 'options' and drops 'removed'.",
        "scripts": scripts,
    }


def dumps_table(table: Mapping[str, Any]) -> str:
    """JSON with one option per line: readable diffs when the pinned commit moves."""
    head = {key: value for key, value in table.items() if key != "scripts"}
    lines = ["{"] + [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in head.items()]
    lines.append('  "scripts": {')
    scripts = list(table["scripts"].items())
    for index, (script, spec) in enumerate(scripts):
        lines.append(f"    {json.dumps(script)}: {{")
        for key in ("base", "removed"):
            if key in spec:
                lines.append(f"      {json.dumps(key)}: {json.dumps(spec[key])},")
        options = list(spec["options"].items())
        lines.append('      "options": {')
        lines += [
            f"        {json.dumps(dest)}: {json.dumps(entry)}{',' if i < len(options) - 1 else ''}"
            for i, (dest, entry) in enumerate(options)
        ]
        lines.append("      }")
        lines.append("    }" + ("," if index < len(scripts) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def parser_records(checkout: Path, script: str) -> list[dict[str, Any]]:
    """Import ``script`` from the checkout and describe its parser's actions."""
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    module = importlib.import_module(script.removesuffix(".py"))
    return [action_record(action) for action in module.setup_parser()._actions]


def checkout_commit(checkout: Path) -> str:
    result = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else "(unknown)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sd-scripts", type=Path, help="the sd-scripts checkout")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the table")
    parser.add_argument("--check", action="store_true", help="only build the parsers and print counts")
    parser.add_argument("--from-reference", type=Path, help="build from a JSON dump of parser actions")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if args.from_reference:
        reference = json.loads(args.from_reference.read_text(encoding="utf-8"))
        per_script = {name: reference["scripts"][name]["options"] for name in SCRIPTS}
        commit = reference["commit"]
    else:
        if args.sd_scripts is None:
            parser.error("give --sd-scripts (the checkout) or --from-reference")
        checkout = args.sd_scripts.resolve()
        os.chdir(checkout)  # some scripts read files relative to the checkout at import time
        per_script = {name: parser_records(checkout, name) for name in SCRIPTS}
        commit = checkout_commit(checkout)
    if args.check:
        for name, records in per_script.items():
            print(f"{name}: {len(list(records))} options")
        return 0
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(dumps_table(build_table(per_script, commit=commit)), encoding="utf-8")
    os.replace(tmp, out)  # never leave a half-written table behind
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
