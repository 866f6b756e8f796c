"""configs/taggers.toml loads, and the registry refuses broken data."""

from __future__ import annotations

import pytest

from lora_studio.config.taggers import TaggerVersion, load_taggers
from lora_studio.core.errors import ConfigInvalid


def test_registry_has_every_v2_and_v3_tagger():
    registry = load_taggers()
    by_version = {v: {e.architecture for e in registry.taggers if e.version is v} for v in TaggerVersion}
    assert by_version[TaggerVersion.V3] == {"vit", "convnext", "swinv2", "vit-large", "eva02-large"}
    assert by_version[TaggerVersion.V2] == {"vit", "convnext", "convnextv2", "swinv2", "moat"}
    assert all(e.repo_id.startswith("SmilingWolf/") for e in registry.taggers)
    assert registry.get("wd-vit-tagger-v3").batch == "dynamic"
    assert registry.by_repo("smilingwolf/wd-v1-4-moat-tagger-v2").batch == "fixed"


def test_broken_registry_is_refused(tmp_path):
    path = tmp_path / "taggers.toml"
    path.write_text('schema_version = 1\ndefault = "x"\n[[taggers]]\nid = "y"\n', encoding="utf-8")
    with pytest.raises(ConfigInvalid) as caught:
        load_taggers(path)
    assert any("repo_id" in problem for problem in caught.value.problems)
    path.write_text("not toml [", encoding="utf-8")
    with pytest.raises(ConfigInvalid):
        load_taggers(path)
