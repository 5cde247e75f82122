"""The CPU description the bench prints beside its figures (VNNI changes them 3x); bf16 detection for training is
tested with parse_args in test_bert.py."""

from __future__ import annotations

from classifiers.cpu import CPUINFO, describe_cpu, has_native_bf16, read_cpu


def test_describe_cpu_reports_the_best_int8_feature() -> None:
    vnni = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse avx2 avx512bw avx512_vnni\n\nprocessor\t: 1\n"
    assert describe_cpu(vnni) == "AMD EPYC, int8: avx512_vnni"
    avx2 = "model name : Intel Xeon\nflags : fpu sse avx avx2 fma\n"
    assert describe_cpu(avx2) == "Intel Xeon, int8: avx2"
    assert describe_cpu("flags : fpu sse\n").startswith("unknown CPU, int8: none of amx_int8/")
    assert not has_native_bf16(avx2) and not has_native_bf16(None)
    assert has_native_bf16("flags : avx512f avx512_bf16\n")


def test_read_cpu_describes_this_machine() -> None:
    line = read_cpu()
    assert ", int8: " in line or line.startswith("CPU not described")
    if CPUINFO.is_file():
        assert ", int8: " in line
