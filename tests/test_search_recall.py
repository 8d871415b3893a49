"""Recall of the directory search on what front-desk workers type (tests/data/search_recall.json), on the
demo town: each query's services among the first results, some of them first, and unrelated ones nowhere.
Prints found/expected."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from hub import demo

RECALL_SET = Path(__file__).parent / "data" / "search_recall.json"
RESULT = re.compile(r'<h3><a href="/annuaire/services/\d+">(.*?)</a></h3>')


@pytest.mark.demo_town
async def test_the_search_finds_what_front_desk_workers_mean(client, rt, capsys):
    recall_set = json.loads(RECALL_SET.read_text(encoding="utf-8"))
    await demo.seed(rt)
    found = expected = 0
    missed: list[str] = []
    not_first: list[str] = []
    noise: list[str] = []
    for case in recall_set["queries"]:
        params = {"q": case["query"], **({"pres_de": case["near"]} if "near" in case else {})}
        page = await client.get("/annuaire", params=params)
        assert page.status_code == 200, case
        shown = [html.unescape(name) for name in RESULT.findall(page.text)]
        names = shown[: recall_set["top"]]
        noise += [f"{case['query']!r} → {name}" for name in case.get("not", []) if name in shown]
        for name in case["expect"]:
            expected += 1
            if name in names:
                found += 1
            else:
                missed.append(f"{case['query']!r} → {name}")
        if "first" in case and names[:1] != [case["first"]]:
            not_first.append(f"{case['query']!r}: {names[:1]} instead of {case['first']}")
    with capsys.disabled():
        print(f"\nsearch recall: {found}/{expected} expected services found among the first {recall_set['top']}")
        print(
            f"  over {len(recall_set['queries'])} queries; missed: {missed or 'none'}; not first: {not_first or 'none'}"
            f"; found though unrelated: {noise or 'none'}"
        )
    assert len(recall_set["queries"]) >= 40
    assert not not_first and not noise
    assert found / expected >= 0.95, missed
