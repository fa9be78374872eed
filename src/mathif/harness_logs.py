"""Responses recorded by other evaluation harnesses, read as mathif response lines.

Runs made with lm-evaluation-harness (``--log_samples``) or Inspect come back to mathif for
its intervals, breakdowns and reports. Each harness record becomes one line in the vocabulary
of :mod:`mathif.responses` (``key``, ``question``, ``response``/``output``, ``reasoning``,
``sample``, ``error``, ``finish_reason``, token counts), so that the one reader matches it to
an item by the one rule (key, then question, then position) and the official item identity is
kept, whoever generated the text.

- **lm-evaluation-harness samples file** (``samples_<task>_<time>.jsonl``): one line per
  document, ``doc`` holding the task's document (mathif's task puts ``key`` and ``question``
  there) and ``resps`` the raw generations (``filtered_resps`` when ``resps`` is not a list of
  texts). A null generation (a server that sent no content) is an empty answer.
- **Inspect log** (``.eval``, a zip of one JSON member per sample, or ``.json``): a sample's
  ``metadata.key`` (mathif's task sets it), else its ``id`` if a string, names the item;
  ``metadata.question`` also matches; ``epoch`` N is sample N-1; the first choice's text is the
  response, and its reasoning blocks (a provider that separates the reasoning) the reasoning;
  a sample that ended in an error is a failed generation, counted and never scored.

Everything read is bounded: a zip member larger than :data:`MAX_MEMBER_BYTES` (uncompressed,
as the zip declares and as read) is refused, and JSON nesting is bounded by the parser.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mathif import jsonl
from mathif.data import read_jsonl
from mathif.errors import InputError

LM_EVAL = "lm-eval"
INSPECT = "inspect"
# One sample of an Inspect log (its transcript included) is far below this; a zip member that
# says (or turns out) to be larger is refused rather than inflated into memory.
MAX_MEMBER_BYTES = 512 * 1024 * 1024
# An Inspect ``.json`` log names its version, status and ``eval`` in its first bytes.
_HEAD_BYTES = 4096
# Inspect's stop reasons, in the OpenAI vocabulary the rest of mathif uses (truncation rate).
_STOP_REASONS = {"max_tokens": "length", "model_length": "length", "stop": "stop"}


def _decoder() -> json.JSONDecoder:
    # Inspect writes a NaN score (its "unscored" sentinel) as the constant NaN: a foreign log
    # is read with non-finite numbers as null, since none of them is a response.
    return json.JSONDecoder(parse_constant=lambda _name: None)


_FOREIGN = _decoder()


def _parse(raw: bytes, where: str) -> Any:
    """One JSON text of a harness log (strict UTF-8, NaN read as null, surrogates repaired)."""
    try:
        value = _FOREIGN.decode(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc.reason} (byte {exc.start + 1})",
                         file=where) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                         file=where) from None
    except (RecursionError, ValueError) as exc:
        raise InputError(f"invalid JSON: {exc or 'nested too deeply'}", file=where) from None
    value, repaired = jsonl.scrub(value)
    if repaired:
        jsonl.note_repairs(repaired, where)
        jsonl.warn_repairs(repaired, where)
    return value


# --- which harness wrote a file -------------------------------------------------------------


def _first_line(path: Path) -> bytes:
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                return raw
    return b""


def _looks_like_lm_eval(record: Any) -> bool:
    return (isinstance(record, dict) and "doc_id" in record and isinstance(record.get("doc"), dict)
            and ("resps" in record or "filtered_resps" in record))


def _looks_like_inspect(head: bytes) -> bool:
    """A ``.json`` Inspect log starts with its version and status, then ``eval``."""
    text = head.decode("utf-8", "replace").lstrip()
    return text.startswith("{") and '"eval"' in text and '"version"' in text


def kind_of(path: str | os.PathLike[str]) -> str | None:
    """``"lm-eval"``, ``"inspect"``, or ``None`` for any other file (mathif's own formats)."""
    path = Path(path)
    if path.suffix == ".eval":
        return INSPECT
    if not path.is_file():
        return None
    try:
        if path.suffix == ".json":
            with path.open("rb") as handle:
                return INSPECT if _looks_like_inspect(handle.read(_HEAD_BYTES)) else None
        first = _first_line(path)
    except OSError:
        return None
    if not first.lstrip().startswith(b"{") or b'"doc_id"' not in first:
        return None  # mathif's own lines are not parsed twice
    try:
        record, _ = jsonl.parse(first)
    except jsonl.JSONLineError:
        return None
    return LM_EVAL if _looks_like_lm_eval(record) else None


# --- lm-evaluation-harness -----------------------------------------------------------------


def _texts(value: Any) -> list[str] | None:
    """A list of generations (null: an empty answer), or None when ``value`` is not one."""
    if isinstance(value, list) and value and all(v is None or isinstance(v, str) for v in value):
        return [v or "" for v in value]
    return None


def lm_eval_line(record: Any, *, file: str, line: int) -> dict[str, Any]:
    """The response line of one lm-eval samples record."""
    if not _looks_like_lm_eval(record):
        raise InputError("not an lm-evaluation-harness sample (expected 'doc_id', 'doc' and "
                         "'resps')", file=file, line=line)
    doc: Mapping[str, Any] = record["doc"]
    resps = record.get("resps")
    texts = _texts(resps[0]) if isinstance(resps, list) and resps else None
    if texts is None:
        filtered = record.get("filtered_resps")
        first = filtered[0] if isinstance(filtered, list) and filtered else filtered
        texts = [first or ""] if first is None or isinstance(first, str) else None
    if texts is None:
        raise InputError("expected the generated text(s): a list of strings", file=file,
                         line=line, field="resps")
    out: dict[str, Any] = {}
    for name in ("key", "question"):
        if isinstance(doc.get(name), str):
            out[name] = doc[name]
    if len(texts) == 1:
        out["response"] = texts[0]
    else:
        out["output"] = texts
    return out


def lm_eval_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, record in read_jsonl(path):
        yield index, lm_eval_line(record, file=str(path), line=index + 1)


# --- Inspect --------------------------------------------------------------------------------


def inspect_content(content: Any) -> tuple[str, str | None]:
    """``(text, reasoning)`` of an Inspect assistant message's content (as JSON): a string, or
    a list of blocks whose text blocks are joined by newlines (as Inspect's ``.text`` joins
    them) and whose reasoning blocks (redacted ones aside) are the reasoning. ``reasoning`` is
    ``None`` when there is no reasoning block: the text is then the raw output, split as
    SPEC §3 says; with one, the provider separated the reasoning and the text is the answer.

    The Inspect scorer and the log reader both call this, so a score and an imported log
    agree by construction.
    """
    if isinstance(content, str):
        return content, None
    if not isinstance(content, list):
        return "", None
    texts: list[str] = []
    thoughts: list[str] | None = None
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "reasoning":
            thoughts = thoughts if thoughts is not None else []
            if isinstance(block.get("reasoning"), str) and not block.get("redacted"):
                thoughts.append(block["reasoning"])
    return "\n".join(texts), ("\n\n".join(thoughts) if thoughts is not None else None)


def _error_message(value: Any) -> str | None:
    if isinstance(value, dict):
        message = value.get("message")
        return message if isinstance(message, str) and message else "error"
    if isinstance(value, str) and value:
        return value
    return None


def _usage(output: Mapping[str, Any]) -> dict[str, Any]:
    usage = output.get("usage")
    if not isinstance(usage, dict):
        return {}
    pairs = (("prompt_tokens", "input_tokens"), ("completion_tokens", "output_tokens"),
             ("reasoning_tokens", "reasoning_tokens"))
    return {ours: usage[theirs] for ours, theirs in pairs
            if isinstance(usage.get(theirs), int) and not isinstance(usage.get(theirs), bool)}


def inspect_line(sample: Any, *, file: str, line: int) -> dict[str, Any]:
    """The response line of one Inspect sample."""
    if not isinstance(sample, dict):
        raise InputError(f"expected an Inspect sample object, got {type(sample).__name__}",
                         file=file, line=line)
    out: dict[str, Any] = {}
    metadata = sample.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    key = metadata.get("key", sample.get("id"))
    if isinstance(key, str):
        out["key"] = key
    if isinstance(metadata.get("question"), str):
        out["question"] = metadata["question"]
    epoch = sample.get("epoch")
    out["sample"] = epoch - 1 if isinstance(epoch, int) and epoch >= 1 else 0
    output = sample.get("output")
    output = output if isinstance(output, dict) else {}
    choices = output.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    error = _error_message(sample.get("error")) or _error_message(output.get("error"))
    if error is None and not isinstance(choice, dict):
        error = "the log holds no model output for this sample"
    if error is not None:
        out["error"] = error
        return out
    assert isinstance(choice, dict)
    message = choice.get("message")
    text, reasoning = inspect_content(message.get("content") if isinstance(message, dict)
                                      else None)
    out["response"] = text
    if reasoning is not None:
        out["reasoning"] = reasoning
    stop = choice.get("stop_reason")
    if isinstance(stop, str):
        out["finish_reason"] = _STOP_REASONS.get(stop, stop)
    out.update(_usage(output))
    return out


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    if info.file_size > MAX_MEMBER_BYTES:
        raise InputError(f"{info.filename} is {info.file_size} bytes uncompressed, over the "
                         f"{MAX_MEMBER_BYTES} bytes a sample may take", file=where)
    try:
        with archive.open(info) as handle:
            data = handle.read(MAX_MEMBER_BYTES + 1)
    except NotImplementedError:
        raise InputError(
            f"{info.filename} uses a compression this Python cannot read (Inspect writes "
            "zstandard): install inspect-ai (or zipfile-zstd), or convert the log with "
            "`inspect log convert --to json`", file=where) from None
    except Exception as exc:  # a hostile member: any codec's error, a bad CRC, a short file
        raise InputError(f"{info.filename} does not decompress: {exc}", file=where) from None
    if len(data) > MAX_MEMBER_BYTES:
        raise InputError(f"{info.filename} inflates past {MAX_MEMBER_BYTES} bytes",
                         file=where)
    return data


def _enable_zstd() -> None:
    """Teach ``zipfile`` zstandard (Inspect's compression) when the patch is installed."""
    with contextlib.suppress(ImportError):
        import zipfile_zstd  # noqa: F401  (registers the codec with zipfile)


def _eval_log(path: Path, *, samples: bool = True
              ) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """The header and (with ``samples``) the samples of an ``.eval`` log, in archive order."""
    _enable_zstd()
    where = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not an Inspect .eval log (a zip archive): {exc}", file=where) from None
    with archive:
        latest = {info.filename: info for info in archive.infolist()}  # a re-logged sample wins
        header: dict[str, Any] = {}
        for name in ("header.json", "_journal/start.json"):
            if name in latest:
                value = _parse(_member(archive, latest[name], where), f"{where}!{name}")
                header = value if isinstance(value, dict) else {}
                break
        found = [(name, _parse(_member(archive, info, where), f"{where}!{name}"))
                 for name, info in latest.items()
                 if samples and name.startswith("samples/") and name.endswith(".json")]
    return header, found


# The last ``.json`` log parsed, by (path, size, mtime): `mathif score` asks for its header
# and then its samples, and a long run's log is worth parsing once.
_LAST_JSON: dict[tuple[str, int, int], tuple[dict[str, Any], list[tuple[str, Any]]]] = {}


def _json_samples(path: Path) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    try:
        stat = path.stat()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _LAST_JSON:
        _LAST_JSON.clear()
        _LAST_JSON[key] = _parse_json_log(path)
    return _LAST_JSON[key]


def _parse_json_log(path: Path) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=where) from None
    log = _parse(raw, where)
    if not isinstance(log, dict) or not isinstance(log.get("eval"), dict):
        raise InputError("not an Inspect log (expected an object with 'eval')", file=where)
    samples = log.get("samples")
    if not isinstance(samples, list):
        samples = []
    return log, [(f"samples[{i}]", s) for i, s in enumerate(samples)]


def read_inspect(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The log's header (``eval``, ``status``...) and its samples as response lines."""
    path = Path(path)
    header, samples = _eval_log(path) if path.suffix == ".eval" else _json_samples(path)
    if not samples:
        raise InputError("the Inspect log holds no samples (was it run with --no-log-samples, "
                         "or did it stop before any sample finished?)", file=str(path))
    lines = [inspect_line(sample, file=f"{path}!{name}", line=n + 1)
             for n, (name, sample) in enumerate(samples)]
    return header, lines


# --- the hook of mathif.responses -----------------------------------------------------------


def response_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any]]:
    """``(0-based index, record)`` of a responses file, whichever tool wrote it.

    mathif's own files (JSONL) are read as they are; an lm-eval samples file and an Inspect
    log are translated record by record (see the module docstring).
    """
    path = Path(path)
    kind = kind_of(path)
    if kind == LM_EVAL:
        yield from lm_eval_lines(path)
    elif kind == INSPECT:
        yield from enumerate(read_inspect(path)[1])
    else:
        yield from read_jsonl(path)


def describe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What the manifest records about a harness log (``{}`` for any other file): the harness
    (``name``), and the ``model``, ``task`` and ``status`` when the log names them (an lm-eval
    samples file names none of them)."""
    path = Path(path)
    kind = kind_of(path)
    if kind == INSPECT:
        header, _ = (_eval_log(path, samples=False) if path.suffix == ".eval"
                     else _json_samples(path))
        spec = header.get("eval") if isinstance(header.get("eval"), dict) else {}
        assert isinstance(spec, dict)
        found = {"name": INSPECT, "model": spec.get("model"), "task": spec.get("task"),
                 "status": header.get("status")}
        return {k: v for k, v in found.items() if isinstance(v, str)}
    return {"name": kind} if kind else {}
