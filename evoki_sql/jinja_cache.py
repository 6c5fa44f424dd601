"""The on-disk cache of compiled Jinja templates (models, tests, macro files) under the
project's target directory, so a build does not parse and compile every template again.

Jinja keys an entry by template name and checks it against a hash of the template's source,
so a changed file is compiled again. The directory name adds what else shapes the compiled
code: the Jinja and Python versions and the source of evoki_sql's Jinja environment (its
extensions). New entries are written when the session writes the manifest, so a command
that fails on a broken project or profile creates nothing under target/. The cache only ever
saves time: an entry that cannot be written (read-only project, full disk) is skipped, and
an unreadable one is compiled again.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tempfile
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache


def cache_directory(target_path: Path) -> Path:
    """target/jinja_bytecode/<hash of the Jinja and Python versions and the environment code>."""
    environment_code = (Path(__file__).parent / "jinja_env.py").read_bytes()
    key = hashlib.sha256(
        f"{jinja2.__version__}|{sys.version}|".encode() + environment_code
    ).hexdigest()[:16]
    return target_path / "jinja_bytecode" / key


class TemplateCache(FileSystemBytecodeCache):
    """FileSystemBytecodeCache that keeps new entries in memory until write() (called when
    the session writes its artifacts, so a command that fails before creates nothing under
    target/) and never fails on a bad or unwritable entry."""

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory), "%s.jinja")
        self._path = directory
        self._pending: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a broken entry is compiled again, never an error
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        buffer = io.BytesIO()
        bucket.write_bytecode(buffer)
        self._pending[self._get_cache_filename(bucket)] = buffer.getvalue()

    def write(self) -> None:
        """Write the entries compiled since the last write (each to a temporary file that is
        then renamed, so a concurrent build reads whole entries only)."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            self._path.mkdir(parents=True, exist_ok=True)
            for name, data in pending.items():
                with tempfile.NamedTemporaryFile(
                    dir=self._path, prefix=Path(name).name, suffix=".tmp", delete=False
                ) as handle:
                    handle.write(data)
                os.replace(handle.name, name)
        except OSError:
            pass
