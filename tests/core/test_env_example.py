""".env.example documents every environment variable the code reads, and only those.

The variables are found by reading the source with `ast`: `env.str("NAME")` and friends (django-environ),
`os.environ.get("NAME")`, `os.environ["NAME"]`, `os.getenv("NAME")`. Variables under the
"docker compose only" heading are read by docker-compose.yml instead of the application.
"""

import ast
import re
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
CODE_DIRS = ["hospital", "emr", "scheduling", "pharmacy", "finance", "ai"]
ENV_METHODS = {"str", "int", "bool", "float", "list", "tuple", "dict", "json", "url", "db", "db_url", "cache"}
ENV_METHODS |= {"cache_url", "email", "email_url", "search_url", "path", "parse_value", "get"}
COMPOSE_ONLY_HEADING = "docker compose only"
ASSIGNMENT = re.compile(r"^#?([A-Z][A-Z0-9_]*)=")


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", None) == "os"


def _first_string(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def names_read(tree: ast.AST) -> set[str]:
    """Environment variable names read in one module (writes such as os.environ.setdefault are not reads)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, method = node.func.value, node.func.attr
            is_env_reader = getattr(owner, "id", None) == "env" and method in ENV_METHODS
            is_os_read = (_is_os_environ(owner) and method == "get") or (
                getattr(owner, "id", None) == "os" and method == "getenv"
            )
            if (is_env_reader or is_os_read) and (name := _first_string(node)):
                names.add(name)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "env" and (name := _first_string(node)):
            names.add(name)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and _is_os_environ(node.value)
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return {name for name in names if re.fullmatch(r"[A-Z][A-Z0-9_]*", name)}


def _code_files() -> list[Path]:
    files = [BASE_DIR / "manage.py"]
    for directory in CODE_DIRS:
        files += [p for p in (BASE_DIR / directory).rglob("*.py") if "migrations" not in p.parts]
    return files


def variables_in_code() -> set[str]:
    names: set[str] = set()
    for path in _code_files():
        names |= names_read(ast.parse(path.read_text(), filename=str(path)))
    return names


def documented_variables() -> tuple[dict[str, list[str]], set[str]]:
    """({name: its comment lines}, names under the docker-compose-only heading) from .env.example."""
    documented: dict[str, list[str]] = {}
    compose_only: set[str] = set()
    in_compose_section = False
    comment: list[str] = []
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.startswith("# ---"):
            in_compose_section = COMPOSE_ONLY_HEADING in line
            comment = []
        elif match := ASSIGNMENT.match(line):
            name = match.group(1)
            assert name not in documented, f"{name} is listed twice in .env.example"
            documented[name] = comment
            if in_compose_section:
                compose_only.add(name)
            comment = []
        elif line.startswith("# "):
            comment.append(line[2:])
        else:
            comment = []
    return documented, compose_only


def test_the_scanner_finds_reads_and_ignores_writes():
    tree = ast.parse(
        "env.str('A_VAR', default='x'); env.db('B_URL'); os.environ.get('C_PORT'); os.environ['D_DIR']\n"
        "os.getenv('E_NAME'); os.environ.setdefault('NOT_A_READ', 'x'); os.environ['NOT_READ_EITHER'] = '1'\n"
        "env.bool(name_in_a_variable)"
    )
    assert names_read(tree) == {"A_VAR", "B_URL", "C_PORT", "D_DIR", "E_NAME"}


def test_settings_variables_are_found():
    # Guards the scanner itself: these are read in settings.py, embedded.py and stack.py.
    assert {"SECRET_KEY", "DATABASE_URL", "EMBEDDED_PG_PORT", "HOSPITAL_PORT"} <= variables_in_code()


def test_every_variable_the_code_reads_is_in_env_example():
    documented, _compose_only = documented_variables()
    missing = sorted(variables_in_code() - set(documented))
    assert not missing, f"add these to .env.example with a comment: {missing}"


def test_every_application_variable_in_env_example_is_read_by_the_code():
    documented, compose_only = documented_variables()
    stale = sorted(set(documented) - compose_only - variables_in_code())
    assert not stale, f".env.example lists variables nothing reads: {stale}"


def test_compose_only_variables_are_used_by_docker_compose():
    _documented, compose_only = documented_variables()
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    assert compose_only, "the docker-compose-only section is empty"
    unused = sorted(name for name in compose_only if f"${{{name}" not in compose)
    assert not unused, f"docker-compose.yml does not use {unused}"


@pytest.mark.parametrize("name", sorted(documented_variables()[0]))
def test_each_variable_says_what_it_does_its_default_and_whether_production_needs_it(name):
    comment = documented_variables()[0][name]
    text = " ".join(comment)
    assert comment, f"{name} has no comment above it"
    assert "Default:" in text, f"{name}'s comment does not give its default"
    assert "Production:" in text, f"{name}'s comment does not say whether production requires it"
    assert len(text.split("Default:")[0].split()) >= 3, f"{name}'s comment does not say what it does"


def test_production_secrets_are_marked_required():
    documented, _compose_only = documented_variables()
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "ALLOWED_HOSTS"):
        assert "Production: required" in " ".join(documented[name]), name


def test_readme_settings_table_lists_every_variable():
    documented, _compose_only = documented_variables()
    readme = (BASE_DIR / "README.md").read_text()
    absent = sorted(name for name in documented if f"`{name}`" not in readme)
    assert not absent, f"README.md's settings table lacks {absent}"
