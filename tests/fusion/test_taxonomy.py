"""Category as two values (issue 14): the product type and a department of Google's product taxonomy,
for the local rules and for whatever a cloud model answers."""

from __future__ import annotations

import pytest

from edge.evidence.schema import RESULT_SCHEMA, schema_problem
from edge.fusion import taxonomy as tx
from edge.fusion.documents import EvidenceView
from edge.fusion.local_rules import fuse_local
from edge.fusion.qwen import _normalise_answer, _result


def test_the_shipped_taxonomy_and_every_type_of_the_lexicon_resolve():
    tax = tx.taxonomy()
    assert len(tax.by_id) > 5000 and tax.by_id[567].path == "Health & Beauty > Personal Care > Cosmetics > Skin Care"
    assert tax.by_id[3994].path.endswith("Piñatas")  # the file's text is UTF-8, not mojibake
    words = tx.product_types()
    assert len({kind.en for _, _, kind in words}) >= 60 and all(kind.department.id in tax.by_id for _, _, kind in words)


def test_a_taxonomy_line_that_is_not_id_and_path_is_refused_with_its_line():
    with pytest.raises(ValueError, match=r"taxonomy.txt:3: not 'ID - Path'"):
        tx.Taxonomy(["# version", "1 - Animals & Pet Supplies", "Animals & Pet Supplies > Pet Supplies"], "taxonomy.txt")


def test_departments_are_found_by_path_in_any_case_and_spacing_or_by_a_name_only_one_node_has():
    tax = tx.taxonomy()
    assert tax.find("health & beauty>personal care >  hair care").id == 486
    assert tax.find("Shampoo & Conditioner").id == 2441
    assert tax.find("Accessories") is None  # many nodes are called that
    assert tax.find("Skincare") is None and tax.find("") is None and tax.find(None) is None


def test_same_department_is_equal_or_nested_below_the_top_levels():
    tax = tx.taxonomy()
    skin, sunscreen, care, hair = tax.by_id[567], tax.by_id[2844], tax.by_id[2915], tax.by_id[486]
    assert tx.same_department(skin, sunscreen) and tx.same_department(sunscreen, skin) and tx.same_department(hair, hair)
    assert not tx.same_department(care, hair)  # "Personal Care" holds too much to count as the same department
    assert not tx.same_department(skin, hair) and not tx.same_department(skin, None)


def test_the_most_specific_word_names_the_type_in_the_language_of_the_word():
    assert [m.value for m in tx.types_in("Rose Water Eye Cream")] == ["eye cream", "skin care"]
    assert tx.types_in("水润洗面奶")[0].type.en == "facial cleanser"
    assert tx.types_in("水润洗面奶")[0].value == "洗面奶"
    assert tx.types_in("Cordless Electric Toothbrush")[0].value == "toothbrush"
    assert tx.types_in("山茶", min_cjk=2) == [] and tx.types_in("山茶")[0].value == "茶"
    assert tx.types_in("8.6k watching") == []  # whole words only


def test_a_lexicon_department_the_taxonomy_lacks_is_refused_naming_the_type(monkeypatch, tmp_path):
    from importlib import resources

    real = resources.files("edge.fusion")

    class Folder:
        def joinpath(self, name):
            if name == "product_types.yaml":
                path = tmp_path / name
                path.write_text("gizmo: {en: [gizmo], zh: [小玩意], department: Gadgets > Gizmos}\n", encoding="utf-8")
                return path
            return real.joinpath(name)

    monkeypatch.setattr(tx.resources, "files", lambda package: Folder())
    tx.product_types.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"product_types.yaml: type 'gizmo': .*no department 'Gadgets > Gizmos'"):
            tx.product_types()
    finally:
        tx.product_types.cache_clear()


def _cloud(evidence, **fields):
    answer = {"product_name": "Silk Shine Shampoo", "brand": "NOVA", "product_type": "shampoo", "category": None,
              "key_attributes": {}, "price": None}
    answer.update(fields)
    names = [k for k in answer if k != "key_attributes"] + ["key_attributes"]
    answer["confidence"] = dict.fromkeys(names, 0.9)
    answer["support"] = {k: ["ocr"] for k in names}
    return _result(EvidenceView.from_document(evidence), _normalise_answer(answer), "qwen-plus")


@pytest.fixture
def shampoo(make_evidence, make_line):
    return make_evidence([make_line("NOVA", height=40, top=40), make_line("Silk Shine Shampoo", height=25, top=100)])


def test_a_cloud_department_is_written_as_its_full_taxonomy_path(shampoo):
    result = _cloud(shampoo, category="Shampoo & Conditioner")
    assert result["category"] == "Health & Beauty > Personal Care > Hair Care > Shampoo & Conditioner" and result["category_id"] == 2441
    assert schema_problem(result, RESULT_SCHEMA) is None


def test_a_cloud_category_the_taxonomy_lacks_gives_way_to_the_department_of_its_type(shampoo):
    result = _cloud(shampoo, category="Haircare stuff")
    assert result["category_id"] == 543615 and result["category"].endswith("Shampoo & Conditioner > Shampoo")
    assert result["grounds"]["category"] == result["grounds"]["product_type"] == {"ocr_lines": [1]}


def test_a_cloud_category_nothing_resolves_is_kept_as_given_without_an_id(shampoo):
    result = _cloud(shampoo, product_type=None, category="Haircare stuff")
    assert result["category"] == "Haircare stuff" and result["category_id"] is None
    assert schema_problem(result, RESULT_SCHEMA) is None


def test_an_answer_in_the_older_five_field_shape_has_no_type(shampoo):
    answer = {"product_name": "Silk Shine Shampoo", "brand": "NOVA", "category": "Hair Care", "key_attributes": {}, "price": None,
              "confidence": dict.fromkeys(["product_name", "brand", "category", "key_attributes", "price"], 0.9),
              "support": dict.fromkeys(["product_name", "brand", "category", "key_attributes", "price"], ["ocr"])}
    result = _result(EvidenceView.from_document(shampoo), _normalise_answer(answer), "qwen-plus")
    assert result["product_type"] is None and result["category_id"] == 486


def test_local_rules_name_type_and_department_in_chinese_and_english(make_evidence, make_line):
    zh = fuse_local(make_evidence([make_line("花漾", height=50, top=40), make_line("氨基酸洗面奶", height=30, top=110)]))
    assert (zh["product_type"], zh["category_id"]) == ("洗面奶", 2526)
    en = fuse_local(make_evidence([make_line("FITLY", height=40, top=40), make_line("Wild Blueberry Protein Bar", height=25, top=100)]))
    assert (en["product_type"], en["category"]) == ("protein bar", "Health & Beauty > Health Care > Fitness & Nutrition > Nutrition Bars")
