"""The whole run in-process with the real onnxruntime: exact captions for every option and mode."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from lora_studio.config.tagging import TaggingOptions
from lora_studio.workers.wd14.run import EXIT_FAILED, EXIT_OK, run_tagging
from lora_studio.workers.wd14.summary import SUMMARY_PREFIX
from tests.tagging.conftest import DEFAULT_CAPTIONS, RED, read_captions


def tag(settings, dataset, model, **options):
    # On the CPU even where a GPU is present: these tests are about captions (CUDA: test_cuda_provider).
    opts = TaggingOptions(model=str(model), workers=0, **{"device": "cpu", **options})
    return run_tagging(dataset, settings.models_dir, opts)


def summary(capsys):
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(SUMMARY_PREFIX))
    return json.loads(line[len(SUMMARY_PREFIX) :])


@pytest.mark.parametrize("model_fixture", ["tiny_model", "fixed_model"])
@pytest.mark.parametrize("batch_size", [None, 2, 3])
def test_default_captions_with_dynamic_and_fixed_batch(
    request, settings, make_dataset, capsys, model_fixture, batch_size
):
    dataset = make_dataset()
    model = request.getfixturevalue(model_fixture)
    assert tag(settings, dataset, model, batch_size=batch_size) == EXIT_OK
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS
    result = summary(capsys)
    assert result["tagged"] == 5 and result["skipped"] == [] and result["provider"] == "CPUExecutionProvider"
    assert result["top_tags"][0] == [">_<", 5]


def test_options_reach_the_caption_file(settings, make_dataset, tiny_model):
    dataset = make_dataset()
    code = tag(
        settings,
        dataset,
        tiny_model,
        rating=True,
        character_first=True,
        trigger_words=("mychar",),
        blacklist=("white_background",),
        separator=" | ",
        caption_extension=".caption",
    )
    assert code == EXIT_OK
    captions = read_captions(dataset / "10_a", ".caption")
    assert captions["red"] == "mychar | sensitive | red hero (series) | red theme | >_<"
    assert captions["white"] == "mychar | general | >_<"
    assert captions["yellow"] == "mychar | general | ^_^ | >_<"
    assert not list((dataset / "10_a").glob("*.txt"))


def test_existing_captions_skip_merge_overwrite(settings, make_dataset, tiny_model, capsys):
    dataset = make_dataset()
    folder = dataset / "10_a"
    (folder / "red.txt").write_text("mychar, red_theme, hand made\n", encoding="utf-8")
    assert tag(settings, dataset, tiny_model) == EXIT_OK  # default: skip
    assert read_captions(folder)["red"] == "mychar, red_theme, hand made"
    skipped = summary(capsys)["skipped"]
    assert skipped == [{"image": "10_a/red.png", "reason": skipped[0]["reason"]}]
    assert "caption exists" in skipped[0]["reason"]

    assert tag(settings, dataset, tiny_model, existing="merge", trigger_words=("trig",)) == EXIT_OK
    assert read_captions(folder)["red"] == "trig, mychar, red_theme, hand made, >_<, red hero (series)"
    assert summary(capsys)["merged"] == 5

    assert tag(settings, dataset, tiny_model, existing="overwrite") == EXIT_OK
    assert read_captions(folder) == DEFAULT_CAPTIONS


def test_merge_keeps_a_caption_that_is_not_utf8(settings, make_dataset, tiny_model, capsys):
    dataset = make_dataset()
    (dataset / "10_a" / "red.txt").write_bytes(b"\xff\xfe caf\xe9")
    assert tag(settings, dataset, tiny_model, existing="merge") == EXIT_OK
    assert (dataset / "10_a" / "red.txt").read_bytes() == b"\xff\xfe caf\xe9"
    assert "not UTF-8" in summary(capsys)["skipped"][0]["reason"]


def test_transparent_and_non_square_images(settings, make_dataset, tiny_model):
    dataset = make_dataset(
        concepts={
            "1_x": {
                "clear.png": Image.new("RGBA", (50, 50), (255, 0, 0, 0)),  # transparent red → white
                "wide.png": Image.new("RGB", (200, 100), RED),  # padded: mean colour no longer red
                "tall.jpg": Image.new("RGB", (30, 90), (0, 0, 0)),  # padded: not dark any more
                "square.png": Image.new("RGB", (100, 100), RED),
                "tiny.png": Image.new("RGB", (3, 3), RED),  # upscaled
            }
        }
    )
    assert tag(settings, dataset, tiny_model) == EXIT_OK
    assert read_captions(dataset / "1_x") == {
        "clear": "white background, >_<",
        "square": DEFAULT_CAPTIONS["red"],
        "tall": ">_<",
        "tiny": DEFAULT_CAPTIONS["red"],
        "wide": ">_<",
    }


def test_bad_images_are_skipped_with_reason(settings, make_dataset, tiny_model, capsys):
    good = Image.new("RGB", (40, 40), RED)
    truncated = good.copy()
    dataset = make_dataset(concepts={"1_x": {"a.png": good, "b.png": b"not an image", "c.jpg": truncated}})
    jpeg = (dataset / "1_x" / "c.jpg").read_bytes()
    (dataset / "1_x" / "c.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    assert tag(settings, dataset, tiny_model) == EXIT_OK
    result = summary(capsys)
    assert result["tagged"] == 1
    reasons = {item["image"]: item["reason"] for item in result["skipped"]}
    assert set(reasons) == {"1_x/b.png", "1_x/c.jpg"}
    assert "cannot identify image file 'b.png'" in reasons["1_x/b.png"]
    assert "truncated" in reasons["1_x/c.jpg"].lower()
    assert read_captions(dataset / "1_x") == {"a": DEFAULT_CAPTIONS["red"]}


def test_run_fails_when_every_image_fails(settings, make_dataset, tiny_model):
    dataset = make_dataset(concepts={"1_x": {"a.png": b"junk", "b.webp": b"junk"}})
    assert tag(settings, dataset, tiny_model) == EXIT_FAILED
    assert not list((dataset / "1_x").glob("*.txt"))


def test_concepts_filter_and_shared_caption_names(settings, make_dataset, tiny_model, capsys):
    red = Image.new("RGB", (20, 20), RED)
    dataset = make_dataset(concepts={"1_a": {"x.png": red, "x.jpg": red}, "2_b": {"y.png": red}})
    assert tag(settings, dataset, tiny_model, concepts=("a",)) == EXIT_OK
    assert read_captions(dataset / "1_a") == {"x": DEFAULT_CAPTIONS["red"]}
    assert read_captions(dataset / "2_b") == {}
    assert "already writes x.txt" in summary(capsys)["skipped"][0]["reason"]
