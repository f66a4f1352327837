"""What the machine offers: native bfloat16 from the CPU's flags, and the engine and precision picked from it."""
import pytest

from training.host import devices
from training.host.devices import choose_engine


@pytest.mark.parametrize("gpu, native, expected", [
    (False, False, ("litert", "float32")), (False, True, ("tensorflow", "bfloat16")),
    (True, False, ("tensorflow", "float32")), (True, True, ("tensorflow", "float32"))])
def test_auto_engine_and_precision_follow_the_hardware(monkeypatch, gpu, native, expected):
    monkeypatch.setattr(devices, "gpu_visible", lambda: gpu)
    monkeypatch.setattr(devices, "native_bfloat16", lambda: native)
    assert choose_engine("auto", "auto") == expected
    assert choose_engine("litert", "auto") == ("litert", "float32")
    assert choose_engine("auto", "float32") == ("tensorflow" if gpu else "litert", "float32")
    assert choose_engine("tensorflow", "auto") == ("tensorflow", expected[1])


@pytest.mark.parametrize("flags, native", [("fpu avx2 avx512f avx512_bf16 avx512_vnni", True),
                                           ("fpu avx2 amx_bf16 amx_tile", True), ("fpu avx2 avx512f fma", False)])
def test_native_bfloat16_is_read_from_the_cpu_flags(tmp_path, flags, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\n")
    assert devices.native_bfloat16(str(cpuinfo)) is native
    assert devices.native_bfloat16(str(tmp_path / "missing")) is False


def test_engine_choice_is_checked():
    assert choose_engine("auto", "bfloat16") == ("tensorflow", "bfloat16")
    with pytest.raises(ValueError, match="bfloat16 runs on the TensorFlow engine only"):
        choose_engine("litert", "bfloat16")
    with pytest.raises(ValueError, match="Unknown engine 'onnx'"):
        choose_engine("onnx")
    with pytest.raises(ValueError, match="Unknown precision 'float16'"):
        choose_engine("auto", "float16")


def test_an_onnx_model_runs_on_onnx_runtime_in_float32_without_asking_tensorflow(monkeypatch):
    monkeypatch.setattr(devices, "gpu_visible", lambda: pytest.fail("TensorFlow was asked about GPUs"))
    monkeypatch.setattr(devices, "native_bfloat16", lambda: True)
    assert choose_engine("auto", "auto", onnx=True) == choose_engine("auto", "float32", onnx=True) == (
        "onnxruntime", "float32")
    with pytest.raises(ValueError, match="set the engine to auto, not tensorflow"):
        choose_engine("tensorflow", "auto", onnx=True)
    with pytest.raises(ValueError, match="in float32 .*: set the precision to auto or float32"):
        choose_engine("auto", "bfloat16", onnx=True)


@pytest.mark.parametrize("gpu, native, expected", [
    (False, False, ("onnxruntime", "int8")), (False, True, ("tensorflow", "bfloat16")),
    (True, False, ("tensorflow", "float32"))])
def test_auto_picks_a_model_files_int8_copy_only_on_a_cpu_without_native_bfloat16(monkeypatch, gpu, native, expected):
    monkeypatch.setattr(devices, "gpu_visible", lambda: gpu)
    monkeypatch.setattr(devices, "native_bfloat16", lambda: native)
    assert choose_engine("auto", "auto", int8=True) == expected
    assert choose_engine("auto", "auto", int8=False) != ("onnxruntime", "int8")  # no copy, or its check failed
    assert choose_engine("litert", "auto", int8=True) == ("litert", "float32")  # an engine chosen: as before
    assert choose_engine("auto", "int8", int8=True) == ("onnxruntime", "int8")  # asked for: wherever
    spec = devices.importlib.util.find_spec
    monkeypatch.setattr(devices.importlib.util, "find_spec", lambda name: None if name == "onnxruntime" else spec(name))
    assert choose_engine("auto", "auto", int8=True) != ("onnxruntime", "int8")  # no ONNX Runtime here


def test_int8_is_refused_without_a_copy_on_another_engine_and_for_an_onnx_model():
    with pytest.raises(ValueError, match="carries no int8 copy: set the precision to auto or float32"):
        choose_engine("auto", "int8")
    with pytest.raises(ValueError, match="int8 runs on ONNX Runtime: set the engine to auto, not litert"):
        choose_engine("litert", "int8", int8=True)
    with pytest.raises(ValueError, match=r"in float32 \(int8 is the copy a GeoSeg model file carries\)"):
        choose_engine("auto", "int8", onnx=True)
