"""The metadata is in setup.cfg; this adds the one step it can't say: the Jinja templates live
at the top of the repository (templates/) and a wheel carries them inside the package, as
returns_app/templates, where create_app looks first."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TEMPLATES = Path(__file__).resolve().parent / "templates"


class BuildWithTemplates(build_py):
    def run(self):
        super().run()
        # An editable install serves the checkout's templates/ where they are.
        if not getattr(self, "editable_mode", False):
            self.copy_tree(str(TEMPLATES), str(Path(self.build_lib) / "returns_app" / "templates"))


setup(cmdclass={"build_py": BuildWithTemplates})
