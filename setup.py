"""Build step pyproject.toml cannot state: the repository's top-level ``conf/`` ships inside the
wheel as ``responserank/conf``.

``conf/`` stays the one source of every config (nothing is copied into ``src/``): ``build_py``
copies its YAML files into the package while the wheel is built, and
``responserank.configs.config_dir`` finds them there in an installed wheel and at
``<repository>/conf`` in a checkout or an editable install (which needs no copy).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CONF = Path(__file__).resolve().parent / "conf"


class BuildPyWithConf(build_py):
    """``build_py`` that also copies ``conf/**/*.yaml`` to ``<build>/responserank/conf``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads conf/ in place
            return
        target = Path(self.build_lib) / "responserank" / "conf"
        for source in sorted(CONF.rglob("*.yaml")):
            destination = target / source.relative_to(CONF)
            self.mkpath(str(destination.parent))
            self.copy_file(str(source), str(destination))


setup(cmdclass={"build_py": BuildPyWithConf})
