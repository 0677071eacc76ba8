"""A pytest plugin that turns coremltools' own op unit tests into recorded cases.

coremltools 9 ships its op tests in the wheel (`coremltools/converters/mil/mil/ops/tests/iOS14..iOS18`).
Almost every one ends in `run_compare_builder`, which builds a pymil program, converts it with
`ct_convert` and hands the model, the inputs and the expected outputs to `compare_backend`, which predicts
with Core ML (macOS only) and compares. Loaded with `-p recorder_plugin` (this folder on `sys.path`) and
`OPTESTS_OUT=DIR` in the environment, the plugin replaces those two helpers in the module where
`run_compare_builder` looks them up:

- `ct_convert` converts without loading the model (`skip_model_load=True`, nothing is compiled) and
  remembers the op types the test built, before the conversion passes rewrite the program;
- `compare_backend` predicts nothing: it saves a case folder `DIR/cases/<id>/` with the package
  (`model.mlpackage`), the inputs (`inputs/<name>.npy`, in the dtype and shape the model declares), the
  expected outputs (`expected/<name>.npy`, named as the model's outputs) and `case.json` (the test's node
  id, precision, deployment target, atol/rtol, mismatch ratio, compute unit, the op types built and the op
  types in the converted program); a stateful model also gets its states' initial values
  (`states/<name>.npy`, zeros as Core ML's `make_state` gives) and the number of predictions to chain.

`OPTESTS_MAX_PER_TEST=N` (N > 0) samples: of each test function's parametrizations (per precision) it
keeps N evenly spaced ones and deselects the rest (the counts go to `DIR/sampling.json`); the whole set is
17k tests, hours of conversion on a shared two-core machine. With `OPTESTS_COVER=1` it keeps more, until
every value of every parameter is kept once, so that a test parametrized by the op it tests (`mode`)
records every op.

Every test's outcome (passed, skipped with reason, failed with the first line of the error) and the ids of
the cases it recorded go to `DIR/tests.jsonl`, so the summary can say why a test left no case.
"""

import hashlib
import json
import os
import pathlib
import re
import shutil

import numpy as np
import pytest

OUT = pathlib.Path(os.environ.get("OPTESTS_OUT", "optests-out"))

# Core ML's multiArray data type numbers (FeatureTypes.proto `ArrayFeatureType.ArrayDataType`) and the
# numpy dtype an input of that type is fed as.
ARRAY_DTYPES = {65552: np.float16, 65568: np.float32, 65600: np.float64, 131104: np.int32, 131080: np.int8}

_current = {"nodeid": None, "cases": [], "built_ops": None}


class RecordedState:
    """Stands in for the state object `make_state` returns (Core ML only): it counts the predictions
    made with it, since a state carries over from one prediction to the next."""

    def __init__(self):
        self.predictions = 0


def _op_types(program):
    """The op types of every block of `program` (a pymil Program), nested blocks included."""
    seen = set()

    def walk(block):
        for op in block.operations:
            seen.add(op.op_type)
            for inner in op.blocks:
                walk(inner)

    for function in program.functions.values():
        walk(function)
    return sorted(seen)


def _case_id(nodeid, index):
    """A short, filesystem-safe, stable id for the `index`-th case of test `nodeid`."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", nodeid.split("::", 1)[-1].split("[")[0])[:60]
    digest = hashlib.sha1(f"{nodeid}#{index}".encode()).hexdigest()[:10]
    return f"{stem}_{digest}"


def _input_array(value, description):
    """`value` as Core ML would receive it for the model input `description` (a FeatureDescription).

    coremltools' `run_core_ml_predict` feeds every non-image input as float32 (a scalar as shape (1,)), and
    Core ML casts it to the declared array type; this does the same so the interpreter gets exactly that.
    """
    array = np.asarray(value)
    array = array.astype(np.float32) if array.shape != () else np.array([array], dtype=np.float32)
    multi = description.type.multiArrayType
    dtype = ARRAY_DTYPES.get(multi.dataType)
    if dtype is None:
        raise ValueError(f"input {description.name} has array data type {multi.dataType}")
    shape = list(multi.shape)
    if shape and array.size == int(np.prod(shape)) and list(array.shape) != shape:
        array = array.reshape(shape)
    return array.astype(dtype)


def _save_states(spec, folder):
    """Write each state of the model as Core ML's `make_state` makes it (zeros of the declared type) to
    `folder/states/<name>.npy`; returns {name: path}."""
    states = {}
    for description in spec.description.state:
        array = description.type.stateType.arrayType
        dtype = ARRAY_DTYPES.get(array.dataType)
        if dtype is None:
            raise ValueError(f"state {description.name} has array data type {array.dataType}")
        (folder / "states").mkdir(exist_ok=True)
        np.save(folder / "states" / f"{description.name}.npy", np.zeros(list(array.shape), dtype=dtype))
        states[description.name] = f"states/{description.name}.npy"
    return states


def _record(mlmodel, input_key_values, expected_outputs, dtype, atol, rtol, also_compare_shapes,
            state, allow_mismatch_ratio):
    """Save one case folder; returns its id.

    A stateful case records its states' initial values and how many predictions the test had made with
    its state object, this one included (`runs`): the case is run that many times, each run starting from
    the states the previous one left."""
    nodeid = _current["nodeid"]
    case_id = _case_id(nodeid, len(_current["cases"]))
    folder = OUT / "cases" / case_id
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "inputs").mkdir(parents=True)
    (folder / "expected").mkdir()
    spec = mlmodel.get_spec()
    mlmodel.save(str(folder / "model.mlpackage"))

    inputs = {}
    for description in spec.description.input:
        if description.type.WhichOneof("Type") != "multiArrayType":
            raise ValueError(f"input {description.name} is not a tensor ({description.type.WhichOneof('Type')})")
        value = input_key_values[description.name]
        np.save(folder / "inputs" / f"{description.name}.npy", _input_array(value, description))
        inputs[description.name] = f"inputs/{description.name}.npy"

    outputs = {}
    model_outputs = [o.name for o in spec.description.output]
    for index, (name, expected) in enumerate((expected_outputs or {}).items()):
        # The outputs come in the program's order; the model names them after sanitising.
        model_name = name if name in model_outputs else model_outputs[index]
        if isinstance(expected, dict):
            raise ValueError(f"output {name} is a dictionary (classifier)")
        np.save(folder / "expected" / f"{model_name}.npy", np.asarray(expected))
        outputs[model_name] = f"expected/{model_name}.npy"

    program = getattr(mlmodel, "_mil_program", None)
    case = {
        "id": case_id,
        "test": nodeid,
        "module": nodeid.split("::")[0].split("/tests/")[-1],
        "precision": dtype,
        "opset": spec.specificationVersion,
        "compute_unit": str(mlmodel.compute_unit),
        "atol": float(atol),
        "rtol": float(rtol),
        "allow_mismatch_ratio": float(allow_mismatch_ratio),
        "compare_shapes": bool(also_compare_shapes),
        "stateful": state is not None or len(spec.description.state) > 0,
        "states": _save_states(spec, folder),
        "runs": state.predictions + 1 if isinstance(state, RecordedState) else 1,
        "inputs": inputs,
        "outputs": outputs,
        "built_ops": _current["built_ops"] or [],
        "ops": _op_types(program) if program is not None else [],
    }
    (folder / "case.json").write_text(json.dumps(case, indent=1))
    _current["cases"].append(case_id)
    return case_id


def recording_compare_backend(mlmodel, input_key_values, expected_outputs, dtype="fp32", atol=1e-04,
                              rtol=1e-05, also_compare_shapes=True, state=None, allow_mismatch_ratio=0.0):
    """Stands in for coremltools' `compare_backend`: records the case instead of predicting."""
    _record(mlmodel, input_key_values, expected_outputs, dtype, atol, rtol, also_compare_shapes, state,
            allow_mismatch_ratio)
    if isinstance(state, RecordedState):
        state.predictions += 1
    return None


def _wrap_ct_convert(original):
    """`ct_convert` that never loads the model and notes the op types the test built; a stateful
    model's `make_state` gives a `RecordedState`."""

    def recording_ct_convert(program, *args, **kwargs):
        if hasattr(program, "functions"):
            _current["built_ops"] = _op_types(program)
        kwargs["skip_model_load"] = True
        mlmodel = original(program, *args, **kwargs)
        if hasattr(mlmodel, "_is_stateful") and mlmodel._is_stateful():
            mlmodel.make_state = RecordedState
        return mlmodel

    return recording_ct_convert


def pytest_configure(config):
    """Patch the helpers before any test module binds them."""
    import coremltools.converters.mil.testing_utils as common
    import coremltools.converters.mil.mil.ops.tests.testing_utils as op_utils

    convert = _wrap_ct_convert(common.ct_convert)
    for module in (common, op_utils):
        module.compare_backend = recording_compare_backend
        module.ct_convert = convert
    (OUT / "cases").mkdir(parents=True, exist_ok=True)


def _parameter_values(item):
    """The (parameter, value) pairs of a parametrized test item (empty for a plain test)."""
    callspec = getattr(item, "callspec", None)
    return {(name, repr(value)) for name, value in callspec.params.items()} if callspec else set()


def _evenly_spaced(group, limit):
    """`limit` evenly spaced items of `group`."""
    return [group[i * len(group) // limit] for i in range(limit)]


def _covering(group, keep):
    """`keep` and more items of `group` until every value of every parameter is kept at least once
    (greedily, the item that adds the most values first): an op test parametrized by `mode` or op
    name keeps every op it tests, not only those the even spacing happens to hit."""
    keep = list(keep)
    covered = set().union(*(_parameter_values(item) for item in keep))
    while True:
        best = max(group, key=lambda item: len(_parameter_values(item) - covered))
        new = _parameter_values(best) - covered
        if not new:
            return keep
        keep.append(best)
        covered |= new


def pytest_collection_modifyitems(config, items):
    """Keep `OPTESTS_MAX_PER_TEST` evenly spaced parametrizations of each test function and precision,
    and with `OPTESTS_COVER=1` enough more that each parameter value appears (`_covering`)."""
    limit = int(os.environ.get("OPTESTS_MAX_PER_TEST", "0"))
    cover = os.environ.get("OPTESTS_COVER") == "1"
    groups = {}
    for item in items:
        precision = "fp16" if "'fp16'" in item.nodeid else "fp32" if "'fp32'" in item.nodeid else ""
        groups.setdefault((item.nodeid.split("[")[0], precision), []).append(item)
    keep = set()
    for group in groups.values():
        if limit <= 0 or len(group) <= limit:
            keep.update(id(item) for item in group)
        else:
            sample = _evenly_spaced(group, limit)
            keep.update(id(item) for item in (_covering(group, sample) if cover else sample))
    deselected = [item for item in items if id(item) not in keep]
    items[:] = [item for item in items if id(item) in keep]
    config.hook.pytest_deselected(items=deselected)
    (OUT / "sampling.json").write_text(json.dumps(
        {"max_per_test": limit, "cover": cover, "collected": len(items) + len(deselected), "kept": len(items)}))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Track which test is running so its cases carry its node id."""
    _current.update(nodeid=item.nodeid, cases=[], built_ops=None)
    yield


def pytest_runtest_logreport(report):
    """Append the test's outcome and its recorded cases to tests.jsonl (once, for the phase that decided)."""
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        reason = ""
        if hasattr(report, "wasxfail"):
            reason = "xfail: " + (report.wasxfail or "marked expected to fail")
        elif report.skipped and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2]
        elif report.failed:
            message = getattr(report.longrepr, "reprcrash", None)
            reason = message.message if message else str(report.longrepr)
            reason = reason.strip().splitlines()[0] if reason.strip() else "failed"
        row = {"test": report.nodeid, "outcome": report.outcome, "reason": reason[:300],
               "cases": list(_current["cases"])}
        with open(OUT / "tests.jsonl", "a") as log:
            log.write(json.dumps(row) + "\n")
