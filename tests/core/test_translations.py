"""The Simplified Chinese catalogue is complete, not fuzzy, and its compiled .mo matches the .po.

Parsed with Python alone: CI machines may not have gettext installed.
"""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils.translation.template import templatize

BASE_DIR = Path(__file__).resolve().parents[2]
LOCALE_DIR = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"
# What `makemessages --ignore=.venv --ignore=var --ignore=tests` leaves out, plus what is never project code.
SKIPPED_DIRS = {".venv", "var", "tests", "node_modules", "locale", "static", "__pycache__"}


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        """The key gettext uses: context and id joined by EOT."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def parse_po(text: str) -> list[Entry]:
    """Entries of a .po file (the header included, obsolete `#~` entries left out)."""
    entries: list[Entry] = []
    entry, target = None, None
    pending_flags: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = ast.literal_eval(line)
        else:
            value = ast.literal_eval(rest)
            if keyword in ("msgctxt", "msgid") and (entry is None or entry.msgstr):
                entry = Entry(flags=pending_flags, line=number)
                entries.append(entry)
                pending_flags = set()
        if line.startswith('"'):
            pass
        elif keyword == "msgctxt":
            entry.msgctxt, target = "", "msgctxt"
        elif keyword == "msgid":
            target = "msgid"
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = "", "msgid_plural"
        elif keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            entry.msgstr.setdefault(index, "")
            target = index
        else:
            raise ValueError(f"line {number}: cannot parse {raw!r}")
        if isinstance(target, int):
            entry.msgstr[target] += value
        else:
            setattr(entry, target, getattr(entry, target) + value)
    return entries


def _po_entries() -> list[Entry]:
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


def _messages() -> list[Entry]:
    return [entry for entry in _po_entries() if entry.msgid]


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}", text))


def test_catalogue_header_is_final_and_declares_utf8_and_plural_forms():
    header = next(entry for entry in _po_entries() if entry.msgid == "")

    assert "fuzzy" not in header.flags
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]


def test_every_message_is_translated_and_none_is_fuzzy():
    messages = _messages()
    untranslated = [entry.msgid for entry in messages if not all(entry.msgstr.values()) or not entry.msgstr]
    fuzzy = [entry.msgid for entry in messages if "fuzzy" in entry.flags]

    assert len(messages) > 50
    assert untranslated == []
    assert fuzzy == []


def test_translations_keep_every_placeholder():
    wrong = [
        (entry.msgid, text)
        for entry in _messages()
        for text in entry.msgstr.values()
        if _placeholders(text) != _placeholders(entry.msgid)
        # a plural's singular may word the count differently, but never lose a named placeholder
        and not (entry.msgid_plural and _placeholders(text) == _placeholders(entry.msgid_plural))
    ]

    assert wrong == []


def test_compiled_catalogue_matches_the_po_file():
    with MO_PATH.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    expected = {}
    # msgfmt leaves untranslated messages out; the test above reports those
    for entry in (e for e in _messages() if e.msgstr and all(e.msgstr.values())):
        if entry.msgid_plural is None:
            expected[entry.key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(entry.key, index)] = text
    compiled = {key: value for key, value in catalog.items() if key != ""}

    stale = sorted(str(key) for key in expected if compiled.get(key) != expected[key])
    leftover = sorted(str(key) for key in compiled if key not in expected)
    assert stale == [], "django.mo is older than django.po: run `make messages`"
    assert leftover == [], "django.mo has messages the .po no longer has: run `make messages`"


# --- every translatable string of the project's own code is in the catalogue ----------------------

PY_KEYWORDS = {
    # name: (index of the context argument or None, index of msgid, index of msgid_plural or None)
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
TEMPLATE_CALL = re.compile(r"\b(npgettext|pgettext|ngettext|gettext)\(((?:\s*u'(?:[^'\\]|\\.)*'\s*,?)+)")
TEMPLATE_STRING = re.compile(r"u'(?:[^'\\]|\\.)*'")


def _source_files(suffixes: tuple[str, ...]):
    for path in BASE_DIR.rglob("*"):
        relative = path.relative_to(BASE_DIR)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        if path.suffix in suffixes and path.is_file():
            yield path


def _python_messages(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in PY_KEYWORDS:
            continue
        context_at, msgid_at, _plural_at = PY_KEYWORDS[name]
        args = node.args
        if len(args) <= msgid_at or not all(
            isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in args[: msgid_at + 1]
        ):
            continue
        context = args[context_at].value if context_at is not None else None
        yield context, args[msgid_at].value


def _template_messages(path: Path):
    source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for match in TEMPLATE_CALL.finditer(source):
        strings = [ast.literal_eval(s) for s in TEMPLATE_STRING.findall(match.group(2))]
        if match.group(1).startswith(("p", "np")):
            yield strings[0], strings[1]
        else:
            yield None, strings[0]


def test_parser_reads_contexts_plurals_flags_and_continuation_lines():
    entries = parse_po(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "ward"\nmsgid "Bed %(n)s"\nmsgid_plural ""\n"Beds %(n)s"\n'
        'msgstr[0] "%(n)s "\n"张床"\n\n#~ msgid "gone"\n#~ msgstr "旧"\n'
    )

    assert len(entries) == 2
    assert entries[1].key == "ward\x04Bed %(n)s"
    assert entries[1].msgid_plural == "Beds %(n)s"
    assert entries[1].msgstr == {0: "%(n)s 张床"}
    assert entries[1].flags == {"fuzzy", "python-format"}


@pytest.mark.parametrize(
    ("suffixes", "extract"),
    [((".py",), _python_messages), ((".html", ".txt"), _template_messages)],
    ids=["python", "templates"],
)
def test_every_translatable_string_in_the_code_is_in_the_catalogue(suffixes, extract):
    known = {(entry.msgctxt, entry.msgid) for entry in _messages()}
    found = {(message, path.relative_to(BASE_DIR)) for path in _source_files(suffixes) for message in extract(path)}

    missing = sorted(f"{path}: {message[1]!r}" for message, path in found if message not in known)

    assert len(found) > 20
    assert not missing, "not in the catalogue; run `manage.py makemessages -l zh_Hans` and translate:\n" + "\n".join(
        missing
    )
