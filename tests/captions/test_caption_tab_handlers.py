"""The Captions tab's handlers without a browser: edits are saved before the editor moves on, bad
input gives a clear message and changes nothing, bulk forms become operations, thumbnails."""

from __future__ import annotations

import warnings
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from lora_studio.core.errors import CaptionConflict, InvalidInput, InvalidName
from lora_studio.services.captions import (
    AddTags,
    AddTrigger,
    CaptionFilter,
    CaptionState,
    FindReplace,
    ReplaceTag,
)
from lora_studio.ui.tabs import captions_bulk as bulk
from lora_studio.ui.tabs.captions_browse import EDITOR_OUTPUTS, Cursor, Loaded, load_view, move
from lora_studio.ui.tabs.captions_handlers import CaptionHandlers

LAYOUT = {
    "10_alice": {"001.png": "alice, smile", "002.png": None, "003.png": None, "004.png": "alice, hat"},
    "5_bob": {"010.png": b"bob, caf\xe9"},  # Latin-1: not UTF-8
}


@pytest.fixture
def dataset(make_dataset) -> Path:  # type: ignore[no-untyped-def]
    return make_dataset("ds", LAYOUT)


@pytest.fixture
def handlers(services) -> CaptionHandlers:  # type: ignore[no-untyped-def]
    return CaptionHandlers(services)


def loaded_at(services, cursor: Cursor) -> Loaded:  # type: ignore[no-untyped-def]
    item = load_view(services, cursor).current
    assert item is not None
    return Loaded(cursor.dataset, item.image, item.text, item.state)


def test_editor_outputs_shape_and_first_image(handlers, dataset) -> None:  # type: ignore[no-untyped-def]
    outputs = handlers.open_dataset("ds", None, None, "", False)
    editor, controls = outputs[:EDITOR_OUTPUTS], outputs[EDITOR_OUTPUTS:]
    assert "10_alice/001.png" in editor[1] and "image 1 of 5" in editor[1]
    assert editor[3] == "alice, smile"
    assert Loaded.of(editor[4]) == Loaded("ds", "10_alice/001.png", "alice, smile", CaptionState.OK)
    assert editor[5] == Cursor("ds")
    assert controls[5:] == (".txt", False)


def test_switching_dataset_never_saves(handlers, make_dataset, dataset) -> None:  # type: ignore[no-untyped-def]
    make_dataset("other", {"1_x": {"a.png": "x, y"}})
    first = handlers.open_dataset("ds", None, None, "", False)
    loaded, cursor = first[4], first[5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # unmodified: not even a warning
        handlers.open_dataset("other", cursor, loaded, "alice, smile", False)
    # The person emptied the box and switched: nothing is saved (an empty caption would be
    # refused with an error); the edit left behind is named in a warning.
    with pytest.warns(UserWarning, match="001.png"):
        outputs = handlers.open_dataset("other", cursor, loaded, "", False)
    assert outputs[5] == Cursor("other") and outputs[3] == "x, y"
    assert (dataset / "10_alice/001.txt").read_text(encoding="utf-8") == "alice, smile"


def test_an_edit_is_saved_to_the_image_it_was_loaded_for(services, dataset) -> None:  # type: ignore[no-untyped-def]
    # A second click sent before the first one's result arrived: the cursor (server side) has
    # moved on, the page still sends image 1 with its text. The edit goes to image 1.
    first = loaded_at(services, Cursor("ds"))
    view = move(services, Cursor("ds", position=3), first.to_json(), "alice, smile, scarf", False, 3)
    assert (dataset / "10_alice/001.txt").read_text(encoding="utf-8") == "alice, smile, scarf\n"
    assert (dataset / "10_alice/004.txt").read_text(encoding="utf-8") == "alice, hat"
    assert view.current is not None and view.current.image == "10_alice/004.png"


def test_moving_on_saves_a_modified_edit_first(services, dataset) -> None:  # type: ignore[no-untyped-def]
    cursor = Cursor("ds")
    view = move(services, cursor, loaded_at(services, cursor), "alice, smile, scarf", False, 1)
    assert (dataset / "10_alice/001.txt").read_text(encoding="utf-8") == "alice, smile, scarf\n"
    assert view.current is not None and view.current.image == "10_alice/002.png"
    # Unmodified: nothing is written.
    before = (dataset / "10_alice/004.txt").stat().st_mtime_ns
    at_four = Cursor("ds", position=3)
    move(services, at_four, loaded_at(services, at_four), "alice, hat", False, 4)
    assert (dataset / "10_alice/004.txt").stat().st_mtime_ns == before


def test_saving_an_image_out_of_the_filter_does_not_skip_the_next(services, dataset) -> None:  # type: ignore[no-untyped-def]
    cursor = Cursor("ds", selection=CaptionFilter(no_caption=True))
    loaded = loaded_at(services, cursor)
    assert loaded.image == "10_alice/002.png"
    view = move(services, cursor, loaded, "alice, tree", False, 1)
    assert view.current is not None and view.current.image == "10_alice/003.png"


def test_a_conflict_keeps_the_edit_and_the_file(services, dataset) -> None:  # type: ignore[no-untyped-def]
    cursor = Cursor("ds")
    loaded = loaded_at(services, cursor)
    (dataset / "10_alice/001.txt").write_text("changed elsewhere\n", encoding="utf-8")
    with pytest.raises(CaptionConflict):
        move(services, cursor, loaded, "my edit", False, 1)
    assert (dataset / "10_alice/001.txt").read_text(encoding="utf-8") == "changed elsewhere\n"


def test_non_utf8_caption_needs_say_so(handlers, services, dataset) -> None:  # type: ignore[no-untyped-def]
    cursor = Cursor("ds", selection=CaptionFilter(concept="5_bob"))
    loaded = loaded_at(services, cursor)
    with pytest.raises(gr.Error, match="not valid UTF-8"):
        handlers.save(cursor, loaded, "bob, cafe", False)
    assert (dataset / "5_bob/010.txt").read_bytes() == b"bob, caf\xe9"
    outputs = handlers.save(cursor, loaded, "bob, cafe", True)
    assert (dataset / "5_bob/010.txt").read_text(encoding="utf-8") == "bob, cafe\n"
    assert outputs[3] == "bob, cafe"


def test_deleted_image_is_refused_and_nothing_written(handlers, services, dataset) -> None:  # type: ignore[no-untyped-def]
    cursor = Cursor("ds", position=1)
    loaded = loaded_at(services, cursor)
    (dataset / "10_alice/002.png").unlink()
    with pytest.raises(gr.Error, match=r"002\.png"):
        handlers.save(cursor, loaded, "ghost", False)
    assert not (dataset / "10_alice/002.txt").exists()


def test_invalid_regex_preview_and_apply_change_nothing(handlers, dataset) -> None:  # type: ignore[no-untyped-def]
    form = ("find_replace", "([a-z", "x", "start", True, False, "dataset")
    with pytest.raises(gr.Error, match="not a valid regular expression"):
        handlers.preview(Cursor("ds"), *form)
    with pytest.raises(gr.Error, match="not a valid regular expression"):
        handlers.apply(Cursor("ds"), None, "", False, False, *form)
    assert (dataset / "10_alice/001.txt").read_text(encoding="utf-8") == "alice, smile"


def test_apply_counts_and_undo_after_confirm(handlers, dataset) -> None:  # type: ignore[no-untyped-def]
    form = ("add_trigger", "ohwx", "", "start", False, False, "concept")
    cursor = Cursor("ds", selection=CaptionFilter(concept="10_alice"))
    text, rows = handlers.preview(cursor, *form)
    assert "would change **4** of 4" in text and rows[0][1:] == ["alice, smile", "ohwx, alice, smile"]
    outcome = handlers.apply(cursor, None, "", False, False, *form)
    assert "changed **4** of 4" in outcome[0] and outcome[2 + 3] == "ohwx, alice, smile"
    # Cancelled in the browser: the dataset arrives as None and nothing happens.
    assert all(value == gr.skip() for value in handlers.undo(None, cursor, None, "", False, False))
    assert (dataset / "10_alice/001.txt").read_text(encoding="utf-8") == "ohwx, alice, smile\n"
    undone = handlers.undo("ds", cursor, None, "", False, False)
    assert "restored **4**" in undone[0]
    assert (dataset / "10_alice/001.txt").read_text(encoding="utf-8") == "alice, smile"
    stats, _, freq_rows, _, history = handlers.panels(cursor, "", "count")
    assert "4** images" in stats and history[0][-1] == "undone"
    assert ["alice", 2, 50.0] in freq_rows


def test_apply_reports_progress_to_gradio(handlers, dataset) -> None:  # type: ignore[no-untyped-def]
    reported: list[tuple[float, str]] = []

    class Progress:  # gr.Progress's call signature
        def __call__(self, fraction: float, desc: str | None = None) -> None:
            reported.append((fraction, desc or ""))

    form = ("add_tags", "new", "", "end", False, False, "dataset")
    handlers.apply(Cursor("ds"), None, "", False, True, *form, Progress())
    assert reported and reported[-1] == (1.0, "4/4 captions")  # the non-UTF-8 one skipped


def test_forms_become_operations() -> None:
    assert bulk.build_operation("add_trigger", "ohwx", "", "end", False, False) == AddTrigger(
        word="ohwx", position="end"
    )
    assert bulk.build_operation("add_tags", "a, b", "", "start", False, False) == AddTags(
        tags=("a", "b"), position="start"
    )
    assert bulk.build_operation("replace_tag", "a", "b", "start", False, False) == ReplaceTag(
        old="a", new="b"
    )
    assert bulk.build_operation("find_replace", "x", "y", "start", True, True) == FindReplace(
        find="x", replace="y", regex=True, ignore_case=True
    )
    for kind in bulk.OPERATIONS:
        assert len(bulk.form_updates(kind)) == 5
    with pytest.raises(InvalidInput):
        bulk.build_operation("rm -rf", "", "", "start", False, False)
    with pytest.raises(InvalidInput, match="concept"):
        bulk.scope_filter("concept", Cursor("ds"))


def test_thumbnails_and_placeholder(services, dataset) -> None:  # type: ignore[no-untyped-def]
    Image.new("RGB", (600, 400), (10, 200, 30)).save(dataset / "10_alice/001.png")
    thumbs = services.captions.thumbnails("ds", ["10_alice/001.png", "10_alice/002.png", "10_alice/gone.png"])
    root = services.settings.cache_dir / "thumbs"
    assert all(thumb.is_relative_to(root) and thumb.is_file() for thumb in thumbs)
    with Image.open(thumbs[0]) as made:
        assert max(made.size) <= 256 and made.size[0] > made.size[1]
    assert thumbs[1] == thumbs[2] != thumbs[0]  # unreadable and vanished images: the placeholder
    with pytest.raises(InvalidName):
        services.captions.thumbnails("ds", ["../../etc/passwd"])


def test_style_set_suggests_removing_character_tags(handlers, services, make_dataset) -> None:  # type: ignore[no-untyped-def]
    make_dataset(
        "style", {"1_art": {"a.png": "hatsune miku, 1girl", "b.png": "1girl, tree", "c.png": "tree"}}
    )
    cursor = Cursor("style")
    assert "character" not in handlers.panels(cursor, "", "count")[3]  # no tagger downloaded: no such check
    labels = services.settings.models_dir / "taggers" / "wd-test" / "selected_tags.csv"
    labels.parent.mkdir(parents=True)
    labels.write_text(
        "tag_id,name,category,count\n1,general,9,1\n2,1girl,0,9\n3,hatsune_miku_(vocaloid),4,5\n"
        "4,hatsune_miku,4,5\n",
        encoding="utf-8",
    )
    assert services.captions.known_character_tags() == {"hatsune_miku_(vocaloid)", "hatsune_miku"}
    assert "character" not in handlers.panels(cursor, "", "count")[3]  # not a style set yet
    handlers.change_settings(".txt", True, cursor, None, "", False)
    suggestions = handlers.panels(cursor, "", "count")[3]
    assert "Character tags in a style set" in suggestions and "'hatsune miku'" in suggestions
