"""Captions: browse, edit, bulk-edit with undo, tag frequencies and suggestions.

The UI and the CLI use ``CaptionService(settings)`` with the operation models from ``bulk`` and
the filter and result types from ``models``.
"""

from lora_studio.services.captions.bulk import (
    AddTags,
    AddTrigger,
    BulkOperation,
    FindReplace,
    NormaliseSeparators,
    OperationBase,
    RemoveDuplicateTags,
    RemoveTags,
    ReplaceTag,
    UnderscoresToSpaces,
)
from lora_studio.services.captions.dataset_settings import CaptionSettings
from lora_studio.services.captions.models import (
    ALL,
    BulkPreview,
    BulkResult,
    CaptionFilter,
    CaptionItem,
    CaptionPage,
    CaptionState,
    CaptionStats,
    ConceptInfo,
    Example,
    ExtensionReport,
    FrequencyTable,
    Suggestion,
    SuggestionKind,
    TagCount,
    UndoResult,
    UndoSummary,
)
from lora_studio.services.captions.service import CaptionService

__all__ = [
    "ALL",
    "AddTags",
    "AddTrigger",
    "BulkOperation",
    "BulkPreview",
    "BulkResult",
    "CaptionFilter",
    "CaptionItem",
    "CaptionPage",
    "CaptionService",
    "CaptionSettings",
    "CaptionState",
    "CaptionStats",
    "ConceptInfo",
    "Example",
    "ExtensionReport",
    "FindReplace",
    "FrequencyTable",
    "NormaliseSeparators",
    "OperationBase",
    "RemoveDuplicateTags",
    "RemoveTags",
    "ReplaceTag",
    "Suggestion",
    "SuggestionKind",
    "TagCount",
    "UnderscoresToSpaces",
    "UndoResult",
    "UndoSummary",
]
