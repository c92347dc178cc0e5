"""How long the merchant instructions renderer takes on the documents that used to stall it:
`python -m bench.markdown_render`. Each document is 250 KB of one construct (the issue's
`![[` repeated, long runs of `[`, ...) or of a real sample document repeated; prints the
seconds each takes (median of 3, process CPU time, so a busy machine inflates it less) and
whether it was refused. Timing lives here, not in the tests."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import merchant_instructions
from merchant_instructions import InstructionsInvalid
from merchant_instructions.document import MAX_BODY_LINES

SIZE = 250 * 1024
BODY_LINES = MAX_BODY_LINES - 10
HEAD = "---\nlanguage: en\nreturn_window_days: 30\ndays_to_send: 14\nsend_methods: [post]\n" \
       "return_address: |\n  Shop AB\n  Box 1\n  111 11 Stockholm\n---\n"
SAMPLE = (Path(__file__).resolve().parent.parent / "merchant_instructions" / "samples" /
          "hemma-design.md").read_text().split("---", 2)[2]
PATTERNS = {
    "![[ repeated": "![[", "[ run": "[", "[a]( repeated": "[a](", "![]( repeated": "![](",
    "[![ repeated": "[![", "[ a_ repeated": "[ a_", "*a emphasis": "*a ", "**_ mixed": "**_",
    "a_ closers": "a_ ", "` backticks": "`a", "<a autolink-ish": "<a", "<a@b.se> autolinks":
    "<a@b.se> ", "[x]: y references": "[x]: y\n", "- list items": "- a\n", "a lines": "a\n",
    "# headings": "# a\n", "| tables": "|a|b|\n|-|-|\n", "nested lists":
    "- a\n  - b\n    - c\n      - d\n", "sample document repeated": SAMPLE,
    "plain prose": "Skicka tillbaka varan inom trettio dagar. ",
    "links": "[villkor](https://shop.example/villkor) ",
}
# The same constructs that come a line at a time, just under the cap on lines.
LINES = {f"{name}, {BODY_LINES} lines": pattern for name, pattern in PATTERNS.items()
         if pattern.endswith("\n")}


def document(pattern: str, lines: int | None = None) -> str:
    body = pattern * ((SIZE - len(HEAD)) // len(pattern) + 1)
    body = body[: SIZE - len(HEAD)]
    if lines:
        body = "\n".join(body.split("\n")[:lines])
    return HEAD + body


def measure(text: str) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(3):
        started = time.process_time()
        try:
            merchant_instructions.parse(text)
            outcome = "rendered"
        except InstructionsInvalid as exc:
            outcome = f"refused: {str(exc.problems[0])[:70]}"
        times.append(time.process_time() - started)
    return statistics.median(times), outcome


def main() -> int:
    worst = 0.0
    cases = [(name, document(pattern)) for name, pattern in PATTERNS.items()]
    cases += [(name, document(pattern, BODY_LINES)) for name, pattern in LINES.items()]
    for name, text in cases:
        seconds, outcome = measure(text)
        worst = max(worst, seconds)
        print(f"{name:36} {seconds * 1000:8.0f} ms  {outcome}", flush=True)
    print(f"{'worst':36} {worst * 1000:8.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
