"""sd-scripts' aspect-ratio bucketing, reproduced to preview where each image lands.

Follows kohya-ss/sd-scripts at 48d368fa: ``library/model_util.py::make_bucket_resolutions``,
``library/train_util.py::BucketManager.select_bucket`` and
``BaseDataset.adjust_min_max_bucket_reso_by_steps`` / ``make_buckets``. Floating-point steps
are the same as there (numpy's ``argmin`` takes the first minimum, as ``min`` does here).
"""

from __future__ import annotations

import math

from lora_studio.core.errors import InvalidInput
from lora_studio.services.datasets.models import BucketSettings

Reso = tuple[int, int]


def make_bucket_resolutions(
    max_reso: Reso, min_size: int = 256, max_size: int = 1024, divisible: int = 64
) -> list[Reso]:
    max_width, max_height = max_reso
    max_area = max_width * max_height
    resos: set[Reso] = set()
    width = int(math.sqrt(max_area) // divisible) * divisible
    resos.add((width, width))
    width = min_size
    while width <= max_size:
        height = min(max_size, int((max_area // width) // divisible) * divisible)
        if height >= min_size:
            resos.add((width, height))
            resos.add((height, width))
        width += divisible
    return sorted(resos)


def adjusted_settings(settings: BucketSettings) -> BucketSettings:
    """Round min/max bucket sizes to the step and check them as sd-scripts does (it asserts)."""
    width, height = settings.resolution
    if width <= 0 or height <= 0:
        raise InvalidInput(f"Resolution must be positive, not {settings.resolution}.")
    if not settings.enable_bucket:
        return settings
    steps = settings.bucket_reso_steps
    if steps <= 0:
        raise InvalidInput("bucket_reso_steps must be positive.")
    low = settings.min_bucket_reso - settings.min_bucket_reso % steps
    high = settings.max_bucket_reso
    if high % steps:
        high = high + steps - high % steps
    if min(width, height) < low:
        raise InvalidInput(
            f"min_bucket_reso ({low}) must not exceed the resolution {width}x{height}.",
            hint="sd-scripts stops with an assertion; lower min_bucket_reso.",
        )
    if max(width, height) > high:
        raise InvalidInput(
            f"max_bucket_reso ({high}) must be at least the resolution {width}x{height}.",
            hint="sd-scripts stops with an assertion; raise max_bucket_reso.",
        )
    return BucketSettings(settings.resolution, True, low, high, steps, settings.bucket_no_upscale)


class BucketAssigner:
    """``BucketManager`` for one dataset: ``select(width, height)`` → (bucket, ar_error)."""

    def __init__(self, settings: BucketSettings) -> None:
        self.settings = adjusted_settings(settings)
        width, height = self.settings.resolution
        self.max_area = width * height
        self.steps = self.settings.bucket_reso_steps
        self.no_upscale = self.settings.enable_bucket and self.settings.bucket_no_upscale
        if not self.settings.enable_bucket:
            self.predefined = [(width, height)]
        elif not self.no_upscale:
            s = self.settings
            self.predefined = make_bucket_resolutions(
                s.resolution, s.min_bucket_reso, s.max_bucket_reso, self.steps
            )
        else:
            self.predefined = []
        self.predefined_set = set(self.predefined)
        self.ratios = [w / h for w, h in self.predefined]

    def select(self, image_width: int, image_height: int) -> tuple[Reso, float] | None:
        """The bucket and its aspect-ratio error; None where sd-scripts would get an empty bucket."""
        aspect_ratio = image_width / image_height
        if not self.no_upscale:
            reso = (image_width, image_height)
            if reso not in self.predefined_set:
                errors = [abs(ratio - aspect_ratio) for ratio in self.ratios]
                reso = self.predefined[errors.index(min(errors))]
        else:
            try:
                reso = self._no_upscale_bucket(image_width, image_height, aspect_ratio)
            except ZeroDivisionError:
                return None
        if reso[0] <= 0 or reso[1] <= 0:
            return None
        return reso, reso[0] / reso[1] - aspect_ratio

    def _round(self, value: float) -> int:
        rounded = int(value + 0.5)
        return rounded - rounded % self.steps

    def _no_upscale_bucket(self, image_width: int, image_height: int, aspect_ratio: float) -> Reso:
        if image_width * image_height > self.max_area:
            resized_width = math.sqrt(self.max_area * aspect_ratio)
            resized_height = self.max_area / resized_width
            b_width_rounded = self._round(resized_width)
            b_height_in_wr = self._round(b_width_rounded / aspect_ratio)
            ar_width_rounded = b_width_rounded / b_height_in_wr
            b_height_rounded = self._round(resized_height)
            b_width_in_hr = self._round(b_height_rounded * aspect_ratio)
            ar_height_rounded = b_width_in_hr / b_height_rounded
            if abs(ar_width_rounded - aspect_ratio) < abs(ar_height_rounded - aspect_ratio):
                resized = (b_width_rounded, int(b_width_rounded / aspect_ratio + 0.5))
            else:
                resized = (int(b_height_rounded * aspect_ratio + 0.5), b_height_rounded)
        else:
            resized = (image_width, image_height)
        return resized[0] - resized[0] % self.steps, resized[1] - resized[1] % self.steps
