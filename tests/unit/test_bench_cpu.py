"""The classification bench names the CPU's best int8 feature beside its figures (VNNI changes them 3x)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_classify.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_classify", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_describe_cpu_reports_the_best_int8_feature() -> None:
    bench = _bench()
    vnni = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse avx2 avx512bw avx512_vnni\n\nprocessor\t: 1\n"
    assert bench.describe_cpu(vnni) == "AMD EPYC, int8: avx512_vnni"
    avx2 = "model name : Intel Xeon\nflags : fpu sse avx avx2 fma\n"
    assert bench.describe_cpu(avx2) == "Intel Xeon, int8: avx2"
    assert bench.describe_cpu("flags : fpu sse\n").startswith("unknown CPU, int8: none of amx_int8/")


def test_read_cpu_describes_this_machine() -> None:
    line = _bench().read_cpu()
    assert ", int8: " in line or line.startswith("CPU not described")
