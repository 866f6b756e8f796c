"""Small Playwright helpers the browser tests share (a page is Playwright's sync ``Page``)."""

from __future__ import annotations

from typing import Any

Page = Any  # playwright.sync_api.Page; kept loose so importing this module needs no Playwright


def wait_text(page: Page, selector: str, *needles: str, timeout: float = 30000) -> None:
    """Wait until the element at ``selector`` exists and its text contains every needle."""
    page.wait_for_function(
        "([selector, needles]) => { const e = document.querySelector(selector);"
        " return !!e && needles.every(n => e.innerText.includes(n)); }",
        arg=[selector, list(needles)],
        timeout=timeout,
    )


def text_of(page: Page, selector: str) -> str:
    return str(page.inner_text(selector))


def pick(page: Page, elem_id: str, option: str, *, exact: bool = False) -> None:
    """Choose ``option`` in the Gradio dropdown ``elem_id`` (by its label, or any text containing it)."""
    page.click(f"#{elem_id} input")
    if exact:
        page.click(f"[role=option][aria-label={option!r}]")
    else:
        page.click(f"[role=option]:has-text({option!r})")


def fill_kept(page: Page, selector: str, text: str, attempts: int = 5) -> None:
    """Fill a text box and make sure the box now on the page holds the text. Just after an accordion
    opens, Gradio can still swap its children: a fill can land in the box being replaced, and the new
    one shows the old value (seen on a loaded machine, about one run in five)."""
    box = page.locator(selector)
    for _ in range(attempts):
        box.fill(text)
        page.wait_for_timeout(100)  # a pending swap lands within a frame or two
        if box.input_value() == text:
            return
    raise AssertionError(f"{selector} did not keep the text {text!r} after {attempts} fills")


def set_number(page: Page, label: str, value: str) -> None:
    """Type into the number box labelled ``label`` and leave it, so Gradio sees the change."""
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab")


# Every toast the page shows, recorded as it appears ("<class>: message"), whatever disappears later.
_WATCH_TOASTS_JS = """() => { window.__toasts = []; setInterval(() => {
  for (const t of document.querySelectorAll('[data-testid=toast-body]')) {
    const line = t.className + ': ' + t.innerText.trim();
    if (!window.__toasts.includes(line)) window.__toasts.push(line);
  } }, 20); }"""


def watch_toasts(page: Page) -> None:
    """Start recording the page's toasts (again after each reload); read them with ``toasts``."""
    page.evaluate(_WATCH_TOASTS_JS)


def toasts(page: Page) -> list[str]:
    return list(page.evaluate("() => window.__toasts || []"))
