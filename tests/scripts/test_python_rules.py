"""scripts/python_rules.py: each Python-API rule, one verdict per line, with what mypy says.

``mypy_user_code`` is what ``mypy --strict`` says about user code written against the old
version once it runs against the new one: ``passes`` or ``fails``. A behaviour break
passes (mypy cannot see what a default sends); a break for code that reads the value back
fails for that code. ``TestRealMypy`` checks a sample of the rows with mypy itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from python_rules import (
    Impact,
    PyRuling,
    Relation,
    Role,
    added_rule,
    annotation_relation,
    attribute_rule,
    class_rule,
    member_rule,
    model_roles,
    removed_rule,
    signature_rule,
    union_members,
    value_rule,
)
from python_surface import compare_surfaces, surface

# Short names keep each verdict on one line of the table below.
P, sig, attr = pytest.param, signature_rule, attribute_rule
Q, R, U = Role.REQUEST, Role.RESPONSE, Role.UNKNOWN
OK, READERS, BEHAVIOUR = Impact.COMPATIBLE, Impact.BREAKS_READERS, Impact.BREAKS_BEHAVIOUR
BREAKS = Impact.BREAKS_IMPORTERS
PASSES, FAILS = "passes", "fails"
F = "def sync(*, client: AuthenticatedClient, body: Body) -> Any | Result | None"
H = "def sync(*, client: AuthenticatedClient, x_friendli_team: None | str | Unset={}) -> None"

RULES = [
    # Not breaking: a parameter accepts more, a result promises less, a new parameter has a default.
    P(sig(F, F.replace(") ->", ", x_trace: str | Unset=UNSET) ->")),
        OK, "new optional parameter x_trace", PASSES, id="new-optional-keyword"),
    P(sig("def f(a: int) -> None", "def f(a: int, b: int=0) -> None"),
        OK, "new optional parameter b", PASSES, id="new-optional-positional-last"),
    P(sig(F, F.replace("client: AuthenticatedClient", "client: AuthenticatedClient | Client")),
        OK, "parameter client widened", PASSES, id="param-widened-client"),
    P(sig(F, F.replace("body: Body", "body: Body | Unset")),
        OK, "parameter body widened", PASSES, id="param-widened-unset"),
    P(sig("def f(*, n: int) -> None", "def f(*, n: float) -> None"),
        OK, "widened (int → float)", PASSES, id="param-widened-int-to-float"),
    P(sig("def f(*, m: Literal['a']) -> None", "def f(*, m: str) -> None"),
        OK, "widened", PASSES, id="param-widened-literal-to-str"),
    P(sig("def f(*, s: Sequence[int]) -> None", "def f(*, s: Sequence[int | str]) -> None"),
        OK, "widened", PASSES, id="param-widened-covariant-generic"),
    P(sig("def f(*, a: Optional[str]) -> None", "def f(*, a: str | None) -> None"),
        OK, "same type", PASSES, id="param-optional-respelled"),
    P(sig("def f(*, a: Union[int, str]) -> None", "def f(*, a: str | int) -> None"),
        OK, "same type", PASSES, id="param-union-respelled"),
    P(sig("def f(*, a: int) -> None", "def f(*, a: int=1) -> None"),
        OK, "now optional (default 1)", PASSES, id="param-now-optional"),
    P(sig("def f(*, a: int, b: int) -> None", "def f(*, b: int, a: int) -> None"),
        OK, "written differently", PASSES, id="keyword-only-reordered"),
    P(sig(H.format("UNSET").replace("=UNSET", ""), H.format("'team-a'")),
        OK, "now optional (default 'team-a')", PASSES, id="required-param-gains-default"),
    P(sig("def f() -> None", "def f(**kwargs: Any) -> None"),
        OK, "now accepts **kwargs", PASSES, id="accepts-kwargs"),
    P(sig("def f() -> str | None", "def f() -> str"),
        OK, "return type narrowed", PASSES, id="return-narrowed-none"),
    P(sig(F, F.replace("Any | Result | None", "Result")),
        OK, "return type narrowed", PASSES, id="return-narrowed"),
    P(sig(F.replace("Result", "Result | Accepted"), F),
        OK, "return type narrowed", PASSES, id="return-drops-a-model"),
    P(attr("attribute: str | None", "attribute: str", R),
        OK, "response attribute narrowed", PASSES, id="resp-attr-narrowed-none"),
    P(attr("attribute: int | Unset = UNSET", "attribute: int", R),
        OK, "response attribute narrowed", PASSES, id="resp-attr-narrowed-unset"),
    P(attr("attribute: int | Unset = UNSET", "attribute: int | Unset", R),
        OK, "set when the response is parsed", PASSES, id="resp-attr-default-dropped"),
    P(class_rule("class(A)", "class(A, B)"),
        OK, "base class(es) added", PASSES, id="class-base-added"),
    P(added_rule("def fresh() -> None"), OK, "added", PASSES, id="added-function"),
    P(added_rule("attribute: int | Unset = UNSET", Q),
        OK, "added", PASSES, id="added-optional-request-field"),
    P(added_rule("attribute: int", R), OK, "added", PASSES, id="added-response-field"),
    # Breaking for importers: a name gone, a parameter narrowed or required, a result widened.
    P(removed_rule(), BREAKS, "ImportError or AttributeError", FAILS, id="removed-or-renamed"),
    P(sig("def f(*, seed: int=0) -> None", "def f(*, random_seed: int=0) -> None"),
        BREAKS, "parameter seed removed", FAILS, id="param-renamed"),
    P(sig(F, F.replace(") ->", ", model: str) ->")),
        BREAKS, "new required parameter model", FAILS, id="required-param-added"),
    P(sig(F.replace("body: Body", "body: Body | Unset"), F),
        BREAKS, "parameter body narrowed", FAILS, id="param-narrowed-unset"),
    P(sig("def f(*, n: float) -> None", "def f(*, n: int) -> None"),
        BREAKS, "narrowed (float → int)", FAILS, id="param-narrowed-float-to-int"),
    P(sig("def f(*, n: int) -> None", "def f(*, n: str) -> None"),
        BREAKS, "type changed", FAILS, id="param-type-changed"),
    P(sig("def f(*, a: list[int]) -> None", "def f(*, a: list[int | str]) -> None"),
        BREAKS, "list: invariant", FAILS, id="param-invariant-generic"),
    P(sig("def f(*, a: int=0) -> None", "def f(*, a: int) -> None"),
        BREAKS, "a is now required", FAILS, id="param-default-dropped"),
    P(sig("def f(a: int, b: str) -> None", "def f(b: str, a: int) -> None"),
        BREAKS, "positional parameters reordered", FAILS, id="positional-reordered"),
    P(sig("def f(a: int, c: int) -> None", "def f(a: int, b: int=0, c: int=0) -> None"),
        BREAKS, "reordered: c moved", FAILS, id="positional-inserted"),
    P(sig("def f(a: int, b: str) -> None", "def f(a: int, *, b: str) -> None"),
        BREAKS, "b is now keyword-only", FAILS, id="now-keyword-only"),
    P(sig("def f(a: int) -> None", "def f(a: int, /) -> None"),
        BREAKS, "a is now positional-only", FAILS, id="now-positional-only"),
    P(sig("def f(*args: int) -> None", "def f() -> None"),
        BREAKS, "no longer accepts *args", FAILS, id="var-positional-dropped"),
    P(sig("def f() -> None", "async def f() -> None"),
        BREAKS, "now a coroutine function", FAILS, id="now-async"),
    P(sig(F, F.replace("Result", "Result | Accepted")),
        BREAKS, "return type widened", FAILS, id="return-widened-new-model"),
    P(sig("def f() -> str", "def f() -> str | None"),
        BREAKS, "return type widened", FAILS, id="return-widened-none"),
    P(sig("def f() -> Response[Any | R]", "def f() -> Response[R]"),
        BREAKS, "Response: invariant", FAILS, id="return-invariant-generic"),
    P(attr("attribute: str", "attribute: str | None", R),
        BREAKS, "response attribute widened", FAILS, id="resp-attr-widened"),
    P(attr("attribute: float", "attribute: int", Q),
        BREAKS, "code that sets it to the old type", FAILS, id="req-attr-narrowed"),
    P(attr("attribute: float", "attribute: int", U),
        BREAKS, "narrowed", FAILS, id="unknown-attr-narrowed"),
    P(attr("attribute: int | Unset = UNSET", "attribute: int", Q),
        BREAKS, "the field is now required", FAILS, id="req-field-now-required"),
    P(added_rule("attribute: int", Q),
        BREAKS, "new required field", FAILS, id="added-required-request-field"),
    P(class_rule("class(str, Enum)", "class(Enum)"),
        BREAKS, "base class(es) removed: str", FAILS, id="class-base-removed"),
    P(member_rule("attribute: str", "def url(self) -> str"),
        BREAKS, "was a attribute, now a function", FAILS, id="shape-changed"),
    # Breaking for code that reads it back: a request model's field accepts more.
    P(attr("attribute: int | Unset = UNSET", "attribute: float | Unset = UNSET", Q),
        READERS, "breaking for code that reads it back", FAILS, id="req-attr-widened"),
    P(attr("attribute: str", "attribute: str | None", U),
        READERS, "code that only sets it still type-checks", FAILS, id="unknown-attr-widened"),
    # Breaking (behaviour): what a call that names no value sends.
    P(sig(H.format("UNSET"), H.format("'team-a'")),
        BEHAVIOUR, "calls that name none now send 'team-a'", PASSES, id="header-gains-default"),
    P(sig(H.format("'team-a'"), H.format("'team-b'")),
        BEHAVIOUR, "from 'team-a' to 'team-b'", PASSES, id="header-default-changed"),
    P(sig(H.format("'team-a'"), H.format("UNSET")),
        BEHAVIOUR, "now send nothing", PASSES, id="header-default-dropped"),
    P(sig(H.format("UNSET"), H.format("'team-a'").replace("None | str", "str | None")),
        BEHAVIOUR, "default changed", PASSES, id="default-with-respelled-type"),
    P(sig(H.format("UNSET"), H.format("'team-a'").replace("None | str", "str")),
        BREAKS, "narrowed (None | str | Unset → str | Unset); breaking (behaviour)", FAILS,
        id="default-and-narrowed"),
    P(attr("attribute: int | Unset = UNSET", "attribute: int | Unset = 20", Q),
        BEHAVIOUR, "now send 20", PASSES, id="req-field-gains-default"),
    P(value_rule("'url'", "'link'"),
        BEHAVIOUR, "value changed from 'url' to 'link'", PASSES, id="constant-value-changed"),
]  # fmt: skip


@pytest.mark.parametrize(("ruling", "impact", "words", "mypy_user_code"), RULES)
def test_rule(ruling: PyRuling, impact: Impact, words: str, mypy_user_code: str) -> None:
    """Each rule gives the expected impact, its message names what changed, and only a
    compatible change keeps user code passing mypy unchanged in behaviour."""
    assert (impact, True) == (ruling.impact, words in ruling.message), ruling
    assert mypy_user_code in (PASSES, FAILS)
    assert ruling.message.startswith(impact.wording) or ruling.message.startswith(
        ("added", "removed")
    )
    if mypy_user_code == FAILS:
        assert ruling.breaking
        assert impact is not Impact.BREAKS_BEHAVIOUR


@pytest.mark.parametrize(
    ("old", "new", "relation"),
    [
        ("str | None", "Optional[str]", Relation.SAME),
        ("typing.Union[int, None]", "None | int", Relation.SAME),
        ("'Body'", "Body", Relation.SAME),
        ("Body", "Body | Unset", Relation.WIDER),
        ("Body | Unset", "Body", Relation.NARROWER),
        ("bool", "int", Relation.WIDER),
        ("int", "object", Relation.WIDER),
        ("Any | X", "Any | X | Y", Relation.WIDER),
        ("X", "Any", Relation.DIFFERENT),
        ("list[int]", "list[int | str]", Relation.DIFFERENT),
        ("list[None | str]", "list[str | None]", Relation.SAME),
        ("dict[str, Any]", "dict[str, Any] | None", Relation.WIDER),
        ("tuple[int, int]", "tuple[float, int]", Relation.WIDER),
        ("Literal['a', 'b']", "Literal['a']", Relation.NARROWER),
        ("int", "not valid [", Relation.DIFFERENT),
        (None, "int", Relation.DIFFERENT),
    ],
)
def test_annotation_relation(old: str | None, new: str | None, relation: Relation) -> None:
    assert relation is annotation_relation(old, new)


def test_union_members() -> None:
    assert {"None", "str", "Unset"} == {str(m) for m in union_members("None | str | Unset")}
    assert {"list[ImageInput]", "None"} == {
        str(m) for m in union_members("Optional[list['ImageInput']]")
    }


def test_model_roles() -> None:
    """Parameters' classes are sent, return types' classes returned, through attributes."""
    found = {
        "m": "module",
        "m.send": "def send(*, client: Client, body: Body) -> Result | Shared | None",
        "m.ask": "def ask(*, body: Shared) -> None",
        "m.Body": "class",
        "m.Body.image": "attribute: list[Image] | Unset = UNSET",
        "m.Image": "class",
        "m.Result": "class",
        "m.Result.items": "attribute: list['Item']",
        "m.Item": "class",
        "m.Shared": "class",
        "m.Client": "class",
        "m.Client.with_body": "def with_body(self, body: Result) -> Client",
        "m.Lonely": "class",
    }

    roles = model_roles(found)

    assert {
        "m.Body": Role.REQUEST,
        "m.Image": Role.REQUEST,
        "m.Client": Role.REQUEST,
        "m.Result": Role.RESPONSE,
        "m.Item": Role.RESPONSE,
        "m.Shared": Role.UNKNOWN,
        "m.Lonely": Role.UNKNOWN,
    } == roles


# --- The sample checked with mypy itself ------------------------------------------------------
# Each: the row it checks, the member whose change is judged, the module before and after,
# and a user program written against the module before.
SAMPLES = [
    P(
        "param-widened-client",
        "pkg.api.sync",
        """\
        class AuthenticatedClient: ...
        class Client: ...
        def sync(*, client: AuthenticatedClient) -> None:
            return None
        """,
        "client: AuthenticatedClient", "client: AuthenticatedClient | Client",
        "from pkg.api import AuthenticatedClient, sync\n\nsync(client=AuthenticatedClient())\n",
        id="param-widened-client",
    ),
    P(
        "return-widened-new-model",
        "pkg.api.sync",
        """\
        class Result:
            url: str = ""
        class Accepted:
            id: str = ""
        def sync() -> Result | None:
            return None
        """,
        "-> Result | None", "-> Result | Accepted | None",
        "from pkg.api import sync\n\nresult = sync()\n"
        "if result is not None:\n    print(result.url)\n",
        id="return-widened-new-model",
    ),
    P(
        "req-attr-widened",
        "pkg.api.Body.steps",
        """\
        from attrs import define
        @define
        class Body:
            steps: int
        def send(*, body: Body) -> None:
            return None
        """,
        "steps: int", "steps: float",
        "from pkg.api import Body, send\n\nbody = Body(steps=3)\nsend(body=body)\n"
        "steps: int = body.steps\n",
        id="req-attr-widened",
    ),
    P(
        "positional-reordered",
        "pkg.api.build",
        """\
        def build(url: str, seed: int) -> str:
            return url
        """,
        "url: str, seed: int", "seed: int, url: str",
        'from pkg.api import build\n\nprint(build("u", 1))\n',
        id="positional-reordered",
    ),
    P(
        "header-gains-default",
        "pkg.api.sync",
        """\
        def sync(*, team: str | None = None) -> None:
            return None
        """,
        "team: str | None = None", "team: str | None = 'team-a'",
        "from pkg.api import sync\n\nsync()\n",
        id="header-gains-default",
    ),
    P(
        "new-optional-keyword",
        "pkg.api.sync",
        """\
        def sync(*, body: str) -> None:
            return None
        """,
        "body: str", "body: str, x_trace: str | None = None",
        'from pkg.api import sync\n\nsync(body="b")\n',
        id="new-optional-keyword",
    ),
    P(
        "resp-attr-narrowed-none",
        "pkg.api.Item.url",
        """\
        from attrs import define
        @define
        class Item:
            url: str | None
        def get() -> Item:
            return Item(url="u")
        """,
        "url: str | None", "url: str",
        "from pkg.api import get\n\nitem = get()\nif item.url is not None:\n"
        "    print(item.url.upper())\n",
        id="resp-attr-narrowed-none",
    ),
    P(
        "param-invariant-generic",
        "pkg.api.send",
        """\
        def send(*, a: list[int]) -> None:
            return None
        """,
        "a: list[int]", "a: list[int | str]",
        "from pkg.api import send\n\nnumbers: list[int] = [1]\nsend(a=numbers)\n",
        id="param-invariant-generic",
    ),
    P(
        "return-invariant-generic",
        "pkg.api.f",
        """\
        from typing import Generic, TypeVar
        T = TypeVar("T")
        class Response(Generic[T]): ...
        class R: ...
        class A: ...
        def f() -> Response[R | A]:
            return Response()
        """,
        "-> Response[R | A]", "-> Response[R]",
        "from pkg.api import A, R, Response, f\n\nresponse: Response[R | A] = f()\n",
        id="return-invariant-generic",
    ),
]  # fmt: skip
ROWS = {row.id: row.values for row in RULES}


def write_version(root: Path, module: str) -> Path:
    package = root / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "api.py").write_text(module, encoding="utf-8")
    return package


def mypy(user: Path, version: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MYPYPATH": str(version)}
    environment.pop("PYTHONPATH", None)  # mypy must see only the version under test
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary"]
    command += ["--cache-dir", str(cache), "--config-file", os.devnull, str(user)]
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False, timeout=120
    )


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the sample: the standard library is analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


class TestRealMypy:
    @pytest.mark.parametrize(("row", "member", "module", "old", "new", "user"), SAMPLES)
    def test_row_matches_mypy(
        self,
        tmp_path: Path,
        mypy_cache: Path,
        row: str,
        member: str,
        module: str,
        old: str,
        new: str,
        user: str,
    ) -> None:
        """The surface of the two versions gets the row's impact, and mypy --strict on the
        user program passes against the old version and does what the row says against
        the new one."""
        before = textwrap.dedent(module)
        after = before.replace(old, new)
        assert after != before
        old_package = write_version(tmp_path / "old", before)
        new_package = write_version(tmp_path / "new", after)
        program = tmp_path / "user" / "user_program.py"
        program.parent.mkdir()
        program.write_text(user, encoding="utf-8")
        _, impact, _, stated = ROWS[row]

        changes = {
            change.name: change
            for change in compare_surfaces(surface(old_package), surface(new_package))
        }
        assert impact is changes[member].ruling.impact, changes[member].ruling

        checked_old = mypy(program, old_package.parent, mypy_cache)
        assert 0 == checked_old.returncode, checked_old.stdout + checked_old.stderr
        checked_new = mypy(program, new_package.parent, mypy_cache)
        outcome = PASSES if checked_new.returncode == 0 else FAILS
        assert stated == outcome, checked_new.stdout + checked_new.stderr
        if outcome == FAILS:
            assert "error:" in checked_new.stdout, checked_new.stdout + checked_new.stderr
