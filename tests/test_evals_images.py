"""Eval datasets with image inputs: paths relative to the dataset file, content-hashed identity, the
`listing-from-photo` suite scored field by field, run offline through `aiagents eval run`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from aiagents.evals.datasets import Dataset, DatasetFileError, MediaFile
from aiagents.evals.suites import get_suite
from PIL import Image
from pydantic_ai.messages import BinaryContent
from pydantic_evals.evaluators import EvaluatorContext
from typer.testing import CliRunner

from aiagents.examples import ListingFromPhoto
from aiagents.media import to_content_part
from tests.test_media import drawn_photo

SUITE_DIR = Path(__file__).resolve().parents[1] / "evals" / "suites"


def _dataset_folder(root: Path) -> Path:
    folder = root / "set"
    (folder / "images").mkdir(parents=True)
    drawn_photo(folder / "images" / "bike.png", "Road bike, 350 EUR")
    drawn_photo(folder / "images" / "receipt.png", "receipt")
    (folder / "cases.yaml").write_text(
        "name: photos\n"
        "media: [photo]\n"
        "cases:\n"
        "  - name: a\n"
        "    inputs: {photo: images/bike.png}\n"
        "    expected_output: {category: bikes}\n"
        "  - name: b\n"
        "    inputs: {photo: 'https://example.com/x.png', receipt: images/receipt.png, notes: images/bike.png}\n"
        "    media: [receipt]\n"
    )
    return folder


def test_image_paths_resolve_against_the_dataset_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _dataset_folder(tmp_path)
    monkeypatch.chdir(tmp_path)  # not the dataset's folder: paths must not depend on the working directory
    ds = Dataset.load("set/cases.yaml")
    photo = ds.cases[0].inputs["photo"]
    data = (folder / "images" / "bike.png").read_bytes()
    assert isinstance(photo, MediaFile) and os.fspath(photo) == str(folder.resolve() / "images" / "bike.png")
    assert str(photo) == f"images/bike.png#sha256:{hashlib.sha256(data).hexdigest()[:16]}"
    b = ds.cases[1].inputs
    assert b["photo"] == "https://example.com/x.png"  # URLs stay URLs
    assert isinstance(b["receipt"], MediaFile)  # marked on the case
    assert b["notes"] == "images/bike.png"  # not a media input: left alone
    part = to_content_part(photo, kind="image", name="photo")  # tasks read it like any path
    assert isinstance(part, BinaryContent) and part.data == data and part.media_type == "image/png"


def test_missing_image_names_the_file_line_and_field(tmp_path: Path) -> None:
    folder = _dataset_folder(tmp_path)
    (folder / "images" / "receipt.png").unlink()
    path = folder / "cases.yaml"
    with pytest.raises(DatasetFileError) as err:
        Dataset.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}:7: case 'b': inputs.receipt: file 'images/receipt.png' not found")
    assert "relative to the dataset file" in message


def test_version_follows_the_image_content_not_its_location(tmp_path: Path) -> None:
    folder = _dataset_folder(tmp_path)
    version = Dataset.load(folder / "cases.yaml").version
    moved = shutil.copytree(folder, tmp_path / "elsewhere" / "set")
    assert Dataset.load(moved / "cases.yaml").version == version
    Image.new("RGB", (8, 8), (1, 2, 3)).save(moved / "images" / "bike.png")
    assert Dataset.load(moved / "cases.yaml").version != version
    # saved elsewhere, the media paths are rewritten relative to the new file
    ds = Dataset.load(folder / "cases.yaml")
    (tmp_path / "out").mkdir()
    ds.save(tmp_path / "out" / "copy.yaml")
    saved = yaml.safe_load((tmp_path / "out" / "copy.yaml").read_text())
    assert saved["media"] == ["photo"] and saved["cases"][0]["inputs"]["photo"] == "../set/images/bike.png"
    assert Dataset.load(tmp_path / "out" / "copy.yaml").version == version
    ds.save(tmp_path / "out" / "copy.jsonl")
    assert Dataset.load(tmp_path / "out" / "copy.jsonl").version == version


def test_media_names_from_the_prompt(tmp_path: Path) -> None:
    folder = _dataset_folder(tmp_path)
    (folder / "cases.jsonl").write_text(json.dumps({"name": "a", "inputs": {"photo": "images/bike.png"}}) + "\n")
    plain = Dataset.load(folder / "cases.jsonl")
    assert plain.cases[0].inputs["photo"] == "images/bike.png"
    from aiagents.prompts import PromptRegistry

    names = PromptRegistry().get("listing-from-photo").media_variables
    assert names == ["photo"]
    loaded = Dataset.load(folder / "cases.jsonl", media=names)
    assert isinstance(loaded.cases[0].inputs["photo"], MediaFile)
    later = plain.resolve_media(names)
    assert later.cases[0].inputs["photo"] == loaded.cases[0].inputs["photo"]


def _ctx(output: object, expected: object) -> EvaluatorContext[object, object, object]:
    return EvaluatorContext(
        name="c", inputs={}, metadata=None, expected_output=expected, output=output, duration=0.0,
        _span_tree=None, attributes={}, metrics={},  # type: ignore[arg-type]
    )  # fmt: skip


def test_listing_fields_scored_category_exact_price_within_20pct_title_contains() -> None:
    (evaluator,) = get_suite("listing-from-photo").make_evaluators()
    expected = {"title": "Road bike", "category": "bikes", "price": 350}

    def listing(title: str, category: str, price: float) -> ListingFromPhoto:
        return ListingFromPhoto(title=title, description="d", category=category, price=price, confidence=0.5)  # type: ignore[arg-type]

    good = evaluator.evaluate(_ctx(listing("Red road bike, 54 cm", "bikes", 420), expected))  # 420 = 350 + 20%
    assert {k: v.value for k, v in good.items()} == {
        "fields.title": True, "fields.category": True, "fields.price": True, "fields": 1.0, "fields_pass": True,
    }  # fmt: skip
    bad = evaluator.evaluate(_ctx(listing("Bicycle", "other", 421), expected))
    assert [bad[f"fields.{f}"].value for f in ("title", "category", "price")] == [False, False, False]
    assert bad["fields"].value == 0.0
    assert bad["fields"].reason == "0/3 fields match; wrong: ['title', 'category', 'price']"
    one_wrong = evaluator.evaluate(_ctx(listing("road bike", "bikes", 279), expected))  # 279 < 350 - 70
    assert one_wrong["fields"].value == pytest.approx(2 / 3) and "wrong: ['price']" in one_wrong["fields"].reason


def test_suite_files_are_what_the_generator_makes(tmp_path: Path) -> None:
    from aiagents.evals.suites import make_listing_photos as gen

    assert yaml.safe_load((SUITE_DIR / "listing-from-photo.yaml").read_text()) == gen.dataset()
    for item in gen.ITEMS:
        shipped = SUITE_DIR / "images" / f"{item.case}.png"
        assert shipped.stat().st_size < 8_000
        with Image.open(shipped) as image:
            assert image.info["Description"] == item.description and image.size == gen.SIZE
        regenerated = gen.write_image(item, tmp_path)
        with Image.open(shipped) as a, Image.open(regenerated) as b:
            assert a.tobytes() == b.tobytes()  # same pixels


def test_eval_run_listing_from_photo_offline_with_field_scores(tmp_path: Path) -> None:
    from aiagents.cli import app

    runner = CliRunner()
    out = tmp_path / "run"
    first = runner.invoke(app, ["eval", "run", "listing-from-photo", "--model", "offline", "--out", str(out), "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["cases"] == 10 and summary["completed"] == 10 and summary["model_calls"] == 10
    metrics = {name: m["mean"] for name, m in summary["metrics"].items()}
    # The offline baseline reads each PNG's embedded Description: price and product name are in every one,
    # the category only where the caption names it or a keyword gives it away (bike, headphones/electronics,
    # furniture, books, toys): 5 of 10.
    assert metrics["fields.price"] == 1.0 and metrics["fields.title"] == 1.0
    assert metrics["fields.category"] == 0.5 and metrics["fields"] == pytest.approx((1 + 1 + 0.5) / 3)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    by_case = {r["case"]: r for r in rows if "case" in r} or {r["name"]: r for r in rows}
    bike = next(iter(v for k, v in by_case.items() if k == "road-bike"))
    assert str(bike["inputs"]["photo"]).startswith("images/road-bike.png#sha256:")
    again = runner.invoke(
        app, ["eval", "run", "listing-from-photo", "--model", "offline", "--out", str(tmp_path / "b"), "--json"]
    )
    assert json.loads(again.stdout)["model_calls"] == 0  # the call cache keys on the image's content hash


def test_eval_run_on_a_dataset_file_resolves_the_prompts_image_variables(tmp_path: Path) -> None:
    from aiagents.cli import app

    folder = _dataset_folder(tmp_path)
    case = {"name": "bike", "inputs": {"photo": "images/bike.png"}, "expected_output": {"price": 350}}
    (folder / "mine.jsonl").write_text(json.dumps(case) + "\n")  # no media marker: the prompt declares photo
    res = CliRunner().invoke(
        app,
        ["eval", "run", str(folder / "mine.jsonl"), "--prompt", "listing-from-photo", "--model", "offline",
         "--out", str(tmp_path / "run"), "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["completed"] == 1 and summary["metrics"]["fields.price"]["mean"] == 1.0
