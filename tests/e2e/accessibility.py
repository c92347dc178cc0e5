"""One accessibility audit for every browser test: axe-core with the WCAG 2.2 AA rules at phone
and desktop width, a check that nothing scrolls sideways, and a full-page screenshot of each for a
person to look at. Problems are collected, so one run reports every page that fails."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from .conftest import DESKTOP, PHONE

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


class AxeAudit:
    def __init__(self, screenshots_dir: Path, prefix: str = "") -> None:
        from axe_playwright_python.sync_playwright import Axe

        self._axe = Axe()
        self._options = {"runOnly": {"type": "tag", "values": AXE_TAGS},
                         "resultTypes": ["violations"]}
        self._screenshots = screenshots_dir
        self._prefix = prefix
        self.problems: list[str] = []
        self.audited: list[str] = []

    def __call__(self, page: Page, name: str) -> None:
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            where = f"{name} at {viewport['width']} px ({page.url})"
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
                self.problems.append(f"{where}: wider than the screen (scrolls sideways)")
            for v in self._axe.run(page, options=self._options).response["violations"]:
                nodes = "\n".join(
                    f"      {' '.join(map(str, n['target']))}: "
                    f"{(n.get('failureSummary') or '').splitlines()[-1].strip()}"
                    for n in v["nodes"])
                self.problems.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}\n{nodes}")
            page.screenshot(
                path=self._screenshots / f"{self._prefix}{name}-{viewport['width']}.png",
                full_page=True)
        page.set_viewport_size(PHONE)
        self.audited.append(name)

    def assert_clean(self, pages: int | None = None) -> None:
        if pages is not None:
            assert len(self.audited) == pages, self.audited
        assert not self.problems, (f"{len(self.problems)} accessibility problem(s):\n"
                                   + "\n".join(self.problems))
