"""What the CPU computes natively, read from /proc/cpuinfo: training picks bf16 autocast from it, and the bench
prints it beside its figures (onnxruntime's int8 kernels run several times faster with VNNI: the shipped ensemble
ran at 968-996 posts/s with AVX-512 VNNI and 231-373 on an AVX2-only CPU)."""

from __future__ import annotations

from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
BF16_FEATURES = frozenset({"avx512_bf16", "amx_bf16"})
INT8_FEATURES = ("amx_int8", "avx512_vnni", "avx_vnni", "avx512bw", "avx2")  # int8 matrix instructions, fastest first


def read_cpuinfo(path: Path = CPUINFO) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _fields(cpuinfo: str) -> tuple[str, set[str]]:
    """(model name, flags) of the first processor listed."""
    model, flags = "unknown CPU", set[str]()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return model, flags


def has_native_bf16(cpuinfo: str | None) -> bool:
    """AVX-512 BF16 or AMX: the CPU computes in bfloat16 itself rather than emulating it."""
    return cpuinfo is not None and bool(_fields(cpuinfo)[1] & BF16_FEATURES)


def describe_cpu(cpuinfo: str) -> str:
    """'<model name>, int8: avx512_vnni': the CPU and the best int8 feature it reports."""
    model, flags = _fields(cpuinfo)
    best = next((f for f in INT8_FEATURES if f in flags), "none of " + "/".join(INT8_FEATURES))
    return f"{model}, int8: {best}"


def read_cpu() -> str:
    """describe_cpu() of this machine."""
    cpuinfo = read_cpuinfo()
    return describe_cpu(cpuinfo) if cpuinfo is not None else "CPU not described (no /proc/cpuinfo)"
