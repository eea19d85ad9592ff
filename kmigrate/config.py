"""[tool.kmigrate] in pyproject.toml, merged with command-line options (the command line wins)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TARGETS = ("tensorflow.keras", "keras")
STYLES = ("functional", "sequential")
TF1_LAYERS = ("keras", "compat")


class ConfigError(Exception):
    pass


@dataclass
class Config:
    select: list[str] = field(default_factory=lambda: ["KM"])
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    target: str = "tensorflow.keras"
    to: str | None = None
    unsafe_fixes: bool = False
    tf1_layers: str = "keras"  # or "compat" (tf.compat.v1.layers with tf-keras, KM606)
    exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    jobs: int = 0  # 0: the CPU count
    cache: bool = True
    cache_dir: str = ".kmigrate_cache"
    format: str = "text"
    root: str = "."  # the folder holding the pyproject.toml that was read (or cwd)

    def validate(self) -> "Config":
        if self.target not in TARGETS:
            raise ConfigError(f"target must be one of {', '.join(TARGETS)}, not {self.target!r}")
        if self.to is not None and self.to not in STYLES:
            raise ConfigError(f"to must be one of {', '.join(STYLES)}, not {self.to!r}")
        if self.tf1_layers not in TF1_LAYERS:
            raise ConfigError(f"tf1-layers must be one of {', '.join(TF1_LAYERS)}, not {self.tf1_layers!r}")
        return self


_KEYS = {f.name.replace("_", "-"): f.name for f in fields(Config) if f.name != "root"}


def find_pyproject(start: str | os.PathLike) -> Path | None:
    here = Path(start).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(start: str | os.PathLike = ".", explicit: str | None = None) -> Config:
    """Read [tool.kmigrate] from `explicit` or the nearest pyproject.toml above `start`."""
    path = Path(explicit) if explicit else find_pyproject(start)
    config = Config(root=str(Path(start).resolve() if path is None else path.parent))
    if path is None:
        return config
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    section = data.get("tool", {}).get("kmigrate", {})
    values: dict[str, Any] = {}
    for key, value in section.items():
        name = _KEYS.get(key) or _KEYS.get(key.replace("_", "-"))
        if name is None:
            raise ConfigError(f"{path}: unknown key [tool.kmigrate] {key!r}; known: {', '.join(sorted(_KEYS))}")
        values[name] = value
    try:
        return replace(config, **values).validate()
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def merge(config: Config, **cli: Any) -> Config:
    """Command-line values that were given (not None) override the file's."""
    given = {k: v for k, v in cli.items() if v is not None and v != ()}
    for key in ("select", "ignore", "extend_select", "exclude"):
        if key in given:
            given[key] = _codes(given[key]) if key != "exclude" else list(given[key])
    return replace(config, **given).validate()


def _codes(values) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(c.strip().upper() for c in str(v).split(",") if c.strip())
    return out
