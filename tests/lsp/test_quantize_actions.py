"""Quantisation as code actions over stdio: on a weight coremltools would quantise, `refactor.rewrite`
actions titled with the sizes, the weight's SNR and the model's output PSNR; whole-file
`source.quantize` actions for each mode, titled with the sizes and the output PSNR. The output PSNR
of a title is checked against coremltools' `compute_snr_and_psnr` over the outputs of the float
program and of the program the action writes, both run by `mil run --random-inputs` (seed 0, the
inputs the title's figure was measured on).
Choosing one runs `mil.quantize`, which writes the new weight file beside the document and asks the
client to apply the edit; the edited text, with that file, is a program `mil check` accepts. A
client that refuses the edit leaves no weight file behind. Hover on the quantised weight shows its
scheme."""

import ast
import json
import re
import subprocess

import coremltools as ct
import numpy as np
import pytest
from conftest import mil_binary
from coremltools.converters.mil import Builder as mb
from lsprotocol import types
from util import apply_edits, at, diagnostics_of, open_doc

pytestmark = pytest.mark.asyncio


def decompiled_model(folder):
    """A linear layer with a 64×48 fp32 weight in a weight file, saved by coremltools and decompiled
    into `folder/model.mil` (weights in `folder/model.weights/`)."""
    rng = np.random.default_rng(3)

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 48))], opset_version=ct.target.iOS18)
    def prog(x):
        return mb.linear(x=x, weight=rng.standard_normal((64, 48)).astype(np.float32), name="y")

    model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS18,
                       compute_precision=ct.precision.FLOAT32, skip_model_load=True)
    model.save(str(folder / "model.mlpackage"))
    subprocess.run([mil_binary(), "decompile", folder / "model.mlpackage", "-o", folder / "model.mil"], check=True,
                   capture_output=True)
    return (folder / "model.mil").read_text()


def command_of(action):
    """The command name and arguments of a code action that carries a command and no edit. The
    test client's lsprotocol reads such an action as a `Command` whose `command` is the nested
    command's repr (it tells the union's members apart by the `command` key), so it is read back
    from there; an editor gets the `CodeAction` the server sent."""
    if isinstance(action, types.CodeAction):
        assert action.edit is None
        return action.command.command, action.command.arguments
    nested = ast.literal_eval(action.command)
    return nested["command"], nested["arguments"]


def output_psnr(float_program, quantized_program, tmp):
    """coremltools' PSNR (`compute_snr_and_psnr`) of the quantised program's output `y` against the
    float program's, both run by the interpreter on random inputs of seed 0."""
    from coremltools.converters.mil.testing_utils import compute_snr_and_psnr

    outputs = []
    for i, program in enumerate((float_program, quantized_program)):
        folder = tmp / f"outputs{i}"
        subprocess.run([mil_binary(), "run", program, "--random-inputs", "--seed", "0", "--output-dir", folder],
                       check=True, capture_output=True)
        outputs.append(np.load(folder / "y.npy").astype(np.float64).ravel())
    return compute_snr_and_psnr(outputs[1], outputs[0])[1]


def title_psnr(title):
    """The output PSNR a title gives."""
    return float(re.search(r"output PSNR (-?\d+) dB on random inputs", title).group(1))


def check_errors(path):
    run = subprocess.run([mil_binary(), "check", "--format", "json", path], capture_output=True, text=True)
    return [d for d in json.loads(run.stdout) if d["severity"] == "error"]


async def test_quantize_a_weight_and_the_file_from_code_actions(client):
    edits = []
    answer = {"applied": True}

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams):
        edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=answer["applied"])

    enc = client.encoding
    text = decompiled_model(client.root)
    uri = (client.root / "model.mil").as_uri()
    await open_doc(client, uri, text)
    await diagnostics_of(client, uri, 1)
    weight = text[text.index("tensor<fp32, [64, 48]> ") :].split()[3]  # the const's name
    pos = at(text, f"tensor<fp32, [64, 48]> {weight} = const()", enc)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=pos, end=pos),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.RefactorRewrite]),
        )
    )
    titles = [a.title for a in actions]
    assert [t.split(" — ")[0] for t in titles] == [
        f"Quantize weight `{weight}` to int8 per channel",
        f"Quantize weight `{weight}` to int4 per channel",
        f"Quantize weight `{weight}` to a 16-entry k-means table (4-bit)",
    ], titles
    assert "12.0 KB → 3.2 KB, weight SNR" in titles[0], titles
    command, arguments = command_of(actions[0])
    assert command == "mil.quantize" and arguments[0]["mode"] == "w8" and arguments[0]["weight"] == weight

    # A client that refuses the edit: nothing is left beside the document.
    answer["applied"] = False
    with pytest.raises(Exception):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=arguments))
    assert not (client.root / "model.w8.weights").exists()

    answer["applied"] = True
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=arguments))
    assert [w["name"] for w in result["weights"]] == [weight] and result["weights"][0]["bytesAfter"] == 3328
    assert (client.root / "model.w8.weights" / "weight.bin").exists()
    quantized = apply_edits(text, edits[-1].changes[uri], enc)
    assert f"{weight}_quantized = constexpr_blockwise_shift_scale(" in quantized
    assert '"@model_path/model.w8.weights/weight.bin"' in quantized
    (client.root / "quantized.mil").write_text(quantized)
    assert check_errors(client.root / "quantized.mil") == []
    # The title's output PSNR is that of the program the action wrote.
    psnr = output_psnr(client.root / "model.mil", client.root / "quantized.mil", client.root)
    assert abs(title_psnr(titles[0]) - psnr) <= 0.5, (titles[0], psnr)

    # Hover on the new op shows its scheme.
    doc2 = (client.root / "quantized.mil").as_uri()
    await open_doc(client, doc2, quantized)
    await diagnostics_of(client, doc2, 1)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=doc2),
                          position=at(quantized, "constexpr_blockwise_shift_scale", enc)))
    assert "int8, per channel (64 scales along axis 0), symmetric" in hover.contents.value

    # Whole-file actions, one per mode; fp16 keeps the interface and computes in fp16.
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=len(text.splitlines()), character=0))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=whole,
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.Source]),
        )
    )
    # Other source actions (the ANE fix-all, which turns this linear into a 1×1 conv) are not ours;
    # a command-only action reaches us as a `Command` (see command_of), which has no kind.
    ours = [a for a in actions if getattr(a, "kind", "source.quantize") == "source.quantize"]
    quantize = [command_of(a) for a in ours]
    assert [arguments[0]["mode"] for _, arguments in quantize] == ["fp16", "w8", "w4", "lut4", "lut6", "lut8"]
    assert ours[0].title.startswith("Quantize the file to fp16 compute precision — "), ours[0].title
    assert all(arguments[0]["weight"] is None for _, arguments in quantize)
    command, arguments = quantize[0]
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command=command, arguments=arguments))
    halved = apply_edits(text, edits[-1].changes[uri], enc)
    assert "y_cast_fp16 = linear(" in halved and "tensor<fp32, [1, 64]> y = cast(" in halved
    (client.root / "half.mil").write_text(halved)
    assert check_errors(client.root / "half.mil") == []
    psnr = output_psnr(client.root / "model.mil", client.root / "half.mil", client.root)
    assert abs(title_psnr(ours[0].title) - psnr) <= 0.5, (ours[0].title, psnr)
