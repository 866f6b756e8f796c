"""SIGKILL a child process in the middle of a bulk operation: no torn caption, undo restores all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lora_studio.core.settings import Settings
from lora_studio.services.captions import CaptionService

ROOT = Path(__file__).resolve().parents[2]
CAPTIONS = 3000
KILL_AFTER = 600  # captions written before the kill is sent

# The child slows each write a little (still the real spare write + exchange) so the kill surely
# lands while captions are being replaced, not before or after.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from lora_studio.core.settings import Settings
    from lora_studio.services.captions import AddTags, CaptionService, writer

    real_write = writer.CaptionWriter.write

    def slow_write(self, path, data):
        written = real_write(self, path, data)
        time.sleep(0.0005)
        return written

    writer.CaptionWriter.write = slow_write

    def progress(fraction, message):
        print("progress", message.split("/")[0], flush=True)

    service = CaptionService(Settings(workspace=Path(sys.argv[1])))
    service.apply("big", AddTags(tags="added tag, ohwx", position="start"), on_progress=progress)
    print("finished", flush=True)
    """
)


def _old_text(index: int) -> str:
    return f"person, tag_{index % 97}, smile, détail {index}\n"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_kill_mid_bulk_leaves_old_or_new_and_undo_restores(settings: Settings):
    folder = settings.datasets_dir / "big" / "1_person"
    folder.mkdir(parents=True)
    for index in range(CAPTIONS):
        (folder / f"{index:05d}.png").write_bytes(b"png")
        (folder / f"{index:05d}.txt").write_text(_old_text(index), encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(settings.workspace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if line.startswith("progress") and int(line.split()[1]) >= KILL_AFTER:
                child.send_signal(signal.SIGKILL)
                break
            assert not line.startswith("finished"), "the child finished before it could be killed"
        else:
            pytest.fail(f"the child ended early: {child.stderr.read() if child.stderr else ''}")
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    old = new = 0
    for index in range(CAPTIONS):
        text = (folder / f"{index:05d}.txt").read_text(encoding="utf-8")
        before = _old_text(index)
        if text == before:
            old += 1
        else:
            assert text == "added tag, ohwx, " + before.strip() + "\n", f"torn caption {index}: {text!r}"
            new += 1
    assert new >= KILL_AFTER and old > 0, (old, new)

    service = CaptionService(settings)  # a fresh process's view: the record says "pending"
    history = service.history("big")
    assert history[0].status == "pending" and history[0].captions == CAPTIONS

    result = service.undo_last("big")
    assert result.restored == CAPTIONS and result.conflicts == ()
    for index in range(CAPTIONS):
        assert (folder / f"{index:05d}.txt").read_text(encoding="utf-8") == _old_text(index)
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]
    assert service.history("big")[0].status == "undone"
