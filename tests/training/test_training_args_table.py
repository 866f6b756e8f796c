"""The checked-in option table: its shape, its source, and the dump script that regenerates it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from lora_studio.config.trainer_args import ARGS_TABLE, load_args_table, parse_args_table
from lora_studio.config.training_choices import SCRIPT_BY_FAMILY
from trainer import dump_args

REFERENCE = Path("/work/shared/reference/sd-scripts-args.json")
COMMIT = (Path(__file__).resolve().parents[2] / "trainer" / "SDSCRIPTS_COMMIT").read_text().strip()


def test_table_covers_the_four_scripts_with_the_real_counts() -> None:
    table = load_args_table()
    counts = {script: len(table.options(script)) for script in SCRIPT_BY_FAMILY.values()}
    # The parsers' option counts (194, 197, 216, 219) less --help.
    assert counts == {"train_network.py": 193, "sdxl_train_network.py": 196, "flux_train_network.py": 215,
                      "sd3_train_network.py": 218}  # fmt: skip
    assert table.commit == COMMIT
    flux = table.options("flux_train_network.py")
    assert flux["timestep_sampling"].choices == ("sigma", "uniform", "sigmoid", "shift", "flux_shift")
    assert table.options("train_network.py")["network_args"].type == "list[str]"
    assert table.options("train_network.py")["lr_warmup_steps"].type == "int_or_float"


@pytest.mark.skipif(not REFERENCE.is_file(), reason="the shared reference dump is not on this machine")
def test_checked_in_table_is_what_dump_args_builds_from_the_reference(tmp_path: Path) -> None:
    out = tmp_path / "table.json"
    assert dump_args.main(["--from-reference", str(REFERENCE), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == ARGS_TABLE.read_text(encoding="utf-8")


def test_dump_args_reads_a_real_argparse_parser() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=2e-6)
    parser.add_argument("--sdpa", action="store_true")
    parser.add_argument("--mixed_precision", type=str, choices=["no", "fp16", "bf16"], default="no")
    parser.add_argument("--network_args", type=str, nargs="*")
    records = [dump_args.action_record(action) for action in parser._actions]
    options = dump_args.script_options(records)
    assert options == {
        "learning_rate": "float",
        "sdpa": "bool",
        "mixed_precision": {"type": "str", "choices": ["no", "fp16", "bf16"]},
        "network_args": "list[str]",
    }
    base = [*records, dump_args.action_record(parser.add_argument("--blocks_to_swap", type=int))]
    table = dump_args.build_table({"train_network.py": records, "flux_train_network.py": base}, commit="abc")
    parsed = parse_args_table(json.loads(dump_args.dumps_table(table)))
    assert set(parsed.options("flux_train_network.py")) == set(options) | {"blocks_to_swap"}
    assert "blocks_to_swap" not in parsed.options("train_network.py")
