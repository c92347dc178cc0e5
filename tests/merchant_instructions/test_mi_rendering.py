"""render_html: heading levels, links and the tag allowlist, on ordinary Markdown."""

import pytest

from merchant_instructions import render_html
from merchant_instructions.rendering import sanitize

REL = 'rel="nofollow noopener noreferrer"'


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("# Returns", "<h2>Returns</h2>"),
        ("## Steps", "<h3>Steps</h3>"),
        ("### Details", "<h4>Details</h4>"),
        ("#### Fine print", "<h4>Fine print</h4>"),
        ("##### Finer", "<h4>Finer</h4>"),
        ("###### Finest", "<h4>Finest</h4>"),
        ("Returns\n=======", "<h2>Returns</h2>"),
        ("Steps\n-----", "<h3>Steps</h3>"),
        ("> # Quoted", "<blockquote>\n<h2>Quoted</h2>\n</blockquote>"),
    ],
)
def test_headings_shift_below_the_page_h1(markdown: str, html: str) -> None:
    assert render_html(markdown).strip() == html


def test_heading_inside_a_list_item_is_shifted_too() -> None:
    assert render_html("- # Item").strip() == "<ul>\n<li>\n<h2>Item</h2>\n</li>\n</ul>"


def test_https_link_keeps_href_and_gets_rel() -> None:
    html = render_html('[terms](https://shop.example/terms "Our terms")')
    assert html.strip() == (
        f'<p><a href="https://shop.example/terms" title="Our terms" {REL}>terms</a></p>'
    )


def test_mailto_link_and_email_autolink() -> None:
    assert render_html("[mail us](mailto:help@shop.example)").strip() == (
        f'<p><a href="mailto:help@shop.example" {REL}>mail us</a></p>'
    )
    assert render_html("<help@shop.example>").strip() == (
        f'<p><a href="mailto:help@shop.example" {REL}>help@shop.example</a></p>'
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "[site](http://shop.example/terms)",
        "<http://shop.example/terms>",
        "[site](/terms)",
        "[site](terms.html)",
        "[site](#top)",
        "[site](//evil.example/x)",
        "[site](ftp://shop.example/file)",
        "[site](tel:+4681234567)",
    ],
)
def test_other_links_lose_their_href_but_keep_text(markdown: str) -> None:
    html = render_html(markdown)
    assert "href" not in html
    assert html.strip() in (f"<p><a {REL}>site</a></p>", f"<p><a {REL}>{markdown[1:-1]}</a></p>")


def test_bare_urls_are_not_linkified() -> None:
    assert render_html("See https://shop.example").strip() == "<p>See https://shop.example</p>"


def test_raw_html_is_shown_as_text() -> None:
    assert render_html('<b onclick="x()">hi</b>').strip() == (
        '<p>&lt;b onclick="x()"&gt;hi&lt;/b&gt;</p>'
    )


def test_lists_emphasis_code_and_rules() -> None:
    html = render_html("1. *one*\n2. **two**\n\n---\n\n`code`\n\n```python\nx = 1\n```\n")
    assert html == (
        "<ol>\n<li><em>one</em></li>\n<li><strong>two</strong></li>\n</ol>\n<hr>\n"
        "<p><code>code</code></p>\n<pre><code>x = 1\n</code></pre>\n"
    )


def test_line_break_and_blockquote() -> None:
    assert (
        render_html("a  \nb\n\n> quote")
        == "<p>a<br>\nb</p>\n<blockquote>\n<p>quote</p>\n</blockquote>\n"
    )


def test_table_without_alignment_styles() -> None:
    html = render_html("| Item | Days |\n|:-----|-----:|\n| Shoes | 30 |\n")
    assert html == (
        "<table>\n<thead>\n<tr>\n<th>Item</th>\n<th>Days</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>Shoes</td>\n<td>30</td>\n</tr>\n</tbody>\n</table>\n"
    )


def test_images_are_dropped() -> None:
    assert render_html("![logo](https://shop.example/logo.png)").strip() == "<p></p>"


def test_lone_surrogates_do_not_crash() -> None:
    assert render_html("a\udcffb").strip() == "<p>a?b</p>"


def test_sanitizer_drops_every_attribute_but_href_and_title_on_links() -> None:
    html = '<p lang="sv" title="t" class="c" id="i" style="color:red" dir="rtl">x</p>'
    assert sanitize(html) == "<p>x</p>"
    assert sanitize('<a href="https://x.se" title="t" class="c" target="_blank">x</a>') == (
        f'<a href="https://x.se" title="t" {REL}>x</a>'
    )
