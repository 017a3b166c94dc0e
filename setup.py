"""Maps the fixed top-level folders onto the ``kfp_gates`` import package.

``components/`` -> ``kfp_gates.components``, ``sdk/`` -> ``kfp_gates.sdk``,
``pipelines/`` -> ``kfp_gates.pipelines``. ``kfp_gates`` is an implicit
namespace package, so the repository needs no folder of that name.
"""

from setuptools import find_packages, setup

ROOTS = {"components": "kfp_gates.components", "sdk": "kfp_gates.sdk", "pipelines": "kfp_gates.pipelines"}

packages: list[str] = []
package_dir: dict[str, str] = {}
for folder, name in ROOTS.items():
    packages.append(name)
    package_dir[name] = folder
    packages.extend(f"{name}.{sub}" for sub in find_packages(folder))

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={
        "": ["*.json", "*.yaml", "*.yml", "*.rego", "*.csv", "*.zip", "*.gz", "*.md", "LICENSE*", "py.typed"]
    },
    include_package_data=True,
)
