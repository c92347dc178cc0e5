"""The demo documents shipped with the package parse into exactly what they say."""

from pathlib import Path

import pytest

import merchant_instructions
from merchant_instructions import Instructions, NonReturnable, parse, render_html

SAMPLES = Path(merchant_instructions.__file__).parent / "samples"


def load(name: str) -> Instructions:
    return parse((SAMPLES / name).read_bytes())


def test_nordic_outfitters() -> None:
    instructions = load("nordic-outfitters.md")
    assert instructions.language == "sv"
    assert instructions.return_window_days == 30
    assert instructions.days_to_send == 14
    assert instructions.send_methods == ("post", "drop_off")
    assert instructions.return_address == (
        "Nordic Outfitters AB",
        "Returer",
        "Box 1234",
        "111 22 Stockholm",
    )
    assert instructions.non_returnable == (
        NonReturnable("Presentkort", ()),
        NonReturnable("Underkläder och badkläder", ("UW-*", "SWIM-*")),
    )
    assert instructions.non_returnable_reason("uw-1001") == "Underkläder och badkläder"
    assert instructions.non_returnable_reason("SWIM-22-BLUE") == "Underkläder och badkläder"
    assert instructions.is_returnable("JACKET-9")
    assert not instructions.is_returnable("Swim-3")


def test_hemma_design() -> None:
    instructions = load("hemma-design.md")
    assert instructions.language == "en"
    assert instructions.return_window_days == 60
    assert instructions.days_to_send == 21
    assert instructions.send_methods == ("label",)
    assert instructions.return_address == (
        "Hemma Design AB",
        "Returns Department",
        "Industrigatan 8",
        "415 05 Göteborg",
        "Sweden",
    )
    assert instructions.non_returnable == (NonReturnable("Made-to-measure curtains", ("MTM-*",)),)
    assert instructions.non_returnable_reason("mtm-140x240") == "Made-to-measure curtains"
    assert instructions.is_returnable("LAMP-1")


def test_techbolaget() -> None:
    instructions = load("techbolaget.md")
    assert instructions.language == "sv"
    assert instructions.return_window_days == 14
    assert instructions.days_to_send == 7
    assert instructions.send_methods == ("drop_off", "label")
    assert instructions.return_address[0] == "Techbolaget i Norden AB"
    assert instructions.return_address[-1] == "582 78 Linköping"
    assert len(instructions.return_address) == 4
    assert [item.what for item in instructions.non_returnable] == [
        "Presentkort",
        "Öppnad programvara",
    ]
    assert instructions.non_returnable_reason("GC-500") == "Presentkort"
    assert instructions.non_returnable_reason("sw-office") == "Öppnad programvara"
    assert instructions.non_returnable_reason("PHONE-12") is None


@pytest.mark.parametrize("name", ["nordic-outfitters.md", "hemma-design.md", "techbolaget.md"])
def test_sample_body_is_real_instructions(name: str) -> None:
    source = (SAMPLES / name).read_text(encoding="utf-8")
    instructions = load(name)
    assert instructions.source == source
    assert source.endswith(instructions.body_markdown)
    assert instructions.body_markdown.lstrip().startswith("# ")
    assert instructions.html == render_html(instructions.body_markdown)
    # The top heading is shifted below the page's own h1.
    assert instructions.html.startswith("<h2>")
    assert "<h1" not in instructions.html
    assert "<ol>" in instructions.html
    assert 'href="mailto:' in instructions.html
    assert 'href="https://' in instructions.html
    assert 'rel="nofollow noopener noreferrer"' in instructions.html
    assert len(instructions.content_hash) == 64
    int(instructions.content_hash, 16)
