"""The seed articles become clean, citable passages with the right flags."""

from __future__ import annotations

import re

from qa.ingest.corpus import process
from qa.ingest.documents import Document
from qa.ingest.flags import despin, detect_flags, spun_pairs
from qa.text.normalize import narrow, to_simplified

LUSHI, JINGYU, XUNWU, MIANYANG, GONGQING = (
    "003_7be028efea89ec43", "001_b251bfdd5ef11c19", "000_7e6e3292d6c6a094",
    "002_7466b54d2739728f", "004_02c3d19073bbefd4")


def _holder(processed, doc_id, *phrases):
    _, passages, _ = processed[doc_id]
    simp = [(p, to_simplified(re.sub(r"\s", "", p.text))) for p in passages]
    return [p for p, t in simp if all(x in t for x in phrases)]


def test_key_explanations_sit_in_one_passage_with_their_heading(seed_processed):
    # The 卢氏模式 heading and what it means.
    assert _holder(seed_processed, LUSHI, "实施金融创新形成“卢氏模式”", "信用评价体系",
                   "风险防控体系")
    # 43222工作法 with its explanation (四看 … 两公示).
    assert _holder(seed_processed, LUSHI, "“43222”工作法最终形成", "四看", "三问", "两算", "两公示")
    # 五查五看 with the explanation in brackets (Traditional source).
    assert _holder(seed_processed, GONGQING, "五查五看", "查家庭收入", "查致贫原因,看贫困程度")


def test_list_items_of_the_five_models_stay_whole(seed_processed):
    for label in ("以奖代投", "品牌引领", "龙头带动", "以强带弱", "兜底保障"):
        hits = _holder(seed_processed, JINGYU, f"{label}:")
        assert len(hits) == 1, label


def test_passage_sizes(seed_processed):
    sizes = [len(p.text) for _, ps, _ in seed_processed.values() for p in ps
             if "caption" not in p.flags]
    assert max(sizes) <= 400
    assert sum(s >= 100 for s in sizes) / len(sizes) >= 0.9


def test_raw_offsets_point_at_the_original_text(seed_processed):
    for record, passages, cleaned in seed_processed.values():
        raw = record.raw
        dropped = {i for s, e, _ in cleaned.removed for i in range(s, e)}
        for p in passages:
            span = "".join(narrow(raw[i]) for i in range(p.raw_start, p.raw_end)
                           if i not in dropped)
            assert re.sub(r"\s", "", span) == re.sub(r"\s", "", p.text), p.id


def test_flags_on_seeds(seed_processed):
    flags = {doc_id: {f["name"]: f["evidence"] for f in rec.flags}
             for doc_id, (rec, _, _) in seed_processed.items()}
    assert set(flags[GONGQING]) == {"traditional"}
    assert set(flags[LUSHI]) == {"pdf-extraction"}
    assert set(flags[MIANYANG]) == {"censored"}
    assert "*策" in flags[MIANYANG]["censored"] and "*府" in flags[MIANYANG]["censored"]
    assert set(flags[XUNWU]) == {"spun"}
    assert "贫困→贫窭" in flags[XUNWU]["spun"] and "书记→尺牍" in flags[XUNWU]["spun"]
    assert flags[JINGYU] == {}
    for _, passages, _ in seed_processed.values():
        for p in passages:
            assert set(p.flags) - {"caption"} <= {"traditional", "pdf-extraction", "censored",
                                                 "spun"}


def test_captions_are_kept_and_marked(seed_processed):
    _, passages, _ = seed_processed[MIANYANG]
    captions = [p for p in passages if "caption" in p.flags]
    assert captions and "马俊摄" in captions[0].text


def test_flags_never_change_text():
    text = "县委尺牍带领贫窭户发展,贫窭生齿减少,宇宙供销做事会议。" * 5
    rec, passages, _ = process(Document("d", "t", text))
    assert "spun" in [f["name"] for f in rec.flags]
    assert "".join(p.text for p in passages) == text


def test_single_spun_word_is_not_enough():
    rec, _, _ = process(Document("d", "t", "中华人民共和国书记处的尺牍收藏展。" * 3))
    assert rec.flags == []


def test_despin_keeps_length_and_restores_originals():
    s = "县委尺牍带领贫窭户,贫窭生齿减少。"
    assert despin(s) == "县委书记带领贫困户,贫困人口减少。"
    assert len(despin(s)) == len(s)
    assert spun_pairs(s)[("贫困", "贫窭")] == 2


def test_passage_ids_are_stable_and_depend_on_text():
    a = process(Document("d", "t", "第一段正文,内容充实。" * 20))[1]
    b = process(Document("d", "t", "第一段正文,内容充实。" * 20))[1]
    c = process(Document("d", "t", "第一段正文,内容改了。" * 20))[1]
    assert [p.id for p in a] == [p.id for p in b]
    assert a[0].id != c[0].id


def test_censored_detection_needs_masks_next_to_chinese():
    from qa.ingest.clean import clean

    assert detect_flags(clean("价格为5*3元。"), "simplified") == []
    assert [f.name for f in detect_flags(clean("落实*策措施。"), "simplified")] == ["censored"]
