"""The one place where errors become messages in the browser."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import gradio as gr

from lora_studio.core.errors import LoraStudioError

log = logging.getLogger("lora_studio.ui")
F = TypeVar("F", bound=Callable[..., Any])
GENERIC = "Something went wrong on the server; the details are in the console log."


def to_gr_error(error: Exception) -> gr.Error:
    """Our errors show their message; anything else is logged with its traceback and shown generically."""
    if isinstance(error, gr.Error):
        return error
    if isinstance(error, LoraStudioError):
        return gr.Error(str(error), print_exception=False)
    log.exception("unexpected error in a UI handler", exc_info=error)
    return gr.Error(f"{GENERIC} ({type(error).__name__})", print_exception=False)


def ui_errors(fn: F) -> F:
    """Wrap a handler (plain or generator) so every error reaches the person as a readable gr.Error."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(*args, **kwargs)
            except GeneratorExit:
                raise
            except Exception as error:
                raise to_gr_error(error) from error

        return cast(F, generator)

    @functools.wraps(fn)
    def plain(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            raise to_gr_error(error) from error

    return cast(F, plain)
