"""Packages: conformance, and the scenario catalogue. The catalogue's source stays at scenarios/ (where
scenarios are written and node ids point); a built wheel carries it as the package conformance_catalogue.
An editable install needs no copy: conformance/scenarios/catalogue.py finds scenarios/ in the checkout. Copying at
build time, rather than mapping the package onto scenarios/, and the explicit root package_dir keep the editable
install a plain path entry (no setuptools warning on `make`'s first run). The rest is in pyproject.toml."""

from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py


class BuildWithCatalogue(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source in sorted(Path("scenarios").rglob("*")):
            if source.suffix in (".yaml", ".yml") or source.name == "__init__.py":
                target = Path(self.build_lib, "conformance_catalogue", source.relative_to("scenarios"))
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(packages=find_namespace_packages(include=["conformance", "conformance.*"]), package_dir={"": "."},
      cmdclass={"build_py": BuildWithCatalogue})
