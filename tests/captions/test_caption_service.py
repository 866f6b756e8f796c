"""CaptionService on real files: browse, filter, edit, bulk, undo, reports, bad input."""

from __future__ import annotations

import json
import shutil

import pytest

from lora_studio.core.errors import (
    CaptionConflict,
    CaptionNotUtf8,
    ConceptNotFound,
    ConfigInvalid,
    DatasetNotFound,
    ImageNotFound,
    InvalidInput,
    InvalidName,
    NothingToUndo,
)
from lora_studio.services.captions import (
    AddTags,
    AddTrigger,
    CaptionFilter,
    CaptionState,
    FindReplace,
    RemoveTags,
    ReplaceTag,
    SuggestionKind,
)

LAYOUT = {
    "10_alice": {
        "001.png": "alice, long_hair, smile",
        "002.png": "alice, long hair, outdoors",
        "003.jpg": "alice, smile, hat",
        "004.png": None,
    },
    "5_bob": {"010.webp": "bob, smile", "011.png": ""},
}


@pytest.fixture
def dataset(make_dataset):
    return make_dataset("ds", LAYOUT)


def test_page_and_filters(service, dataset):
    page = service.page("ds", limit=2)
    assert page.total == 6 and [item.image for item in page.items] == ["10_alice/001.png", "10_alice/002.png"]
    assert page.items[0].tags == ("alice", "long_hair", "smile")

    def images(**fields):
        return [item.image for item in service.page("ds", selection=CaptionFilter(**fields), limit=100).items]

    assert images(has_tags="smile") == ["10_alice/001.png", "10_alice/003.jpg", "5_bob/010.webp"]
    assert images(has_tags="smile, alice", lacks_tags="hat") == ["10_alice/001.png"]
    assert images(no_caption=True) == ["10_alice/004.png", "5_bob/011.png"]
    assert images(text="LONG") == ["10_alice/001.png", "10_alice/002.png"]
    assert images(concept="5_bob") == ["5_bob/010.webp", "5_bob/011.png"]
    with pytest.raises(ConceptNotFound):
        service.page("ds", selection=CaptionFilter(concept="7_nobody"))


def test_concepts_and_missing_dataset(service, dataset):
    concepts = service.concepts("ds")
    assert [(c.folder, c.repeats, c.name, c.images, c.captioned) for c in concepts] == [
        ("10_alice", 10, "alice", 4, 3),
        ("5_bob", 5, "bob", 2, 1),
    ]
    with pytest.raises(DatasetNotFound):
        service.page("nope")
    with pytest.raises(InvalidName):
        service.page("../ds")


def test_save_caption_atomic_one_line_utf8(service, dataset):
    item = service.save_caption("ds", "10_alice/004.png", "ohwx,  été\nsmile ", expected_text="")
    assert item.state is CaptionState.OK and item.text == "ohwx,  été, smile"
    assert (dataset / "10_alice/004.txt").read_bytes() == "ohwx,  été, smile\n".encode()
    assert not [p for p in (dataset / "10_alice").iterdir() if p.name.endswith(".tmp")]


def test_save_caption_detects_concurrent_change(service, dataset):
    (dataset / "10_alice/001.txt").write_text("edited elsewhere")
    with pytest.raises(CaptionConflict):
        service.save_caption("ds", "10_alice/001.png", "mine", expected_text="alice, long_hair, smile")
    assert (dataset / "10_alice/001.txt").read_text() == "edited elsewhere"


def test_save_refuses_empty_and_hostile_paths(service, dataset):
    with pytest.raises(InvalidInput, match="empty caption"):
        service.save_caption("ds", "10_alice/001.png", "  \n ")
    with pytest.raises(InvalidName):
        service.save_caption("ds", "10_alice/../../x.png", "a")
    with pytest.raises(InvalidInput):
        service.save_caption("ds", "10_alice/001.txt", "a")


def test_caption_for_deleted_image_is_reported_and_untouched(service, dataset):
    (dataset / "10_alice/001.png").unlink()
    with pytest.raises(ImageNotFound, match="deleted"):
        service.save_caption("ds", "10_alice/001.png", "new text")
    assert (dataset / "10_alice/001.txt").read_text() == "alice, long_hair, smile"
    stats = service.stats("ds")
    assert stats.orphans == ("10_alice/001.txt",)
    assert any("no image" in message for message in stats.messages)
    service.apply("ds", AddTags(tags="x"))  # bulk operations leave orphans alone
    assert (dataset / "10_alice/001.txt").read_text() == "alice, long_hair, smile"


def test_non_utf8_caption_is_never_overwritten_without_say_so(service, dataset):
    latin1 = "café, smile".encode("latin-1")
    (dataset / "10_alice/003.txt").write_bytes(latin1)
    item = service.get_caption("ds", "10_alice/003.jpg")
    assert item.state is CaptionState.NOT_UTF8 and "UTF-8" in (item.message or "")
    with pytest.raises(CaptionNotUtf8):
        service.save_caption("ds", "10_alice/003.jpg", "cafe")
    with pytest.raises(CaptionNotUtf8, match="nothing was changed"):
        service.apply("ds", AddTags(tags="x"))
    assert (dataset / "10_alice/003.txt").read_bytes() == latin1
    assert (dataset / "10_alice/001.txt").read_text() == "alice, long_hair, smile"  # nothing changed

    result = service.apply("ds", AddTags(tags="x"), skip_non_utf8=True)
    assert result.skipped_not_utf8 == ("10_alice/003.txt",)
    assert (dataset / "10_alice/003.txt").read_bytes() == latin1
    service.save_caption("ds", "10_alice/003.jpg", "cafe", overwrite_non_utf8=True)
    assert (dataset / "10_alice/003.txt").read_text() == "cafe\n"


def test_invalid_regex_changes_nothing(service, dataset):
    before = {p: p.read_bytes() for p in dataset.rglob("*.txt")}
    with pytest.raises(InvalidInput, match="regular expression"):
        service.apply("ds", FindReplace(find="(unclosed", regex=True))
    with pytest.raises(InvalidInput):
        service.preview("ds", FindReplace(find="(unclosed", regex=True))
    assert {p: p.read_bytes() for p in dataset.rglob("*.txt")} == before
    assert service.history("ds") == ()


def test_preview_counts_and_examples_without_writing(service, dataset):
    preview = service.preview("ds", ReplaceTag(old="smile", new="grin"), examples=2)
    assert (preview.matched, preview.changed) == (6, 3)
    assert preview.examples[0].before == "alice, long_hair, smile"
    assert preview.examples[0].after == "alice, long_hair, grin"
    assert len(preview.examples) == 2
    assert (dataset / "10_alice/001.txt").read_text() == "alice, long_hair, smile"


def test_bulk_over_filter_then_undo_restores_exact_bytes(service, dataset):
    (dataset / "10_alice/002.txt").write_bytes(b"\xef\xbb\xbfalice, long hair, outdoors\r\n")
    originals = {p.name: p.read_bytes() for p in dataset.rglob("*.txt")}
    result = service.apply("ds", AddTrigger(word="ohwx"), selection=CaptionFilter(concept="10_alice"))
    assert result.changed == 4 and result.undo_id
    assert (dataset / "10_alice/004.txt").read_text() == "ohwx\n"  # created for the uncaptioned image
    assert (dataset / "5_bob/010.txt").read_text() == "bob, smile"
    assert service.history("ds")[0].status == "applied"

    undone = service.undo_last("ds")
    assert undone.restored == 4
    assert {p.name: p.read_bytes() for p in dataset.rglob("*.txt")} == originals
    assert not (dataset / "10_alice/004.txt").exists()
    assert service.history("ds")[0].status == "undone"
    with pytest.raises(NothingToUndo):
        service.undo_last("ds")


def test_undo_refuses_to_clobber_later_edits_unless_forced(service, dataset):
    service.apply("ds", RemoveTags(tags="smile"))
    (dataset / "10_alice/001.txt").write_text("edited by hand")
    with pytest.raises(CaptionConflict, match="were edited"):
        service.undo_last("ds")
    assert (dataset / "10_alice/003.txt").read_text() == "alice, hat\n"  # nothing undone
    result = service.undo_last("ds", force=True)
    assert result.conflicts == ("10_alice/001.txt",)
    assert (dataset / "10_alice/001.txt").read_text() == "alice, long_hair, smile"


def test_removing_every_tag_never_writes_an_empty_caption(service, dataset):
    result = service.apply("ds", RemoveTags(tags="bob, smile"), selection=CaptionFilter(concept="5_bob"))
    assert result.changed == 0 and result.skipped_empty == ("5_bob/010.txt",)
    assert (dataset / "5_bob/010.txt").read_text() == "bob, smile"


def test_frequencies_and_suggestions(service, dataset):
    table = service.frequencies("ds")
    counts = {row.tag: (row.count, row.share) for row in table.rows}
    assert counts["smile"] == (3, 0.5) and counts["alice"] == (3, 0.5)
    assert table.images == 6 and table.captioned == 4
    assert [
        row.tag for row in service.frequencies("ds", search="HAIR", sort_by="tag", descending=False).rows
    ] == [
        "long hair",
        "long_hair",
    ]
    alice_only = service.frequencies("ds", selection=CaptionFilter(has_tags="alice"))
    assert {row.tag: row.share for row in alice_only.rows}["alice"] == 1.0

    found = service.suggestions("ds", selection=CaptionFilter(concept="10_alice"), common_share=0.7)
    kinds = {(s.kind, s.tags) for s in found}
    assert (SuggestionKind.COMMON_TAG, ("alice",)) in kinds
    assert (SuggestionKind.NEAR_DUPLICATE, ("long hair", "long_hair")) in kinds
    assert not any(s.kind is SuggestionKind.CHARACTER_IN_STYLE for s in found)
    service.update_settings("ds", style_set=True)
    found = service.suggestions("ds", character_tags={"Alice", "bob", "carol_(series)"})
    assert {s.tags for s in found if s.kind is SuggestionKind.CHARACTER_IN_STYLE} == {("alice",), ("bob",)}


def test_caption_extension_setting_and_report(service, make_dataset, settings):
    root = make_dataset("cap", {"1_x": {"a.png": "a, b", "b.png": "c"}}, extension=".caption")
    report = service.extension_report("cap")
    assert report.caption_files == 2 and ".caption" in (report.message or "")
    assert service.page("cap").items[0].state is CaptionState.MISSING
    service.update_settings("cap", caption_extension=".caption")
    assert service.extension_report("cap").message is None
    assert service.page("cap").items[0].text == "a, b"
    saved = json.loads((root / ".lora_studio/captions.json").read_text())
    assert saved["schema_version"] == 1 and saved["caption_extension"] == ".caption"
    (root / "1_x/c.png").write_bytes(b"x")
    (root / "1_x/c.txt").write_text("mixed")
    assert "mixes" in (service.extension_report("cap").message or "")
    (root / ".lora_studio/captions.json").write_text('{"caption_extension": ".jpg"}')
    with pytest.raises(ConfigInvalid):
        service.settings_for("cap")


def test_cache_serves_unchanged_files_and_rereads_changed_ones(service, dataset, monkeypatch):
    service.frequencies("ds")
    (dataset / "5_bob/010.txt").write_text("bob, frown, extra")
    reads = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        reads.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    table = service.frequencies("ds")
    assert reads == [str(dataset / "5_bob/010.txt")]
    assert {row.tag for row in table.rows} >= {"frown", "extra"}


def test_undo_after_a_concept_folder_was_removed(service, dataset):
    service.apply("ds", AddTags(tags="x"))
    shutil.rmtree(dataset / "5_bob")
    with pytest.raises(CaptionConflict, match="folder removed"):
        service.undo_last("ds")
    result = service.undo_last("ds", force=True)
    assert set(result.conflicts) == {"5_bob/010.txt", "5_bob/011.txt"}
    assert result.restored == 4 and not (dataset / "5_bob").exists()
    assert (dataset / "10_alice/001.txt").read_text() == "alice, long_hair, smile"


def test_update_settings_rejects_unknown_extension(service, dataset):
    with pytest.raises(InvalidInput, match="Invalid caption settings"):
        service.update_settings("ds", caption_extension=".md")  # type: ignore[arg-type]
