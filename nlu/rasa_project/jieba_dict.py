"""Write a Jieba user dictionary from memberbot's NLU data, for Rasa's JiebaTokenizer.

Every Chinese entity value annotated in the examples, and every Chinese synonym
or lookup-table entry, becomes a dictionary word, so Jieba keeps it whole and
Rasa's entity spans line up with token boundaries (otherwise Rasa warns
"Misaligned entity annotation" and DIET cannot learn that entity there).

    python jieba_dict.py DATA_DIR OUT_DIR     # writes OUT_DIR/userdict.txt

Runs under the Rasa virtualenv's Python (needs only PyYAML).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def _examples(block: str) -> list[str]:
    return [
        line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")
    ]


def words_from(data_dir: Path) -> list[str]:
    words: set[str] = set()
    for path in sorted(data_dir.glob("*.yml")) + sorted(data_dir.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in doc.get("nlu") or []:
            examples = _examples(item.get("examples") or "")
            if "intent" in item:
                for text in examples:
                    words.update(m.group(1) for m in ANNOTATION.finditer(text))
            elif "synonym" in item or "lookup" in item:
                words.update(examples)
                if "synonym" in item:
                    words.add(str(item["synonym"]))
    return sorted(w.strip() for w in words if w.strip() and CJK.search(w) and " " not in w.strip())


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: jieba_dict.py DATA_DIR OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    words = words_from(Path(argv[1]))
    # No frequency: Jieba then picks one just high enough to keep each word whole.
    (out / "userdict.txt").write_text("".join(f"{w}\n" for w in words), encoding="utf-8")
    print(f"{len(words)} words -> {out / 'userdict.txt'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
