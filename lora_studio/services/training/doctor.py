"""The pre-flight "dataset doctor": everything that can be checked before Start, in one report.

Images decode, every image has a caption with the configured extension, the trigger word is in
every caption, images are not below the training resolution, the ``<repeats>_<name>`` layout, the
model files (header only) and the config's machine rules, then the step math with a time estimate
once a run has measured its speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from lora_studio.config.training import TrainingConfig
from lora_studio.config.training_rules import launch_problems
from lora_studio.core.layout import CAPTION_EXTENSIONS, caption_path, iter_images, parse_concept_folder
from lora_studio.services.training.findings import Finding, Severity, finding, some
from lora_studio.services.training.model_check import check_model_files
from lora_studio.services.training.steps import StepMath, step_math


@dataclass(frozen=True)
class Concept:
    """One ``<repeats>_<name>`` folder that sd-scripts will read."""

    folder: Path
    repeats: int
    name: str
    images: tuple[Path, ...]


@dataclass(frozen=True)
class ImageFacts:
    """What the doctor learned about one image and its caption."""

    name: str  # relative to the dataset folder, for messages
    concept: Concept
    size: tuple[int, int] | None
    problem: str | None
    caption: str | None  # the first line, as sd-scripts reads it
    caption_state: str  # ok | missing | other_extension | empty | not_utf8


@dataclass(frozen=True)
class DoctorReport:
    findings: tuple[Finding, ...]
    steps: StepMath | None

    @property
    def ok(self) -> bool:
        """No error: the run can start (warnings are for the person to weigh)."""
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [item for item in self.findings if item.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [item for item in self.findings if item.severity is Severity.WARNING]

    def lines(self) -> list[str]:
        return [item.line() for item in self.findings]


def examine(
    dataset_dir: Path,
    config: TrainingConfig,
    *,
    trigger: str | None = None,
    gpu_available: bool = True,
    seconds_per_step: float | None = None,
) -> DoctorReport:
    """Check ``dataset_dir`` and ``config`` together; reads every image and caption, never the weights."""
    layout, concepts = check_layout(dataset_dir)
    facts = [
        examine_image(image, concept, dataset_dir, config.dataset.caption_extension)
        for concept in concepts
        for image in concept.images
    ]
    findings: list[Finding | None] = [*layout]
    if facts:
        findings += [check_images(facts), check_captions(facts, config.dataset.caption_extension)]
        findings += [check_trigger(facts, trigger), check_resolution(facts, config)]
    findings += check_model_files(config)
    findings += check_config(config, gpu_available=gpu_available)
    steps = None
    if concepts:
        pairs = [(len(concept.images), concept.repeats) for concept in concepts]
        steps = step_math(config, pairs, seconds_per_step=seconds_per_step)
        findings.append(_steps_finding(steps))
    return DoctorReport(tuple(item for item in findings if item is not None), steps)


def check_layout(dataset_dir: Path) -> tuple[list[Finding], list[Concept]]:
    """The concept folders sd-scripts reads, and what it would silently skip."""
    concepts, ignored, empty, zero, nested = [], [], [], [], []
    folders = sorted(
        path for path in dataset_dir.iterdir() if path.is_dir() and not path.name.startswith(".")
    )
    for folder in folders:
        parsed = parse_concept_folder(folder.name)
        images = tuple(iter_images(folder))
        if parsed is None:
            ignored.append(folder.name)
        elif parsed.repeats < 1:
            zero.append(folder.name)
        elif not images:
            empty.append(folder.name)
        else:
            concepts.append(Concept(folder, parsed.repeats, parsed.concept, images))
        nested += [
            f"{folder.name}/{sub.name}" for sub in folder.iterdir() if sub.is_dir() and _has_images(sub)
        ]
    loose = [path.name for path in iter_images(dataset_dir)]
    findings = []
    if loose:
        findings.append(_skipped(f"{len(loose)} image(s) sit directly in the dataset folder", loose))
    if ignored:
        findings.append(_skipped(f"folder(s) not named <repeats>_<name>: {some(ignored)}", ignored))
    if zero:
        findings.append(_skipped(f"folder(s) with 0 repeats: {some(zero)}", zero))
    if empty:
        findings.append(_skipped(f"concept folder(s) without images: {some(empty)}", empty))
    if nested:
        findings.append(_skipped(f"sub-folders are not read: {some(nested)}", nested))
    if not concepts:
        findings.append(
            finding(
                "layout",
                Severity.ERROR,
                "No concept folder with images: sd-scripts would stop with 'No data found'. Put the images "
                "in sub-folders named <repeats>_<concept>, e.g. 10_mychar.",
            )
        )
    else:
        summary = ", ".join(f"{c.folder.name} ({len(c.images)} images)" for c in concepts)
        findings.insert(0, finding("layout", Severity.OK, f"{len(concepts)} concept folder(s): {summary}."))
    return findings, concepts


def _skipped(what: str, items: list[str]) -> Finding:
    return finding("layout", Severity.WARNING, f"sd-scripts ignores these: {what}.", items)


def _has_images(folder: Path) -> bool:
    return next(iter_images(folder), None) is not None


def examine_image(image: Path, concept: Concept, dataset_dir: Path, extension: str) -> ImageFacts:
    name = image.relative_to(dataset_dir).as_posix()
    size, problem = decode(image)
    caption, state = read_caption(image, extension)
    return ImageFacts(name, concept, size, problem, caption, state)


def decode(image: Path) -> tuple[tuple[int, int] | None, str | None]:
    """Fully decode ``image`` (a header alone hides truncation): its size, or what is wrong."""
    try:
        with Image.open(image) as opened:
            opened.load()
            return opened.size, None
    except Image.DecompressionBombError as error:
        return None, str(error)
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        return None, f"cannot be decoded ({error})"


def read_caption(image: Path, extension: str) -> tuple[str | None, str]:
    path = caption_path(image, extension)
    if not path.is_file():
        others = [
            ext for ext in CAPTION_EXTENSIONS if ext != extension and caption_path(image, ext).is_file()
        ]
        return None, "other_extension" if others else "missing"
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None, "not_utf8"
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return (first, "ok") if first else (None, "empty")


def check_images(facts: list[ImageFacts]) -> Finding:
    broken = [f"{fact.name}: {fact.problem}" for fact in facts if fact.problem]
    if broken:
        return finding(
            "images",
            Severity.ERROR,
            f"{len(broken)} of {len(facts)} image(s) cannot be decoded; sd-scripts would crash on them. "
            "Remove or re-export them.",
            broken,
        )
    return finding("images", Severity.OK, f"all {len(facts)} images decode.")


def check_captions(facts: list[ImageFacts], extension: str) -> Finding:
    by_state: dict[str, list[str]] = {}
    for fact in facts:
        by_state.setdefault(fact.caption_state, []).append(fact.name)
    if "other_extension" in by_state:
        other = by_state["other_extension"]
        return finding(
            "captions",
            Severity.ERROR,
            f"{len(other)} image(s) have a caption file with another extension than {extension} "
            "(sd-scripts would ignore those captions). Set dataset.caption_extension to the extension "
            "your caption files use, or rename them.",
            other,
        )
    for state, why in (("not_utf8", "are not UTF-8 text"), ("empty", "are empty (sd-scripts stops on them)")):
        if state in by_state:
            names = by_state[state]
            return finding(
                "captions", Severity.ERROR, f"{len(names)} caption file(s) {why}: fix or delete them.", names
            )
    missing = by_state.get("missing", [])
    if missing:
        return finding(
            "captions",
            Severity.WARNING,
            f"{len(missing)} of {len(facts)} image(s) have no {extension} caption; sd-scripts uses the "
            "folder's concept name as their caption. Tag or caption them for a better LoRA.",
            missing,
        )
    return finding("captions", Severity.OK, f"every image has a {extension} caption.")


def check_trigger(facts: list[ImageFacts], trigger: str | None) -> Finding | None:
    """The trigger must be in each caption (or, for an image without one, in its folder's concept name)."""
    if not trigger or not trigger.strip():
        return None
    word = re.compile(rf"(?<![\w-]){re.escape(trigger.strip())}(?![\w-])", re.IGNORECASE)
    lacking = [fact.name for fact in facts if not word.search(fact.caption or fact.concept.name)]
    if lacking:
        return finding(
            "trigger",
            Severity.WARNING,
            f"the trigger word {trigger!r} is missing from {len(lacking)} caption(s): add it (Captions tab, "
            "'add trigger word') so the LoRA learns to respond to it.",
            lacking,
        )
    return finding("trigger", Severity.OK, f"every caption contains {trigger!r}.")


def check_resolution(facts: list[ImageFacts], config: TrainingConfig) -> Finding:
    data = config.dataset
    width, height = data.resolution
    sized = [(fact.name, fact.size) for fact in facts if fact.size is not None]
    if not data.enable_bucket and not data.random_crop:
        large = [name for name, (w, h) in sized if w > width or h > height]
        if large:
            return finding(
                "resolution",
                Severity.ERROR,
                f"{len(large)} image(s) are larger than {width}x{height} while bucketing and random crop "
                "are off: sd-scripts stops at the first step ('image too large'). Turn on "
                "dataset.enable_bucket or resize the images.",
                large,
            )
    small = [f"{name} ({w}x{h})" for name, (w, h) in sized if w * h < width * height]
    if small:
        return finding(
            "resolution",
            Severity.WARNING,
            f"{len(small)} image(s) are below the training resolution {width}x{height} and will be "
            "upscaled (blurrier results). Use larger images or a lower resolution.",
            small,
        )
    return finding("resolution", Severity.OK, f"no image is below {width}x{height}.")


def check_config(config: TrainingConfig, *, gpu_available: bool) -> list[Finding]:
    """The config's machine rules (fp16 on a CPU, 8-bit optimizers, ...); model files are checked apart."""
    problems = [
        problem
        for problem in launch_problems(config, gpu_available=gpu_available, check_files=False)
        if not problem.startswith("Set model.base")  # the model check reports that one
    ]
    return [finding("config", Severity.ERROR, problem) for problem in problems]


def _steps_finding(steps: StepMath) -> Finding:
    message = steps.explain() + "."
    if steps.estimate_s is not None:
        minutes = steps.estimate_s / 60
        message += f" About {minutes:.0f} min at the measured {steps.seconds_per_step:.2f} s/step."
    severity = Severity.OK if steps.total_steps > 0 else Severity.ERROR
    return finding("steps", severity, message)
