"""The on-disk cache of compiled Jinja templates (models, tests, macro files) under the
project's target directory, so a build does not parse and compile every template again.

Jinja keys an entry by template name and checks it against a hash of the template's source,
so a changed file is compiled again. The directory name adds what else shapes the compiled
code: the Jinja and Python versions and the source of evoki_sql's Jinja environment (its
extensions). The cache only ever saves time: an entry that cannot be written (read-only
project, full disk) is skipped, and an unreadable one is compiled again.
"""

from __future__ import annotations

import hashlib
import sys
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
    """FileSystemBytecodeCache that creates its directory on first write and never fails."""

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory), "%s.jinja")
        self._path = directory

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a broken entry is compiled again, never an error
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            self._path.mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass
