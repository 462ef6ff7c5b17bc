"""Training data: Rasa 3.x `nlu.yml` files and JSON lines, read into plain records.

Besides Rasa's `nlu:` sections, a YAML file may hold `complaint_categories:`, items
`{category, language, examples}` of complaint texts for the category classifier.

A file that cannot be read raises TrainingDataError naming the file and the line.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu.annotation import AnnotationError, parse_annotated

YAML_SUFFIXES = (".yml", ".yaml")
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
_SECTION_KEYS = ("intent", "synonym", "regex", "lookup")


class TrainingDataError(ValueError):
    """A training or test file that cannot be used; says which file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path = Path(path)
        self.line = line
        where = f"{self.path}, line {line}" if line else str(self.path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class EntitySpan:
    start: int
    end: int
    entity: str
    value: str


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface -> canonical value
    regexes: dict[str, list[str]] = field(default_factory=dict)  # name -> patterns
    lookups: dict[str, list[str]] = field(default_factory=dict)  # entity -> surfaces
    categories: list[Example] = field(default_factory=list)  # complaint text, its category
    files: list[Path] = field(default_factory=list)

    def extend(self, other: TrainingData) -> None:
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)
        for name, surfaces in other.lookups.items():
            self.lookups.setdefault(name, []).extend(surfaces)
        self.categories.extend(other.categories)
        self.files.extend(other.files)

    @property
    def intents(self) -> list[str]:
        return sorted({example.intent for example in self.examples})


def data_files(path: Path | str) -> list[Path]:
    """The training files at `path`: the file itself, or the data files of a directory."""
    path = Path(path)
    if path.is_dir():
        suffixes = YAML_SUFFIXES + JSONL_SUFFIXES
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in suffixes)
    if path.is_file():
        return [path]
    raise TrainingDataError(path, None, "no such file or directory")


def fingerprint(files: list[Path]) -> str:
    """A digest of the files' names and contents, to tell whether a model is stale."""
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def load_training_data(path: Path | str) -> TrainingData:
    """Read a file or every data file of a directory (Rasa YAML or JSON lines)."""
    data = TrainingData()
    for file in data_files(path):
        data.extend(load_file(file))
    return data


def load_file(path: Path) -> TrainingData:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise TrainingDataError(path, line, "is not UTF-8 text") from None
    except OSError as exc:
        raise TrainingDataError(path, None, exc.strerror or str(exc)) from None
    if path.suffix in JSONL_SUFFIXES:
        return _load_jsonl(path, text)
    return _load_yaml(path, text)


def _load_jsonl(path: Path, text: str) -> TrainingData:
    data = TrainingData(files=[path])
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainingDataError(path, number, f"not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise TrainingDataError(path, number, 'expected an object {"text", "intent"}')
        label = row.get("intent", row.get("label"))
        if not isinstance(row.get("text"), str) or not isinstance(label, str) or not label:
            raise TrainingDataError(
                path, number, 'needs a string "text" and a string "intent" (or "label")'
            )
        data.examples.append(Example(row["text"], label))
    return data


def _load_yaml(path: Path, text: str) -> TrainingData:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise TrainingDataError(path, line, f"not valid YAML ({problem})") from None
    data = TrainingData(files=[path])
    if root is None:
        return data
    if not isinstance(root, yaml.MappingNode):
        raise TrainingDataError(path, root.start_mark.line + 1, "expected a mapping with `nlu:`")
    sections = _mapping(root)
    if "complaint_categories" in sections:
        _read_categories(path, sections["complaint_categories"], data)
    nlu = sections.get("nlu")
    if nlu is None:
        return data  # a Rasa file with only stories or rules holds no NLU data
    if not isinstance(nlu, yaml.SequenceNode):
        raise TrainingDataError(path, nlu.start_mark.line + 1, "`nlu:` must be a list")
    for item in nlu.value:
        _read_section(path, item, data)
    return data


def _mapping(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _read_section(path: Path, node: yaml.Node, data: TrainingData) -> None:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise TrainingDataError(path, line, "each `nlu:` item must be a mapping")
    fields = _mapping(node)
    kinds = [key for key in _SECTION_KEYS if key in fields]
    if len(kinds) != 1:
        raise TrainingDataError(
            path, line, "each `nlu:` item needs exactly one of intent, synonym, regex, lookup"
        )
    kind = kinds[0]
    name_node = fields[kind]
    name = name_node.value if isinstance(name_node, yaml.ScalarNode) else ""
    if not isinstance(name, str) or not name.strip():
        raise TrainingDataError(path, name_node.start_mark.line + 1, f"`{kind}:` needs a name")
    name = name.strip()
    if "examples" not in fields:
        raise TrainingDataError(path, line, f"{kind} {name!r} has no `examples:`")
    for number, raw in _example_lines(path, fields["examples"]):
        _add_example(path, number, kind, name, raw, data)


def _read_categories(path: Path, node: yaml.Node, data: TrainingData) -> None:
    if not isinstance(node, yaml.SequenceNode):
        raise TrainingDataError(
            path, node.start_mark.line + 1, "`complaint_categories:` must be a list"
        )
    for item in node.value:
        line = item.start_mark.line + 1
        fields = _mapping(item) if isinstance(item, yaml.MappingNode) else {}
        name_node = fields.get("category")
        name = name_node.value.strip() if isinstance(name_node, yaml.ScalarNode) else ""
        if not name or "examples" not in fields:
            raise TrainingDataError(
                path, line, "each complaint category needs `category:` and `examples:`"
            )
        for _number, text in _example_lines(path, fields["examples"]):
            data.categories.append(Example(text, name))


def _example_lines(path: Path, node: yaml.Node) -> list[tuple[int, str]]:
    """(line number, text) for each `- example` of a block, or of a list of examples."""
    if isinstance(node, yaml.SequenceNode):  # examples: [- text: ...] or [- "..."]
        lines = []
        for item in node.value:
            if isinstance(item, yaml.MappingNode):
                item = _mapping(item).get("text")
            if not isinstance(item, yaml.ScalarNode):
                raise TrainingDataError(path, node.start_mark.line + 1, "unreadable example")
            lines.append((item.start_mark.line + 1, item.value))
        return lines
    if not isinstance(node, yaml.ScalarNode):
        raise TrainingDataError(path, node.start_mark.line + 1, "`examples:` must be a text block")
    first = node.start_mark.line + (2 if node.style in ("|", ">") else 1)
    lines = []
    for offset, line in enumerate(node.value.splitlines()):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("-"):
            raise TrainingDataError(
                path, first + offset, f"an example must start with '- ', got {stripped[:40]!r}"
            )
        lines.append((first + offset, stripped[1:].strip()))
    return lines


def _add_example(path: Path, line: int, kind: str, name: str, raw: str, data: TrainingData):
    if not raw:
        raise TrainingDataError(path, line, "empty example")
    if kind == "intent":
        try:
            text, spans = parse_annotated(raw)
        except AnnotationError as exc:
            raise TrainingDataError(path, line, str(exc)) from None
        entities = tuple(EntitySpan(s.start, s.end, s.entity, s.value) for s in spans)
        data.examples.append(Example(text, name, entities))
    elif kind == "synonym":
        data.synonyms[raw] = name
    elif kind == "regex":
        try:
            re.compile(raw)
        except re.error as exc:
            raise TrainingDataError(path, line, f"bad regular expression ({exc})") from None
        data.regexes.setdefault(name, []).append(raw)
    else:
        data.lookups.setdefault(name, []).append(raw)
