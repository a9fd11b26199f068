"""Images and files as inputs: sniffing, limits, content parts, the wire request, spans, the CLI."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from pydantic_ai.messages import BinaryContent, DocumentUrl, ImageUrl
from typer.testing import CliRunner

from aiagents.cli import app
from aiagents.media import MediaError, sniff_media_type, to_content_part
from aiagents.settings import reset_settings
from aiagents.tasks import OUTPUT_TOOL_NAME, Task
from tests.support.openai_wire import OpenAIWireServer, tool_call_reply


def drawn_photo(path: Path, description: str, size: tuple[int, int] = (64, 48)) -> Path:
    """A small generated PNG with known content: a coloured rectangle and an embedded description."""
    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(10, 30):
        for y in range(10, 20):
            image.putpixel((x, y), (20, 20, 220))
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", description)
    image.save(path, format="PNG", pnginfo=info)
    return path


def test_sniffing_uses_the_bytes_not_the_name(tmp_path: Path) -> None:
    png = drawn_photo(tmp_path / "looks-like.pdf", "x")
    assert sniff_media_type(png.read_bytes()) == "image/png"
    part = to_content_part(png, kind="image")
    assert isinstance(part, BinaryContent) and part.media_type == "image/png"
    jpeg = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    assert to_content_part(jpeg).media_type == "image/jpeg"  # type: ignore[union-attr]
    assert sniff_media_type(b"%PDF-1.7 ...") == "application/pdf"
    assert sniff_media_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_media_type(b"\x00\x01\x02\xff") is None


def test_limits_and_types_name_file_size_and_limit(tmp_path: Path) -> None:
    big = drawn_photo(tmp_path / "big.png", "x", size=(300, 300))
    size = big.stat().st_size
    with pytest.raises(MediaError, match=rf"big\.png: {size:,} bytes is over the image limit of 100 bytes"):
        to_content_part(big, max_bytes=100)
    pdf = tmp_path / "doc.png"
    pdf.write_bytes(b"%PDF-1.4 hello")
    with pytest.raises(MediaError, match=r"doc\.png: the content is application/pdf, not one of image/png"):
        to_content_part(pdf, kind="image")
    assert to_content_part(pdf, kind="file").media_type == "application/pdf"  # type: ignore[union-attr]
    with pytest.raises(MediaError, match=r"missing\.png: cannot read the image"):
        to_content_part(tmp_path / "missing.png")
    with pytest.raises(MediaError, match=r"photo: the content is unknown binary content"):
        to_content_part(b"\x00\x01\x02", name="photo")


def test_content_parts_for_path_bytes_and_url(tmp_path: Path) -> None:
    path = drawn_photo(tmp_path / "bike.png", "bike")
    from_path = to_content_part(path)
    from_bytes = to_content_part(path.read_bytes())
    assert isinstance(from_path, BinaryContent) and from_path.identifier == "bike"
    assert isinstance(from_bytes, BinaryContent) and from_bytes.data == from_path.data
    assert isinstance(to_content_part("https://example.com/bike.png"), ImageUrl)
    assert isinstance(to_content_part("https://example.com/manual.pdf", kind="file"), DocumentUrl)


async def test_offline_baseline_reads_what_the_image_says_about_itself(tmp_path: Path) -> None:
    photo = drawn_photo(tmp_path / "img.png", "Wooden chair, solid oak, good condition, 40 EUR")
    result = await Task("listing-from-photo").run({"photo": photo})
    assert result.output.category == "other" and result.output.price == 40
    assert result.output.title.startswith("Wooden chair") and result.output.confidence <= 0.3
    named = tmp_path / "kids-toys-box.png"
    Image.new("RGB", (8, 8)).save(named)
    assert (await Task("listing-from-photo").run({"photo": named})).output.category == "toys"


def test_version_is_the_templates_not_the_images(tmp_path: Path) -> None:
    task = Task("listing-from-photo")
    a = task.run_sync({"photo": drawn_photo(tmp_path / "a.png", "books, 5 EUR")})
    b = task.run_sync({"photo": drawn_photo(tmp_path / "b.png", "garden chair, 9 EUR")})
    assert a.prompt_version == b.prompt_version == task.prompt.version


GOOD = {"title": "Red road bike", "description": "A red bike.", "category": "bikes", "price": 250, "confidence": 0.8}


async def test_the_wire_request_carries_the_image_as_a_data_url(
    openai_server: OpenAIWireServer, tmp_path: Path
) -> None:
    photo = drawn_photo(tmp_path / "bike.png", "bike")
    openai_server.script(tool_call_reply((OUTPUT_TOOL_NAME, GOOD)))
    model = f"openai-compatible:vision@{openai_server.url}"
    result = await Task("listing-from-photo", model=model).run({"photo": photo, "notes": "barely used"})
    assert result.output.price == 250 and result.output.category == "bikes"
    user = openai_server.requests[0]["messages"][1]
    text = next(c for c in user["content"] if c["type"] == "text")
    image = next(c for c in user["content"] if c["type"] == "image_url")
    assert "barely used" in text["text"]
    url = image["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == photo.read_bytes()


@pytest.mark.parametrize("mode", ["inline", "hash"])
async def test_spans_show_the_image_or_its_hash(mode: str, tmp_path: Path, spans, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIAGENTS_TRACE_MEDIA", mode)
    reset_settings()
    photo = drawn_photo(tmp_path / "bike.png", "red bike, 100 EUR")
    result = await Task("listing-from-photo").run({"photo": photo})
    llm = next(
        s
        for s in spans.get_finished_spans()
        if f"{s.context.trace_id:032x}" == result.trace_id and s.attributes["openinference.span.kind"] == "LLM"
    )
    url = llm.attributes["llm.input_messages.1.message.contents.1.message_content.image.image.url"]
    if mode == "inline":
        assert url.startswith("data:image/png;base64,")
    else:
        assert url.startswith("sha256:") and "bytes, image/png" in url
    variables = json.loads(llm.attributes["llm.prompt_template.variables"])
    assert variables["photo"]["media_type"] == "image/png" and "sha256" in variables["photo"]
    assert "base64" not in llm.attributes["input.value"]


def test_cli_task_run_with_image(tmp_path: Path) -> None:
    photo = drawn_photo(tmp_path / "p.png", "Electronics: wireless headphones, like new, 60 EUR")
    result = CliRunner().invoke(app, ["task", "run", "listing-from-photo", "--image", str(photo), "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout[result.stdout.find("{") :])["output"]
    assert output["category"] == "electronics" and output["price"] == 60
    assert set(output) == {"title", "description", "category", "price", "confidence"}
    bad = tmp_path / "not-an-image.png"
    bad.write_text("hello")
    failed = CliRunner().invoke(app, ["task", "run", "listing-from-photo", "--image", str(bad)])
    assert failed.exit_code == 1 and "not-an-image.png: the content is text/plain" in " ".join(failed.output.split())


async def test_the_task_takes_the_media_limit_of_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`AIAGENTS_MEDIA_MAX_BYTES` is one limit: what the service accepts as an upload, the task accepts too."""
    photo = drawn_photo(tmp_path / "bike.png", "Road bike, 54 cm, 350 EUR")
    monkeypatch.setenv("AIAGENTS_MEDIA_MAX_BYTES", "100")
    small = Task("listing-from-photo", model="offline")
    assert small.media_max_bytes == 100
    with pytest.raises(MediaError, match=r"bike\.png: .* bytes is over the image limit of 100 bytes"):
        await small.run({"photo": photo})
    big = tmp_path / "big.png"  # the photo followed by padding: 11 MB, over the 10 MB default
    big.write_bytes(photo.read_bytes() + b"\0" * (11 * 1024 * 1024))
    monkeypatch.setenv("AIAGENTS_MEDIA_MAX_BYTES", str(20 * 1024 * 1024))
    result = await Task("listing-from-photo", model="offline").run({"photo": big})
    assert result.output.title
    assert Task("listing-from-photo", media_max_bytes=5).media_max_bytes == 5
