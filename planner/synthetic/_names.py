"""Chinese name pools of the synthetic street generator (private to :mod:`planner.synthetic.demo`).

Road, community, compound and village names are drawn from these pools by a
:class:`Names` object with its own random stream, so renaming never moves geometry.
"""

from __future__ import annotations

import numpy as np

NS_NAMES = (
    "朱雀大街",
    "长安路",
    "含光路",
    "翠华路",
    "雁塔路",
    "太白路",
    "吉祥路",
    "曲江路",
    "芙蓉路",
    "青龙路",
    "昭德路",
    "延兴路",
    "慈恩路",
    "安仁路",
    "永宁路",
    "明德路",
)
EW_NAMES = (
    "雁南路",
    "小寨路",
    "崇业路",
    "电子正街",
    "雁展路",
    "兴善路",
    "育才路",
    "乐游路",
    "玉泉路",
    "紫薇路",
    "金华路",
    "丰庆路",
    "文景路",
    "广德路",
    "晋昌路",
    "长乐路",
)
LOCAL_STEMS = (
    "文苑",
    "翠竹",
    "书院",
    "槐荫",
    "杏园",
    "石榴",
    "枫林",
    "梧桐",
    "兰亭",
    "青松",
    "海棠",
    "柳巷",
    "银杏",
    "丁香",
    "桂香",
    "芳草",
    "明光",
    "清风",
    "和乐",
    "安居",
)
COMMUNITY_STEMS = (
    "雁鸣",
    "翠华",
    "长乐",
    "芙蓉",
    "永宁",
    "安仁",
    "乐游",
    "兴善",
    "崇仁",
    "明德",
    "昭德",
    "慈恩",
    "青龙",
    "晋昌",
    "延兴",
    "通善",
    "光德",
    "嘉会",
    "怀远",
    "宣义",
)
COMPOUND_STEMS = (
    "锦绣",
    "翠华",
    "阳光",
    "紫薇",
    "书香",
    "桃园",
    "枫林",
    "碧水",
    "天朗",
    "金色",
    "雁塔",
    "曲江",
    "华府",
    "春晓",
    "丽景",
    "御景",
    "和谐",
    "幸福",
    "康乐",
    "育才",
    "明珠",
    "秀水",
    "西苑",
    "东方",
    "南湖",
    "绿苑",
    "兰庭",
    "瑞祥",
    "嘉禾",
    "泰和",
    "祥和",
    "怡心",
    "欣园",
    "富丽",
    "长安",
    "丰景",
    "悦城",
    "玉兰",
    "青年",
    "电子",
)
COMPOUND_SUFFIXES = (
    "家园",
    "小区",
    "花园",
    "苑",
    "公寓",
    "华庭",
    "雅居",
    "嘉园",
    "新村",
    "名邸",
    "佳苑",
    "里",
)
VILLAGE_STEMS = ("杨家", "西八里", "北沈家", "吴家坟", "甘家", "丈八", "瓦胡同", "庙坡头")
NUMERALS = "一二三四五六七八九十"


class Names:
    """Deterministic pools of unique Chinese names."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def take(self, pool: list[str]) -> str:
        for cand in pool:
            if cand not in self.used:
                self.used.add(cand)
                return cand
        base = pool[0] if pool else "无名"
        k = 2
        while f"{base}{k}" in self.used:
            k += 1
        self.used.add(f"{base}{k}")
        return f"{base}{k}"

    def shuffled(self, items: tuple[str, ...]) -> list[str]:
        return [items[i] for i in self.rng.permutation(len(items))]


def cn_number(k: int) -> str:
    """Chinese numeral for 1-99 (一, 二, ..., 十, 十一, ..., 九十九); larger as digits."""
    if not 1 <= k <= 99:
        return str(k)
    tens, ones = divmod(k, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens - 1] + "十")
    return head + (NUMERALS[ones - 1] if ones else "")


def street_short_name(name: str) -> str:
    """The street name without the synthetic note and the 街道 suffix."""
    return name.split("（")[0].removesuffix("街道")
