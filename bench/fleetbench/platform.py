"""Registry entry of the benchmark's fake platform (QINGYUAN_PLATFORM_MODULES=fleetbench.platform)."""

from core.platforms import PlatformSpec

PLATFORM = PlatformSpec(
    name="fleetbench",
    name_zh="基准平台",
    spider="fleetbench.spider",
    parser="fleetbench.parser",
    signing="none",
    post_kinds=("post",),
    takes_now=False,
)
