"""Every editor feature of `mil lsp`, end to end over stdio, with VS Code's and Neovim's capabilities."""

import subprocess

import pytest
from conftest import ROOT, mil_binary
from lsprotocol import types
from util import apply_edits, at, diagnostics_of, document_text, open_doc, position

pytestmark = pytest.mark.asyncio

TEXT = """program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4]> x) {
            tensor<fp16, [1, 4]> a = relu(x = x)[name = string("a")];
            tensor<fp16, [1, 4]> b = mul(x = a, y = x)[name = string("b")];
            tensor<fp16, [1, 4]> c = add(x = b, y = a)[name = string("c")];
        } -> (c);
}
"""

HAND_WRITTEN = (ROOT / "samples" / "hand_written.mil").read_text()


def uri_of(client, name="doc.mil"):
    return (client.root / name).as_uri()


async def opened(client, text=TEXT, name="doc.mil"):
    uri = uri_of(client, name)
    await open_doc(client, uri, text)
    await diagnostics_of(client, uri, 1)
    return uri


def doc_pos(uri, pos):
    return dict(text_document=types.TextDocumentIdentifier(uri=uri), position=pos)


async def test_diagnostics_have_codes_links_related_information_and_versions(client):
    enc = client.encoding
    text = TEXT.replace("mul(x = a, y = x)", "mul(x = a, y = q)").replace("add(x = b, y = a)", "add(x = b, y = d)")
    text = text.replace("-> (c);", "-> (c);\n").replace(
        '[name = string("c")];',
        '[name = string("c")];\n            tensor<fp16, [1, 4]> d = relu(x = c)[name = string("d")];',
    )
    uri = uri_of(client)
    await open_doc(client, uri, text, version=7)
    diags = await diagnostics_of(client, uri, 7)
    by_code = {d.code: d for d in diags if d.code.startswith("MIL")}
    assert set(by_code) == {"MIL0201", "MIL0203"}, diags
    undefined = by_code["MIL0201"]
    assert undefined.severity == types.DiagnosticSeverity.Error
    assert undefined.range.start == at(text, "q)", enc)
    assert undefined.code_description.href.endswith("diagnostics.md#mil0201--undefined-value-error")
    late = by_code["MIL0203"]
    assert late.related_information[0].location.range.start == at(text, "d = relu", enc)
    assert late.related_information[0].message == "defined here"


async def test_lenient_spellings_are_tagged_deprecated_and_nothing_else_is_tagged(client):
    enc = client.encoding
    uri = await opened(client, HAND_WRITTEN)
    diags = await diagnostics_of(client, uri, 1)
    deprecated = {"MIL0103", "MIL0104", "MIL0105", "MIL0106", "MIL0107"}
    assert {d.code for d in diags} >= {"MIL0101", "MIL0102", "MIL0103", "MIL0104", "MIL0107", "ANE201"}
    for d in diags:
        expected = (types.DiagnosticTag.Deprecated,) if d.code in deprecated else None
        assert d.tags == expected, d
    # The struck-through text is the obsolete spelling itself, e.g. the positional operand.
    positional = next(d for d in diags if d.code == "MIL0103")
    assert positional.range.start == at(HAND_WRITTEN, "ms_eps)", enc)
    assert positional.range.end == at(HAND_WRITTEN, ")[name = string(\"inv\")]", enc)


async def test_hover_shows_signature_doc_types_and_definitions(client):
    enc = client.encoding
    uri = await opened(client)
    h = await client.text_document_hover_async(types.HoverParams(**doc_pos(uri, at(TEXT, "relu", enc, offset=1))))
    assert "relu(x: tensor<" in h.contents.value and "1 output" in h.contents.value
    assert "tensor<fp16, [1, 4]> a` (declared)" in h.contents.value
    assert "**Placement** (" in h.contents.value and "estimated: ANE " in h.contents.value
    h = await client.text_document_hover_async(types.HoverParams(**doc_pos(uri, at(TEXT, "a, y", enc))))
    assert "tensor<fp16, [1, 4]> a" in h.contents.value
    assert "result of `relu` `a`" in h.contents.value and "used 2 times" in h.contents.value
    assert h.range.start == at(TEXT, "a, y", enc)
    h = await client.text_document_hover_async(types.HoverParams(**doc_pos(uri, at(TEXT, "y = x", enc))))
    assert "y: tensor<" in h.contents.value
    markdown = client.spec.startswith("visual")
    assert h.contents.kind == (types.MarkupKind.Markdown if markdown else types.MarkupKind.Markdown)


async def test_definition_and_references(client):
    enc = client.encoding
    uri = await opened(client)
    d = await client.text_document_definition_async(
        types.DefinitionParams(**doc_pos(uri, at(TEXT, "a)", enc)))
    )
    assert d.range.start == at(TEXT, "a = relu", enc) and d.uri == uri
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            context=types.ReferenceContext(include_declaration=True), **doc_pos(uri, at(TEXT, "a = relu", enc))
        )
    )
    assert [r.range.start for r in refs] == [at(TEXT, "a = relu", enc), at(TEXT, "a, y", enc), at(TEXT, "a)", enc)]
    refs = await client.text_document_references_async(
        types.ReferenceParams(context=types.ReferenceContext(include_declaration=False), **doc_pos(uri, at(TEXT, "x = x", enc, offset=4)))
    )
    assert len(refs) == 2


async def test_rename_changes_every_occurrence_and_refuses_conflicts(client):
    enc = client.encoding
    uri = await opened(client)
    pos = at(TEXT, "a, y", enc)
    prep = await client.text_document_prepare_rename_async(types.PrepareRenameParams(**doc_pos(uri, pos)))
    assert prep.placeholder == "a"
    edit = await client.text_document_rename_async(types.RenameParams(new_name="act", **doc_pos(uri, pos)))
    renamed = apply_edits(TEXT, edit.changes[uri], enc)
    assert renamed == TEXT.replace("> a =", "> act =").replace("x = a,", "x = act,").replace("y = a)", "y = act)")
    for bad in ["b", "x", "1a", "func"]:
        with pytest.raises(Exception):
            await client.text_document_rename_async(types.RenameParams(new_name=bad, **doc_pos(uri, pos)))
    # The server keeps serving after refusing.
    assert await client.text_document_hover_async(types.HoverParams(**doc_pos(uri, pos)))


async def test_document_symbols_list_functions_and_their_ops(client):
    uri = await opened(client)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert [s.name for s in symbols] == ["main"]
    assert [(c.name, c.detail) for c in symbols[0].children] == [
        ("a", 'relu "a"'),
        ("b", 'mul "b"'),
        ("c", 'add "c"'),
    ]


async def test_completion_offers_ops_keys_values_and_snippets(client):
    enc = client.encoding
    typing = TEXT.replace('[name = string("b")];', '[name = string("b")];\n            tensor<fp16, [1, 4]> d = ')
    uri = await opened(client, typing)
    items = await client.text_document_completion_async(
        types.CompletionParams(**doc_pos(uri, at(typing, "d = ", enc, offset=4)))
    )
    labels = {i.label for i in items}
    assert {"relu", "conv", "scaled_dot_product_attention"} <= labels  # ios18 has sdpa
    completion_caps = client.capabilities.text_document.completion.completion_item
    snippets = bool(completion_caps.snippet_support)
    conv = next(i for i in items if i.label == "conv")
    assert (conv.insert_text_format == types.InsertTextFormat.Snippet) == snippets
    # Inside an argument list: keys not given yet, and values in scope.
    typing2 = typing.replace("d = ", "d = clip(x = b, ")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=typing2)],
        )
    )
    items = await client.text_document_completion_async(
        types.CompletionParams(**doc_pos(uri, at(typing2, "clip(x = b, ", enc, offset=12)))
    )
    labels = [i.label for i in items]
    assert "alpha" in labels and "beta" in labels and "x" not in labels[:3]
    assert {"a", "b", "x"} <= set(labels) and "c" not in labels  # c is defined after the cursor
    alpha = next(i for i in items if i.label == "alpha")
    assert alpha.insert_text == "alpha = " and "fp16" in alpha.detail
    # At the start of a statement: the statement snippet (where snippets work) and dtypes.
    typing3 = typing2.replace("tensor<fp16, [1, 4]> d = clip(x = b, ", "fp")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=typing3)],
        )
    )
    items = await client.text_document_completion_async(
        types.CompletionParams(**doc_pos(uri, at(typing3, "    fp", enc, offset=6)))
    )
    labels = {i.label for i in items}
    assert "fp16" in labels and ("statement" in labels) == snippets


async def test_signature_help_follows_the_argument(client):
    enc = client.encoding
    uri = await opened(client)
    help = await client.text_document_signature_help_async(
        types.SignatureHelpParams(**doc_pos(uri, at(TEXT, "y = x", enc, offset=1)))
    )
    sig = help.signatures[0]
    assert sig.label.startswith("mul(x: ") and help.active_parameter == 1
    start, end = sig.parameters[1].label
    assert sig.label[start:end].startswith("y: ")


async def test_semantic_tokens_classify_names(client):
    uri = await opened(client)
    legend = client.capabilities and None
    tokens = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    data = tokens.data
    decoded, line, col = [], 0, 0
    for i in range(0, len(data), 5):
        dl, dc, length, kind, mods = data[i : i + 5]
        line, col = line + dl, (col + dc if dl == 0 else dc)
        decoded.append((line, col, length, kind, mods))
    lines = TEXT.split("\n")
    words = [(lines[l][c : c + n], k, m) for l, c, n, k, m in decoded]
    assert ("main", 0, 1) in words  # function, declaration
    assert ("relu", 1, 2) in words  # op kind from the catalogue
    assert ("a", 3, 1) in words  # result, declaration
    assert ("x", 2, 1) in words  # parameter, declaration
    assert legend is None


async def test_folding_ranges_cover_the_function(client):
    uri = await opened(client)
    ranges = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert any(r.start_line == 2 and r.end_line == 6 for r in ranges)


def mil_fmt(text: str) -> str:
    return subprocess.run([mil_binary(), "fmt", "-"], input=text, capture_output=True, text=True, check=True).stdout


async def test_document_formatting_is_mil_fmt(client):
    uri = await opened(client, HAND_WRITTEN)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri), options=types.FormattingOptions(tab_size=4, insert_spaces=True)
        )
    )
    assert apply_edits(HAND_WRITTEN, edits, client.encoding) == mil_fmt(HAND_WRITTEN)


async def test_range_formatting_rewrites_only_the_statements_in_range(client):
    enc = client.encoding
    uri = await opened(client, HAND_WRITTEN)
    line = HAND_WRITTEN.index("rsqrt")
    edits = await client.text_document_range_formatting_async(
        types.DocumentRangeFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=position(HAND_WRITTEN, line, enc), end=position(HAND_WRITTEN, line + 5, enc)),
            options=types.FormattingOptions(tab_size=4, insert_spaces=True),
        )
    )
    after = apply_edits(HAND_WRITTEN, edits, enc)
    assert '            tensor<fp16, [1, 1, 1, 32]> inv = rsqrt(x = ms_eps)[name = string("inv")];' in after
    # The statements outside the range are untouched.
    assert "reduce_mean(x = sq, axes = [1], keep_dims = true);" in after


async def test_code_actions_fix_lenient_forms(client):
    enc = client.encoding
    uri = await opened(client, HAND_WRITTEN)
    diags = await diagnostics_of(client, uri, 1)
    positional = next(d for d in diags if d.code == "MIL0103")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=positional.range,
            context=types.CodeActionContext(diagnostics=[positional]),
        )
    )
    fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix)
    assert fix.title == "Write the argument keys (MIL0103)" and fix.diagnostics[0].code == "MIL0103"
    after = apply_edits(HAND_WRITTEN, fix.edit.changes[uri], enc)
    assert "rsqrt(x = ms_eps)" in after and after.count("\n") == HAND_WRITTEN.count("\n")
    fix_all = next(a for a in actions if a.kind == types.CodeActionKind.SourceFixAll)
    assert apply_edits(HAND_WRITTEN, fix_all.edit.changes[uri], enc) == mil_fmt(HAND_WRITTEN)
    # Every lenient form of the sample has a quick fix that makes its diagnostic go away.
    lenient = [d for d in diags if d.code in {"MIL0102", "MIL0103", "MIL0104", "MIL0105", "MIL0106", "MIL0107"}]
    assert {d.code for d in lenient} >= {"MIL0102", "MIL0103", "MIL0104", "MIL0107"}
    for d in lenient:
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=d.range,
                context=types.CodeActionContext(diagnostics=[d], only=[types.CodeActionKind.QuickFix]),
            )
        )
        assert actions and all(a.kind == types.CodeActionKind.QuickFix for a in actions)
        fixed = apply_edits(HAND_WRITTEN, actions[0].edit.changes[uri], enc)
        check = subprocess.run([mil_binary(), "check", "--format", "json", "-"], input=fixed, capture_output=True, text=True)
        assert d.code not in [c["code"] for c in __import__("json").loads(check.stdout) if c["range"]["start"]["line"] == d.range.start.line], d


INDENTED = """program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4]> x) {
    tensor<fp16, [1, 4]> a = relu(x)[name = string("a")];
\ttensor<fp16, [1, 4]> b = mul(x = a, y = x);
    } -> (b);
}
"""


@pytest.mark.parametrize(
    "code, fixed_line",
    [
        ("MIL0103", '    tensor<fp16, [1, 4]> a = relu(x = x)[name = string("a")];'),
        ("MIL0102", '\ttensor<fp16, [1, 4]> b = mul(x = a, y = x)[name = string("b")];'),
    ],
)
async def test_quick_fixes_keep_the_line_indentation(client, code, fixed_line):
    enc = client.encoding
    uri = await opened(client, INDENTED)
    d = next(d for d in await diagnostics_of(client, uri, 1) if d.code == code)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=d.range,
            context=types.CodeActionContext(diagnostics=[d], only=[types.CodeActionKind.QuickFix]),
        )
    )
    after = apply_edits(INDENTED, actions[0].edit.changes[uri], enc).splitlines()
    before = INDENTED.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(after) == len(before) and len(changed) == 1, after
    assert after[changed[0]] == fixed_line


async def test_inlay_hints_name_positional_arguments_and_devices(client):
    enc = client.encoding
    uri = await opened(client, HAND_WRITTEN)
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=99, character=0))
    doc = types.TextDocumentIdentifier(uri=uri)
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(text_document=doc, range=whole))
    names = [(h.label, h.position) for h in hints if h.kind == types.InlayHintKind.Parameter]
    assert names == [("x =", at(HAND_WRITTEN, "ms_eps)", enc))]
    devices = [h for h in hints if h.kind is None]
    statements = [
        line for line in HAND_WRITTEN.splitlines() if line.endswith(";") and "->" not in line and "const()" not in line
    ]
    assert len(devices) == len(statements) and {h.label for h in devices} <= {"ANE", "GPU", "CPU"}
    # The setting turns them off.
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"mil": {"inlayHints": {"device": False}}})
    )
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(text_document=doc, range=whole))
    assert hints and all(h.kind == types.InlayHintKind.Parameter for h in hints)


async def test_code_lens_per_function(client):
    uri = await opened(client)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    titles = [lens.command.title for lens in lenses]
    assert titles[0] == "3 operations (0 constants) · ios18"
    assert titles[1].startswith("Neural Engine: ") and " of 3 ops · estimated " in titles[1]
    assert titles[2] == "Compile" and lenses[2].command.command == "mil.compile"
    assert list(lenses[2].command.arguments) == [uri]


async def test_compile_and_placement_report_commands(client):
    uri = await opened(client, TEXT, name="model.mil")
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="mil.compile", arguments=[uri]))
    package = client.root / "build" / "model.mlpackage"
    assert result["path"] == str(package) and (package / "Manifest.json").is_file()
    assert any(m.message.startswith("compiled ") for m in client.messages)
    report = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="mil.placementReport", arguments=[uri])
    )
    assert report == str(client.root / "build" / "model.placement.html")
    assert "<html" in (client.root / "build" / "model.placement.html").read_text().lower()
    # A program with errors is not compiled.
    bad = await opened(client, TEXT.replace("relu(x = x)", "relu(x = q)"), name="bad.mil")
    with pytest.raises(Exception, match="not compiled"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(command="mil.compile", arguments=[bad]))
    assert not (client.root / "build" / "bad.mlpackage").exists()


async def test_positions_count_in_the_negotiated_encoding(client):
    expected = "utf-8" if client.spec.startswith("neovim") else "utf-16"
    assert client.encoding == expected
    text = TEXT.replace('relu(x = x)[name = string("a")]', 'relu(x = x)[name = string("𝄞é")]').replace(
        "mul(x = a, y = x)", "mul(x = a, y = zz)"
    )
    text = text.replace('[name = string("b")]', '[name = string("𝄞")]').replace(
        'mul(x = a, y = zz)[name = string("𝄞")]', 'mul(x = a, y = zz)[name = string("𝄞")] '
    )
    # Put a non-ASCII string before the undefined name on the same line.
    text = text.replace("mul(x = a, y = zz)", 'mul(x = a, y = zz, z = string("𝄞é"), w = zz)')
    uri = await opened(client, text)
    diags = [d for d in client.diagnostics[uri] if d.code == "MIL0201"]
    assert [d.range.start for d in diags] == [at(text, "zz", client.encoding), at(text, "zz", client.encoding, nth=1)]
    d = await client.text_document_definition_async(
        types.DefinitionParams(**doc_pos(uri, at(text, "a, y", client.encoding)))
    )
    assert d.range.start == at(text, "a = relu", client.encoding)


async def test_a_panicking_handler_is_answered_with_an_error_and_the_server_lives(client):
    uri = await opened(client)
    with pytest.raises(Exception, match="panicked|failed"):
        await client.protocol.send_request_async("mil/panic", {"uri": uri})
    h = await client.text_document_hover_async(types.HoverParams(**doc_pos(uri, at(TEXT, "relu", client.encoding))))
    assert "relu" in h.contents.value


async def test_document_text_request_returns_the_servers_copy(client):
    uri = await opened(client)
    got = await document_text(client, uri, analysed=True)
    assert got.text == TEXT and got.analysedText == TEXT and got.version == 1 and got.analysedVersion == 1


async def test_run_command_reports_each_outputs_statistics_with_progress(client):
    """`mil.run` on random inputs and on a given .npy, checked against numpy computing the same."""
    np = pytest.importorskip("numpy")
    text = TEXT.replace("fp16", "fp32")
    uri = await opened(client, text, name="run.mil")
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="mil.run", arguments=[uri, {"seed": 3}])
    )
    assert result["function"] == "main" and result["madeUp"] == ["x"]
    [c] = result["outputs"]
    assert (c["name"], c["shape"], c["dtype"], c["nonFinite"]) == ("c", [1, 4], "fp32", 0)
    assert result["table"].splitlines()[0].split() == ["output", "shape", "dtype", "min", "max", "mean", "non-finite"]
    [reports] = [r for token, r in client.progress_reports.items() if token.startswith("mil.run/")]
    assert reports[0].kind == "begin" and reports[0].title == "Running"
    assert reports[-1].kind == "end" and reports[-1].message.startswith("ran main in ")
    # Given inputs: c = relu(x)·x + relu(x), as numpy computes it.
    x = np.array([[-2.0, -0.5, 1.5, 3.0]], dtype=np.float32)
    np.save(client.root / "x.npy", x)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="mil.run", arguments=[uri, {"inputs": ["x=x.npy"]}])
    )
    expected = np.maximum(x, 0) * x + np.maximum(x, 0)
    [c] = result["outputs"]
    assert result["madeUp"] == []
    assert (c["min"], c["max"]) == (float(expected.min()), float(expected.max()))
    assert c["mean"] == pytest.approx(float(expected.mean()))
    # A wrong input or a program with errors is an error that says so.
    np.save(client.root / "bad.npy", np.zeros([3], dtype=np.float32))
    with pytest.raises(Exception, match="has shape"):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="mil.run", arguments=[uri, {"inputs": ["x=bad.npy"]}])
        )
    bad = await opened(client, text.replace("relu(x = x)", "relu(x = q)"), name="bad.mil")
    with pytest.raises(Exception, match="not run: the program has 1 error"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(command="mil.run", arguments=[bad]))
