"""ANE rewrites as code actions over stdio: the quick fix on the ANE diagnostic that names
`tan-to-sin-cos`, and `source.fixAll.ane`, whose title says what changes and whose edit gives a
program `mil check` finds no error in and with neither `tan` nor `cumsum` left; the interface change
`io-to-fp16` on the finding on an fp32 input, never part of the fix-all."""

import json
import re
import subprocess

import pytest
from conftest import mil_binary
from lsprotocol import types
from util import apply_edits, diagnostics_of, open_doc

pytestmark = pytest.mark.asyncio

T = "tensor<fp16, [1, 64, 64, 64]>"


def conv(name, x):
    return (
        f"        {T} {name} = conv(x = {x}, weight = w, strides = tensor<int32, [2]>([1, 1]), "
        f'pad_type = string("same"), dilations = tensor<int32, [2]>([1, 1]), groups = int32(1))[name = string("{name}")];\n'
    )


# conv → tan → conv → cumsum → conv at 1×64×64×64 fp16: both rewrites help on the m4 (the
# default target), as mil-ide's snapshot of the same program shows.
TEXT = (
    "program(1.3)\n{\n"
    f"    func main<ios18>({T} x, tensor<fp16, [64, 64, 3, 3]> w) {{\n"
    + conv("a", "x")
    + f'        {T} b = tan(x = a)[name = string("b")];\n'
    + conv("c", "b")
    + f'        {T} d = cumsum(x = c, axis = int32(3))[name = string("d")];\n'
    + conv("out", "d")
    + "    } -> (out);\n}\n"
)


async def test_ane_diagnostics_get_rewrites_as_quick_fixes_and_a_fix_all(client):
    enc = client.encoding
    uri = (client.root / "ane.mil").as_uri()
    await open_doc(client, uri, TEXT)
    diags = await diagnostics_of(client, uri, 1)
    tan = next(d for d in diags if "`tan-to-sin-cos`" in d.message)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=tan.range,
            context=types.CodeActionContext(diagnostics=[tan], only=[types.CodeActionKind.QuickFix]),
        )
    )
    assert [a.title.split(" — ")[0] for a in actions] == ["Rewrite tan as sin/cos"], actions
    fix = actions[0]
    assert " — CPU → ANE, est. " in fix.title and fix.diagnostics[0].code == tan.code
    after = apply_edits(TEXT, fix.edit.changes[uri], enc)
    assert "= tan(" not in after and "b_sin = sin(x = a)" in after and "= cumsum(" in after
    # The statements before the rewritten one keep their text.
    assert after.startswith(TEXT[: TEXT.index(f"        {T} b = tan")])

    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=len(TEXT.splitlines()), character=0))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=whole,
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll]),
        )
    )
    # `source.fixAll` takes its sub-kind `source.fixAll.ane`; the lenient-form fix-all has nothing to do.
    assert [a.kind for a in actions] == ["source.fixAll.ane"], actions
    title = re.fullmatch(r"Apply 2 ANE rewrites — 2 ops CPU → ANE, est\. ([0-9.]+) → ([0-9.]+) ms", actions[0].title)
    assert title and float(title[2]) < float(title[1]), actions[0].title
    fixed = apply_edits(TEXT, actions[0].edit.changes[uri], enc)
    assert "= tan(" not in fixed and "= cumsum(" not in fixed
    check = subprocess.run([mil_binary(), "check", "--format", "json", "-"], input=fixed, capture_output=True, text=True)
    assert [d for d in json.loads(check.stdout) if d["severity"] == "error"] == [], check.stdout


# coremltools' fp16 model with fp32 interface: a cast after the input and before the output.
FP32_IO = (
    "program(1.3)\n{\n    func main<ios16>(tensor<fp32, [1, 64]> x) {\n"
    '        tensor<fp16, [1, 64]> h = cast(dtype = string("fp16"), x = x)[name = string("h")];\n'
    '        tensor<fp16, [1, 64]> r = relu(x = h)[name = string("r")];\n'
    '        tensor<fp32, [1, 64]> out = cast(dtype = string("fp32"), x = r)[name = string("out")];\n'
    "    } -> (out);\n}\n"
)


async def test_an_fp32_input_gets_the_interface_change_as_a_quick_fix_and_not_in_the_fix_all(client):
    enc = client.encoding
    uri = (client.root / "io.mil").as_uri()
    await open_doc(client, uri, FP32_IO)
    diags = await diagnostics_of(client, uri, 1)
    on_input = next(d for d in diags if "`io-to-fp16`" in d.message and d.range.start.line == 2)

    async def actions(range, only):
        return await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=range,
                context=types.CodeActionContext(diagnostics=[on_input] if only == types.CodeActionKind.QuickFix else [], only=[only]),
            )
        )

    fixes = await actions(on_input.range, types.CodeActionKind.QuickFix)
    assert [a.title.split(" — ")[0] for a in fixes] == ["Change input x and output out to fp16 (interface change)"], fixes
    assert not fixes[0].is_preferred
    fixed = apply_edits(FP32_IO, fixes[0].edit.changes[uri], enc)
    assert "func main<ios16>(tensor<fp16, [1, 64]> x)" in fixed and "cast(" not in fixed, fixed
    check = subprocess.run([mil_binary(), "check", "--format", "json", "-"], input=fixed, capture_output=True, text=True)
    assert [d for d in json.loads(check.stdout) if d["severity"] == "error" or d["code"] == "ANE010"] == [], check.stdout

    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=len(FP32_IO.splitlines()), character=0))
    assert [a.kind for a in await actions(whole, types.CodeActionKind.SourceFixAll)] == []
