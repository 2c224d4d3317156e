"""Templates: role splitting, strict undefined, the sandbox, user overrides, shas."""
import pytest

from datagen.errors import DatagenError
from datagen.record import sha256_text
from datagen.templates import Template, TemplateLoader, load_template, split_messages


def tpl(source, name="t/x"):
    return Template(name=name, source=source, path="<test>", sha=sha256_text(source))


def test_split_messages_roles():
    text = "<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\nHello\n<|user|>\nBye"
    assert split_messages(text) == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}]
    assert split_messages("  just text  ") == [{"role": "user", "content": "just text"}]
    # a marker inside a line is text, not a role switch
    assert split_messages("say <|user|> now") == [{"role": "user", "content": "say <|user|> now"}]
    with pytest.raises(DatagenError, match="empty"):
        split_messages("  \n ")


def test_render_variables_and_loops():
    t = tpl("<|system|>\nYou list.\n<|user|>\n{% for x in items %}{{ loop.index }}. {{ x }}\n{% endfor %}")
    msgs = t.render(items=["a", "b"])
    assert msgs == [{"role": "system", "content": "You list."}, {"role": "user", "content": "1. a\n2. b"}]
    assert t.render_text(items=["z"]) == "You list.\n\n1. z"


def test_undefined_variable_is_a_clear_error():
    with pytest.raises(DatagenError, match=r"t/x.*undefined.*'missing'"):
        tpl("Hello {{ missing }}").render()
    with pytest.raises(DatagenError, match="undefined"):
        tpl("{{ rec.nope }}").render(rec={"a": 1})


def test_runtime_errors_in_a_template_are_datagen_errors():
    with pytest.raises(DatagenError, match="t/x"):
        tpl("{{ 1 / 0 }}").render()
    with pytest.raises(DatagenError, match="t/x"):
        tpl("{{ 'a' + 1 }}").render()


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ self._TemplateReference__context }}",
    "{{ [].append(1) }}",
    "{% set d = {} %}{{ d.update(a=1) }}",
    "{{ x.pop() }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
    "{{ range.__self__ }}",
    "{{ namespace.__init__.__globals__ }}",
])
def test_sandbox_blocks_escapes(source):
    x = [1, 2]
    with pytest.raises(DatagenError):
        tpl(source).render(x=x)
    assert x == [1, 2]  # nothing was mutated


def test_sandbox_allows_plain_string_methods():
    assert tpl("{{ s.upper() }} {{ s | length }} {{ '%s!' % s }}").render(s="hi")[0]["content"] == "HI 2 hi!"


def test_bundled_template_loads_with_sha():
    loader = TemplateLoader()
    t = loader.load("answer/answer")
    assert t.sha == sha256_text(t.source) and loader.used == {"answer/answer": t.sha}
    msgs = t.render(instruction="Name a color.", input="")
    assert msgs[0]["role"] == "system" and msgs[-1] == {"role": "user", "content": "Name a color."}
    with_input = t.render(instruction="Translate.", input="Bonjour")
    assert with_input[-1]["content"].startswith("Translate.") and "Bonjour" in with_input[-1]["content"]


def test_user_dir_overrides_bundled(tmp_path):
    (tmp_path / "answer").mkdir()
    (tmp_path / "answer" / "answer.j2").write_text("Reply in French: {{ instruction }}")
    (tmp_path / "data.md").write_text("principle 1")
    loader = TemplateLoader(tmp_path)
    t = loader.load("answer/answer")
    assert t.path == str(tmp_path / "answer" / "answer.j2")
    assert t.render(instruction="Hi", input="") == [{"role": "user", "content": "Reply in French: Hi"}]
    assert t.sha != TemplateLoader().load("answer/answer").sha
    text, sha = loader.read_file("data.md")
    assert text == "principle 1" and loader.used["data.md"] == sha == sha256_text(text)
    # a template the user does not override still comes from the bundle
    assert load_template("answer/answer", tmp_path).name == "answer/answer"


def test_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "answer").mkdir()
    (tmp_path / "answer" / "answer.j2").write_text("line one\n{% if instruction %}\nno endif\n")
    with pytest.raises(DatagenError, match=r"answer/answer .*answer\.j2\) line \d"):
        TemplateLoader(tmp_path).load("answer/answer")


def test_missing_template_and_dir(tmp_path):
    with pytest.raises(DatagenError, match="template not found: nope/nope.j2"):
        TemplateLoader().load("nope/nope")
    with pytest.raises(DatagenError, match="templates directory not found"):
        TemplateLoader(tmp_path / "absent")
