"""Build settings pyproject.toml cannot state: the repository's top-level ``conf/`` ships inside
the wheel as the package data folder ``responserank/conf``.

``conf/`` stays the one source of every config (nothing is copied into ``src/``): setuptools maps
the package ``responserank.conf`` onto it at build time, and ``responserank.configs.config_dir``
finds it there in an installed wheel and at ``<repository>/conf`` in a checkout.
"""

from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).resolve().parent
CONF = ROOT / "conf"
# Every config folder is a data-only package, so that setuptools ships its YAML files as they are.
CONF_PACKAGES = [
    ".".join(("responserank", "conf", *folder.relative_to(CONF).parts))
    for folder in sorted([CONF, *(p for p in CONF.rglob("*") if p.is_dir())])
]

setup(
    packages=[*find_packages("src"), *CONF_PACKAGES],
    package_dir={"": "src", "responserank.conf": "conf"},
    package_data={package: ["*.yaml"] for package in CONF_PACKAGES},
)
