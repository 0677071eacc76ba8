"""`mil.w8a8` over stdio with a real client: it asks for `mil.calibrationFolder` when unset, then
quantises the ResNet-style sample (samples/resnet_w8a8.mil) with its calibration set, reporting
work-done progress per sample, and writes `<outputFolder>/<name>.w8a8.mil` that reads back clean."""

import shutil

import pytest
from lsprotocol import types

from conftest import ROOT
from util import open_doc

pytestmark = pytest.mark.asyncio


async def test_w8a8_command_asks_for_the_folder_then_quantizes_with_progress(client):
    for item in ("resnet_w8a8.mil", "resnet_w8a8.weights", "resnet_w8a8.calibration"):
        source = ROOT / "samples" / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, client.root / item)
    uri = (client.root / "resnet_w8a8.mil").as_uri()
    await open_doc(client, uri, (client.root / "resnet_w8a8.mil").read_text())
    run = types.ExecuteCommandParams(command="mil.w8a8", arguments=[uri])
    with pytest.raises(Exception, match="mil.calibrationFolder"):
        await client.workspace_execute_command_async(run)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"mil": {"calibrationFolder": "resnet_w8a8.calibration"}})
    )
    result = await client.workspace_execute_command_async(run)
    target = client.root / "build" / "resnet_w8a8.w8a8.mil"
    assert result["path"] == str(target) and target.is_file()
    assert "quantize(" in target.read_text() and (client.root / "build" / "resnet_w8a8.w8a8.weights").is_dir()
    psnr = float(result["message"].split("output PSNR ")[1].split(" dB")[0])
    assert psnr >= 30, result["message"]
    reports = next(r for token, r in client.progress_reports.items() if str(token).startswith("mil.w8a8/"))
    assert reports[0].kind == "begin" and reports[-1].kind == "end"
    steps = [r.message for r in reports if r.kind == "report"]
    assert steps[-1] == "calibrated on 8/8 samples", steps
    assert any(m.message.startswith("W8A8: 7 weights") for m in client.messages)
