"""A stand-in for sd-scripts' LoRA training scripts, for tests only (standard library, no torch).

    python tests/fakes/fake_trainer.py --config_file config.toml --dataset_config dataset.toml

Prints what the real script prints (shared/reference/sd-scripts-log/): rich-style log lines and
tqdm ``\\r`` progress bars with an ``avr_loss`` postfix on stderr; "epoch N/M" and
"saving checkpoint: ..." on stdout. Writes a small valid ``.safetensors`` with ``lora_unet_`` keys
into ``output_dir``. SIGINT: prints a line and exits 130.

Environment knobs:
  FAKE_TRAINER_FAIL          no_data (exit 0, no file), oom, nan (avr_loss=nan, exit 0),
                             bad_module, dataset_schema, missing_checkpoint, fp16_cpu, image_too_large
  FAKE_TRAINER_FAIL_AT_STEP  the step at which oom/nan strike (default 1)
  FAKE_TRAINER_STEP_SECONDS  sleep per step (default 0)
  FAKE_TRAINER_STEPS_PER_EPOCH  steps in one epoch when max_train_epochs is set (default 2)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import struct
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

WIDTH = int(os.environ.get("COLUMNS", "250"))
_last_stamp = [""]
LAUNCHER_TRACEBACK = """Traceback (most recent call last):
  File "venv/bin/accelerate", line 8, in <module>
    sys.exit(main())
  File "venv/lib/python3.11/site-packages/accelerate/commands/launch.py", line 795, in simple_launcher
    raise subprocess.CalledProcessError(returncode=process.returncode, cmd=cmd)
subprocess.CalledProcessError: Command '['venv/bin/python', 'train_network.py', '--config_file', 'config.toml']' returned non-zero exit status 1.
"""


def log(level: str, message: str, source: str = "train_network.py:500") -> None:
    """One rich-style line: time (blank when unchanged), level, message, right-aligned source."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    shown = stamp if stamp != _last_stamp[0] else " " * 19
    _last_stamp[0] = stamp
    head = f"{shown} {level:<8} {message}"
    sys.stderr.write(head.ljust(WIDTH - len(source) - 1) + " " + source + "\n")
    sys.stderr.flush()


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def bar(step: int, total: int, elapsed: float, loss: str | None) -> str:
    filled = step * 10 // total if total else 10
    cells = "█" * filled + " " * (10 - filled)
    if step == 0:
        return f"\rsteps:   0%|{cells}| 0/{total} [00:00<?, ?it/s]"
    per = elapsed / step
    rate = f"{per:.2f}s/it" if per > 1 else f"{(1 / per if per else 999.99):.2f}it/s"
    postfix = f", avr_loss={loss}" if loss is not None else ""
    remaining = clock(per * (total - step))
    return f"\rsteps: {step * 100 // total:3d}%|{cells}| {step}/{total} [{clock(elapsed)}<{remaining}, {rate}{postfix}]"


def write_lora(path: Path, *, dim: int, steps: int, name: str) -> None:
    """A tiny kohya-style LoRA: 8-byte header length, JSON header, raw little-endian float32 data."""
    tensors = {}
    data = b""
    for block in ("down_blocks_0_attentions_0_proj_in", "up_blocks_1_attentions_0_proj_out"):
        for suffix, shape in ((".lora_down.weight", [dim, 8]), (".lora_up.weight", [8, dim]), (".alpha", [])):
            count = 1
            for size in shape:
                count *= size
            blob = struct.pack(f"<{count}f", *([0.01] * count))
            tensors[f"lora_unet_{block}{suffix}"] = {
                "dtype": "F32",
                "shape": shape,
                "data_offsets": [len(data), len(data) + len(blob)],
            }
            data += blob
    meta = {"ss_network_module": "networks.lora", "ss_network_dim": str(dim), "ss_steps": str(steps)}
    meta |= {"ss_output_name": name, "ss_base_model_version": "sd_v1"}
    header = json.dumps({"__metadata__": meta, **tensors}, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def fail_with(lines: list[str]) -> int:
    sys.stderr.write(
        'Traceback (most recent call last):\n  File "train_network.py", line 1913, in <module>\n'
    )
    sys.stderr.write("    trainer.train(args)\n" + "\n".join(lines) + "\n" + LAUNCHER_TRACEBACK)
    sys.stderr.flush()
    return 1


def read_toml(path: str) -> dict[str, Any]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    flat: dict[str, Any] = {}
    for key, value in data.items():  # sd-scripts flattens one level of sections
        flat.update(value if isinstance(value, dict) else {key: value})
    return flat


def count_images(dataset: dict[str, Any]) -> tuple[int, list[str]]:
    total, dirs = 0, []
    for block in dataset.get("datasets", []):
        for subset in block.get("subsets", []):
            folder = Path(subset["image_dir"])
            images = [p for p in folder.glob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp"}]
            dirs.append(str(folder))
            total += len(images) * int(subset.get("num_repeats", 1))
    return total, dirs


def startup(args: argparse.Namespace, fail: str) -> int | None:
    """The part before training; returns an exit status when the run ends here."""
    log("INFO", f"Loading settings from {args.config_file}...", "train_util.py:4744")
    if fail == "dataset_schema":
        log("ERROR", "Invalid user config / ユーザ設定の形式が正しくないようです", "config_util.py:383")
        return fail_with(["voluptuous.error.MultipleInvalid: extra keys not allowed @ data['resolution']"])
    log("INFO", f"Loading dataset config from {args.dataset_config}", "train_network.py:519")
    dataset = (
        tomllib.loads(Path(args.dataset_config).read_text(encoding="utf-8")) if args.dataset_config else {}
    )
    images, dirs = count_images(dataset)
    if fail == "no_data" or images == 0:
        for folder in dirs:
            log(
                "WARNING",
                f"ignore subset with image_dir='{folder}': no images found / 画像が見つからないためサブセットを無視します",
            )
        log("INFO", "0 train images with repeats.", "train_util.py:2158")
        log(
            "ERROR",
            "No data found. Please verify arguments (train_data_dir must be the parent of folders with images) /",
        )
        sys.stderr.write(" " * 29 + "画像がありません。引数指定を確認してください\n")
        return 0
    log("INFO", f"{images} train images with repeats.", "train_util.py:2158")
    if fail == "missing_checkpoint":
        return fail_with(
            ['ValueError: The provided pretrained_model_name_or_path "model.safetensors" is neither a valid '
             "local path nor a valid repo id. Please check the parameter."]
        )  # fmt: skip
    log("INFO", "preparing accelerator", "train_network.py:580")
    out("accelerator device: cpu")
    log("INFO", "loading model for process 0/1", "train_util.py:5500")
    module = "networks.no_such_module" if fail == "bad_module" else "networks.lora"
    out(f"import network module: {module}")
    if fail == "bad_module":
        return fail_with([f"ModuleNotFoundError: No module named '{module}'"])
    log("INFO", "create LoRA for U-Net: 192 modules.", "lora.py:1015")
    out("prepare optimizer, data loader etc.")
    log("INFO", "use AdamW optimizer | {}", "train_util.py:4956")
    return None


def train(config: dict[str, Any], fail: str, fail_at: int) -> int:
    per_epoch = int(os.environ.get("FAKE_TRAINER_STEPS_PER_EPOCH", "2"))
    epochs = config.get("max_train_epochs")
    total = int(epochs) * per_epoch if epochs else int(config.get("max_train_steps", 4))
    epochs = int(epochs) if epochs else max(1, -(-total // per_epoch))
    delay = float(os.environ.get("FAKE_TRAINER_STEP_SECONDS", "0"))
    output = Path(config.get("output_dir", "output"))
    name = config.get("output_name") or "last"
    ext = config.get("save_model_as", "safetensors")
    out("running training / 学習開始")
    out(f"  num epochs / epoch数: {epochs}")
    out(f"  total optimization steps / 学習ステップ数: {total}\n")
    start, loss, step, shown = time.monotonic(), 1.2, 0, None
    sys.stderr.write(bar(0, total, 0, None))
    for epoch in range(1, epochs + 1):
        out(f"\nepoch {epoch}/{epochs}")
        for _ in range(per_epoch):
            if step >= total:
                break
            time.sleep(delay)
            step += 1
            if fail == "oom" and step >= fail_at:
                return fail_with(
                    ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total "
                     "capacity of 11.99 GiB of which 0 bytes is free."]
                )  # fmt: skip
            if fail in ("fp16_cpu", "image_too_large"):
                message = {
                    "fp16_cpu": "RuntimeError: expected m1 and m2 to have the same dtype, but got: c10::Half != float",
                    "image_too_large": "AssertionError: image too large, but cropping and bucketing are disabled / "
                    "画像サイズが大きいのでbucketを有効にしてください: data/1_test/img_0.png",
                }[fail]
                status = fail_with([message])
                sys.stderr.write(bar(0, total, time.monotonic() - start, None))  # the bar redraws after it
                return status
            elapsed = time.monotonic() - start
            # Like tqdm in sd-scripts: redraw after update(1) with the old postfix, then after set_postfix.
            sys.stderr.write(bar(step, total, elapsed, shown))
            shown = "nan" if fail == "nan" and step >= fail_at else f"{loss:.3g}"
            sys.stderr.write(bar(step, total, elapsed, shown))
            sys.stderr.flush()
            loss *= 0.97
        every = config.get("save_every_n_epochs")
        if every and epoch % int(every) == 0 and epoch < epochs:
            path = output / f"{name}-{epoch:06d}.{ext}"
            out(f"\nsaving checkpoint: {path}")
            write_lora(path, dim=int(config.get("network_dim", 4)), steps=step, name=name)
    path = output / f"{name}.{ext}"
    out(f"\nsaving checkpoint: {path}")
    write_lora(path, dim=int(config.get("network_dim", 4)), steps=step, name=name)
    log("INFO", "model saved.", "train_network.py:1729")
    sys.stderr.write(bar(step, total, time.monotonic() - start, shown) + "\n")
    return 0


def on_sigint(signum: int, frame: object) -> None:
    out("\nstopping: interrupted by SIGINT")
    sys.stderr.write("\nKeyboardInterrupt\n")
    sys.stderr.flush()
    os._exit(130)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGINT, on_sigint)
    parser = argparse.ArgumentParser()
    parser.add_argument("--config_file", required=True)
    parser.add_argument("--dataset_config")
    args, _unknown = parser.parse_known_args(argv)
    fail = os.environ.get("FAKE_TRAINER_FAIL", "")
    config = read_toml(args.config_file)
    status = startup(args, fail)
    if status is not None:
        return status
    return train(config, fail, int(os.environ.get("FAKE_TRAINER_FAIL_AT_STEP", "1")))


if __name__ == "__main__":
    raise SystemExit(main())
