"""Jupyter notebooks: code cells through the engine, IPython syntax masked, JSON kept as it was.

A notebook is read with a small JSON parser that remembers where each cell's `source` sits in
the file, so a changed cell is written back by splicing just that value into the original text:
indentation, key order, escaping, outputs, metadata and the final newline stay byte-for-byte.

IPython syntax (`%magic`, `!shell`, `x = !cmd`, `obj?`, `??obj`, `%%time` first lines, also
inside indented blocks) is replaced line by line with a placeholder call before parsing and put
back exactly afterwards; line numbers do not move, so findings point at the cell's own lines.
Cells whose cell magic runs another language (`%%bash`, `%%html`, ...) are skipped.
"""
from __future__ import annotations

import bisect
import codecs
import difflib
import json
import os
import re
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine (LibCST) is imported only when cells are processed
    from .engine import Options
    from .result import Finding

# Cell magics whose body is Python (everything else, e.g. %%bash or %%html, is skipped).
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "px", "memit", "python", "python3"}
_WRITEFILE = {"writefile", "file"}  # Python only when the file written is a .py file

# --------------------------------------------------------------------------- JSON with positions

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_CONSTANTS = {"true": True, "false": False, "null": None, "NaN": float("nan"),
              "Infinity": float("inf"), "-Infinity": float("-inf")}
_MAX_RECORDED_DEPTH = 7


class NotebookError(ValueError):
    """The file is not a notebook kmigrate can read (the engine reports it as KM000)."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class _JSONError(ValueError):
    def __init__(self, message: str, text: str, pos: int):
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        super().__init__(f"{message}: line {line} column {column}")
        self.line, self.column = line, column


class _Parser:
    """Strict JSON (as `json.loads`) that records the span of every value up to a depth."""

    def __init__(self, text: str):
        self.text = text
        self.spans: dict[tuple, tuple[int, int]] = {}

    def parse(self) -> Any:
        i = _WS.match(self.text, 0).end()
        value, i = self.value(i, ())
        i = _WS.match(self.text, i).end()
        if i != len(self.text):
            raise _JSONError("extra data after the JSON document", self.text, i)
        return value

    def value(self, i: int, path: tuple) -> tuple[Any, int]:
        text = self.text
        start = i
        if i >= len(text):
            raise _JSONError("unexpected end of file", text, i)
        ch = text[i]
        if ch == '"':
            try:
                value, i = scanstring(text, i + 1, True)
            except json.JSONDecodeError as exc:
                raise _JSONError(exc.msg, text, exc.pos) from None
        elif ch == "{":
            value, i = self.object(i + 1, path)
        elif ch == "[":
            value, i = self.array(i + 1, path)
        else:
            m = _NUMBER.match(text, i)
            if m and m.end() > i:
                s = m.group(0)
                value = float(s) if any(c in s for c in ".eE") else int(s)
                i = m.end()
            else:
                for word, const in _CONSTANTS.items():
                    if text.startswith(word, i):
                        value, i = const, i + len(word)
                        break
                else:
                    raise _JSONError("expecting a value", text, i)
        if len(path) <= _MAX_RECORDED_DEPTH:
            self.spans[path] = (start, i)
        return value, i

    def object(self, i: int, path: tuple) -> tuple[dict, int]:
        text, out = self.text, {}
        i = _WS.match(text, i).end()
        if text.startswith("}", i):
            return out, i + 1
        while True:
            if not text.startswith('"', i):
                raise _JSONError("expecting a property name in double quotes", text, i)
            try:
                key, i = scanstring(text, i + 1, True)
            except json.JSONDecodeError as exc:
                raise _JSONError(exc.msg, text, exc.pos) from None
            i = _WS.match(text, i).end()
            if not text.startswith(":", i):
                raise _JSONError("expecting ':' delimiter", text, i)
            i = _WS.match(text, i + 1).end()
            out[key], i = self.value(i, path + (key,))
            i = _WS.match(text, i).end()
            if text.startswith("}", i):
                return out, i + 1
            if not text.startswith(",", i):
                raise _JSONError("expecting ',' delimiter", text, i)
            i = _WS.match(text, i + 1).end()

    def array(self, i: int, path: tuple) -> tuple[list, int]:
        text, out = self.text, []
        i = _WS.match(text, i).end()
        if text.startswith("]", i):
            return out, i + 1
        while True:
            value, i = self.value(i, path + (len(out),))
            out.append(value)
            i = _WS.match(text, i).end()
            if text.startswith("]", i):
                return out, i + 1
            if not text.startswith(",", i):
                raise _JSONError("expecting ',' delimiter", text, i)
            i = _WS.match(text, i + 1).end()


# --------------------------------------------------------------------------- the notebook file


@dataclass
class Cell:
    number: int  # 1-based among code cells
    path: tuple  # JSON path of the cell object
    key: str  # "source" (nbformat 4) or "input" (nbformat 3)
    text: str
    language: str | None = None  # a non-Python language: the cell is skipped


@dataclass
class Notebook:
    raw: bytes
    text: str  # the decoded JSON text
    bom: bool
    data: dict
    spans: dict[tuple, tuple[int, int]]
    cells: list[Cell] = field(default_factory=list)
    language: str | None = None  # the kernel's language when it is not Python

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Notebook":
        bom = raw.startswith(codecs.BOM_UTF8)
        try:
            text = raw[len(codecs.BOM_UTF8):].decode("utf-8") if bom else raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise NotebookError(f"invalid notebook: not UTF-8 ({exc.reason} at byte {exc.start})", line) from None
        parser = _Parser(text)
        try:
            data = parser.parse()
        except _JSONError as exc:
            raise NotebookError(f"invalid notebook: not JSON ({exc})", exc.line, exc.column) from None
        except RecursionError:
            raise NotebookError("invalid notebook: JSON nested too deeply") from None
        nb = cls(raw, text, bom, data, parser.spans)
        nb._find_cells()
        return nb

    def _find_cells(self) -> None:
        data = self.data
        if not isinstance(data, dict):
            raise NotebookError("invalid notebook: the JSON document is not an object")
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        self.language = _non_python(_kernel_language(meta))
        if isinstance(data.get("cells"), list):  # nbformat 4
            located = [(("cells", i), c) for i, c in enumerate(data["cells"])]
            key = "source"
        elif isinstance(data.get("worksheets"), list):  # nbformat 3
            located = []
            for w, sheet in enumerate(data["worksheets"]):
                if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                    located += [(("worksheets", w, "cells", i), c) for i, c in enumerate(sheet["cells"])]
            key = "input"
        else:
            raise NotebookError("invalid notebook: no `cells` list (is this a Jupyter notebook?)")
        number = 0
        for path, cell in located:
            if not isinstance(cell, dict):
                raise NotebookError(f"invalid notebook: cell {path[-1] + 1} is not an object")
            if cell.get("cell_type") != "code":
                continue
            number += 1
            source = cell.get(key, "")
            if isinstance(source, list) and all(isinstance(s, str) for s in source):
                text = "".join(source)
            elif isinstance(source, str):
                text = source
            else:
                raise NotebookError(f"invalid notebook: code cell {number} has a `{key}` that is not text")
            cell_meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
            vscode = cell_meta.get("vscode") if isinstance(cell_meta.get("vscode"), dict) else {}
            language = _non_python(cell.get("language") or vscode.get("languageId"))
            self.cells.append(Cell(number, path, key, text, language))

    # ---------------------------------------------------------------- writing back

    def with_sources(self, new: dict[int, str]) -> bytes:
        """The file with the given code cells' sources replaced, everything else untouched."""
        edits = []
        ensure_ascii = _uses_ascii_escapes(self.text)
        for cell in self.cells:
            if cell.number not in new:
                continue
            vpath = cell.path + (cell.key,)
            start, end = self.spans[vpath]
            old_value = _get(self.data, vpath)
            edits.append((start, end, self._render(vpath, old_value, new[cell.number], ensure_ascii)))
        out = self.text
        for start, end, rendered in sorted(edits, reverse=True):
            out = out[:start] + rendered + out[end:]
        return (codecs.BOM_UTF8 if self.bom else b"") + out.encode("utf-8")

    def _render(self, vpath: tuple, old_value, text: str, ensure_ascii: bool) -> str:
        if isinstance(old_value, str):
            return json.dumps(text, ensure_ascii=ensure_ascii)
        lines = text.splitlines(keepends=True)  # as nbformat splits sources
        if not lines:
            return "[]"
        start, end = self.spans[vpath]
        raw = self.text
        items = [self.spans[vpath + (k,)] for k in range(len(old_value))]
        if items:
            open_sep = raw[start + 1: items[0][0]]
            close_sep = raw[items[-1][1]: end - 1]
            item_sep = raw[items[0][1]: items[1][0]] if len(items) > 1 else "," + open_sep
            known = {}
            for value, (s, e) in zip(old_value, items):
                known.setdefault(value, raw[s:e])  # unchanged lines keep their exact escaping
        else:
            indent = re.match(r"[ \t]*", raw[raw.rfind("\n", 0, start) + 1:]).group(0)
            unit = _indent_unit(raw)
            if unit is None:
                open_sep, close_sep, item_sep = "", "", ", " if '", "' in raw else ","
            else:
                open_sep, close_sep = "\n" + indent + unit, "\n" + indent
                item_sep = "," + open_sep
            known = {}
        tokens = [known.get(line) or json.dumps(line, ensure_ascii=ensure_ascii) for line in lines]
        return "[" + open_sep + item_sep.join(tokens) + close_sep + "]"

    # ---------------------------------------------------------------- positions in the file

    def file_position(self, cell_number: int, line: int, column: int) -> tuple[int, int]:
        """(line, column), 1-based, in the notebook file of a cell's (line, column)."""
        cell = next((c for c in self.cells if c.number == cell_number), None)
        if cell is None:
            return 1, 1
        vpath = cell.path + (cell.key,)
        if vpath not in self.spans:  # a cell without source
            return self._line_col(self.spans.get(cell.path, (0, 0))[0])
        lines = cell.text.splitlines(keepends=True) or [""]
        line = min(max(line, 1), len(lines))
        offset = sum(len(x) for x in lines[: line - 1]) + min(max(column - 1, 0), len(lines[line - 1]))
        value = _get(self.data, vpath)
        if isinstance(value, str):
            token_start, _ = self.spans[vpath]
            return self._line_col(token_start + _raw_index(self.text, token_start, offset))
        for k, piece in enumerate(value):
            s, _ = self.spans[vpath + (k,)]
            if offset <= len(piece) and (offset < len(piece) or k == len(value) - 1):
                return self._line_col(s + _raw_index(self.text, s, offset))
            offset -= len(piece)
        return self._line_col(self.spans[vpath][0])

    def _line_col(self, pos: int) -> tuple[int, int]:
        if not hasattr(self, "_newlines"):
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        k = bisect.bisect_left(self._newlines, pos)
        line_start = self._newlines[k - 1] + 1 if k else 0
        return k + 1, pos - line_start + 1


def _raw_index(text: str, token_start: int, chars: int) -> int:
    """Offset inside the JSON string token at `token_start` of its `chars`-th decoded character."""
    i = token_start + 1
    for _ in range(chars):
        if text[i] == "\\":
            if text[i + 1] == "u":
                cp = int(text[i + 2: i + 6], 16)
                i += 12 if 0xD800 <= cp < 0xDC00 and text.startswith("\\u", i + 6) else 6
            else:
                i += 2
        else:
            i += 1
    return i - token_start


def _get(data, path: tuple):
    for k in path:
        data = data[k]
    return data


def _kernel_language(meta: dict) -> str | None:
    for key, sub in (("kernelspec", "language"), ("language_info", "name")):
        v = meta.get(key)
        if isinstance(v, dict) and isinstance(v.get(sub), str):
            return v[sub]
    return meta.get("language") if isinstance(meta.get("language"), str) else None


def _non_python(language) -> str | None:
    if not isinstance(language, str) or not language.strip():
        return None
    lang = language.strip().lower()
    return None if lang.startswith(("python", "ipython")) else language


def _uses_ascii_escapes(text: str) -> bool:
    """Whether the file escapes non-ASCII characters (`ensure_ascii=True`), as far as visible."""
    if not text.isascii():
        return False
    return re.search(r"\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})", text) is not None


def _indent_unit(text: str) -> str | None:
    m = re.match(r"\s*\{\r?\n([ \t]+)\"", text)
    return m.group(1) if m else None


# --------------------------------------------------------------------------- IPython syntax

_ASSIGN_MAGIC = re.compile(r"[ \t]*[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*[!%]")
_HELP = re.compile(r"[ \t]*(?:\?{1,2}[ \t]*[\w.*\[\]()]+|[\w.*\[\]()]+[ \t]*\?{1,2})[ \t]*(?:#.*)?")
_ESCAPES = ("%", "!", "?", "/", ",", ";")
_STRING_START = re.compile(r"(?i)(?:[rub]|br|rb|f|fr|rf)?('''|\"\"\"|'|\")")


@dataclass
class Masked:
    text: str
    originals: dict[int, tuple[str, str]]  # placeholder id -> (indent used, original line)
    token: str
    skip: str | None = None  # why the cell is not Python (a cell magic such as %%bash)
    cell_magic: bool = False  # the first line is a %%magic with a Python body

    def placeholder(self, k: int) -> str:
        # An import statement: valid at any indentation, and LibCST's AddImportsVisitor sees it as
        # part of the leading import block, so an added import goes after `%%time` / `%matplotlib`
        # lines and an existing import after them is recognised.
        return f"import {self.token}{k}__"

    def restore(self, text: str) -> str | None:
        """Put the IPython lines back; None if a placeholder went missing or moved."""
        if not self.originals:
            return text
        pattern = re.compile(rf"^([ \t]*)import {re.escape(self.token)}(\d+)__(\r?\n|$)", re.M)
        seen: set[int] = set()

        def put_back(m: re.Match) -> str:
            k = int(m.group(2))
            seen.add(k)
            indent, original = self.originals[k]
            if m.group(1) == indent:
                return original + m.group(3)
            return m.group(1) + original.lstrip(" \t") + m.group(3)

        out = pattern.sub(put_back, text)
        if seen != set(self.originals) or self.token in out:
            return None
        return out


def mask_ipython(source: str) -> Masked:
    """Replace IPython-only lines with `import __kmigrate_ipython_N__` placeholders, one per line."""
    token = "__kmigrate_ipython_"
    while token in source:
        token = "_" + token
    lines = source.splitlines(keepends=True)
    masked = Masked("", {}, token)
    out: list[str] = []

    def mask(k: int, line: str, indent: str) -> None:
        body = line.rstrip("\r\n")
        masked.originals[k] = (indent, body)
        out.append(indent + masked.placeholder(k) + line[len(body):])

    first = next((k for k, l in enumerate(lines) if l.strip()), None)
    start = 0
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].lstrip()[2:].split()
        magic = name[0] if name else ""
        is_py_file = magic in _WRITEFILE and any(a.endswith(".py") for a in name[1:])
        if magic not in PYTHON_CELL_MAGICS and not is_py_file:
            masked.skip = f"%%{magic}"
            masked.text = source
            return masked
        out.extend(lines[:first])
        mask(first, lines[first], "")
        masked.cell_magic = True
        start = first + 1

    scanner = _Scanner()
    k = start
    while k < len(lines):
        line = lines[k]
        if scanner.at_statement_start() and _is_ipython(line):
            indent = re.match(r"[ \t]*", line).group(0)
            mask(k, line, indent)
            while line.rstrip("\r\n").endswith("\\") and k + 1 < len(lines):  # continued magic
                k += 1
                line = lines[k]
                mask(k, line, indent)
            k += 1
            continue
        scanner.feed(line)
        out.append(line)
        k += 1
    masked.text = "".join(out)
    return masked


def _is_ipython(line: str) -> bool:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return False
    if stripped.startswith(_ESCAPES):
        return True
    return bool(_ASSIGN_MAGIC.match(line) or _HELP.fullmatch(line.rstrip("\r\n")))


class _Scanner:
    """Just enough tokenizing to know whether a line starts a new statement."""

    def __init__(self):
        self.depth = 0
        self.string: str | None = None  # the open triple quote, if any
        self.continued = False

    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.string is None and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.continued = False
        while i < n:
            if self.string:
                j = _close(line, i, self.string)
                if j < 0:
                    return
                i, self.string = j, None
                continue
            ch = line[i]
            if ch == "#":
                return
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            elif ch == "\\" and line[i + 1:].strip("\r\n") == "":
                self.continued = True
                return
            elif ch in "'\"" or (ch.isalpha() and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == "_"))):
                m = _STRING_START.match(line, i)
                if m:
                    quote = m.group(1)
                    j = _close(line, m.end(), quote)
                    if j < 0:
                        if len(quote) == 3:
                            self.string = quote
                        return  # an unclosed one-line string: a syntax error the parser reports
                    i = j
                    continue
                while i < n and (line[i].isalnum() or line[i] == "_"):
                    i += 1
                continue
            i += 1


def _close(line: str, i: int, quote: str) -> int:
    """Index just after the closing `quote` from `i`, or -1 if the line ends first."""
    n = len(line)
    while i < n:
        if line[i] == "\\":
            i += 2
            continue
        if line.startswith(quote, i):
            return i + len(quote)
        i += 1
    return -1


# --------------------------------------------------------------------------- the engine's entry


def code_text(raw: bytes) -> str | None:
    """All the Python the engine would read in the notebook (its code cells, IPython syntax
    masked), for the text pre-check; "" for a notebook in another language; None when the
    notebook cannot be read (the engine reports why)."""
    try:
        nb = Notebook.from_bytes(raw)
    except NotebookError:
        return None
    return "\n".join(masked.text for _, masked in _python_cells(nb))


def _python_cells(nb: Notebook) -> list:
    """(cell, masked source) of each code cell the engine fixes: Python, not empty, not a cell
    magic; none in a notebook whose kernel is another language."""
    if nb.language:
        return []
    work = []
    for cell in nb.cells:
        if cell.language or not cell.text.strip():
            continue
        masked = mask_ipython(cell.text)
        if not masked.skip:
            work.append((cell, masked))
    return work


def process_notebook(raw: bytes, display: str, options: "Options") -> tuple[bytes, list["Finding"], str | None]:
    """(new bytes, findings with `cell` set, readable per-cell diff or None)."""
    from .engine import FileError, error_finding, fix_text

    try:
        nb = Notebook.from_bytes(raw)
    except NotebookError as exc:
        raise FileError(exc.message, exc.line, exc.column) from None
    work = _python_cells(nb)
    if not work:
        return raw, [], None
    together = _fix_together(work, display, options)
    findings: list[Finding] = []
    new_sources: dict[int, str] = {}
    imports: list[str] = []  # top-level imports of the cells so far: the namespace later cells run in
    for cell, masked in work:
        if together is not None:
            out = together[cell.number]
        else:
            try:
                out = _fix_cell(masked, imports, display, options)
            except FileError as exc:
                findings.append(error_finding(display, f"cell not processed: {exc.message}", exc.line, exc.column,
                                              cell=cell.number))
                continue
            imports.extend(i for i in _top_level_imports(out.text) if i not in imports)
        for f in out.findings:
            f.cell = cell.number
        if out.text != masked.text:
            restored = masked.restore(out.text)
            if restored is None:
                for f in out.findings:
                    f.fix_applied = False
                out.findings.append(error_finding(
                    display, "cell left as is: IPython syntax could not be put back after fixing (a kmigrate bug)",
                    cell=cell.number))
            elif restored != cell.text:
                new_sources[cell.number] = restored
        findings.extend(out.findings)
    if not new_sources:
        return raw, findings, None
    new = nb.with_sources(new_sources)
    return new, findings, cell_diff(nb, new_sources, display)


def _fix_together(work: list, display: str, options: "Options") -> dict | None:
    """Fix all code cells as one module (one parse; names flow from cell to cell as they do when
    the notebook runs), each cell after an `import __kmigrate_cell_N__` marker line, then cut it
    back into cells. None when that cannot be done cleanly (a cell that does not parse on its
    own terms, a fix that would cross a cell boundary): the cells are then fixed one by one.
    """
    from .engine import FileError, TextResult, fix_text

    if len(work) < 2:
        return None
    every = "".join(m.text for _, m in work)
    marker = "__kmigrate_cell_"
    while marker in every:
        marker = "_" + marker
    parts, starts, line = [], [], 1
    for k, (_, masked) in enumerate(work):
        text = masked.text if masked.text.endswith("\n") else masked.text + "\n"
        parts += [f"import {marker}{k}__\n", text]
        starts.append(line + 1)  # the cell's first line in the whole
        line += 1 + text.count("\n")
    try:
        out = fix_text("".join(parts), display, options, is_notebook=True)
    except FileError:
        return None
    found = list(re.finditer(rf"(?m)^import {re.escape(marker)}(\d+)__\n", out.text))
    if [int(m.group(1)) for m in found] != list(range(len(work))) or out.text[: found[0].start()].strip():
        return None
    lasts = [s - 2 for s in starts[1:]] + [line - 1]  # each cell's last line in the whole
    owned: list[list] = [[] for _ in work]
    for f in out.findings:  # a finding on a marker line (none expected) is dropped
        k = bisect.bisect_right(starts, f.line) - 1
        if k >= 0 and f.line <= lasts[k]:
            f.line, f.end_line = f.line - starts[k] + 1, min(f.end_line, lasts[k]) - starts[k] + 1
            owned[k].append(f)
    results = {}
    for k, (cell, masked) in enumerate(work):
        end = found[k + 1].start() if k + 1 < len(work) else len(out.text)
        segment = out.text[found[k].end(): end]
        if not masked.text.endswith("\n") and segment.endswith("\n"):
            segment = segment[:-1]
        results[cell.number] = TextResult(segment, owned[k])
    return results


def _fix_cell(masked: Masked, imports: list[str], display: str, options: "Options"):
    """Fix one cell as it runs: after the imports of the cells above it.

    Those imports are put in front of the cell (then a marker line), so `tf.layers.dense` in
    cell 5 is recognised when cell 1 did `import tensorflow as tf`. Findings on them are
    dropped and lines shifted back; an import a fix adds goes to the top of the cell. If
    anything looks unusual the cell is fixed on its own instead.
    """
    from .engine import FileError, TextResult, fix_text

    if not imports:
        return fix_text(masked.text, display, options, is_notebook=True)
    marker = f"import {masked.token}cell__"  # an import: added imports land after it, in the cell
    prelude = "".join(i + "\n" for i in imports) + marker + "\n"
    shift = prelude.count("\n")
    try:
        out = fix_text(prelude + masked.text, display, options, is_notebook=True)
    except FileError as exc:
        if exc.line > shift:
            raise FileError(exc.message, exc.line - shift, exc.column) from None
        return fix_text(masked.text, display, options, is_notebook=True)
    found = list(re.finditer(rf"(?m)^{re.escape(marker)}\n", out.text))
    if len(found) != 1:
        return fix_text(masked.text, display, options, is_notebook=True)
    head, body = out.text[: found[0].start()], out.text[found[0].end():]
    known = set(prelude.splitlines())
    added = [line for line in head.splitlines(keepends=True) if line.strip() and line.rstrip("\r\n") not in known]
    if added:
        added = _new_names("".join(added), imports)
        if added is None:
            return fix_text(masked.text, display, options, is_notebook=True)
    kept = []
    for f in out.findings:
        if f.line > shift:
            f.line, f.end_line = f.line - shift, f.end_line - shift
            kept.append(f)
    if added and masked.cell_magic:  # `%%time` must stay the first line
        first = body.find("\n") + 1
        return TextResult(body[:first] + "".join(added) + body[first:], kept)
    return TextResult("".join(added) + body, kept)


def _new_names(added: str, imports: list[str]) -> list[str] | None:
    """Import lines for what `added` imports beyond `imports` (a fix that extended an import of an
    earlier cell, `from m import a` -> `from m import a, b`, gives `from m import b`); None if
    `added` is not just imports."""
    import ast

    try:
        new = ast.parse(added).body
        old = ast.parse("\n".join(imports)).body
    except (SyntaxError, ValueError, RecursionError):
        return None
    have = {(getattr(n, "module", None), a.name, a.asname) for n in old if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names}
    lines = []
    for node in new:
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or getattr(node, "level", 0):
            return None
        module = getattr(node, "module", None)
        names = [a.name + (f" as {a.asname}" if a.asname else "") for a in node.names
                 if (module, a.name, a.asname) not in have]
        if names:
            lines.append((f"from {module} import " if module else "import ") + ", ".join(names) + "\n")
    return lines


def _top_level_imports(text: str) -> list[str]:
    """The source of each top-level absolute import statement (not `from __future__`)."""
    import ast

    try:
        tree = compile(text, "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return []
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.level == 0
                                            and node.module != "__future__"):
            segment = ast.get_source_segment(text, node)
            if segment and "__kmigrate_ipython_" not in segment:  # not a masked IPython line
                out.append(segment)
    return out


def cell_diff(nb: Notebook, new_sources: dict[int, str], display: str) -> str:
    """One unified diff per changed cell, headed `a/nb.ipynb:cell 3`."""
    rel = os.path.relpath(display).replace(os.sep, "/") if os.path.isabs(display) else display
    out: list[str] = []
    for cell in nb.cells:
        if cell.number not in new_sources:
            continue
        old_lines = cell.text.splitlines(keepends=True)
        new_lines = new_sources[cell.number].splitlines(keepends=True)
        for line in difflib.unified_diff(old_lines, new_lines, f"a/{rel}:cell {cell.number}",
                                         f"b/{rel}:cell {cell.number}"):
            out.append(line if line.endswith("\n") else line + "\n")
    return "".join(out)


def for_result(result) -> "Notebook | None":
    """The notebook a FileResult was made from, to map cell positions to file positions.

    Uses the bytes the run read, or the file on disk when the run dropped them (they are only
    dropped when nothing changed, so the file still holds them). None if it cannot be read.
    """
    raw = result.old
    if raw is None:
        try:
            with open(result.path, "rb") as fh:
                raw = fh.read()
        except OSError:
            return None
    try:
        return Notebook.from_bytes(raw)
    except (NotebookError, RecursionError):
        return None
